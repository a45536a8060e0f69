"""Extensions of xlsxwriter that keep a city's 452 templates fast.

Hooks of xlsxwriter's worksheet are overridden: the cell writer (`FastCells`: a plain
text, number or blank cell's XML in one step, byte for byte what xlsxwriter writes), the
sheet-data writer (a sheet whose cells are XML rendered once per process, for 代码表) and
the formula preparation (memoised: every template writes the same few dozen formulas).
xlsxwriter is pinned below 4 in pyproject.toml for these; `FAST_CELLS`, `RENDERING` and
`MEMOISING` say whether the hooks still exist, and the writers fall back to the ordinary
API when they do not. Tests compare the sheets' XML with xlsxwriter's own and read the
results back with openpyxl and LibreOffice.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Mapping, Sequence
from functools import cache, lru_cache
from types import SimpleNamespace
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from xlsxwriter import worksheet as _worksheet
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet


def render_rows(rows: Sequence[Sequence[str]]) -> str:
    """Rows of strings as the <row> elements of a sheet's XML (inline strings, no styles)."""
    out: list[str] = []
    for r, cells in enumerate(rows, start=1):
        out.append(f'<row r="{r}">')
        for c, text in enumerate(cells):
            space = ' xml:space="preserve"' if text != text.strip() else ""
            out.append(f'<c r="{xl_col_to_name(c)}{r}" t="inlineStr"><is><t{space}>{xml_escape(text)}</t></is></c>')
        out.append("</row>")
    return "".join(out)


class FastCells(Worksheet):  # type: ignore[misc]  # xlsxwriter is untyped
    """A worksheet whose text, number and blank cells are written in one step.

    xlsxwriter writes each cell through a general routine: its attributes as a list of
    pairs, each escaped, and for text two regular-expression substitutions and two more
    searches (some 10 µs a cell; a county's receipt or export has hundreds of thousands).
    Here a cell that needs none of that (text without control characters, ``&<>``,
    ``_xHHHH_`` or surrounding spaces; any number; a blank) is written as one formatted
    string, exactly the bytes xlsxwriter would write; any other cell goes to xlsxwriter.
    Works in both memory modes (inline strings, or shared-string indexes)."""

    fh: Any      # xlsxwriter's file handle of the moment (constant_memory: the row file)

    def write_cells(self, row: int, cells: Mapping[int, CellSpec]) -> None:
        """A row's cells at once, column -> (value, format): text as write_string, a number
        as write_number, None as write_blank would store it, without their argument
        handling per cell (a county's export or receipt writes millions). A row that cannot
        be written (outside the sheet, or before the rows already written in constant
        memory: write_string would drop it silently) raises ValueError."""
        if not cells:
            return
        if not FAST_CELLS:      # a future xlsxwriter: its own API, cell by cell
            write_cells_one_by_one(self, row, cells)
            return
        if self._check_dimensions(row, min(cells)) or self._check_dimensions(row, max(cells)):
            raise ValueError(f"row {row} of sheet {self.name} cannot be written")
        if self.constant_memory and row > self.previous_row:
            self._write_single_row(row)
        table = self.table[row]
        inline = self.constant_memory
        for col, (value, fmt) in cells.items():
            if type(value) is str:
                if inline and len(value) <= _SHORT:
                    table[col] = _STRING(value, fmt)
                else:       # a shared string's index, or text that may need cutting to Excel's limit
                    self._write_string(row, col, value, fmt)
            elif value is None:
                if fmt is not None:
                    table[col] = _BLANK(fmt)
            else:
                table[col] = _NUMBER(value, fmt)

    def _write_single_row(self, current_row_num: int = 0) -> None:
        """constant_memory's row writer, into a buffer written to the row file at once: the
        row file is opened for reading too, and each write to such a file resets its decoder
        (a Python call), some 40 writes a row. (A future xlsxwriter without this hook
        never calls it.)"""
        fh, self.fh = self.fh, io.StringIO()
        try:
            Worksheet._write_single_row(self, current_row_num)
            row = self.fh.getvalue()
        finally:
            self.fh = fh
        fh.write(row)

    def _write_cell(self, row: int, col: int, cell: object) -> None:
        kind = type(cell)
        fmt = cell.format  # type: ignore[attr-defined]
        if fmt is not None:
            style = _style(fmt._get_xf_index())
        elif row in self.row_info and self.row_info[row].row_format or \
                col in self.col_info and self.col_info[col].column_format is not None:
            Worksheet._write_cell(self, row, col, cell)     # a row's or column's format applies
            return
        else:
            style = ""
        ref = f"{_column_name(col)}{row + 1}"
        if kind is _STRING:
            text = cell.string  # type: ignore[attr-defined]
            if not self.constant_memory:     # a shared string's index
                self.fh.write(f'<c r="{ref}"{style} t="s"><v>{text}</v></c>')
            elif text and _UNPLAIN.search(text) is None and not text[0].isspace() and not text[-1].isspace():
                self.fh.write(f'<c r="{ref}"{style} t="inlineStr"><is><t>{text}</t></is></c>')
            else:
                Worksheet._write_cell(self, row, col, cell)
        elif kind is _NUMBER:
            self.fh.write(f"<c r=\"{ref}\"{style}><v>{cell.number:.16G}</v></c>")  # type: ignore[attr-defined]
        elif kind is _BLANK:
            self.fh.write(f'<c r="{ref}"{style}/>')
        else:
            Worksheet._write_cell(self, row, col, cell)


