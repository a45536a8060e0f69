"""The printable 全民参保登记表: real workbooks read back with openpyxl, and one rendered by
LibreOffice to count its PDF pages."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from engine import paper
from engine.demo_data import Roster
from engine.form import CODE_LISTS, OTHER_CODES, PERSONS
from engine.paper import BOX, TICKED, generate_paper, pack, paper_path, write_paper_forms
from engine.workspace import Workspace
from tests.conftest import busiest_village

A4_WIDTH_IN, A4_HEIGHT_IN = 8.27, 11.69
ID_LABEL = PERSONS["id_number"].aliases[0]


def _pages(sheet: Any) -> list[list[str]]:
    """The sheet's text cut at its row breaks: one list of cell texts per page."""
    breaks = [b.id for b in sheet.row_breaks.brk]
    bounds = list(zip([0, *breaks], [*breaks, sheet.max_row], strict=True))
    return [[str(c.value) for row in sheet.iter_rows(min_row=a + 1, max_row=b) for c in row if c.value]
            for a, b in bounds]


def _people(sheet: Any) -> list[tuple[str, str, str]]:
    """(ID, name, sex) from each page's identity row, in page order."""
    out = []
    for row in sheet.iter_rows():
        if row[0].value == ID_LABEL:
            out.append((row[1].value or "", row[5].value or "", row[7].value or ""))
    return out


def _roster(county_roster: Roster, village: str) -> list[dict[str, str]]:
    return [p for p in county_roster.persons if p["region_code"] == village]


def test_one_a4_portrait_page_per_roster_person_and_a_blank_one(county: Workspace, county_roster: Roster) -> None:
    village = busiest_village(county_roster)
    path = write_paper_forms(county, village)
    assert path == paper_path(county, village)
    assert path.name.endswith("-入户登记表.xlsx") and path.parent == county.village_folder(county.templates, village)
    sheet = openpyxl.load_workbook(path).active
    persons = _roster(county_roster, village)

    assert len(sheet.row_breaks.brk) == len(persons)            # persons + 1 pages
    setup = sheet.page_setup
    assert setup.paperSize == 9 and setup.orientation == "portrait"
    assert setup.scale in (None, 100)
    assert not sheet.sheet_properties.pageSetUpPr or not sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_area and sheet.print_area.endswith(f"$A$1:$H${sheet.max_row}")

    margins = sheet.page_margins
    width_px = sum(d.width * paper.DIGIT_PX * (d.max - d.min + 1) for d in sheet.column_dimensions.values())
    assert width_px <= (A4_WIDTH_IN - margins.left - margins.right) * 96
    usable_pt = (A4_HEIGHT_IN - margins.top - margins.bottom) * 72
    breaks = [0, *(b.id for b in sheet.row_breaks.brk), sheet.max_row]
    for start, end in zip(breaks, breaks[1:], strict=False):
        height = sum(sheet.row_dimensions[r].height or 15 for r in range(start + 1, end + 1))
        assert height <= usable_pt


def test_pages_are_prefilled_from_the_roster_in_order(county: Workspace, county_roster: Roster) -> None:
    village = busiest_village(county_roster)
    sheet = openpyxl.load_workbook(write_paper_forms(county, village)).active
    persons = county.store.roster("persons", village)
    sexes = CODE_LISTS["性别"].labels
    expected = [(p["id_number"], p["name"], sexes[p["sex"]]) for p in persons]
    got = _people(sheet)
    assert got[:-1] == expected
    assert got[-1][:2] == ("", "")                                 # the blank page for the door
    pages = _pages(sheet)
    for person, page in zip(persons, pages, strict=False):
        assert f"{PERSONS['person_no'].label}：{person['person_no']}" in page
        assert person["home_street"] in page and person["hukou_county"] in page
    assert f"{PERSONS['person_no'].label}：{paper.NEW_PERSON}" in pages[-1]
    place_line = next(t for t in pages[0] if PERSONS["county"].aliases[0] in t)
    for key in ("province", "city", "county", "town", "village"):
        assert paper._short(persons[0][key], paper.PLACE_SUFFIXES[key]) in place_line


