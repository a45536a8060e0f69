"""Cell checks by field kind, each distinct value checked once.

A county's sheet has over a hundred thousand rows but few distinct values in most
columns: a code column holds a dozen spellings, a date column a few thousand days. Each
field gets a `CellCheck`: the check of its kind (from the form: code, date, phone...)
and, where values repeat, a table from cell to result that fills itself as values
arrive, so most cells cost one dictionary lookup; a table also keeps the texts that are
their own value without a problem, so that `CellCheck.clean` tells those in a column
with one C-level call a cell. A result depends on the value alone (never on the row, the
sheet or the day), so tables are shared by every sheet and file, each capped in size.
`rules` runs these down a sheet's columns (the code fields of a row together); the ID
number, checked against the day, is the rules' own.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

from engine import regions
from engine.form import CODE_LISTS, CodeList, Field
from engine.identifiers import check_credit_code, credit_check_char
from engine.reader import Cell, cell_text

MOBILE = re.compile(r"^1[3-9]\d{9}$")
_MOBILE_PLAIN = re.compile(r"1[3-9][0-9]{9}")      # a clean cell: nothing to normalise
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_DATE_DIGITS = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_PHONE_NOISE = re.compile(r"[\s()（）]")
TABLE_LIMIT = 50_000      # distinct values kept per table; beyond, it starts again


@dataclass(frozen=True)
class Issue:
    """A cell's problem before it has a place: rule name, the value shown, message params."""

    rule: str
    value: str = ""
    params: tuple[tuple[str, object], ...] = ()


CellResult = tuple[str, Issue | None]    # normalised value ("" keeps nothing), problem


class CellTable(dict[Cell, CellResult]):
    """Cell -> result, each distinct text checked once. Only text is kept: True, 1 and
    1.0 are equal keys to a dict but read differently, and numbers in these columns are
    rare. `clean` holds the texts seen that are their own value, without a problem."""

    def __init__(self, check: Callable[[Cell], CellResult]) -> None:
        super().__init__()
        self.check = check
        self.clean: set[str] = set()

    def __missing__(self, raw: Cell) -> CellResult:
        result = self.check(raw)
        if type(raw) is str:
            if len(self) >= TABLE_LIMIT:
                self.clear()
                self.clean.clear()
            self[raw] = result
            if result[0] == raw and result[1] is None:
                self.clean.add(raw)
        return result


@dataclass(frozen=True)
class CellCheck:
    """How one field's cells are checked: `table[raw]` where values repeat, else `check(raw)`;
    text fields (`text=True`) only lose their surrounding spaces and never have a problem."""

    check: Callable[[Cell], CellResult]
    table: CellTable | None = None
    text: bool = False
    plain: re.Pattern[str] | None = None    # text it matches whole is its own value, without a problem

    @property
    def lookup(self) -> Callable[[Cell], CellResult]:
        """The result of one (non-empty) cell: from the table, or checked."""
        return self.table.__getitem__ if self.table is not None else self.check

    def clean(self, cells: Sequence[Cell]) -> list[object]:
        """Whether each cell of a column (None: empty, never clean) is known to be its own
        value, without a problem: a text the table has seen so, or one the kind's plain
        pattern matches. One C-level call a cell; the others are to be looked up."""
        if self.table is not None:
            return list(map(self.table.clean.__contains__, cells))
        if self.plain is None:
            return [False] * len(cells)
        match = self.plain.fullmatch
        try:
            return list(map(match, cells))      # type: ignore[arg-type]
        except TypeError:                       # an empty cell, or one that is not text
            return [type(cell) is str and match(cell) for cell in cells]


def cell_check(f: Field) -> CellCheck:
    """The check of a field's kind; the ID number (kind id_number) is not a cell check."""
    if f.kind == "code" or f.kind in _TABLED:
        table = _table(f"code:{f.codes}" if f.kind == "code" else f.kind)
        return CellCheck(table.check, table)
    if f.kind == "mobile":
        return CellCheck(_as_mobile, plain=_MOBILE_PLAIN)
    if f.kind == "text":
        return CellCheck(_as_text, text=True)
    raise ValueError(f"no cell check for kind {f.kind!r}")


def required_issue(f: Field) -> Issue:
    return Issue("required", "", (("hint", f.prompt),))


# -- checks by kind -------------------------------------------------------------------------


def _as_text(raw: Cell) -> CellResult:
    return cell_text(raw), None


def _as_code(cl: CodeList) -> Callable[[Cell], CellResult]:
    example = (("example", cl.codes[0].entry),)

    def check(raw: Cell) -> CellResult:
        text = cell_text(raw)
        code = cl.parse(text)
        return ("", Issue("code_invalid", text, example)) if code is None else (code, None)

    return check


def _as_date(raw: Cell) -> CellResult:
    if isinstance(raw, dt.datetime):
        return raw.date().isoformat(), None
    if isinstance(raw, dt.date):
        return raw.isoformat(), None
    text = cell_text(raw)
    m = _DATE.match(text) or _DATE_DIGITS.match(text)
    try:
        if m is None:
            raise ValueError(text)
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat(), None
    except ValueError:
        return "", Issue("date_format", text)


def _as_mobile(raw: Cell) -> CellResult:
    if raw.__class__ is str and _MOBILE_PLAIN.fullmatch(raw):
        return raw, None
    text = cell_text(raw)
    number = _PHONE_NOISE.sub("", text).replace("-", "")
    return number, None if MOBILE.match(number) else Issue("mobile_format", text)


def _as_phone(raw: Cell) -> CellResult:
    text = cell_text(raw)
    number = _PHONE_NOISE.sub("", text)
    good = _LANDLINE.match(number) or MOBILE.match(number.replace("-", ""))
    return number, None if good else Issue("phone_format", text)


def _as_credit_code(raw: Cell) -> CellResult:
    text = cell_text(raw)
    code, trouble = check_credit_code(text)
    if trouble == "format":
        return code, Issue("credit_code_format", text)
    if trouble == "check_char":
        return code, Issue("credit_code_check", text, (("expected", credit_check_char(code[:17])),))
    return code, None


def _as_region(raw: Cell) -> CellResult:
    text = cell_text(raw)
    region = regions.load().get(text)
    return text, None if region is not None and region.level == "village" else Issue("region_unknown", text)


# Kinds whose values repeat down a column: checked once per distinct value.
_TABLED: dict[str, Callable[[Cell], CellResult]] = {
    "date": _as_date, "phone": _as_phone, "credit_code": _as_credit_code, "region_code": _as_region,
}


@cache
def _table(name: str) -> CellTable:
    """The one table of a kind (or of a code list: "code:养老保险"), shared by every field."""
    return CellTable(_as_code(CODE_LISTS[name[5:]]) if name.startswith("code:") else _TABLED[name])
