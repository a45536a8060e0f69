"""Templates in a real spreadsheet application: LibreOffice (headless) re-saves a generated
template as .xlsx and as .xls, as a village office would, and everything the template
relies on must survive: dropdowns and their names, hidden sheets, protection, the text
format of the ID column, the identity; then the re-saved file is filled and ingested.

LibreOffice is required, not optional: scripts/test installs it, and these tests fail
when `soffice` is missing.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import shutil
import struct
import subprocess
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import openpyxl
import pytest
import xlrd
from openpyxl.formula.translate import Translator
from xlrd import compdoc

from engine.demo import _write_rosters
from engine.demo_data import Roster
from engine.dropdowns import cascades, list_name, place_lists
from engine.form import PERSONS, UNITS, Form
from engine.identifiers import check_digit, credit_check_char
from engine.live_checks import credit_check_wrong, id_check_digit_wrong, live_checks
from engine.pipeline import process_file
from engine.problems import BY_NAME
from engine.reader import RawRow, read_submission
from engine.roster import import_roster
from engine.rules import RowContext, check_row
from engine.templates import generate
from engine.workbook import CODES_SHEET, FIRST_DATA_ROW, IDENTITY_SHEET, code_entry, row_refs
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


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def _cell_styles(path: Path, sheet_name: str) -> Callable[[str], tuple[str, bool]]:
    """A cell's effective number format and locked flag, by the file's own XML: the cell's
    style, else its column's, else the workbook's default (xf 0). (openpyxl reports a cell
    without a style of its own as General and locked, whatever xf 0 says.)"""
    with zipfile.ZipFile(path) as z:
        book = ElementTree.fromstring(z.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
        rid = next(s.get(f"{_RELS}id") for s in book.iter(f"{_MAIN}sheet") if s.get("name") == sheet_name)
        target = str(next(r.get("Target") for r in rels if r.get("Id") == rid)).lstrip("/")
        sheet = ElementTree.fromstring(z.read(target if target.startswith("xl/") else f"xl/{target}"))
        styles = ElementTree.fromstring(z.read("xl/styles.xml"))
    codes = {49: "@", 0: "General"} | {int(n.get("numFmtId", "0")): n.get("formatCode", "")
                                       for n in styles.iter(f"{_MAIN}numFmt")}
    xfs = []
    for xf in styles.find(f"{_MAIN}cellXfs") or []:
        prot = xf.find(f"{_MAIN}protection")
        locked = prot is None or prot.get("locked", "1") not in ("0", "false")
        xfs.append((codes.get(int(xf.get("numFmtId", "0")), xf.get("numFmtId", "")), locked))
    cells = {c.get("r"): int(c.get("s", "0")) for c in sheet.iter(f"{_MAIN}c")}
    cols = [(int(c.get("min", "0")), int(c.get("max", "0")), int(c.get("style", "0"))) for c in sheet.iter(f"{_MAIN}col")]

    def style(ref: str) -> tuple[str, bool]:
        if ref in cells:
            return xfs[cells[ref]]
        col = openpyxl.utils.column_index_from_string(ref.rstrip("0123456789"))
        return xfs[next((s for lo, hi, s in cols if lo <= col <= hi), 0)]
    return style


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
        number_col = _column_letter(form, next(f.key for f in form.fields if f.roster))   # 人员编号, 单位编号
        roster_rows = [r for r in range(FIRST_DATA_ROW + 1, ws.max_row + 1) if ws[f"{number_col}{r}"].value]
        style = _cell_styles(path, form.sheet)
        first_input = _column_letter(form, next(f.key for f in form.fields if f.prefilled))
        facts[form.sheet] = {
            "validations": _validations(ws),
            "prompts": _prompts(ws),
            "live_checks": sorted((str(rng.sqref), tuple(r.formula)) for rng in ws.conditional_formatting
                                  for r in rng.rules),
            # openpyxl's flags say "protected": False means staff may sort and filter
            "protection": (prot.sheet, prot.sort, prot.autoFilter, prot.password),
            # (number format, locked) of: the ID's header, roster IDs, a blank row's ID and,
            # on roster rows, the first column staff may change
            "header": style(f"{id_col}{FIRST_DATA_ROW}"),
            "roster_ids": {style(f"{id_col}{r}") for r in roster_rows},
            "id_types": {type(ws[f"{id_col}{r}"].value).__name__ for r in roster_rows if ws[f"{id_col}{r}"].value},
            "blank_id": style(f"{id_col}{max(roster_rows, default=FIRST_DATA_ROW) + 2}"),
            "roster_input": {style(f"{first_input}{r}") for r in roster_rows},
        }
    return facts


def _prompts(sheet: Any) -> dict[str, tuple[bool, str, str]]:
    """First column letter of each validated range -> (prompt shown, title, message)."""
    return {str(rng).split(":")[0].rstrip("0123456789"): (bool(dv.showInputMessage), dv.promptTitle or "",
                                                          dv.prompt or "")
            for dv in sheet.data_validations.dataValidation for rng in str(dv.sqref).split()}


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
        if f.key in cascades(PERSONS):
            out[col] = ("list", cascades(PERSONS)[f.key].source(row_refs(fields)).lstrip("="), "warning")
    return out


def test_template_has_what_the_form_asks(saved: Saved) -> None:
    facts = _facts(saved.template)
    assert {facts["sheets"][s] for s in (CODES_SHEET, IDENTITY_SHEET)} == {"hidden"}
    assert {name for name, _ in place_lists()} <= set(facts["names"])
    assert facts[PERSONS.sheet]["roster_ids"], "the village has roster persons"
    for form in (PERSONS, UNITS):
        sheet = facts[form.sheet]
        assert sheet["validations"].items() >= _expected_validations(form).items()
        for f in form.fields:    # every column staff fill says what to put there
            if f.code_list is not None or f.prompt:
                assert sheet["prompts"][_column_letter(form, f.key)] == (True, f.label, f.help_text), f.key
        assert sheet["protection"] == (True, False, False, None)
        assert sheet["header"] == ("@", True)
        assert sheet["roster_ids"] <= {("@", True)} and sheet["id_types"] <= {"str"}
        assert sheet["blank_id"] == ("@", False)
        assert sheet["roster_input"] <= {("@", False)}
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
    keys = list(cascades(PERSONS))
    expected: dict[str, object] = {}
    for i, case in enumerate(PLACE_CASES):
        row = FIRST_DATA_ROW + 1 + i
        chosen = dict(zip(keys, case, strict=True))
        for j, key in enumerate(keys):
            col = _column_letter(PERSONS, key)
            sheet[f"{col}{row}"].value = chosen[key] or None
            source = Translator(f"={sources[col]}", origin=f"{col}{FIRST_DATA_ROW + 1}").translate_formula(f"{col}{row}")
            cascade = cascades(PERSONS)[key]
            entries = lists.get(list_name(cascade.level, [chosen[p] for p in cascade.parents]), ())
            waiting = not all(chosen[p] for p in cascade.parents)   # the list is the empty cell to its left
            expected[_scratch(sheet, row, 2 * j, f"=IFERROR(COLUMNS({source[1:]}),0)")] = \
                1 if waiting else len(entries)
            expected[_scratch(sheet, row, 2 * j + 1, f'=IFERROR(INDEX({source[1:]},1)&"","-")')] = \
                None if waiting else entries[0] if entries else "-"
    computed = _computed(soffice, book, tmp_path)[PERSONS.sheet]
    assert {ref: computed[ref].value for ref in expected} == expected
    assert expected[f"{openpyxl.utils.get_column_letter(SCRATCH_COLUMN + 2 * keys.index('home_village'))}4"] > 5


# -- live checks: the conditional formats, computed by LibreOffice, against the engine ----------


def test_check_character_formulas_computed_by_libreoffice(soffice: LibreOffice, tmp_path: Path) -> None:
    """The live checks' check-character formulas as cell formulas over many IDs and credit
    codes, right and wrong, computed by LibreOffice: wrong exactly when the engine says so."""
    rng = random.Random(11643)
    book = openpyxl.Workbook()
    sheet = book.active
    expected: dict[str, bool] = {}
    for r in range(1, 81):
        body = (f"{rng.choice(['340602', '110105', '650102', '820000'])}{rng.randint(1930, 2020)}"
                f"{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}")
        right = check_digit(body)
        last = right if r % 2 else rng.choice([c for c in "0123456789X" if c != right])
        sheet[f"A{r}"] = (body + last).lower() if r % 5 == 0 else body + last
        sheet[f"B{r}"] = "=" + id_check_digit_wrong(f"A{r}")
        expected[f"B{r}"] = last != right

        first17 = "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(2)) + \
            f"{rng.randint(110000, 659999)}" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
        right = credit_check_char(first17)
        last = right if r % 3 else rng.choice([c for c in "0123456789ABCDEFGHJKLMNPQRTUWXY" if c != right])
        sheet[f"C{r}"] = (first17 + last).lower() if r % 4 == 0 else first17 + last
        sheet[f"D{r}"] = "=" + credit_check_wrong(f"C{r}")
        expected[f"D{r}"] = last != right
    computed = _computed(soffice, book, tmp_path).active
    assert {ref: computed[ref].value for ref in expected} == expected
    assert sum(expected.values()) == 40 + 26   # wrong: every second ID, every third credit code


def _person_id(birth: str = "19800101", seq: str = "123", region: str = "340602") -> str:
    body = region + birth + seq
    return body + check_digit(body)


def _entry(key: str, code: str) -> str:
    return str(code_entry(PERSONS[key] if key in PERSONS.by_key else UNITS[key], code))


def _person_cases() -> list[dict[str, str]]:
    """A complete, correct new person's row, and that row with one mistake each."""
    good = {
        "id_number": _person_id(), "name": "张三", "sex": _entry("sex", "1"),
        "hukou_type": _entry("hukou_type", "20"), "employment": _entry("employment", "4"),
        "identity": _entry("identity", "27"), "hukou_province": "安徽省", "hukou_city": "淮北市",
        "hukou_county": "杜集区", "home_province": "安徽省", "home_city": "淮北市", "home_county": "杜集区",
        "home_town": "高岳街道", "home_street": "幸福路1号", "mobile": "13812345678",
        "pension": _entry("pension", "12"), "medical": _entry("medical", "22"), "handler": "李四", "reviewer": "王五",
    }
    x_id = next(i for i in (_person_id(seq=f"{n:03d}") for n in range(100, 200)) if i.endswith("X"))
    wrong_check = good["id_number"][:17] + ("0" if good["id_number"][17] != "0" else "1")
    no_pension = {"pension": ""}
    variants: list[dict[str, str]] = [
        {}, {"id_number": x_id.lower(), "sex": _entry("sex", "1" if int(x_id[16]) % 2 else "2")},
        {"id_number": wrong_check}, {"id_number": good["id_number"][:17]},
        {"id_number": good["id_number"][:10] + "A" + good["id_number"][11:]},
        {"sex": _entry("sex", "2")},
        {"employment": _entry("employment", "0")}, {"employment": _entry("employment", "0"), "employer": "淮北矿业"},
        {"identity": _entry("identity", "90")}, {"identity": _entry("identity", "90"), "identity_other": "护林员"},
        {**no_pension, "uninsured_reason": _entry("uninsured_reason", "919")},
        {**no_pension, "uninsured_reason": _entry("uninsured_reason", "91")},
        no_pension, {"uninsured_reason": _entry("uninsured_reason", "91")},
        {"mobile": ""}, {"mobile": "", "landline": "0561-3123456"},
        {"mobile": "1381234567"}, {"mobile": "12812345678"}, {"mobile": "1381234567a"},
        {"handler": ""}, {"name": ""}, {"hukou_city": ""}, {"home_street": ""},
    ]
    cases = [{k: v for k, v in (good | change).items() if v} for change in variants]
    roster_row = {"person_no": "P3406000001", "id_number": _person_id(seq="135"), "name": "赵六",
                  "sex": _entry("sex", "1"), "hukou_type": _entry("hukou_type", "20"), "hukou_province": "安徽省",
                  "identity": _entry("identity", "90")}
    cases.append(roster_row)                                            # not visited yet: nothing red
    cases.append(roster_row | {"employment": _entry("employment", "3"), "mobile": "13912345678"})   # visited
    cases.append({"group_name": "三组"})                                 # started, nothing else
    return cases


