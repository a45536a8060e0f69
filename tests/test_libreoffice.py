"""Templates in a real spreadsheet application: LibreOffice (headless) re-saves a generated
template as .xlsx and as .xls, as a village office would, and everything the template
relies on must survive: dropdowns and their names, hidden sheets, protection, the text
format of the ID column, the identity; then the re-saved file is filled and ingested.

LibreOffice is required, not optional: scripts/test installs it, and these tests fail
when `soffice` is missing.
"""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlrd
from openpyxl.formula.translate import Translator
from xlrd import compdoc

from engine.demo import _write_rosters
from engine.demo_data import Roster
from engine.form import PERSONS, UNITS, Form
from engine.pipeline import process_file
from engine.reader import read_submission
from engine.roster import import_roster
from engine.templates import generate
from engine.workbook import (
    CASCADES,
    CODES_SHEET,
    FIRST_DATA_ROW,
    IDENTITY_SHEET,
    PLACES_SHEET,
    list_name,
    place_lists,
    row_refs,
)
from engine.workspace import Workspace
from tests.conftest import COUNTY, busiest_village, fill_like_staff, template_of

TIMEOUT = 300   # seconds for one conversion; the first run also creates the profile


@dataclass(frozen=True)
class LibreOffice:
    exe: str
    profile: Path   # a private user profile: parallel test runs never share one

    def convert(self, source: Path, to: str, outdir: Path) -> Path:
        """`source` converted by `soffice --convert-to` (e.g. to "xlsx", "xls", "pdf")."""
        outdir.mkdir(parents=True, exist_ok=True)
        cmd = [self.exe, f"-env:UserInstallation={self.profile.as_uri()}", "--headless", "--norestore",
               "--convert-to", to, "--outdir", str(outdir), str(source)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, check=False)
        target = outdir / f"{source.stem}.{to.split(':')[0]}"
        assert done.returncode == 0 and target.exists(), f"soffice failed: {done.stdout}{done.stderr}"
        return target


@pytest.fixture(scope="session")
def soffice(tmp_path_factory: pytest.TempPathFactory) -> LibreOffice:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    assert exe, "LibreOffice (soffice) is required for these tests: run scripts/test, which installs it"
    return LibreOffice(exe, tmp_path_factory.mktemp("lo-profile"))


@dataclass(frozen=True)
class Saved:
    workspace: Workspace
    village: str
    template: Path
    xlsx: Path     # the template re-saved by LibreOffice as .xlsx
    xls: Path      # ... and as .xls


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory, county_roster: Roster, soffice: LibreOffice) -> Iterator[Saved]:
    """The `county` workspace (built the same way, once for the module) and the busiest
    village's template as LibreOffice re-saves it."""
    root = tmp_path_factory.mktemp("lo-saved")
    ws = Workspace(root / "ws")
    ws.init(COUNTY)
    for path in _write_rosters(ws, county_roster.persons, county_roster.units):
        import_roster(ws, path)
    generate(ws)
    village = busiest_village(county_roster)
    template = root / "village.xlsx"   # an ASCII name: what is under test is the content
    shutil.copy(template_of(ws, village), template)
    yield Saved(ws, village, template, soffice.convert(template, "xlsx", root / "xlsx"),
                soffice.convert(template, "xls", root / "xls"))
    ws.close()


# -- what a template is made of, as openpyxl sees an .xlsx --------------------------------


def _validations(sheet: Any) -> dict[str, tuple[str, str, str]]:
    """First column letter of each validated range -> (type, formula, error style)."""
    out: dict[str, tuple[str, str, str]] = {}
    for dv in sheet.data_validations.dataValidation:
        for rng in str(dv.sqref).split():
            col = rng.split(":")[0].rstrip("0123456789")
            formula = str(dv.formula1 or "") if dv.type in ("list", "custom") else ""
            out[col] = (str(dv.type or "any"), formula.replace("'", ""), str(dv.errorStyle or "stop"))
    return out


def _facts(path: Path) -> dict[str, Any]:
    book = openpyxl.load_workbook(path)
    facts: dict[str, Any] = {
        "sheets": {ws.title: ws.sheet_state for ws in book.worksheets},
        "names": {name: d.attr_text.replace("'", "") for name, d in book.defined_names.items()
                  if not name.startswith("_xlnm")},
    }
    for form in (PERSONS, UNITS):
        ws = book[form.sheet]
        prot = ws.protection
        id_col = _column_letter(form, "id_number" if form is PERSONS else "credit_code")
        roster_ids = [ws[f"{id_col}{r}"] for r in range(FIRST_DATA_ROW + 1, ws.max_row + 1)
                      if ws[f"{id_col}{r}"].value is not None]
        facts[form.sheet] = {
            "validations": _validations(ws),
            # openpyxl's flags say "protected": False means staff may sort and filter
            "protection": (prot.sheet, prot.sort, prot.autoFilter, prot.password),
            "id_column_format": ws.column_dimensions[id_col].number_format,
            "id_cells": {(c.number_format, c.protection.locked, type(c.value).__name__) for c in roster_ids},
        }
    return facts


