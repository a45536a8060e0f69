"""Probe, not a benchmark of canbao: how fast could a *streaming* ingest be?

    .venv/bin/pip install duckdb duckdb-extension-excel pyarrow
    .venv/bin/python bench/probe_streaming.py COUNTY.xlsx WORKSPACE

COUNTY.xlsx and WORKSPACE: the county file `bench_ingest.py` writes and a workspace with
its roster imported (`bench_ingest.make_county_file`, `canbao init`, `canbao roster
import`); the workspace receives the file (use a copy).

canbao's ingest reads a whole sheet before it checks a row (calamine holds every cell),
then checks, then merges: one core's work after another. Here DuckDB's excel extension
(C++, a chunk at a time, about 120 MB for the county's sheet against calamine's 300)
reads the persons sheet in a thread while this one turns each chunk into rows, checks
it with canbao's own checks (`pipeline._CrossChecks`), merges its accepted rows into the
store (one transaction, committed after the receipt) and hands its rows with problems
to the receipt helper, as `canbao ingest` does. It skips what a first county export does
not need (resubmission, conflicts, the pending list) and reads every cell as text (a
number typed into an ID cell is not told from text: see bench/README.md). Prints the
counts, each step's seconds, the wall time, and the raw read and peak memory measured in
the same run. On 2026-12-02: 11.7-15.0 s and 605-636 MB against `canbao ingest`'s 6.3-6.8 s
and 369 MB: the reading thread and the per-row Python fight for the GIL.
"""

from __future__ import annotations

import datetime as dt
import json
import queue
import sys
import threading
import time
from pathlib import Path
from typing import Any

CHUNK = 5_000
RAW = """import sys
from python_calamine import CalamineWorkbook
book = CalamineWorkbook.from_path(sys.argv[1])
print(sum(len(row) for name in book.sheet_names for row in book.get_sheet_by_name(name).iter_rows()))
"""


def main(path: Path, root: Path) -> dict[str, object]:
    start = time.perf_counter()
    import duckdb
    import duckdb_extension_excel

    from engine.form import FORMS
    from engine.pipeline import Outcome, SheetResult, _CrossChecks, _helper, sha256_of
    from engine.reader import FormSheet, _data_rows, _match_header, _under
    from engine.receipt import (
        begin_streamed,
        end_streamed,
        receipt_identity,
        receipt_path,
        stream_rows,
    )
    from engine.rules import RowContext
    from engine.workspace import Workspace

    spent: dict[str, float] = {"start-up": time.perf_counter() - start}
    ws = Workspace(root)
    store = ws.store
    con = duckdb.connect()
    con.execute(f"LOAD '{next(Path(duckdb_extension_excel.__file__).parent.rglob('*.duckdb_extension'))}'")
    con.execute("SET threads = 1")
    source = str(path).replace("'", "''")
    outcome = Outcome(path, sha256_of(path), "partial", dt.datetime.now().isoformat(timespec="seconds"))
    helper = _helper()
    assert helper is not None
    receipt = receipt_path(ws, outcome, merged=True)
    helper.submit(begin_streamed, receipt, receipt_identity(ws, outcome))
    waited = merged = checked = made = 0.0
    store.db.execute("BEGIN IMMEDIATE")
    file_id = store.add_file(sha256=outcome.sha256, name=path.name, archive_path=str(path), received_at=outcome.received_at,
                             kind="export", template_id="CB-EXPORT-340621", region_code="340621", status="partial",
                             receipt_path=str(receipt))
    for kind, name in (("persons", "人员登记"), ("units", "单位登记")):
        form = FORMS[kind]
        head = con.execute(f"SELECT * FROM read_xlsx('{source}', sheet='{name}', header=false, all_varchar=true, "
                           "range='A1:BZ12', stop_at_empty=false)").fetchall()
        found = max(((len(cols), r, cols) for r, row in enumerate(head) for line in ((row, _under(head[r - 1], row)) if r else (row,))
                     if (cols := _match_header(line, form))), key=lambda x: x[0])
        _, header, columns = found
        chunks: queue.Queue[Any] = queue.Queue(maxsize=4)

        reader = threading.Thread(target=_read, args=(con, source, name, header + 2, chunks), daemon=True)
        reader.start()
        sheet = FormSheet(form, name, columns)
        checks = _CrossChecks(ws, RowContext(name, form, dt.date.today()), ws.region, outcome, 100_000 if kind == "persons" else 0)
        result = SheetResult(form, sheet)
        row = header + 1      # 1-based row of the last row seen
        while True:
            t = time.perf_counter()
            batch = chunks.get()
            waited += time.perf_counter() - t
            if batch is None:
                break
            t = time.perf_counter()
            rows = list(zip(*(column.to_pylist() for column in batch.columns), strict=True))
            table = _data_rows(iter(rows), columns, row)
            table = table.select([i for i, s in enumerate(form.started_rows(table.cells, len(table))) if s])
            row += len(rows)
            made += time.perf_counter() - t
            t = time.perf_counter()
            part = SheetResult(form, sheet)
            done = checks.run(table, part)
            helper.submit(stream_rows, [SheetResult(form, sheet, done).with_problems_only()])
            checked += time.perf_counter() - t
            t = time.perf_counter()
            for rows in part.accepted:
                store.merge(kind, file_id, name, "CB-EXPORT-340621", rows)
            merged += time.perf_counter() - t
            result.rows += done
        reader.join()
        result.keys = checks.keys
        result.count_rows()
        outcome.sheets.append(result)
    t = time.perf_counter()
    helper.submit(end_streamed, outcome.for_receipt(rows=False))
    written = helper.result()
    spent["wait for the receipt"] = time.perf_counter() - t
    store.db.execute("COMMIT")
    helper.close()
    spent |= {"wait for rows": waited, "rows made": made, "checks": checked, "merge": merged,
              "total": time.perf_counter() - start}
    return {"counts": {s.form.kind: s.counts for s in outcome.sheets}, "receipt": str(written),
            "seconds": {k: round(v, 2) for k, v in spent.items()}}


def _read(con: Any, source: str, name: str, first: int, chunks: queue.Queue[Any]) -> None:
    """The sheet's rows from row `first` on, in Arrow batches of CHUNK rows, then None."""
    result = con.cursor().execute(f"SELECT * FROM read_xlsx('{source}', sheet='{name}', header=false, "
                                  f"all_varchar=true, range='A{first}:BZ1048576', stop_at_empty=true)")
    for batch in result.to_arrow_reader(CHUNK):     # C++: the GIL is let go meanwhile
        chunks.put(batch)
    chunks.put(None)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[3] == "--inner":
        print(json.dumps(main(Path(sys.argv[1]), Path(sys.argv[2])), ensure_ascii=False))
    else:
        sys.path.insert(0, str(Path(__file__).parent))
        from bench_templates import measure  # wall, CPU, peak MB (largest process, tree), a line

        raw = measure([sys.executable, "-c", RAW, sys.argv[1]])
        probe = measure([sys.executable, __file__, sys.argv[1], sys.argv[2], "--inner"])
        print(f"raw {raw[0]:.2f} s, {raw[3]:.0f} MB; streaming ingest {probe[0]:.2f} s ({probe[0] / raw[0]:.2f}x raw), "
              f"CPU {probe[1]:.2f} s, {probe[3]:.0f} MB (tree)")
        print(probe[4])
