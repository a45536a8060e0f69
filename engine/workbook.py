"""Writing workbooks in the form's layout: templates, receipts and exports share it.

A form sheet has a title row, a row of header bands (the form's groups), the header
row (the fields' labels) and then one row per person or unit. Code columns get a
dropdown from the hidden code sheet (代码表) through a defined name, the place columns
cascading dropdowns (`engine.dropdowns`), every column its input prompt; conditional
formats turn a cell red while staff type when a rule a formula can express is broken
(`engine.live_checks`). Roster and derived columns are locked on roster rows, the rest
unlocked, and the sheet is protected without a password. A hidden identity sheet says
what the workbook is (template, receipt or export), for which region and form version;
the reader reads it back.

Everything is derived from `engine.form`; nothing here names a field but through it.
`engine.xlsxwriter_ext` keeps a city's 452 templates fast (lists rendered once per
process, formulas prepared once).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from itertools import groupby
from pathlib import Path
from typing import Any, Literal, NamedTuple

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import quote_sheetname, xl_col_to_name, xl_range, xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from engine import regions
from engine.dropdowns import cascades, code_list_name, dropdown_lists
from engine.form import CODE_LISTS, FORM_VERSION, FORMS, Field, Form
from engine.live_checks import live_checks
from engine.xlsxwriter_ext import (
    RENDERING,
    CellSpec,
    FastWorkbook,
    FormSheet,
    RenderedSheet,
    render_rows,
)

IDENTITY_SHEET = "_canbao"
CODES_SHEET = "代码表"  # every dropdown's list, one per row: the code lists, then the place lists
INSTRUCTIONS_SHEET = "填写说明"
HEADER_ROW = 2          # 0-based row of the field labels; data starts below it
FIRST_DATA_ROW = HEADER_ROW + 1
MAX_PROMPT = 255        # Excel's limit for an input message

WorkbookKind = Literal["template", "receipt", "export"]
Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Identity:
    """What a workbook is; written to the hidden identity sheet and read back on return."""

    kind: WorkbookKind
    template_id: str          # stable per village (or per exporting region)
    region_code: str          # the village's 12-digit code, or the exporting region's code
    form_version: str = FORM_VERSION
    roster_batch: str = ""
    generated_at: str = field(default_factory=lambda: dt.datetime.now().isoformat(timespec="seconds"))
    answers_file: str = ""    # a receipt: the SHA-256 of the file it answers
    level: str = ""           # an export: the exporting level (county, city)

    def rows(self) -> list[tuple[str, str]]:
        return [(k, str(v)) for k, v in asdict(self).items()]

    @classmethod
    def from_pairs(cls, pairs: Mapping[str, str]) -> Identity | None:
        known = {k: str(pairs[k]) for k in cls.__dataclass_fields__ if k in pairs}
        if "kind" not in known or "template_id" not in known or "region_code" not in known:
            return None
        if known["kind"] not in ("template", "receipt", "export"):
            return None
        return cls(**known)  # type: ignore[arg-type]


def template_id(region_code: str) -> str:
    """Stable across regenerations: a village keeps its template id for the whole survey."""
    return f"CB-{region_code}"


@dataclass
class SheetRow:
    values: Mapping[str, object]
    roster: bool = False                                   # a roster row: roster columns locked
    marks: Mapping[str, tuple[Severity, str]] = field(default_factory=dict)  # key -> (severity, message)


def region_values(code: str) -> dict[str, str]:
    """The derived columns of a row in village `code`."""
    return dict(_region_values(code))


@cache
def _region_values(code: str) -> tuple[tuple[str, str], ...]:
    names = {r.level: r.name for r in regions.load().lineage(code)}
    return (("region_code", code), ("province", names.get("province", "")), ("city", names.get("city", "")),
            ("county", names.get("county", "")), ("town", names.get("town", "")),
            ("village", names.get("village", "")))


def code_entry(f: Field, value: object) -> object:
    """A stored code as the dropdown shows it ('11' -> '11 城镇职工基本养老保险')."""
    cl = f.code_list
    if cl is None or not isinstance(value, str) or value not in cl.labels:
        return value
    return f"{value} {cl.labels[value]}"


class FormWorkbook:
    """One workbook in the form's layout, written to a temporary name and renamed on close."""

    def __init__(self, path: Path, identity: Identity, *, protect: bool = True, small: bool = False) -> None:
        """`small`: the workbook is built in memory, without temporary files (a village's
        template or receipt: fast); otherwise row by row in constant memory (a county's export)."""
        self.path = path
        self.identity = identity
        self.protect = protect
        path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp")
        self.book = FastWorkbook(str(self._tmp), {
            "in_memory" if small else "constant_memory": True, "strings_to_formulas": False,
            "strings_to_urls": False, "strings_to_numbers": False,
            "default_format_properties": dict(INPUT_FORMAT),
        })
        self.fmt = _Formats(self.book)
        self._lists = False

    # -- sheets -----------------------------------------------------------------------

    def add_sheet(self, name: str) -> Worksheet:
        return self.book.add_worksheet(name)

    def add_form_sheet(self, form: Form, rows: Iterable[SheetRow], *, title: str, blank: int = 0,
                       derived: bool = False, header_text: str = "") -> Worksheet:
        """The form's sheet: title, bands, headers, `rows`, then `blank` empty rows for new
        persons/units. `derived`: include the per-row region columns (exports); a village's
        workbook names its region once, in the title and the identity."""
        sheet = self.begin_form_sheet(form, title=title, derived=derived, header_text=header_text)
        sheet.write(rows)
        return sheet.finish(blank)

    def begin_form_sheet(self, form: Form, *, title: str, derived: bool = False,
                         header_text: str = "") -> FormSheetWriter:
        """The form's sheet, its rows to come in parts (`add_form_sheet` in steps: a receipt
        written while the file's rows are being checked)."""
        self._ensure_lists()
        fields = form.fields if derived else tuple(f for f in form.fields if not f.derived)
        ws = self.book.add_worksheet(form.sheet, worksheet_class=FormSheet)
        self._write_head(ws, fields, title)
        return FormSheetWriter(self, ws, form, fields, header_text or title)

    def add_instructions(self) -> None:
        ws = self.book.add_worksheet(INSTRUCTIONS_SHEET)
        ws.set_column(0, 0, 22)
        ws.set_column(1, 1, 90)
        ws.write(0, 0, "全民参保登记表 填写说明", self.fmt.title)
        r = 2
        for para in INSTRUCTIONS:
            ws.write(r, 0, para[0], self.fmt.bold)
            ws.write(r, 1, para[1], self.fmt.wrap)
            r += 1
        r += 1
        ws.write(r, 0, "各列填写要求", self.fmt.title)
        r += 1
        for form in FORMS.values():
            for f in form.fields:
                if f.prompt:
                    ws.write(r, 0, f"{form.sheet}：{f.label}", self.fmt.bold)
                    ws.write(r, 1, f.help_text, self.fmt.wrap)
                    r += 1
        r += 1
        ws.write(r, 0, "代码表", self.fmt.title)
        r += 1
        for cl in CODE_LISTS.values():
            ws.write(r, 0, cl.name, self.fmt.bold)
            ws.write(r, 1, "；".join(c.entry for c in cl.codes) + f"（来源：{cl.source}）", self.fmt.wrap)
            r += 1
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)

    def close(self) -> Path:
        self._write_lists()
        self._write_identity()
        self.book.close()
        os.replace(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        try:
            self.book.close()
        finally:
            self._tmp.unlink(missing_ok=True)

    # -- internals --------------------------------------------------------------------

    def _ensure_lists(self) -> None:
        """Define every list's name (~460). xlsxwriter's define_name checks each name with
        a handful of regular expressions; the names are the same in every workbook, so
        they pass those checks once per process and are then added as define_name would."""
        if self._lists:
            return
        if _names_checked() and isinstance(getattr(self.book, "defined_names", None), list):
            self.book.defined_names.extend([name, -1, formula.lstrip("="), False] for name, formula in _list_formulas())
        else:
            for name, formula in _list_formulas():
                self.book.define_name(name, formula)
        self._lists = True

    def _write_lists(self) -> None:
        if not self._lists:
            return
        if RENDERING:
            ws = self.book.add_worksheet(CODES_SHEET, worksheet_class=RenderedSheet)
            ws.set_rendered(*_rendered_lists())
        else:
            ws = self.book.add_worksheet(CODES_SHEET)
            for r, (name, entries) in enumerate(dropdown_lists()):
                ws.write_row(r, 0, [name, *entries])
        ws.hide()

    def _write_identity(self) -> None:
        ws = self.book.add_worksheet(IDENTITY_SHEET)
        ws.write_row(0, 0, ["key", "value"])
        for r, (k, v) in enumerate(self.identity.rows(), start=1):
            ws.write_string(r, 0, k)
            ws.write_string(r, 1, v)
        ws.hide()

    def _write_head(self, ws: Worksheet, fields: Sequence[Field], title: str) -> None:
        n = len(fields)
        ws.set_row(0, 28)
        ws.merge_range(0, 0, 0, n - 1, title, self.fmt.sheet_title)
        col = 0
        for group, members in groupby(fields, key=lambda f: f.group):
            width = len(list(members))
            if width > 1:
                ws.merge_range(1, col, 1, col + width - 1, group, self.fmt.band)
            else:
                ws.write(1, col, group, self.fmt.band)
            col += width
        ws.set_row(HEADER_ROW, 32)
        for c, f in enumerate(fields):
            ws.write(HEADER_ROW, c, f.label, self.fmt.header_required if f.required else self.fmt.header)
            ws.set_column(c, c, f.width)
        ws.freeze_panes(FIRST_DATA_ROW, 0)

    def _row_plan(self, fields: Sequence[Field]) -> list[_Column]:
        return [_Column(c, f.key, f.code_list.labels if f.code_list else None,
                        self.fmt.cell(f.derived or f.roster, None), self.fmt.cell(f.derived, None))
                for c, f in enumerate(fields)]

    def _write_row(self, ws: Worksheet, plan: Sequence[_Column], r: int, row: SheetRow) -> None:
        """One row without marks: the hot loop of a template (a county has 100,000 rows)."""
        values, roster = row.values, row.roster
        cells: dict[int, CellSpec] = {}
        for c, key, labels, roster_format, other_format in plan:
            if (cell := _cell(values.get(key), labels, roster_format if roster else other_format)) is not None:
                cells[c] = cell
        ws.write_cells(r, cells)

    def _marked_plan(self, fields: Sequence[Field]) -> list[_MarkedColumn]:
        severities: tuple[Severity | None, ...] = (None, "error", "warning")
        return [_MarkedColumn(c, f.key, f.code_list.labels if f.code_list else None,
                              {s: self.fmt.cell(f.derived or f.roster, s) for s in severities},
                              {s: self.fmt.cell(f.derived, s) for s in severities})
                for c, f in enumerate(fields)]

    def _write_marked_row(self, ws: Worksheet, plan: Sequence[_MarkedColumn], r: int, row: SheetRow) -> None:
        """A receipt's row: problem cells coloured, the messages as comments (a county's
        receipt has some 10,000 such rows: the formats are looked up once per column)."""
        values, marks = row.values, row.marks
        cells: dict[int, CellSpec] = {}
        comments: list[tuple[int, str]] = []
        for c, key, labels, roster_formats, other_formats in plan:
            mark = marks.get(key)
            if mark:
                comments.append((c, mark[1]))
            fmt = (roster_formats if row.roster else other_formats)[mark[0] if mark else None]
            if (cell := _cell(values.get(key), labels, fmt)) is not None:
                cells[c] = cell
        ws.write_cells(r, cells)
        for c, message in comments:
            ws.write_comment(r, c, message, COMMENT_SIZE)

    def _validate(self, ws: Worksheet, form: Form, fields: Sequence[Field], last: int) -> None:
        refs = row_refs(fields)
        places = cascades(form)
        for c, f in enumerate(fields):
            if f.derived:
                continue
            options: dict[str, Any] = {"input_title": f.label[:32], "input_message": f.help_text[:MAX_PROMPT],
                                       "error_title": f"{f.label}填写有误"[:32]}
            cascade = places.get(f.key)
            if cascade is not None and all(k in refs for k in cascade.parents):
                options.update(validate="list", source=cascade.source(refs), error_type="warning",
                               error_message=cascade.alert(f)[:MAX_PROMPT])
            elif f.code_list is not None:
                options.update(validate="list", source=f"={code_list_name(f.code_list.name)}",
                               error_message=f"请从下拉列表中选择{f.label}。"[:MAX_PROMPT])
            elif f.kind == "id_number":
                options.update(validate="length", criteria="between", minimum=15, maximum=18,
                               error_message="身份证号码应为18位（旧证15位），请按文本填写。")
            elif f.kind == "mobile":
                options.update(validate="length", criteria="==", value=11,
                               error_message="手机号码应为11位数字。")
            elif not f.prompt:
                continue
            else:
                options.update(validate="any")
            ws.data_validation(FIRST_DATA_ROW, c, last, c, options)

    def _live_checks(self, ws: Worksheet, form: Form, fields: Sequence[Field], last: int) -> None:
        """One conditional format per live check, over all its target columns."""
        refs = row_refs(fields)
        columns = {f.key: c for c, f in enumerate(fields)}
        for check in live_checks(form, refs):
            cols = sorted(columns[k] for k in check.targets)
            areas = " ".join(xl_range(FIRST_DATA_ROW, a, last, b) for a, b in _runs(cols))
            ws.conditional_format(FIRST_DATA_ROW, cols[0], last, cols[0], {
                "type": "formula", "criteria": check.formula, "format": self.fmt.live_error,
                "multi_range": areas})

    def _page_setup(self, ws: Worksheet, form: Form, header_text: str) -> None:
        ws.hide_gridlines(0)    # data cells have no borders: print the grid
        ws.set_landscape()
        ws.set_paper(9)
        ws.set_margins(left=0.3, right=0.3, top=0.6, bottom=0.5)
        ws.repeat_rows(0, HEADER_ROW)
        ws.fit_to_pages(1, 0)
        ws.set_header(f"&L{_escape(header_text)}&R{form.name}")
        ws.set_footer("&C第 &P 页 共 &N 页")


class FormSheetWriter:
    """A form sheet being written: its rows in order (`write`, as often as they come), then
    its dropdowns, live checks, page setup and protection (`finish`)."""

    def __init__(self, book: FormWorkbook, ws: Worksheet, form: Form, fields: Sequence[Field],
                 header_text: str) -> None:
        self.book, self.ws, self.form, self.fields, self.header_text = book, ws, form, fields, header_text
        self.next_row = FIRST_DATA_ROW
        self._plan = book._row_plan(fields)
        self._marked: list[_MarkedColumn] | None = None

    def write(self, rows: Iterable[SheetRow]) -> None:
        book, ws, plan, r = self.book, self.ws, self._plan, self.next_row
        for row in rows:
            if row.marks:
                self._marked = self._marked or book._marked_plan(self.fields)
                book._write_marked_row(ws, self._marked, r, row)
            else:
                book._write_row(ws, plan, r, row)
            r += 1
        self.next_row = r

    def finish(self, blank: int = 0) -> Worksheet:
        """`blank` empty rows for new persons/units after the rows, then the sheet's settings."""
        book, ws, form, fields = self.book, self.ws, self.form, self.fields
        last = max(self.next_row + blank - 1, FIRST_DATA_ROW)
        book._validate(ws, form, fields, last)
        book._live_checks(ws, form, fields, last)
        book._page_setup(ws, form, self.header_text)
        ws.autofilter(HEADER_ROW, 0, last, len(fields) - 1)
        if book.protect:
            ws.protect("", {"sort": True, "autofilter": True, "format_columns": True,
                            "format_rows": True, "select_locked_cells": True, "select_unlocked_cells": True})
        return ws


def _cell(value: object, labels: Mapping[str, str] | None, fmt: Format | None) -> CellSpec | None:
    """One data cell as `FastCells.write_cells` takes it: a code as the dropdown shows it
    ('11 城镇职工…'), text as text, numbers as numbers; an empty cell only when it has a
    format (an empty input cell is the default); None for no cell at all."""
    if value is None or value == "":
        return (None, fmt) if fmt is not None else None
    if type(value) is str:
        if labels is not None and value in labels:
            value = f"{value} {labels[value]}"
        return value, fmt
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value), fmt
    return value, fmt