def _column_letter(form: Form, key: str) -> str:
    fields = [f for f in form.fields if not f.derived]
    return openpyxl.utils.get_column_letter(1 + [f.key for f in fields].index(key))


def _expected_validations(form: Form) -> dict[str, tuple[str, str, str]]:
    """What the form says each column's validation is (the columns that have one)."""
    out: dict[str, tuple[str, str, str]] = {}
    fields = [f for f in form.fields if not f.derived]
    for f in fields:
        col = _column_letter(form, f.key)
        if f.code_list is not None:
            out[col] = ("list", f"代码_{f.code_list.name}", "stop")
        elif f.kind in ("id_number", "mobile"):
            out[col] = ("textLength", "", "stop")
        if f.key in CASCADES:
            out[col] = ("list", CASCADES[f.key].source(row_refs(fields)).lstrip("="), "warning")
    return out


def test_template_has_what_the_form_asks(saved: Saved) -> None:
    facts = _facts(saved.template)
    assert {facts["sheets"][s] for s in (CODES_SHEET, PLACES_SHEET, IDENTITY_SHEET)} == {"hidden"}
    assert {name for name, _ in place_lists()} <= set(facts["names"])
    for form in (PERSONS, UNITS):
        sheet = facts[form.sheet]
        assert sheet["validations"].items() >= _expected_validations(form).items()
        assert sheet["protection"] == (True, False, False, None)
        assert sheet["id_column_format"] == "@"
    assert facts[PERSONS.sheet]["id_cells"] == {("@", True, "str")}
    assert {f"代码_{f.code_list.name}" for f in PERSONS.fields if f.code_list} <= set(facts["names"])


def test_xlsx_resaved_by_libreoffice_keeps_everything(saved: Saved) -> None:
    assert _facts(saved.xlsx) == _facts(saved.template)


def test_xlsx_resaved_by_libreoffice_is_read_whole(saved: Saved, county_roster: Roster) -> None:
    _assert_read_whole(saved, saved.xlsx, county_roster)


def _assert_read_whole(saved: Saved, path: Path, roster: Roster) -> None:
    original = read_submission(saved.template)
    again = read_submission(path)
    assert not again.problems
    assert again.identity == original.identity and original.identity is not None
    assert original.identity.template_id == f"CB-{saved.village}"
    persons = [p for p in roster.persons if p["region_code"] == saved.village]
    sheet = again.sheet("persons")
    assert sheet is not None
    assert [r.values.get("id_number") for r in sheet.rows] == [p["id_number"] for p in persons]
    assert [(r.row, r.values) for r in sheet.rows] == [(r.row, r.values) for r in original.sheets[0].rows]
    units = again.sheet("units")
    assert units is not None and len(units.rows) == len([u for u in roster.units if u["region_code"] == saved.village])


# -- computed by LibreOffice ----------------------------------------------------------------


def _computed(soffice: LibreOffice, book: Any, folder: Path) -> Any:
    """`book` (openpyxl, formulas without cached values) saved, recalculated and re-saved
    by LibreOffice, read back with the values it computed."""
    folder.mkdir(parents=True, exist_ok=True)
    book.save(folder / "formulas.xlsx")
    return openpyxl.load_workbook(soffice.convert(folder / "formulas.xlsx", "xlsx", folder / "lo"), data_only=True)


SCRATCH_COLUMN = 60   # formulas under test go right of the form's columns


def _scratch(sheet: Any, row: int, offset: int, formula: str) -> str:
    cell = sheet.cell(row, SCRATCH_COLUMN + offset)
    cell.value = formula
    return str(cell.coordinate)


PLACE_CASES = [   # hukou 省 市 县, home 省 市 县 乡镇 村
    ("安徽省", "淮北市", "濉溪县", "安徽省", "淮北市", "濉溪县", "濉溪镇", ""),
    ("北京市", "北京市", "东城区", "湖北省", "仙桃市", "仙桃市", "", ""),
    ("广东省", "东莞市", "东莞市", "安徽省", "淮北市", "杜集区", "高岳街道", ""),
    ("", "", "", "香港特别行政区", "", "", "", ""),
]


