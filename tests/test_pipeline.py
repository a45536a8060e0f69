"""Checks across rows and against the roster and the store, on real workbooks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest

from engine.demo_data import Roster
from engine.pipeline import process_file
from engine.problems import BY_NAME
from engine.workspace import Workspace
from tests.conftest import (
    assert_problem_rows_point_into_the_receipt,
    busiest_village,
    fill_like_staff,
    template_of,
)


def _rules(outcome) -> dict[str, list[int]]:  # type: ignore[no-untyped-def]
    out: dict[str, list[int]] = {}
    for p in outcome.problems:
        out.setdefault(p.rule, []).append(p.row)
    return out


@pytest.mark.parametrize("roster_scan_rows", [1, 10**9], ids=["roster read whole", "roster looked up by ID"])
def test_roster_reconciliation_duplicates_and_region(county: Workspace, county_roster: Roster, roster_scan_rows: int,
                                                     monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import engine.pipeline

    monkeypatch.setattr(engine.pipeline, "ROSTER_SCAN_ROWS", roster_scan_rows)
    village = busiest_village(county_roster)
    persons = [p for p in county_roster.persons if p["region_code"] == village]
    stranger = "34060219900101002"
    from engine.identifiers import check_digit

    stranger += check_digit(stranger)
    edits: dict[str, int] = {}

    def edit(sheet, cols) -> None:  # type: ignore[no-untyped-def]
        filled = [r for r in range(4, sheet.max_row + 1) if sheet.cell(r, cols["handler"]).value]
        sheet.cell(filled[0], cols["name"]).value = "改名字"                     # differs from roster
        edits["renamed"] = filled[0]
        blank = [r for r in range(4, sheet.max_row + 3) if not sheet.cell(r, cols["id_number"]).value]
        for row, number in ((blank[0], stranger), (blank[1], stranger)):      # new person, entered twice
            for col, value in cols.items():
                source = sheet.cell(filled[1], value).value
                if source is not None and col not in ("person_no", "id_number", "name", "sex", "birth_date"):
                    sheet.cell(row, value).value = source
            sheet.cell(row, cols["id_number"]).value = number
            sheet.cell(row, cols["name"]).value = "新来的"
            sheet.cell(row, cols["sex"]).value = "2 女"
        edits["new"], edits["again"] = blank[0], blank[1]

    fill_like_staff(template_of(county, village), county.inbox / "r.xlsx", persons, visit=4, edit=edit)
    outcome = process_file(county, county.inbox / "r.xlsx")
    rules = _rules(outcome)
    assert rules[BY_NAME["name_differs"].code] == [edits["renamed"]]
    assert rules[BY_NAME["not_on_roster"].code] == [edits["new"]]
    assert rules[BY_NAME["duplicate_in_file"].code] == [edits["again"]]
    assert outcome.count("persons", "new") == 1
    assert county.store.figures(county.region.code).region.new == 1


def test_a_workbook_of_another_county_is_refused(county: Workspace, county_roster: Roster) -> None:
    from engine.templates import write_village_workbook
    from engine.workbook import Identity

    foreign = county.inbox / "other-county.xlsx"
    write_village_workbook(foreign, "340621100001", Identity(kind="template", template_id="CB-340621100001",
                                                            region_code="340621100001"),
                           [], [], blank_persons=1, blank_units=1)
    outcome = process_file(county, foreign)
    assert outcome.status == "rejected"
    assert [p.rule for p in outcome.problems] == [BY_NAME["region_not_ours"].code]
    assert outcome.receipt is not None and outcome.receipt.exists()


def test_check_does_not_merge(county: Workspace, county_roster: Roster) -> None:
    village = busiest_village(county_roster)
    persons = [p for p in county_roster.persons if p["region_code"] == village]
    target = county.root / "draft.xlsx"
    fill_like_staff(template_of(county, village), target, persons, visit=3)
    outcome = process_file(county, target, merge=False)
    assert outcome.status == "checked" and outcome.receipt is not None
    assert "检查" in outcome.receipt.name
    assert county.store.figures(county.region.code).region.registered == 0
    assert target.exists()
    # Its receipt and its line in the terminal count who would be registered, not who was.
    from engine.console import outcome_line
    from engine.receipt import COUNT_WORDS

    lines = {r[0]: r[1] for r in openpyxl.load_workbook(outcome.receipt)["回执"].iter_rows(values_only=True) if r[0]}
    taken, returned = COUNT_WORDS[True]
    assert lines[f"{taken}人员"] == 3 and lines[f"{returned}人员"] == 0 and "已登记人员" not in lines
    assert "可登记 3 人" in outcome_line(outcome) and "登记 3 人" not in outcome_line(outcome).replace("可登记", "")


def test_a_bug_while_processing_yields_a_receipt_and_keeps_the_file(
        county: Workspace, county_roster: Roster, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import engine.pipeline

    village = busiest_village(county_roster)
    persons = [p for p in county_roster.persons if p["region_code"] == village]
    dropped = county.inbox / "r.xlsx"
    fill_like_staff(template_of(county, village), dropped, persons, visit=2)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("34062119800101123X")   # a message that quotes a cell

    monkeypatch.setattr(engine.pipeline, "_check_sheet", broken)
    from engine.watching import ingest_files

    (outcome,) = ingest_files(county, [dropped])
    assert outcome.status == "rejected"
    assert [p.rule for p in outcome.problems] == [BY_NAME["internal_error"].code]
    assert outcome.receipt is not None and outcome.receipt.exists()
    assert not dropped.exists() and (county.unreadable / "r.xlsx").exists()
    assert any(county.archive.rglob("*r.xlsx"))
    log = (county.workbooks / "canbao.log").read_text(encoding="utf-8")
    assert "RuntimeError" in log and "34062119800101123X" not in log


def test_a_roster_person_written_with_an_old_15_digit_id_is_still_on_the_roster(
        county: Workspace, county_roster: Roster) -> None:
    from engine.form import PERSONS

    person = next(p for p in county_roster.persons if p["id_number"][6:8] == "19")
    legacy = person["id_number"][:6] + person["id_number"][8:17]
    values = {"id_number": legacy, "name": person["name"], "sex": person["sex"], "hukou_type": "20",
              "employment": "3", "identity": "70", "hukou_province": "安徽省", "hukou_city": "淮北市",
              "hukou_county": "杜集区", "home_province": "安徽省", "home_city": "淮北市", "home_county": "杜集区",
              "home_street": "1号", "mobile": "13912345678", "pension": "12", "handler": "甲", "reviewer": "乙",
              "region_code": person["region_code"]}
    fields = [f for f in PERSONS.fields if f.key in values]
    path = county.root / "foreign.csv"
    path.write_text(",".join(f.label for f in fields) + "\n" + ",".join(values[f.key] for f in fields) + "\n",
                    encoding="utf-8")
    outcome = process_file(county, path)
    assert [p.rule for p in outcome.problems] == [BY_NAME["id_legacy"].code]
    assert outcome.count("persons", "new") == 0 and outcome.count("persons", "accepted") == 1


def _receipt_cells(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every sheet's values and comments, without the times of receiving and writing."""
    book = openpyxl.load_workbook(path)
    cells = {ws.title: [tuple((c.value, c.comment.text if c.comment else None) for c in row) for row in ws.iter_rows()]
             for ws in book.worksheets}
    cells["_canbao"] = [r for r in cells["_canbao"] if r[0][0] != "generated_at"]
    cells["回执"] = [r for r in cells["回执"] if r[0][0] != "收到时间"]
    return cells


