"""Read whatever arrives into the same typed rows before any rule runs.

.xlsx/.xlsm/.xls/.ods go through python-calamine (fast, reads values only: macros are
never run, formulas never evaluated by us; an .xlsm's vbaProject is never even opened);
.csv is decoded as UTF-8 (with or without BOM) or GB18030 (a superset of GBK). A file
saved with the wrong extension (.xls content in an .xlsx) is read by its content. What
cannot be read as data (encrypted, .xlsb/.et/.wps, empty, cut short, damaged, not a table)
gets one file-level problem that says so and what to do; see `_diagnosis`. A sheet belongs to a form when one of its first
rows holds enough of the form's headers (labels or aliases, in any order); the hidden
identity sheet, when present, says which template, receipt or export the file is. A large
sheet (a county's) is cut into parts that calamine loads a few at a time (`sheet_parts`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
import struct
import zipfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from functools import partial
from itertools import chain, islice, repeat, zip_longest
from pathlib import Path
from typing import TypeVar

from python_calamine import CalamineSheet, CalamineWorkbook, PasswordError

from engine.bulk import gc_paused, picker
from engine.form import FORMS, Form, normalize_text
from engine.problems import REFUSED_FORMATS, Problem, problem, unreadable
from engine.sheet_parts import Parts, cut, new_folder
from engine.workbook import CODES_SHEET, IDENTITY_SHEET, INSTRUCTIONS_SHEET, Identity

SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
SUFFIXES = SPREADSHEET_SUFFIXES | {".csv"}
HEADER_SCAN_ROWS = 12
SKIPPED_SHEETS = {IDENTITY_SHEET, CODES_SHEET, INSTRUCTIONS_SHEET}

Cell = str | float | int | bool | dt.date | dt.datetime | dt.time | dt.timedelta | None


@dataclass(slots=True)
class RawRow:
    row: int                      # 1-based spreadsheet row
    values: dict[str, Cell]       # field key -> cell as read (non-empty cells only, text trimmed)
    trimmed: bool = False         # every value is text without surrounding spaces and every key a
                                  # field of the sheet's form (the reader's rows, nearly all): checks
                                  # take free text as it is. Who adds a value that is not must clear it.


@dataclass(slots=True)
class Table:
    """A sheet's rows as columns, as the checks take them (`rules.check_table`)."""

    numbers: list[int]                  # 1-based spreadsheet row of each row
    cells: dict[str, list[Cell]]        # field key -> each row's cell as read, None where it has none
    rough: frozenset[str] | None = None   # fields whose cells may be other than text without surrounding
                                          # spaces (numbers, dates, ""); None: any field's may be

    @classmethod
    def of_rows(cls, rows: Sequence[RawRow], keys: Iterable[str]) -> Table:
        """Rows given one by one, as columns of the fields `keys`."""
        cells = [raw.values for raw in rows]
        rough = frozenset(key for raw in rows if not raw.trimmed for key, cell in raw.values.items()
                          if type(cell) is not str or not cell or cell.strip() != cell)
        return cls([raw.row for raw in rows], {key: list(map(dict.get, cells, repeat(key))) for key in keys}, rough)

    def __len__(self) -> int:
        return len(self.numbers)

    def select(self, rows: Sequence[int]) -> Table:
        """The rows at these places, in this order."""
        pick = picker(rows)
        return Table(list(pick(self.numbers)), {key: list(pick(column)) for key, column in self.cells.items()},
                     self.rough)

    def raw(self, i: int) -> RawRow:
        """Row i as read."""
        values: dict[str, Cell] = {key: cell for key, column in self.cells.items() if (cell := column[i]) is not None}
        trimmed = self.rough is not None and all(
            type(cell) is str and cell and cell.strip() == cell for key in self.rough if (cell := values.get(key)) is not None)
        return RawRow(self.numbers[i], values, trimmed)