def test_cascade_lists_resolve_in_libreoffice(saved: Saved, soffice: LibreOffice, tmp_path: Path) -> None:
    """Each dropdown's source as LibreOffice re-saved it, computed by LibreOffice for a few
    rows: INDIRECT finds the list of exactly the places chosen to its left."""
    book = openpyxl.load_workbook(saved.xlsx)
    sheet = book[PERSONS.sheet]
    sources = {str(dv.sqref).split(":")[0].rstrip("0123456789"): str(dv.formula1)
               for dv in sheet.data_validations.dataValidation}
    lists = dict(place_lists())
    keys = list(CASCADES)
    expected: dict[str, object] = {}
    for i, case in enumerate(PLACE_CASES):
        row = FIRST_DATA_ROW + 1 + i
        chosen = dict(zip(keys, case, strict=True))
        for j, key in enumerate(keys):
            col = _column_letter(PERSONS, key)
            sheet[f"{col}{row}"].value = chosen[key] or None
            source = Translator(f"={sources[col]}", origin=f"{col}{FIRST_DATA_ROW + 1}").translate_formula(f"{col}{row}")
            cascade = CASCADES[key]
            entries = lists.get(list_name(cascade.level, [chosen[p] for p in cascade.parents]), ())
            expected[_scratch(sheet, row, 2 * j, f"=IFERROR(COLUMNS({source[1:]}),0)")] = len(entries)
            expected[_scratch(sheet, row, 2 * j + 1, f'=IFERROR(INDEX({source[1:]},1),"-")')] = \
                entries[0] if entries else "-"
    computed = _computed(soffice, book, tmp_path)[PERSONS.sheet]
    assert {ref: computed[ref].value for ref in expected} == expected
    assert expected[f"{openpyxl.utils.get_column_letter(SCRATCH_COLUMN + 2 * keys.index('home_village'))}4"] > 5


# -- the same as .xls: xlrd for names, sheets and formats; the BIFF records for the rest --


@dataclass
class BiffSheet:
    records: Counter[int]
    validations: list[tuple[int, int, str]]   # (value type, error style, name the list refers to)
    allowed: int                              # the enhanced-protection flags (bit set: allowed)


def _biff_sheets(path: Path) -> list[BiffSheet]:
    """Each worksheet substream of an .xls, with its DV records decoded (MS-XLS 2.4.120)."""
    doc = compdoc.CompDoc(path.read_bytes(), logfile=io.StringIO())
    mem, pos, size = doc.locate_named_stream("Workbook")
    end = pos + size
    sheets: list[BiffSheet] = []
    names: list[str] = []
    while pos + 4 <= end:
        kind, length = struct.unpack_from("<HH", mem, pos)
        body = bytes(mem[pos + 4:pos + 4 + length])
        pos += 4 + length
        if kind == 0x0809:      # BOF: a new substream (the first is the workbook globals)
            sheets.append(BiffSheet(Counter(), [], 0))
        if not sheets:
            continue
        sheets[-1].records[kind] += 1
        if kind == 0x0018:      # NAME, in order: a formula's tName token refers to them by index
            names.append(_biff_name(body))
        elif kind == 0x01BE:    # DV
            flags = struct.unpack_from("<I", body)[0]
            sheets[-1].validations.append((flags & 0xF, flags >> 4 & 0x7, _dv_list_name(body, names)))
        elif kind == 0x0867 and struct.unpack_from("<H", body, 12)[0] == 2:   # FEATHDR, protection
            sheets[-1].allowed = struct.unpack_from("<I", body, 19)[0]
    return sheets[1:]


def _biff_name(body: bytes) -> str:
    length = body[3]
    high = body[14] & 1
    raw = body[15:15 + length * (2 if high else 1)]
    return raw.decode("utf-16-le") if high else raw.decode("latin-1")


def _dv_list_name(body: bytes, names: list[str]) -> str:
    """What a DV's first formula lists: the defined name it starts with (tName), or
    "INDIRECT" when it calls INDIRECT (tFuncVar 148), else ''."""
    pos = 4
    for _ in range(4):   # prompt title, error title, prompt, error: XLUnicodeString each
        chars, high = struct.unpack_from("<HB", body, pos)
        pos += 3 + chars * (2 if high & 1 else 1)
    size = struct.unpack_from("<H", body, pos)[0]
    rgce = body[pos + 4:pos + 4 + size]
    if rgce and rgce[0] in (0x23, 0x43, 0x63):   # tName
        return names[struct.unpack_from("<I", rgce, 1)[0] - 1]
    if any(rgce[i] in (0x22, 0x42, 0x62) and rgce[i + 2:i + 4] == b"\x94\x00" for i in range(len(rgce) - 3)):
        return "INDIRECT"
    return ""


