"""A large sheet cut into parts reads as the whole sheet does: the same rows, numbered the
same, the same cell types (dates, numbers, booleans, text), whatever the parts' sizes;
unusual sheets are read whole, a damaged one is refused as before, and the parts are
gone once the file is read. `engine.sheet_parts` cuts sheets over CUT_BYTES; here the
sizes are made small so that workbooks of a few hundred rows are cut."""

from __future__ import annotations

import datetime as dt
import gc
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import weakref
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter

from engine import reader, sheet_parts
from engine.bulk import BULK_OBJECTS, gc_paused
from engine.demo_data import Roster
from engine.reader import Cell, read_submission
from engine.workspace import Workspace
from tests.conftest import cut_everything

PART = 4096


def _all_rows(path: Path) -> list[tuple[str, list[list[Cell]]]]:
    """Each sheet's rows, without their empty cells at the end (calamine makes a sheet's
    rows as wide as its widest, a part's as wide as the part's widest: the reader pads)."""
    return [(name, [_trimmed(list(row)) for row in rows]) for name, rows in reader._tables(path)]


def _trimmed(row: list[Cell]) -> list[Cell]:
    while row and row[-1] in ("", None):
        row.pop()
    return row


@pytest.fixture
def cutting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[sheet_parts.Parts]:
    """Every sheet over 0 bytes cut into parts of PART bytes of rows; temporary folders in
    tmp_path/tmp. Gives the parts of each sheet cut, as they are cut."""
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    return cut_everything(monkeypatch, PART)


