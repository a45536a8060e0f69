"""The parts of a cut sheet loaded by fastexcel into columns give, cell for cell, what
python-calamine reads in the whole sheet (picked, trimmed, blank rows left out); a part
fastexcel cannot give exactly that way (a number or a date in a wanted column, rows it
cannot prove are the part's own) gives None, and the same columns are then made from
calamine's rows of the part. The sheet is cut into parts of a few rows, as in
tests/test_sheet_parts.py."""

from __future__ import annotations

import datetime as dt
import random
import sys
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from engine import sheet_parts
from engine.part_columns import WHITESPACE, load_columns
from engine.reader import Cell, Table, _columns_of, _picked

SHEET = "人员登记"
# Wanted: column D is never written, column J lies right of every cell; F (numbers) and G
# (notes, now and then the only cell of a row) are not wanted.
COLUMNS = {"id_number": 0, "name": 1, "sex": 2, "empty": 3, "village": 4, "far": 9}
NAMES = (" 王五 ", "\u3000张三\xa0", "李四", "赵\t六", "a b", "王五")
SPACES = ("  ", "\u3000", "\xa0 ", "\t")
FLOAT_ID, DATE = 700, 60            # the data row holding an ID stored as a number, a date
RIGHT = range(150, 300)             # data rows starting in column C


def _workbook(path: Path, rows: int, *, constant_memory: bool) -> set[int]:
    """A sheet of text with what a part can hold: texts with surrounding spaces, cells of only
    spaces, rows of only spaces or of unwanted cells, rows missing, rows of formatted empty
    cells, rows starting right of column A, an ID stored as a number, a date. The header is
    in row 3, the first. Gives the (1-based) rows holding a value."""
    rng = random.Random(rows)
    book = xlsxwriter.Workbook(str(path), {"constant_memory": constant_memory})
    sheet = book.add_worksheet(SHEET)
    bold, date = book.add_format({"bold": True}), book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(2, 0, ["公民身份号码", "户籍姓名", "性别", "空", "村", "人数", "备注"])
    valued, r = {3}, 2
    for i in range(rows):
        r += rng.choice((1,) * 9 + (2, 3))            # now and then rows missing
        left = 2 if i in RIGHT else 0
        kind = rng.choice(("text",) * 6 + ("spaces", "note", "formatted")) if i not in (FLOAT_ID, DATE) else "text"
        if kind == "formatted":
            for c in range(left, 5):
                sheet.write_blank(r, c, None, bold)
            continue
        valued.add(r + 1)
        if kind == "note":
            sheet.write_string(r, 6, "备注")
            continue
        if kind == "spaces":
            for c in (left, 2, 4):
                sheet.write_string(r, c, rng.choice(SPACES))
            continue
        if i == FLOAT_ID:
            sheet.write_number(r, 0, 3.406211975120393e+17)
        elif not left:
            sheet.write_string(r, 0, rng.choice(("", " ")) + f"3406211980{i:08d}")
        if not left:
            sheet.write_string(r, 1, rng.choice(NAMES))
        if i == DATE:
            sheet.write_datetime(r, 2, dt.datetime(1980, 1, 17), date)
        else:
            sheet.write_string(r, 2, rng.choice(("1", "2", " 1", "2\u3000")))
        sheet.write_string(r, 4, rng.choice(("闸河东路居民委员会", "濉溪镇", " 濉溪镇 ")))
        sheet.write_number(r, 5, rng.random() * 100)
        if rng.random() < 0.3:
            sheet.write_string(r, 6, "备注" * rng.randrange(1, 4))
    book.close()
    return valued


def _trimmed(cell: Cell) -> Cell:
    if isinstance(cell, str):
        return cell.strip() or None
    return None if cell is None else cell