@dataclass
class FormSheet:
    form: Form
    name: str                     # the sheet's name in the file
    columns: dict[str, int]       # field key -> 0-based column
    parts: list[Table] = field(default_factory=list)   # its rows, as columns: a table per part read,
                                                       # for the checks to let go of each once done

    def __len__(self) -> int:
        return sum(map(len, self.parts))

    @property
    def table(self) -> Table:
        """The sheet's rows as one table."""
        return _joined(self.parts) if self.parts else Table([], {}, frozenset())

    @property
    def rows(self) -> list[RawRow]:
        """The sheet's rows one by one (made when asked for)."""
        table = self.table
        return [table.raw(i) for i in range(len(table))]


@dataclass
class Submission:
    path: Path
    identity: Identity | None = None
    sheets: list[FormSheet] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)   # file-level: nothing was taken

    def sheet(self, kind: str) -> FormSheet | None:
        return next((s for s in self.sheets if s.form.kind == kind), None)


class Unreadable(Exception):
    """The file is not a spreadsheet we can read at all; `problem` says why, for its sender."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def read_submission(path: Path, *, roster: bool = False) -> Submission:
    """Every form sheet of the file, as raw rows. `roster`: read an 入户调查对象名册,
    which has the roster's columns only (and 户口所在地 in one cell)."""
    sub = Submission(path)
    names: list[str] = []
    candidates: list[tuple[str, Form, list[str]]] = []   # sheets that look like a form's but lack columns
    try:
        for name, rows in _tables(path):     # one sheet in memory at a time
            names.append(name)
            if name == IDENTITY_SHEET:
                sub.identity = _identity(rows)
                continue
            if name in SKIPPED_SHEETS:
                continue
            found = _match_sheet(name, rows, roster)
            if isinstance(found, FormSheet):
                if sub.sheet(found.form.kind) is None:
                    sub.sheets.append(found)
            elif found is not None:
                candidates.append((name, *found))
    except Unreadable as exc:
        return Submission(path, problems=[exc.problem])
    # A form whose sheet lacks columns is not read at all, even when another form's sheet was:
    # the units sheet alone must not pass for a file with no persons in it.
    unmapped = [(name, lacking) for name, form, lacking in candidates if sub.sheet(form.kind) is None]
    if unmapped or not sub.sheets:
        sub.problems.append(_no_form_problem([n for n in names if n not in SKIPPED_SHEETS], unmapped))
    return sub


# -- tables -------------------------------------------------------------------------------


def _tables(path: Path) -> Iterator[tuple[str, Iterator[Sequence[Cell]]]]:
    suffix = path.suffix.lower()
    if suffix in REFUSED_FORMATS:
        raise Unreadable(problem("format_refused", kind=REFUSED_FORMATS[suffix], suffix=suffix))
    if suffix not in SUFFIXES:
        raise Unreadable(unreadable("suffix", suffix=path.suffix or "（无扩展名）"))
    if suffix == ".csv":
        yield path.stem, iter(_read_csv(path))
        return
    with _Sheets(_open_book(path), path) as sheets:
        for name in sheets.names:
            yield name, sheets.rows(name)


