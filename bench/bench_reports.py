"""All summaries and still-to-visit lists of the city against plain xlsxwriter writing the
same cells, in the same run.

    python bench/bench_reports.py [--scale 1.0] [--seed 2017] [--runs 1] [--cache DIR]

Needs a city workspace after a demo season: `canbao demo` at `--scale` (at 1: 180,231
roster persons, 10,938 units, 452 villages, returns from 40% of them). Building it takes
about 5 minutes at scale 1, so it is kept in `--cache` (default: a folder in the system's
temp dir named after scale and seed) and reused by later runs; `--rebuild` starts afresh.
Then times, each in a fresh process for a fair peak-memory figure:

  plain          the same values read with the engine's queries (`Store.figures`, `visit_lists.read_village` per village, on the same worker
                 processes), written with plain xlsxwriter: for every summary (the city's
                 and each county's) the progress, detail, insurance, uninsured-reason,
                 employment/identity/unit-type and daily tables as numbers, for every
                 village with anything left its list rows as strings; no formats,
                 formulas, merged cells, charts, conditional formats or print setup
  reports        engine.reports.write_reports: the real summaries and lists
  plain summary  the summaries of `plain` only
  summary        the real summaries only (what `write_reports` writes before the lists)

and prints wall time and CPU time (user + system, all processes) with their ratio to the
plain step, and peak RSS twice: the largest single process and the whole process tree
(sampled every 20 ms from /proc, Linux only). Then, in this process and on one core,
where the time goes: queries against writing, summaries against lists. Machines here are
noisy (other jobs share the cores): compare ratios, not seconds, and use --runs to keep
the fastest of several runs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_templates import Timing, measure  # the same fresh-process timer (bench/ is on the path)

PLAIN_FOLDER = "plain"

PLAIN = """
import sys
from pathlib import Path
import xlsxwriter
from engine.form import PERSONS, UNITS
from engine.parallel import run_all
from engine.visit_lists import OPEN_PERSONS_BY_VILLAGE, OPEN_UNITS_BY_VILLAGE, read_village, street_of
from engine.workspace import Workspace

OPTIONS = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
COUNTS = ("task_persons", "registered", "returned", "new", "missing", "task_units", "units_registered")
TABLES = (("参保情况", ("pension", "medical", "other_insurance")), ("未参保原因", ("uninsured",)),
          ("就业与身份", ("employment", "identity", "unit_types")))
LISTS = {"pension": PERSONS["pension"], "medical": PERSONS["medical"], "uninsured": PERSONS["uninsured_reason"],
         "employment": PERSONS["employment"], "identity": PERSONS["identity"], "unit_types": UNITS["unit_type"]}

def codes(attr):
    if attr == "other_insurance":
        return ["30", "40", "50"]
    return [c.code for c in LISTS[attr].code_list.codes]

def progress_row(sheet, r, labels, region):
    values = [getattr(region, a) for a in COUNTS] + [region.completion, region.units_completion]
    sheet.write_row(r, 0, list(labels))
    sheet.write_row(r, len(labels), values)

def plain_summary(figures, path):
    book = xlsxwriter.Workbook(str(path), OPTIONS)
    root = figures.region
    sheet = book.add_worksheet("进度")
    sheet.write_string(0, 0, root.name + "进度汇总表")
    sheet.write_row(2, 0, ["区域代码", "名称", *COUNTS, "完成率", "单位完成率"])
    r = 3
    for child in root.children:
        progress_row(sheet, r, (child.code, child.name), child)
        r += 1
    progress_row(sheet, r, ("", "合计"), root)
    sheet = book.add_worksheet("明细")
    sheet.write_row(2, 0, ["区域代码", "上级", "名称", *COUNTS, "完成率", "单位完成率"])
    r = 3
    for group in root.children:
        for region in group.children:
            progress_row(sheet, r, (region.code, group.name, region.name), region)
            r += 1
        progress_row(sheet, r, (group.code, group.name, "小计"), group)
        r += 1
    progress_row(sheet, r, ("", "合计", ""), root)
    for name, attrs in TABLES:
        sheet = book.add_worksheet(name)
        r = 2
        for attr in attrs:
            keys = codes(attr)
            sheet.write_row(r, 0, ["区域代码", "名称", *keys, "合计"])
            r += 1
            for region in [*root.children, root]:
                counts = getattr(region, attr)
                sheet.write_row(r, 0, [region.code, region.name])
                sheet.write_row(r, 2, [counts.get(k, 0) for k in keys] + [sum(counts.values())])
                r += 1
            r += 1
    sheet = book.add_worksheet("每日进度")
    total = 0
    for r, (day, n) in enumerate(sorted(figures.daily), start=3):
        total += n
        sheet.write_string(r, 0, day.isoformat())
        sheet.write_row(r, 1, [n, total])
    book.close()

