"""A county and a city through a season: village returns, a correction through the receipt,
a file sent twice, a person returned by two villages, two exports, a village writing to the
city directly, and a crash in the middle. The city's final figures equal an independent
count of the rows the villages filled, and the county's own status."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl

from engine.demo_data import Roster
from engine.export import export
from engine.form import PERSONS
from engine.pipeline import process_file
from engine.roster import import_roster
from engine.workspace import Workspace
from tests.conftest import fill_like_staff, header_columns, template_of


def _filled_ids(path: Path) -> set[str]:
    """The IDs of the rows staff filled, read from the workbook itself (no engine code)."""
    sheet = openpyxl.load_workbook(path, read_only=True)[PERSONS.sheet]
    rows = list(sheet.iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if "公民身份号码" in r)
    id_col, handler_col = rows[header].index("公民身份号码"), rows[header].index("经办人")
    return {str(r[id_col]) for r in rows[header + 1:] if len(r) > handler_col and r[handler_col]}


def test_a_season(tmp_path: Path, county: Workspace, county_roster: Roster) -> None:
    people: dict[str, list[dict[str, str]]] = {}
    for p in county_roster.persons:
        people.setdefault(p["region_code"], []).append(p)
    villages = sorted(people, key=lambda v: (-len(people[v]), v))      # the larger villages first
    a, b, c, d, e, f, g = villages[:7]
    filled: set[str] = set()

    def send(village: str, name: str, ws: Workspace = county, **kw: object) -> Path:
        path = ws.inbox / name
        fill_like_staff(template_of(county, village), path, people[village], visit=len(people[village]), **kw)
        filled.update(_filled_ids(path))
        return path

    city = Workspace(tmp_path / "city")
    city.init("340600")
    for roster_file in sorted((county.workbooks / "演示名册").glob("*.xlsx")):
        import_roster(city, roster_file)

    # Village A makes a mistake, gets a receipt, corrects it in place and sends it back.
    def wrong_pension(sheet, cols) -> None:  # type: ignore[no-untyped-def]
        sheet.cell(4, cols["pension"]).value = "16"
        sheet.cell(4, cols["uninsured_reason"]).value = None

    first = process_file(county, send(a, "a.xlsx", edit=wrong_pension))
    assert first.status == "partial" and first.receipt is not None
    receipt = openpyxl.load_workbook(first.receipt)
    sheet = receipt[PERSONS.sheet]
    cols = header_columns(sheet)
    bad = next(r for r in range(4, sheet.max_row + 1) if sheet.cell(r, cols["pension"]).value == "16")
    sheet.cell(bad, cols["pension"]).value = "12 城乡居民基本养老保险（含城居保和新农保）"
    receipt.save(county.inbox / "a-corrected.xlsx")
    corrected = process_file(county, county.inbox / "a-corrected.xlsx")
    assert corrected.status == "accepted", [(p.row, p.rule, p.value) for p in corrected.problems]

    # Village B sends the same file twice.
    b_file = send(b, "b.xlsx")
    shutil.copy(b_file, county.inbox / "b-again.xlsx")
    assert process_file(county, b_file).status == "accepted"
    assert process_file(county, county.inbox / "b-again.xlsx").status == "duplicate"

    # Village C returns one of A's persons too: a conflict, the first registration stays.
    moved = people[a][0]

    def add_moved(sheet, cols) -> None:  # type: ignore[no-untyped-def]
        row = sheet.max_row + 1
        for key, value in moved.items():
            if key in cols:
                sheet.cell(row, cols[key]).value = value
        for key, value in (("employment", "3"), ("pension", "12"), ("mobile", "13912345678"), ("handler", "甲"),
                           ("reviewer", "乙"), ("hukou_type", "20"), ("identity", "27")):
            sheet.cell(row, cols[key]).value = value

    assert process_file(county, send(c, "c.xlsx", edit=add_moved)).count("persons", "returned") == 1

    # First export up to the city.
    assert process_file(city, export(county)).status == "accepted"

    # Villages D and E arrive while the county's PC is switched off mid-way; then restarted.
    send(d, "d.xlsx")
    send(e, "e.xlsx")
    cli = [sys.executable, "-m", "engine.cli", "ingest", str(county.inbox / "d.xlsx"), str(county.inbox / "e.xlsx"),
           "-w", str(county.root)]
    county.close()
    proc = subprocess.Popen(cli, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not any(county.archive.rglob("*d.xlsx")) and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    left = [str(p) for p in county.inbox.glob("*.xlsx")]
    if left:
        subprocess.run([*cli[:4], *left, *cli[-2:]], check=False, capture_output=True, timeout=300)

    # Village F writes to the city directly, and to the county too: both paths, one person each.
    f_file = send(f, "f.xlsx")
    shutil.copy(f_file, city.inbox / "f.xlsx")
    assert process_file(county, f_file).status == "accepted"
    assert process_file(city, city.inbox / "f.xlsx").status == "accepted"

    # An older copy of G arrives after a newer one: it does not overwrite.
    g_old = send(g, "g-old.xlsx")
    time.sleep(1.1)
    g_new = send(g, "g-new.xlsx")
    assert process_file(county, g_new).status == "accepted"
    assert process_file(county, g_old).status == "stale"

    # Second export supersedes the first.
    time.sleep(1.1)
    assert process_file(city, export(county)).status == "accepted"

    county_status = county.store.figures(county.region.code).status_json()["region"]
    (city_row,) = [r for r in city.store.figures("340600").status_json()["regions"] if r["code"] == county.region.code]
    assert city_row["persons"] == county_status["persons"]
    assert city_row["persons"]["registered"] == len(filled), "every filled row, counted once"
    assert city_row["persons"]["returned"] == 0
    assert len(county.store.conflicts()) == 1
    city.close()