def _expected(rows: list[Sequence[Cell]], first: int, end: int) -> Table:
    """The wanted cells of the sheet's rows `first` to `end - 1` (`rows` from row 1, column A),
    trimmed, blank rows left out."""
    kept = []
    for r in range(first, end):
        row = rows[r - 1] if r <= len(rows) else []
        values = [_trimmed(row[c]) if c < len(row) else None for c in COLUMNS.values()]
        if any(v is not None for v in values):
            kept.append((r, values))
    return Table([r for r, _ in kept], {key: [values[n] for _, values in kept] for n, key in enumerate(COLUMNS)},
                 frozenset())


def _calamine_columns(rows: Iterable[Sequence[Cell]], first: int, columns: dict[str, int]) -> Table:
    """A part's rows as calamine gives them, from its row `first`, made columns as the reader
    makes the rows of a part fastexcel refuses."""
    return _columns_of(_picked(iter(rows), columns, first - 1))


def _from_column_a(path: Path) -> tuple[list[Sequence[Cell]], int]:
    """The sheet's rows as calamine reads them, from row 1 and column A; its first column."""
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(SHEET)
    left = sheet.start[1] if sheet.start else 0
    return [[*[""] * left, *row] for row in sheet.iter_rows()], left


def _parts(path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, int, int]]:
    """Each part of the sheet, its first row and the next part's (the sheet's last + 1)."""
    monkeypatch.setattr(sheet_parts, "CUT_BYTES", 0)
    monkeypatch.setattr(sheet_parts, "PART_BYTES", 4096)
    monkeypatch.setattr(sheet_parts, "SHARED_PART_BYTES", 4096)
    folder.mkdir()
    parts = sheet_parts.cut(path, SHEET, lambda: folder)
    assert parts is not None
    paths: list[Path] = []
    while (part := parts.get(len(paths))) is not None:
        paths.append(part)
    parts.wait()
    assert parts.last_row is not None
    ends = [*parts.first_rows[1:], parts.last_row + 1]
    return zip(paths, parts.first_rows, ends, strict=True)


@pytest.mark.parametrize("constant_memory", [False, True])       # shared strings, inline strings
def test_each_part_s_columns_are_what_calamine_reads_in_the_whole_sheet(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, constant_memory: bool) -> None:
    """Each part taken is; each part refused (None) is one fastexcel cannot give exactly."""
    path = tmp_path / "big.xlsx"
    valued = _workbook(path, 1000, constant_memory=constant_memory)
    whole, _ = _from_column_a(path)
    float_row = next(r for r, row in enumerate(whole, 1) if isinstance(row[0], float))
    date_row = next(r for r, row in enumerate(whole, 1) if isinstance(row[2], dt.date))
    taken, refused, right, edges, pooled = 0, set(), 0, 0, 0
    for k, (part, first, end) in enumerate(_parts(path, tmp_path / "parts", monkeypatch)):
        assert k or first == 3, "the first part starts at the sheet's first row, its header's"
        expected = _expected(whole, first, end)
        rows, left = _from_column_a(part)
        read = _calamine_columns(islice(rows, first - 1, None), first, COLUMNS)
        assert (read.numbers, read.cells) == (expected.numbers, expected.cells)
        columns = load_columns(part, SHEET, COLUMNS, first, end)
        typed = first <= float_row < end or first <= date_row < end
        lined_up = first in valued and end - 1 in valued
        if typed or not lined_up:
            assert columns is None, (first, end)
            refused.add("typed" if typed else "not lined up")
            continue
        assert columns == expected, (first, end)
        taken += 1
        right += left > 0
        edges += first not in expected.numbers or end - 1 not in expected.numbers    # a blank row at an edge
        for key in ("sex", "village"):      # one object per distinct text
            texts = [t for t in columns.cells[key] if t is not None]
            assert len({id(t) for t in texts}) == len(set(texts))
            pooled += len(set(texts)) < len(texts)
    assert taken >= 8 and refused == {"typed", "not lined up"}
    assert right and edges and pooled, "parts starting right of column A, or at a blank row, were taken"