def plain_list(job):
    root, code = job
    ws = Workspace(Path(root))
    try:
        village = read_village(ws.store.db, code)
        path = ws.outbox / "plain" / "待入户名单" / f"{code}.xlsx"
        book = xlsxwriter.Workbook(str(path), OPTIONS)
        sheet = book.add_worksheet("待入户人员")
        sheet.write_string(0, 0, f"{code} 待入户人员名单")
        sheet.write_string(1, 0, f"名册 {village.roster_persons} 人，待入户 {len(village.persons)} 人")
        r, street = 3, None
        for n, p in enumerate(village.persons, start=1):
            if street_of(p.address) != street:
                street = street_of(p.address)
                sheet.write_string(r, 0, street)
                r += 1
            sheet.write_row(r, 0, [str(n), p.person_no, p.name, p.sex, p.birth_date, "", p.id_number, p.address,
                                   p.phone, "退回待改" if p.returned else "未登记", "□", ""])
            r += 1
        if village.units:
            sheet = book.add_worksheet("待入户单位")
            r = 3
            for n, u in enumerate(village.units, start=1):
                sheet.write_row(r, 0, [str(n), u.unit_no, u.credit_code, u.unit_name, u.unit_type, u.address,
                                       u.phone, "退回待改" if u.returned else "未登记", "□", ""])
                r += 1
        book.close()
        return path
    finally:
        ws.close()

if __name__ == "__main__":
    root, what = sys.argv[1], sys.argv[2]
    ws = Workspace(Path(root))
    folder = ws.outbox / "plain"
    (folder / "待入户名单").mkdir(parents=True, exist_ok=True)
    city = ws.store.figures(ws.region.code)
    plain_summary(city, folder / f"{city.region.name}.xlsx")
    for county in city.region.children:
        plain_summary(city.of(county), folder / f"{county.name}.xlsx")
    lists = []
    if what == "all":
        like = (ws.region.prefix + "%",)
        villages = {c for c, _ in ws.store.db.execute(OPEN_PERSONS_BY_VILLAGE, like)}
        villages |= {c for c, _ in ws.store.db.execute(OPEN_UNITS_BY_VILLAGE, like)}
        lists = run_all(plain_list, [(root, code) for code in sorted(villages)])
    ws.close()
    print(len(lists), "lists")
"""

REPORTS = """
import sys
from pathlib import Path
from engine import reports
from engine.workspace import Workspace

if __name__ == "__main__":
    root, what = sys.argv[1], sys.argv[2]
    ws = Workspace(Path(root))
    if what == "summary":
        reports.write_visit_lists = lambda *args, **kwargs: []   # the summaries alone
    paths = reports.write_reports(ws)
    ws.close()
    print(len(paths) - 5, "lists")
"""

# In one process, on one core: how long the queries and the writing take, for the
# summaries and for the lists.
STEPS = """
import datetime as dt, json, sys, time
from pathlib import Path
from unittest import mock
from engine import reports, visit_lists
from engine.workspace import Workspace

ws = Workspace(Path(sys.argv[1]))
spent = {}
def timed(name, func):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - start
    return wrapper