class _Sheets:
    """A workbook's sheets, each loaded when its rows are first asked for. Once a sheet's last
    row is read, the next sheet to be read is loaded in the background (calamine lets go of
    the GIL while it loads) while the rows just read are made into RawRows. A large sheet
    is cut into parts (`engine.sheet_parts`), loaded LOADS_AHEAD at a time in the
    background while the rows of the one before are read."""

    def __init__(self, book: CalamineWorkbook, path: Path) -> None:
        self.book, self.path = book, path
        self.names = list(book.sheet_names)
        self._loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sheet-loader")
        self._next: tuple[str, Future[CalamineSheet | Parts]] | None = None
        self._folder: Path | None = None     # where large sheets are cut, made when one is
        self._cut: list[Parts] = []           # their parts, as they are written
        self._part_loader = ThreadPoolExecutor(max_workers=LOADS_AHEAD, thread_name_prefix="part-loader")
        self._read: set[str] = set()          # sheets whose rows are all read

    def __enter__(self) -> _Sheets:
        return self

    def __exit__(self, *exc: object) -> None:
        self._loader.shutdown(wait=True)    # calamine's load cannot be stopped: it is waited for
        self._part_loader.shutdown(wait=True)
        for parts in self._cut:             # a sheet still being cut (its rows not all read)
            parts.wait()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)

    def rows(self, name: str) -> _SheetRows:
        """A sheet's rows, loaded on the first row asked for (or already, in the background).
        Once the last row is read the sheet's cells (calamine holds the whole sheet, or part)
        are let go: the rows it became should not have to share memory with it; only then is
        the next sheet loaded. A large sheet's rows can also be taken as columns (`_CutRows`)."""
        return _SheetRows(self, name)

    def _rows(self, name: str, owner: _SheetRows) -> Iterator[Sequence[Cell]]:
        loaded = self._loaded(name)
        if not isinstance(loaded, CalamineSheet):
            owner.cut = _CutRows(self, name, loaded)
            yield from owner.cut
        else:
            rows = _from_column_a(loaded)
            del loaded
            yield from rows
            del rows
        self.read(name)

    def read(self, name: str) -> None:
        """The sheet's rows are all read: the next sheet to be read starts loading (once)."""
        if name in self._read:
            return
        self._read.add(name)
        after = self.names[self.names.index(name) + 1:]
        following = next((n for n in after if n not in _NOT_READ), None)
        if following is not None:
            self._next = (following, self._loader.submit(self._load, following))

    def _load(self, name: str) -> CalamineSheet | Parts:
        """A sheet loaded whole, or the parts it is cut into when it is large."""
        def folder() -> Path:
            if self._folder is None:
                self._folder = new_folder()
            sheet = self._folder / f"sheet-{self.names.index(name)}"
            sheet.mkdir(exist_ok=True)
            return sheet

        parts = cut(self.path, name, folder)
        if parts is None:
            return self.book.get_sheet_by_name(name)
        self._cut.append(parts)
        return parts

    def _loaded(self, name: str) -> CalamineSheet | Parts:
        pending, self._next = self._next, None
        try:
            if pending is not None:
                next_name, load = pending
                load.exception()    # waited for: the book is calamine's alone until then
                if next_name == name:
                    return load.result()
            return self._load(name)
        except Exception as exc:
            raise Unreadable(_diagnosis(self.path, exc)) from exc

# Parts of a sheet loading at once, ahead of the one being read: both cores load while
# the rows are made. With parts of 32 MB this held one part more than it gained (2.73
# instead of 2.86 s, 358 instead of 302 MB); with parts of 16 MB (sheet_parts.PART_BYTES)
# and two heaps for all threads (bulk.limit_malloc_arenas) it reads the county's sheet a
# quarter faster than one part of 32 MB at a time, at the same peak.
LOADS_AHEAD = 2


class _SheetRows(Iterator[Sequence[Cell]]):
    """A sheet's rows (`_Sheets.rows`), loaded on the first asked for; `cut` is set once they
    are known to come from a large sheet's parts."""

    def __init__(self, sheets: _Sheets, name: str) -> None:
        self._sheets, self._name = sheets, name
        self._rows: Iterator[Sequence[Cell]] | None = None
        self.cut: _CutRows | None = None

    def __next__(self) -> Sequence[Cell]:
        if self._rows is None:
            self._rows = self._sheets._rows(self._name, self)
        return next(self._rows)


