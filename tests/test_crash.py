"""Kill the engine (SIGKILL, in a subprocess) at many points of an ingest, restart it, and
show that the store, the archive and the outbox end exactly as after an uninterrupted run."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from engine.demo_data import Roster
from engine.workspace import Workspace
from tests.conftest import fill_like_staff, template_of

KILL_POINTS = 8


def _ingest(ws: Path) -> subprocess.Popen[bytes]:
    files = sorted(str(p) for p in (ws / "inbox").iterdir() if p.suffix == ".xlsx")
    return subprocess.Popen([sys.executable, "-m", "engine.cli", "ingest", *files, "-w", str(ws)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _state(ws: Path) -> dict[str, Any]:
    db = sqlite3.connect(ws / "workbooks" / "canbao.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    columns = [r[1] for r in db.execute("PRAGMA table_info(persons)") if r[1] not in ("first_seen", "updated_at")]
    state = {
        "persons": sorted(db.execute(f"SELECT {', '.join(columns)} FROM persons").fetchall(), key=str),
        "versions": db.execute("SELECT COUNT(*) FROM person_versions").fetchone()[0],
        "pending": sorted(db.execute("SELECT kind, template_id, row_key FROM pending").fetchall()),
        "files": sorted(db.execute("SELECT sha256, name, status, rows_read, accepted, returned, warnings, "
                                   "new_persons, receipt_path FROM files").fetchall()),
        "archive": sorted(p.name for p in (ws / "workbooks" / "archive").rglob("*") if p.is_file()),
        "outbox": sorted(str(p.relative_to(ws)) for p in (ws / "outbox").rglob("*") if p.is_file()),
        "inbox": sorted(p.name for p in (ws / "inbox").iterdir() if p.name not in (".gitignore", "README.md")),
    }
    db.close()
    for path in (ws / "outbox").rglob("*.xlsx"):
        openpyxl.load_workbook(path, read_only=True).close()   # no truncated workbook
    return state


@pytest.fixture
def prepared(tmp_path: Path, county: Workspace, county_roster: Roster) -> Path:
    """A county workspace with four village returns waiting in its inbox."""
    villages = sorted({p["region_code"] for p in county_roster.persons})[:4]
    for i, village in enumerate(villages):
        persons = [p for p in county_roster.persons if p["region_code"] == village]
        edit = (lambda sheet, cols: sheet.cell(4, cols["pension"]).__setattr__("value", "99")) if i % 2 else None
        fill_like_staff(template_of(county, village), county.inbox / f"{village}.xlsx", persons,
                        visit=len(persons), edit=edit)
    county.close()
    return county.root


def _archived(ws: Path) -> int:
    return sum(1 for p in (ws / "workbooks" / "archive").rglob("*.xlsx"))


def _wait_for_work(ws: Path, proc: subprocess.Popen[bytes]) -> float:
    """Wait until the run has archived its first file (the imports are over); return the time."""
    deadline = time.perf_counter() + 120
    while _archived(ws) == 0 and proc.poll() is None and time.perf_counter() < deadline:
        time.sleep(0.005)
    return time.perf_counter()


def test_killed_at_any_point_the_restart_ends_as_an_uninterrupted_run(tmp_path: Path, prepared: Path) -> None:
    reference = tmp_path / "reference"
    shutil.copytree(prepared, reference)
    proc = _ingest(reference)
    began = _wait_for_work(reference, proc)
    assert proc.wait(timeout=300) in (0, 1)
    work = time.perf_counter() - began          # the processing of the four files, imports excluded
    expected = _state(reference)
    assert expected["inbox"] == [] and len(expected["files"]) == 4

    partial = 0
    for n in range(KILL_POINTS):
        run = tmp_path / f"killed-{n}"
        shutil.copytree(prepared, run)
        proc = _ingest(run)
        if n:   # the first run dies while starting up; the others after the k-th file is archived
            files_in = 1 + (n - 1) % 4
            deadline = time.perf_counter() + 120
            while _archived(run) < files_in and proc.poll() is None and time.perf_counter() < deadline:
                time.sleep(0.002)
            time.sleep(work / 8 * ((n - 1) // 4))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        left = [p for p in (run / "inbox").iterdir() if p.suffix == ".xlsx"]
        partial += 0 < len(left) < 4
        if left:
            assert _ingest(run).wait(timeout=300) in (0, 1)
        assert _state(run) == expected, f"killed at point {n} of {KILL_POINTS}"
    assert partial >= 2, "kills after the first archived files leave the rest waiting in the inbox"

@pytest.mark.parametrize("command", [["export"], ["report"]])
def test_a_killed_export_or_report_leaves_no_truncated_workbook(tmp_path: Path, prepared: Path,
                                                                 command: list[str]) -> None:
    assert _ingest(prepared).wait(timeout=300) in (0, 1)
    cli = [sys.executable, "-m", "engine.cli", *command, "-w", str(prepared)]
    start = time.perf_counter()
    subprocess.run(cli, check=True, capture_output=True)
    duration = time.perf_counter() - start
    for n in range(5):
        proc = subprocess.Popen(cli, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(duration * (n + 0.5) / 5)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        for path in (prepared / "outbox").rglob("*.xlsx"):
            openpyxl.load_workbook(path, read_only=True).close()    # every visible workbook is whole
    subprocess.run(cli, check=True, capture_output=True)           # and the next run just works
    _state(prepared)
