"""The summary workbook (汇总表) of a region: what an office prints and hands to its leaders.

Counts only, never personal data. One sheet per view of the figures:

- 进度: progress per child region (counties of a city, towns of a county) against the
  roster task, with the notice's task beside it at city level, and a chart;
- <level>明细: every region two levels down grouped under its parent, with subtotals
  (村社区明细 for a county, 乡镇街道明细 for a city);
- 参保情况, 未参保原因, 就业与身份: the breakdowns, with columns derived from the form's
  code lists;
- 每日进度: registrations per day, cumulative, with a chart.

Totals and rates are Excel formulas that carry their computed value as the cached result,
so readers that do not recalculate (openpyxl, calamine, previewers) see the numbers. The
workbook is written under a temporary name and moved into place, so a half-written
summary is never visible.
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from xlsxwriter.utility import xl_range, xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook

from engine import regions
from engine.atomic import atomic_workbook
from engine.figures import Figures, RegionFigures
from engine.form import PERSONS, UNITS, CodeList, Form

# ---- the summary's own words (labels of codes come from engine.form) --------------------

PROGRESS_SHEET = "进度"
INSURANCE_SHEET = "参保情况"
UNINSURED_SHEET = "未参保原因"
EMPLOYMENT_SHEET = "就业与身份"
DAILY_SHEET = "每日进度"

_TITLE = "{region}全民参保登记入户调查{what}"
_SUBTITLE = "制表单位：{office}　　制表时间：{time}"
_FOOTER = "&C第 &P 页 共 &N 页"
_CODE, _NAME, _TOTAL, _SUBTOTAL = "区域代码", "名称", "合计", "小计"
_PERSONS_BAND, _UNITS_BAND = "人员（人）", "单位（户）"
_NOTICE = "淮人社秘〔2017〕166号通知"
_PROGRESS_NOTE = (
    "说明：任务人数、任务单位数为入户调查对象名册数；完成率＝已登记÷任务人数，单位完成率＝已登记单位÷任务单位数；"
    "退回待改为最近一次报送有错误、尚未改正的人数；未登记为名册中尚未登记也未退回的人数。"
)
_NOTICE_NOTE = "需入户调查人员数、需入户调查单位数为{notice}下达的任务数。"
_BREAKDOWN_NOTE = "说明：统计全部已登记人员（含名册外新增人员）。"
_INSURANCE_NOTE = _BREAKDOWN_NOTE + "养老保险、医疗保险各为单选；工伤、失业、生育保险可同时参加。"
_UNINSURED_NOTE = _BREAKDOWN_NOTE + "三位代码为两位代码的细目，计入所属类别的小计。"
_UNITS_NOTE = "单位类型按已登记单位统计。"
_NO_DAILY = "暂无登记记录。"
_SECTION_NUMBERS = "一二三四五六七八九十"
_OTHER_CODES = "{name}其他代码"


def sheet_names(level: str) -> list[str]:
    """The sheets of a summary for a root region of this level, in order."""
    return [PROGRESS_SHEET, _detail_sheet_name(level), INSURANCE_SHEET, UNINSURED_SHEET,
            EMPLOYMENT_SHEET, DAILY_SHEET]


def _detail_sheet_name(level: str) -> str:
    child = regions.CHILD_LEVEL.get(level)
    grandchild = regions.CHILD_LEVEL.get(child) if child else None
    return f"{regions.LEVEL_LABELS[grandchild]}明细" if grandchild else "明细"


# ---- formats, all in one place ------------------------------------------------------------

Kind = Literal["code", "text", "count", "rate"]
Style = Literal["row", "subtotal", "total"]

_FONT = {"font_name": "宋体", "font_size": 10, "valign": "vcenter"}
_KINDS: dict[str, dict[str, Any]] = {
    "code": {"num_format": "@"},
    "text": {},
    "count": {"num_format": "#,##0"},
    "rate": {"num_format": "0.0%"},
    "date": {"num_format": 'yyyy"年"m"月"d"日"', "align": "center"},
}
_STYLES: dict[str, dict[str, Any]] = {
    "row": {},
    "subtotal": {"bold": True, "bg_color": "#FFF2CC"},
    "total": {"bold": True, "bg_color": "#E2EFDA"},
}
_SPECIAL: dict[str, dict[str, Any]] = {
    "title": {"font_name": "黑体", "font_size": 16, "bold": True, "align": "center"},
    "subtitle": {"align": "left"},
    "header": {"bold": True, "border": 1, "align": "center", "text_wrap": True, "bg_color": "#D9E1F2"},
    "section": {"bold": True, "font_size": 11},
    "note": {"font_size": 9, "font_color": "#595959", "text_wrap": True, "valign": "top"},
}
_BAR = {"type": "data_bar", "bar_color": "#9DC3E6", "bar_solid": True, "bar_border_color": "#5B9BD5",
        "min_type": "num", "min_value": 0, "max_type": "num", "max_value": 1}
_SCALE = {"type": "3_color_scale", "min_type": "num", "min_value": 0, "min_color": "#F8696B",
          "mid_type": "num", "mid_value": 0.5, "mid_color": "#FFEB84",
          "max_type": "num", "max_value": 1, "max_color": "#63BE7B"}
_BAR_HEIGHT = 26         # pixels per region in the completion chart
_CHART_MARGIN = 90      # pixels of title and axis around the bars
_COLORS = ("#4472C4", "#ED7D31")
_LINE_HEIGHT = 13.5     # points per line of 10-point text
_TITLE_HEIGHT = 30
_TABLE_TOP = 2          # title and subtitle above every table
_HEADER_WIDTH = 8       # a longer header wraps instead of widening its column
# A4 landscape with the margins of _print_setup, in points: what one page holds at 100%.
_PAGE_WIDTH, _PAGE_HEIGHT = 842 - 0.8 * 72, 595 - 1.1 * 72
_DEFAULT_ROW = 15       # points


class _Formats:
    def __init__(self, wb: Workbook) -> None:
        def add(*parts: dict[str, Any]) -> Any:
            return wb.add_format({k: v for part in parts for k, v in part.items()})

        self.title, self.subtitle, self.header, self.section, self.note = (
            add(_FONT, _SPECIAL[name]) for name in ("title", "subtitle", "header", "section", "note"))
        self.cells = {(kind, style): add(_FONT, {"border": 1}, spec, _STYLES[style])
                      for kind, spec in _KINDS.items() for style in _STYLES}

    def cell(self, kind: str, style: str = "row") -> Any:
        return self.cells[(kind, style)]


def _display_width(text: str) -> int:
    """Columns the text takes: CJK characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