def _runs(cols: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted column numbers as runs of adjacent columns: [2, 4, 5, 6] -> [(2, 2), (4, 6)]."""
    runs: list[tuple[int, int]] = []
    for c in cols:
        if runs and runs[-1][1] == c - 1:
            runs[-1] = (runs[-1][0], c)
        else:
            runs.append((c, c))
    return runs


def _escape(text: str) -> str:
    return text.replace("&", "&&")


class _MarkedColumn(NamedTuple):
    col: int
    key: str
    labels: Mapping[str, str] | None
    roster_formats: Mapping[Severity | None, Format | None]   # by the cell's mark (None: unmarked), on a roster row
    other_formats: Mapping[Severity | None, Format | None]    # on any other row


COMMENT_SIZE = {"x_scale": 2.2, "y_scale": 1.6}   # a problem's comment: room for two or three lines


class _Column(NamedTuple):
    col: int
    key: str
    labels: Mapping[str, str] | None    # a code column: code -> label, written as '11 城镇职工…'
    roster_format: Format | None        # on a roster row (None: an input cell)
    other_format: Format | None         # on any other row


# The workbook's default cell format is the form's input cell: text (so that Excel never
# turns an ID into a number), unlocked (the sheet is protected). An input cell then needs
# no format of its own: most cells of a template are written without one, which makes
# writing a template a third faster. Every other format starts from it (add_format copies
# the default); data cells have no borders, the grid shows on screen and in print.
INPUT_FORMAT = {"font_name": "宋体", "font_size": 10, "valign": "vcenter", "num_format": 49, "locked": False}  # 49: "@"


class _Formats:
    """Every cell format of the form workbooks, made once per workbook."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        base = {"border": 1, "locked": True}
        self.title = book.add_format({"bold": True, "font_size": 14, "align": "center", "locked": True})
        # a form sheet is wide: its title starts where staff look, at the top left
        self.sheet_title = book.add_format({"bold": True, "font_size": 14, "align": "left", "locked": True})
        self.bold = book.add_format({"bold": True, "valign": "top"})
        self.wrap = book.add_format({"text_wrap": True, "valign": "top"})
        self.label = book.add_format({**base, "bold": True, "bg_color": "#F2F2F2", "valign": "top"})
        self.value = book.add_format({**base, "text_wrap": True, "valign": "top", "align": "left"})
        self.count = book.add_format({**base, "valign": "top", "align": "left", "num_format": "#,##0"})
        self.band = book.add_format({**base, "bold": True, "align": "center", "bg_color": "#DDEBF7"})
        self.header = book.add_format({**base, "bold": True, "align": "center", "text_wrap": True,
                                       "bg_color": "#F2F2F2"})
        self.header_required = book.add_format({**base, "bold": True, "align": "center", "text_wrap": True,
                                                "bg_color": "#FCE4D6"})
        fills = {None: None, "error": "#FF9999", "warning": "#FFEB84"}
        self._cells: dict[tuple[bool, str | None], Format | None] = {}
        for locked in (True, False):
            for severity, fill in fills.items():
                spec: dict[str, Any] = {"locked": locked}
                if locked:
                    spec["bg_color"] = "#F2F2F2"
                if fill:
                    spec["bg_color"] = fill
                self._cells[(locked, severity)] = book.add_format(spec) if locked or fill else None
        self.live_error = book.add_format({"bg_color": "#FF9999", "font_color": "#9C0006"})

    def cell(self, locked: bool, severity: str | None) -> Format | None:
        """A data cell's format; None for an input cell (the workbook's default format)."""
        return self._cells[(locked, severity)]


def row_refs(fields: Sequence[Field]) -> dict[str, str]:
    """Field key -> its cell in the first data row, column absolute ($N4): formulas of data
    validations and conditional formats are written for that row and hold for every row."""
    return {f.key: f"${xl_col_to_name(c)}{FIRST_DATA_ROW + 1}" for c, f in enumerate(fields)}


@cache
def _list_formulas() -> tuple[tuple[str, str], ...]:
    """Each list's defined name and the row of 代码表 it refers to (entries from column B)."""
    sheet = quote_sheetname(CODES_SHEET)
    return tuple((name, f"={sheet}!$B${r + 1}:{xl_rowcol_to_cell(r, len(entries), row_abs=True, col_abs=True)}")
                 for r, (name, entries) in enumerate(dropdown_lists()))


@cache
def _names_checked() -> bool:
    """Every list name passes xlsxwriter's own checks (a throwaway workbook's define_name)."""
    book = xlsxwriter.Workbook(io.BytesIO(), {"in_memory": True})
    book.add_worksheet(CODES_SHEET)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ok = all(book.define_name(name, formula) == 0 for name, formula in _list_formulas())
    return ok and [n[:3] for n in book.defined_names] == [[n, -1, f.lstrip("=")] for n, f in _list_formulas()]


@cache
def _rendered_lists() -> tuple[str, int, int]:
    """代码表's rows as sheet XML, rendered once per process: they are the same in every workbook."""
    rows = [(name, *entries) for name, entries in dropdown_lists()]
    return render_rows(rows), len(rows) - 1, max(map(len, rows)) - 1


INSTRUCTIONS: tuple[tuple[str, str], ...] = (
    ("怎样填写", "每行一人。名册中的人员已预先填好编号、姓名、身份证号码、性别和出生日期（灰色，不能修改），"
              "入户调查后填写其余各列。名册外新发现的人员填在下方空白行。带下拉箭头的列请从列表中选择，"
              "不要自行输入或粘贴。填好后保存，原文件发回或放入共享文件夹，不要改文件名以外的任何结构。"),
    ("（一）公民身份号码", "指居民身份证上的公民身份号码。特殊人群可填写护照等有效证件号码。"
                     "身份证号码必须按文本填写：先把单元格设为文本，或在号码前加英文单引号 '。"),
    ("（二）就业状态", "有就业单位的选 0 已单位就业，并填写单位全称；无就业单位人员按下列类别登记："
                  "1. 学龄前、2. 在校学生、3. 未就业、4. 灵活就业、5. 已办理离退休手续或已领取养老待遇"
                  "（数字为信息录入代码，下同）。"),
    ("（三）户口所在地", "填写到户口所在省（自治区、直辖市）、市（区、州）、县（区）。从下拉列表先选省，再选市、县，"
                    "市、县的列表随左边所选的省、市变化；直辖市的“市”选直辖市本身（如 北京市 北京市 东城区）。"
                    "列表中没有的地名（如境外）可以直接填写，出现提示时选“是”（LibreOffice 中选“确定”）。"),
    ("（四）常住地地址", "指个人常住地的详细地址，由中华人民共和国行政区划名称、街道（乡、镇）和街、路、巷、"
                    "村等名称以及门牌号码及居室号码构成。省、市、县与户口所在地一样从下拉列表选择；"
                    "淮北市的县区选好后，乡镇（街道）和村（社区）也可从随之变化的下拉列表中选择。"),
    ("（五）手机", "如无手机，可填写家庭其他成员手机或家庭座机。手机与固定电话至少填写一项。"),
    ("（六）现参保情况", "不同险种可多选，同一险种单选：11-15 养老保险，21-26 医疗保险，30 工伤保险，"
                    "40 失业保险，50 生育保险。"),
    ("（七）未参保原因", "未参加养老保险的人员必须填写：91 个人未参保、92 单位未予参保、93 参军等原因未参保；"
                    "表上其余原因按本系统代码（911-935）选择，选 919 其他须在右侧说明。"),
    ("填写时变红", "单元格变红表示此处有错，改正后红色自动消失：身份证号码位数或校验位不对，性别与身份证号码不符；"
              "已开始填写的行（填了任一调查项目）缺必填项；就业状态为 0 但没填工作单位名称；选了“其他”但没说明；"
              "没选养老保险也没填未参保原因，或两者都填了；手机和固定电话都没填，或手机号码不是11位；"
              "统一社会信用代码位数或校验位不对。发回后系统还会逐项全面检查。"),
    ("回执与更正", "发回后会收到回执：红色单元格是错误，该行须改正后再发回；黄色是提醒，请核实。"
              "可以直接在回执的登记表中改正后把回执原样发回。"),
)

