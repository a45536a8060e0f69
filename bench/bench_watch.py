"""The drop-folder watcher: latency from a file landing to its receipt, and throughput,
against `canbao ingest` of the same files in the same run.

    python bench/bench_watch.py [--scale 1.0] [--latency-files 7]

Setup (not timed): a city workspace with the demo roster at `--scale`, templates, and one
filled return per village (the demo's). Then, each on a fresh copy of the workspace:
  latency     `canbao watch` running; village files of about 500 rows copied into inbox/
              one at a time; seconds from the copy to the receipt (stability wait included)
  watch all   every village file dropped at once; seconds until the inbox is empty
  ingest all  `canbao ingest` of the same files (the baseline)
Targets (issue 6): median latency < 2 s; watch all within 1.3x of ingest all.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = [sys.executable, "-m", "engine.cli"]


def prepare(root: Path, scale: float) -> tuple[Path, list[Path]]:
    from engine.demo import _reset, _simulate_returns, _write_rosters
    from engine.demo_data import make_roster
    from engine.roster import import_roster
    from engine.templates import generate
    from engine.workspace import Workspace

    ws = Workspace(root / "ws")
    _reset(ws)
    ws.init("340600")
    roster = make_roster(scale=scale, seed=5)
    for path in _write_rosters(ws, roster.persons, roster.units):
        import_roster(ws, path)
    generate(ws)
    _simulate_returns(ws, roster.persons, roster.units, 1.0, random.Random(5))
    staged = root / "staged"
    staged.mkdir()
    for path in ws.inbox.iterdir():
        if path.suffix == ".xlsx" and not path.name.startswith("（重复"):
            shutil.move(str(path), staged / path.name)
        elif path.suffix == ".xlsx":
            path.unlink()
    ws.close()
    return ws.root, sorted(staged.iterdir())


def fresh(root: Path, name: str, template: Path) -> Path:
    target = root / name
    shutil.copytree(template, target)
    return target


def receipts(ws: Path) -> int:
    return sum(1 for _ in (ws / "outbox" / "回执").rglob("*.xlsx"))


def waiting(ws: Path) -> int:
    return sum(1 for p in (ws / "inbox").iterdir() if p.suffix == ".xlsx")


def wait_until(predicate, limit: float = 1800) -> None:  # type: ignore[no-untyped-def]
    deadline = time.perf_counter() + limit
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError
        time.sleep(0.02)


def latency(ws: Path, files: list[Path]) -> list[float]:
    watcher = subprocess.Popen([*CLI, "watch", "-w", str(ws)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(3)   # started and scanned
        out = []
        for path in files:
            before = receipts(ws)
            start = time.perf_counter()
            shutil.copy(path, ws / "inbox" / path.name)
            wait_until(lambda b=before: receipts(ws) > b, 120)
            out.append(time.perf_counter() - start)
            time.sleep(1.5)   # let the batch's summary refresh pass
        return out
    finally:
        watcher.terminate()
        watcher.wait(60)


def watch_all(ws: Path, files: list[Path]) -> float:
    watcher = subprocess.Popen([*CLI, "watch", "-w", str(ws)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(3)
        start = time.perf_counter()
        for path in files:
            shutil.copy(path, ws / "inbox" / path.name)
        wait_until(lambda: waiting(ws) == 0 and receipts(ws) >= len(files))
        return time.perf_counter() - start
    finally:
        watcher.terminate()
        watcher.wait(120)


def ingest_all(ws: Path, files: list[Path]) -> float:
    for path in files:
        shutil.copy(path, ws / "inbox" / path.name)
    start = time.perf_counter()
    subprocess.run([*CLI, "ingest", *(str(ws / "inbox" / p.name) for p in files), "-w", str(ws)],
                   check=False, capture_output=True)
    return time.perf_counter() - start


def rows_of(path: Path) -> int:
    from python_calamine import CalamineWorkbook

    return len(CalamineWorkbook.from_path(str(path)).get_sheet_by_name("人员登记").to_python()) - 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--latency-files", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        base, files = prepare(root, args.scale)
        sized = sorted(files, key=lambda p: abs(rows_of(p) - 500))[:args.latency_files]
        lat = latency(fresh(root, "latency", base), sized)
        ingest_s = ingest_all(fresh(root, "ingest", base), files)
        watch_s = watch_all(fresh(root, "watch", base), files)
        print(f"files: {len(files)} village returns; latency files of {[rows_of(p) for p in sized]} rows")
        print(f"latency  median {statistics.median(lat):.2f} s  (min {min(lat):.2f}, max {max(lat):.2f})")
        print(f"ingest all  {ingest_s:7.1f} s   (baseline)")
        print(f"watch all   {watch_s:7.1f} s   {watch_s / ingest_s:.2f}x ingest")


if __name__ == "__main__":
    main()