# ---- a sheet: widths that fit, wrapped rows that grow, print setup ------------------------


@dataclass
class _Sheet:
    ws: Any
    fmt: _Formats
    widths: dict[int, float] = field(default_factory=dict)
    wraps: list[tuple[int, int, int, str]] = field(default_factory=list)   # row, first, last col, text
    heights: dict[int, float] = field(default_factory=dict)                 # rows not of the default height
    charts: list[tuple[int, Any, int]] = field(default_factory=list)        # row, chart, height in pixels

    def fit(self, col: int, width: float) -> None:
        self.widths[col] = max(self.widths.get(col, 0.0), width)

    def text(self, row: int, col: int, text: str, fmt: Any) -> None:
        self.ws.write_string(row, col, text, fmt)
        self.fit(col, _display_width(text) + 2)

    def wrapped(self, row: int, first: int, last: int, text: str, fmt: Any) -> None:
        if last > first:
            self.ws.merge_range(row, first, row, last, text, fmt)
        else:
            self.ws.write_string(row, first, text, fmt)
        self.wraps.append((row, first, last, text))

    def note(self, row: int, text: str, span: int) -> None:
        self.wrapped(row, 0, span - 1, text, self.fmt.note)

    def chart(self, row: int, chart: Any, height: int) -> None:
        """A chart below the table, as wide as the table, placed when the sheet is finished."""
        self.charts.append((row, chart, height))

    def set_height(self, row: int, points: float) -> None:
        self.ws.set_row(row, points)
        self.heights[row] = points

    def finish(self, title: str, subtitle: str, *, span: int, repeat_to: int,
               freeze: tuple[int, int]) -> None:
        ws = self.ws
        for row, text, fmt in ((0, title, self.fmt.title), (1, subtitle, self.fmt.subtitle)):
            if span > 1:
                ws.merge_range(row, 0, row, span - 1, text, fmt)
            else:
                ws.write_string(row, 0, text, fmt)
        self.set_height(0, _TITLE_HEIGHT)
        for col, width in self.widths.items():
            ws.set_column(col, col, width)
        self._grow_wrapped_rows()
        chart_alone = self._place_charts(span)
        ws.freeze_panes(*freeze)
        # A table that fits on the first page, with its chart on the next, repeats no headers.
        _print_setup(ws, None if chart_alone else repeat_to)

    def _place_charts(self, span: int) -> bool:
        """Each chart as wide as the table; one that would not fit under the table on the
        first printed page starts the second page instead of being cut in two (then True)."""
        width_px = sum(_pixels(self.widths.get(c, 8.43)) for c in range(span))
        scale = min(1.0, _PAGE_WIDTH / (width_px * 0.75))     # fit_to_pages(1, 0) shrinks a wide table
        broken = False
        for row, chart, height in self.charts:
            chart.set_size({"width": width_px - 8, "height": height})
            above = sum(self.heights.get(r, _DEFAULT_ROW) for r in range(row))
            if (above + height * 0.75) * scale > _PAGE_HEIGHT:
                self.ws.set_h_pagebreaks([row])
                broken = True
            self.ws.insert_chart(row, 0, chart, {"x_offset": 4, "y_offset": 4})
        return broken

    def _grow_wrapped_rows(self) -> None:
        lines: dict[int, int] = {}
        for row, first, last, text in self.wraps:
            room = sum(self.widths.get(c, 8.43) for c in range(first, last + 1)) - 1
            lines[row] = max(lines.get(row, 1), math.ceil(_display_width(text) / max(room, 1)))
        for row, n in lines.items():
            self.set_height(row, n * _LINE_HEIGHT + 4)