class _CutRows(Iterator[Sequence[Cell]]):
    """A large sheet's rows, from the parts `sheet_parts` cuts it into: as rows, a part after
    another, each loaded by calamine (LOADS_AHEAD at a time, one when each carries a large
    shared strings table); or, once the caller knows the form's columns from the first
    part's rows (the header is there), the rest of the first part as rows and every other
    part straight into columns (`columns`, `part_columns`): no Python object per row, one
    per distinct text, the loads letting go of the GIL throughout."""

    def __init__(self, sheets: _Sheets, name: str, parts: Parts) -> None:
        self.sheets, self.name, self.parts = sheets, name, parts
        self.at_once = 1 if parts.shared_table else LOADS_AHEAD
        self.loads: deque[Future[CalamineSheet | None]] = deque([self._submit(self._load, 0)])
        self.next_part = 1            # the next part to load
        self.current: Iterator[Sequence[Cell]] | None = None
        self.part = -1                # the part whose rows are being given
        self.given = 0                # rows given, empty ones between parts included

    def _submit(self, job: Callable[[int], _T], k: int) -> Future[_T]:
        return self.sheets._part_loader.submit(job, k)

    def _load(self, k: int) -> CalamineSheet | None:
        """Part k loaded by calamine; None past the last."""
        part = self.parts.get(k)
        if part is None:
            return None
        sheet = CalamineWorkbook.from_path(str(part)).get_sheet_by_name(self.name)
        with suppress(OSError):     # calamine holds the cells, not the file; else at __exit__
            part.unlink()
        return sheet

    def __next__(self) -> Sequence[Cell]:
        while True:
            if self.current is not None:
                row = next(self.current, None)
                if row is not None:
                    self.given += 1
                    return row
                self.current = None
            while self.part >= 0 and len(self.loads) < self.at_once:   # past the first part: all as rows
                self.loads.append(self._submit(self._load, self.next_part))
                self.next_part += 1
            sheet = _loaded_part(self.sheets.path, self.loads.popleft())
            if sheet is None:
                raise StopIteration
            self.part += 1
            # calamine gives a part's rows from the sheet's first: empty up to the part's own
            self.current = islice(_from_column_a(sheet), self.given, None)
            del sheet

    def first_part(self) -> Iterator[Sequence[Cell]] | None:
        """The first part's rows not yet given, None when rows of another part have been."""
        if self.part > 0:
            return None
        rows, self.current = self.current, None
        if rows is None:
            rows = iter(self)     # nothing given yet: the first part as rows
        return rows

    def columns(self, columns: dict[str, int]) -> Iterator[Table]:
        """Every part after the first, as columns (`columns`: field -> 0-based column), in
        order, LOADS_AHEAD loading at once (the first at once, while the caller takes the
        first part's rows); then the sheet is read."""
        loads = deque(self._submit(partial(self._load_columns, columns), k) for k in range(1, 1 + self.at_once))
        return self._columns(columns, loads)

    def _columns(self, columns: dict[str, int], loads: deque[Future[Table | None]]) -> Iterator[Table]:
        k = 1 + self.at_once
        while True:
            table = _loaded_part(self.sheets.path, loads.popleft())
            if table is None:
                break
            loads.append(self._submit(partial(self._load_columns, columns), k))
            k += 1
            yield table
        self.sheets.read(self.name)

    def _load_columns(self, columns: dict[str, int], k: int) -> Table | None:
        """Part k's rows as columns: by fastexcel when it holds text only, else by calamine."""
        part = self.parts.get(k)
        if part is None:
            return None
        first = self.parts.first_rows[k]
        end = self.parts.first_rows[k + 1] if self.parts.get(k + 1) is not None else \
            None if self.parts.last_row is None else self.parts.last_row + 1
        from engine.part_columns import load_columns  # pyarrow (37 MB): only for a large sheet

        taken = load_columns(part, self.name, columns, first, end)
        if taken is None:       # a number or a date among its cells: calamine's cells as read
            sheet = CalamineWorkbook.from_path(str(part)).get_sheet_by_name(self.name)
            taken = _columns_of(_picked(islice(_from_column_a(sheet), first - 1, None), columns, first - 1))
            del sheet
        with suppress(OSError):
            part.unlink()
        return taken


_T = TypeVar("_T")


def _loaded_part(path: Path, load: Future[_T]) -> _T:
    """What a part's load gave; the file's problem when it failed (a full disk is not the sender's)."""
    try:
        return load.result()
    except OSError:
        raise
    except Exception as exc:
        raise Unreadable(_diagnosis(path, exc)) from exc


def _from_column_a(sheet: CalamineSheet) -> Iterator[Sequence[Cell]]:
    """A sheet's rows, each from column A: calamine gives them from row 1 but from the
    sheet's first column holding a cell (a part of a sheet may start further right than
    the sheet: its rows must line up with the header's)."""
    rows = sheet.iter_rows()
    first = sheet.start[1] if sheet.start else 0
    if not first:
        return rows
    blank: list[Cell] = [""] * first
    return ([*blank, *row] for row in rows)


_NOT_READ = SKIPPED_SHEETS - {IDENTITY_SHEET}    # sheets whose rows read_submission never asks for