def _unit_cases() -> list[dict[str, str]]:
    first17 = "91340602MA2N0K1A5"
    code = first17 + credit_check_char(first17)
    good = {"credit_code": code, "unit_name": "淮北某某有限公司", "unit_type": _entry("unit_type", "10"),
            "address": "相山路1号", "unit_status": _entry("unit_status", "1"), "handler": "李四"}
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    variants = [{}, {"credit_code": code.lower()}, {"credit_code": wrong}, {"credit_code": code[:17]},
                {"credit_code": "91340602MA2N0K1I5" + code[17]}, {"unit_status": ""}, {"address": ""},
                {"credit_code": ""}]
    return [{k: v for k, v in (good | change).items() if v} for change in variants]


def _engine_red(form: Form, values: dict[str, str], row: int) -> set[str]:
    """The cells the live checks should colour on this row, by what the engine reports: the
    fields of its errors of rules the live checks cover, and the other cells those checks colour."""
    if not _is_started(form, values):
        return set()
    checks = live_checks(form, row_refs([f for f in form.fields if not f.derived]))
    checked = check_row(RawRow(row=row, values=dict(values)), RowContext(form.sheet, form, dt.date.today()))
    covered = {c.rule: c for c in checks}
    by_name = {r.code: r.name for r in BY_NAME.values()}
    red: set[str] = set()
    for p in checked.problems:
        name = by_name[p.rule]
        if p.severity == "error" and name in covered:
            red.add(p.field)
            for c in checks:
                if c.rule == name and c.targets[0] == p.field and not c.each:
                    red.update(c.targets)
    return red