def _pixels(width: float) -> int:
    """Pixels of a column `width` characters wide (Excel's rule for the default font)."""
    return int(width * 7 + 5) if width >= 1 else int(width * 12)


def _print_setup(ws: Any, repeat_to: int | None) -> None:
    ws.set_paper(9)                 # A4
    ws.set_landscape()
    ws.fit_to_pages(1, 0)           # one page wide, as many tall as needed
    if repeat_to is not None:
        ws.repeat_rows(0, repeat_to)
    ws.set_footer(_FOOTER)
    ws.center_horizontally()
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)


# ---- a table of regions: labels, counts, row sums, rates, and sum rows --------------------

Value = int | float | None
Getter = Callable[[RegionFigures], int | None]


@dataclass(frozen=True)
class _Col:
    header: str
    kind: Kind = "count"
    band: str = ""
    get: Getter | None = None                # a count read from the region
    rate: tuple[str, str] | None = None      # (numerator, denominator) headers
    adds: tuple[str, ...] = ()               # a row sum of these columns' headers

    @property
    def is_label(self) -> bool:
        return self.kind in ("code", "text")


class _Table:
    """Columns written row by row from `top`, remembering every value written so that its
    sum rows carry the result of their formulas."""

    def __init__(self, sheet: _Sheet, cols: Sequence[_Col], top: int) -> None:
        self.sheet, self.cols = sheet, list(cols)
        self.at = {c.header: i for i, c in enumerate(self.cols)}
        self.values: dict[int, list[Value]] = {}
        self.sums: set[int] = set()
        self.row = self._header(top)
        self.first = self.row

    def col(self, header: str) -> int:
        return self.at[header]

    def add(self, labels: Sequence[str], region: RegionFigures, style: Style = "row") -> int:
        vals: list[Value] = [c.get(region) if c.get else None for c in self.cols]
        for i, c in enumerate(self.cols):
            if c.adds:
                vals[i] = sum(vals[self.at[h]] or 0 for h in c.adds)
        return self._write(labels, vals, style, self._row_formula)

    def add_sum(self, labels: Sequence[str], first: int, last: int, *,
                func: str = "SUM", style: Style = "total") -> int:
        rows = [r for r in range(first, last + 1) if r in self.values and r not in self.sums]
        vals: list[Value] = [
            None if c.is_label or c.rate else sum(self.values[r][i] or 0 for r in rows)
            for i, c in enumerate(self.cols)
        ]

        def formula(row: int, i: int, c: _Col) -> str | None:
            if c.rate or last < first:
                return self._row_formula(row, i, c)
            cells = xl_range(first, i, last, i)
            return f"=SUBTOTAL(9,{cells})" if func == "SUBTOTAL" else f"=SUM({cells})"

        row = self._write(labels, vals, style, formula)
        self.sums.add(row)
        return row

    def _row_formula(self, row: int, i: int, c: _Col) -> str | None:
        if c.rate:
            num, den = (xl_rowcol_to_cell(row, self.at[h]) for h in c.rate)
            return f"=IF({den}=0,0,{num}/{den})"
        if c.adds:
            return "=SUM(" + ",".join(xl_rowcol_to_cell(row, self.at[h]) for h in c.adds) + ")"
        return None

    def _write(self, labels: Sequence[str], vals: list[Value], style: Style,
               formula: Callable[[int, int, _Col], str | None]) -> int:
        row, texts = self.row, iter(labels)
        for i, c in enumerate(self.cols):
            if c.rate:
                num, den = (vals[self.at[h]] or 0 for h in c.rate)
                vals[i] = num / den if den else 0.0
        for i, c in enumerate(self.cols):
            fmt = self.sheet.fmt.cell(c.kind, style)
            if c.is_label:
                self.sheet.text(row, i, next(texts, ""), fmt)
            else:
                self._number(row, i, vals[i], fmt, formula(row, i, c))
        self.values[row] = vals
        self.row += 1
        return row

    def _number(self, row: int, col: int, value: Value, fmt: Any, formula: str | None) -> None:
        ws = self.sheet.ws
        if formula:
            ws.write_formula(row, col, formula, fmt, value)
        elif value is None:
            ws.write_blank(row, col, None, fmt)
        else:
            ws.write_number(row, col, value, fmt)
        shown = f"{value:.1%}" if isinstance(value, float) else f"{value or 0:,}"
        self.sheet.fit(col, len(shown) + 3)

    def _header(self, top: int) -> int:
        ws, fmt = self.sheet.ws, self.sheet.fmt.header
        banded = any(c.band for c in self.cols)
        row = top + 1 if banded else top
        for i, c in enumerate(self.cols):
            if banded and not c.band:
                ws.merge_range(top, i, row, i, c.header, fmt)
            else:
                ws.write_string(row, i, c.header, fmt)
            self.sheet.wraps.append((row, i, i, c.header))
            width = _display_width(c.header)
            self.sheet.fit(i, width + 2 if c.is_label else min(width, _HEADER_WIDTH) + 2)
        for band, first, last in _runs([c.band for c in self.cols]):
            if band:
                self.sheet.wrapped(top, first, last, band, fmt)
        return row + 1


