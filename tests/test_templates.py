"""The template writer: cascading place lists, live checks, identity across versions and
regenerations. Workbooks are written for real and read back with openpyxl; what needs a
spreadsheet application to compute lives in test_libreoffice.py."""

from __future__ import annotations

import io
import re
import zipfile
from collections import Counter
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
import xlsxwriter.worksheet

from engine.console import outcome_line
from engine.demo import _write_rosters
from engine.demo_data import Roster
from engine.dropdowns import cascades, dropdown_lists, list_name, name_part_formula, place_lists
from engine.form import PERSONS, UNITS, Form
from engine.identifiers import check_digit
from engine.live_checks import live_checks
from engine.pipeline import process_file
from engine.places import china_places, split_place
from engine.problems import BY_NAME
from engine.reader import read_submission
from engine.roster import import_roster
from engine.templates import (
    BLANK_UNITS,
    blank_rows,
    generate,
    roster_rows,
    template_path,
    write_village_workbook,
)
from engine.workbook import CODES_SHEET, FIRST_DATA_ROW, Identity, row_refs, template_id
from engine.workspace import Workspace
from engine.xlsxwriter_ext import (
    FAST_CELLS,
    MEMOISING,
    RENDERING,
    CellSpec,
    FastCells,
    FormSheet,
    RenderedSheet,
    render_rows,
    write_cells_one_by_one,
)
from tests.conftest import busiest_village, fill_like_staff

# An Excel name: a letter (CJK included) or _, then letters, digits, _ and .; not a cell reference.
EXCEL_NAME = re.compile(r"^[^\W\d][\w.]*$")
CELL_LIKE = re.compile(r"^([A-Za-z]{1,3}\d+|[RrCc]\d*|[Rr]\d*[Cc]\d*)$")


# -- cascading place lists ----------------------------------------------------------------


def test_every_place_list_offers_something_below_every_choice() -> None:
    china = china_places()
    assert len(china) == 34       # GB/T 2260's provinces, 香港, 澳门 and 台湾 included
    for province, cities in china.items():
        assert cities, province
        for city, counties in cities.items():
            assert counties, (province, city)
    assert china["安徽省"]["淮北市"] == ("杜集区", "相山区", "烈山区", "濉溪县")


def test_places_without_a_city_level_still_have_one() -> None:
    china = china_places()
    assert list(china["北京市"]) == ["北京市"]               # a municipality is its own city
    assert "东城区" in china["北京市"]["北京市"] and "市辖区" not in china["北京市"]["北京市"]
    assert china["湖北省"]["仙桃市"] == ("仙桃市",)          # county-level city under the province
    assert china["广东省"]["东莞市"] == ("东莞市",)          # a city without counties
    assert china["香港特别行政区"] == {"香港特别行政区": ("香港特别行政区",)}
    assert china["台湾省"] == {"台湾省": ("台湾省",)}


def test_place_list_names_are_valid_unique_excel_names() -> None:
    names = [name for name, _ in place_lists()]
    assert len({n.casefold() for n in names}) == len(names)
    for name in names:
        assert EXCEL_NAME.match(name) and not CELL_LIKE.match(name) and len(name) <= 255, name
    lists = dict(place_lists())
    assert lists["市_安徽省"][:2] == ("合肥市", "芜湖市")
    assert "濉溪镇" in lists["乡镇_濉溪县"]
    assert all(entries for entries in lists.values())


def test_list_names_replace_what_a_name_cannot_hold() -> None:
    assert list_name("市", ("香港（特区）",)) == "市_香港_特区_"
    assert list_name("县", ("A省", "B·市")) == "县_A省_B_市"
    assert list_name("省", ()) == "省_全部"
    assert name_part_formula("$L4", "（）") == 'SUBSTITUTE(SUBSTITUTE($L4,"（","_"),"）","_")'
    assert name_part_formula("$L4") == "$L4"   # no place name holds such a character today