def _return_with_mistakes(county: Workspace, county_roster: Roster, name: str) -> Path:
    village = busiest_village(county_roster)
    persons = [p for p in county_roster.persons if p["region_code"] == village]

    def edit(sheet, cols) -> None:  # type: ignore[no-untyped-def]
        sheet.cell(4, cols["pension"]).value = "99"        # not a code
        sheet.cell(5, cols["mobile"]).value = "1381234"    # too short
        sheet.cell(6, cols["name"]).value = "改名字"        # differs from the roster (a warning)

    fill_like_staff(template_of(county, village), county.inbox / name, persons, visit=8, edit=edit)
    return county.inbox / name


def _county_export(path: Path, persons: list[dict[str, str]], units: list[dict[str, str]] | None = None) -> Path:
    """A county's export of these persons and units (units' sheet first when there are units)."""
    from engine.form import PERSONS, UNITS
    from engine.workbook import FormWorkbook, Identity, SheetRow, region_values
    from tests.conftest import COUNTY

    book = FormWorkbook(path, Identity(kind="export", template_id=f"CB-EXPORT-{COUNTY}", region_code=COUNTY,
                                       level="county"), protect=False)
    if units:
        book.add_form_sheet(UNITS, (SheetRow(u) for u in units), title="单位", derived=True)
    book.add_form_sheet(PERSONS, (SheetRow({**region_values(p["region_code"]), **p}) for p in persons),
                        title="人员", derived=True)
    book.close()
    return path