def _runs(items: Sequence[str]) -> Iterator[tuple[str, int, int]]:
    """(item, first index, last index) of each run of equal neighbours."""
    start = 0
    for i in range(1, len(items) + 1):
        if i == len(items) or items[i] != items[start]:
            yield items[start], start, i - 1
            start = i


# ---- columns -----------------------------------------------------------------------------


def _attr(name: str) -> Getter:
    return lambda r: int(getattr(r, name))


def _breakdown(attr: str, code: str) -> Getter:
    return lambda r: int(getattr(r, attr).get(code, 0))


def _counts_where(attr: str, keep: Callable[[str], bool]) -> Getter:
    return lambda r: sum(n for code, n in getattr(r, attr).items() if keep(code))


def _labels(*headers: str) -> list[_Col]:
    return [_Col(headers[0], "code"), *(_Col(h, "text") for h in headers[1:])]


def _notice_task(tasks: dict[str, tuple[int, int]], index: int) -> Getter:
    return lambda r: tasks[r.code][index] if r.code in tasks else None


def _progress_columns(labels: list[_Col], notice: dict[str, tuple[int, int]] | None) -> list[_Col]:
    """The progress columns; with the notice's tasks, each beside the roster's task."""
    def task(index: int, header: str, band: str) -> list[_Col]:
        return [] if notice is None else [_Col(header, band=band, get=_notice_task(notice, index))]

    p, u = _PERSONS_BAND, _UNITS_BAND
    return [
        *labels,
        *task(0, "需入户调查人员数", p),
        _Col("任务人数", band=p, get=_attr("task_persons")),
        _Col("已登记", band=p, get=_attr("registered")),
        _Col("完成率", "rate", band=p, rate=("已登记", "任务人数")),
        _Col("退回待改", band=p, get=_attr("returned")),
        _Col("名册外新增", band=p, get=_attr("new")),
        _Col("未登记", band=p, get=_attr("missing")),
        *task(1, "需入户调查单位数", u),
        _Col("任务单位数", band=u, get=_attr("task_units")),
        _Col("已登记单位", band=u, get=_attr("units_registered")),
        _Col("单位完成率", "rate", band=u, rate=("已登记单位", "任务单位数")),
    ]


