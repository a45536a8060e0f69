"""The command line as a contract: help for every command, the README names them all,
`status --json` keeps its shape, exit codes, and the demo's figures at a small scale."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
from click.testing import CliRunner

from engine import regions
from engine.cli import main
from engine.demo_data import Roster
from engine.workspace import Workspace
from tests.conftest import busiest_village, fill_like_staff, template_of

README = Path(__file__).resolve().parents[1] / "README.md"


def _commands(group: click.Group, prefix: str = "") -> list[str]:
    out = []
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            out += _commands(cmd, f"{prefix}{name} ")
        else:
            out.append(f"{prefix}{name}")
    return out


def test_every_command_has_chinese_help_and_is_in_the_readme() -> None:
    readme = README.read_text(encoding="utf-8")
    for name in _commands(main):
        result = CliRunner().invoke(main, [*name.split(), "--help"])
        assert result.exit_code == 0, name
        assert re.search(r"[\u4e00-\u9fff]", result.output), name
        assert f"canbao {name}" in readme, f"README does not document `canbao {name}`"


def test_demo_status_json_shape_and_figures(city_demo: Path) -> None:
    from tests.conftest import DEMO_SCALE

    runner = CliRunner()
    ws = str(city_demo)
    status = runner.invoke(main, ["status", "--json", "-w", ws])
    assert status.exit_code == 0
    data = json.loads(status.output)
    assert set(data) == {"region", "regions", "files"}
    assert set(data["files"]) == {"received", "accepted", "rejected"}
    entry_keys = {"code", "name", "level", "persons", "units"}
    assert set(data["region"]) == entry_keys
    assert set(data["region"]["persons"]) == {"task", "registered", "returned", "new", "missing"}
    assert set(data["region"]["units"]) == {"task", "registered"}
    assert data["region"]["code"] == "340600" and data["region"]["level"] == "city"
    tasks = regions.notice_tasks()
    assert {r["code"]: r["persons"]["task"] for r in data["regions"]} == {
        code: max(1, round(persons * DEMO_SCALE)) for code, (persons, _) in tasks.items()}
    for r in data["regions"]:
        assert set(r) == entry_keys and r["level"] == "county"
        p = r["persons"]
        assert p["registered"] + p["missing"] <= p["task"]
    assert data["region"]["persons"]["task"] == sum(r["persons"]["task"] for r in data["regions"])
    assert data["files"]["received"] >= 1


def test_usage_errors_exit_2_in_chinese(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["status", "-w", str(tmp_path / "nothing")])
    assert result.exit_code == 2
    assert "canbao init" in result.output
    result = CliRunner().invoke(main, ["init", "--region", "999999", str(tmp_path / "x")])
    assert result.exit_code == 2 and "区划代码" in result.output


def test_rejected_input_exits_1(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    runner = CliRunner()
    assert runner.invoke(main, ["init", "--region", "340602", str(ws)]).exit_code == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    result = runner.invoke(main, ["ingest", str(bad), "-w", str(ws)])
    assert result.exit_code == 1
    assert "未登记" in result.output


def test_ingest_reports_each_file_once_it_is_done(tmp_path: Path) -> None:
    """`canbao ingest` of many files shows each one's line (and moves its progress bar) as that
    file is done, not all at the end: `ingest_files` calls back after each file."""
    from engine.watching import ingest_files
    from engine.workspace import Workspace

    ws = Workspace(tmp_path / "ws")
    ws.init("340602")
    files = []
    for n in range(3):
        files.append(tmp_path / f"bad{n}.csv")
        files[-1].write_text(f"a,b\n{n},2\n", encoding="utf-8")
    seen: list[tuple[str, int]] = []
    outcomes = ingest_files(ws, files, done=lambda o: seen.append((o.path.name, len(ws.store.files()))))
    assert seen == [("bad0.csv", 1), ("bad1.csv", 2), ("bad2.csv", 3)]
    assert [o.path for o in outcomes] == files
    for path in files:       # other bytes: new files, not "already received"
        path.write_text(path.read_text(encoding="utf-8") + "3,4\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["ingest", *map(str, files), "-w", str(ws.root)])
    assert [line.split("：")[0] for line in result.output.splitlines() if line.startswith("bad")] == \
        ["bad0.csv", "bad1.csv", "bad2.csv"]
    assert result.output.count("未登记") == 3


def test_backup_is_a_consistent_copy(tmp_path: Path, city_demo: Path) -> None:
    import sqlite3

    runner = CliRunner()
    ws = city_demo
    result = runner.invoke(main, ["backup", str(tmp_path / "bak"), "-w", str(ws)])
    assert result.exit_code == 0
    (copy,) = (tmp_path / "bak").glob("canbao-*.db")
    db = sqlite3.connect(copy)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    live = sqlite3.connect(ws / "workbooks" / "canbao.db")
    for table in ("persons", "files", "roster_persons", "pending"):
        assert db.execute(f"SELECT COUNT(*) FROM {table}").fetchone() == live.execute(
            f"SELECT COUNT(*) FROM {table}").fetchone()


def test_the_installed_command_ends_with_everything_written(tmp_path: Path, county: Workspace,
                                                             county_roster: Roster) -> None:
    """`canbao` (engine.cli:run) ends without tearing down what it built, but only once its
    output is out and its database closed: the .db file alone holds the merged rows (no
    write-ahead log left beside it); exit codes and messages are as `main` gives them."""
    import sqlite3
    import subprocess
    import sys

    command = [sys.executable, "-m", "engine.cli"]
    missing = subprocess.run([*command, "status", "-w", str(tmp_path / "nothing")], capture_output=True,
                             text=True, encoding="utf-8")
    assert missing.returncode == 2 and "canbao init" in missing.stderr
    village = busiest_village(county_roster)
    returned = tmp_path / "returned.xlsx"
    rows = fill_like_staff(template_of(county, village), returned,
                           [p for p in county_roster.persons if p["region_code"] == village], visit=3)
    county.close()
    done = subprocess.run([*command, "ingest", str(returned), "-w", str(county.root)], capture_output=True,
                          text=True, encoding="utf-8")
    assert done.returncode == 0 and "returned.xlsx" in done.stdout, done.stdout + done.stderr
    store = county.store_path
    assert not store.with_name(store.name + "-wal").exists()
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT count(*) FROM persons WHERE file_id IS NOT NULL").fetchone()[0] == len(rows) == 3
