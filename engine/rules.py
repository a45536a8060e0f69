"""The checks every returned row goes through, whatever the spreadsheet application said.

A row's raw cells become normalised values (codes as codes, IDs upgraded, dates as
YYYY-MM-DD) and the problems found: cell checks by field kind, derived from the form
(`columns`), then the rules between fields. A row lists its cell problems in the form's
order, then the rules' in theirs. Checks across rows (duplicates, the roster, the
store) live in `pipeline`; their messages, like all others, in `problems`.

`check_table` checks a sheet's rows as the reader gives them, as columns (`reader.Table`),
a field at a time, not a row at a time: a county's sheet has a hundred thousand rows,
and every step taken on each row, every object made for each, costs.
- A row's *pattern* is its code cells and which of the watched free-text fields (the
  required ones, those the rules on codes read) it leaves empty. A county's rows hold a
  few thousand patterns, each worked out once (`_Patterns`): the codes checked, the
  required fields left empty, what the rules on codes find. A row's pattern is one
  tuple, zipped from the columns; the code columns' values are read off the patterns.
- Every other checked field is taken down its column: a cell known to be its own value
  without a problem (`CellCheck.clean`) costs one C-level call, the others are looked
  up; the ID numbers are checked in one expression each (`identifiers.check_ids`).
- The rules that need a row's own values (sex and birth date against the ID, a phone,
  the age) run over the columns they need; only the rows that fail are looked at.
The result (`CheckedTable`) is the rows' values as columns and the problems of the rows
that have any: only those become rows of their own (`CheckedRow`), for their messages and
the receipt; the others go to the merge as columns. `check_rows` and `check_row` take
rows given one by one (a roster, a test). The garbage collector is paused while the
columns are made (engine.bulk).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import attrgetter, is_, itemgetter, not_
from typing import NamedTuple

from engine.bulk import gc_paused
from engine.columns import TABLE_LIMIT, CellCheck, Issue, cell_check, required_issue
from engine.form import OTHER_CODES, Field, Form
from engine.identifiers import IdCheck, birth_date, check_digit, check_ids, sex_of_digit
from engine.problems import Problem, problem
from engine.reader import Cell, RawRow, Table, cell_text

SEX_LABELS = {"1": "男", "2": "女"}
NO_UNIT_EMPLOYMENT = {"1", "2", "3", "5"}


@dataclass(slots=True)
class CheckedRow:
    row: int
    values: dict[str, str]
    problems: list[Problem] = field(default_factory=list)

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
    """Check a sheet's rows given one by one: `check_table` of them as columns."""
    with gc_paused():
        return check_table(Table.of_rows(rows, _plan(ctx.form).keys), ctx).rows()


def check_row(raw: RawRow, ctx: RowContext) -> CheckedRow:
    """Check one row: `check_rows` of that row alone."""
    return check_rows([raw], ctx)[0]


def check_table(table: Table, ctx: RowContext) -> CheckedTable:
    """Check a sheet's rows, given as columns: their values and cell problems, then the rules
    between fields (the module's docs say how)."""
    if not table.numbers:
        return CheckedTable([], {}, {})
    with gc_paused():
        sheet = _Sheet(table, ctx)
        for f, key, check in sheet.plan.columns:
            if check is None:
                sheet.check_ids(f, key)
            else:
                sheet.check_column(f, key, check)
        sheet.close_cells()
        for rule in _ROSTER_RULES[ctx.form.kind] if ctx.roster else _ROW_RULES[ctx.form.kind]:
            rule(sheet)
        return sheet.result


