"""Read whatever arrives into the same typed rows before any rule runs.

.xlsx/.xlsm/.xls/.ods go through python-calamine (fast, reads values only: macros are
never run, formulas never evaluated by us); .csv is decoded as UTF-8 (with or without
BOM) or GB18030 (a superset of GBK). A sheet belongs to a form when one of its first
rows holds enough of the form's headers (labels or aliases, in any order); the hidden
identity sheet, when present, says which template, receipt or export the file is.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path

from python_calamine import CalamineWorkbook

from engine.form import FORMS, Form, normalize_text
from engine.problems import Problem, problem
from engine.workbook import CODES_SHEET, IDENTITY_SHEET, INSTRUCTIONS_SHEET, Identity

SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
SUFFIXES = SPREADSHEET_SUFFIXES | {".csv"}
HEADER_SCAN_ROWS = 12
SKIPPED_SHEETS = {IDENTITY_SHEET, CODES_SHEET, INSTRUCTIONS_SHEET}

Cell = str | float | int | bool | dt.date | dt.datetime | dt.time | dt.timedelta | None


@dataclass
class RawRow:
    row: int                      # 1-based spreadsheet row
    values: dict[str, Cell]       # field key -> cell as read (non-empty cells only)


@dataclass
class FormSheet:
    form: Form
    name: str                     # the sheet's name in the file
    columns: dict[str, int]       # field key -> 0-based column
    rows: list[RawRow] = field(default_factory=list)


@dataclass
class Submission:
    path: Path
    identity: Identity | None = None
    sheets: list[FormSheet] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)   # file-level: nothing was taken

    def sheet(self, kind: str) -> FormSheet | None:
        return next((s for s in self.sheets if s.form.kind == kind), None)


class Unreadable(Exception):
    """The file is not a spreadsheet we can read at all."""


def read_submission(path: Path, *, roster: bool = False) -> Submission:
    """Every form sheet of the file, as raw rows. `roster`: read an 入户调查对象名册,
    which has the roster's columns only (and 户口所在地 in one cell)."""
    sub = Submission(path)
    try:
        tables = list(_tables(path))
    except Unreadable as exc:
        sub.problems.append(problem("unreadable", detail=str(exc)))
        return sub
    candidates: list[tuple[str, list[str]]] = []
    for name, rows in tables:
        if name == IDENTITY_SHEET:
            sub.identity = _identity(rows)
            continue
        if name in SKIPPED_SHEETS:
            continue
        found = _match_sheet(name, rows, roster)
        if isinstance(found, FormSheet):
            if sub.sheet(found.form.kind) is None:
                sub.sheets.append(found)
        elif found:
            candidates.append((name, found))
    if not sub.sheets:
        sub.problems.append(_no_form_problem([n for n, _ in tables if n not in SKIPPED_SHEETS], candidates))
    return sub


# -- tables -------------------------------------------------------------------------------


def _tables(path: Path) -> Iterator[tuple[str, Iterator[Sequence[Cell]]]]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        yield path.stem, iter(_read_csv(path))
        return
    if suffix not in SPREADSHEET_SUFFIXES:
        raise Unreadable(f"不支持的文件类型 {path.suffix or '（无扩展名）'}")
    try:
        book = CalamineWorkbook.from_path(str(path))
        names = list(book.sheet_names)
    except Exception as exc:  # calamine raises its own error types for damaged files
        raise Unreadable(_reason(exc)) from exc
    for name in names:
        try:
            sheet = book.get_sheet_by_name(name)
            rows: Iterator[Sequence[Cell]] = iter(sheet.iter_rows())
        except Exception as exc:
            raise Unreadable(_reason(exc)) from exc
        yield name, rows


def _reason(exc: Exception) -> str:
    text = str(exc).lower()
    if "password" in text or "encrypt" in text or "cfb" in text:
        return "文件已加密或设置了打开密码"
    if "zip" in text or "eof" in text:
        return "文件不完整或已损坏"
    return "文件已损坏或不是表格文件"


def _read_csv(path: Path) -> list[list[Cell]]:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise Unreadable("无法识别文字编码，请另存为 UTF-8 或 .xlsx")
    return [list(r) for r in csv.reader(io.StringIO(text))]


# -- sheets -------------------------------------------------------------------------------