def test_a_large_files_receipt_is_written_by_a_helper_process_and_is_the_same(
        county: Workspace, county_roster: Roster, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import engine.pipeline

    path = _return_with_mistakes(county, county_roster, "r.xlsx")
    county.close()
    twin = Workspace(tmp_path / "twin")
    shutil.copytree(county.root, twin.root)
    here = process_file(twin, twin.inbox / "r.xlsx")                       # small: written in this process
    monkeypatch.setattr(engine.pipeline, "HELPER_ROWS", 1)                  # as a county's file
    helped = process_file(county, path)
    assert helped.status == here.status == "partial"
    assert helped.receipt is not None and here.receipt is not None
    assert helped.receipt.relative_to(county.root) == here.receipt.relative_to(twin.root)
    assert _receipt_cells(helped.receipt) == _receipt_cells(here.receipt)
    (record,) = county.store.files()
    assert record.receipt_path == str(helped.receipt.relative_to(county.root))
    assert record.accepted == here.count("persons", "accepted") + here.count("units", "accepted") > 0


def test_when_the_receipt_cannot_be_written_nothing_is_merged(
        county: Workspace, county_roster: Roster, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import engine.pipeline
    from engine.pipeline import Outcome, sha256_of
    from engine.receipt import receipt_path

    path = _return_with_mistakes(county, county_roster, "r.xlsx")
    village = busiest_village(county_roster)
    receipt_path(county, Outcome(path, sha256_of(path), "partial", "", village=village)).mkdir(parents=True)
    monkeypatch.setattr(engine.pipeline, "HELPER_ROWS", 1)
    outcome = process_file(county, path)
    assert [p.rule for p in outcome.problems] == [BY_NAME["internal_error"].code]
    assert county.store.files() == [] and county.store.figures(county.region.code).region.registered == 0
    assert outcome.receipt is not None and outcome.receipt.is_file()


def test_a_helper_process_ends_when_its_parent_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(
        "import time\nfrom engine.parallel import Helper\n"
        "if __name__ == '__main__':\n"
        "    helper = Helper()\n    helper.submit(time.sleep, 600)\n    print(helper.pid, flush=True)\n"
        "    time.sleep(600)\n", encoding="utf-8")
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).parent.parent)
    assert parent.stdout is not None
    pid = int(parent.stdout.readline())
    os.kill(pid, 0)                                      # the helper runs its job
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.05)
    assert not _alive(pid)


def test_a_job_that_cannot_be_pickled_fails_at_once_and_the_helper_works_on() -> None:
    import pickle

    from engine.parallel import Helper

    helper = Helper()
    try:
        with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
            helper.submit(len, lambda: None)          # a local function cannot be pickled
        helper.submit(len, "x" * 1_000_000)          # larger than a pipe holds: written by the thread
        helper.submit(len, "abc")
        assert helper.result() == 3
    finally:
        helper.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:    # a zombie waits for init: it is gone
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


