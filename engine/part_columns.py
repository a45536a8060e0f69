"""A part of a large sheet (`sheet_parts`) loaded by fastexcel straight into columns.

Made into rows by python-calamine, a county's sheet costs the main thread most of its read:
a Python list per row and a string per cell. fastexcel loads a part into Arrow with the GIL
let go; `load_columns` makes of it one list per wanted field, each text trimmed in Arrow and
one Python object per distinct text of a column where texts repeat. It gives None whenever
the part cannot be taken that way without changing what is read, and the caller reads that
part with calamine, as before, its rows made into the same columns as any sheet's:

- a wanted column holding anything but text (a number, a date, a boolean): fastexcel would
  give a number as text (an ID Excel stored as 3.406211975120393e+17 as "340621197512039296"),
  hiding from the ID rules what Excel did to it. Its types are judged on every row, strictly:
  a column mixing text and numbers is refused by fastexcel itself;
- rows that might not be the sheet's rows `first` to `end - 1`: fastexcel, as calamine, gives a
  part's rows from its first holding a cell to its last; only `end - first` of them are those
  rows for sure (a part that ends in missing rows, or starts with a row of no value, is not).
"""

from __future__ import annotations

import logging
from functools import reduce
from pathlib import Path
from typing import Any

import fastexcel
import pyarrow as pa
import pyarrow.compute as pc

from engine.reader import Cell, Table

# What str.strip() strips (str.isspace, Unicode 14; a test holds it to Python's). Arrow's own
# utf8_trim_whitespace has differed from it between versions.
WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
              "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
_SAMPLE = 200     # rows that show whether a column's texts repeat

# fastexcel warns (through Python's logging) of every column it finds empty: a wanted column
# empty in a part is no news.
logging.getLogger("fastexcel.types.dtype").setLevel(logging.ERROR)


def load_columns(part: Path, sheet: str, columns: dict[str, int], first: int, end: int | None) -> Table | None:
    """The wanted `columns` (field key -> 0-based column) of the part's rows `first` to
    `end - 1` (the next part's first row; None when unknown), each text trimmed, a text
    empty once trimmed None; rows with no wanted cell left out. None when the part must be
    read with calamine instead: see the module's docstring."""
    if end is None or end <= first:
        return None
    wanted = set(columns.values())
    try:
        loaded = fastexcel.read_excel(str(part)).load_sheet(
            sheet, header_row=None, schema_sample_rows=None, dtype_coercion="strict",
            use_columns=lambda column: column.absolute_index in wanted)
        batch = loaded.to_arrow()
        # A part's columns start at its first holding a cell: the sheet's column is `absolute_index`.
        found = [column.absolute_index for column in loaded.selected_columns]
    except Exception:   # whatever fastexcel cannot load, calamine reads (or refuses)
        return None
    if not found or batch.num_rows != end - first or not all(map(_text, batch.schema.types)):
        return None     # (with no wanted column fastexcel gives no rows)
    taken = _columns(dict(zip(found, batch.columns, strict=True)), columns, first)
    # Arrow's pool (mimalloc) keeps what the arrays made here freed: 20-40 MB more at the
    # peak of a county's sheet, the other part's load not reusing it.
    pa.default_memory_pool().release_unused()
    return taken


def _columns(arrays: dict[int, pa.Array], columns: dict[str, int], first: int) -> Table:
    """The wanted columns of the part's rows (`arrays`: sheet column -> its texts), texts
    trimmed, blank rows left out."""
    texts = {c: _trimmed(a) for c, a in arrays.items()}
    keep = reduce(pc.or_, (pc.is_valid(a) for a in texts.values()))
    if keep.false_count:
        texts = {c: a.filter(keep) for c, a in texts.items()}
        numbers = pc.add(pc.indices_nonzero(keep), first).to_pylist()
    else:
        numbers = list(range(first, first + len(keep)))
    blank: list[Cell] = [None] * len(numbers)
    return Table(numbers, {key: _python(texts[c]) if c in texts else blank.copy() for key, c in columns.items()},
                 frozenset())


def _text(dtype: pa.DataType) -> bool:
    """Text, or nothing at all."""
    return bool(pa.types.is_string(dtype) or pa.types.is_large_string(dtype) or pa.types.is_null(dtype))


def _trimmed(texts: pa.Array) -> pa.Array:
    """Each text trimmed as str.strip() does, null once empty."""
    if pa.types.is_null(texts.type):
        texts = texts.cast(pa.string())
    texts = pc.utf8_trim(texts, WHITESPACE)
    return pc.if_else(pc.not_equal(texts, ""), texts, None)


def _python(texts: pa.Array) -> list[Any]:
    """The texts as Python strings: where they repeat (judged on the first rows), one object
    per distinct text, the dictionary's, taken by index; else (IDs, names, phones) one each,
    in half the time or less (a quarter for IDs)."""
    sample = texts.slice(0, _SAMPLE)
    if pc.count_distinct(sample).as_py() * 2 > len(sample) - sample.null_count:
        each: list[Any] = texts.to_pylist()
        return each
    encoded = pc.dictionary_encode(texts)
    distinct = [*encoded.dictionary.to_pylist(), None]
    indices = pc.fill_null(encoded.indices, len(distinct) - 1)     # int32
    at = indices.offset
    return list(map(distinct.__getitem__, memoryview(indices.buffers()[1]).cast("i")[at:at + len(indices)]))
