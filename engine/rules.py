"""The checks every returned row goes through, whatever the spreadsheet application said.

A row's raw cells become normalised values (codes as codes, IDs upgraded, dates as
YYYY-MM-DD) and the problems found: cell checks by field kind, derived from the form
(`columns`, where each distinct value is checked once), then the rules between fields.
`check_row` checks one row; `check_rows` checks a sheet's rows, to the same results, with
the garbage collector paused (about twice as fast on a county's sheet). Checks across
rows (duplicates, the roster, the store) live in `pipeline`; their messages, like all
others, in `problems`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter

from engine.bulk import gc_paused
from engine.columns import CellResult, Issue, cell_check, required_issue
from engine.form import OTHER_CODES, Field, Form
from engine.identifiers import IdCheck, birth_date, check_digit, check_id
from engine.problems import Problem, problem
from engine.reader import Cell, RawRow, cell_text

SEX_LABELS = {"1": "男", "2": "女"}
NO_UNIT_EMPLOYMENT = {"1", "2", "3", "5"}


@dataclass
class CheckedRow:
    row: int
    values: dict[str, str]
    problems: list[Problem] = field(default_factory=list)
    id_check: IdCheck | None = None    # the ID cell's check, for the rules between fields

    @property
    def ok(self) -> bool:
        return not self.problems or all(p.severity != "error" for p in self.problems)


@dataclass
class RowContext:
    sheet: str
    form: Form
    today: dt.date
    roster: bool = False     # a roster row: only the ID agreement rules apply


def check_rows(rows: Sequence[RawRow], ctx: RowContext) -> list[CheckedRow]:
    """Check a sheet's rows: `check_row` on each, without the garbage collector walking
    the rows made so far again and again (a county's sheet: see engine.bulk)."""
    with gc_paused():
        return [check_row(raw, ctx) for raw in rows]


def check_row(raw: RawRow, ctx: RowContext) -> CheckedRow:
    """Check one row (`check_rows` checks a sheet's rows faster)."""
    plan = _plan(ctx.form)
    cells = raw.values
    checked = CheckedRow(raw.row, cells.copy() if raw.trimmed else _texts(cells, plan))  # type: ignore[arg-type]
    values = checked.values
    found: list[tuple[int, Problem]] = []
    for f, key, lookup in plan.cells:
        cell = cells.get(key)
        if cell is None:
            if f.required and f.kind != "date":
                found.append(_cell_problem(ctx, plan, raw.row, f, required_issue(f)))
        elif lookup is None:      # the ID
            result = checked.id_check = check_id(cell, ctx.today)
            values[key] = result.number
            if result.problem is not None or result.upgraded:
                found += [_cell_problem(ctx, plan, raw.row, f, issue) for issue in _id_issues(result, cell)]
        else:
            value, issue = lookup(cell)
            if value:
                values[key] = value
            else:
                values.pop(key, None)
            if issue is not None:
                found.append(_cell_problem(ctx, plan, raw.row, f, issue))
    if not cells.keys() >= plan.text_required_keys:
        found += [_cell_problem(ctx, plan, raw.row, f, required_issue(f))
                  for f in plan.text_required if f.key not in cells]
    if found:
        checked.problems.extend(p for _, p in sorted(found, key=itemgetter(0)))
    for rule in _ROSTER_RULES[ctx.form.kind] if ctx.roster else _ROW_RULES[ctx.form.kind]:
        rule(checked, ctx)
    return checked


def report(checked: CheckedRow, ctx: RowContext, f: Field | None, name: str, value: object = "",
           **params: object) -> None:
    """Add a problem of rule `name` to the row, located at field `f`."""
    checked.problems.append(problem(
        name, sheet=ctx.sheet, row=checked.row, column=f.label if f else "", field=f.key if f else "",
        value=value, **params))


# -- cells ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """What checking a form's cells takes, worked out once per form."""

    cells: tuple[tuple[Field, str, Callable[[Cell], CellResult] | None], ...]   # checked fields, in order;
    text_keys: frozenset[str]                      # ... their check, None for the ID. Free text: trimmed
    text_required: tuple[Field, ...]
    text_required_keys: frozenset[str]
    keys: frozenset[str]
    position: dict[str, int]                       # field -> its place in the form


_PLANS: dict[int, tuple[Form, _Plan]] = {}


def _plan(form: Form) -> _Plan:
    known = _PLANS.get(id(form))
    if known is None or known[0] is not form:
        checks = {f.key: None if f.kind == "id_number" else cell_check(f) for f in form.fields}
        cells = tuple((f, f.key, None if check is None else check.lookup)
                      for f in form.fields if (check := checks[f.key]) is None or not check.text)
        texts = tuple(f for f in form.fields if (check := checks[f.key]) is not None and check.text)
        required = tuple(f for f in texts if f.required)
        known = form, _Plan(
            cells=cells, text_keys=frozenset(f.key for f in texts), text_required=required,
            text_required_keys=frozenset(f.key for f in required), keys=frozenset(form.keys),
            position={f.key: i for i, f in enumerate(form.fields)})
        _PLANS[id(form)] = known
    return known[1]


def _texts(cells: dict[str, Cell], plan: _Plan) -> dict[str, str]:
    """The row's free-text cells as text, the start of its values.

    A row like the reader's (trimmed text, the form's fields only) is copied whole; its
    other cells are then replaced by their checked values or dropped. Any other row is
    taken field by field."""
    values = [*cells.values()]
    try:
        if all(values) and list(map(str.strip, values)) == values and cells.keys() <= plan.keys:  # type: ignore[arg-type]
            return cells.copy()  # type: ignore[return-value]
    except TypeError:        # a cell that is not text
        pass
    texts = plan.text_keys
    return {k: text for k, v in cells.items() if k in texts and (text := cell_text(v))}


def _cell_problem(ctx: RowContext, plan: _Plan, row: int, f: Field, issue: Issue) -> tuple[int, Problem]:
    """A cell's problem, with its field's place in the form (problems are listed in that order)."""
    return plan.position[f.key], problem(issue.rule, sheet=ctx.sheet, row=row, column=f.label, field=f.key,
                                         value=issue.value, **dict(issue.params))


def _id_issues(result: IdCheck, raw: Cell) -> list[Issue]:
    trouble = result.problem
    if trouble is None and not result.upgraded:
        return []
    shown = cell_text(raw) if not isinstance(raw, float) else f"{raw:.15g}"
    number = result.number
    issues: list[Issue] = []
    if trouble == "check_digit":
        issues.append(Issue("id_check_digit", shown, (("expected", check_digit(number[:17])),)))
    elif trouble == "region":
        issues.append(Issue("id_region", shown, (("code", number[:6]),)))
    elif trouble is not None:
        issues.append(Issue(_ID_RULES[trouble], shown))
    if result.upgraded:
        issues.append(Issue("id_legacy", shown, (("upgraded", number),)))
    return issues


_ID_RULES = {"mangled": "id_mangled", "format": "id_format", "birth_date": "id_birth_date"}


# -- rules between fields -----------------------------------------------------------------


def _id_agrees(checked: CheckedRow, ctx: RowContext) -> None:
    """Sex and birth date agree with the ID; a missing birth date is taken from the ID."""
    result = checked.id_check
    if result is None or result.problem not in (None, "region"):
        return
    number = result.number
    values = checked.values
    sex = values.get("sex")
    id_sex = result.sex
    if sex in SEX_LABELS and sex != id_sex:
        report(checked, ctx, ctx.form["sex"], "sex_vs_id", f"{sex} {SEX_LABELS[sex]}",
               digit=number[16], expected=f"应为{SEX_LABELS[id_sex]}")
    birth = _iso_birth(number[6:14])
    given = values.get("birth_date")
    if given and given != birth:
        report(checked, ctx, ctx.form["birth_date"], "birth_vs_id", given, expected=birth)
    values["birth_date"] = birth
    if "sex" not in values and not any(p.field == "sex" for p in checked.problems):
        values["sex"] = id_sex


def _employment(checked: CheckedRow, ctx: RowContext) -> None:
    status = checked.values.get("employment")
    employer = checked.values.get("employer")
    if status == "0" and not employer:
        report(checked, ctx, ctx.form["employer"], "employer_missing")
    elif status in NO_UNIT_EMPLOYMENT and employer:
        report(checked, ctx, ctx.form["employer"], "employer_unexpected", _entry(ctx, "employment", status))


def _others(checked: CheckedRow, ctx: RowContext) -> None:
    for key, (other_code, other_key) in OTHER_CODES.items():
        if checked.values.get(key) == other_code and not checked.values.get(other_key):
            report(checked, ctx, ctx.form[other_key], "other_missing", chosen=ctx.form[key].label)


def _uninsured(checked: CheckedRow, ctx: RowContext) -> None:
    pension = checked.values.get("pension")
    reason = checked.values.get("uninsured_reason")
    if checked.problems and any(p.field in ("pension", "uninsured_reason") for p in checked.problems):
        return
    if not pension and not reason:
        report(checked, ctx, ctx.form["uninsured_reason"], "reason_missing")
    elif pension and reason:
        report(checked, ctx, ctx.form["uninsured_reason"], "reason_with_pension",
               _entry(ctx, "pension", pension))


def _phones(checked: CheckedRow, ctx: RowContext) -> None:
    if not checked.values.get("mobile") and not checked.values.get("landline"):
        report(checked, ctx, ctx.form["mobile"], "phone_missing")


_AGE_LIMITS: dict[str, tuple[int, int]] = {"0": (16, 200), "1": (0, 7), "2": (3, 40), "5": (40, 200)}


def _age(checked: CheckedRow, ctx: RowContext) -> None:
    status = checked.values.get("employment")
    birth = checked.values.get("birth_date")
    if status not in _AGE_LIMITS or not birth:
        return
    age = _ages(ctx.today)[birth]
    low, high = _AGE_LIMITS[status]
    if not low <= age <= high:
        report(checked, ctx, ctx.form["employment"], "age_implausible", _entry(ctx, "employment", status), age=age)


def _entry(ctx: RowContext, key: str, code: str) -> str:
    cl = ctx.form[key].code_list
    return f"{code} {cl.labels[code]}" if cl else code


class _Ages(dict[str, int]):
    """Birth date (YYYY-MM-DD) -> age in whole years on `today`, worked out once per date."""

    def __init__(self, today: dt.date) -> None:
        super().__init__()
        self.today = today

    def __missing__(self, birth: str) -> int:
        born = dt.date.fromisoformat(birth)
        today = self.today
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        if len(self) > 100_000:
            self.clear()
        self[birth] = age
        return age


_AGES: dict[dt.date, _Ages] = {}


def _ages(today: dt.date) -> _Ages:
    ages = _AGES.get(today)
    if ages is None:
        _AGES.clear()      # one day at a time
        ages = _AGES[today] = _Ages(today)
    return ages


class _IsoBirths(dict[str, str]):
    """An ID's birth digits (YYYYMMDD, a real day) -> YYYY-MM-DD."""

    def __missing__(self, digits: str) -> str:
        born = birth_date(digits)
        assert born is not None
        if len(self) > 100_000:
            self.clear()
        iso = self[digits] = born.isoformat()
        return iso


_iso_birth = _IsoBirths().__getitem__

_Rule = Callable[[CheckedRow, RowContext], None]
_ROW_RULES: dict[str, tuple[_Rule, ...]] = {
    "persons": (_id_agrees, _employment, _others, _uninsured, _phones, _age),
    "units": (),
}
_ROSTER_RULES: dict[str, tuple[_Rule, ...]] = {
    "persons": (_id_agrees,), "units": (),
}


def unit_key(values: dict[str, str]) -> str:
    """How a unit is known across files: its credit code, else its number, else region and name."""
    return (values.get("credit_code") or values.get("unit_no")
            or f"{values.get('region_code', '')}:{values.get('unit_name', '')}")


def row_key(kind: str, values: dict[str, str]) -> str:
    return values.get("id_number", "") if kind == "persons" else unit_key(values)
