"""A county's rows as the reader makes them: in sheet order whatever their cells, text
trimmed, and a text that repeats down a column kept once; every form sheet of a workbook
read, whatever sheets lie between."""

from __future__ import annotations

from pathlib import Path

import xlsxwriter

from engine.form import PERSONS, UNITS
from engine.reader import read_submission

LABELS = [f.label for f in PERSONS.fields if f.required]


def test_rows_of_text_and_rows_with_numbers_keep_their_order(tmp_path: Path) -> None:
    path = tmp_path / "mixed.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("人员登记")
    ws.write_row(0, 0, LABELS)
    for r in range(1, 9):
        ws.write_row(r, 0, [f"34062119800101{r:04d}", f"张{r}", " 1 男 " if r % 2 else "1 男",
                            *["x"] * (len(LABELS) - 3)])
    ws.write_number(3, 1, 7)               # a name read as a number
    ws.write_row(5, 0, ["  "] * len(LABELS))    # spaces only: no row
    ws.write(6, 1, 2.5)
    book.close()
    (sheet,) = read_submission(path).sheets
    assert [r.row for r in sheet.rows] == [2, 3, 4, 5, 7, 8, 9]
    assert [r.trimmed for r in sheet.rows] == [True, True, False, True, False, True, True]
    assert sheet.rows[2].values["name"] == 7 and sheet.rows[4].values["name"] == 2.5
    assert {r.values["sex"] for r in sheet.rows} == {"1 男"}
    first, *others = (r.values["sex"] for r in sheet.rows if r.trimmed)
    assert all(sex is first for sex in others)    # kept once, spaces or not


def test_csv_rows_are_read_the_same_way(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    lines = [",".join(LABELS), *[",".join([f"34062119800101{r:04d}", f" 李{r} ", *["y"] * (len(LABELS) - 2)])
                                 for r in range(3)], ",,", "340621198001019999,王五"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (sheet,) = read_submission(path).sheets
    assert [r.row for r in sheet.rows] == [2, 3, 4, 6]
    assert [r.values["name"] for r in sheet.rows] == ["李0", "李1", "李2", "王五"]
    assert sheet.rows[-1].values == {"id_number": "340621198001019999", "name": "王五"}
    assert all(r.trimmed for r in sheet.rows)


def test_every_form_sheet_is_read_whatever_sheets_lie_between(tmp_path: Path) -> None:
    path = tmp_path / "sheets.xlsx"
    book = xlsxwriter.Workbook(str(path))
    persons = book.add_worksheet("人员登记")
    persons.write_row(0, 0, LABELS)
    persons.write_row(1, 0, ["340621198001010001", "张三", *["x"] * (len(LABELS) - 2)])
    book.add_worksheet("代码表").write_row(0, 0, ["代码_性别", "1 男"])
    book.add_worksheet("说明").write(0, 0, "不是登记表")
    units = book.add_worksheet("单位登记")
    unit_labels = [f.label for f in UNITS.fields if f.required]
    units.write_row(0, 0, unit_labels)
    units.write_row(1, 0, ["某公司", *["y"] * (len(unit_labels) - 1)])
    book.close()
    sub = read_submission(path)
    assert sub.problems == []
    assert [(s.name, [r.values["name" if s.form is PERSONS else "unit_name"] for r in s.rows])
            for s in sub.sheets] == [("人员登记", ["张三"]), ("单位登记", ["某公司"])]
