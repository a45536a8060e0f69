"""The drop-folder watcher: latency from a file landing to its receipt, and throughput,
against `canbao ingest` of the same files in the same run.

    python bench/bench_watch.py [--scale 1.0] [--latency-files 9] [--repeat 2] [--work DIR]

Setup (not timed): a city workspace with the demo roster at `--scale`, templates, and one
filled return per village (the demo's). Then, each on a fresh copy of the workspace:
  latency     `canbao watch` running; village files of about 500 rows copied into inbox/
              one at a time, 2 s after the receipt of the one before; seconds from the copy
              to the receipt (stability wait included; a file landing while a summary
              refresh runs waits for it)
  during a refresh  every village file but one dropped at once; the last one dropped once
              the refresh after them has written the summaries and is writing the
              still-to-visit lists; seconds from its copy to its receipt, and whether the
              lists were still being written then
  watch all   every village file dropped at once; seconds until the inbox is empty and
              every receipt written, and how many summary refreshes ran meanwhile
  ingest all  `canbao ingest` of the same files (the baseline)
watch all and ingest all run --repeat times (0: not at all), in alternating order.
Targets (issue 6): median latency < 2 s; watch all within 1.3x of ingest all.
With --work DIR the prepared workspace and files are kept in DIR and reused next time.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = [sys.executable, "-m", "engine.cli"]


def prepare(root: Path, scale: float) -> tuple[Path, list[Path]]:
    if (root / "staged").is_dir() and (root / "ws").is_dir():
        return root / "ws", sorted((root / "staged").iterdir())
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
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(template, target)
    return target


def start_watch(ws: Path) -> subprocess.Popen[bytes]:
    watcher = subprocess.Popen([*CLI, "watch", "-w", str(ws)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until(lambda: "watching" in log_text(ws), 60)
    return watcher


def log_text(ws: Path) -> str:
    path = ws / "workbooks" / "canbao.log"
    return path.read_text(encoding="utf-8") if path.exists() else ""


REFRESH = re.compile(r"summaries refreshed after (\d+) files \(\w+ villages\) in ([\d.]+) s")


LISTS = re.compile(r"still-to-visit lists refreshed \((\d+) written\) in ([\d.]+) s")


def refreshes(ws: Path) -> list[tuple[int, float]]:
    """(files, seconds) of every summary refresh the watcher logged (the summaries' step)."""
    return [(int(m[1]), float(m[2])) for m in REFRESH.finditer(log_text(ws))]


def list_refreshes(ws: Path) -> list[tuple[int, float]]:
    """(lists written, seconds) of every refresh's still-to-visit lists, written in steps after the summaries."""
    return [(int(m[1]), float(m[2])) for m in LISTS.finditer(log_text(ws))]


LISTS_DONE = "still-to-visit lists refreshed"


def during_refresh(ws: Path, files: list[Path], late: Path) -> tuple[float, bool]:
    """Seconds from dropping `late` during the flood's refresh to its receipt; whether the
    refresh was still writing lists when the receipt came."""
    watcher = start_watch(ws)
    try:
        flood = [path for path in files if path != late]
        for path in flood:
            shutil.copy(path, ws / "inbox" / path.name)
        wait_until(lambda: waiting(ws) == 0 and receipts(ws) >= len(flood))
        wait_until(lambda: bool(refreshes(ws)), 600)
        start = time.perf_counter()
        shutil.copy(late, ws / "inbox" / late.name)
        wait_until(lambda: receipts(ws) > len(flood), 600)
        seconds = time.perf_counter() - start
        return seconds, LISTS_DONE not in log_text(ws)
    finally:
        watcher.terminate()
        watcher.wait(600)


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
    watcher = start_watch(ws)
    try:
        out = []
        for path in files:
            before = receipts(ws)
            start = time.perf_counter()
            shutil.copy(path, ws / "inbox" / path.name)
            wait_until(lambda b=before: receipts(ws) > b, 120)
            out.append(time.perf_counter() - start)
            time.sleep(2)   # files a little apart: each its own batch, when the refresh's spacing allows
        return out
    finally:
        watcher.terminate()
        watcher.wait(600)


def watch_all(ws: Path, files: list[Path]) -> tuple[float, list[tuple[int, float]], list[tuple[int, float]]]:
    """Seconds until every file is done, the refreshes meanwhile, and all of them at the end."""
    watcher = start_watch(ws)
    try:
        start = time.perf_counter()
        for path in files:
            shutil.copy(path, ws / "inbox" / path.name)
        wait_until(lambda: waiting(ws) == 0 and receipts(ws) >= len(files))
        seconds = time.perf_counter() - start
        during = refreshes(ws)
        wait_until(lambda: sum(n for n, _ in refreshes(ws)) >= len(files), 900)
        wait_until(lambda: len(list_refreshes(ws)) >= len(refreshes(ws)), 900)
        print("  still-to-visit lists: " + ", ".join(f"{n} written in {s:.1f} s" for n, s in list_refreshes(ws)),
              flush=True)
        return seconds, during, refreshes(ws)
    finally:
        watcher.terminate()
        watcher.wait(600)


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
    parser.add_argument("--latency-files", type=int, default=9)
    parser.add_argument("--repeat", type=int, default=2, help="rounds of ingest all + watch all")
    parser.add_argument("--work", type=Path, default=None, help="keep the prepared workspace here and reuse it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.work or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        base, files = prepare(root, args.scale)
        print(f"prepared in {time.perf_counter() - t0:.0f} s: {len(files)} village returns, "
              f"{sum(rows_of(p) for p in files):,} rows", flush=True)
        sized = sorted(files, key=lambda p: abs(rows_of(p) - 500))[:args.latency_files]
        lat = latency(fresh(root, "latency", base), sized)
        print(f"latency  median {statistics.median(lat):.2f} s  (min {min(lat):.2f}, max {max(lat):.2f}); "
              f"files of {[rows_of(p) for p in sized]} rows", flush=True)
        late = sorted(files, key=lambda p: abs(rows_of(p) - 500))[0]
        late_s, lists_running = during_refresh(fresh(root, "during", base), files, late)
        print(f"during a refresh  {late_s:.2f} s from copy to receipt ({rows_of(late)} rows); the refresh "
              f"{'was still writing lists' if lists_running else 'had finished'} then", flush=True)
        ingests: list[float] = []
        watches: list[float] = []
        for round_ in range(args.repeat):   # alternate the order: the machine's load drifts
            for step in (("ingest", "watch") if round_ % 2 == 0 else ("watch", "ingest")):
                if step == "ingest":
                    ingests.append(ingest_all(fresh(root, "ingest", base), files))
                    print(f"ingest all  {ingests[-1]:7.1f} s   (baseline)", flush=True)
                else:
                    watch_s, during, after = watch_all(fresh(root, "watch", base), files)
                    watches.append(watch_s)
                    print(f"watch all   {watch_s:7.1f} s", flush=True)
                    print(f"  summary refreshes while the files were processed: {len(during)} "
                          f"({sum(s for _, s in during):.1f} s); in all {len(after)}: "
                          + ", ".join(f"{n} files {s:.1f} s" for n, s in after), flush=True)
            print(f"round {round_ + 1}: watch / ingest = {watches[-1] / ingests[-1]:.2f}", flush=True)
        if ingests:
            print(f"watch all / ingest all, sums of {args.repeat} rounds: {sum(watches) / sum(ingests):.2f}")


if __name__ == "__main__":
    main()