def _is_started(form: Form, values: dict[str, str]) -> bool:
    work = {f.key for f in form.fields if f.is_input and not f.prefilled}
    return bool(work & values.keys()) or (form is PERSONS and "person_no" not in values and "id_number" in values)


def test_live_checks_computed_by_libreoffice_agree_with_the_engine(
        saved: Saved, soffice: LibreOffice, tmp_path: Path) -> None:
    """Every conditional format of the re-saved template, as LibreOffice re-saved it, is
    computed by LibreOffice on rows with one mistake each; the cells it turns red are the
    cells where the engine reports an error of the rules the live checks cover."""
    book = openpyxl.load_workbook(saved.xlsx)
    expected: dict[tuple[str, int], set[str]] = {}
    scratch: dict[str, dict[str, tuple[int, str]]] = {}   # sheet -> scratch cell -> (row, field)
    for form, cases in ((PERSONS, _person_cases()), (UNITS, _unit_cases())):
        sheet = book[form.sheet]
        fields = [f for f in form.fields if not f.derived]
        col_key = {_column_letter(form, f.key): f.key for f in fields}
        rules = [(str(rng.sqref), rule.formula[0]) for rng in sheet.conditional_formatting for rule in rng.rules]
        assert len(rules) >= len(live_checks(form, row_refs(fields)))
        scratch[form.sheet] = {}
        for i, values in enumerate(cases):
            row = FIRST_DATA_ROW + 1 + i
            for f in fields:
                sheet[f"{_column_letter(form, f.key)}{row}"].value = values.get(f.key)
            expected[(form.sheet, row)] = _engine_red(form, values, row)
            j = 0
            for sqref, formula in rules:   # relative to the top-left cell of the first area
                origin = sqref.split(":")[0]
                for area in sqref.split():
                    first, _, last, _ = openpyxl.utils.cell.range_boundaries(area)
                    for c in range(first, last + 1):
                        col = openpyxl.utils.get_column_letter(c)
                        moved = Translator(f"={formula}", origin=origin).translate_formula(f"{col}{row}")
                        scratch[form.sheet][_scratch(sheet, row, j, f"=IFERROR({moved[1:]},FALSE)")] = (row, col_key[col])
                        j += 1
    computed = _computed(soffice, book, tmp_path)
    for sheet_name, cells in scratch.items():
        red: dict[int, set[str]] = {}
        for ref, (row, key) in cells.items():
            value = computed[sheet_name][ref].value
            assert value in (True, False), (ref, value)
            if value:
                red.setdefault(row, set()).add(key)
        for (name, row), fields_red in expected.items():
            if name == sheet_name:
                assert (row, red.get(row, set())) == (row, fields_red)
    assert sum(bool(v) for v in expected.values()) >= 20   # most cases do turn something red


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

    biff = dict(zip([s.name for s in book.sheets()], _biff_sheets(saved.xls), strict=True))
    original = _facts(saved.template)
    for form in (PERSONS, UNITS):
        sheet = biff[form.sheet]
        assert sheet.records[0x0012] == 1, "PROTECT"
        assert sheet.allowed >> 11 & 1 and sheet.allowed >> 12 & 1, "sorting and filtering stay allowed"
        lists = Counter((name, style) for kind, style, name in sheet.validations if kind == 3)
        expected = Counter(("INDIRECT" if "INDIRECT(" in f else f, _STYLES[style])
                           for t, f, style in original[form.sheet]["validations"].values() if t == "list")
        assert lists == expected
        assert len(sheet.validations) == len(original[form.sheet]["validations"])
        assert sheet.records[0x01B1] == len(original[form.sheet]["live_checks"]), "CF: every live check"

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
