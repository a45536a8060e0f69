"""Receipts (回执): what happened to a received file, in Chinese, for its sender.

A village's receipt is itself a template: after the 回执, 问题清单 and 未登记名单 sheets
come the sender's own rows in the template's layout, problem cells coloured (error
red, warning yellow) with the message as a comment, and the template's identity
(kind "receipt"), so the sender corrects it in place and drops it back. Files that are
not a village's template get the same summary sheets and their problem rows only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from rich.cells import cell_len
from xlsxwriter.worksheet import Worksheet

from engine import regions
from engine.form import FORM_VERSION, PERSONS, UNITS, Form
from engine.pipeline import Outcome, SheetResult
from engine.problems import Problem
from engine.reader import Cell, RawRow, cell_text
from engine.rules import CheckedRow
from engine.store import FileRecord
from engine.templates import blank_rows, write_village_workbook
from engine.workbook import (
    FIRST_DATA_ROW,
    FormSheetWriter,
    FormWorkbook,
    Identity,
    Severity,
    SheetRow,
)
from engine.workspace import Workspace
from engine.xlsxwriter_ext import write_cells

STATUS_TEXT = {
    "accepted": "全部登记：本文件所有已填写的行均已登记入库。",
    "partial": "部分退回：没有问题的行已登记入库；标红的行未登记，请改正后把本回执原样发回。",
    "rejected": "未登记：本文件没有行被登记，请按问题清单改正后重新发送。",
    "duplicate": "重复发送：这个文件以前已经收到并处理过，本次没有重复登记。",
    "stale": "版本较旧：已收到并登记了同一模板更晚保存的版本（{newer}），本文件没有覆盖较新的数据。"
             "如果本文件才是最新的，请在 Excel/WPS 中打开、改正后重新保存再发送。",
    "checked": "仅检查：这是发送前的检查结果，没有登记入库。",
}
# 行号: where the row is in this receipt's sheet of its form, the row to correct (the receipt
# holds only the rows with problems); 原文件行号: where it was in the file sent.
PROBLEM_HEADERS = ("工作表", "行号", "原文件行号", "列", "填写的值", "问题", "说明", "类别", "规则代码")
SEVERITY_TEXT = {"error": "错误（须改正）", "warning": "提醒（请核实）"}
# The rows taken and the rows returned, by whether the file was only checked: a check
# registers nobody, and its receipt must not say so.
COUNT_WORDS = {False: ("已登记", "退回待改"), True: ("检查通过（可登记）的", "须改正的")}


def receipt_path(ws: Workspace, outcome: Outcome, *, merged: bool | None = None) -> Path:
    """Named by the received file's own time and hash: a retry after a crash rewrites the same
    receipt. A checked file's is called 检查, a merged one's 回执 (`merged`: which one it will
    be, named before the file's status is known; else by its status)."""
    try:
        sent = dt.datetime.fromtimestamp(outcome.path.stat().st_mtime)
    except OSError:
        sent = dt.datetime.now()
    stamp = f"{sent:%Y%m%d-%H%M%S}-{outcome.sha256[:6]}"
    if merged is None:
        merged = outcome.status != "checked"
    word = "回执" if merged else "检查"
    if outcome.village:
        name = regions.load().by_code[outcome.village].name
        return ws.village_folder(ws.receipts, outcome.village) / f"{name}-{word}-{stamp}.xlsx"
    return ws.receipts / f"{outcome.path.stem}-{word}-{stamp}.xlsx"


def write_receipt(ws: Workspace, outcome: Outcome, earlier: FileRecord | None = None) -> Path:
    path = receipt_path(ws, outcome)
    if earlier is not None:
        path = ws.receipts / f"{outcome.path.stem}-重复-{dt.datetime.now():%Y%m%d-%H%M%S}-{outcome.sha256[:6]}.xlsx"
    return write_receipt_file(path, receipt_identity(ws, outcome), outcome, earlier)


def receipt_identity(ws: Workspace, outcome: Outcome) -> Identity:
    """The template's identity as a receipt's: the sender corrects the receipt and sends it back."""
    ident = outcome.identity
    return Identity(
        kind="receipt", template_id=ident.template_id if ident else f"FILE:{outcome.path.stem}",
        region_code=ident.region_code if ident else ws.region.code,
        roster_batch=ident.roster_batch if ident else "", answers_file=outcome.sha256)


def write_receipt_file(path: Path, identity: Identity, outcome: Outcome, earlier: FileRecord | None = None) -> Path:
    """The receipt workbook itself. It needs no workspace, so a helper process can write it
    from `outcome.for_receipt()` (the counts and the rows with problems)."""
    if outcome.village and earlier is None:
        def front(book: FormWorkbook) -> None:
            _summary_sheet(book.add_sheet("回执"), book, outcome, earlier)
            shown = {**_shown_rows(outcome.sheets, PERSONS), **_shown_rows(outcome.sheets, UNITS)}
            _ProblemSheet(book).add(outcome.problems, shown).finish()
            _missing_sheet(book, "未登记名单", outcome.missing)
            if outcome.withdrawn.get("persons"):
                _missing_sheet(book, "移出登记名单", outcome.withdrawn["persons"])

        persons = _sheet_rows(outcome.sheets, PERSONS)
        units = _sheet_rows(outcome.sheets, UNITS)
        return write_village_workbook(path, outcome.village, identity, persons, units,
                                      blank_persons=blank_rows(0), blank_units=5, before=front)
    receipt = ReceiptWriter(path, identity, withdrawn=outcome.withdrawn.get("persons", []))
    try:
        receipt.add(outcome.file_problems, outcome.sheets)
    except BaseException:
        receipt.abort()
        raise
    return receipt.close(outcome, earlier)


class ReceiptWriter:
    """The receipt of a file that is not a village's template (an export, a foreign file),
    written in parts: its rows with problems as they are checked, then the counts.

    Sheets in order: 回执 (filled last, with the counts), 问题清单, 移出登记名单 when the
    file withdrew persons (known before the rows come: a file whose withdrawals are not
    known yet is not written in parts, see `pipeline`), then each form's rows with
    problems, as sent, problem cells marked. A county's file: the helper process writes
    it while the rows are being checked (`begin_streamed` and the two after it)."""

    def __init__(self, path: Path, identity: Identity, withdrawn: Sequence[Mapping[str, str]] = ()) -> None:
        self.book = FormWorkbook(path, identity, protect=False)
        self.summary = self.book.add_sheet("回执")
        self.problems = _ProblemSheet(self.book)
        if withdrawn:
            _missing_sheet(self.book, "移出登记名单", withdrawn)
        self.sheets: dict[str, FormSheetWriter] = {}

    def add(self, problems: Iterable[Problem], results: Iterable[SheetResult]) -> None:
        """Problems for the list, and rows with their sheets (rows without problems are skipped)."""
        self.problems.add(problems)
        for result in results:
            rows = list(_sheet_rows([result], result.form))
            form = result.form
            if rows and form.kind not in self.sheets:
                self.sheets[form.kind] = self.book.begin_form_sheet(form, title=f"{form.name}　有问题的行", derived=True)
            sheet = self.sheets.get(form.kind)
            shown = _shown_rows([result], form, sheet.next_row if sheet else FIRST_DATA_ROW)
            self.problems.add((p for _, checked, _ in result.rows for p in checked.problems), shown)
            if sheet is not None and rows:
                sheet.write(rows)

    def close(self, outcome: Outcome, earlier: FileRecord | None = None) -> Path:
        try:
            _summary_sheet(self.summary, self.book, outcome, earlier)
            self.problems.finish()
            for sheet in self.sheets.values():
                sheet.finish()
            return self.book.close()
        except BaseException:
            self.book.abort()
            raise

    def abort(self) -> None:
        self.book.abort()


# A county's receipt in the helper process, while its rows are being checked.
_STREAMED: list[ReceiptWriter] = []


def begin_streamed(path: Path, identity: Identity) -> None:
    """Start the receipt of a file whose rows come next (helper process)."""
    _STREAMED[:] = [ReceiptWriter(path, identity)]


def stream_rows(results: list[SheetResult]) -> None:
    """Rows with problems of the file being received, a chunk of them (helper process)."""
    _STREAMED[0].add((), results)


def end_streamed(outcome: Outcome) -> Path:
    """The counts, once every row is in: the receipt closed and in place (helper process)."""
    receipt = _STREAMED.pop()
    return receipt.close(outcome)


def _problem_rows(results: Iterable[SheetResult], form: Form) -> tuple[str, list[tuple[RawRow, CheckedRow, bool]]]:
    """A form's sheet's name as sent, and its rows that have problems, in the order the
    receipt shows them ("" and none when the file has no such sheet)."""
    result = next((s for s in results if s.form.kind == form.kind), None)
    if result is None:
        return "", []
    return result.sheet.name, [row for row in result.rows if row[1].problems]


def _shown_rows(results: Iterable[SheetResult], form: Form, first: int = FIRST_DATA_ROW) -> dict[tuple[str, int], int]:
    """Where `_sheet_rows` puts each row of a form's sheet in the receipt, from the 0-based
    row `first` on: (sheet name as sent, row as sent) -> row in the receipt (1-based)."""
    name, rows = _problem_rows(results, form)
    return {(name, raw.row): first + 1 + k for k, (raw, _, _) in enumerate(rows)}


def _sheet_rows(results: Iterable[SheetResult], form: Form) -> Iterable[SheetRow]:
    """The sender's rows that have problems, as they sent them, problem cells marked
    (where they land: `_shown_rows`)."""
    for raw, checked, on_roster in _problem_rows(results, form)[1]:
        marks: dict[str, tuple[Severity, str]] = {}
        for p in sorted(checked.problems, key=lambda p: p.severity != "error"):
            key = p.field if p.field and not form[p.field].derived else _LOCATOR[form.kind]
            if key in marks:   # several problems in one cell: the worst colours it, all are listed
                marks[key] = (marks[key][0], f"{marks[key][1]}\n{p.message}")
            else:
                marks[key] = (p.severity, p.message)
        values = dict(raw.values) if raw.trimmed else {k: _shown(v) for k, v in raw.values.items()}
        yield SheetRow(values, roster=on_roster, marks=marks)


# Where a problem of a column the sheet does not show (the row's region) is marked.
_LOCATOR = {"persons": "id_number", "units": "unit_name"}


def _shown(value: Cell) -> object:
    """A cell as the sender saw it: an ID that Excel made a number stays visibly broken."""
    if isinstance(value, float) and abs(value) >= 1e11:
        return f"{value:.15G}"
    return cell_text(value)


def _summary_sheet(ws: Worksheet, book: FormWorkbook, outcome: Outcome, earlier: FileRecord | None) -> None:
    f = book.fmt
    ws.set_column(0, 0, 30)
    ws.set_column(1, 1, 66)
    ws.set_row(0, 30)
    ws.merge_range(0, 0, 0, 1, "全民参保登记 回执", f.title)
    for r, (label, value) in enumerate(_summary_lines(outcome, earlier), start=2):
        if isinstance(value, int):
            ws.write_string(r, 0, label, f.label)
            ws.write_number(r, 1, value, f.count)
            continue
        lines = sum(1 + cell_len(part) // 64 for part in str(value).split("\n"))
        if lines > 1:
            ws.set_row(r, 15 * lines)
        ws.write_string(r, 0, label, f.label)
        ws.write_string(r, 1, str(value), f.value)
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.activate()


def _summary_lines(outcome: Outcome, earlier: FileRecord | None) -> list[tuple[str, object]]:
    place = "　".join(regions.load().path_names(outcome.village)) if outcome.village else ""
    lines: list[tuple[str, object]] = [
        ("文件", outcome.path.name),
        ("所属村（社区）", place or "（非村级模板）"),
        ("收到时间", (earlier.received_at if earlier else outcome.received_at).replace("T", " ")),
        ("处理结果", STATUS_TEXT[outcome.status].format(newer=" ".join(outcome.newer or ()))),
    ]
    if outcome.older_form is not None:
        lines.append(("模板版本", f"旧版模板（第 {outcome.older_form} 版），已按现行第 {FORM_VERSION} 版的要求检查；"
                                  "以后请使用新下发的模板。"))
    if earlier is not None:
        return lines
    taken, returned = COUNT_WORDS[outcome.status == "checked"]
    lines += [
        ("读取人员行数", outcome.count("persons", "read")),
        (f"{taken}人员", outcome.count("persons", "accepted")),
        (f"{returned}人员", outcome.count("persons", "returned")),
        ("有提醒的行", outcome.count("persons", "warnings") + outcome.count("units", "warnings")),
        ("名册外新增人员", outcome.count("persons", "new")),
        ("读取单位行数", outcome.count("units", "read")),
        (f"{taken}单位", outcome.count("units", "accepted")),
        (f"{returned}单位", outcome.count("units", "returned")),
    ]
    if outcome.village:
        lines += [("本村名册人数", outcome.roster_total),
                  ("本村尚未登记（见“未登记名单”）", len(outcome.missing))]
    if outcome.withdrawn:
        lines.append(("本次未包含、已移出登记（见“移出登记名单”）", sum(map(len, outcome.withdrawn.values()))))
    if outcome.kept:
        lines.append(("本次未包含、仍保留登记", f"{sum(outcome.kept.values())}（本文件不含此前交回的大部分内容，"
                      "按新模板补录处理，此前的登记全部保留。如确需移出某些人，请在上次交回的文件里清空这些行后再发回。）"))
    lines.append(("下一步", _next_step(outcome)))
    return lines


def _next_step(outcome: Outcome) -> str:
    if outcome.status == "accepted":
        return "无需处理。名册中尚未登记的人员请继续入户调查，登记后把本回执或模板再次发回。"
    if outcome.status == "checked":
        return "按问题清单改正后再正式发送。"
    return ("本回执的“人员登记”“单位登记”工作表只列出有问题的行（问题清单中的“行号”就是本回执中的行）："
            "按红色单元格的批注改正（黄色为提醒，请核实），"
            "保存后把本回执原样发回即可，不要改动工作表和列的结构。没有问题的行已经登记，不必再发。")


class _ProblemSheet:
    """问题清单: one line per problem (sheet, row in the receipt, row sent, column, value, rule,
    message), added in parts."""

    WIDTHS = (10, 7, 9, 14, 22, 20, 70, 14, 9)
    MESSAGE = PROBLEM_HEADERS.index("说明")

    def __init__(self, book: FormWorkbook) -> None:
        self.ws = ws = book.add_sheet("问题清单")
        self.fmt = book.fmt
        for c, w in enumerate(self.WIDTHS):
            ws.set_column(c, c, w)
        ws.write_row(0, 0, PROBLEM_HEADERS, self.fmt.header)
        self.rows = 0

    def add(self, problems: Iterable[Problem], shown: Mapping[tuple[str, int], int] | None = None) -> _ProblemSheet:
        """`shown`: where the rows are in this receipt (`_shown_rows`); a row not shown has
        only its row as sent."""
        ws, f, shown = self.ws, self.fmt, shown or {}
        per_line = int(self.WIDTHS[self.MESSAGE] * 0.85)     # CJK text runs wider than its cell count
        for p in problems:
            self.rows = r = self.rows + 1
            lines = -(-cell_len(p.message) // per_line)
            if lines > 1:
                ws.set_row(r, 14 * lines)
            here = shown.get((p.sheet, p.row)) if p.row else None
            write_cells(ws, r, {0: (p.sheet, f.value), 1: (here, f.count) if here else (None, f.value),
                                2: (p.row, f.count) if p.row else (None, f.value),
                                3: (p.column, f.value), 4: (p.value, f.value), 5: (p.title, f.value),
                                6: (p.message, f.value), 7: (SEVERITY_TEXT[p.severity], f.value), 8: (p.rule, f.value)})
        return self

    def finish(self) -> None:
        ws = self.ws
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(self.rows, 1), len(PROBLEM_HEADERS) - 1)
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(0)


def _missing_sheet(book: FormWorkbook, name: str, missing: Sequence[Mapping[str, str]]) -> None:
    """A list of persons by 人员编号, name, ID and address: who is still to visit, or who was withdrawn."""
    ws = book.add_sheet(name)
    f = book.fmt
    headers = (("person_no", "人员编号", 12), ("name", "户籍姓名", 10), ("id_number", "公民身份号码", 21),
               ("home_street", "常住地街路巷门牌", 30))
    for c, (_, label, width) in enumerate(headers):
        ws.set_column(c, c, width)
        ws.write_string(0, c, label, f.header)
    for r, person in enumerate(missing, start=1):
        for c, (key, _, _) in enumerate(headers):
            ws.write_string(r, c, person.get(key, ""))
    ws.freeze_panes(1, 0)
    ws.set_paper(9)


def write_conflict_notices(ws: Workspace, outcome: Outcome) -> list[Path]:
    """Tell each village that registered a person first that another village returned them
    too: the conflict shows in both villages' mail, not only in the second one's receipt."""
    by_village: dict[str, list[tuple[str, str]]] = {}
    for id_number, holder, other_region in outcome.conflicts:
        by_village.setdefault(holder.region_code, []).append((id_number, other_region))
    written = []
    for village, items in sorted(by_village.items()):
        if regions.load().get(village) is None:
            continue
        names = {r["id_number"]: r.get("name", "") for r in ws.store.records_by_key("persons", [i for i, _ in items])}
        name = regions.load().by_code[village].name
        path = ws.village_folder(ws.receipts, village) / f"{name}-冲突通知-{outcome.sha256[:6]}.xlsx"
        identity = Identity(kind="receipt", template_id=f"CB-{village}", region_code=village,
                            answers_file=outcome.sha256)
        book = FormWorkbook(path, identity, protect=False)
        try:
            _conflict_sheet(book, [(names.get(i, ""), i, other) for i, other in items], outcome)
            written.append(book.close())
        except BaseException:
            book.abort()
            raise
    return written


def _conflict_sheet(book: FormWorkbook, rows: Sequence[tuple[str, str, str]], outcome: Outcome) -> None:
    ws = book.add_sheet("冲突通知")
    f = book.fmt
    for c, width in enumerate((12, 21, 36, 40)):
        ws.set_column(c, c, width)
    ws.merge_range(0, 0, 0, 3, "全民参保登记 重复登记通知", f.title)
    ws.set_row(1, 45)
    ws.merge_range(1, 0, 1, 3, "下列人员已由本村（社区）登记，又被另一个村（社区）登记。本村的登记保持不变；"
                   "请核实此人的常住地，并与县区经办机构联系，由其确定此人归哪个村（社区）。", f.value)
    ws.write_row(2, 0, ("户籍姓名", "公民身份号码", "又由哪个村（社区）登记", "文件"), f.header)
    for r, (name, id_number, other) in enumerate(rows, start=3):
        place = "　".join(regions.load().path_names(other)) or other
        ws.write_row(r, 0, (name, id_number, place, f"{outcome.path.name}（{outcome.received_at[:10]}）"), f.value)
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
