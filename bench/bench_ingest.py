"""Ingest of one county workbook against the raw read of the same file, in the same run.

    python bench/bench_ingest.py [--rows 112883] [--seed 1]

Writes a county export of 濉溪县 (the form's layout, every row filled, the demo's usual
mistakes) into a temp folder, then times, each in a fresh process for a fair peak-memory
figure:
  raw     python-calamine reading every cell value (the floor: no reader can do less)
  check   canbao check: read, normalise, every rule, receipt; no merge
  ingest  canbao ingest: archive, read, check, receipt, merge into SQLite
and prints wall time, peak RSS and the ratio to `raw`. Machines here are noisy: compare
ratios, not seconds.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RAW = """
import sys
from python_calamine import CalamineWorkbook
book = CalamineWorkbook.from_path(sys.argv[1])
cells = 0
for name in book.sheet_names:
    for row in book.get_sheet_by_name(name).iter_rows():
        cells += len(row)
print(cells)
"""


def make_county_file(folder: Path, rows: int, seed: int) -> tuple[Path, Path]:
    """The county's export, and its roster as the city sent it."""
    from engine.demo_data import make_roster, simulate_return
    from engine.form import PERSONS, UNITS
    from engine.workbook import FormWorkbook, Identity, SheetRow, region_values

    roster = make_roster(scale=1.0, seed=seed)
    persons = [p for p in roster.persons if p["region_code"].startswith("340621")][:rows]
    units = [u for u in roster.units if u["region_code"].startswith("340621")]
    filled = simulate_return(persons, units, random.Random(seed))   # most persons visited, some mistakes
    from engine.demo import _write_roster

    roster_path = _write_roster((folder / "濉溪县名册.xlsx", persons, units))
    path = folder / "濉溪县-上报.xlsx"
    book = FormWorkbook(path, Identity(kind="export", template_id="CB-EXPORT-340621", region_code="340621",
                                       level="county"), protect=False)
    rows_out = (SheetRow({**region_values(str(p.get("region_code") or "340621100001")), **p}) for p in filled.persons)
    book.add_form_sheet(PERSONS, rows_out, title="濉溪县 上报数据", derived=True)
    book.add_form_sheet(UNITS, (SheetRow(u) for u in filled.units), title="濉溪县 单位", derived=True)
    book.close()
    return path, roster_path


PEAK = """
import resource, subprocess, sys, time
start = time.perf_counter()
out = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - start
lines = (out.stdout.strip() or out.stderr.strip() or "-").splitlines()
print(wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, lines[-1])
"""


def timed(cmd: list[str]) -> tuple[float, float, str]:
    """Wall seconds and peak RSS (MB) of `cmd` run alone in a fresh process, and its last output line."""
    out = subprocess.run([sys.executable, "-c", PEAK, *cmd], check=True, capture_output=True, text=True).stdout
    wall, peak, line = out.strip().split(" ", 2)
    return float(wall), float(peak), line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=112_883)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        path, roster_path = make_county_file(folder, args.rows, args.seed)
        print(f"county file: {path.stat().st_size / 1e6:.1f} MB written in {time.perf_counter() - start:.1f} s")
        canbao = [sys.executable, "-m", "engine.cli"]
        ws = ["-w", str(folder / "ws")]
        subprocess.run([*canbao, "init", "--region", "340600", *ws], check=True, capture_output=True)
        subprocess.run([*canbao, "roster", "import", str(roster_path), *ws], check=False, capture_output=True)
        results = {
            "raw": timed([sys.executable, "-c", RAW, str(path)]),
            "check": timed([*canbao, "check", str(path), *ws]),
            "ingest": timed([*canbao, "ingest", str(path), *ws]),
        }
    base = results["raw"][0]
    print(f"{'step':8} {'wall s':>8} {'x raw':>7} {'peak MB':>8}  last line")
    for name, (wall, peak, line) in results.items():
        print(f"{name:8} {wall:8.2f} {wall / base:7.2f} {peak:8.0f}  {line[:90]}")


if __name__ == "__main__":
    main()
