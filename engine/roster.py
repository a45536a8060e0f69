"""Import the 入户调查对象名册 (persons and units to visit) into the store.

Columns are matched by header in any order (see `reader`). Each row is checked with the
same cell checks as returned rows; a row with an error is reported with its row and
reason and left out, the good rows are kept. Rows outside the workspace's region are
refused, so a county imports only its own part of the city's roster.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from engine import regions
from engine.form import FORMS, Form
from engine.places import split_place
from engine.problems import Problem, problem
from engine.reader import RawRow, cell_text, read_submission
from engine.regions import Region
from engine.rules import RowContext, check_rows, row_key
from engine.workbook import region_values
from engine.workspace import Workspace

ROSTER_FIELDS: dict[str, tuple[str, ...]] = {
    "persons": ("person_no", "region_code", "id_number", "name", "sex", "birth_date", "identity", "hukou_type",
                "hukou_province", "hukou_city", "hukou_county", "home_street"),
    "units": ("region_code", "unit_no", "credit_code", "unit_name", "unit_type"),
}


@dataclass
class RosterImport:
    path: Path
    persons: int = 0
    units: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len({(p.sheet, p.row) for p in self.problems if p.severity == "error" and p.row})


def import_roster(ws: Workspace, path: Path, batch: str | None = None) -> RosterImport:
    result = RosterImport(path)
    sub = read_submission(path, roster=True)
    result.problems.extend(sub.problems)
    batch = batch or dt.datetime.now().strftime("%Y%m%d%H%M%S")
    within = ws.region
    today = dt.date.today()
    with ws.store.transaction():
        for sheet in sub.sheets:
            ctx = RowContext(sheet.name, sheet.form, today)
            good: list[dict[str, str]] = []
            seen: dict[str, int] = {}
            for raw, (values, problems) in zip(sheet.rows, _checked(sheet.rows, ctx, within.code), strict=True):
                key = row_key(sheet.form.kind, values)
                if not problems and key in seen:
                    problems.append(_duplicate(sheet.form, ctx, raw.row, seen[key]))
                result.problems.extend(problems)
                if not any(p.severity == "error" for p in problems):
                    seen[key] = raw.row
                    good.append(values)
            ws.store.add_roster(sheet.form.kind, good, batch)
            setattr(result, sheet.form.kind, getattr(result, sheet.form.kind) + len(good))
    return result


def _checked(rows: list[RawRow], ctx: RowContext, within: str) -> Iterator[tuple[dict[str, str], list[Problem]]]:
    """Each roster row's values and errors: the form's checks of a sheet's rows at once
    (`check_rows`), then region, 户口所在地 and 常住地 row by row."""
    kind = ctx.form.kind
    allowed = set(ROSTER_FIELDS[kind])
    places = [cell_text(raw.values.pop("hukou_place", None)) for raw in rows]
    roster_rows = [RawRow(raw.row, {k: v for k, v in raw.values.items() if k in allowed}) for raw in rows]
    region = regions.load().by_code.get(within)
    checks = check_rows(roster_rows, RowContext(ctx.sheet, _roster_form(kind), ctx.today, roster=True))
    for raw, place, checked in zip(rows, places, checks, strict=True):
        yield _extras(raw, ctx, region, place, checked.values, [p for p in checked.problems if p.severity == "error"])


def _extras(raw: RawRow, ctx: RowContext, region: Region | None, place: str, values: dict[str, str],
            problems: list[Problem]) -> tuple[dict[str, str], list[Problem]]:
    kind = ctx.form.kind
    code = values.get("region_code", "")
    if code and region is not None and not region.contains(code) and not problems:
        problems.append(problem("region_outside", sheet=ctx.sheet, row=raw.row, column="行政区划代码",
                                field="region_code", value=code, expected=region.name))
    if code in regions.load().by_code:
        values = region_values(code) | {k: v for k, v in values.items() if k not in ("province", "city")}
        values = _home(values)
    if place:
        values.update(zip(("hukou_province", "hukou_city", "hukou_county"), split_place(place), strict=True))
    if kind == "units":
        values["unit_key"] = row_key("units", values)
    return values, problems


@cache
def _roster_form(kind: str) -> Form:
    """The form with only the roster's columns, none of them required but the key's."""
    form = FORMS[kind]
    keep = set(ROSTER_FIELDS[kind])
    key_fields = {"id_number", "name"} if kind == "persons" else {"unit_name"}
    fields = tuple(f.model_copy(update={"required": f.key in key_fields}) for f in form.fields if f.key in keep)
    return form.model_copy(update={"fields": fields})


def _home(values: dict[str, str]) -> dict[str, str]:
    """The roster's village is where the person lives: pre-fill 常住地 from it."""
    street = values.get("home_street", "")
    for name in (values.get("province"), values.get("city"), values.get("county"), values.get("town"),
                 values.get("village")):
        if name and street.startswith(name):
            street = street[len(name):]
    return values | {
        "home_province": values.get("province", ""), "home_city": values.get("city", ""),
        "home_county": values.get("county", ""), "home_town": values.get("town", ""),
        "home_village": values.get("village", ""), "home_street": street,
    }


def _duplicate(form: Form, ctx: RowContext, row: int, first: int) -> Problem:
    name = "duplicate_in_file" if form.kind == "persons" else "duplicate_unit"
    f = form["id_number"] if form.kind == "persons" else form["unit_name"]
    return problem(name, sheet=ctx.sheet, row=row, column=f.label, field=f.key, first=first)
