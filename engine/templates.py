"""Generate the fill-in templates: one workbook per village/community with roster rows.

templates/<县区>/<乡镇>/<村社区>.xlsx holds the village's roster persons pre-filled
(identity columns locked), blank rows for persons found at the door, a units sheet, the
填写说明 and the hidden code and identity sheets (see `workbook`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from engine import regions
from engine.form import PERSONS, UNITS
from engine.parallel import run_all
from engine.workbook import FormWorkbook, Identity, SheetRow, template_id
from engine.workspace import Workspace

MIN_BLANK_PERSONS = 20
BLANK_SHARE = 0.2
BLANK_UNITS = 10


def blank_rows(roster_rows: int) -> int:
    """Blank rows for persons found at the door: 20 or 20% of the roster, whichever is more."""
    return max(MIN_BLANK_PERSONS, math.ceil(roster_rows * BLANK_SHARE))


def title(village_code: str) -> str:
    names = regions.load().path_names(village_code)
    return f"全民参保登记表　{'　'.join(names)}（{village_code}）"


def write_village_workbook(path: Path, village_code: str, identity: Identity,
                           persons: Iterable[SheetRow], units: Iterable[SheetRow], *,
                           blank_persons: int, blank_units: int,
                           before: Callable[[FormWorkbook], None] | None = None,
                           protect: bool = True) -> Path:
    """A workbook in the template's layout; `before` adds sheets in front (receipts)."""
    book = FormWorkbook(path, identity, protect=protect, small=True)
    try:
        if before is not None:
            before(book)
        book.add_form_sheet(PERSONS, persons, title=title(village_code), blank=blank_persons)
        book.add_form_sheet(UNITS, units, title=title(village_code).replace(PERSONS.name, UNITS.name),
                            blank=blank_units)
        book.add_instructions()
        return book.close()
    except BaseException:
        book.abort()
        raise


def roster_rows(rows: Iterable[Mapping[str, str]]) -> Iterable[SheetRow]:
    return (SheetRow(r, roster=True) for r in rows)


def generate(ws: Workspace, region_code: str | None = None,
             progress: Callable[[int, int], None] | None = None) -> list[Path]:
    """One template per village of `region_code` (default: the workspace's region) that has a roster."""
    within = ws.within(region_code).code
    batch = ws.store.roster_batch()
    jobs = [(str(ws.root), code, batch) for code in ws.store.roster_villages(within)]
    return run_all(_write_template, jobs, progress)


def _write_template(job: tuple[str, str, str]) -> Path:
    """One village's template; runs in a worker process with its own store connection."""
    root, code, batch = job
    ws = Workspace(Path(root))
    try:
        persons = ws.store.roster("persons", code)
        units = ws.store.roster("units", code)
        identity = Identity(kind="template", template_id=template_id(code), region_code=code, roster_batch=batch)
        return write_village_workbook(template_path(ws, code), code, identity, roster_rows(persons),
                                      roster_rows(units), blank_persons=blank_rows(len(persons)),
                                      blank_units=BLANK_UNITS)
    finally:
        ws.close()


def template_path(ws: Workspace, village_code: str) -> Path:
    name = regions.load().by_code[village_code].name
    return ws.village_folder(ws.templates, village_code) / f"{name}.xlsx"
