"""Export a region's merged data in the form's own layout, for the next level up.

outbox/上报/<region code>-<region name>-<date>.xlsx holds the persons and units sheets
exactly as a template lays them out, plus an identity of kind "export" that names the
exporting region and level; a city workspace ingests it like any other workbook, and a
later export from the same region supersedes the earlier one. A sheet 退回待改 carries
the rows the region has returned for correction, so the level above counts them too.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from python_calamine import CalamineWorkbook

from engine.form import PERSONS, UNITS
from engine.workbook import FormWorkbook, Identity, SheetRow
from engine.workspace import Workspace

EXPORT_PREFIX = "CB-EXPORT-"
RETURNED_SHEET = "退回待改"
RETURNED_HEADERS = ("类别", "标识", "所在区划", "名册内")


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
        sheet = book.add_sheet(RETURNED_SHEET)
        sheet.write_row(0, 0, RETURNED_HEADERS)
        for r, row in enumerate(ws.store.pending_rows(region.code), start=1):
            sheet.write_row(r, 0, [str(v) for v in row])
        return book.close()
    except BaseException:
        book.abort()
        raise



def read_returned(path: Path) -> list[tuple[str, str, str, bool]]:
    """The 退回待改 rows an export carries: (kind, key, region code, on roster)."""
    try:
        book = CalamineWorkbook.from_path(str(path))
        if RETURNED_SHEET not in book.sheet_names:
            return []
        rows = book.get_sheet_by_name(RETURNED_SHEET).to_python()
    except Exception:   # the reader has already said what is wrong with an unreadable file
        return []
    return [(str(r[0]), str(r[1]), str(r[2]), str(r[3]) in ("1", "1.0", "True"))
            for r in rows[1:] if len(r) >= 4 and r[0] in ("persons", "units")]