@dataclass
class CheckedTable:
    """A sheet's checked rows as columns: each row's values, and the problems of those with any."""

    numbers: list[int]                               # 1-based spreadsheet row of each row
    values: dict[str, list[str | None]]              # field -> each row's checked value (None or "": none)
    problems: dict[int, list[Problem]]               # row index -> its problems, in order

    def ok_rows(self) -> list[bool]:
        """Whether each row is accepted: none of its problems is an error."""
        ok = [True] * len(self.numbers)
        for i, found in self.problems.items():
            ok[i] = all(p.severity != "error" for p in found)
        return ok

    def report(self, i: int, ctx: RowContext, f: Field, name: str, value: object = "", **params: object) -> None:
        """Add a problem of rule `name` to row i, located at field `f`."""
        self.problems.setdefault(i, []).append(problem(
            name, sheet=ctx.sheet, row=self.numbers[i], column=f.label, field=f.key, value=value, **params))

    def values_of(self, i: int) -> dict[str, str]:
        """Row i's values, as a checked row holds them (fields with a value only)."""
        return {key: value for key, column in self.values.items() if (value := column[i])}

    def row(self, i: int) -> CheckedRow:
        return CheckedRow(self.numbers[i], self.values_of(i), list(self.problems.get(i, ())))

    def rows(self) -> list[CheckedRow]:
        """Every row as a CheckedRow (made a row at a time only here)."""
        keys = tuple(self.values)
        out = [CheckedRow(number, dict(compress(zip(keys, values, strict=True), values)))
               for number, values in zip(self.numbers, zip(*self.values.values(), strict=True), strict=True)]
        for i, found in self.problems.items():
            out[i].problems.extend(found)
        return out


# -- a sheet's cells ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """What checking a form's rows takes, worked out once per form."""

    patterns: dict[bool, _Patterns]                # by RowContext.roster (a roster row: no rules on codes)
    columns: tuple[tuple[Field, str, CellCheck | None], ...]   # the other checked fields, in order,
                                                   # ... with their check (None: the ID)
    text_keys: tuple[str, ...]                     # free text: only trimmed, in the form's order
    keys: tuple[str, ...]                          # the form's fields, in order
    position: dict[str, int]                       # field -> its place in the form


_PLANS: dict[int, tuple[Form, _Plan]] = {}


def _plan(form: Form) -> _Plan:
    known = _PLANS.get(id(form))
    if known is None or known[0] is not form:
        checks = {f.key: None if f.kind == "id_number" else cell_check(f) for f in form.fields}
        checked = tuple(f for f in form.fields if (check := checks[f.key]) is None or not check.text)
        texts = tuple(f for f in form.fields if f not in checked)
        known = form, _Plan(
            patterns={roster: _Patterns(form, tuple(f for f in checked if f.kind == "code"), texts,
                                        () if roster else _CODE_RULES[form.kind]) for roster in (False, True)},
            columns=tuple((f, f.key, checks[f.key]) for f in checked if f.kind != "code"),
            text_keys=tuple(f.key for f in texts), keys=tuple(form.keys),
            position={f.key: i for i, f in enumerate(form.fields)})
        _PLANS[id(form)] = known
    return known[1]


_Finding = tuple[Field, str, str, tuple[tuple[str, object], ...]]   # where, rule, value shown, params


class _Pattern(NamedTuple):
    """What a row's pattern (its code cells, the watched free text it leaves empty) makes of it."""

    values: dict[str, str]                       # its codes checked, where the cell keeps one
    issues: tuple[tuple[Field, Issue], ...]      # cell problems: the codes', required fields left empty
    findings: tuple[_Finding, ...]               # problems of the rules on codes, in their order
    plain: bool                                  # no code emptied, no issue


class _Patterns(dict[tuple[Cell | bool, ...], _Pattern]):
    """A row's pattern -> what it makes of the row, worked out once per pattern from the
    fields' own checks and the rules on codes. A pattern is a tuple: the row's cell in each
    code field (None where it has none), then for each watched free-text field (the required
    ones, and those the rules on codes read) whether the row leaves it empty. As in
    `columns.CellTable`, only patterns of text are kept."""

    def __init__(self, form: Form, codes: tuple[Field, ...], texts: tuple[Field, ...],
                 rules: tuple[_CodeRule, ...]) -> None:
        super().__init__()
        self.form, self.codes, self.rules = form, codes, rules
        self.code_keys = tuple(f.key for f in codes)
        self.lookups = tuple(cell_check(f).lookup for f in codes)
        self.required = tuple(f for f in texts if f.required)
        self.required_keys = frozenset(f.key for f in self.required)
        self.watched = tuple(f.key for f in texts if f.required or f.key in _READ_TEXTS)

    def __missing__(self, pattern: tuple[Cell | bool, ...]) -> _Pattern:
        cells, flags = pattern[:len(self.codes)], pattern[len(self.codes):]
        empty = frozenset(key for key, flag in zip(self.watched, flags, strict=True) if flag)
        values: dict[str, str] = {}
        emptied = False
        issues: list[tuple[Field, Issue]] = []
        for f, lookup, cell in zip(self.codes, self.lookups, cells, strict=True):
            if cell is None:
                if f.required:
                    issues.append((f, required_issue(f)))
                continue
            value, issue = lookup(cell)
            if value:
                values[f.key] = value
            else:
                emptied = True
            if issue is not None:
                issues.append((f, issue))
        issues += [(f, required_issue(f)) for f in self.required if f.key in empty]
        findings = tuple(finding for rule in self.rules for finding in rule(values, empty, issues, self.form))
        result = _Pattern(values, tuple(issues), findings, not emptied and not issues)
        if all(type(cell) is str or cell is None for cell in cells):
            if len(self) >= TABLE_LIMIT:
                self.clear()
            self[pattern] = result
        return result