with mock.patch("engine.parallel.workers", lambda: 1), \\
        mock.patch.object(visit_lists, "read_village", timed("lists: queries", visit_lists.read_village)), \\
        mock.patch.object(visit_lists, "write_village_list",
                          timed("lists: workbooks", visit_lists.write_village_list)), \\
        mock.patch.object(reports, "write_summary", timed("summaries: workbooks", reports.write_summary)), \\
        mock.patch.object(type(ws.store), "figures", timed("summaries: queries", type(ws.store).figures)):
    start = time.perf_counter()
    reports.write_reports(ws)
    spent["total"] = time.perf_counter() - start
ws.close()
print(json.dumps(spent))
"""


def cached_workspace(folder: Path, scale: float, seed: int, rebuild: bool) -> Path:
    """A city workspace after `canbao demo --scale --seed`, built once and reused."""
    ready = folder / "bench-ready.json"
    wanted = {"scale": scale, "seed": seed}
    if not rebuild and ready.exists() and json.loads(ready.read_text()) == wanted:
        return folder
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    start = time.perf_counter()
    cmd = [sys.executable, "-m", "engine.cli", "demo", "--scale", str(scale), "--seed", str(seed), "-w", str(folder)]
    subprocess.run(cmd, check=True, capture_output=True)
    ready.write_text(json.dumps(wanted))
    print(f"built the demo workspace in {time.perf_counter() - start:.0f} s: {folder}")
    return folder


def timed(code: str, root: Path, what: str) -> Timing:
    """`code` run on the workspace in a fresh process (see bench_templates.PEAK)."""
    return measure([sys.executable, "-c", code, str(root), what])


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*.xlsx")) / 2**20 if folder.exists() else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="share of the notice's roster (1.0: 180,231 persons)")
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument("--runs", type=int, default=1, help="time each step this many times, alternating; "
                        "report the fastest run (and its memory): less noise on a busy machine")
    parser.add_argument("--cache", type=Path, default=None, help="where the demo workspace is kept between runs")
    parser.add_argument("--rebuild", action="store_true", help="build the demo workspace again")
    args = parser.parse_args()
    cache = args.cache or Path(tempfile.gettempdir()) / f"canbao-bench-reports-{args.scale:g}-{args.seed}"
    root = cached_workspace(cache, args.scale, args.seed, args.rebuild)
    steps = {"plain": (PLAIN, "all"), "reports": (REPORTS, "all"),
             "plain summary": (PLAIN, "summary"), "summary": (REPORTS, "summary")}
    runs: dict[str, list[Timing]] = {name: [] for name in steps}
    for _ in range(args.runs):
        for name, (code, what) in steps.items():
            runs[name].append(timed(code, root, what))
    results = {name: min(times) for name, times in runs.items()}
    sizes = {"plain": folder_mb(root / "outbox" / PLAIN_FOLDER),
             "reports": folder_mb(root / "outbox" / "汇总") + folder_mb(root / "outbox" / "待入户名单")}
    shutil.rmtree(root / "outbox" / PLAIN_FOLDER, ignore_errors=True)
    print(f"{'step':14} {'wall s':>7} {'x plain':>7} {'cpu s':>7} {'x plain':>7} {'peak MB':>7} {'tree MB':>7} "
          f"{'files MB':>8}  output")
    for name, (wall, cpu, largest, tree, line) in results.items():
        base = results["plain summary" if "summary" in name else "plain"]
        size = f"{sizes[name]:8.1f}" if name in sizes else " " * 8
        print(f"{name:14} {wall:7.2f} {wall / base[0]:7.2f} {cpu:7.2f} {cpu / base[1]:7.2f} {largest:7.0f} "
              f"{tree:7.0f} {size}  {line}")
    if args.runs > 1:
        for name, times in runs.items():
            print(f"{name} runs (wall s): {', '.join(f'{t[0]:.2f}' for t in times)}")
    out = subprocess.run([sys.executable, "-c", STEPS, str(root)], check=True, capture_output=True, text=True).stdout
    spent = json.loads(out.strip().splitlines()[-1])
    print("\nwhere the time goes (one process, one core, seconds):")
    for name, seconds in spent.items():
        print(f"  {name:22} {seconds:7.2f}")


if __name__ == "__main__":
    main()
