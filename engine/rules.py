"""The checks every returned row goes through, whatever the spreadsheet application said.

A row's raw cells become normalised values (codes as codes, IDs upgraded, dates as
YYYY-MM-DD) and the problems found: cell checks by field kind, derived from the form
(`columns`), then the rules between fields. A row lists its cell problems in the form's
order, then the rules' in theirs. Checks across rows (duplicates, the roster, the
store) live in `pipeline`; their messages, like all others, in `problems`.

`check_rows` checks a sheet's rows a field at a time, not a row at a time: a county's
sheet has a hundred thousand rows, and every step taken on each row costs.
- A row's *pattern* is its code cells and which of the watched free-text fields (the
  required ones, those the rules on codes read) it leaves empty. A county's rows hold a
  few thousand patterns, each worked out once (`_Patterns`): the codes checked, the
  required fields left empty, what the rules on codes find. The rows come in a few
  hundred *shapes* (the fields they fill, in order), so reading a row's pattern takes
  a lookup and one C-level call; its values are its cells merged with its codes.
- Every other checked field is taken down its column: a cell known to be its own value
  without a problem (`CellCheck.clean`) costs one C-level call, the others are looked
  up; the ID numbers are checked in one expression each (`identifiers.check_ids`).
- The rules that need a row's own values (sex and birth date against the ID, a phone,
  the age) run over the columns they need; only the rows that fail are looked at.
`check_row` is `check_rows` of one row. The garbage collector is paused while the rows
are made (engine.bulk).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import attrgetter, call, itemgetter, not_
from typing import NamedTuple

from engine.bulk import gc_paused
from engine.columns import TABLE_LIMIT, CellCheck, Issue, cell_check, required_issue
from engine.form import OTHER_CODES, Field, Form
from engine.identifiers import IdCheck, birth_date, check_digit, check_ids, sex_of_digit
from engine.problems import Problem, problem
from engine.reader import Cell, RawRow, cell_text

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
    """Check a sheet's rows: their values and cell problems, then the rules between fields
    (the module's docs say how)."""
    with gc_paused():
        sheet = _Sheet(rows, ctx)
        for f, key, check in sheet.plan.columns:
            if check is None:
                sheet.check_ids(f, key)
            else:
                sheet.check_column(f, key, check)
        sheet.make_rows()
        for rule in _ROSTER_RULES[ctx.form.kind] if ctx.roster else _ROW_RULES[ctx.form.kind]:
            rule(sheet)
        return sheet.checked


def check_row(raw: RawRow, ctx: RowContext) -> CheckedRow:
    """Check one row: `check_rows` of that row alone."""
    return check_rows([raw], ctx)[0]


def report(checked: CheckedRow, ctx: RowContext, f: Field | None, name: str, value: object = "",
           **params: object) -> None:
    """Add a problem of rule `name` to the row, located at field `f`."""
    checked.problems.append(problem(
        name, sheet=ctx.sheet, row=checked.row, column=f.label if f else "", field=f.key if f else "",
        value=value, **params))


# -- a sheet's cells ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """What checking a form's rows takes, worked out once per form."""

    patterns: dict[bool, _Patterns]                # by RowContext.roster (a roster row: no rules on codes)
    columns: tuple[tuple[Field, str, CellCheck | None], ...]   # the other checked fields, in order,
    column_keys: tuple[str, ...]                   # ... with their check (None: the ID); their keys
    checked_keys: tuple[str, ...]                  # all checked fields, in order
    text_keys: frozenset[str]                      # free text: only trimmed
    keys: frozenset[str]
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
            column_keys=tuple(f.key for f in checked if f.kind != "code"),
            checked_keys=tuple(f.key for f in checked), text_keys=frozenset(f.key for f in texts),
            keys=frozenset(form.keys), position={f.key: i for i, f in enumerate(form.fields)})
        _PLANS[id(form)] = known
    return known[1]


_Finding = tuple[Field, str, str, tuple[tuple[str, object], ...]]   # where, rule, value shown, params


class _Pattern(NamedTuple):
    """What a row's pattern (its code cells, the watched free text it leaves empty) makes of it."""

    values: dict[str, str]                       # its codes checked, where the cell keeps one
    emptied: tuple[str, ...]                     # code fields whose cell keeps nothing
    issues: tuple[tuple[Field, Issue], ...]      # cell problems: the codes', required fields left empty
    findings: tuple[_Finding, ...]               # problems of the rules on codes, in their order
    plain: bool                                  # no emptied code, no issue