class _Sheet:
    """A sheet's rows under check, as columns: their values (a list a field), patterns, ID
    checks and problems, which the rules between fields read and add to a column at a time."""

    def __init__(self, table: Table, ctx: RowContext) -> None:
        self.numbers, self.ctx, self.plan = table.numbers, ctx, _plan(ctx.form)
        self.size = size = len(table.numbers)
        blank: list[Cell] = [None] * size
        self.cells = cells = {key: table.cells.get(key) or blank for key in self.plan.keys}
        self.found: dict[int, list[tuple[int, Problem]]] = {}   # row -> (field's place, cell problem)
        self.result = CheckedTable(self.numbers, {}, {})        # once `close_cells`: values and problems
        self.ids: list[IdCheck | None] = [None] * size
        values: dict[str, list[str | None]] = {}
        for key in self.plan.text_keys:             # free text: as read, when the reader trimmed it
            trimmed = table.rough is not None and key not in table.rough
            values[key] = cells[key] if trimmed else list(map(_text_value, cells[key]))  # type: ignore[assignment]
        # The codes and the watched fields left empty, a row's pattern, worked out once each.
        patterns = self.plan.patterns[ctx.roster]
        flags = [map(_NONE, cells[key], repeat(None)) if key in patterns.required_keys else map(not_, values[key])
                 for key in patterns.watched]
        if patterns.code_keys or flags:
            found = list(map(patterns.__getitem__, zip(*(cells[key] for key in patterns.code_keys), *flags, strict=True)))
        else:
            found = [patterns[()]] * size
        self.patterns = found
        for key in patterns.code_keys:
            values[key] = list(map(dict.get, map(_VALUES, found), repeat(key)))
        for i in compress(range(size), map(not_, map(_PLAIN, found))):
            for f, issue in found[i].issues:
                self._report(i, f, issue)
        self.values = values

    def column(self, key: str) -> list[str | None]:
        """The rows' values of field `key` (None or "" where there is none)."""
        column = self.values.get(key)
        if column is None:
            column = self.values[key] = [None] * self.size
        return column

    def check_column(self, f: Field, key: str, check: CellCheck) -> None:
        """A field's cells down its column: only those not known clean are looked up."""
        column: list[Cell] = list(self.cells[key])
        lookup, required = check.lookup, f.required and f.kind != "date"
        for i in compress(range(len(column)), map(not_, check.clean(column))):
            cell = column[i]
            if cell is None:
                if required:
                    self._report(i, f, required_issue(f))
                continue
            value, issue = lookup(cell)
            if issue is not None:
                self._report(i, f, issue)
            column[i] = value or None
        self.values[key] = column  # type: ignore[assignment]   # the cells left are their values

    def check_ids(self, f: Field, key: str) -> None:
        """The ID numbers (`identifiers.check_ids`); an ID cell always has a value, if only ""."""
        cells = self.cells[key]
        at: Sequence[int] = range(self.size)
        if None in cells:
            at = [i for i, cell in enumerate(cells) if cell is not None]
            if f.required:
                for i in set(range(self.size)).difference(at):
                    self._report(i, f, required_issue(f))
        given = cells if len(at) == self.size else [cells[i] for i in at]
        results = check_ids(given, self.ctx.today)
        if len(at) == self.size:
            self.ids = results  # type: ignore[assignment]
        else:
            for i, result in zip(at, results, strict=True):
                self.ids[i] = result
        values: list[Cell] = list(cells)
        # the IDs not found as typed and good
        for j in [j for j, (number, trouble, upgraded) in enumerate(results)
                  if number is not given[j] or trouble is not None or upgraded]:
            for issue in _id_issues(results[j], given[j]):
                self._report(at[j], f, issue)
            values[at[j]] = results[j].number
        self.values[key] = values  # type: ignore[assignment]

    def close_cells(self) -> None:
        """The cell problems found, each row's in the form's order; the rules' come after."""
        self.result.problems = {i: [p for _, p in sorted(found, key=itemgetter(0))]
                                for i, found in sorted(self.found.items())}
        self.result.values = self.values = {key: self.values[key] for key in self.plan.keys if key in self.values}

    def report(self, i: int, f: Field, name: str, value: object = "", **params: object) -> None:
        """Add a problem of rule `name` to row i, located at field `f`."""
        self.result.report(i, self.ctx, f, name, value, **params)

    def _report(self, i: int, f: Field, issue: Issue) -> None:
        self.found.setdefault(i, []).append(_cell_problem(self.ctx, self.plan, self.numbers[i], f, issue))


