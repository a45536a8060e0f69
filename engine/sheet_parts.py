"""A large worksheet cut into parts, for calamine to load a few at a time.

calamine holds every cell of a sheet while the sheet is read, and more while it loads
it: a county's 113,000 rows take 365 MB at the peak of the load, more than the rest of an
ingest together. An .xlsx keeps each sheet as one XML file in a zip; `cut` copies a large
one, a row at a time, into workbooks of about PART_BYTES of rows each, written
uncompressed into a folder the caller owns. Each part is the whole workbook (styles,
shared strings, the same sheets) with only its share of that sheet's rows, so calamine
reads a part's cells exactly as it reads them in the whole file: dates by their format,
numbers as numbers, text as text. The rows keep their numbers (their `r`): read in turn,
the parts give the sheet's rows in order, each part after calamine's empty rows up to its
first (the reader skips those). `Parts.first_rows` and `Parts.last_row` say which rows each
part holds, for a reader that takes a part's rows into columns (`part_columns`).

What a part leaves out is what calamine does not read as cells: the sheet's dimension
(which would make calamine reserve room for the whole sheet), and whatever follows the
rows (merged cells, data validations, print settings). The other sheets of a part are
empty. Only sheets written the usual way are cut: rows numbered, tags without a
namespace prefix, as Excel, WPS, LibreOffice and xlsxwriter write them; any other sheet
(and any sheet below CUT_BYTES) is read whole, as before. A sheet whose workbook keeps
its text in a large shared strings table (Excel, WPS and LibreOffice do) is cut into
fewer, larger parts, loaded one at a time (`Parts.shared_table`): every part carries the
whole table, for calamine to read again. canbao's own workbooks (templates, receipts,
exports) keep their text in the cells. Parsed with defusedxml: a received file is
hostile until proven otherwise.
"""

from __future__ import annotations

import posixpath
import re
import shutil
import tempfile
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path
from typing import IO, Any

from defusedxml import ElementTree

# A sheet whose XML is larger than this is cut (about 40,000 rows of the form); each part
# holds about PART_BYTES of it (about 8,000 rows). calamine needs about 1.7 bytes of memory
# per byte of XML. Parts of 16 MB, two loading at once (reader.LOADS_AHEAD), read a
# county's sheet in 2.56 s (median of 5) against 3.39 s for parts of 32 MB one at a time,
# at the same peak (235-248 MB for the read); parts of 8 MB were slower again (3.12 s).
CUT_BYTES = 96 << 20
PART_BYTES = 16 << 20
# A workbook whose shared strings table is larger than this has its sheets cut into parts of
# SHARED_PART_BYTES, loaded one at a time: every part carries the whole table, which calamine
# reads for each. A county's sheet saved by LibreOffice (36 MB of shared strings; 153 MB of
# sheet XML) read whole in 3.02-3.2 s at a peak of 400 MB (the ingest: 409 MB); in parts of
# 48 MB one at a time in 3.52-3.98 s at 268-302 MB (16 MB two at a time: 3.98-4.29 s; 32 MB one at a
# time: 3.83-3.95 s). canbao's own workbooks keep their text in the cells and have no such table.
SHARED_STRINGS_BYTES = 4 << 20
SHARED_PART_BYTES = 48 << 20

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_BLOCK = 1 << 20
_DIMENSION = re.compile(rb"<dimension\b[^>]*/>")
_ROWS_START, _ROWS_END, _ROW = b"<sheetData>", b"</sheetData>", b"<row "
_CLOSE = b"</sheetData></worksheet>"
_EMPTY_SHEET = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/></worksheet>')


class NotCut(Exception):
    """The sheet is not one `cut` can cut: it is read whole."""


def sheet_files(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> its XML file in the archive (from xl/workbook.xml and its relationships)."""
    with archive.open("xl/workbook.xml") as f:
        book = ElementTree.parse(f).getroot()
    targets = {rel.get("Id"): _member(rel.get("Target", "")) for rel in _relationships(archive)}
    return {sheet.get("name", ""): targets[rel] for sheet in book.iter(f"{_MAIN}sheet")
            if (rel := sheet.get(_REL_ID)) in targets}


def shared_strings_bytes(archive: zipfile.ZipFile) -> int:
    """The size of the workbook's shared strings table (its XML), 0 when it has none."""
    for rel in _relationships(archive):
        if rel.get("Type", "").endswith("/sharedStrings"):
            return archive.getinfo(_member(rel.get("Target", ""))).file_size
    return 0


def _relationships(archive: zipfile.ZipFile) -> list[Any]:
    with archive.open("xl/_rels/workbook.xml.rels") as f:
        return list(ElementTree.parse(f).getroot().iter(f"{_RELS}Relationship"))


def _member(target: str) -> str:
    """A relationship's target as the archive's member name."""
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))


