"""Resubmissions, older returns, history, and the roll-up from county to city."""

from __future__ import annotations

import time
from pathlib import Path

import openpyxl
import pytest

import engine.pipeline
from engine.demo_data import Roster
from engine.export import export
from engine.form import PERSONS
from engine.pipeline import process_file
from engine.roster import import_roster
from engine.workspace import Workspace
from tests.conftest import busiest_village, fill_like_staff, header_columns, template_of


def _village(roster: Roster) -> tuple[str, list[dict[str, str]]]:
    village = busiest_village(roster)
    return village, [p for p in roster.persons if p["region_code"] == village]


def test_a_full_resubmission_withdraws_what_it_leaves_out(county: Workspace, county_roster: Roster) -> None:
    village, persons = _village(county_roster)
    first = county.root / "first.xlsx"
    rows = fill_like_staff(template_of(county, village), first, persons, visit=4)
    assert process_file(county, first).status == "accepted"

    book = openpyxl.load_workbook(first)
    sheet = book[PERSONS.sheet]
    cols = header_columns(sheet)
    dropped = sheet.cell(rows[-1], cols["id_number"]).value
    for f in PERSONS.fields:   # staff clear the visit they recorded by mistake
        if f.key in cols and f.is_input and not f.prefilled:
            sheet.cell(rows[-1], cols[f.key]).value = None
    time.sleep(1.1)            # a later save: the workbook's own save time orders returns
    second = county.root / "second.xlsx"
    book.save(second)
    outcome = process_file(county, second)
    assert outcome.status == "accepted"
    assert [p["id_number"] for p in outcome.withdrawn["persons"]] == [dropped]
    assert "移出登记名单" in openpyxl.load_workbook(outcome.receipt, read_only=True).sheetnames
    assert county.store.figures(county.region.code).region.registered == 3
    history = county.store.history(dropped)
    assert len(history) == 1 and not history[0]["current"]


def test_an_older_return_does_not_overwrite_a_newer_one(county: Workspace, county_roster: Roster) -> None:
    village, persons = _village(county_roster)
    older, newer = county.root / "older.xlsx", county.root / "newer.xlsx"
    fill_like_staff(template_of(county, village), older, persons, visit=2)
    time.sleep(1.1)
    fill_like_staff(template_of(county, village), newer, persons, visit=5)
    assert process_file(county, newer).status == "accepted"
    late = process_file(county, older)
    assert late.status == "stale"
    assert late.newer is not None and late.newer[1] == "newer.xlsx"
    figures = county.store.figures(county.region.code)
    assert figures.region.registered == 5
    assert figures.files["received"] == 2


def test_county_export_rolls_up_into_the_city(tmp_path: Path, county: Workspace, county_roster: Roster) -> None:
    village, persons = _village(county_roster)
    fill_like_staff(template_of(county, village), county.inbox / "v.xlsx", persons, visit=6,
                    edit=lambda sheet, cols: sheet.cell(4, cols["handler"]).__setattr__("value", None))
    process_file(county, county.inbox / "v.xlsx")
    county_status = county.store.figures(county.region.code).status_json()["region"]

    city = Workspace(tmp_path / "city")
    city.init("340600")
    for path in sorted((county.workbooks / "演示名册").glob("*.xlsx")):
        import_roster(city, path)
    first_export = export(county)
    assert process_file(city, first_export).status == "accepted"
    (row,) = [r for r in city.store.figures("340600").status_json()["regions"] if r["code"] == county.region.code]
    assert row["persons"] == county_status["persons"]
    assert row["units"] == county_status["units"]

    # A later export supersedes the earlier one; nothing is counted twice.
    second_village = sorted({p["region_code"] for p in county_roster.persons} - {village})[0]
    others = [p for p in county_roster.persons if p["region_code"] == second_village]
    fill_like_staff(template_of(county, second_village), county.inbox / "w.xlsx", others, visit=2)
    process_file(county, county.inbox / "w.xlsx")
    time.sleep(1.1)
    later = export(county)
    assert process_file(city, later).status == "accepted"
    (row,) = [r for r in city.store.figures("340600").status_json()["regions"] if r["code"] == county.region.code]
    assert row["persons"] == county.store.figures(county.region.code).status_json()["region"]["persons"]
    assert city.store.figures("340600").region.registered == county.store.figures(county.region.code).region.registered
    city.close()


def test_a_fresh_copy_with_a_few_visits_keeps_the_earlier_registrations(
        county: Workspace, county_roster: Roster, monkeypatch: pytest.MonkeyPatch) -> None:
    """Staff who type today's visits on a new copy of the template, instead of the file they
    sent before, must not un-register the village: the copy leaves out more than it keeps
    (and more than FRESH_COPY_ROWS, 20, lowered here for the test county's small villages)."""
    monkeypatch.setattr(engine.pipeline, "FRESH_COPY_ROWS", 3)
    village, persons = _village(county_roster)
    first = county.root / "first.xlsx"
    fill_like_staff(template_of(county, village), first, persons, visit=8)
    assert process_file(county, first).status == "accepted"
    time.sleep(1.1)
    fresh = county.root / "fresh.xlsx"
    fill_like_staff(template_of(county, village), fresh, persons, visit=2, seed=2)
    outcome = process_file(county, fresh)
    assert outcome.withdrawn == {} and outcome.kept == {"persons": 6}
    assert county.store.figures(county.region.code).region.registered == 8
    assert outcome.receipt is not None
    lines = {row[0]: row[1] for row in openpyxl.load_workbook(outcome.receipt)["回执"].iter_rows(values_only=True)
             if row and row[0]}
    assert str(lines["本次未包含、仍保留登记"]).startswith("6（")


def test_an_empty_template_sent_by_mistake_withdraws_nothing(county: Workspace, county_roster: Roster) -> None:
    import shutil

    from engine.problems import BY_NAME

    village, persons = _village(county_roster)
    filled = county.root / "filled.xlsx"
    fill_like_staff(template_of(county, village), filled, persons, visit=3)
    assert process_file(county, filled).status == "accepted"
    time.sleep(1.1)
    blank = county.root / "blank.xlsx"
    shutil.copy(template_of(county, village), blank)
    blank.touch()
    outcome = process_file(county, blank)
    assert outcome.status == "rejected"
    assert [p.rule for p in outcome.problems] == [BY_NAME["empty"].code]
    assert county.store.figures(county.region.code).region.registered == 3


def test_a_templates_earlier_records_are_found_through_an_index(county: Workspace, county_roster: Roster) -> None:
    """Every return of a template looks up its earlier records (`Store.template_keys`): by an
    index, not a scan of every record, which made each file of a city's flood slower."""
    village, persons = _village(county_roster)
    first = county.root / "first.xlsx"
    fill_like_staff(template_of(county, village), first, persons, visit=2)
    outcome = process_file(county, first)
    assert outcome.identity is not None
    template = outcome.identity.template_id
    store = county.store
    queries: list[str] = []
    store.db.set_trace_callback(queries.append)
    try:
        found = {kind: store.template_keys(kind, template) for kind in ("persons", "units")}
    finally:
        store.db.set_trace_callback(None)
    assert len(found["persons"]) == 2
    assert len(queries) == 2
    for query in queries:     # the query as run, the template's id written in by the trace
        plan = " ".join(str(step[-1]) for step in store.db.execute(f"EXPLAIN QUERY PLAN {query}"))
        assert "USING INDEX" in plan and "_template" in plan, plan