_NONE = is_
_PLAIN = attrgetter("plain")
_VALUES = attrgetter("values")


def _text_value(cell: Cell) -> str | None:
    """A free-text cell's value: its text, None when empty."""
    return cell_text(cell) or None if cell is not None else None


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
# They run in this order, each over the whole sheet, adding its problems to the rows that
# fail it: a row's problems come in the order they would if it were checked alone.


def _id_agrees(sheet: _Sheet) -> None:
    """Sex and birth date agree with the ID; a missing birth date (or sex) is taken from it.
    Most rows agree, and that is seen by comparing text: the sex code with the one of the
    ID's 17th digit, the birth date without its dashes with the ID's birth digits."""
    form, ids = sheet.ctx.form, sheet.ids
    sexes, births = sheet.column("sex"), sheet.column("birth_date")
    disagree = [i for i, result, sex, date in zip(range(len(ids)), ids, sexes, births, strict=True)
                if result is not None and result.problem in _AGREEABLE
                and (sex != sex_of_digit(result.number[16]) or not date
                     or date.replace("-", "") != result.number[6:14])]
    for i in disagree:
        result = ids[i]
        assert result is not None
        number, id_sex, sex = result.number, result.sex, sexes[i]
        if sex in SEX_LABELS and sex != id_sex:
            sheet.report(i, form["sex"], "sex_vs_id", f"{sex} {SEX_LABELS[sex]}",
                         digit=number[16], expected=f"应为{SEX_LABELS[id_sex]}")
        birth, date = _iso_birth(number[6:14]), births[i]
        if date and date != birth:
            sheet.report(i, form["birth_date"], "birth_vs_id", date, expected=birth)
        births[i] = birth
        if not sex and not any(p.field == "sex" for p in sheet.result.problems.get(i, ())):
            sexes[i] = id_sex


_AGREEABLE = {None, "region"}     # ID problems that leave its sex and birth date to be read


def _code_findings(sheet: _Sheet) -> None:
    """The rules on codes, judged once per pattern (`_CODE_RULES`), added to its rows."""
    patterns = sheet.patterns
    for i in compress(range(len(patterns)), map(_FINDINGS, patterns)):
        for f, name, value, params in patterns[i].findings:
            sheet.report(i, f, name, value, **dict(params))


_FINDINGS = attrgetter("findings")


def _phones(sheet: _Sheet) -> None:
    mobile, landlines = sheet.ctx.form["mobile"], sheet.column("landline")
    for i in compress(range(len(landlines)), map(not_, sheet.column("mobile"))):
        if not landlines[i]:
            sheet.report(i, mobile, "phone_missing")


_AGE_LIMITS: dict[str, tuple[int, int]] = {"0": (16, 200), "1": (0, 7), "2": (3, 40), "5": (40, 200)}


def _age(sheet: _Sheet) -> None:
    """An age the employment status makes implausible (`_AGE_LIMITS`), seen on the birth
    date as text: the status's bounds today (`_birth_bounds`)."""
    ctx, employment, today = sheet.ctx, sheet.ctx.form["employment"], sheet.ctx.today
    statuses, births, bounds = sheet.column("employment"), sheet.column("birth_date"), _birth_bounds(today)
    for i in compress(range(len(statuses)), map(bounds.__contains__, statuses)):
        birth, status = births[i], statuses[i]
        if birth and not bounds[status][0] < birth <= bounds[status][1]:
            sheet.report(i, employment, "age_implausible", _entry(ctx.form, "employment", status),  # type: ignore[arg-type]
                         age=_ages(today)[birth])