def cut(path: Path, sheet: str, folder: Callable[[], Path]) -> Parts | None:
    """The sheet's parts (workbooks written into the folder `folder()` makes, once the sheet
    is known to be cut), in row order, cut by a thread meanwhile; None when the sheet is
    read whole: small, not an .xlsx, or not written the usual way. A file found damaged
    once cut has begun raises, as calamine would on it, from `Parts.get`."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile, EOFError):
        return None
    try:
        files = sheet_files(archive)
        member = files.get(sheet)
        if member is None or archive.getinfo(member).file_size <= CUT_BYTES:
            archive.close()
            return None
        shared_table = shared_strings_bytes(archive) > SHARED_STRINGS_BYTES
        cutter = _Cutter(archive, member, set(files.values()), folder(),
                         SHARED_PART_BYTES if shared_table else PART_BYTES)
    except (NotCut, KeyError, OSError, zipfile.BadZipFile, ElementTree.ParseError, EOFError, zlib.error):
        archive.close()
        return None
    return Parts(cutter, shared_table=shared_table)


def new_folder() -> Path:
    """A folder for one file's parts, in the system's temporary folder. Any left there by a
    process that was killed while it read (untouched for STALE_SECONDS) is removed first."""
    for old in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*"):
        with suppress(OSError):
            if time.time() - old.stat().st_mtime > STALE_SECONDS:
                shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=_PREFIX))


_PREFIX = "canbao-parts-"
STALE_SECONDS = 3600      # parts live for seconds: a folder untouched for an hour is left over


class Parts:
    """A sheet's parts as a thread of its own cuts them (inflating and writing let go of the
    GIL): `get(k)` waits for part k, None past the last; a failure of the cutting is raised
    where the part it stopped would be. Once `get(k)` has returned part k, `first_rows[k]`
    is the number of its first row (its `r`; 1 when the first part's has none, as calamine counts);
    once the cutting has ended, `last_row` is the sheet's last row's (None when that row has
    none): a reader of a part's rows can tell which rows it must give."""

    def __init__(self, cutter: _Cutter, *, shared_table: bool = False) -> None:
        self.shared_table = shared_table      # each part carries a large shared strings table: load one at a time
        self.first_rows: list[int] = []
        self.last_row: int | None = None
        self._changed = threading.Condition()
        self._written: list[Path] = []
        self._ended = False
        self._error: BaseException | None = None
        threading.Thread(target=self._cut, args=(cutter,), name="sheet-cutter", daemon=True).start()

    def _cut(self, cutter: _Cutter) -> None:
        try:
            for part, first_row in cutter.run():
                with self._changed:
                    self._written.append(part)
                    self.first_rows.append(first_row)
                    self._changed.notify_all()
            self.last_row = cutter.last_row
        except BaseException as exc:  # noqa: BLE001 -- handed to the reader, raised there
            self._error = exc
        finally:
            with self._changed:
                self._ended = True
                self._changed.notify_all()

    def get(self, k: int) -> Path | None:
        with self._changed:
            self._changed.wait_for(lambda: len(self._written) > k or self._ended)
            if len(self._written) > k:
                return self._written[k]
            if self._error is not None:
                raise self._error
            return None

    @property
    def count(self) -> int:
        """The parts written so far."""
        return len(self._written)

    def wait(self) -> None:
        """Until the cutting has ended (its files closed)."""
        with self._changed:
            self._changed.wait_for(lambda: self._ended)


class _Cutter:
    """Copies a sheet's rows into parts, a block of its XML at a time. Made, it has read the
    sheet up to its rows (`NotCut` if they are not where a sheet has them)."""

    def __init__(self, archive: zipfile.ZipFile, member: str, sheets: set[str], folder: Path,
                 part_bytes: int) -> None:
        self.archive, self.member, self.folder, self.part_bytes = archive, member, folder, part_bytes
        # What every part holds besides its rows, read once: the other sheets empty.
        self.others = [(info.filename, info.date_time,
                        _EMPTY_SHEET if info.filename in sheets else archive.read(info.filename))
                       for info in archive.infolist() if info.filename != member]
        self.book: zipfile.ZipFile | None = None
        self.out: IO[bytes] | None = None
        self.path: Path | None = None           # the part being written
        self.done: list[Path] = []              # the parts written
        self.first_rows: list[int] = []         # the number of each part's first row, as it is started
        self.last_row: int | None = None        # of the last row seen so far
        self.written = 0                        # bytes of rows in the part being written
        self.xml = archive.open(member)
        self.blocks = iter(lambda: self.xml.read(_BLOCK), b"")
        try:
            self.head, self.rest = self._read_head()
        except BaseException:
            self.xml.close()
            raise

    def run(self) -> Iterator[tuple[Path, int]]:
        """Write the parts, each given once written, with the number of its first row."""
        try:
            for k, part in enumerate(self._copy_rows()):
                yield part, self.first_rows[k]
        finally:        # closed whatever happens (Windows deletes no open file)
            if self.out is not None:
                self.out.close()
            if self.book is not None:
                self.book.close()
            self.xml.close()
            self.archive.close()

    def _read_head(self) -> tuple[bytes, bytes]:
        """Everything up to the rows, kept for every part (its dimension left out); the rest
        of the block it ends in."""
        data = b""
        for block in self.blocks:
            data += block
            at = data.find(_ROWS_START)
            if at >= 0:
                end = at + len(_ROWS_START)
                return _DIMENSION.sub(b"", data[:end]), data[end:]
            if len(data) > 8 * _BLOCK:     # no rows where a sheet has them: a prefix, or <sheetData/>
                break
        raise NotCut(self.member)

    def _copy_rows(self) -> Iterator[Path]:
        """The rows, a part ending where a numbered row starts once it holds `part_bytes`."""
        data, given = self.rest, 0
        self._open_part()
        for block in self.blocks:
            data += block
            if _ROWS_END in data:
                break
            self._note_rows(data)
            data = self._cut_where_full(data)
            yield from self.done[given:]
            given = len(self.done)
        end = data.find(_ROWS_END)
        if end < 0:
            raise zipfile.BadZipFile(f"{self.member}: the rows do not end")   # cut short
        for _ in self.blocks:       # read to the end: the zip checks the sheet's CRC there
            pass
        data = data[:end]
        self._note_rows(data)
        self._write(self._cut_where_full(data, last=True))
        self._close_part()
        yield from self.done[given:]

    def _cut_where_full(self, data: bytes, *, last: bool = False) -> bytes:
        """Write what of `data` is known to be rows, starting a new part at the first numbered
        row past `part_bytes`; the rest (a tag the block's end may have cut, unless `last`) is
        returned, to come before the next block."""
        while self.written + len(data) > self.part_bytes:
            at = data.find(_ROW, max(0, self.part_bytes - self.written))
            tag_end = data.find(b">", at) if at >= 0 else -1
            while tag_end >= 0 and b' r="' not in data[at:tag_end]:    # a row without its number
                at = data.find(_ROW, tag_end)
                tag_end = data.find(b">", at) if at >= 0 else -1
            if tag_end < 0:
                break
            self._write(data[:at])
            self._close_part()
            self._open_part()
            self.first_rows.append(_row_number(data, at) or 1)     # numbered, as the loop above made sure
            data = data[at:]
        if last:
            return data
        keep = len(_ROWS_END)
        self._write(data[:-keep])
        return data[-keep:]

    def _note_rows(self, data: bytes) -> None:
        """Note the number of the first part's first row (the first data opens with it) and of
        the last row in `data`. The last row's is None when it has none, or, once in a great
        while, when a block ends inside its tag (too little of it is kept for the next data)."""
        if not self.first_rows:
            self.first_rows.append(_row_number(data, data.find(b"<row")) or 1)
        at = data.rfind(b"<row")
        if at >= 0:
            self.last_row = _row_number(data, at)

    def _write(self, data: bytes) -> None:
        assert self.out is not None
        self.out.write(data)
        self.written += len(data)

    def _open_part(self) -> None:
        path = self.folder / f"part-{len(self.done):03d}.xlsx"
        self.book = zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True)
        for name, date_time, data in self.others:    # a ZipInfo each: writing one fills it in
            self.book.writestr(zipfile.ZipInfo(name, date_time), data)
        self.out = self.book.open(zipfile.ZipInfo(self.member), "w", force_zip64=True)
        self.out.write(self.head)
        self.written = 0
        self.path = path

    def _close_part(self) -> None:
        assert self.out is not None and self.book is not None and self.path is not None
        self.out.write(_CLOSE)
        self.out.close()
        self.book.close()
        self.out = self.book = None
        self.done.append(self.path)


def _row_number(data: bytes, at: int) -> int | None:
    """The number (`r`) of the row whose tag starts at `at`; None when it has none, is cut off
    before its end, or there is no tag (`at` < 0)."""
    end = data.find(b">", at) if at >= 0 else -1
    r = data.find(b' r="', at, end) if end >= 0 else -1
    quote = data.find(b'"', r + 4, end) if r >= 0 else -1
    digits = data[r + 4:quote] if quote >= 0 else b""
    return int(digits) if digits.isdigit() else None