def _open_book(path: Path) -> CalamineWorkbook:
    """The workbook by its extension, else by its content (an .xls saved under .xlsx, or back)."""
    if _ole_cut_short(path):    # calamine reads what is there and says nothing of the rest
        raise Unreadable(problem("incomplete"))
    try:
        return CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for damaged files
        first = exc
    if _head(path)[:4] in (_OLE2_MAGIC[:4], _ZIP_MAGIC) and not isinstance(first, PasswordError):
        try:
            with path.open("rb") as f:
                return CalamineWorkbook.from_filelike(f)
        except Exception:
            pass
    raise Unreadable(_diagnosis(path, first)) from first


# -- files that cannot be read ----------------------------------------------------------

_OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")   # .xls, and encrypted .xlsx (an OLE file too)
_ZIP_MAGIC = b"PK\x03\x04"                        # .xlsx, .xlsm, .ods
_WORKBOOK_PARTS = ("xl/workbook.xml", "xl/workbook.bin", "content.xml")


def _head(path: Path, size: int = 512) -> bytes:
    try:
        with path.open("rb") as f:
            return f.read(size)
    except OSError:
        return b""


def _diagnosis(path: Path, exc: Exception) -> Problem:
    """Why calamine could not read the file, judged from its bytes, for its sender."""
    head = _head(path)
    if not head:
        return problem("zero_bytes")
    if isinstance(exc, PasswordError) or (head.startswith(_OLE2_MAGIC) and _encrypted(path)):
        return problem("encrypted")
    if head.startswith(_OLE2_MAGIC):
        # An OLE file is written in whole 512-byte sectors: one that is not was cut short.
        return problem("incomplete") if path.stat().st_size % 512 else unreadable("damaged")
    if head.startswith(_ZIP_MAGIC):
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            return problem("incomplete")    # a zip's directory is written last
        return unreadable("damaged") if names.intersection(_WORKBOOK_PARTS) else unreadable("zip")
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<":
        return unreadable("html", suffix=path.suffix)
    return unreadable("not_a_table")


def _ole_cut_short(path: Path) -> bool:
    """An OLE file (.xls) shorter than its own allocation table says: the end is missing.

    The header lists the table's sectors (the first 109 there, the rest in a chain of
    DIFAT sectors); the last sector the table marks as used must be inside the file."""
    head = _head(path)
    if not head.startswith(_OLE2_MAGIC) or len(head) < 512:
        return False
    size = path.stat().st_size
    sector = 1 << struct.unpack_from("<H", head, 0x1E)[0]
    if sector not in (512, 4096):
        return False
    fat_count, difat_start, difat_count = struct.unpack_from("<I4xII", head, 0x2C)
    per_sector = sector // 4
    fat = list(struct.unpack_from("<109I", head, 0x4C))[:fat_count]
    used = 0
    with path.open("rb") as f:
        def read(index: int) -> tuple[int, ...] | None:
            """Sector `index` as 32-bit entries, None when the file ends before it."""
            nonlocal used
            used = max(used, index)
            f.seek(sector * (index + 1))
            data = f.read(sector)
            return struct.unpack(f"<{per_sector}I", data) if len(data) == sector else None

        for _ in range(min(difat_count, 1 << 16)):      # the rest of the table's sectors
            if len(fat) >= fat_count or difat_start >= _MAX_SECTOR:
                break
            if (entries := read(difat_start)) is None:
                return True
            fat.extend(entries[:-1])
            difat_start = entries[-1]
        for n, index in enumerate(fat[:fat_count]):
            if index >= _MAX_SECTOR or (entries := read(index)) is None:
                return True
            marked = [i for i, e in enumerate(entries) if e != _FREE_SECTOR]
            if marked:
                used = max(used, n * per_sector + marked[-1])
    return bool(size < sector * (used + 2))


_MAX_SECTOR = 0xFFFFFFFA
_FREE_SECTOR = 0xFFFFFFFF


def _encrypted(path: Path) -> bool:
    """An OLE file holding an encrypted Office Open XML package (what Excel and WPS write
    when a workbook has an opening password), whatever its extension."""
    from xlrd.compdoc import CompDoc  # read-only OLE directory parser; only for failed files

    try:
        names = {entry.name for entry in CompDoc(path.read_bytes(), logfile=io.StringIO()).dirlist}
    except Exception:  # a damaged directory: not something we can call encrypted
        return False
    return {"EncryptionInfo", "EncryptedPackage"} <= names