def test_a_countys_receipt_written_while_its_rows_are_checked_is_the_same(
        county: Workspace, county_roster: Roster, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A county's export: its receipt is written by the helper a chunk of rows at a time,
    while the rows are being checked, and is the receipt written in one go, cell by cell."""
    import random

    import engine.pipeline
    from engine.demo_data import simulate_return
    from tests.conftest import COUNTY

    filled = simulate_return(county_roster.persons[:600], county_roster.units[:40], random.Random(3))
    filled.units[3]["unit_type"] = "甲乙"                  # not a code: the units' sheet has a problem too
    path = _county_export(tmp_path / "export.xlsx", filled.persons, filled.units)     # units first in the file
    county.close()
    twin = Workspace(tmp_path / "twin")
    shutil.copytree(county.root, twin.root)
    here = process_file(twin, path)                                          # small: written in this process
    monkeypatch.setattr(engine.pipeline, "HELPER_ROWS", 1)                   # as a county's file
    monkeypatch.setattr(engine.pipeline, "CHUNK_ROWS", 11)
    begun: list[Path | None] = []
    begin = engine.pipeline._begin_streamed
    monkeypatch.setattr(engine.pipeline, "_begin_streamed", lambda *a: begun.append(begin(*a)) or begun[-1])
    helped = process_file(county, path)
    assert begun == [helped.receipt] and helped.receipt is not None and here.receipt is not None
    assert helped.status == here.status == "partial"
    returned = [c for s in helped.sheets for _, c, _ in s.rows if c.problems]
    assert len({c.row // 11 for c in returned}) > 5 and {s.form.kind for s in helped.sheets} == {"persons", "units"}
    assert helped.receipt.relative_to(county.root) == here.receipt.relative_to(twin.root)
    cells = _receipt_cells(helped.receipt)
    assert cells == _receipt_cells(here.receipt)
    assert list(cells)[:2] == ["回执", "问题清单"] and list(cells).index("人员登记") < list(cells).index("单位登记")
    assert_problem_rows_point_into_the_receipt(helped)
    assert county.store.figures(COUNTY).region.registered == twin.store.figures(COUNTY).region.registered > 0
    # Exported again without five persons: it withdraws them, so its receipt waits for the rows.
    later = process_file(county, _county_export(tmp_path / "again.xlsx", filled.persons[5:]))
    assert begun == [helped.receipt] and later.receipt is not None and len(later.withdrawn["persons"]) >= 1
    assert list(_receipt_cells(later.receipt))[:4] == ["回执", "问题清单", "移出登记名单", "人员登记"]


def test_a_failure_while_a_receipt_is_streamed_merges_nothing(
        county: Workspace, county_roster: Roster, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import random

    import engine.pipeline
    from engine.demo_data import simulate_return

    filled = simulate_return(county_roster.persons[:300], [], random.Random(5))
    path = _county_export(tmp_path / "export.xlsx", filled.persons)
    monkeypatch.setattr(engine.pipeline, "HELPER_ROWS", 1)
    monkeypatch.setattr(engine.pipeline, "CHUNK_ROWS", 50)
    run = engine.pipeline._CrossChecks.run
    chunks: list[int] = []

    def third_fails(self, started, result):  # type: ignore[no-untyped-def]
        chunks.append(len(started))
        if len(chunks) == 3:          # the helper has two chunks' rows by now
            raise RuntimeError("a bug")
        return run(self, started, result)

    monkeypatch.setattr(engine.pipeline._CrossChecks, "run", third_fails)
    outcome = process_file(county, path)
    assert len(chunks) == 3
    assert [p.rule for p in outcome.problems] == [BY_NAME["internal_error"].code]
    assert county.store.files() == [] and county.store.figures(county.region.code).region.registered == 0
    assert outcome.receipt is not None and outcome.receipt.is_file()
    assert [p.name for p in outcome.receipt.parent.iterdir()] == [outcome.receipt.name]   # nothing half-written



def test_a_large_file_only_checked_has_its_receipt_written_while_it_is_checked(
        county: Workspace, county_roster: Roster, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """`canbao check` of a county's export: the helper writes the receipt as the rows are
    checked, the same receipt as one written in one go, and nothing is merged."""
    import random

    import engine.pipeline
    from engine.demo_data import simulate_return

    filled = simulate_return(county_roster.persons[:400], county_roster.units[:30], random.Random(7))
    path = _county_export(tmp_path / "export.xlsx", filled.persons, filled.units)
    here = process_file(county, path, merge=False)                           # small: written in this process
    assert here.receipt is not None
    expected = _receipt_cells(here.receipt)
    monkeypatch.setattr(engine.pipeline, "HELPER_ROWS", 1)                   # as a county's file
    monkeypatch.setattr(engine.pipeline, "CHUNK_ROWS", 50)
    begun: list[Path | None] = []
    begin = engine.pipeline._begin_streamed
    monkeypatch.setattr(engine.pipeline, "_begin_streamed", lambda *a: begun.append(begin(*a)) or begun[-1])
    helped = process_file(county, path, merge=False)
    assert helped.status == "checked" and begun == [helped.receipt] == [here.receipt]
    assert any(c.problems for s in helped.sheets for _, c, _ in s.rows)
    assert _receipt_cells(helped.receipt) == expected
    assert county.store.files() == [] and county.store.figures(county.region.code).region.registered == 0
