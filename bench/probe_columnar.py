"""Probe, not a benchmark of canbao: how fast could a column-at-a-time ingest be?

    python3 -m venv /tmp/probe && /tmp/probe/bin/pip install fastexcel polars pyarrow adbc-driver-sqlite
    /tmp/probe/bin/python bench/probe_columnar.py COUNTY.xlsx

COUNTY.xlsx: the county file `bench_ingest.py` writes (keep it with a breakpoint, or write
it with `bench_ingest.make_county_file`). Reads the persons sheet with fastexcel (calamine
into Arrow), finds the header row, checks every ID's form and check digit and five
required columns' empty cells with polars expressions, and bulk-inserts the sheet into
a fresh SQLite file with ADBC; prints each step's seconds. It runs a handful of checks,
not canbao's catalogue, and writes no receipt: it measures the floor of that design (see
bench/README.md, "What is left"), and imports nothing from engine/.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
HEADER = "公民身份号码"
REQUIRED = ("行政区划代码", HEADER, "户籍姓名", "性别", "出生日期")   # a few of the form's required columns


def main(path: Path) -> None:
    spent: dict[str, float] = {}
    start = last = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal last
        now = time.perf_counter()
        spent[name] = round(now - last, 2)
        last = now

    import adbc_driver_sqlite.dbapi as dbapi
    import fastexcel
    import polars as pl
    lap("import")
    sheet = fastexcel.read_excel(str(path)).load_sheet("人员登记", header_row=None, dtypes="string")
    table = sheet.to_arrow()
    del sheet
    lap("read (fastexcel, into Arrow)")
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    del table
    head = frame.head(12).rows()
    header = next(r for r, row in enumerate(head) if any(c and HEADER in c for c in row))
    names = [(c or f"c{i}").replace("*", "").strip() for i, c in enumerate(head[header])]
    frame = frame.slice(header + 1).rename(dict(zip(frame.columns, names, strict=True)))
    lap("frame")
    number = pl.col(HEADER).str.strip_chars().str.to_uppercase()
    total = pl.sum_horizontal([number.str.slice(i, 1).cast(pl.Int32, strict=False) * w
                               for i, w in enumerate(ID_WEIGHTS)])
    check = pl.lit("10X98765432").str.slice((total % 11).cast(pl.Int64), 1)
    checked = frame.with_columns(
        id_ok=number.str.contains(r"^\d{17}[\dX]$") & (number.str.slice(17, 1) == check),
        missing=pl.any_horizontal([pl.col(c).is_null() for c in REQUIRED]))
    good, missing = checked.select(pl.col("id_ok").sum(), pl.col("missing").sum()).row(0)
    lap("checks (IDs, empty cells)")
    with tempfile.TemporaryDirectory() as tmp:
        connection = dbapi.connect(str(Path(tmp) / "probe.db"))
        connection.cursor().adbc_ingest("persons", frame.to_arrow(), mode="create")
        connection.commit()
        connection.close()
    lap("insert (ADBC)")
    spent["total"] = round(time.perf_counter() - start, 2)
    print(f"{frame.height} rows, {good} IDs good, {missing} rows with an empty required cell")
    print(spent)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
