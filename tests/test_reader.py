"""Whatever arrives becomes the same rows: CSV in GBK, reordered and renamed columns,
title rows above the header; files that cannot be mapped get a file-level problem."""

from __future__ import annotations

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