def _identity(rows: Iterator[Sequence[Cell]]) -> Identity | None:
    pairs = {str(r[0]): _text(r[1]) for r in rows if len(r) >= 2 and r[0] not in (None, "")}
    return Identity.from_pairs(pairs)


_HEADER_NOISE = re.compile(r"[*＊※]|（必填）|\(必填\)|（选填）|\(选填\)")


def _header_key(cell: Cell) -> str:
    return normalize_text(_HEADER_NOISE.sub("", str(cell))) if cell not in (None, "") else ""


_HEADER_INDEX: dict[str, dict[str, str]] = {
    kind: {normalize_text(name): f.key for f in form.fields for name in reversed(f.header_names())}
    for kind, form in FORMS.items()
}


# Roster files give 户口所在地 in one cell; the roster importer splits it.
ROSTER_HEADERS: dict[str, dict[str, str]] = {"persons": {"户口所在地": "hukou_place"}, "units": {}}
ROSTER_REQUIRED: dict[str, list[str]] = {"persons": ["id_number", "name", "region_code"],
                                         "units": ["unit_name", "region_code"]}


def _match_header(cells: Sequence[Cell], form: Form, roster: bool = False) -> dict[str, int]:
    index = _HEADER_INDEX[form.kind] | (ROSTER_HEADERS[form.kind] if roster else {})
    columns: dict[str, int] = {}
    for c, cell in enumerate(cells):
        key = index.get(_header_key(cell))
        if key is not None and key not in columns:
            columns[key] = c
    return columns


def required_columns(form: Form) -> list[str]:
    """Columns without which a sheet cannot be taken: every required field's."""
    return [f.key for f in form.fields if f.required]


def _match_sheet(name: str, rows: Iterator[Sequence[Cell]], roster: bool = False) -> FormSheet | list[str]:
    """The sheet as a FormSheet, or the columns it lacks when it looks like a form sheet."""
    head = list(islice(rows, HEADER_SCAN_ROWS))
    best: tuple[int, Form, dict[str, int], int] | None = None
    for r, cells in enumerate(head):
        for form in FORMS.values():
            columns = _match_header(cells, form, roster)
            if len(columns) >= 3 and (best is None or len(columns) > best[0]):
                best = (len(columns), form, columns, r)
    if best is None:
        return []
    _, form, columns, header_row = best
    needed = ROSTER_REQUIRED[form.kind] if roster else required_columns(form)
    lacking = [form[k].label for k in needed if k not in columns]
    if lacking:
        return lacking
    sheet = FormSheet(form=form, name=name, columns=columns)
    sheet.rows.extend(_data_rows(chain(head[header_row + 1:], rows), columns, header_row + 1))
    return sheet


def _data_rows(rows: Iterator[Sequence[Cell]], columns: dict[str, int], start: int) -> Iterator[RawRow]:
    """The non-empty rows after the header; `rows` has already yielded the header row."""
    items = list(columns.items())
    for r, cells in enumerate(rows, start=start):
        values: dict[str, Cell] = {}
        n = len(cells)
        for key, c in items:
            if c < n:
                v = cells[c]
                if v is not None and v != "" and not (isinstance(v, str) and not v.strip()):
                    values[key] = v
        if values:
            yield RawRow(row=r + 1, values=values)


def _no_form_problem(sheets: list[str], candidates: list[tuple[str, list[str]]]) -> Problem:
    if candidates:
        name, lacking = candidates[0]
        return problem("missing_columns", sheet=name, columns="、".join(lacking),
                       suggestion=_suggest(lacking))
    suggestion = "请确认发送的是下发的登记表模板（应有“人员登记”工作表）。"
    return problem("no_form_sheet", sheets="、".join(sheets) or "无", suggestion=suggestion)


def _suggest(lacking: list[str]) -> str:
    """Name the headers each lacking column may have, so the sender can rename theirs."""
    names: dict[str, tuple[str, ...]] = {}
    for form in FORMS.values():
        for f in form.fields:
            names.setdefault(f.label, f.header_names())
    hints = [f"“{label}”可写作：{'、'.join(names.get(label, (label,)))}" for label in lacking]
    return ("；".join(hints) + "。")[:400] if hints else ""


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


cell_text = _text
