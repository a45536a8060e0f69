"""`canbao watch` as an office runs it: a separate process on a real folder, files written
slowly, renamed in, temp and lock files beside them, a kill and a restart, every village
of the city dropped at once. The end state equals `canbao ingest` of the same files."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from engine.cli import main
from engine.demo import _simulate_returns, _write_rosters
from engine.demo_data import Roster, make_roster
from engine.reports import Refresh
from engine.roster import import_roster
from engine.visit_lists import FOLDER, write_visit_lists
from engine.workspace import Workspace
from tests.conftest import busiest_village, fill_like_staff, template_of


def _watch(ws: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "engine.cli", "watch", "-w", str(ws)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _receipts(ws: Path) -> int:
    return sum(1 for _ in (ws / "outbox" / "回执").rglob("*.xlsx"))


def _wait(predicate, seconds: float = 90) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _status(ws: Path) -> dict:  # type: ignore[type-arg]
    result = CliRunner().invoke(main, ["status", "--json", "-w", str(ws)])
    assert result.exit_code == 0
    return json.loads(result.output)  # type: ignore[no-any-return]


def test_watch_process_survives_slow_writes_temp_files_and_a_kill(
        tmp_path: Path, county: Workspace, county_roster: Roster) -> None:
    villages = sorted({p["region_code"] for p in county_roster.persons})[:6]
    staged = tmp_path / "staged"
    staged.mkdir()
    for village in villages:
        persons = [p for p in county_roster.persons if p["region_code"] == village]
        fill_like_staff(template_of(county, village), staged / f"{village}.xlsx", persons, visit=len(persons))
    county.close()
    reference = tmp_path / "reference"
    shutil.copytree(county.root, reference)
    assert CliRunner().invoke(main, ["ingest", *map(str, sorted(staged.glob("*.xlsx"))), "-w", str(reference)]
                              ).exit_code in (0, 1)

    ws = county.root
    inbox = ws / "inbox"
    watcher = _watch(ws)
    files = sorted(staged.glob("*.xlsx"))
    # 1. written slowly, in chunks, as a mail client saves an attachment
    data = files[0].read_bytes()
    with (inbox / files[0].name).open("wb") as f:
        for i in range(0, len(data), len(data) // 5 + 1):
            f.write(data[i:i + len(data) // 5 + 1])
            f.flush()
            time.sleep(0.3)
    # 2. renamed in from elsewhere on the same disk; 3. temp and lock files beside it
    shutil.copy(files[1], tmp_path / files[1].name)
    os.replace(tmp_path / files[1].name, inbox / files[1].name)
    for name in ("~$" + files[2].name, ".~lock." + files[2].name + "#", "x.tmp", "Thumbs.db"):
        (inbox / name).write_bytes(b"\0" * 100)
    assert _wait(lambda: _receipts(ws) >= 2)
    # 4. killed, files dropped while it is down, restarted
    watcher.send_signal(signal.SIGKILL)
    watcher.wait(timeout=30)
    for path in files[2:]:
        shutil.copy(path, inbox / path.name)
    watcher = _watch(ws)
    try:
        assert _wait(lambda: not any(p.name in {f.name for f in files} for p in inbox.iterdir()), 120)
        assert _wait(lambda: _status(ws)["files"]["received"] == len(files), 30)
    finally:
        watcher.send_signal(signal.SIGTERM)
        assert watcher.wait(timeout=30) == 0, "SIGTERM finishes the current file and exits cleanly"
    assert _status(ws) == _status(reference)
    assert sorted(p.name for p in inbox.iterdir()) == sorted(
        ["~$" + files[2].name, ".~lock." + files[2].name + "#", "x.tmp", "Thumbs.db"]), "temp files left alone"
    assert (ws / "outbox" / "汇总").exists() and any((ws / "outbox" / "汇总").glob("*.xlsx"))


def _refreshes(ws: Path) -> int:
    """Summary refreshes the watcher logged."""
    log = ws / "workbooks" / "canbao.log"
    return len(re.findall(r"summaries refreshed after", log.read_text(encoding="utf-8"))) if log.exists() else 0


def _city_returns(root: Path) -> tuple[Workspace, list[Path]]:
    """A city workspace with a tiny demo roster (every village holds a few persons) and one
    return per village, written as the demo writes them, kept outside the inbox."""
    ws = Workspace(root / "ws")
    ws.init("340600")
    roster = make_roster(scale=0.005, seed=3)
    for path in _write_rosters(ws, roster.persons, roster.units):
        import_roster(ws, path)
    _simulate_returns(ws, roster.persons, roster.units, 1.0, random.Random(3))
    staged = root / "staged"
    staged.mkdir()
    for path in ws.inbox.iterdir():
        if path.name.startswith("（重复"):
            path.unlink()   # the demo's deliberate duplicate
        else:
            shutil.move(path, staged / path.name)
    ws.close()
    return ws, sorted(staged.iterdir())


def test_every_village_of_the_city_dropped_at_once(tmp_path: Path) -> None:
    """452 village files land together in a running watcher: each is taken once, the summaries
    are refreshed a few times, not once per file, and the figures equal `canbao ingest`'s."""
    ws, files = _city_returns(tmp_path)
    assert len(files) == 452 and len({f.name for f in files}) == 452
    reference = tmp_path / "reference"
    shutil.copytree(ws.root, reference)
    ingest = subprocess.Popen([sys.executable, "-m", "engine.cli", "ingest", *map(str, files), "-w", str(reference)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    inbox = ws.inbox
    watcher = _watch(ws.root)
    try:
        assert _wait(lambda: "watching" in (ws.workbooks / "canbao.log").read_text(encoding="utf-8")
                     if (ws.workbooks / "canbao.log").exists() else False, 60)
        for path in files:
            shutil.copy(path, inbox / path.name)
        assert _wait(lambda: not any(inbox.iterdir()), 900), "every file leaves the inbox"
        assert _wait(lambda: _receipts(ws.root) >= len(files), 60)
        assert ingest.wait(timeout=900) in (0, 1)
    finally:
        watcher.send_signal(signal.SIGTERM)
        assert watcher.wait(timeout=300) == 0
        if ingest.poll() is None:
            ingest.kill()
    refreshes = _refreshes(ws.root)
    assert 1 <= refreshes <= 4, f"{refreshes} summary refreshes for one flood of files"
    assert "still-to-visit lists refreshed" in _log(ws.root)
    assert _lists(ws.root) == _lists(reference, write=True), "every village's list, none skipped"
    assert _receipts(ws.root) == _receipts(reference) == len(files)
    watched, ingested = _status(ws.root), _status(reference)
    assert watched["files"]["received"] == len(files)
    assert watched == ingested


def _lists(root: Path, *, write: bool = False) -> set[Path]:
    """The still-to-visit lists in the workspace's outbox (written there first with `write`)."""
    if write:
        ws = Workspace(root)
        write_visit_lists(ws)
        ws.close()
    folder = root / "outbox" / FOLDER
    return {path.relative_to(folder) for path in folder.rglob("*.xlsx")}


def test_lists_a_dropped_refresh_left_are_written_by_the_next(county: Workspace) -> None:
    """The watcher's refresh in steps: when it is dropped for a newer batch after one village's
    list, the next refresh writes the others too."""
    refresh = Refresh(county, group=1)
    steps = refresh.steps(None)
    next(steps)   # the summaries
    next(steps)   # one village's list
    steps.close()
    assert len(_lists(county.root)) == 1
    assert refresh.owes_lists
    for _ in refresh.steps(set()):
        pass
    assert not refresh.owes_lists
    written = _lists(county.root)
    assert len(written) > 1
    assert written == _lists(county.root, write=True)


def _log(ws: Path) -> str:
    path = ws / "workbooks" / "canbao.log"
    return path.read_text(encoding="utf-8") if path.exists() else ""


def test_one_watcher_per_workspace_and_a_signal_finishes_the_file(
        tmp_path: Path, county: Workspace, county_roster: Roster) -> None:
    """A second watcher, or an ingest, is refused in Chinese while one runs; Ctrl+C (SIGINT)
    in the middle of a file lets that file finish (archived, merged, receipt) before exiting."""
    village = busiest_village(county_roster)
    persons = [p for p in county_roster.persons if p["region_code"] == village]
    staged = tmp_path / f"{village}.xlsx"
    fill_like_staff(template_of(county, village), staged, persons, visit=len(persons))
    county.close()
    ws = county.root
    watcher = _watch(ws)
    try:
        assert _wait(lambda: "watching" in _log(ws), 60)
        for command in (["watch"], ["ingest", str(staged)]):
            second = subprocess.run([sys.executable, "-m", "engine.cli", *command, "-w", str(ws)],
                                    capture_output=True, timeout=120)
            said = (second.stdout + second.stderr).decode("utf-8")
            assert second.returncode == 2, said
            assert "另一个 canbao 程序" in said and "Traceback" not in said
        shutil.copy(staged, ws / "inbox" / staged.name)
        archive = ws / "workbooks" / "archive"
        assert _wait(lambda: any(archive.rglob(f"*{staged.name}")), 60), "processing started"
        watcher.send_signal(signal.SIGINT)
        assert watcher.wait(timeout=120) == 0
    finally:
        if watcher.poll() is None:
            watcher.kill()
    assert not (ws / "inbox" / staged.name).exists()
    assert _receipts(ws) == 1
    assert _status(ws)["files"]["received"] == 1