def test_cascade_sources_name_the_lists_of_the_columns_to_their_left() -> None:
    refs = row_refs([f for f in PERSONS.fields if not f.derived])
    sources = {key: cascade.source(refs) for key, cascade in cascades(PERSONS).items()}
    province, city = refs["hukou_province"], refs["hukou_city"]
    assert sources["hukou_province"] == "=省_全部"
    assert sources["hukou_city"] == f'=IF({province}="",{province},INDIRECT("市_"&{province}))'
    assert sources["hukou_county"] == (f'=IF({province}="",{province},IF({city}="",{city},'
                                       f'INDIRECT("县_"&{province}&"_"&{city})))')
    county, town = refs["home_county"], refs["home_town"]
    assert sources["home_village"] == (f'=IF({county}="",{county},IF({town}="",{town},'
                                       f'INDIRECT("村_"&{county}&"_"&{town})))')
    assert set(cascades(PERSONS)) <= set(PERSONS.keys)


def test_template_has_cascading_dropdowns_over_its_lists(county: Workspace, county_roster: Roster) -> None:
    book = openpyxl.load_workbook(template_path(county, busiest_village(county_roster)))
    lists = book[CODES_SHEET]
    assert lists.sheet_state == "hidden"
    rows = {row[0]: tuple(v for v in row[1:] if v is not None) for row in lists.iter_rows(values_only=True)}
    assert len(rows) == len(dropdown_lists()) > len(place_lists())
    for name, entries in dropdown_lists():
        assert rows[name] == entries
        sheet, cells = book.defined_names[name].attr_text.split("!")
        start, end = (c.replace("$", "") for c in cells.split(":"))
        assert sheet.strip("'") == CODES_SHEET
        assert tuple(c.value for row in lists[start:end] for c in row) == entries

    persons = book[PERSONS.sheet]
    fields = [f for f in PERSONS.fields if not f.derived]
    refs = row_refs(fields)
    validations = {str(dv.sqref).split(":")[0]: dv for dv in persons.data_validations.dataValidation}
    for key, cascade in cascades(PERSONS).items():
        dv = validations[refs[key].replace("$", "")]
        assert (dv.type, "=" + str(dv.formula1), dv.errorStyle) == ("list", cascade.source(refs), "warning")


@pytest.mark.parametrize("memory", ["constant_memory", "in_memory"])
def test_rendered_rows_read_back_like_rows_written_cell_by_cell(tmp_path: Path, memory: str) -> None:
    rows = [("甲", "a&b", "<c>"), ("乙",), (" 前后空格 ", "x")]
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    for name, fast in (("rendered.xlsx", True), ("cells.xlsx", False)):
        book = xlsxwriter.Workbook(str(tmp_path / name), {memory: True, "tmpdir": str(scratch)})
        book.add_worksheet("before").write_string(0, 0, "before")
        if fast:
            book.add_worksheet("lists", worksheet_class=RenderedSheet).set_rendered(render_rows(rows), len(rows) - 1, 2)
        else:
            sheet = book.add_worksheet("lists")
            for r, row in enumerate(rows):
                sheet.write_row(r, 0, row)
        book.add_worksheet("after").write_string(0, 0, "after")
        book.close()
    read = [openpyxl.load_workbook(tmp_path / name) for name in ("rendered.xlsx", "cells.xlsx")]
    values = [[tuple(v for v in row if v is not None) for row in book["lists"].iter_rows(values_only=True)]
              for book in read]
    assert values[0] == values[1] == rows
    assert [book["lists"].dimensions for book in read] == ["A1:C3", "A1:C3"]
    assert read[0]["after"]["A1"].value == "after"
    assert RENDERING
    assert not list(scratch.iterdir()), "no temporary file left behind"


