"""Export a region's merged data in the form's own layout, for the next level up.

outbox/上报/<region code>-<region name>-<date>.xlsx holds the persons and units sheets
exactly as a template lays them out, plus an identity of kind "export" that names the
exporting region and level; a city workspace ingests it like any other workbook, and a
later export from the same region supersedes the earlier one.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from engine.form import PERSONS, UNITS
from engine.workbook import FormWorkbook, Identity, SheetRow
from engine.workspace import Workspace

EXPORT_PREFIX = "CB-EXPORT-"


def export_id(region_code: str) -> str:
    return f"{EXPORT_PREFIX}{region_code}"


def export(ws: Workspace, region_code: str | None = None) -> Path:
    region = ws.within(region_code)
    path = ws.exports / f"{region.code}-{region.name}-{dt.datetime.now():%Y%m%d-%H%M%S}.xlsx"
    identity = Identity(kind="export", template_id=export_id(region.code), region_code=region.code,
                        roster_batch=ws.store.roster_batch(), level=region.level)
    book = FormWorkbook(path, identity, protect=False)
    try:
        for form in (PERSONS, UNITS):
            rows = (SheetRow(r) for r in ws.store.records(form.kind, region.code))
            book.add_form_sheet(form, rows, title=f"{region.name}　{form.name}　上报数据（{region.code}）",
                                derived=True)
        return book.close()
    except BaseException:
        book.abort()
        raise

