"""Template generation for the whole city against plain xlsxwriter writing the same cells.

    python bench/bench_templates.py [--scale 1.0] [--seed 2017] [--runs 1]

Builds a city workspace (淮北市 340600) in a temp folder with the demo's synthetic roster
(at scale 1: 452 villages, 180,231 persons, 10,938 units) imported from real roster
files, then times, each in a fresh process for a fair peak-memory figure:

  plain      for every village, on the same worker processes (engine.parallel.run_all),
             read its roster from the store and write the same cells with xlsxwriter
             (in memory, as the templates are): title, bands and header rows, the
             roster rows of the persons and units sheets as strings; no formats,
             validations, lists, conditional formats, protection, instructions or identity
  templates  engine.templates.generate: the real templates, with everything

and prints wall time and CPU time (user + system, all processes) with their ratio to
`plain`, and peak RSS twice: the largest single process (ru_maxrss of the finished
children: the biggest worker or the parent) and the whole process tree (sampled every
20 ms from /proc, Linux only). Machines here are noisy (other jobs share the cores):
compare ratios, not seconds, and use --runs to keep the fastest of several runs.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PLAIN = """
import sys
from pathlib import Path
import xlsxwriter
from engine.form import PERSONS, UNITS
from engine.parallel import run_all
from engine.templates import template_path
from engine.workspace import Workspace

def write(job):
    root, code = job
    ws = Workspace(Path(root))
    try:
        path = template_path(ws, code).with_suffix(".plain.xlsx")
        path.parent.mkdir(parents=True, exist_ok=True)
        book = xlsxwriter.Workbook(str(path), {"in_memory": True, "strings_to_formulas": False,
                                               "strings_to_urls": False, "strings_to_numbers": False})
        for form in (PERSONS, UNITS):
            fields = [f for f in form.fields if not f.derived]
            sheet = book.add_worksheet(form.sheet)
            sheet.write_string(0, 0, form.name)
            sheet.write_row(1, 0, [f.group for f in fields])
            sheet.write_row(2, 0, [f.label for f in fields])
            for r, row in enumerate(ws.store.roster(form.kind, code), start=3):
                for c, f in enumerate(fields):
                    value = row.get(f.key)
                    if value:
                        sheet.write_string(r, c, str(value))
        book.close()
        return path
    finally:
        ws.close()

if __name__ == "__main__":
    root = sys.argv[1]
    ws = Workspace(Path(root))
    villages = ws.store.roster_villages(ws.region.code)
    ws.close()
    print(len(run_all(write, [(root, code) for code in villages])), "workbooks")
"""

TEMPLATES = """
import sys
from pathlib import Path
from engine.templates import generate
from engine.workspace import Workspace

if __name__ == "__main__":
    ws = Workspace(Path(sys.argv[1]))
    print(len(generate(ws)), "workbooks")
    ws.close()
"""

# Runs a command in a fresh process; prints wall seconds, CPU seconds of the whole tree, the
# largest process's peak RSS (MB, ru_maxrss of the waited-for children), the process tree's
# sampled peak (MB: helper processes count too) and one line of the command's output.
# Arguments: which line (an index), "strict" (a failing command fails) or "any", the command.
PEAK = """
import os, resource, subprocess, sys, threading, time

# A process's children, from its threads' lists: cheap. The tree is sampled every 20 ms;
# listing every process in /proc each time took 1.8 ms of CPU, some 9% of a core taken from
# the command measured (a county's ingest, on two cores: 0.3-0.4 s of its wall time).
# None where the kernel keeps no such list: then every process is listed, as before.
def children_of(pid):
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    found = []
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found.extend(int(child) for child in f.read().split())
        except FileNotFoundError:
            return None
        except OSError:
            pass
    return found

def all_children():
    children = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(pid))
        except (OSError, IndexError, ValueError):
            pass
    return children