def _birth_bounds(today: dt.date) -> dict[str | None, tuple[str, str]]:
    """Employment status -> the birth dates (YYYY-MM-DD) its ages allow today: after the
    first, up to the last. Aged n or more today is born on or before today's month and
    day n years back; as text that day may not exist (02-29), and texts compare as dates."""
    def back(years: int) -> str:
        return f"{today.year - years:04d}-{today.month:02d}-{today.day:02d}"

    return {status: (back(high + 1), back(low)) for status, (low, high) in _AGE_LIMITS.items()}


# Rules on codes, and on whether a free-text field they read is empty: each pattern's
# codes checked, the watched fields it leaves empty and its cell problems -> what they find.


def _employment(codes: dict[str, str], empty: frozenset[str], issues: list[tuple[Field, Issue]],
                form: Form) -> Iterator[_Finding]:
    status = codes.get("employment")
    if status == "0" and "employer" in empty:
        yield form["employer"], "employer_missing", "", ()
    elif status in NO_UNIT_EMPLOYMENT and "employer" not in empty:
        yield form["employer"], "employer_unexpected", _entry(form, "employment", status), ()


def _others(codes: dict[str, str], empty: frozenset[str], issues: list[tuple[Field, Issue]],
            form: Form) -> Iterator[_Finding]:
    for key, (other_code, other_key) in OTHER_CODES.items():
        if codes.get(key) == other_code and other_key in empty:
            yield form[other_key], "other_missing", "", (("chosen", form[key].label),)


def _uninsured(codes: dict[str, str], empty: frozenset[str], issues: list[tuple[Field, Issue]],
               form: Form) -> Iterator[_Finding]:
    if any(f.key in ("pension", "uninsured_reason") for f, _ in issues):
        return
    pension, reason = codes.get("pension"), codes.get("uninsured_reason")
    if not pension and not reason:
        yield form["uninsured_reason"], "reason_missing", "", ()
    elif pension and reason:
        yield form["uninsured_reason"], "reason_with_pension", _entry(form, "pension", pension), ()


_READ_TEXTS = {"employer", *(other_key for _, other_key in OTHER_CODES.values())}  # the free text they read


def _entry(form: Form, key: str, code: str) -> str:
    cl = form[key].code_list
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

_Rule = Callable[[_Sheet], None]
_ROW_RULES: dict[str, tuple[_Rule, ...]] = {
    "persons": (_id_agrees, _code_findings, _phones, _age),     # _code_findings: _CODE_RULES' turn
    "units": (),
}
_ROSTER_RULES: dict[str, tuple[_Rule, ...]] = {
    "persons": (_id_agrees,), "units": (),
}
_CodeRule = Callable[[dict[str, str], frozenset[str], list[tuple[Field, Issue]], Form], Iterator[_Finding]]
_CODE_RULES: dict[str, tuple[_CodeRule, ...]] = {
    "persons": (_employment, _others, _uninsured),
    "units": (),
}


def unit_key(values: dict[str, str]) -> str:
    """How a unit is known across files: its credit code, else its number, else region and name."""
    return (values.get("credit_code") or values.get("unit_no")
            or f"{values.get('region_code', '')}:{values.get('unit_name', '')}")


def row_key(kind: str, values: dict[str, str]) -> str:
    return values.get("id_number", "") if kind == "persons" else unit_key(values)


def row_keys(kind: str, values: dict[str, list[str | None]]) -> list[str]:
    """`row_key` of each row of a sheet given as columns (None or "": no value)."""
    size = len(next(iter(values.values()), ()))
    if kind == "persons":
        return [number or "" for number in values.get("id_number") or [None] * size]
    blank: list[str | None] = [None] * size
    return [unit_key({k: v for k, v in zip(("credit_code", "unit_no", "region_code", "unit_name"), row, strict=True) if v})
            for row in zip(*(values.get(k) or blank for k in ("credit_code", "unit_no", "region_code", "unit_name")),
                           strict=True)]