def _rewritten(source: Path, target: Path, edit: Callable[[bytes], bytes]) -> Path:
    """The workbook with its second sheet's XML edited."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            data = old.read(info.filename)
            new.writestr(info, edit(data) if info.filename == "xl/worksheets/sheet2.xml" else data)
    return target


def _whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sheet_parts, "CUT_BYTES", 1 << 60)


def _typed_workbook(path: Path, rows: int, *, constant_memory: bool) -> Path:
    """A small sheet, then a large one of every kind of cell, with empty rows and gaps
    (also where a part may end), a column empty for hundreds of rows, a merged header."""
    rng = random.Random(rows)
    book = xlsxwriter.Workbook(str(path), {"constant_memory": constant_memory})
    small = book.add_worksheet("单位登记")
    small.write_row(0, 0, ["单位名称", "统一社会信用代码"])
    small.write_row(1, 0, ["淮北某某公司", "91340600MA2N0L1X1Y"])
    big = book.add_worksheet("人员登记")
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    big.merge_range(0, 0, 0, 3, "人员登记表")
    big.write_row(1, 0, ["公民身份号码", "户籍姓名", "出生日期", "手机号码", "人数", "是否", "备注"])
    row = 2
    for i in range(rows):
        row += rng.choice((1, 1, 1, 1, 2, 30))       # now and then empty rows between
        if not rows // 4 < i < rows // 2:           # column A empty across a part or more
            big.write_string(row, 0, f"3406211980{i:08d}")
        big.write_string(row, 1, rng.choice(("张三", "李四", " 王五 ", "赵&<六>")))
        big.write_datetime(row, 2, dt.datetime(1950, 1, 1) + dt.timedelta(days=rng.randrange(20000)), date)
        big.write_number(row, 3, 13900000000 + i)
        big.write_number(row, 4, rng.random() * 100)
        big.write_boolean(row, 5, rng.random() < 0.5)
        if i < rows // 3 or i > rows // 2:          # column 6 empty across a part or more
            big.write_string(row, 6, "备注" * rng.randrange(1, 5))
    book.close()
    return path


@pytest.mark.parametrize("constant_memory", [False, True])       # shared strings, inline strings
def test_a_sheet_cut_into_parts_reads_as_the_whole_sheet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         cutting: list[sheet_parts.Parts], constant_memory: bool) -> None:
    path = _typed_workbook(tmp_path / "big.xlsx", 600, constant_memory=constant_memory)
    cut = _all_rows(path)
    assert len(cutting) == 2 and cutting[1].count >= 10, "both sheets cut, the large one into many parts"
    _whole(monkeypatch)
    whole = _all_rows(path)
    assert cut == whole
    rows = dict(whole)["人员登记"]
    assert {type(cell) for row in rows for cell in row} >= {str, float, bool, dt.date}
    assert not list((tmp_path / "tmp").iterdir()), "the parts are deleted once read"


@pytest.mark.parametrize("block", [1 << 20, 1000], ids=["one block", "blocks of 1000 bytes"])
@pytest.mark.parametrize("unnumbered", [False, True])
def test_parts_know_the_numbers_of_their_first_rows_and_of_the_sheet_s_last(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unnumbered: bool, block: int) -> None:
    """`first_rows[k]` is the number of part k's first row, `last_row` the sheet's last's, as
    calamine numbers them (each part loaded alone starts at its first row: every row of the
    sheet holds a cell), also when some rows leave out their number; None when the last does.
    The sheet's XML is read in blocks (of 1 MB): the numbers are found across them."""
    monkeypatch.setattr(sheet_parts, "CUT_BYTES", 0)
    monkeypatch.setattr(sheet_parts, "PART_BYTES", PART)
    monkeypatch.setattr(sheet_parts, "_BLOCK", block)
    path = _typed_workbook(tmp_path / "big.xlsx", 300, constant_memory=True)
    if unnumbered:      # the first row, every other from the 10th on, and the last, without a number
        def unnumber(data: bytes) -> bytes:
            tags = list(re.finditer(rb'<row r="\d+"[^>]*>', data))
            assert len(tags) == 302
            bare = {m.start() for n, m in enumerate(tags) if n >= 10 and n % 2 or n in (0, len(tags) - 1)}
            return re.sub(rb'<row r="\d+"[^>]*>', lambda m: b"<row>" if m.start() in bare else m.group(0), data)

        path = _rewritten(path, tmp_path / "unnumbered.xlsx", unnumber)
    folder = tmp_path / "parts"
    folder.mkdir()
    parts = sheet_parts.cut(path, "人员登记", lambda: folder)
    assert parts is not None
    firsts = []
    while (part := parts.get(len(firsts))) is not None:
        assert len(parts.first_rows) > len(firsts), "known once the part is"
        sheet = reader.CalamineWorkbook.from_path(str(part)).get_sheet_by_name("人员登记")
        assert sheet.start is not None
        firsts.append(sheet.start[0] + 1)
    parts.wait()
    whole = reader.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("人员登记")
    assert whole.end is not None and len(firsts) >= 10
    assert parts.first_rows == firsts and firsts[0] == 1
    assert parts.last_row == (None if unnumbered else whole.end[0] + 1)


def test_rows_without_numbers_are_never_the_first_of_a_part(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             cutting: list[sheet_parts.Parts]) -> None:
    """A row tag may leave out its number (`r`, optional in the format): a part never
    starts with such a row, and the rows read the same."""
    path = _typed_workbook(tmp_path / "big.xlsx", 300, constant_memory=True)
    unnumbered = tmp_path / "unnumbered.xlsx"
    seen = 0

    def every_other(match: re.Match[bytes]) -> bytes:
        nonlocal seen
        seen += 1
        return b"<row>" if seen > 10 and seen % 2 else match.group(0)

    _rewritten(path, unnumbered, lambda data: re.sub(rb'<row r="\d+"[^>]*>', every_other, data))
    assert seen > 250
    cut = _all_rows(unnumbered)
    assert cutting[-1].count >= 5
    _whole(monkeypatch)
    assert cut == _all_rows(unnumbered)


