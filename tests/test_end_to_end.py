"""The whole path on real files: template -> filled by staff -> inbox -> watcher -> receipt,
store and summary, and the correction loop through the receipt."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl

from engine.demo_data import Roster
from engine.form import PERSONS
from engine.reader import read_submission
from engine.reports import summary_path
from engine.watching import watch_workspace
from engine.workspace import Workspace
from tests.conftest import (
    assert_problem_rows_point_into_the_receipt,
    busiest_village,
    fill_like_staff,
    header_columns,
    template_of,
)


def _run_watcher(ws: Workspace) -> list:  # type: ignore[type-arg]
    return watch_workspace(ws, once=True, min_age=0.0, settle=0.0, say=lambda _: None)


def _receipt_counts(path: Path) -> dict[str, object]:
    sheet = openpyxl.load_workbook(path, read_only=True)["回执"]
    return {str(r[0]): r[1] for r in sheet.iter_rows(values_only=True) if r and r[0]}


def _problems(path: Path) -> list[tuple[object, ...]]:
    sheet = openpyxl.load_workbook(path, read_only=True)["问题清单"]
    return [r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0]]


def test_template_filled_returned_checked_merged_summarised(county: Workspace, county_roster: Roster) -> None:
    village = busiest_village(county_roster)
    persons = [p for p in county_roster.persons if p["region_code"] == village]
    bad_row: list[int] = []

    def mistakes(sheet, cols) -> None:  # type: ignore[no-untyped-def]
        first = next(r for r in range(4, sheet.max_row + 1) if sheet.cell(r, cols["pension"]).value)
        sheet.cell(first, cols["pension"]).value = "16 城镇养老"      # pasted, not in the list
        bad_row.append(first)

    inbox_file = county.inbox / "returned.xlsx"
    filled = fill_like_staff(template_of(county, village), inbox_file, persons, visit=len(persons),
                             edit=mistakes)
    outcomes = _run_watcher(county)

    assert len(outcomes) == 1
    outcome = outcomes[0]
    assert outcome.status == "partial"
    assert not inbox_file.exists(), "a processed file leaves the inbox"
    assert any(county.archive.rglob("*returned.xlsx")), "the original is archived"

    counts = _receipt_counts(outcome.receipt)
    assert counts["读取人员行数"] == len(filled)
    assert counts["已登记人员"] == len(filled) - 1
    assert counts["退回待改人员"] == 1
    assert counts["本村名册人数"] == len(persons)
    assert counts["本村尚未登记（见“未登记名单”）"] == len(persons) - len(filled) + 1
    problems = _problems(outcome.receipt)
    assert [(p[2], p[3], p[8]) for p in problems if p[8] == "R030"] == [(bad_row[0], "养老保险", "R030")]
    assert_problem_rows_point_into_the_receipt(outcome)

    status = county.store.figures(county.region.code).status_json()
    assert status["region"]["persons"] == {
        "task": len(county_roster.persons), "registered": len(filled) - 1, "returned": 1, "new": 0,
        "missing": len(county_roster.persons) - len(filled)}
    assert status["files"] == {"received": 1, "accepted": 1, "rejected": 0}

    summary = openpyxl.load_workbook(summary_path(county, county.region.name), data_only=True)["进度"]
    values = [c for row in summary.iter_rows(values_only=True) for c in row]
    assert len(filled) - 1 in values and len(county_roster.persons) in values


def test_same_file_twice_is_counted_once(county: Workspace, county_roster: Roster) -> None:
    village = busiest_village(county_roster)
    persons = [p for p in county_roster.persons if p["region_code"] == village]
    fill_like_staff(template_of(county, village), county.inbox / "a.xlsx", persons, visit=5)
    shutil.copy(county.inbox / "a.xlsx", county.inbox / "a-again.xlsx")
    outcomes = _run_watcher(county)
    assert sorted(o.status for o in outcomes) == ["accepted", "duplicate"]
    status = county.store.figures(county.region.code).status_json()
    assert status["region"]["persons"]["registered"] == 5
    assert status["files"]["received"] == 1


def test_corrected_receipt_is_taken_as_resubmission(county: Workspace, county_roster: Roster) -> None:
    village = busiest_village(county_roster)
    persons = [p for p in county_roster.persons if p["region_code"] == village]

    def no_handler(sheet, cols) -> None:  # type: ignore[no-untyped-def]
        sheet.cell(4, cols["handler"]).value = None

    fill_like_staff(template_of(county, village), county.inbox / "first.xlsx", persons, visit=3, edit=no_handler)
    (first,) = _run_watcher(county)
    assert first.count("persons", "returned") == 1

    receipt = openpyxl.load_workbook(first.receipt)
    sheet = receipt[PERSONS.sheet]
    cols = header_columns(sheet)
    rows = [r for r in range(4, sheet.max_row + 1) if sheet.cell(r, cols["id_number"]).value]
    assert len(rows) == 1, "the receipt holds only the rows with problems"
    sheet.cell(rows[0], cols["handler"]).value = "王芳"
    receipt.save(county.inbox / "corrected.xlsx")

    assert read_submission(county.inbox / "corrected.xlsx").identity.kind == "receipt"  # type: ignore[union-attr]
    (second,) = _run_watcher(county)
    assert second.status == "accepted"
    persons_figures = county.store.figures(county.region.code).status_json()["region"]["persons"]
    assert persons_figures["registered"] == 3
    assert persons_figures["returned"] == 0


def test_a_person_returned_by_two_villages_is_a_conflict(county: Workspace, county_roster: Roster) -> None:
    village = busiest_village(county_roster)
    persons = [p for p in county_roster.persons if p["region_code"] == village]
    other = sorted({p["region_code"] for p in county_roster.persons} - {village})[0]
    fill_like_staff(template_of(county, village), county.inbox / "a.xlsx", persons, visit=2)
    (_,) = _run_watcher(county)
    moved = persons[0]

    def add_person(sheet, cols) -> None:  # type: ignore[no-untyped-def]
        row = next(r for r in range(4, sheet.max_row + 2) if not sheet.cell(r, cols["id_number"]).value)
        for f in PERSONS.fields:
            if f.key in cols and moved.get(f.key):
                sheet.cell(row, cols[f.key]).value = moved[f.key]
        for key, value in (("employment", "3"), ("pension", "12"), ("mobile", "13912345678"),
                           ("handler", "甲"), ("reviewer", "乙"), ("hukou_type", "20"), ("identity", "27")):
            sheet.cell(row, cols[key]).value = value

    other_persons = [p for p in county_roster.persons if p["region_code"] == other]
    fill_like_staff(template_of(county, other), county.inbox / "b.xlsx", other_persons, visit=0, edit=add_person)
    (second,) = _run_watcher(county)
    assert [p.rule for p in second.problems if p.severity == "error"] == ["R071"]
    conflicts = county.store.conflicts()
    assert [(c["id_number"], c["kept_region"], c["other_region"]) for c in conflicts] == [
        (moved["id_number"], village, other)]
    assert county.store.history(moved["id_number"])[-1]["region_code"] == village
    (notice,) = county.receipts.rglob("*冲突通知*.xlsx")      # the first village hears of it too
    assert notice.parent == county.village_folder(county.receipts, village)
    cells = [c for row in openpyxl.load_workbook(notice)["冲突通知"].iter_rows(values_only=True) for c in row]
    assert moved["id_number"] in cells and moved["name"] in cells


def test_a_conflict_is_settled_by_the_office(county: Workspace, county_roster: Roster) -> None:
    from click.testing import CliRunner

    from engine.cli import main

    test_a_person_returned_by_two_villages_is_a_conflict(county, county_roster)
    (conflict,) = county.store.conflicts()
    runner = CliRunner()
    listing = runner.invoke(main, ["conflicts", "-w", str(county.root)])
    assert "待处理" in listing.output and conflict["id_number"] not in listing.output   # masked
    def waiting() -> int:
        return int(county.store.db.execute("SELECT COUNT(*) FROM pending WHERE row_key = ?",
                                           (conflict["id_number"],)).fetchone()[0])

    assert waiting() == 1
    settled = runner.invoke(main, ["conflicts", "--settle", str(conflict["id"]), "--keep", "second",
                                   "-w", str(county.root)])
    assert settled.exit_code == 0, settled.output
    history = county.store.history(conflict["id_number"])
    assert history[-1]["region_code"] == conflict["other_region"] and len(history) == 2
    assert waiting() == 0, "the second village's row no longer waits for correction"
    assert "已处理" in runner.invoke(main, ["conflicts", "-w", str(county.root)]).output
    again = runner.invoke(main, ["conflicts", "--settle", str(conflict["id"]), "-w", str(county.root)])
    assert again.exit_code == 2
