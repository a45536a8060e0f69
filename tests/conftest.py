"""Fixtures for each outside thing: a workspace on disk, a roster file, a template filled
the way village staff fill it (openpyxl, as Excel would save it)."""

from __future__ import annotations

import random
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from engine.demo import _write_rosters
from engine.demo_data import Roster, make_roster, simulate_return
from engine.form import PERSONS
from engine.roster import import_roster
from engine.templates import generate
from engine.workspace import Workspace

COUNTY = "340602"   # 杜集区: 56 villages, the smallest county


DEMO_SCALE = 0.003


@pytest.fixture(scope="session")
def city_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`canbao demo` run once for the session, at a small scale, through the CLI. Read only."""
    from click.testing import CliRunner

    from engine.cli import main

    ws = tmp_path_factory.mktemp("demo") / "ws"
    result = CliRunner().invoke(main, ["demo", "--scale", str(DEMO_SCALE), "--seed", "11", "--share", "0.6",
                                       "-w", str(ws)])
    assert result.exit_code == 0, result.output
    assert "合计" in result.output
    return ws


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    ws = Workspace(tmp_path / "ws")
    ws.init(COUNTY)
    yield ws
    ws.close()


@pytest.fixture(scope="session")
def county_roster() -> Roster:
    """A small synthetic roster of 杜集区 (about 200 persons)."""
    roster = make_roster(scale=0.01, seed=7)
    return Roster(persons=[p for p in roster.persons if p["region_code"].startswith(COUNTY)],
                  units=[u for u in roster.units if u["region_code"].startswith(COUNTY)])


@pytest.fixture
def county(workspace: Workspace, county_roster: Roster) -> Workspace:
    """The workspace with its roster imported (from real xlsx files) and templates generated."""
    for path in _write_rosters(workspace, county_roster.persons, county_roster.units):
        import_roster(workspace, path)
    generate(workspace)
    return workspace


def template_of(ws: Workspace, village: str) -> Path:
    from engine.templates import template_path

    return template_path(ws, village)


def busiest_village(roster: Roster) -> str:
    counts: dict[str, int] = {}
    for p in roster.persons:
        counts[p["region_code"]] = counts.get(p["region_code"], 0) + 1
    return max(counts, key=lambda c: (counts[c], c))


Filler = Callable[[openpyxl.worksheet.worksheet.Worksheet, dict[str, int], int, dict[str, Any]], None]


def header_columns(sheet: Any) -> dict[str, int]:
    """field key -> 1-based column, from the header row of a form sheet."""
    labels = {f.label: f.key for f in PERSONS.fields} | {"单位名称": "unit_name"}
    for row in sheet.iter_rows(min_row=1, max_row=6):
        found = {labels[c.value]: c.column for c in row if c.value in labels}
        if len(found) > 5:
            return found
    raise AssertionError("no header row")


def assert_problem_rows_point_into_the_receipt(outcome: Any) -> None:
    """Each line of a receipt's 问题清单 that has a 行号 points at the row of the receipt's
    own sheet that holds the row it was sent as (原文件行号): the same name (persons) or unit
    name (units) there. The receipt holds only the rows with problems, so the two differ."""
    from engine.reader import cell_text

    book = openpyxl.load_workbook(outcome.receipt)
    lines = [r for r in book["问题清单"].iter_rows(min_row=2, values_only=True) if r[0] and r[1]]
    assert lines, "no problem of a row in the receipt"
    moved = 0
    for sheet_name, here, sent, *_ in lines:
        result = next(s for s in outcome.sheets if s.sheet.name == sheet_name)
        raw = next(raw for raw, _, _ in result.rows if raw.row == sent)
        key = "name" if result.form.kind == "persons" else "unit_name"
        sheet = book[result.form.sheet]
        column = next(c.column for row in sheet.iter_rows(max_row=6) for c in row if c.value == result.form[key].label)
        assert sheet.cell(int(here), column).value == (cell_text(raw.values.get(key)) or None)
        moved += here != sent
    assert moved, "the rows with problems are gathered at the top of the receipt's sheets"


def fill_like_staff(template: Path, target: Path, roster_persons: list[dict[str, str]], *,
                    visit: int, seed: int = 1, edit: Callable[[Any, dict[str, int]], None] | None = None) -> list[int]:
    """Fill the first `visit` roster rows of a template with openpyxl as staff would type them
    (codes picked from the dropdown as 'code label'), run `edit` for mistakes, save as `target`.
    Returns the spreadsheet rows filled."""
    book = openpyxl.load_workbook(template)
    sheet = book[PERSONS.sheet]
    cols = header_columns(sheet)
    filled = simulate_return(roster_persons, [], random.Random(seed), mistakes=False)
    by_id = {str(p["id_number"]): p for p in filled.persons}
    rows: list[int] = []
    for row in range(1, sheet.max_row + 1):
        number = sheet.cell(row, cols["id_number"]).value
        if number in by_id and len(rows) < visit:
            values = by_id[number]
            for f in PERSONS.fields:
                if f.is_input and not f.prefilled and f.key in cols and values.get(f.key) not in (None, ""):
                    sheet.cell(row, cols[f.key]).value = str(values[f.key])
            rows.append(row)
    if edit is not None:
        edit(sheet, cols)
    book.save(target)
    return rows


def as_xlsm(source: Path, target: Path) -> Path:
    """The workbook as an .xlsm: macro-enabled content type and a vbaProject part (never run,
    never even parsed: here it is not a valid one)."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"sheet.main+xml", b"sheet.macroEnabled.main+xml").replace(
                    b"</Types>", b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>')
            dst.writestr(item, data)
        dst.writestr("xl/vbaProject.bin", b'Attribute VB_Name = "Module1"\nSub Auto_Open()\n  Kill "C:\\*.*"\nEnd Sub\n')
    return target


def cut_everything(monkeypatch: pytest.MonkeyPatch, part_bytes: int) -> list[Any]:
    """Every sheet of a workbook read from now on is cut into parts of `part_bytes` of rows
    (`engine.sheet_parts`, which cuts only sheets of 96 MB or more, into parts of 16 or 48
    MB); the list gets the `Parts` of each sheet cut, as they are cut."""
    from engine import reader, sheet_parts

    made: list[sheet_parts.Parts] = []
    real_cut = sheet_parts.cut

    def kept(path: Path, sheet: str, folder: Callable[[], Path]) -> sheet_parts.Parts | None:
        parts = real_cut(path, sheet, folder)
        if parts is not None:
            made.append(parts)
        return parts

    monkeypatch.setattr(sheet_parts, "CUT_BYTES", 0)
    monkeypatch.setattr(sheet_parts, "PART_BYTES", part_bytes)
    monkeypatch.setattr(sheet_parts, "SHARED_PART_BYTES", part_bytes)
    monkeypatch.setattr(reader, "cut", kept)
    return made
