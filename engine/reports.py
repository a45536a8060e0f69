"""Summary workbooks (汇总表) for the workspace's region and each region below it, and the
still-to-visit lists (待入户名单) that send staff back to the right doors."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from engine.figures import Figures
from engine.parallel import run_all
from engine.summary import write_summary
from engine.visit_lists import write_visit_lists
from engine.workspace import Workspace

OFFICE_SUFFIX = {"city": "人力资源和社会保障局", "county": "人力资源和社会保障局", "town": "劳动保障所"}


def summary_path(ws: Workspace, name: str) -> Path:
    return ws.summaries / f"{name}汇总表.xlsx"


def write_reports(ws: Workspace, region_code: str | None = None, *,
                  villages: Iterable[str] | None = None) -> list[Path]:
    """The region's summary (at city level one per county too) and the still-to-visit lists:
    of every village, or of `villages` only (what a watcher batch touched).

    The figures are counted once; a county's summary takes its part of the city's. The
    summaries are written side by side on the machine's cores."""
    region = ws.within(region_code)
    office = ws.region.name + OFFICE_SUFFIX.get(ws.region.level, "")
    figures = ws.store.figures(region.code)
    jobs = [(figures, summary_path(ws, region.name), office)]
    if region.level == "city":
        jobs += [(figures.of(county), summary_path(ws, county.name), office) for county in figures.region.children]
    written = run_all(_write_summary, jobs)
    if villages is None:
        written += write_visit_lists(ws, region.code)
    else:
        for village in sorted(set(villages)):
            written += write_visit_lists(ws, village)
    return written


def _write_summary(job: tuple[Figures, Path, str]) -> Path:
    figures, path, office = job
    return write_summary(figures, path, office=office)