def _read_csv(path: Path) -> list[list[Cell]]:
    data = path.read_bytes()
    if not data:
        raise Unreadable(problem("zero_bytes"))
    if b"\x00" in data[:4096]:
        raise Unreadable(unreadable("binary"))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise Unreadable(unreadable("encoding"))
    try:
        return [list(r) for r in csv.reader(io.StringIO(text))]
    except csv.Error as exc:   # e.g. a field over the csv module's size limit: not a table
        raise Unreadable(unreadable("binary")) from exc


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


def _match_sheet(name: str, rows: Iterator[Sequence[Cell]], roster: bool = False
                 ) -> FormSheet | tuple[Form, list[str]] | None:
    """The sheet as a FormSheet; the form and the columns it lacks when it looks like a form
    sheet; None when it does not.

    The header is one row, or two: offices draw forms with each column's label either in the
    lower header row or, merged down over both rows, in the upper one (which then also holds
    the labels of column groups); a merged cell's text is in its top cell only."""
    head = list(islice(rows, HEADER_SCAN_ROWS))
    best: tuple[int, Form, dict[str, int], int] | None = None
    for r, cells in enumerate(head):
        for line in (cells, _under(head[r - 1], cells)) if r else (cells,):
            for form in FORMS.values():
                columns = _match_header(line, form, roster)
                if len(columns) >= 3 and (best is None or len(columns) > best[0]):
                    best = (len(columns), form, columns, r)
    if best is None:
        return None
    _, form, columns, header_row = best
    needed = ROSTER_REQUIRED[form.kind] if roster else required_columns(form)
    lacking = [form[k].label for k in needed if k not in columns]
    if lacking:
        return form, lacking
    parts = _data_rows(head[header_row + 1:], rows, columns, header_row + 1)
    return FormSheet(form=form, name=name, columns=columns, parts=parts)


def _under(upper: Sequence[Cell], lower: Sequence[Cell]) -> list[Cell]:
    """Two header rows as one: the lower row's label, or the upper one's where it has none."""
    return [low if low not in (None, "") else up for up, low in zip_longest(upper, lower)]


def _data_rows(head: list[Sequence[Cell]], rows: Iterator[Sequence[Cell]], columns: dict[str, int],
               start: int) -> list[Table]:
    """The non-empty rows after the header, as columns (a table, or one per part of a large
    sheet): `head`, the rows read after the header row, then the rest of `rows`.

    A cell is taken unless it is empty or only spaces; text loses its surrounding spaces.
    The form's cells of each row are picked and trimmed as the row is read, equal texts kept
    once (codes, places and names repeat down a county's sheet: this halves the memory).
    Rows of text only (nearly all) are taken without a Python step per cell, into one list
    a row after another, which the columns are cut from. A large sheet's parts after the
    first are loaded straight into columns (`_CutRows`)."""
    with gc_paused():
        cut = rows.cut if isinstance(rows, _SheetRows) else None
        first = cut.first_part() if cut is not None else None
        if cut is None or first is None:
            return [_columns_of(_picked(chain(head, rows), columns, start))]
        rest = cut.columns(columns)      # loading meanwhile
        return [_columns_of(_picked(chain(head, first), columns, start)), *rest]


def _joined(tables: list[Table]) -> Table:
    """Tables of the same columns, one after another."""
    if len(tables) == 1:
        return tables[0]
    keys = list(dict.fromkeys(key for table in tables for key in table.cells))
    numbers: list[int] = []
    cells: dict[str, list[Cell]] = {key: [] for key in keys}
    rough: set[str] = set()
    for table in tables:
        numbers += table.numbers
        for key in keys:
            cells[key] += table.cells.get(key) or [None] * len(table)
        rough.update(table.rough if table.rough is not None else keys)
    return Table(numbers, cells, frozenset(rough))