def test_a_sheet_whose_rows_do_not_end_is_refused_as_when_read_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cutting: list[sheet_parts.Parts]) -> None:
    path = _typed_workbook(tmp_path / "big.xlsx", 400, constant_memory=True)
    broken = _rewritten(path, tmp_path / "broken.xlsx", lambda data: data[: len(data) * 2 // 3])  # stops mid-sheet
    cut = read_submission(broken)
    _whole(monkeypatch)
    whole = read_submission(broken)
    assert whole.problems and [p.rule for p in cut.problems] == [p.rule for p in whole.problems]
    assert not list((tmp_path / "tmp").iterdir())


def test_a_sheet_written_with_prefixed_tags_is_read_whole(tmp_path: Path, cutting: list[sheet_parts.Parts]) -> None:
    """<x:sheetData> (some .NET writers): not cut, read as before."""
    path = _typed_workbook(tmp_path / "big.xlsx", 50, constant_memory=True)
    prefixed = _rewritten(path, tmp_path / "prefixed.xlsx", lambda data: (
        data.replace(b"<sheetData>", b"<x:sheetData>").replace(b"</sheetData>", b"</x:sheetData>")
        .replace(b"<worksheet ", b'<worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ')))
    rows = dict(_all_rows(prefixed))
    assert len(cutting) == 1, "only the small sheet, written the usual way, was cut"
    assert len([r for r in rows["人员登记"] if any(c not in ("", None) for c in r)]) == 2 + 50   # title, header, rows


def test_parts_left_by_a_killed_reader_are_removed_by_the_next_one(tmp_path: Path, cutting: list[sheet_parts.Parts]) -> None:
    import os
    import time

    temp = tmp_path / "tmp"
    old, recent = temp / "canbao-parts-old", temp / "canbao-parts-recent"
    for folder in (old, recent):
        (folder / "sheet-1").mkdir(parents=True)
        (folder / "sheet-1" / "part-000.xlsx").write_bytes(b"PK")
    stale = time.time() - sheet_parts.STALE_SECONDS - 60
    os.utime(old, (stale, stale))
    made = sheet_parts.new_folder()
    assert made.parent == temp and made.name.startswith("canbao-parts-")
    assert not old.exists() and recent.exists(), "only a folder untouched for an hour is left over"


def test_a_sheet_starting_right_of_column_a_reads_from_column_a(tmp_path: Path) -> None:
    """calamine starts a sheet's rows at its first column holding a cell; the reader lines
    them up from column A, as it must for the parts of a cut sheet."""
    from engine.form import PERSONS

    path = tmp_path / "right.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("人员登记")
    fields = [f for f in PERSONS.fields if f.required]
    sheet.write_row(3, 2, [f.label for f in fields])
    sheet.write_row(4, 2, ["340621198001011238" if f.key == "id_number" else f"值{i}" for i, f in enumerate(fields)])
    book.close()
    (rows,) = [rows for name, rows in reader._tables(path) if name == "人员登记"]
    assert [list(row) for row in rows][3][:3] == ["", "", fields[0].label]
    (read,) = read_submission(path).sheets
    assert read.columns[fields[0].key] == 2 and read.rows[0].row == 5
    assert read.rows[0].values["id_number"] == "340621198001011238"


def test_a_return_read_in_parts_is_merged_as_one_read_whole(county: Workspace, county_roster: Roster,
                                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole pipeline on a village's return: the same records, counts and receipt
    problems whether its sheets are read in parts or whole."""
    import shutil

    from engine.pipeline import process_file
    from tests.conftest import busiest_village, fill_like_staff, template_of

    village = busiest_village(county_roster)
    persons = [p for p in county_roster.persons if p["region_code"] == village]
    sent = tmp_path / "交回.xlsx"
    fill_like_staff(template_of(county, village), sent, persons, visit=len(persons) - 2)
    county.close()
    twin = Workspace(shutil.copytree(county.root, tmp_path / "twin"))
    whole = process_file(twin, sent)
    cut = cut_everything(monkeypatch, 2048)
    parted = process_file(county, sent)
    assert cut and cut[0].count >= 5
    assert (parted.status, parted.sheets[0].counts) == (whole.status, whole.sheets[0].counts)
    assert [p.message for p in parted.problems] == [p.message for p in whole.problems]
    columns = "id_number, name, region_code, sex, birth_date, pension, medical, mobile, sheet, row_no, on_roster"
    assert county.store.db.execute(f"SELECT {columns} FROM persons ORDER BY id_number").fetchall() == \
        twin.store.db.execute(f"SELECT {columns} FROM persons ORDER BY id_number").fetchall()
    assert county.store.db.execute("SELECT count(*) FROM persons").fetchone()[0] == parted.count("persons", "accepted") > 0
    twin.close()


def test_a_workbook_with_a_large_shared_strings_table_is_cut_into_larger_parts_one_at_a_time(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cutting: list[sheet_parts.Parts]) -> None:
    """Every part carries the whole table (Excel, WPS and LibreOffice keep a sheet's text
    there), for calamine to read again: such a workbook is cut into larger parts, loaded one
    at a time, and reads as the whole sheet does; one keeping its text in the cells is cut
    into the usual parts, loaded two at a time."""
    shared = _typed_workbook(tmp_path / "shared.xlsx", 300, constant_memory=False)
    inline = _typed_workbook(tmp_path / "inline.xlsx", 300, constant_memory=True)
    with zipfile.ZipFile(shared) as book:
        table = sheet_parts.shared_strings_bytes(book)
    with zipfile.ZipFile(inline) as book:
        assert sheet_parts.shared_strings_bytes(book) == 0
    monkeypatch.setattr(sheet_parts, "SHARED_STRINGS_BYTES", table - 1)
    monkeypatch.setattr(sheet_parts, "SHARED_PART_BYTES", 3 * PART)
    loading, most = 0, 0
    real_open = reader.CalamineWorkbook.from_path
    lock = threading.Lock()

    class Counted:      # calamine's workbook, its parts' loads counted while they run
        @staticmethod
        def from_path(path: str) -> Any:
            nonlocal loading, most
            with lock:
                loading += 1
                most = max(most, loading)
            time.sleep(0.1)     # long enough for a second load to start, were it allowed
            try:
                return real_open(path)
            finally:
                with lock:
                    loading -= 1

    monkeypatch.setattr(reader, "CalamineWorkbook", Counted)
    in_parts = _all_rows(shared)
    assert [p.shared_table for p in cutting] == [True, True] and most == 1
    larger = cutting[1].count
    most = 0
    _all_rows(inline)
    assert [p.shared_table for p in cutting[2:]] == [False, False] and most == reader.LOADS_AHEAD == 2
    assert 1 < larger < cutting[3].count / 2, "the shared table's parts are larger, fewer"
    _whole(monkeypatch)
    assert in_parts == _all_rows(shared)


def test_parts_that_cannot_be_written_are_not_blamed_on_the_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cutting: list[sheet_parts.Parts], workspace: Workspace) -> None:
    """A full disk while the parts are written is our trouble, not the sender's: no 'damaged
    file' problem; the file is kept aside with an internal-error receipt, as for any failure."""
    from engine.pipeline import process_file
    from engine.problems import BY_NAME

    path = _typed_workbook(tmp_path / "big.xlsx", 300, constant_memory=True)
    opened = sheet_parts._Cutter._open_part

    def full_disk(self: Any) -> None:
        if len(self.done) == 3:
            raise OSError(28, "No space left on device")
        opened(self)

    monkeypatch.setattr(sheet_parts._Cutter, "_open_part", full_disk)
    with pytest.raises(OSError):
        read_submission(path)
    outcome = process_file(workspace, path, merge=False)
    assert [p.rule for p in outcome.file_problems] == [BY_NAME["internal_error"].code]


def _glibc() -> bool:
    import ctypes

    return sys.platform.startswith("linux") and hasattr(ctypes.CDLL(None), "malloc_stats")


@pytest.mark.skipif(not _glibc(), reason="glibc's heaps: only asked for on Linux with glibc")
@pytest.mark.parametrize("limited", [True, False])
def test_threads_allocate_from_two_heaps_once_asked(limited: bool) -> None:
    """`canbao` asks glibc for at most two heaps (`bulk.limit_malloc_arenas`): the main
    thread's, and one for the threads that load a large sheet's parts, so that what they
    free is reused by the rows made after. Two threads allocating at once then add one
    heap to glibc's statistics between them; without the call they add one each (the
    check can tell)."""
    script = (
        "import ctypes, threading\n"
        "from engine.bulk import limit_malloc_arenas\n"
        f"if {limited}: limit_malloc_arenas()\n"
        "libc = ctypes.CDLL(None)\n"
        "libc.malloc.restype = ctypes.c_void_p\n"
        "both = threading.Barrier(2)\n"
        "def allocate():\n"
        "    both.wait(); [libc.malloc(64) for _ in range(1000)]; both.wait()\n"
        "threads = [threading.Thread(target=allocate) for _ in range(2)]\n"
        "[t.start() for t in threads]; [t.join() for t in threads]\n"
        "libc.malloc_stats()\n")
    stats = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stderr
    assert "Arena 1:" in stats
    assert ("Arena 2:" in stats) is not limited


@pytest.mark.parametrize("bulk", [True, False], ids=["a county's rows", "a village's"])
def test_a_large_batch_made_while_the_collector_paused_is_old_after_it(bulk: bool) -> None:
    """`bulk.gc_paused`: the objects a large batch made while the collector was paused join
    its oldest generation as it resumes (a county's rows are not walked by its next young
    passes; cycles among them are still found by a full pass); a small batch's stay young,
    for the next young pass to free what it left in cycles."""
    class Node:
        pass

    gc.collect()
    with gc_paused():
        rows = [[str(n)] for n in range(BULK_OBJECTS + 1 if bulk else 1000)]
        a, b = Node(), Node()
        a.other, b.other = b, a
        cycle = weakref.ref(a)
        del a, b
        row = rows[-1]
    assert gc.isenabled()
    assert any(obj is row for obj in gc.get_objects(generation=2)) is bulk
    gc.collect(generation=1)                 # the young passes
    assert (cycle() is not None) is bulk
    gc.collect()                             # a full pass
    assert cycle() is None


def test_a_form_sheet_read_in_parts_gives_the_columns_read_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A large form sheet's parts after the first are loaded straight into columns (fastexcel,
    or calamine for a part holding a number among its text): the same rows, row numbers,
    cells and typed cells as the sheet read whole, through blank rows, spaces and an ID
    Excel made a number."""
    from engine.form import PERSONS

    fields = [f for f in PERSONS.fields if f.required] + [PERSONS["landline"]]
    path = tmp_path / "persons.xlsx"
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("人员登记")
    sheet.write_row(0, 0, ["人员登记表"])
    sheet.write_row(1, 0, [f.label for f in fields])
    rng, row = random.Random(7), 1
    for i in range(400):
        row += rng.choice((1, 1, 1, 3))                 # blank rows now and then
        for c, f in enumerate(fields):
            if f.key == "id_number":
                number = f"34062119800101{i:04d}"
                if i == 350:                            # an ID Excel made a number, in a late part
                    sheet.write_number(row, c, float(number))
                else:
                    sheet.write_string(row, c, number)
            elif f.key == "landline":
                if i % 7 == 0:
                    sheet.write_string(row, c, " 0561-3051234\u3000")
            else:
                sheet.write_string(row, c, rng.choice((f"值{c}", f" 值{c} ", f"值{i}", "   ")))
    book.close()
    cutting = cut_everything(monkeypatch, 6 * PART)     # parts of some 25 rows: the header in the first
    taken: list[bool] = []
    from engine import part_columns

    load_columns = part_columns.load_columns
    monkeypatch.setattr(part_columns, "load_columns", lambda *args: taken.append(bool(got := load_columns(*args))) or got)
    (parted,) = read_submission(path).sheets
    assert cutting and cutting[0].count >= 10
    # by calamine: the part with the number, and those ending in blank rows (fastexcel cannot
    # tell those from rows missing at the start); the others by fastexcel
    assert 1 <= taken.count(False) < taken.count(True) and len(taken) == cutting[0].count - 1
    _whole(monkeypatch)
    (whole,) = read_submission(path).sheets
    assert parted.table.numbers == whole.table.numbers and len(whole.table) == 400
    assert parted.table.cells == whole.table.cells
    assert parted.table.rough == whole.table.rough == {"id_number"}
    assert [r.values for r in parted.rows] == [r.values for r in whole.rows]
