"""Extensions of xlsxwriter that keep a city's 452 templates fast.

Two hooks of xlsxwriter's worksheet are overridden: the sheet-data writer (a sheet whose
cells are XML rendered once per process, for 代码表) and the formula preparation (memoised:
every template writes the same few dozen formulas). xlsxwriter is pinned below 4 in
pyproject.toml for these; `RENDERING` and `MEMOISING` say whether the hooks still exist,
and the workbook writer falls back to the ordinary API when they do not. Tests read the
results back with openpyxl and LibreOffice.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import lru_cache
from types import SimpleNamespace
from xml.sax.saxutils import escape as xml_escape

from xlsxwriter.utility import xl_col_to_name
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


class FormSheet(Worksheet):  # type: ignore[misc]  # xlsxwriter is untyped
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