_STYLES = {"stop": 0, "warning": 1, "information": 2}


def test_xls_resaved_by_libreoffice_keeps_everything(saved: Saved) -> None:
    book = xlrd.open_workbook(str(saved.xls), formatting_info=True)
    states = {s.name: s.visibility for s in book.sheets()}
    assert states[CODES_SHEET] == 1 and states[IDENTITY_SHEET] == 1   # 1: hidden
    assert states[PERSONS.sheet] == 0 and states[UNITS.sheet] == 0
    names = {n.name for n in book.name_obj_list}
    code_names = {f"代码_{cl.name}" for f in PERSONS.fields + UNITS.fields if (cl := f.code_list)}
    assert code_names | {name for name, _ in place_lists()} <= names
    assert states[PLACES_SHEET] == 1

    biff = dict(zip([s.name for s in book.sheets()], _biff_sheets(saved.xls), strict=True))
    original = _facts(saved.template)
    for form in (PERSONS, UNITS):
        sheet = biff[form.sheet]
        assert sheet.records[0x0012] == 1, "PROTECT"
        assert sheet.allowed >> 11 & 1 and sheet.allowed >> 12 & 1, "sorting and filtering stay allowed"
        lists = Counter((name, style) for kind, style, name in sheet.validations if kind == 3)
        expected = Counter(("INDIRECT" if f.startswith("INDIRECT(") else f, _STYLES[style])
                           for t, f, style in original[form.sheet]["validations"].values() if t == "list")
        assert lists == expected
        assert len(sheet.validations) == len(original[form.sheet]["validations"])

        xs = book.sheet_by_name(form.sheet)
        col = openpyxl.utils.column_index_from_string(_column_letter(form, "id_number" if form is PERSONS
                                                                    else "credit_code")) - 1
        formats = {book.format_map[book.xf_list[xs.colinfo_map[col].xf_index].format_key].format_str}
        for r in range(FIRST_DATA_ROW, xs.nrows):
            if xs.cell_value(r, col):
                formats.add(book.format_map[book.xf_list[xs.cell_xf_index(r, col)].format_key].format_str)
        assert formats == {"@"}


def test_xls_resaved_by_libreoffice_is_read_whole(saved: Saved, county_roster: Roster) -> None:
    _assert_read_whole(saved, saved.xls, county_roster)


# -- filled after the re-save, and sent back ------------------------------------------------


def test_resaved_template_filled_and_ingested_without_losing_a_row(
        county: Workspace, county_roster: Roster, soffice: LibreOffice, tmp_path: Path) -> None:
    village = busiest_village(county_roster)
    persons = [p for p in county_roster.persons if p["region_code"] == village]
    source = tmp_path / "village.xlsx"
    shutil.copy(template_of(county, village), source)
    resaved = soffice.convert(source, "xlsx", tmp_path / "lo")

    returned = county.inbox / "returned.xlsx"
    filled = fill_like_staff(resaved, returned, persons, visit=len(persons))
    ids = _ids_at(returned, filled)
    assert len(filled) >= 5
    outcome = process_file(county, returned)

    assert outcome.status == "accepted", [p.message for p in outcome.problems]
    assert outcome.village == village
    assert outcome.count("persons", "read") == outcome.count("persons", "accepted") == len(filled)
    assert {r["id_number"] for r in county.store.records("persons", village)} == ids


def _ids_at(path: Path, rows: list[int]) -> set[str]:
    sheet = openpyxl.load_workbook(path)[PERSONS.sheet]
    col = _column_letter(PERSONS, "id_number")
    return {str(sheet[f"{col}{r}"].value) for r in rows}


def test_filled_template_saved_as_xls_is_ingested_without_losing_a_row(
        county: Workspace, county_roster: Roster, soffice: LibreOffice, tmp_path: Path) -> None:
    """Staff who 'save as' Excel 97-2003: the filled workbook comes back as .xls."""
    village = busiest_village(county_roster)
    persons = [p for p in county_roster.persons if p["region_code"] == village]
    filled = fill_like_staff(template_of(county, village), tmp_path / "returned.xlsx", persons, visit=len(persons))
    as_xls = soffice.convert(tmp_path / "returned.xlsx", "xls", county.inbox)

    outcome = process_file(county, as_xls)

    assert outcome.status == "accepted", [p.message for p in outcome.problems]
    assert outcome.count("persons", "read") == outcome.count("persons", "accepted") == len(filled)
    ids = _ids_at(tmp_path / "returned.xlsx", filled)
    assert {r["id_number"] for r in county.store.records("persons", village)} == ids