_Head = tuple[tuple[str, ...], frozenset[str]]    # the code fields filled, the watched fields left empty


class _Patterns(dict[tuple[_Head, tuple[Cell, ...]], _Pattern]):
    """A row's pattern -> what it makes of the row, worked out once per pattern from the
    fields' own checks and the rules on codes. A pattern is given as the code fields the
    row fills and the watched free-text fields it leaves empty (the required ones, and
    those the rules on codes read), then its code cells. As in `columns.CellTable`, only
    patterns of text are kept."""

    def __init__(self, form: Form, codes: tuple[Field, ...], texts: tuple[Field, ...],
                 rules: tuple[_CodeRule, ...]) -> None:
        super().__init__()
        self.form, self.codes, self.rules = form, codes, rules
        self.code_keys = tuple(f.key for f in codes)
        self.lookups = tuple(cell_check(f).lookup for f in codes)
        self.required = tuple(f for f in texts if f.required)
        self.required_keys = frozenset(f.key for f in self.required)
        self.read_keys = frozenset(f.key for f in texts if f.key in _READ_TEXTS)
        self.watched = self.required_keys | self.read_keys
        self.shapes = _Shapes(self)

    def __missing__(self, pattern: tuple[_Head, tuple[Cell, ...]]) -> _Pattern:
        (filled, empty), filled_cells = pattern
        cells = dict(zip(filled, filled_cells, strict=True))
        values: dict[str, str] = {}
        emptied: list[str] = []
        issues: list[tuple[Field, Issue]] = []
        for f, lookup in zip(self.codes, self.lookups, strict=True):
            cell = cells.get(f.key)
            if cell is None:
                if f.required:
                    issues.append((f, required_issue(f)))
                continue
            value, issue = lookup(cell)
            if value:
                values[f.key] = value
            else:
                emptied.append(f.key)
            if issue is not None:
                issues.append((f, issue))
        issues += [(f, required_issue(f)) for f in self.required if f.key in empty]
        findings = tuple(finding for rule in self.rules for finding in rule(values, empty, issues, self.form))
        result = _Pattern(values, tuple(emptied), tuple(issues), findings, not emptied and not issues)
        if all(type(cell) is str for cell in filled_cells):
            if len(self) >= TABLE_LIMIT:
                self.clear()
            self[pattern] = result
        return result


class _Shape(NamedTuple):
    """How the checks read a row whose values start with these fields, in this order."""

    head: _Head                                              # its pattern's head (`_Patterns`)
    codes: Callable[[dict[str, Cell]], tuple[Cell, ...]]     # its code cells, as filled


class _Shapes(dict[tuple[str, ...], _Shape]):
    """The fields a row's values start with, in order -> its `_Shape`. A county's rows
    come in a few hundred shapes: a row's pattern then costs a lookup and one C-level call."""

    def __init__(self, patterns: _Patterns) -> None:
        super().__init__()
        self.patterns = patterns

    def __missing__(self, keys: tuple[str, ...]) -> _Shape:
        patterns = self.patterns
        filled = tuple(key for key in patterns.code_keys if key in keys)
        shape = _Shape((filled, patterns.watched.difference(keys)), _getter(filled))
        if len(self) >= TABLE_LIMIT:
            self.clear()
        self[keys] = shape
        return shape

    def empty(self, shape: _Shape, raw: dict[str, Cell]) -> _Head:
        """The head of a row not as the reader gives it: its required fields are empty when
        it has no cell there (a cell of spaces leaves its values without that field)."""
        patterns = self.patterns
        filled, empty = shape.head
        return filled, (empty - patterns.required_keys) | patterns.required_keys.difference(raw)


def _getter(keys: tuple[str, ...]) -> Callable[[dict[str, Cell]], tuple[Cell, ...]]:
    """A row's cells in `keys`, all filled, as a tuple: one C-level call for two or more."""
    if len(keys) > 1:
        return itemgetter(*keys)
    return lambda row: tuple(row[key] for key in keys)