@pytest.mark.parametrize("memory", ["constant_memory", "in_memory"])
def test_fast_cells_write_the_bytes_xlsxwriter_writes(tmp_path: Path, memory: str) -> None:
    """Every kind of cell, written by FastCells a row at a time and by xlsxwriter's own
    worksheet a cell at a time (write_cells_one_by_one, write_cells' own fallback): the same XML."""
    texts = ["甲", "11 城镇职工基本养老保险", "a&b", "<c>", "x\x01y", "_x0041_", " 前", "后 ", "后\u3000", "a\nb",
             'say "hi"', "\ufffe", "0034", "=1+1", "http://x.cn", "长" * 40_000]
    sheets: dict[str, bytes] = {}
    for name in ("fast", "stock"):
        path = tmp_path / f"{name}.xlsx"
        book = xlsxwriter.Workbook(str(path), {memory: True, "strings_to_formulas": False, "strings_to_urls": False})
        bold, dull = book.add_format({"bold": True}), book.add_format({"italic": True})
        ws = book.add_worksheet("cells", worksheet_class=FastCells if name == "fast" else None)
        ws.set_column(5, 5, 20, dull)            # a column's format under unformatted cells
        ws.set_row(4, 30, bold)                  # and a row's
        ws.set_row(6, 40)
        for r, text in enumerate(texts):
            number = [0, 1.5, -3, 1e20, 2**53 + 1, 0.1][r % 6]
            cells: dict[int, CellSpec] = {0: (text, None), 1: (text, bold), 2: (number, bold if r % 2 else None),
                                          3: (None, dull), 4: (None, None), 5: (text, None)}
            if name == "fast":
                ws.write_cells(r, cells)
            else:
                write_cells_one_by_one(ws, r, cells)
            ws.write_formula(r, 6, "=A1", None, 2)
            if r % 4 == 0:
                ws.write_comment(r, 1, "问题")
        ws.write_rich_string(len(texts), 0, "普通", bold, "加粗")
        if name == "fast" and memory == "constant_memory":
            with pytest.raises(ValueError):     # xlsxwriter would drop it without a word
                ws.write_cells(1, {0: ("too late", None)})
        book.close()
        with zipfile.ZipFile(path) as archive:
            sheets[name] = archive.read("xl/worksheets/sheet1.xml")
    assert FAST_CELLS
    assert b"inlineStr" in sheets["stock"] if memory == "constant_memory" else b't="s"' in sheets["stock"]
    assert sheets["fast"] == sheets["stock"]


def test_memoised_formula_preparation_is_xlsxwriters_own() -> None:
    book = xlsxwriter.Workbook(io.BytesIO(), {"in_memory": True})
    plain, memoised = book.add_worksheet("plain"), book.add_worksheet("form", worksheet_class=FormSheet)
    refs = row_refs([f for f in PERSONS.fields if not f.derived])
    formulas = [c.formula for c in live_checks(PERSONS, refs)] + [c.source(refs) for c in cascades(PERSONS).values()]
    formulas += ["=XLOOKUP(A1,B:B,C:C)", "=_xlfn.STDEV.S(A1:A3)", "=代码_性别", "=SUM(A1:A3)"]
    assert MEMOISING
    for formula in formulas:
        for expand in (False, True):
            assert memoised._prepare_formula(formula, expand) == plain._prepare_formula(formula, expand)
    assert memoised._prepare_formula("=XLOOKUP(A1,B:B,C:C)", True) == "_xlfn.XLOOKUP(A1,B:B,C:C)"
    book.close()


# -- live checks --------------------------------------------------------------------------


@pytest.mark.parametrize("form", [PERSONS, UNITS], ids=["persons", "units"])
def test_live_checks_anticipate_error_rules_at_most_three_a_column(form: Form) -> None:
    fields = [f for f in form.fields if not f.derived]
    checks = live_checks(form, row_refs(fields))
    assert {c.rule for c in checks} <= set(BY_NAME)
    assert all(BY_NAME[c.rule].severity == "error" for c in checks)
    per_column = Counter(key for c in checks for key in c.targets)
    assert max(per_column.values()) <= 3, per_column     # an .xls keeps three per cell
    required = {f.key for f in fields if f.required and f.kind != "date"}
    assert required == {k for c in checks if c.rule == "required" for k in c.targets}
    assert all("TRUE" not in c.formula and "FALSE" not in c.formula for c in checks)