def _code_columns(attr: str, code_list: CodeList, band: str, rows: Sequence[RegionFigures],
                  prefix: str = "") -> list[_Col]:
    """One column per code of the list starting with `prefix` ('11 城镇职工基本养老保险'),
    and one for such codes outside the list when a region has any: no count is dropped."""
    cols = [_Col(c.entry, band=band, get=_breakdown(attr, c.code))
            for c in code_list.codes if c.code.startswith(prefix)]
    known = frozenset(code_list.labels)

    def unlisted(code: str) -> bool:
        return code.startswith(prefix) and code not in known

    if any(unlisted(code) for r in rows for code in getattr(r, attr)):
        header = _OTHER_CODES.format(name=f"{prefix} " if prefix else code_list.name)
        cols.append(_Col(header, band=band, get=_counts_where(attr, unlisted)))
    return cols


def _with_total(cols: list[_Col], header: str, band: str = "") -> list[_Col]:
    return [*cols, _Col(header, band=band, adds=tuple(c.header for c in cols))]


def _list_of(key: str, form: Form = PERSONS) -> CodeList:
    code_list = form[key].code_list
    assert code_list is not None, key
    return code_list


def _insurance_columns(rows: Sequence[RegionFigures]) -> list[_Col]:
    cols = _labels(_CODE, _NAME)
    for attr in ("pension", "medical"):
        name = PERSONS[attr].label
        cols += _with_total(_code_columns(attr, _list_of(attr), name, rows), f"{name}{_SUBTOTAL}", name)
    others = [_list_of(key) for key in ("injury", "unemployment", "maternity")]
    band = "、".join(cl.name for cl in others)
    for cl in others:
        code = next(c.code for c in cl.codes if c.code != "0")
        cols.append(_Col(f"{code} {cl.name}", band=band, get=_breakdown("other_insurance", code)))
    known = frozenset(c.code for cl in others for c in cl.codes)
    if any(set(r.other_insurance) - known for r in rows):
        cols.append(_Col(_OTHER_CODES.format(name=band), band=band,
                         get=_counts_where("other_insurance", lambda code: code not in known)))
    return cols


