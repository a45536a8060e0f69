"""Whatever arrives becomes the same rows: CSV in GBK, reordered and renamed columns,
title rows above the header; files that cannot be mapped get a file-level problem."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import xlsxwriter

from engine.form import PERSONS
from engine.problems import BY_NAME
from engine.reader import read_submission

ID = "340621198001011238"


def test_gbk_csv_with_aliases_in_any_order(tmp_path: Path) -> None:
    path = tmp_path / "名单.csv"
    labels = [f.label for f in PERSONS.fields if f.required]
    header = ["身份证号", "姓名", *[label for label in labels if label not in ("公民身份号码", "户籍姓名")]]
    path.write_bytes((",".join(header) + "\n" + ",".join([ID, "张三"] + ["x"] * (len(header) - 2)) + "\n")
                     .encode("gbk"))
    sub = read_submission(path)
    assert sub.problems == []
    (sheet,) = sub.sheets
    assert sheet.rows[0].values["id_number"] == ID and sheet.rows[0].values["name"] == "张三"


def test_title_rows_and_extra_columns_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "foreign.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("Sheet1")
    ws.write(0, 0, "某村全民参保登记汇总")
    headers = ["序号", *reversed([f.label for f in PERSONS.fields if f.required])]
    ws.write_row(2, 0, headers)
    ws.write_row(3, 0, ["1", *["v"] * (len(headers) - 1)])
    book.close()
    (sheet,) = read_submission(path).sheets
    assert sheet.rows[0].row == 4
    assert set(sheet.columns) == {f.key for f in PERSONS.fields if f.required}


def test_missing_columns_are_named_with_their_accepted_headers(tmp_path: Path) -> None:
    path = tmp_path / "partial.csv"
    path.write_text("公民身份号码,户籍姓名,性别\n" + ID + ",张三,男\n", encoding="utf-8-sig")
    sub = read_submission(path)
    assert sub.sheets == []
    (problem,) = sub.problems
    assert problem.rule == BY_NAME["missing_columns"].code
    assert "就业状态" in problem.message and "经办人签名" in problem.message


def test_no_form_sheet_and_unreadable_files(tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n", encoding="utf-8")
    assert [p.rule for p in read_submission(other).problems] == [BY_NAME["no_form_sheet"].code]
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    assert [p.rule for p in read_submission(broken).problems] == [BY_NAME["unreadable"].code]
    odd = tmp_path / "notes.txt"
    odd.write_text("hello", encoding="utf-8")
    assert [p.rule for p in read_submission(odd).problems] == [BY_NAME["unreadable"].code]


def test_cells_arrive_trimmed_with_numbers_and_dates_as_read(tmp_path: Path) -> None:
    path = tmp_path / "typed.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("人员登记")
    labels = [f.label for f in PERSONS.fields if f.required] + ["备注", "出生日期", "工伤保险"]
    ws.write_row(0, 0, labels)
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    for r, (remark, injury) in enumerate([(" 说明 ", 0), ("   ", True), (11.0, "30")], start=1):
        ws.write_row(r, 0, [ID, " 张三 "] + ["x"] * (len(labels) - 5))
        ws.write(r, len(labels) - 3, remark)
        ws.write_datetime(r, len(labels) - 2, dt.datetime(1980, 1, 1), date)
        ws.write(r, len(labels) - 1, injury)
    ws.write_row(4, 0, ["  ", "\u3000"])      # a row of spaces only is no row
    book.close()
    (sheet,) = read_submission(path).sheets
    assert [r.row for r in sheet.rows] == [2, 3, 4]
    first, second, third = (r.values for r in sheet.rows)
    assert (first["name"], first["remark"], first["injury"]) == ("张三", "说明", 0)
    assert "remark" not in second and second["injury"] is True
    assert third["remark"] == 11 and third["injury"] == "30"
    assert first["birth_date"] == dt.date(1980, 1, 1)


def test_short_csv_lines_are_padded_not_refused(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    labels = [f.label for f in PERSONS.fields if f.required]
    lines = [",".join(labels), ",".join([ID, "张三", *["x"] * (len(labels) - 2)]), f"{ID},李四"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (sheet,) = read_submission(path).sheets
    assert sheet.rows[1].values == {"id_number": ID, "name": "李四"}


def test_a_sheet_with_its_header_only_has_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text(",".join(f.label for f in PERSONS.fields if f.required) + "\n", encoding="utf-8")
    (sheet,) = read_submission(path).sheets
    assert sheet.rows == []