def test_live_checks_cover_the_issues_rules() -> None:
    rules = {c.rule for c in live_checks(PERSONS, row_refs([f for f in PERSONS.fields if not f.derived]))}
    assert {"id_check_digit", "required", "reason_with_pension", "employer_missing", "mobile_format"} <= rules


def test_template_colours_every_data_row(county: Workspace, county_roster: Roster) -> None:
    village = busiest_village(county_roster)
    book = openpyxl.load_workbook(template_path(county, village))
    persons = sum(p["region_code"] == village for p in county_roster.persons)
    units = sum(u["region_code"] == village for u in county_roster.units)
    for form, last in ((PERSONS, FIRST_DATA_ROW + persons + blank_rows(persons)),
                       (UNITS, FIRST_DATA_ROW + units + BLANK_UNITS)):
        sheet = book[form.sheet]
        fields = [f for f in form.fields if not f.derived]
        found = {(col, rows, "=" + rule.formula[0]) for rng in sheet.conditional_formatting for rule in rng.rules
                 for col, rows in _cells(str(rng.sqref))}
        letters = {f.key: openpyxl.utils.get_column_letter(i + 1) for i, f in enumerate(fields)}
        wanted = {(letters[key], (FIRST_DATA_ROW + 1, last), c.formula)
                  for c in live_checks(form, row_refs(fields)) for key in c.targets}
        assert found == wanted
        assert all(rule.dxf.fill is not None for rng in sheet.conditional_formatting for rule in rng.rules)


def _cells(sqref: str) -> list[tuple[str, tuple[int, int]]]:
    """Each column of a (multi-area) range and its first and last row."""
    out: list[tuple[str, tuple[int, int]]] = []
    for area in sqref.split():
        first, top, last, bottom = openpyxl.utils.cell.range_boundaries(area)
        out += [(openpyxl.utils.get_column_letter(c), (top, bottom)) for c in range(first, last + 1)]
    return out


def test_cascades_follow_the_forms_place_columns() -> None:
    """Which columns are places is the form's; each list is keyed by the places above it,
    乡镇 and 村 (listed per 淮北 county) from the county down."""
    assert {k: (c.level, c.parents) for k, c in cascades(PERSONS).items()} == {
        "hukou_province": ("省", ()),
        "hukou_city": ("市", ("hukou_province",)),
        "hukou_county": ("县", ("hukou_province", "hukou_city")),
        "home_province": ("省", ()),
        "home_city": ("市", ("home_province",)),
        "home_county": ("县", ("home_province", "home_city")),
        "home_town": ("乡镇", ("home_county",)),
        "home_village": ("村", ("home_county", "home_town")),
    }
    assert cascades(UNITS) == {}


@pytest.mark.parametrize(("written", "split"), [
    ("安徽省淮北市濉溪县", ("安徽省", "淮北市", "濉溪县")),
    ("北京市东城区", ("北京市", "北京市", "东城区")),           # a municipality is its own city
    ("上海市上海市浦东新区", ("上海市", "上海市", "浦东新区")),
    ("湖北省仙桃市", ("湖北省", "仙桃市", "仙桃市")),           # county-level city: its own county
    ("广东省东莞市", ("广东省", "东莞市", "东莞市")),
    ("安徽省濉溪县", ("安徽省", "淮北市", "濉溪县")),           # the city left out
    ("香港特别行政区", ("香港特别行政区", "香港特别行政区", "香港特别行政区")),
    ("安徽省巢湖市居巢区", ("安徽省", "巢湖市", "居巢区")),     # names since retired: kept whole
    ("美国", ("美国", "", "")),                                 # abroad: kept
])
def test_roster_places_split_as_the_dropdowns_offer_them(written: str, split: tuple[str, str, str]) -> None:
    assert split_place(written) == split
    province, city, county = split
    if province in china_places() and city in china_places()[province]:
        assert county in china_places()[province][city]
        lists = dict(place_lists())
        assert city in lists[list_name("市", (province,))]
        assert county in lists[list_name("县", (province, city))]