def _uninsured_columns(rows: Sequence[RegionFigures]) -> list[_Col]:
    """Per category (the two-digit codes 91, 92, 93): its code, its three-digit details
    ('911' rolls up to '91') and a subtotal; then the total over the categories."""
    code_list = _list_of("uninsured_reason")
    categories = [c for c in code_list.codes if len(c.code) == 2]
    cols, subtotals = _labels(_CODE, _NAME), []
    for cat in categories:
        members = _code_columns("uninsured", code_list, cat.entry, rows, prefix=cat.code)
        cols += _with_total(members, f"{cat.code} {_SUBTOTAL}", cat.entry)
        subtotals.append(cols[-1])
    rolled = tuple(c.code for c in categories)

    def unrolled(code: str) -> bool:
        return not code.startswith(rolled)

    if any(unrolled(code) for r in rows for code in r.uninsured):
        subtotals.append(_Col(_OTHER_CODES.format(name=code_list.name),
                              get=_counts_where("uninsured", unrolled)))
        cols.append(subtotals[-1])
    return [*cols, _Col(_TOTAL, adds=tuple(c.header for c in subtotals))]


def _distribution_columns(attr: str, code_list: CodeList, rows: Sequence[RegionFigures]) -> list[_Col]:
    return [*_labels(_CODE, _NAME), *_with_total(_code_columns(attr, code_list, "", rows), _TOTAL)]


# ---- the sheets --------------------------------------------------------------------------


@dataclass
class _Book:
    wb: Workbook
    fmt: _Formats
    figures: Figures
    office: str

    @property
    def root(self) -> RegionFigures:
        return self.figures.region

    def sheet(self, name: str) -> _Sheet:
        return _Sheet(self.wb.add_worksheet(name), self.fmt)

    def finish(self, sheet: _Sheet, what: str, *, span: int, repeat_to: int,
               freeze: tuple[int, int]) -> None:
        t = self.figures.generated_at
        time = f"{t.year}年{t.month:02d}月{t.day:02d}日 {t:%H:%M}"
        sheet.finish(_TITLE.format(region=self.root.name, what=what),
                     _SUBTITLE.format(office=self.office, time=time),
                     span=span, repeat_to=repeat_to, freeze=freeze)


def _child_label(level: str) -> str:
    child = regions.CHILD_LEVEL.get(level)
    return regions.LEVEL_LABELS[child] if child else "下级区域"


def _write_progress(book: _Book) -> None:
    root, sheet = book.root, book.sheet(PROGRESS_SHEET)
    notice = regions.notice_tasks() if root.level == "city" else None
    table = _Table(sheet, _progress_columns(_labels(_CODE, _NAME), notice), _TABLE_TOP)
    for child in root.children:
        table.add((child.code, child.name), child)
    last = table.row - 1
    table.add_sum(("", _TOTAL), table.first, last)
    span = len(table.cols)
    rate = table.col("完成率")
    if root.children:
        sheet.ws.conditional_format(table.first, rate, last, rate, _BAR)
    note = _PROGRESS_NOTE + (_NOTICE_NOTE.format(notice=_NOTICE) if notice else "")
    sheet.note(table.row + 1, note, span)
    if root.children:
        chart = _rate_chart(book, table, last, f"各{_child_label(root.level)}完成率")
        sheet.chart(table.row + 3, chart, _CHART_MARGIN + _BAR_HEIGHT * len(root.children))
    book.finish(sheet, "进度汇总表", span=span, repeat_to=table.first - 1, freeze=(table.first, 2))