def test_a_number_or_date_in_a_part_is_kept_by_the_calamine_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The part fastexcel refuses for an ID stored as a number, read by calamine: the float,
    not a text made of it, for the ID rules to find; the date as a date."""
    path = tmp_path / "big.xlsx"
    _workbook(path, 1000, constant_memory=True)
    found: list[Cell] = []
    for part, first, _ in _parts(path, tmp_path / "parts", monkeypatch):
        rows, _ = _from_column_a(part)
        columns = _calamine_columns(islice(rows, first - 1, None), first, COLUMNS)
        found += [c for key in ("id_number", "sex") for c in columns.cells[key] if not isinstance(c, str | None)]
    assert found == [dt.date(1980, 1, 17), 3.406211975120393e+17]


def _small(path: Path, cells: Sequence[Cell]) -> Path:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet(SHEET)
    for r, cell in enumerate(cells):
        sheet.write(r, 0, "x")
        sheet.write(r, 1, cell)
    book.close()
    return path


@pytest.mark.parametrize("cells", [[1.0, 2.5], [True, False], [dt.datetime(2020, 1, 1)] * 2,
                                   ["340621198001171733"] * 1500 + [3.406211975120393e+17]],
                         ids=["numbers", "booleans", "dates", "an ID stored as a number after 1,500 of text"])
def test_a_wanted_column_of_anything_but_text_is_not_taken(tmp_path: Path, cells: list[Cell]) -> None:
    """Judged on every row: fastexcel would make the last case's number the text "340621197512039296"."""
    path = _small(tmp_path / "typed.xlsx", cells)
    end = len(cells) + 1
    assert load_columns(path, SHEET, {"a": 0, "b": 1}, 1, end) is None
    assert load_columns(path, SHEET, {"a": 0}, 1, end) == Table(list(range(1, end)), {"a": ["x"] * len(cells)}, frozenset()), \
        "an unwanted column: no matter"


def test_rows_that_cannot_be_lined_up_are_not_taken(tmp_path: Path) -> None:
    path = _small(tmp_path / "text.xlsx", ["a", "b"])
    assert load_columns(path, SHEET, {"b": 1}, 1, 3) == Table([1, 2], {"b": ["a", "b"]}, frozenset())
    for first, end in ((1, 4), (0, 3), (2, 3), (1, None)):     # rows of the part missing, or unknown
        assert load_columns(path, SHEET, {"b": 1}, first, end) is None
    assert load_columns(tmp_path / "missing.xlsx", SHEET, {"b": 1}, 1, 3) is None


def test_an_empty_wanted_column_is_loaded_without_a_word(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                         capfd: pytest.CaptureFixture[str]) -> None:
    """fastexcel warns of each column it finds empty (it makes it one of text)."""
    book = xlsxwriter.Workbook(str(tmp_path / "gap.xlsx"))
    book.add_worksheet(SHEET).write_column(0, 0, ["x", "y"])
    book.worksheets()[0].write_column(0, 2, ["z", "z"])       # column B empty between
    book.close()
    columns = load_columns(tmp_path / "gap.xlsx", SHEET, {"a": 0, "b": 1}, 1, 3)
    assert columns == Table([1, 2], {"a": ["x", "y"], "b": [None, None]}, frozenset())
    assert not [r for r in caplog.records if r.name.startswith("fastexcel")] and not capfd.readouterr().err


def test_calamine_s_rows_make_the_same_columns() -> None:
    """Text trimmed, '' and None empty, anything else a filled cell; short rows padded."""
    rows: list[list[Cell]] = [["", 0.0], [" ", False], ["", "\u3000"], [None], ["x "], [dt.date(2020, 1, 1)]]
    read = _calamine_columns(rows, 5, {"a": 0, "b": 1})
    assert (read.numbers, read.cells) == (
        [5, 6, 9, 10], {"a": [None, None, "x", dt.date(2020, 1, 1)], "b": [0.0, False, None, None]})


def test_text_is_trimmed_as_str_strip_trims_it() -> None:
    assert set(WHITESPACE) == {c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()}
    texts = [f"{c}a{c}b{c}" for c in WHITESPACE + "\u200b\ufeff\u180e_x"]
    assert pc.utf8_trim(pa.array(texts), WHITESPACE).to_pylist() == [t.strip() for t in texts]