class _Sheet:
    """A sheet's rows under check: their values (a dict a row), patterns, ID checks and
    cell problems, then the checked rows, which the rules between fields read a column
    at a time."""

    def __init__(self, rows: Sequence[RawRow], ctx: RowContext) -> None:
        self.rows, self.ctx, self.plan = rows, ctx, _plan(ctx.form)
        self.cells = cells = [raw.values for raw in rows]
        self.found: dict[int, list[tuple[int, Problem]]] = {}   # row -> (field's place, problem)
        self.ids: list[IdCheck | None] = [None] * len(rows)
        self.columns: dict[str, list[str | None]] = {}          # see `column`
        self.checked: list[CheckedRow] = []
        # A row's values start as its cells with its codes checked, from its pattern; a row
        # not like the reader's starts from `_start`.
        self.patterns_of = patterns = self.plan.patterns[ctx.roster]
        like = None if all(map(_TRIMMED, rows)) else [raw.trimmed or _like_read(row, self.plan)
                                                      for raw, row in zip(rows, cells, strict=True)]
        if like is None or all(like):
            starts = cells
            shapes = list(map(patterns.shapes.__getitem__, map(tuple, cells)))
            heads: Iterable[_Head] = map(_HEAD, shapes)
        else:
            starts = [row if read else _start(row, self.plan) for read, row in zip(like, cells, strict=True)]
            shapes = list(map(patterns.shapes.__getitem__, map(tuple, starts)))
            heads = [shape.head if read else patterns.shapes.empty(shape, row)
                     for read, row, shape in zip(like, cells, shapes, strict=True)]
        codes = map(call, map(_CODES, shapes), starts)
        self.patterns = found = list(map(patterns.__getitem__, zip(heads, codes, strict=True)))
        self.values: list[dict[str, str]] = list(map(dict.__or__, starts, map(itemgetter(0), found)))
        for i in compress(range(len(found)), map(not_, map(_PLAIN, found))):
            for key in found[i].emptied:
                self.values[i].pop(key, None)
            for f, issue in found[i].issues:
                self._report(i, f, issue)

    def column(self, key: str) -> list[str | None]:
        """The rows' values of field `key` (None or "" where there is none), read once."""
        column = self.columns.get(key)
        if column is None:
            if key in self.patterns_of.code_keys:
                column = list(map(dict.get, map(itemgetter(0), self.patterns), repeat(key)))
            else:
                column = list(map(dict.get, self.values, repeat(key)))
            self.columns[key] = column
        return column

    def check_column(self, f: Field, key: str, check: CellCheck) -> None:
        """A field's cells down its column: only those not known clean are looked up."""
        column: list[Cell] = list(map(dict.get, self.cells, repeat(key)))
        lookup, values, required = check.lookup, self.values, f.required and f.kind != "date"
        for i in compress(range(len(column)), map(not_, check.clean(column))):
            cell = column[i]
            if cell is None:
                if required:
                    self._report(i, f, required_issue(f))
                continue
            value, issue = lookup(cell)
            if issue is not None:
                self._report(i, f, issue)
            if not value:
                values[i].pop(key, None)
            elif value != cell:
                values[i][key] = value
            column[i] = value
        self.columns[key] = column  # type: ignore[assignment]   # the cells left are their values

    def check_ids(self, f: Field, key: str) -> None:
        """The ID numbers (`identifiers.check_ids`); an ID cell always has a value, if only ""."""
        at, cells = self._cells(f, key)
        results = check_ids(cells, self.ctx.today)
        if len(at) == len(self.ids):
            self.ids = results  # type: ignore[assignment]
        else:
            for i, result in zip(at, results, strict=True):
                self.ids[i] = result
        # the IDs not found as typed and good
        for j in [j for j, (number, trouble, upgraded) in enumerate(results)
                  if number is not cells[j] or trouble is not None or upgraded]:
            for issue in _id_issues(results[j], cells[j]):
                self._report(at[j], f, issue)
            self.values[at[j]][key] = results[j].number

    def make_rows(self) -> None:
        """The checked rows: values, cell problems in the form's order. (The ID checks stay
        with the sheet, for the rules between fields: a county's rows outlive them.)"""
        self.checked = list(map(CheckedRow, map(_ROW, self.rows), self.values,
                                map(list, repeat((), len(self.rows)))))
        for i, found in self.found.items():
            self.checked[i].problems.extend(p for _, p in sorted(found, key=itemgetter(0)))

    def _cells(self, f: Field, key: str) -> tuple[Sequence[int], list[Cell]]:
        """The rows with a cell in field `key` and those cells; an empty required cell is reported."""
        column = list(map(dict.get, self.cells, repeat(key)))
        if None not in column:
            return range(len(column)), column
        at = [i for i, cell in enumerate(column) if cell is not None]
        if f.required and f.kind != "date":
            for i in set(range(len(column))).difference(at):
                self._report(i, f, required_issue(f))
        return at, [column[i] for i in at]

    def _report(self, i: int, f: Field, issue: Issue) -> None:
        self.found.setdefault(i, []).append(_cell_problem(self.ctx, self.plan, self.rows[i].row, f, issue))