def _rate_chart(book: _Book, table: _Table, last: int, title: str) -> Any:
    """Horizontal bars, one per region in the table's order, names readable beside them."""
    chart = book.wb.add_chart({"type": "bar"})
    rate, name = table.col("完成率"), table.col(_NAME)
    chart.add_series({
        "name": "完成率",
        "categories": [PROGRESS_SHEET, table.first, name, last, name],
        "values": [PROGRESS_SHEET, table.first, rate, last, rate],
        "fill": {"color": _COLORS[0]},
        "gap": 60,
        "data_labels": {"value": True, "num_format": "0.0%", "position": "outside_end"},
    })
    chart.set_title({"name": title, "name_font": {"size": 12}})
    chart.set_x_axis({"num_format": "0%", "min": 0, "max": 1, "major_unit": 0.2,
                      "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    chart.set_y_axis({"reverse": True, "num_font": {"size": 10}})
    chart.set_legend({"none": True})
    return chart


def _write_detail(book: _Book) -> None:
    """Every region two levels down, grouped under its parent with a subtotal per group."""
    root = book.root
    sheet = book.sheet(_detail_sheet_name(root.level))
    child = regions.CHILD_LEVEL.get(root.level, "town")
    labels = _labels(_CODE, _child_label(root.level), _child_label(child))
    table = _Table(sheet, _progress_columns(labels, None), _TABLE_TOP)
    for group in root.children:
        if not group.children:
            table.add((group.code, group.name, _SUBTOTAL), group, style="subtotal")
            continue
        start = table.row
        for region in group.children:
            sheet.ws.set_row(table.add((region.code, group.name, region.name), region), None, None,
                             {"level": 1})
        table.add_sum((group.code, group.name, _SUBTOTAL), start, table.row - 1,
                      func="SUBTOTAL", style="subtotal")
    last = table.row - 1
    table.add_sum(("", _TOTAL, ""), table.first, last, func="SUBTOTAL")
    rate = table.col("完成率")
    if last >= table.first:
        sheet.ws.conditional_format(table.first, rate, last, rate, _SCALE)
    sheet.note(table.row + 1, _PROGRESS_NOTE, len(table.cols))
    book.finish(sheet, "进度明细表", span=len(table.cols), repeat_to=table.first - 1,
                freeze=(table.first, 3))


def _write_breakdown(book: _Book, name: str, what: str, sections: Sequence[tuple[str, list[_Col]]],
                     notes: Sequence[str]) -> None:
    """One table per section (a heading above it when there are several), a row per child
    region and a total row."""
    sheet, row = book.sheet(name), _TABLE_TOP
    span = max(len(cols) for _, cols in sections)
    first_data = row
    for number, (heading, cols) in zip(_SECTION_NUMBERS, sections, strict=False):
        if len(sections) > 1:
            sheet.ws.write_string(row, 0, f"{number}、{heading}", book.fmt.section)
            row += 1
        table = _Table(sheet, cols, row)
        first_data = table.first
        for child in book.root.children:
            table.add((child.code, child.name), child)
        table.add_sum(("", _TOTAL), table.first, table.row - 1)
        row = table.row + 1
    for note in notes:
        sheet.note(row, note, span)
        row += 1
    single = len(sections) == 1
    book.finish(sheet, what, span=span, repeat_to=first_data - 1 if single else 1,
                freeze=(first_data, 2) if single else (0, 2))


def _write_insurance(book: _Book) -> None:
    cols = _insurance_columns(book.root.children)
    _write_breakdown(book, INSURANCE_SHEET, "参保情况汇总表", [("", cols)], [_INSURANCE_NOTE])


def _write_uninsured(book: _Book) -> None:
    cols = _uninsured_columns(book.root.children)
    _write_breakdown(book, UNINSURED_SHEET, "未参保原因汇总表", [("", cols)], [_UNINSURED_NOTE])


def _write_employment(book: _Book) -> None:
    rows = book.root.children
    lists = [("employment", _list_of("employment"), "人"), ("identity", _list_of("identity"), "人"),
             ("unit_types", _list_of("unit_type", UNITS), "户")]
    sections = [(f"{cl.name}（{unit}）", _distribution_columns(attr, cl, rows)) for attr, cl, unit in lists]
    _write_breakdown(book, EMPLOYMENT_SHEET, "就业与身份情况汇总表", sections,
                     [_BREAKDOWN_NOTE + _UNITS_NOTE])


def _write_daily(book: _Book) -> None:
    sheet, fmt = book.sheet(DAILY_SHEET), book.fmt
    headers = ("日期", "当日登记人数", "累计登记人数")
    for col, header in enumerate(headers):
        sheet.ws.write_string(_TABLE_TOP, col, header, fmt.header)
        sheet.fit(col, _display_width(header) + 4)
    first = _TABLE_TOP + 1
    days = sorted(book.figures.daily)
    total = 0
    for row, (day, count) in enumerate(days, start=first):
        total += count
        cumulative = f"=B{row + 1}" if row == first else f"=C{row}+B{row + 1}"
        sheet.ws.write_datetime(row, 0, dt.datetime.combine(day, dt.time()), fmt.cell("date"))
        sheet.fit(0, _display_width(f"{day.year}年{day.month}月{day.day}日") + 2)
        sheet.ws.write_number(row, 1, count, fmt.cell("count"))
        sheet.ws.write_formula(row, 2, cumulative, fmt.cell("count"), total)
    last = first + len(days) - 1
    if days:
        sheet.text(last + 1, 0, _TOTAL, fmt.cell("text", "total"))
        sheet.ws.write_formula(last + 1, 1, f"=SUM({xl_range(first, 1, last, 1)})",
                               fmt.cell("count", "total"), total)
        sheet.ws.write_blank(last + 1, 2, None, fmt.cell("count", "total"))
        sheet.ws.insert_chart(_TABLE_TOP, len(headers) + 1, _daily_chart(book, first, last),
                              {"x_offset": 8})
    else:
        sheet.text(first, 0, _NO_DAILY, fmt.note)
    book.finish(sheet, "每日登记进度表", span=len(headers) + 10, repeat_to=_TABLE_TOP,
                freeze=(first, 0))


def _daily_chart(book: _Book, first: int, last: int) -> Any:
    """Registrations per day as columns, the running total as a line with markers on the
    right-hand axis: readable from the first day on, when a line alone would be a dot."""
    chart = book.wb.add_chart({"type": "column"})
    series = {"categories": [DAILY_SHEET, first, 0, last, 0]}
    chart.add_series({**series, "name": [DAILY_SHEET, _TABLE_TOP, 1], "values": [DAILY_SHEET, first, 1, last, 1],
                      "fill": {"color": _COLORS[0]}, "gap": 80})
    line = book.wb.add_chart({"type": "line"})
    line.add_series({**series, "name": [DAILY_SHEET, _TABLE_TOP, 2], "values": [DAILY_SHEET, first, 2, last, 2],
                     "line": {"color": _COLORS[1], "width": 2.25},
                     "marker": {"type": "circle", "size": 6, "fill": {"color": _COLORS[1]},
                                "border": {"color": _COLORS[1]}},
                     "y2_axis": True})
    chart.combine(line)
    chart.set_title({"name": "每日登记进度", "name_font": {"size": 12}})
    chart.set_x_axis({"num_format": 'm"月"d"日"', "text_axis": True})
    chart.set_y_axis({"name": "当日登记人数", "num_format": "#,##0", "min": 0})
    line.set_y2_axis({"name": "累计登记人数", "num_format": "#,##0", "min": 0})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 640, "height": 320})
    return chart


_WRITERS: tuple[Callable[[_Book], None], ...] = (
    _write_progress, _write_detail, _write_insurance, _write_uninsured, _write_employment, _write_daily,
)


def _write_workbook(wb: Workbook, figures: Figures, office: str) -> None:
    book = _Book(wb, _Formats(wb), figures, office)
    wb.set_properties({
        "title": _TITLE.format(region=figures.region.name, what="汇总表"),
        "author": office, "company": office, "comments": "canbao",
    })
    for write in _WRITERS:
        write(book)


# ---- the one public entry point ----------------------------------------------------------


def write_summary(figures: Figures, path: Path, *, office: str) -> Path:
    """Write the summary workbook of `figures.region` to `path` and return the path.

    The workbook is written under a temporary name in the same folder and moved into
    place (`engine.atomic`), so `path` is either the previous file or the complete new
    one, never a part.
    """
    path = Path(path)
    with atomic_workbook(path, {"in_memory": True}, durable=True) as wb:
        _write_workbook(wb, figures, office)
    return path
