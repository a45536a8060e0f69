"""Whatever arrives becomes the same rows: CSV in GBK, reordered and renamed columns,
title rows above the header; files that cannot be mapped get a file-level problem, and
files that cannot be read as data at all (encrypted, .xlsb/.et/.wps, empty, cut short,
random bytes, a zip of something else) get one that says so in Chinese, and a receipt."""

from __future__ import annotations

import datetime as dt
import re
import struct
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from click.testing import CliRunner

from engine.cli import main
from engine.form import PERSONS
from engine.problems import BY_NAME, UNREADABLE_CODES
from engine.reader import read_submission
from engine.watcher import looks_complete
from engine.workspace import Workspace
from tests.conftest import as_xlsm

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
    assert [p.rule for p in read_submission(broken).problems] == [BY_NAME["incomplete"].code]
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


# -- files that cannot be read as data ---------------------------------------------------

_END, _FREE, _FAT = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD


def ole_file(streams: dict[str, bytes]) -> bytes:
    """A minimal OLE compound file (version 3, 512-byte sectors) holding `streams` at its
    root: sector 0 the allocation table, sector 1 the directory, then each stream, padded
    to 4096 bytes so that none lives in the mini stream. What Excel and WPS save for a
    workbook with an opening password is such a file with EncryptionInfo and
    EncryptedPackage in it (and, whatever the extension, it is not a zip)."""
    assert 0 < len(streams) <= 3
    fat = [_FAT, _END]
    body = b""
    entries = []
    for name, data in streams.items():
        data = data.ljust(max(4096, -(-len(data) // 512) * 512), b"\0")
        first, count = len(fat), len(data) // 512
        fat += [*range(first + 1, first + count), _END]
        entries.append((name, 2, first, len(data)))
        body += data
    assert len(fat) <= 128

    def entry(name: str, kind: int, right: int, child: int, start: int, size: int) -> bytes:
        encoded = name.encode("utf-16-le") + b"\0\0"
        return (encoded.ljust(64, b"\0") + struct.pack("<HBBIII", len(encoded), kind, 1, _FREE, right, child)
                + bytes(16) + struct.pack("<I16xIQ", 0, start, size))

    directory = entry("Root Entry", 5, _FREE, 1, _END, 0) + b"".join(
        entry(name, kind, i + 2 if i + 1 < len(entries) else _FREE, _FREE, start, size)
        for i, (name, kind, start, size) in enumerate(entries))
    header = (bytes.fromhex("D0CF11E0A1B11AE1") + bytes(16) + struct.pack("<HHHHH6x", 0x3E, 3, 0xFFFE, 9, 6)
              + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, _END, 0, _END, 0) + struct.pack("<I", 0)
              + struct.pack("<108I", *[_FREE] * 108))
    table = struct.pack(f"<{len(fat)}I", *fat).ljust(512, b"\xff")
    return header + table + directory.ljust(512, b"\0") + body


ENCRYPTED = {"EncryptionInfo": b"\x04\x00\x04\x00\x40\x00\x00\x00", "EncryptedPackage": b"\x93" * 5000}


def _filled_xlsx(path: Path) -> bytes:
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("人员登记")
    labels = [f.label for f in PERSONS.fields if f.required]
    ws.write_row(0, 0, labels)
    ws.write_row(1, 0, [ID, "张三", *["x"] * (len(labels) - 2)])
    book.close()
    return path.read_bytes()


def _not_a_workbook(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("照片/说明.txt", "不是表格")


UNREADABLE_FILES = {
    # name: (bytes or a function writing the file, the rule expected, a word of the message)
    "加密.xlsx": (ole_file(ENCRYPTED), "encrypted", "请去掉密码后重新保存再发送"),
    "加密.xls": (ole_file(ENCRYPTED), "encrypted", "请去掉密码后重新保存再发送"),
    "加密.xlsm": (ole_file(ENCRYPTED), "encrypted", "请去掉密码后重新保存再发送"),
    "二进制.xlsb": (b"PK\x03\x04" + bytes(100), "format_refused", "Excel 二进制工作簿"),
    "wps表格.et": (ole_file({"Workbook": b"\x09\x08" + bytes(500)}), "format_refused", "WPS 表格"),
    "wps文字.wps": (ole_file({"WordDocument": bytes(600)}), "format_refused", "WPS 文字文档"),
    "空的.xlsx": (b"", "zero_bytes", "0 字节"),
    "空的.csv": (b"", "zero_bytes", "0 字节"),
    "乱码.xlsx": (bytes(range(256)) * 8, "unreadable", "不是 Excel、WPS 或 CSV 表格"),
    "乱码.xls": (bytes(range(256)) * 8, "unreadable", "不是 Excel、WPS 或 CSV 表格"),
    "乱码.csv": (bytes(range(256)) * 8, "unreadable", "不是文字"),
    "网页.xls": ("<html><table><tr><td>公民身份号码</td></tr></table></html>".encode(), "unreadable", "网页"),
    "压缩包.xlsx": (_not_a_workbook, "unreadable", "压缩包"),
    "半截.xlsx": (lambda path: path.write_bytes(_filled_xlsx(path)[:-200]), "incomplete", "不完整"),
    "半截.xls": (ole_file({"Workbook": bytes(9000)})[:-1024], "incomplete", "不完整"),
    "笔记.txt": (b"hello", "unreadable", "不支持的文件类型 .txt"),
}


@pytest.mark.parametrize("name", UNREADABLE_FILES)
def test_a_file_that_cannot_be_read_gets_one_clear_problem(tmp_path: Path, name: str) -> None:
    content, rule, words = UNREADABLE_FILES[name]
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        content(path)
    sub = read_submission(path)
    assert sub.sheets == []
    (found,) = sub.problems
    assert (found.rule, found.severity) == (BY_NAME[rule].code, "error")
    assert words in found.message and found.rule in UNREADABLE_CODES
    assert not re.search("[A-Za-z]", re.sub(r"Excel|WPS|CSV|HTML|\*?\.[a-z]+", "", found.message)), found.message


def test_unreadable_files_get_a_receipt_and_a_chinese_line_never_a_traceback(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    ws.init("340602")
    ws.close()
    for name in ("加密.xlsx", "半截.xls", "空的.xlsx", "二进制.xlsb"):
        content = UNREADABLE_FILES[name][0]
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else b"")
        result = CliRunner().invoke(main, ["check", str(path), "-w", str(ws.root)])
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output and BY_NAME[UNREADABLE_FILES[name][1]].title in result.output
    receipts = sorted(p.name for p in (ws.root / "outbox" / "回执").rglob("*.xlsx"))
    assert len(receipts) == 4 and all("检查" in r for r in receipts)


def test_unreadable_files_dropped_in_the_inbox_go_to_their_folder_with_a_receipt(tmp_path: Path) -> None:
    """`canbao watch --once`: each file that cannot be read as a table leaves the inbox for
    outbox/无法读取/, with a receipt that says what it is; nothing is counted."""
    ws = Workspace(tmp_path / "ws")
    ws.init("340602")
    contents = {content: n for n, (content, _, _) in reversed(UNREADABLE_FILES.items())
                if isinstance(content, bytes) and content and not n.endswith(".txt")}
    names = list(contents.values())   # one file per content: the same bytes again are a duplicate
    for name in names:
        path = ws.inbox / name
        path.write_bytes(UNREADABLE_FILES[name][0])   # type: ignore[arg-type]
    ws.close()
    result = CliRunner().invoke(main, ["watch", "--once", "-w", str(ws.root)])
    assert "Traceback" not in result.output, result.output
    assert sorted(p.name for p in ws.inbox.iterdir()) == []
    assert sorted(p.name for p in ws.unreadable.iterdir() if p.suffix != ".txt") == sorted(names)
    receipts = list((ws.root / "outbox" / "回执").rglob("*.xlsx"))
    assert len(receipts) == len(names)
    figures = Workspace(ws.root).store.figures("340602")
    assert figures.files["received"] == len(names) and figures.files["accepted"] == 0
    assert figures.region.registered == 0


def test_a_truncated_workbook_waits_in_the_watcher_and_is_named_incomplete_when_asked(tmp_path: Path) -> None:
    """The watcher does not take a half-written .xlsx (it looks again later); `check` or
    `ingest` on it directly says the file is incomplete."""
    path = tmp_path / "half.xlsx"
    whole = _filled_xlsx(path)
    assert looks_complete(path) and read_submission(path).problems == []
    path.write_bytes(whole[: len(whole) // 2])
    assert not looks_complete(path)
    assert [p.rule for p in read_submission(path).problems] == [BY_NAME["incomplete"].code]


def test_content_decides_when_the_extension_is_wrong(tmp_path: Path) -> None:
    """An .xlsx saved under the name .xls (and the reverse, OLE content named .xlsx) is
    read by what it is."""
    xlsx = tmp_path / "real.xlsx"
    data = _filled_xlsx(xlsx)
    named_xls = tmp_path / "named.xls"
    named_xls.write_bytes(data)
    (sheet,) = read_submission(named_xls).sheets
    assert sheet.rows[0].values["id_number"] == ID


def test_a_whole_ole_file_is_not_taken_for_a_cut_one(tmp_path: Path) -> None:
    path = tmp_path / "whole.xls"
    path.write_bytes(ole_file({"Workbook": bytes(9000)}))
    (found,) = read_submission(path).problems     # calamine reads the blank stream as a book of no sheets
    assert found.rule == BY_NAME["no_form_sheet"].code


def test_xlsm_is_read_as_data_and_its_macros_are_never_opened(tmp_path: Path) -> None:
    """An .xlsm with a vbaProject part: the cells are read, the macro part never parsed
    (here it is not even a valid OLE file, which would fail any attempt to open it)."""
    xlsx = tmp_path / "book.xlsx"
    _filled_xlsx(xlsx)
    xlsm = as_xlsm(xlsx, tmp_path / "book.xlsm")
    sub = read_submission(xlsm)
    assert sub.problems == []
    (sheet,) = sub.sheets
    assert sheet.rows[0].values["id_number"] == ID


def test_a_two_row_header_with_labels_merged_down_is_read(tmp_path: Path) -> None:
    """Labels of ungrouped columns merged over both header rows (text in the top cell),
    grouped columns' labels in the lower row under their group's label."""
    path = tmp_path / "two-rows.xlsx"
    labels = [f.label for f in PERSONS.fields if f.required]
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("人员")
    ws.merge_range(0, 0, 1, 0, labels[0])
    ws.merge_range(0, 1, 1, 1, labels[1])
    ws.merge_range(0, 2, 0, len(labels) - 1, "其他情况")
    ws.write_row(1, 2, labels[2:])
    ws.write_row(2, 0, [ID, "张三", *["x"] * (len(labels) - 2)])
    book.close()
    (sheet,) = read_submission(path).sheets
    assert set(sheet.columns) == {f.key for f in PERSONS.fields if f.required}
    assert [(r.row, r.values["id_number"]) for r in sheet.rows] == [(3, ID)]


def test_a_persons_sheet_lacking_columns_is_named_even_when_the_units_sheet_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "half-mapped.xlsx"
    book = xlsxwriter.Workbook(str(path))
    persons = book.add_worksheet("人员登记")
    persons.write_row(0, 0, [f.label for f in PERSONS.fields if f.required and f.key != "name"])
    units = book.add_worksheet("单位登记")
    units.write_row(0, 0, ["单位名称", "统一社会信用代码", "单位类型", "经办人", "参保状态"])
    book.close()
    sub = read_submission(path)
    (found,) = sub.problems
    assert found.rule == BY_NAME["missing_columns"].code and "户籍姓名" in found.message
