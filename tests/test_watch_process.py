"""`canbao watch` as an office runs it: a separate process on a real folder, files written
slowly, renamed in, temp and lock files beside them, a kill and a restart. The end state
equals `canbao ingest` of the same files."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from engine.cli import main
from engine.demo_data import Roster
from engine.workspace import Workspace
from tests.conftest import fill_like_staff, template_of


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