def tree_rss(root):
    total, todo, scanned = 0, [root], None
    while todo:
        pid = todo.pop()
        found = children_of(pid)
        if found is None:
            scanned = scanned or all_children()
            found = scanned.get(pid, [])
        todo.extend(found)
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            pass
    return total

start = time.perf_counter()
which, strict = int(sys.argv[1]), sys.argv[2] == "strict"
proc = subprocess.Popen(sys.argv[3:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
peak = [0]
def sample():
    while proc.poll() is None:
        peak[0] = max(peak[0], tree_rss(proc.pid))
        time.sleep(0.02)
threading.Thread(target=sample, daemon=True).start()
out = proc.communicate()[0]
wall = time.perf_counter() - start
if proc.returncode and strict:
    sys.exit(out)
line = (out.strip() or "-").splitlines()[which]
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, peak[0] / 2**20, line)
"""


def make_workspace(folder: Path, scale: float, seed: int) -> tuple[int, int, int]:
    """A city workspace with the synthetic roster imported; (villages, persons, units)."""
    from engine.demo import _write_rosters
    from engine.demo_data import make_roster
    from engine.roster import import_roster
    from engine.workspace import Workspace

    ws = Workspace(folder)
    ws.init("340600")
    roster = make_roster(scale=scale, seed=seed)
    for path in _write_rosters(ws, roster.persons, roster.units):
        import_roster(ws, path)
    villages = len(ws.store.roster_villages(ws.region.code))
    ws.close()
    return villages, len(roster.persons), len(roster.units)


Timing = tuple[float, float, float, float, str]   # wall s, cpu s, peak MB (largest, tree), output


def measure(cmd: list[str], *, line: int = -1, strict: bool = True) -> Timing:
    """`cmd` run alone in a fresh process (see PEAK), with line `line` of its output;
    `strict`: a command that fails stops the benchmark."""
    out = subprocess.run([sys.executable, "-c", PEAK, str(line), "strict" if strict else "any", *cmd],
                         check=True, capture_output=True, text=True).stdout
    wall, cpu, largest, tree, shown = out.strip().split(" ", 4)
    return float(wall), float(cpu), float(largest), float(tree), shown


def timed(code: str, root: Path) -> Timing:
    """`code` run on the workspace in a fresh process."""
    return measure([sys.executable, "-c", code, str(root)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="share of the notice's roster (1.0: 180,231 persons)")
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument("--runs", type=int, default=1, help="time each step this many times, alternating; "
                        "report the fastest run (and its memory): less noise on a busy machine")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        start = time.perf_counter()
        villages, persons, units = make_workspace(root, args.scale, args.seed)
        print(f"workspace: {villages} villages, {persons:,} persons, {units:,} units "
              f"(set up in {time.perf_counter() - start:.0f} s)")
        runs: dict[str, list[Timing]] = {"plain": [], "templates": []}
        for _ in range(args.runs):
            runs["plain"].append(timed(PLAIN, root))
            runs["templates"].append(timed(TEMPLATES, root))
        results = {name: min(times) for name, times in runs.items()}
        sizes = {"plain": 0.0, "templates": 0.0}
        for path in (root / "templates").rglob("*.xlsx"):
            sizes["plain" if path.name.endswith(".plain.xlsx") else "templates"] += path.stat().st_size / 2**20
    base, base_cpu = results["plain"][:2]
    print(f"{'step':10} {'wall s':>7} {'x plain':>7} {'cpu s':>7} {'x plain':>7} {'peak MB':>7} {'tree MB':>7} "
          f"{'files MB':>8}  output")
    for name, (wall, cpu, largest, tree, line) in results.items():
        print(f"{name:10} {wall:7.1f} {wall / base:7.2f} {cpu:7.1f} {cpu / base_cpu:7.2f} {largest:7.0f} {tree:7.0f} "
              f"{sizes[name]:8.1f}  {line}")
    if args.runs > 1:
        for name, times in runs.items():
            print(f"{name} runs (wall s): {', '.join(f'{t[0]:.1f}' for t in times)}")


if __name__ == "__main__":
    main()
