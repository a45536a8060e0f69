"""The store on a real SQLite file: what it gives back is what was merged, as merged."""

from __future__ import annotations

from pathlib import Path

from engine.identifiers import check_digit
from engine.store import Rows, Store


def _id(n: int) -> str:
    body = f"34062119800101{n:03d}"
    return body + check_digit(body)


def test_records_come_back_in_the_files_order_whatever_columns_each_row_fills(tmp_path: Path) -> None:
    """A file's rows are inserted grouped by the columns they fill (store._by_shape); its
    records still come back as the file held them, a later file's after, and a person a
    later file returns again moves there."""
    store = Store(tmp_path / "canbao.db")
    village = "340621100006"

    def row(n: int) -> dict[str, str]:
        values = {"region_code": village, "id_number": _id(n), "name": f"人{n}"}
        if n % 2:                                        # every other row a landline: two shapes, interleaved
            values["landline"] = "0561-3051234"
        if n % 3 == 0:
            values = {"name": values.pop("name"), **values}   # the same columns in another order
        return values

    with store.transaction():
        first = store.add_file(sha256="a", name="a.xlsx", archive_path="a", kind="template", status="accepted")
        store.merge("persons", first, "人员登记", "T1", Rows.of((4 + n, row(n), True) for n in range(12)))
        second = store.add_file(sha256="b", name="b.xlsx", archive_path="b", kind="template", status="accepted")
        store.merge("persons", second, "人员登记", "T2", Rows.of([(4, row(20), True), (5, row(3), False)]))
    records = list(store.records("persons", village))
    assert [r["id_number"] for r in records] == [_id(n) for n in (0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 20, 3)]
    assert [r.get("landline") for r in records[:4]] == [None, "0561-3051234", None, None]
    assert records[-1]["row_no"] == 5 and records[-1]["on_roster"] == 0 and records[-1]["name"] == "人3"
    assert len(store.db.execute("SELECT * FROM person_versions").fetchall()) == 1   # row 3's first record