@pytest.mark.parametrize("key", sorted(cascades(PERSONS)))
def test_cascade_parents_are_to_the_left(key: str) -> None:
    """Staff fill left to right: a list depends only on columns already filled."""
    order = PERSONS.keys
    assert all(order.index(parent) < order.index(key) for parent in cascades(PERSONS)[key].parents)


# -- identity across form versions and regenerations ----------------------------------------


def _identity(path: Path) -> Identity:
    identity = read_submission(path).identity
    assert identity is not None
    return identity


def test_a_template_of_an_older_form_version_is_read_and_accepted(county: Workspace, county_roster: Roster) -> None:
    village = busiest_village(county_roster)
    persons = county.store.roster("persons", village)
    old = Identity(kind="template", template_id=template_id(village), region_code=village, form_version="0",
                   roster_batch=county.store.roster_batch())
    path = write_village_workbook(county.workbooks / "old.xlsx", village, old, roster_rows(persons),
                                  roster_rows(county.store.roster("units", village)),
                                  blank_persons=blank_rows(len(persons)), blank_units=BLANK_UNITS)
    read = read_submission(path)
    assert read.identity == old and not read.problems
    assert len(read.sheets[0].rows) == len(persons)

    filled = fill_like_staff(path, county.inbox / "old-filled.xlsx", persons, visit=len(persons))
    outcome = process_file(county, county.inbox / "old-filled.xlsx")
    assert outcome.identity is not None and outcome.identity.form_version == "0"
    assert outcome.status == "accepted", [p.message for p in outcome.problems]
    assert outcome.count("persons", "accepted") == len(filled)
    assert outcome.older_form == "0"
    assert outcome.receipt is not None
    summary = {row[0]: row[1] for row in openpyxl.load_workbook(outcome.receipt)["回执"].iter_rows(values_only=True)
               if row and row[0]}
    assert "旧版模板（第 0 版）" in str(summary["模板版本"])
    assert "旧版模板" in outcome_line(outcome)
    fill_like_staff(template_path(county, village), county.inbox / "new.xlsx", persons, visit=3)
    current = process_file(county, county.inbox / "new.xlsx")
    assert current.older_form is None and current.receipt is not None
    assert "模板版本" not in {row[0] for row in openpyxl.load_workbook(current.receipt)["回执"].iter_rows(values_only=True)}


def test_regenerating_after_a_roster_update_keeps_each_template_id(county: Workspace, county_roster: Roster,
                                                                   tmp_path: Path) -> None:
    village = busiest_village(county_roster)
    path = template_path(county, village)
    before = _identity(path)
    earlier_copy = tmp_path / "earlier.xlsx"
    earlier_copy.write_bytes(path.read_bytes())

    body = f"{village[:6]}19900101{777}"
    newcomer = {**next(p for p in county_roster.persons if p["region_code"] == village),
                "person_no": "P3406999999", "id_number": body + check_digit(body), "name": "新来人",
                "sex": "1", "birth_date": "1990-01-01"}
    for roster_file in _write_rosters(county, [*county_roster.persons, newcomer], county_roster.units):
        import_roster(county, roster_file, batch="29991231000000")
    generate(county)

    after = _identity(path)
    assert after.template_id == before.template_id == template_id(village)
    assert before.roster_batch != after.roster_batch == "29991231000000"
    ids = [r.values.get("id_number") for r in read_submission(path).sheets[0].rows]
    assert newcomer["id_number"] in ids

    persons = [p for p in county_roster.persons if p["region_code"] == village]
    fill_like_staff(earlier_copy, county.inbox / "earlier-filled.xlsx", persons, visit=len(persons))
    outcome = process_file(county, county.inbox / "earlier-filled.xlsx")
    assert outcome.status == "accepted", [p.message for p in outcome.problems]
    assert outcome.village == village and outcome.identity is not None
    assert outcome.identity.roster_batch == before.roster_batch