def test_every_box_comes_from_the_code_lists(county: Workspace, county_roster: Roster) -> None:
    village = busiest_village(county_roster)
    sheet = openpyxl.load_workbook(write_paper_forms(county, village)).active
    first, blank = _pages(sheet)[0], _pages(sheet)[-1]
    text = "\n".join(first)
    person = county.store.roster("persons", village)[0]
    for list_name in ("就业状态", "个人身份", "户口性质", "养老保险", "医疗保险", "未参保原因"):
        for code in CODE_LISTS[list_name].codes:
            assert f"{BOX}{code.code} {code.label}" in text or f"{TICKED}{code.code} {code.label}" in text, code
    for list_name, code in (("工伤保险", "30"), ("失业保险", "40"), ("生育保险", "50")):
        assert f"{BOX}{code} {list_name}" in text
    for list_name, key in (("个人身份", "identity"), ("户口性质", "hukou_type")):   # the roster's code, ticked
        label = CODE_LISTS[list_name].labels[person[key]]
        assert f"{TICKED}{person[key]} {label}" in text
    assert text.replace(paper.NOTE, "").count(TICKED) == 2
    other = OTHER_CODES["uninsured_reason"][0]
    assert f"{BOX}{other} {CODE_LISTS['未参保原因'].labels[other]}{paper.OTHER_LINE}" in text
    assert TICKED not in "\n".join(blank).replace(paper.NOTE, "")
    assert all(f"{BOX}{CODE_LISTS['性别'].labels[c]}" in "\n".join(blank) for c in paper.SEXES)


def test_a_large_village_is_split_over_sheets(county: Workspace, county_roster: Roster,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    village = busiest_village(county_roster)
    persons = _roster(county_roster, village)
    monkeypatch.setattr(paper, "PAGES_PER_SHEET", 3)
    book = openpyxl.load_workbook(write_paper_forms(county, village))
    pages = len(persons) + 1
    assert len(book.sheetnames) == -(-pages // 3)
    assert sum(len(s.row_breaks.brk) + 1 for s in book) == pages
    assert sum(len(_people(s)) for s in book) == pages


def test_generate_paper_writes_one_workbook_per_village_beside_its_template(county: Workspace) -> None:
    villages = county.store.roster_villages(county.region.code)
    paths = generate_paper(county)
    assert [p.name for p in paths] == [paper_path(county, v).name for v in villages]
    assert all(p.exists() for p in paths)
    assert not list(county.templates.rglob(".*.tmp"))


def test_a_failed_write_leaves_the_earlier_file_and_no_temporary(county: Workspace, county_roster: Roster,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    village = busiest_village(county_roster)
    path = write_paper_forms(county, village)
    before = path.read_bytes()

    def broken(*_: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(paper, "_write_sheet", broken)
    with pytest.raises(RuntimeError):
        write_paper_forms(county, village)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_pack_keeps_options_whole_within_the_width() -> None:
    options = [f"{BOX}{c.code} {c.label}" for c in CODE_LISTS["个人身份"].codes]
    lines = pack(options, 40)
    assert all(paper._text_width(line) <= 40 for line in lines)
    assert "　".join(lines).split("　") == options


def test_libreoffice_prints_one_page_per_person(county: Workspace, county_roster: Roster, tmp_path: Path) -> None:
    assert shutil.which("soffice") and shutil.which("pdfinfo"), "LibreOffice and pdfinfo are required: run scripts/test"
    village = busiest_village(county_roster)
    path = write_paper_forms(county, village)
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(path)], check=True, capture_output=True, timeout=180)
    info = subprocess.run(["pdfinfo", str(tmp_path / f"{path.stem}.pdf")], capture_output=True, text=True,
                          check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    assert pages == len(_roster(county_roster, village)) + 1
