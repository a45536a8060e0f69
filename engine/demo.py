"""`canbao demo`: the whole job on synthetic 淮北 data, through the real code paths.

A roster per county written as the city would send it (xlsx) and imported; templates
for every village; returns for a share of the villages, filled as staff would fill
them (with their usual mistakes), dropped into the inbox; one watcher pass, which
writes the receipts and summaries. At scale 1 the roster equals the notice's task table.
"""

from __future__ import annotations

import random
import shutil
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import xlsxwriter

from engine import regions
from engine.demo_data import make_roster, simulate_return
from engine.figures import Figures
from engine.form import CODE_LISTS
from engine.parallel import run_all
from engine.roster import import_roster
from engine.templates import (
    BLANK_UNITS,
    blank_rows,
    generate,
    template_path,
    write_village_workbook,
)
from engine.watching import watch_workspace
from engine.workbook import Identity, SheetRow, template_id
from engine.workspace import FOLDERS, Workspace, WorkspaceError

DEMO_FLAG = "demo"
ROSTER_PERSON_HEADERS = (("人员编号", "person_no"), ("姓名", "name"), ("性别", "sex"), ("公民身份号码", "id_number"),
                         ("出生日期", "birth_date"), ("个人身份", "identity"), ("户口性质", "hukou_type"),
                         ("户口所在地", "hukou_place"), ("常住所在地地址", "home_street"),
                         ("行政区划代码", "region_code"))
ROSTER_UNIT_HEADERS = (("行政区划代码", "region_code"), ("单位编号", "unit_no"), ("统一社会信用代码", "credit_code"),
                       ("单位名称", "unit_name"), ("单位类型", "unit_type"))


def run_demo(ws: Workspace, *, scale: float = 1.0, seed: int = 2017, share: float = 0.4,
             say: Callable[[str], object] = print) -> Figures:
    clock = _Clock(say)
    _reset(ws)
    ws.init("340600")
    ws.store.set_meta(DEMO_FLAG, "1")
    roster = make_roster(scale=scale, seed=seed)
    clock.lap(f"合成名册：{len(roster.persons):,} 人、{len(roster.units):,} 个单位")
    for path in _write_rosters(ws, roster.persons, roster.units):
        result = import_roster(ws, path)
        say(f"  导入 {path.name}：{result.persons:,} 人、{result.units:,} 个单位")
    clock.lap("名册已导入")
    templates = generate(ws)
    clock.lap(f"已生成 {len(templates)} 个村（社区）模板")
    dropped = _simulate_returns(ws, roster.persons, roster.units, share, random.Random(seed))
    clock.lap(f"模拟 {dropped} 个村（社区）交回模板，已放入 inbox/")
    outcomes = watch_workspace(ws, once=True, min_age=0.0, settle=0.0, say=lambda _: None)
    clock.lap(f"监视程序处理 {len(outcomes)} 个文件，回执在 {ws.receipts}，汇总表在 {ws.summaries}")
    return ws.store.figures(ws.region.code)


class _Clock:
    def __init__(self, say: Callable[[str], object]) -> None:
        self.say = say
        self.start = self.last = time.perf_counter()

    def lap(self, text: str) -> None:
        now = time.perf_counter()
        self.say(f"[{now - self.start:6.1f} 秒] {text}（{now - self.last:.1f} 秒）")
        self.last = now


def _reset(ws: Workspace) -> None:
    """Start from empty: only a demo workspace (or an empty one) may be reset."""
    if ws.exists:
        if ws.store.meta(DEMO_FLAG) != "1":
            raise WorkspaceError(f"{ws.root} 是正式工作区，演示不会覆盖它。请在空文件夹中运行：canbao demo -w 新文件夹")
        ws.close()
    for name in FOLDERS:
        folder = ws.root / name
        if not folder.exists():
            continue
        for child in folder.iterdir():
            if child.name in (".gitignore", "README.md"):
                continue
            shutil.rmtree(child) if child.is_dir() else child.unlink()