@dataclass
class _Picked:
    """The form's cells of a sheet's rows that are not blank, in the order of `keys`."""
    keys: tuple[str, ...]                         # the field of each picked cell
    numbers: list[int] = field(default_factory=list)   # 1-based row of each row of text only
    texts: list[str] = field(default_factory=list)     # their cells trimmed, a row after another
    mixed: list[tuple[int, tuple[Cell, ...]]] = field(default_factory=list)   # the others, as read


def _picked(rows: Iterator[Sequence[Cell]], columns: dict[str, int], start: int) -> _Picked:
    """The form's cells of each row not blank: rows of text only trimmed, the others as read.

    Columns whose values repeat (codes, places, staff names: judged on the first rows) come
    first, each text trimmed and made one object by a pool; the others follow, trimmed. The
    texts go into one list, not a tuple per row: a county's rows are read faster that way."""
    width = max(columns.values()) + 1
    head = [_padded(cells, width) for cells in islice(rows, _SAMPLE)]
    sample = picker(tuple(columns.values()))
    repeats = _repeating([sample(cells) for cells in head], len(columns))
    shared = [(key, c) for (key, c), rep in zip(columns.items(), repeats, strict=True) if rep]
    others = [(key, c) for (key, c), rep in zip(columns.items(), repeats, strict=True) if not rep]
    pick_shared, pick_others = picker(tuple(c for _, c in shared)), picker(tuple(c for _, c in others))
    one_copy, strip = _Pool().__getitem__, str.strip
    picked = _Picked(tuple(key for key, _ in shared + others))
    numbers, add_texts = picked.numbers, picked.texts.extend
    for r, cells in enumerate(chain(head, rows), start=start + 1):
        if len(cells) < width:
            cells = _padded(cells, width)
        try:    # the pool and strip refuse anything but text: rows with numbers or dates are kept as read
            values = (*map(one_copy, pick_shared(cells)), *map(strip, pick_others(cells)))
        except TypeError:
            picked.mixed.append((r, pick_shared(cells) + pick_others(cells)))
            continue
        if any(values):
            numbers.append(r)
            add_texts(values)
    return picked


_SAMPLE = 200     # rows that show which columns repeat


def _repeating(sample: list[tuple[Cell, ...]], width: int) -> list[bool]:
    """Per column: do its values repeat (at most half as many distinct values as values)?"""
    if not sample:
        return [False] * width
    return [len(set(column)) * 2 <= len(column) for column in zip(*sample, strict=True)]


class _Pool(dict[str, str]):
    """Text as read -> the one copy kept of it trimmed. Anything but text is refused (TypeError)."""

    def __missing__(self, text: str) -> str:
        if type(text) is not str:
            raise TypeError(f"not text: {text!r}")
        trimmed = text.strip()
        self[text] = kept = self.setdefault(trimmed, trimmed)
        return kept


def _padded(cells: Sequence[Cell], width: int) -> Sequence[Cell]:
    """Short CSV lines padded with empty cells."""
    return cells if len(cells) >= width else [*cells, *[""] * (width - len(cells))]


def _columns_of(picked: _Picked) -> Table:
    """The picked rows as columns, in order; a trimmed cell is None when it is ''."""
    keys, width = picked.keys, len(picked.keys)
    cells: dict[str, list[Cell]] = {}
    for j, key in enumerate(keys):
        column: list[Cell] = picked.texts[j::width]     # type: ignore[assignment]
        if "" in column:
            column = [cell or None for cell in column]
        cells[key] = column
    table = Table(picked.numbers, cells, frozenset())
    if not picked.mixed:
        return table
    rough: set[str] = set()
    for r, row in picked.mixed:    # numbers and dates too: 0 and False are filled cells
        values = [v.strip() if isinstance(v, str) else v for v in row]
        if not any(map(_filled, values)):
            continue
        table.numbers.append(r)
        for key, value in zip(keys, values, strict=True):
            filled = _filled(value)
            cells[key].append(value if filled else None)
            if filled and type(value) is not str:
                rough.add(key)
    order = sorted(range(len(table.numbers)), key=table.numbers.__getitem__)   # two runs in order
    ordered = table.select(order)
    return Table(ordered.numbers, ordered.cells, frozenset(rough))


def _filled(v: Cell) -> bool:
    """A cell once trimmed holds something: not None, not ''."""
    return v is not None and v != ""


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