_TRIMMED = attrgetter("trimmed")
_ROW = attrgetter("row")
_PLAIN = attrgetter("plain")
_HEAD = attrgetter("head")
_CODES = attrgetter("codes")


def _like_read(cells: dict[str, Cell], plan: _Plan) -> bool:
    """Whether a row not marked trimmed reads like the reader's: trimmed text only, in the
    form's fields (it is then checked as one)."""
    values = [*cells.values()]
    try:
        return all(values) and list(map(str.strip, values)) == values and cells.keys() <= plan.keys  # type: ignore[arg-type]
    except TypeError:        # a cell that is not text
        return False


def _start(cells: dict[str, Cell], plan: _Plan) -> dict[str, Cell]:
    """The values a row not like the reader's starts from: its free-text cells as text,
    then its checked fields' cells in the form's order, each to be replaced by its checked
    value (or dropped) as a reader's row's are."""
    texts = plan.text_keys
    start: dict[str, Cell] = {k: text for k, v in cells.items() if k in texts and (text := cell_text(v))}
    start.update((key, cells[key]) for key in plan.checked_keys if key in cells)
    return start


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
    ctx, form, checked, values, ids = sheet.ctx, sheet.ctx.form, sheet.checked, sheet.values, sheet.ids
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
            report(checked[i], ctx, form["sex"], "sex_vs_id", f"{sex} {SEX_LABELS[sex]}",
                   digit=number[16], expected=f"应为{SEX_LABELS[id_sex]}")
        birth, date = _iso_birth(number[6:14]), births[i]
        if date and date != birth:
            report(checked[i], ctx, form["birth_date"], "birth_vs_id", date, expected=birth)
        values[i]["birth_date"] = births[i] = birth
        if not sex and not any(p.field == "sex" for p in checked[i].problems):
            values[i]["sex"] = sexes[i] = id_sex


_AGREEABLE = {None, "region"}     # ID problems that leave its sex and birth date to be read


def _code_findings(sheet: _Sheet) -> None:
    """The rules on codes, judged once per pattern (`_CODE_RULES`), added to its rows."""
    ctx, checked, patterns = sheet.ctx, sheet.checked, sheet.patterns
    for i in compress(range(len(patterns)), map(_FINDINGS, patterns)):
        for f, name, value, params in patterns[i].findings:
            report(checked[i], ctx, f, name, value, **dict(params))


_FINDINGS = attrgetter("findings")


def _phones(sheet: _Sheet) -> None:
    ctx, mobile, landlines = sheet.ctx, sheet.ctx.form["mobile"], sheet.column("landline")
    for i in compress(range(len(landlines)), map(not_, sheet.column("mobile"))):
        if not landlines[i]:
            report(sheet.checked[i], ctx, mobile, "phone_missing")


_AGE_LIMITS: dict[str, tuple[int, int]] = {"0": (16, 200), "1": (0, 7), "2": (3, 40), "5": (40, 200)}


def _age(sheet: _Sheet) -> None:
    """An age the employment status makes implausible (`_AGE_LIMITS`), seen on the birth
    date as text: the status's bounds today (`_birth_bounds`)."""
    ctx, employment, today = sheet.ctx, sheet.ctx.form["employment"], sheet.ctx.today
    statuses, births, bounds = sheet.column("employment"), sheet.column("birth_date"), _birth_bounds(today)
    for i in compress(range(len(statuses)), map(bounds.__contains__, statuses)):
        birth, status = births[i], statuses[i]
        if birth and not bounds[status][0] < birth <= bounds[status][1]:
            report(sheet.checked[i], ctx, employment, "age_implausible", _entry(ctx.form, "employment", status),  # type: ignore[arg-type]
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
