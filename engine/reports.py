"""Summary workbooks (汇总表) for the workspace's region and each region below it, and the
still-to-visit lists (待入户名单) that send staff back to the right doors."""

from __future__ import annotations

from collections.abc import Generator, Iterable
from pathlib import Path

from engine import regions
from engine.figures import Figures
from engine.parallel import run_all, workers
from engine.summary import write_summary
from engine.visit_lists import write_village_lists, write_visit_lists
from engine.workspace import Workspace

LIST_GROUP = 4  # still-to-visit lists per core in one step of a `Refresh` (about 0.15 s each at full scale)
OFFICE_SUFFIX = {"city": "人力资源和社会保障局", "county": "人力资源和社会保障局", "town": "劳动保障所"}


def summary_path(ws: Workspace, name: str) -> Path:
    return ws.summaries / f"{name}汇总表.xlsx"


def write_reports(ws: Workspace, region_code: str | None = None, *,
                  villages: Iterable[str] | None = None) -> list[Path]:
    """The region's summary (at city level one per county too) and the still-to-visit lists:
    of every village, or of `villages` only (what a watcher batch touched)."""
    written = write_summaries(ws, region_code)
    if villages is None:
        written += write_visit_lists(ws, ws.within(region_code).code)
    else:
        for village in sorted(set(villages)):
            written += write_visit_lists(ws, village)
    return written


def write_summaries(ws: Workspace, region_code: str | None = None) -> list[Path]:
    """The region's summary, and at city level one per county too.

    The figures are counted once; a county's summary takes its part of the city's. The
    summaries are written side by side on the machine's cores."""
    region = ws.within(region_code)
    office = ws.region.name + OFFICE_SUFFIX.get(ws.region.level, "")
    figures = ws.store.figures(region.code)
    jobs = [(figures, summary_path(ws, region.name), office)]
    if region.level == "city":
        jobs += [(figures.of(county), summary_path(ws, county.name), office) for county in figures.region.children]
    return run_all(_write_summary, jobs)


class Refresh:
    """The workspace's reports refreshed in steps, for a watcher that takes new files between them.

    `steps(villages)` writes the summaries, then the still-to-visit lists of `villages` (None:
    every village) `group` villages at a time, yielding after each step. Lists not written
    when the steps are dropped stay owed, and the next `steps` writes them too: none is skipped.
    """

    def __init__(self, ws: Workspace, group: int | None = None) -> None:
        self._ws = ws
        self._group = group or LIST_GROUP * workers()
        self._owed: set[str] = set()
        self._all_owed = False

    @property
    def owes_lists(self) -> bool:
        return self._all_owed or bool(self._owed)

    def steps(self, villages: Iterable[str] | None) -> Generator[list[Path], None, None]:
        if villages is None:
            self._all_owed = True
        else:
            self._owed.update(villages)
        yield write_summaries(self._ws)
        if self._all_owed:
            self._owed.update(village.code for village in regions.load().villages(self._ws.region.code))
            self._all_owed = False
        while self._owed:
            group = sorted(self._owed)[:self._group]
            written = write_village_lists(self._ws, group)
            self._owed.difference_update(group)
            yield written


def _write_summary(job: tuple[Figures, Path, str]) -> Path:
    figures, path, office = job
    return write_summary(figures, path, office=office)
