"""The checks every returned row goes through, whatever the spreadsheet application said.

`check_row` turns one raw row into normalised values (codes as codes, IDs upgraded,
dates as YYYY-MM-DD) and the problems found: cell checks by field kind, derived from
the form, then the rules between fields. Checks across rows (duplicates, the roster,
the store) live in `pipeline`; their messages, like all others, in `problems`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from engine import regions
from engine.form import OTHER_CODES, Field, Form
from engine.identifiers import IdCheck, check_credit_code, check_digit, check_id, credit_check_char
from engine.problems import Problem, problem
from engine.reader import Cell, RawRow, cell_text

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_PHONE_NOISE = re.compile(r"[\s()（）]")
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
        return not any(p.severity == "error" for p in self.problems)


@dataclass
class RowContext:
    sheet: str
    form: Form
    today: dt.date
    roster: bool = False     # a roster row: only the ID agreement rules apply


def check_row(raw: RawRow, ctx: RowContext) -> CheckedRow:
    checked = CheckedRow(row=raw.row, values={})
    for f in ctx.form.fields:
        _check_cell(f, raw.values.get(f.key), checked, ctx)
    for rule in _ROSTER_RULES[ctx.form.kind] if ctx.roster else _ROW_RULES[ctx.form.kind]:
        rule(checked, ctx)
    return checked


def report(checked: CheckedRow, ctx: RowContext, f: Field | None, name: str, value: object = "",
           **params: object) -> None:
    """Add a problem of rule `name` to the row, located at field `f`."""
    checked.problems.append(problem(
        name, sheet=ctx.sheet, row=checked.row, column=f.label if f else "", field=f.key if f else "",
        value=value, **params))


# -- cells --------------------------------------------------------------------------------


def _check_cell(f: Field, raw: Cell, checked: CheckedRow, ctx: RowContext) -> None:
    if raw is None:
        if f.required and f.kind != "date":
            report(checked, ctx, f, "required", hint=f.prompt)
        return
    text = cell_text(raw)
    if f.kind == "id_number":
        _check_id(f, raw, checked, ctx)
        return
    value = _CELL_CHECKS[f.kind](f, text, raw, checked, ctx)
    if value:
        checked.values[f.key] = value


def _as_text(f: Field, text: str, raw: Cell, checked: CheckedRow, ctx: RowContext) -> str:
    return text


def _as_code(f: Field, text: str, raw: Cell, checked: CheckedRow, ctx: RowContext) -> str:
    cl = f.code_list
    assert cl is not None
    code = cl.parse(text)
    if code is None:
        report(checked, ctx, f, "code_invalid", text, example=cl.codes[0].entry)
        return ""
    return code


def _as_date(f: Field, text: str, raw: Cell, checked: CheckedRow, ctx: RowContext) -> str:
    if isinstance(raw, dt.datetime):
        return raw.date().isoformat()
    if isinstance(raw, dt.date):
        return raw.isoformat()
    m = _DATE.match(text) or re.match(r"^(\d{4})(\d{2})(\d{2})$", text)
    try:
        if m is None:
            raise ValueError(text)
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
    except ValueError:
        report(checked, ctx, f, "date_format", text)
        return ""


def _as_mobile(f: Field, text: str, raw: Cell, checked: CheckedRow, ctx: RowContext) -> str:
    number = _PHONE_NOISE.sub("", text).replace("-", "")
    if not _MOBILE.match(number):
        report(checked, ctx, f, "mobile_format", text)
    return number


def _as_phone(f: Field, text: str, raw: Cell, checked: CheckedRow, ctx: RowContext) -> str:
    number = _PHONE_NOISE.sub("", text)
    if not (_LANDLINE.match(number) or _MOBILE.match(number.replace("-", ""))):
        report(checked, ctx, f, "phone_format", text)
    return number


def _as_credit_code(f: Field, text: str, raw: Cell, checked: CheckedRow, ctx: RowContext) -> str:
    code, trouble = check_credit_code(text)
    if trouble == "format":
        report(checked, ctx, f, "credit_code_format", text)
    elif trouble == "check_char":
        report(checked, ctx, f, "credit_code_check", text, expected=credit_check_char(code[:17]))
    return code


def _as_region(f: Field, text: str, raw: Cell, checked: CheckedRow, ctx: RowContext) -> str:
    region = regions.load().get(text)
    if region is None or region.level != "village":
        report(checked, ctx, f, "region_unknown", text)
    return text


_CELL_CHECKS: dict[str, Callable[[Field, str, Cell, CheckedRow, RowContext], str]] = {
    "text": _as_text, "code": _as_code, "date": _as_date, "mobile": _as_mobile,
    "phone": _as_phone, "credit_code": _as_credit_code, "region_code": _as_region,
}


def _check_id(f: Field, raw: Cell, checked: CheckedRow, ctx: RowContext) -> None:
    result = check_id(raw, ctx.today)
    checked.id_check = result
    checked.values[f.key] = result.number
    shown = cell_text(raw) if not isinstance(raw, float) else f"{raw:.15g}"
    if result.problem == "mangled":
        report(checked, ctx, f, "id_mangled", shown)
    elif result.problem == "format":
        report(checked, ctx, f, "id_format", shown)
    elif result.problem == "birth_date":
        report(checked, ctx, f, "id_birth_date", shown)
    elif result.problem == "check_digit":
        report(checked, ctx, f, "id_check_digit", shown, expected=check_digit(result.number[:17]))
    elif result.problem == "region":
        report(checked, ctx, f, "id_region", shown, code=result.number[:6])
    if result.upgraded:
        report(checked, ctx, f, "id_legacy", shown, upgraded=result.number)


# -- rules between fields -----------------------------------------------------------------


def _id_agrees(checked: CheckedRow, ctx: RowContext) -> None:
    """Sex and birth date agree with the ID; a missing birth date is taken from the ID."""
    result = checked.id_check
    if result is None or result.problem not in (None, "region"):
        return
    number = result.number
    sex = checked.values.get("sex")
    if sex in SEX_LABELS and sex != result.sex:
        report(checked, ctx, ctx.form["sex"], "sex_vs_id", f"{sex} {SEX_LABELS[sex]}",
               digit=number[16], expected=f"应为{SEX_LABELS[result.sex]}")
    birth = result.birth_date
    assert birth is not None
    given = checked.values.get("birth_date")
    if given and given != birth.isoformat():
        report(checked, ctx, ctx.form["birth_date"], "birth_vs_id", given, expected=birth.isoformat())
    checked.values["birth_date"] = birth.isoformat()
    if "sex" not in checked.values and not any(p.field == "sex" for p in checked.problems):
        checked.values["sex"] = result.sex


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
    invalid = {p.field for p in checked.problems}
    if "pension" in invalid or "uninsured_reason" in invalid:
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
    born = dt.date.fromisoformat(birth)
    age = ctx.today.year - born.year - ((ctx.today.month, ctx.today.day) < (born.month, born.day))
    low, high = _AGE_LIMITS[status]
    if not low <= age <= high:
        report(checked, ctx, ctx.form["employment"], "age_implausible", _entry(ctx, "employment", status), age=age)


def _entry(ctx: RowContext, key: str, code: str) -> str:
    cl = ctx.form[key].code_list
    return f"{code} {cl.labels[code]}" if cl else code


_ROW_RULES: dict[str, tuple[Callable[[CheckedRow, RowContext], None], ...]] = {
    "persons": (_id_agrees, _employment, _others, _uninsured, _phones, _age),
    "units": (),
}
_ROSTER_RULES: dict[str, tuple[Callable[[CheckedRow, RowContext], None], ...]] = {
    "persons": (_id_agrees,), "units": (),
}


def unit_key(values: dict[str, str]) -> str:
    """How a unit is known across files: its credit code, else its number, else region and name."""
    return (values.get("credit_code") or values.get("unit_no")
            or f"{values.get('region_code', '')}:{values.get('unit_name', '')}")


def row_key(kind: str, values: dict[str, str]) -> str:
    return values.get("id_number", "") if kind == "persons" else unit_key(values)