def write_cells(ws: Worksheet, row: int, cells: Mapping[int, CellSpec]) -> None:
    """A row's cells on any worksheet: at once on a `FastCells`, else one by one."""
    if isinstance(ws, FastCells):
        ws.write_cells(row, cells)
    else:
        write_cells_one_by_one(ws, row, cells)


def write_cells_one_by_one(ws: Worksheet, row: int, cells: Mapping[int, CellSpec]) -> None:
    """What `FastCells.write_cells` does, through xlsxwriter's own API a cell at a time (any
    worksheet: the tests compare both)."""
    for col, (value, fmt) in cells.items():
        if isinstance(value, str):
            ws.write_string(row, col, value, fmt)
        elif value is None:
            ws.write_blank(row, col, None, fmt)
        else:
            ws.write_number(row, col, value, fmt)


# A cell's value and format for `FastCells.write_cells`: text, a number, or None (a blank).
CellSpec = tuple[str | int | float | None, Format | None]
_SHORT = 32767 // 2      # text up to this length is within Excel's cell limit, whatever it holds

# What text must not hold to be written as it is: control characters (escaped as _xHHHH_),
# &<> (entities), a literal _xHHHH_ (escaped again). Nor may it start or end with a space
# (xml:space="preserve"). Rich strings start with '<'.
_UNPLAIN = re.compile(r"[\x00-\x1f&<>\ufffe\uffff]|_x[0-9A-Fa-f]{4}_")


@cache
def _style(xf_index: int) -> str:
    return f' s="{xf_index}"'


@lru_cache(maxsize=4096)
def _column_name(col: int) -> str:
    return str(xl_col_to_name(col))


class FastWorkbook(Workbook):  # type: ignore[misc]  # xlsxwriter is untyped
    """An xlsxwriter workbook whose worksheets are `FastCells` (when the hook exists)."""


class RenderedSheet(Worksheet):  # type: ignore[misc]  # xlsxwriter is untyped
    """A worksheet whose cells are XML rendered beforehand by `render_rows`.

    代码表 is the same in every workbook (some 4,200 cells): rendered once per process, it
    costs a string copy instead of thousands of cell writes per workbook. This overrides
    xlsxwriter's two sheet-data hooks (one per memory mode) and sets the sheet's dimensions;
    tests read the result back with openpyxl and LibreOffice in both modes. Cells written
    through the ordinary API are not allowed on such a sheet."""

    rendered = ""

    def set_rendered(self, xml: str, last_row: int, last_col: int) -> None:
        self.rendered = xml
        self.dim_rowmin, self.dim_rowmax, self.dim_colmin, self.dim_colmax = 0, last_row, 0, last_col

    def _write_sheet_data(self) -> None:
        self._xml_start_tag("sheetData")
        self.fh.write(self.rendered)
        self._xml_end_tag("sheetData")

    def _write_optimized_sheet_data(self) -> None:
        self.row_data_fh.close()             # constant_memory's row file: nothing was written to it
        os.unlink(self.row_data_filename)
        self._write_sheet_data()


class FormSheet(FastCells):
    """A form sheet: xlsxwriter's formula preparation memoised.

    Before writing a data validation's or conditional format's formula, xlsxwriter runs
    some 400 regular expressions over it (prefixes for Excel 365 functions, which we never
    use); every template writes the same few dozen formulas, so each is prepared once per
    process. The result is xlsxwriter's own (the override calls it)."""

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> str:
        return _prepared_formula(formula, bool(expand_future_functions or self.use_future_functions))


@lru_cache(maxsize=2048)
def _prepared_formula(formula: str, expand: bool) -> str:
    return str(Worksheet._prepare_formula(_FORMULA_OPTIONS, formula, expand))


_FORMULA_OPTIONS = SimpleNamespace(use_future_functions=False)

# False if a future xlsxwriter renames the hooks: 代码表 is then written cell by cell, and
# formulas are prepared every time.
RENDERING = all(callable(getattr(Worksheet, name, None))
                for name in ("_write_sheet_data", "_write_optimized_sheet_data", "_xml_start_tag"))
MEMOISING = callable(getattr(Worksheet, "_prepare_formula", None))
_CELL_TYPES: tuple[Any, ...] = tuple(getattr(_worksheet, name, None)
                                     for name in ("CellStringTuple", "CellNumberTuple", "CellBlankTuple"))
_STRING, _NUMBER, _BLANK = _CELL_TYPES
FAST_CELLS = callable(getattr(Worksheet, "_write_cell", None)) and None not in (_STRING, _NUMBER, _BLANK)
if FAST_CELLS:     # else xlsxwriter's own worksheets: FastCells' hook would never be called
    FastWorkbook.worksheet_class = FastCells