def _write_rosters(ws: Workspace, persons: Sequence[Mapping[str, str]],
                   units: Sequence[Mapping[str, str]]) -> list[Path]:
    """One 入户调查对象名册 per county, as the city sends them."""
    folder = ws.workbooks / "演示名册"
    folder.mkdir(parents=True, exist_ok=True)
    by_county: dict[str, tuple[list[Mapping[str, str]], list[Mapping[str, str]]]] = defaultdict(lambda: ([], []))
    for p in persons:
        by_county[p["region_code"][:6]][0].append(p)
    for u in units:
        by_county[u["region_code"][:6]][1].append(u)
    jobs = [(folder / f"{regions.load().by_code[county].name}入户调查对象名册.xlsx", ps, us)
            for county, (ps, us) in sorted(by_county.items(), key=lambda item: -len(item[1][0]))]
    return run_all(_write_roster, jobs)


def _write_roster(job: tuple[Path, list[Mapping[str, str]], list[Mapping[str, str]]]) -> Path:
    path, persons, units = job
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                           "strings_to_formulas": False, "strings_to_urls": False})
    _roster_sheet(book, "人员", ROSTER_PERSON_HEADERS, (_roster_person(p) for p in persons))
    _roster_sheet(book, "单位", ROSTER_UNIT_HEADERS, units)
    book.close()
    return path


def _roster_person(p: Mapping[str, str]) -> dict[str, str]:
    place = "".join(p.get(k, "") for k in ("hukou_province", "hukou_city", "hukou_county"))
    return {**p, "sex": CODE_LISTS["性别"].labels.get(p.get("sex", ""), ""), "hukou_place": place}


def _roster_sheet(book: xlsxwriter.Workbook, name: str, headers: Sequence[tuple[str, str]],
                  rows: Iterable[Mapping[str, str]]) -> None:
    ws = book.add_worksheet(name)
    ws.write_row(0, 0, [h for h, _ in headers])
    for r, row in enumerate(rows, start=1):
        for c, (_, key) in enumerate(headers):
            ws.write_string(r, c, str(row.get(key, "")))


def _simulate_returns(ws: Workspace, persons: Sequence[Mapping[str, str]], units: Sequence[Mapping[str, str]],
                      share: float, rng: random.Random) -> int:
    """Fill the templates of a share of the villages as staff would, and drop them into the inbox."""
    persons_by: dict[str, list[dict[str, str]]] = defaultdict(list)
    units_by: dict[str, list[dict[str, str]]] = defaultdict(list)
    for p in persons:
        persons_by[p["region_code"]].append(dict(p))
    for u in units:
        units_by[u["region_code"]].append(dict(u))
    villages = sorted(persons_by)
    chosen = sorted(rng.sample(villages, max(1, round(len(villages) * share)))) if share else []
    batch = ws.store.roster_batch()
    jobs: list[_ReturnJob] = []
    for code in chosen:
        filled = simulate_return(persons_by[code], units_by[code], rng)
        roster_ids = {p["id_number"] for p in persons_by[code]}
        person_rows = [SheetRow(v, roster=v.get("id_number") in roster_ids) for v in filled.persons]
        unit_rows = [SheetRow(v, roster=bool(v.get("unit_no"))) for v in filled.units]
        identity = Identity(kind="template", template_id=template_id(code), region_code=code, roster_batch=batch)
        name = template_path(ws, code).name
        path = ws.inbox / "-".join((*regions.load().path_names(code)[:-1], name))
        jobs.append((path, code, identity, person_rows, unit_rows))
    drops = run_all(_write_return, jobs)
    if len(drops) > 1:
        shutil.copy(drops[0], drops[0].with_name("（重复发送）" + drops[0].name))
    return len(drops)


_ReturnJob = tuple[Path, str, Identity, list[SheetRow], list[SheetRow]]


def _write_return(job: _ReturnJob) -> Path:
    path, code, identity, persons, units = job
    return write_village_workbook(path, code, identity, persons, units,
                                  blank_persons=blank_rows(len(persons)) // 2, blank_units=BLANK_UNITS)
