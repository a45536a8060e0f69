"""The printable 全民参保登记表: one A4 portrait page per roster person, for the door.

templates/<县区>/<乡镇>/<村社区>-入户登记表.xlsx holds, for every roster person of the
village, one page laid out like the notice's 附件: the place line (省 市 区(县) 街道(乡镇)
社区(村) 组), identity pre-filled from the roster, a □ box for every code of 就业状态,
个人身份, 户口性质, the insurance schemes and 未参保原因, lines for addresses, phones and
signatures, and the 人员编号 small in the top corner so the office can match the paper back
to its template row. One blank page at the end serves persons found at the door.

Codes the roster already holds (个人身份, 户口性质) are printed ticked (■), for the field
worker to confirm or correct. 户口性质 is not on the notice's paper form, but the template
requires it, so the paper asks for it beside 户口所在地.

Pages are separated by manual page breaks at 100% scale: "fit to page" would make Excel
ignore the breaks, so the column widths and row heights are chosen to fit A4 as they are.
Excel allows 1023 manual breaks per sheet, so a village of more than `PAGES_PER_SHEET`
persons gets more than one sheet.

Every label and code is taken from `engine.form`; the few words that exist only on the
paper (the hints under the address lines, the note at the foot) live here.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from engine import regions
from engine.atomic import atomic_workbook
from engine.form import CODE_LISTS, OTHER_CODES, PERSONS, Code
from engine.parallel import run_all
from engine.workbook import region_values
from engine.workspace import Workspace

PAPER_SUFFIX = "-入户登记表"
SHEET = "入户登记表"
PAGES_PER_SHEET = 1000        # Excel: at most 1023 manual page breaks per sheet
A4 = 9                        # xlsxwriter/Excel paper size code
COLUMNS = (12.0, *[8.375] * 7)  # A: labels; B-H: content (101 + 7 x 72 px at 宋体 11)
LAST_COL = len(COLUMNS) - 1
DIGIT_PX, PADDING_PX = 8, 5   # 宋体 11: a column of width w is w * 8 + 5 pixels
MARGIN_SIDE = 0.35            # inches
MARGIN_TOP = 0.45
MARGIN_BOTTOM = 0.55
FONT = "宋体"
BOX, TICKED = "□", "■"
WITH_UNIT = "0"               # 就业状态 0 已单位就业: the code that asks for 工作单位名称 (see rules)
SEXES = ("1", "2")            # GB/T 2261.1: 男, 女 (0 and 9 are not asked at the door)
OTHER_INSURANCE = ("injury", "unemployment", "maternity")

# The sheet's Normal font decides what a column width means. 宋体 11 is what Chinese
# Excel and WPS default to, and where it is missing LibreOffice substitutes a CJK font
# of the same digit width (8 px), so the page is the same width everywhere; Calibri
# would be replaced by a much wider font where it is not installed.
BOOK_OPTIONS: dict[str, Any] = {
    "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False, "in_memory": True,
    "default_format_properties": {"font_name": FONT, "font_size": 11}, "default_column_width": 72,
}

# The paper's own hints under the address lines, as on the notice's form.
PLACE_HINTS: dict[str, str] = {
    "province": "(省/自治区/\n直辖市)", "city": "(地/市/州)", "county": "(区/县)",
    "town": "(乡镇/街道)", "village": "(村/社区)", "street": "(街/路/巷/\n门牌号)",
}
NOTE = ("说明：在 □ 内打 √；■ 为名册已有内容，请当面核实，有变化的划去另选。同一险种单选，不同险种可多选；"
        "未参加养老保险的须选未参保原因；本人无手机可填家庭其他成员手机或家庭座机。方框后的数字为信息录入代码。"
        "调查信息只能用于全民参保登记工作，不得提供给任何单位或个人。")
NEW_PERSON = "名册外新增"
NO_UNIT = "无单位："
SINGLE = "（单选）"
MULTIPLE = "（不同险种可多选，同一险种单选）"


def paper_path(ws: Workspace, village_code: str) -> Path:
    name = regions.load().by_code[village_code].name
    return ws.village_folder(ws.templates, village_code) / f"{name}{PAPER_SUFFIX}.xlsx"


def write_paper_forms(ws: Workspace, village_code: str) -> Path:
    """The village's paper forms: a page per roster person, then one blank page."""
    persons: list[Mapping[str, str] | None] = [*ws.store.roster("persons", village_code), None]
    path = paper_path(ws, village_code)
    with atomic_workbook(path, BOOK_OPTIONS) as book:
        styles = _Styles(book)
        chunks = [persons[i:i + PAGES_PER_SHEET] for i in range(0, len(persons), PAGES_PER_SHEET)]
        for n, chunk in enumerate(chunks, start=1):
            name = SHEET if len(chunks) == 1 else f"{SHEET}{n}"
            _write_sheet(book.add_worksheet(name), styles, village_code, chunk)
    return path


def generate_paper(ws: Workspace, region_code: str | None = None,
                   progress: Callable[[int, int], None] | None = None) -> list[Path]:
    """Paper forms for every village of `region_code` (default: the workspace's) with a roster."""
    within = ws.within(region_code).code
    jobs = [(str(ws.root), code) for code in ws.store.roster_villages(within)]
    return run_all(_write_job, jobs, progress)


def _write_job(job: tuple[str, str]) -> Path:
    """One village's paper forms; runs in a worker process with its own store connection."""
    root, code = job
    ws = Workspace(Path(root))
    try:
        return write_paper_forms(ws, code)
    finally:
        ws.close()




# ---- one sheet of pages -----------------------------------------------------------------


def _write_sheet(sheet: Worksheet, styles: _Styles, village_code: str,
                 persons: Sequence[Mapping[str, str] | None]) -> None:
    for c, width in enumerate(COLUMNS):
        sheet.set_column(c, c, width)
    place = region_values(village_code)
    starts: list[int] = []
    row = 0
    for person in persons:
        starts.append(row)
        row = _Page(sheet, styles, row, place, person).write()
    _page_setup(sheet, village_code, starts, row - 1)


def _page_setup(sheet: Worksheet, village_code: str, starts: list[int], last_row: int) -> None:
    sheet.set_paper(A4)
    sheet.set_portrait()
    sheet.set_print_scale(100)
    sheet.set_margins(left=MARGIN_SIDE, right=MARGIN_SIDE, top=MARGIN_TOP, bottom=MARGIN_BOTTOM)
    sheet.center_horizontally()
    sheet.hide_gridlines(2)
    sheet.print_area(0, 0, last_row, LAST_COL)
    sheet.set_h_pagebreaks(starts[1:])
    where = "　".join(regions.load().path_names(village_code)).replace("&", "&&")
    sheet.set_footer(f"&L&8{where}（{village_code}）&R&8第 &P 页 共 &N 页", {"margin": 0.25})


# ---- one page ---------------------------------------------------------------------------


def _box(code: Code, ticked: bool, *, label: str | None = None) -> str:
    return f"{TICKED if ticked else BOX}{code.code} {label or code.label}"


def boxes(list_name: str, value: str | None = None, *, skip: Sequence[str] = (),
          other: str | None = None) -> list[str]:
    """One '□11 城镇职工基本养老保险' per code of the list, the code `value` ticked;
    the `other` code ('其他') last, with a line to write on."""
    codes = [c for c in CODE_LISTS[list_name].codes if c.code not in skip]
    codes.sort(key=lambda c: c.code == other)
    return [_box(c, c.code == value) + (OTHER_LINE if c.code == other else "") for c in codes]


@cache
def packed(list_name: str, value: str | None = None, *, skip: tuple[str, ...] = (), other: str | None = None,
           lead: str = "") -> tuple[str, int]:
    """The options of a list packed across B:H, and how many lines they take (memoised:
    a village's pages differ only in which box is ticked)."""
    lines = pack([lead] * bool(lead) + boxes(list_name, value, skip=skip, other=other), CONTENT_UNITS)
    return "\n".join(lines), len(lines)


def _text_width(text: str) -> int:
    """Width in half-width units: CJK (and □, ■) count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WFA" else 1 for ch in text)


def pack(options: Sequence[str], width: int, *, gap: str = "　") -> list[str]:
    """Options laid out in lines of at most `width` units, never splitting an option."""
    lines: list[str] = []
    line = ""
    for option in options:
        candidate = f"{line}{gap}{option}" if line else option
        if line and _text_width(candidate) > width:
            lines.append(line)
            candidate = option
        line = candidate
    if line:
        lines.append(line)
    return lines


def _short(name: str, suffixes: Sequence[str]) -> str:
    """'杜集区' -> '杜集' before the form's own '区(县)'; a name that is only a suffix stays."""
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


PLACE_SUFFIXES: dict[str, tuple[str, ...]] = {
    "province": ("省",), "city": ("市",), "county": ("区", "县"), "town": ("街道", "镇", "乡"),
    "village": ("社区居民委员会", "社区居委会", "居民委员会", "居委会", "村民委员会", "村委会", "社区", "村"),
}
OTHER_LINE = "：＿＿＿＿＿＿"
BOX_PT = 9                    # the options' font size (小五, as on printed forms)
LINE_HEIGHT = 13.5            # points per line of options


def column_px(first: int = 0, last: int = LAST_COL) -> int:
    """Width of columns first..last in pixels at the sheet's Normal font."""
    return sum(round(w * DIGIT_PX) + PADDING_PX for w in COLUMNS[first:last + 1])


# Half-width units of BOX_PT text across B:H, less the indent.
CONTENT_UNITS = int((column_px(1) - 24) / (BOX_PT * 96 / 72 / 2))


def _lines_height(lines: int) -> float:
    return lines * LINE_HEIGHT + 6


@cache
def _other_insurance() -> tuple[str, int]:
    """□30 工伤保险 □40 失业保险 □50 生育保险: each list's 'insured' code under the list's name."""
    options = [_box(_insured_code(k), False, label=str(PERSONS[k].codes)) for k in OTHER_INSURANCE]
    lines = pack(options, CONTENT_UNITS, gap="　　")
    return "\n".join(lines), len(lines)


def _insured_code(key: str) -> Code:
    """The code that says 'insured' for 工伤/失业/生育 (30, 40, 50), from its list."""
    return next(c for c in CODE_LISTS[str(PERSONS[key].codes)].codes if c.code != "0")


@dataclass
class _Page:
    """One person's page (or the blank page when `person` is None), from row `top` down."""

    sheet: Worksheet
    styles: _Styles
    top: int
    place: Mapping[str, str]
    person: Mapping[str, str] | None
    row: int = 0
    table_top: int = 0

    def value(self, key: str) -> str:
        return (self.person or {}).get(key, "")

    def write(self) -> int:
        """Write the page; return the first row after it."""
        self.row = self.top
        self._corner()
        self._title()
        self._place_line()
        self.table_top = self.row
        self._identity()
        self._employment()
        self._options("identity", packed("个人身份", self.value("identity"), other=OTHER_CODES["identity"][0]))
        self._hukou()
        self._home()
        self._phones()
        self._insurance()
        reason = PERSONS["uninsured_reason"]
        self._options("uninsured_reason", packed("未参保原因", other=OTHER_CODES["uninsured_reason"][0]),
                      hint=reason.prompt.split("；")[0])
        self._cells(self.row, 0, self.row, 0, PERSONS["remark"].label, "label")
        self._cells(self.row, 1, self.row, LAST_COL, "", "value")
        self._height(34)
        self._signatures()
        self._note()
        return self.row

    # -- cells ------------------------------------------------------------------------

    def _height(self, points: float) -> None:
        self.sheet.set_row(self.row, points)
        self.row += 1

    def _cells(self, r1: int, c1: int, r2: int, c2: int, text: str, style: str, *, bottom: bool = False) -> None:
        fmt = self.styles.get(style, left=c1 == 0, right=c2 == LAST_COL, top=r1 == self.table_top,
                              bottom=bottom)
        if r1 == r2 and c1 == c2:
            self.sheet.write_string(r1, c1, text, fmt)
        else:
            self.sheet.merge_range(r1, c1, r2, c2, text, fmt)

    def _label(self, r1: int, r2: int, label: str, hint: str = "") -> None:
        """A label in column A, over rows r1..r2, with a small hint under it."""
        self._cells(r1, 0, r2, 0, label if not hint else "", "label")
        if hint:
            fmt = self.styles.get("label", left=True, top=r1 == self.table_top)
            self.sheet.write_rich_string(r1, 0, self.styles.bold, label, self.styles.hint_text, f"\n{hint}", fmt)

    # -- parts of the page ------------------------------------------------------------

    def _corner(self) -> None:
        number = self.value("person_no") if self.person else NEW_PERSON
        self.sheet.merge_range(self.row, 5, self.row, LAST_COL, f"{PERSONS['person_no'].label}：{number}",
                               self.styles.corner)
        self._height(12)

    def _title(self) -> None:
        self.sheet.merge_range(self.row, 0, self.row, LAST_COL, PERSONS.name, self.styles.title)
        self._height(30)

    def _place_line(self) -> None:
        """省 市 区(县) 街道(乡镇) 社区(村) 组, the village's names written on the lines."""
        parts: list[Any] = []
        for key in ("province", "city", "county", "town", "village"):
            field = PERSONS[key]
            name = _short(self.place[key], PLACE_SUFFIXES[key])
            parts += [self.styles.filled, f" {name} ", self.styles.plain, f"{(field.aliases or (field.label,))[0]}　"]
        group = self.value("group_name") or "　" * 4
        parts += [self.styles.filled, f" {group} ", self.styles.plain, PERSONS["group_name"].label]
        self.sheet.merge_range(self.row, 0, self.row, LAST_COL, "", self.styles.plain)
        self.sheet.write_rich_string(self.row, 0, *parts, self.styles.plain)
        self._height(26)

    def _identity(self) -> None:
        r = self.row
        self._label(r, r, PERSONS["id_number"].aliases[0])
        self._cells(r, 1, r, 3, self.value("id_number"), "id")
        self._cells(r, 4, r, 4, PERSONS["name"].label, "label")
        self._cells(r, 5, r, 5, self.value("name"), "name")
        self._cells(r, 6, r, 6, PERSONS["sex"].label, "label")
        sexes = CODE_LISTS["性别"]
        shown = (sexes.labels.get(self.value("sex"), "") if self.person
                 else "　".join(f"{BOX}{sexes.labels[c]}" for c in SEXES))
        self._cells(r, 7, r, 7, shown, "name" if self.person else "small")
        self._height(36)

    def _employment(self) -> None:
        r = self.row
        with_unit = next(c for c in CODE_LISTS["就业状态"].codes if c.code == WITH_UNIT)
        self._label(r, r + 1, PERSONS["employment"].label)
        self._cells(r, 1, r, 2, _box(with_unit, False), "boxes")
        self._cells(r, 3, r, 3, PERSONS["employer"].label, "small")
        self._cells(r, 4, r, LAST_COL, "", "value")
        self._height(30)
        text, lines = packed("就业状态", skip=(WITH_UNIT,), lead=NO_UNIT)
        self._cells(self.row, 1, self.row, LAST_COL, text, "boxes")
        self._height(_lines_height(lines))

    def _options(self, key: str, options: tuple[str, int], *, label: str = "", hint: str = "",
                 min_height: float = 26) -> None:
        """A row of □ options across B:H (text, lines) beside the field's label."""
        text, lines = options
        self._label(self.row, self.row, label or PERSONS[key].label, hint)
        self._cells(self.row, 1, self.row, LAST_COL, text, "boxes")
        self._height(max(_lines_height(lines), 40 if hint else min_height))

    def _place_row(self, keys: Sequence[str], hints: Sequence[str] = ("province", "city", "county")) -> None:
        """Three values, each followed by the notice's hint: 省/市/县 of 户口所在地 or 常住地."""
        r = self.row
        spans = ((1, 1), (3, 3), (5, 6))   # the county name gets two columns, like the village below
        for (first, last), key, hint in zip(spans, keys, hints, strict=True):
            self._cells(r, first, r, last, self.value(key), "value_center")
            self._cells(r, last + 1, r, last + 1, PLACE_HINTS[hint], "hint")
        self._height(28)

    def _hukou(self) -> None:
        self._label(self.row, self.row, PERSONS["hukou_province"].group)
        self._place_row(("hukou_province", "hukou_city", "hukou_county"))
        self._options("hukou_type", packed("户口性质", self.value("hukou_type")))

    def _home(self) -> None:
        r = self.row
        self._label(r, r + 2, PERSONS["home_street"].group)
        self._place_row(("home_province", "home_city", "home_county"))
        r = self.row
        self._cells(r, 1, r, 2, self.value("home_town"), "value_center")
        self._cells(r, 3, r, 3, PLACE_HINTS["town"], "hint")
        self._cells(r, 4, r, 6, self.value("home_village"), "value_center")
        self._cells(r, 7, r, 7, PLACE_HINTS["village"], "hint")
        self._height(28)
        self._cells(self.row, 1, self.row, 6, self.value("home_street"), "value")
        self._cells(self.row, 7, self.row, 7, PLACE_HINTS["street"], "hint")
        self._height(30)

    def _phones(self) -> None:
        r = self.row
        self._label(r, r, PERSONS["mobile"].label)
        self._cells(r, 1, r, 3, self.value("mobile"), "value")
        self._cells(r, 4, r, 4, PERSONS["landline"].label, "label")
        self._cells(r, 5, r, LAST_COL, self.value("landline"), "value")
        self._height(32)

    def _insurance(self) -> None:
        """现参保情况: a heading, one row per scheme (单选), then 工伤 失业 生育."""
        self._cells(self.row, 0, self.row, LAST_COL, f"{PERSONS['pension'].group}{MULTIPLE}", "heading")
        self._height(18)
        for key in ("pension", "medical"):
            self._options(key, packed(str(PERSONS[key].codes)), hint=SINGLE)
        label = "、".join(PERSONS[k].label.removesuffix("保险") for k in OTHER_INSURANCE) + "保险"
        self._options("injury", _other_insurance(), label=label, min_height=32)

    def _signatures(self) -> None:
        r = self.row
        self._cells(r, 0, r, 0, PERSONS["handler"].aliases[0], "label", bottom=True)
        self._cells(r, 1, r, 3, "", "value", bottom=True)
        self._cells(r, 4, r, 4, PERSONS["reviewer"].aliases[0], "label", bottom=True)
        self._cells(r, 5, r, LAST_COL, "", "value", bottom=True)
        self._height(42)

    def _note(self) -> None:
        self.sheet.merge_range(self.row, 0, self.row, LAST_COL, NOTE, self.styles.note)
        self._height(26)


class _Styles:
    """The page's cell formats, made once per workbook; bordered ones per outer edge."""

    BASE: dict[str, Any] = {"font_name": FONT, "font_size": 10, "valign": "vcenter", "text_wrap": True}
    KINDS: dict[str, dict[str, Any]] = {
        "label": {"bold": True, "align": "center", "bg_color": "#F2F2F2"},
        "heading": {"bold": True, "align": "left", "indent": 1, "bg_color": "#F2F2F2"},
        "value": {"align": "left", "font_size": 11, "indent": 1},
        "value_center": {"align": "center", "font_size": 11},
        "id": {"align": "center", "font_size": 14, "bold": True, "font_name": "Arial"},
        "name": {"align": "center", "font_size": 12, "bold": True},
        "boxes": {"align": "left", "indent": 1, "font_size": BOX_PT},
        "small": {"align": "center", "font_size": 9},
        "hint": {"align": "center", "font_size": 8, "font_color": "#404040"},
    }

    def __init__(self, book: Workbook) -> None:
        self.book = book
        self._cache: dict[tuple[str, bool, bool, bool, bool], Format] = {}
        self.title = book.add_format({**self.BASE, "font_size": 20, "bold": True, "align": "center"})
        self.corner = book.add_format({**self.BASE, "font_size": 8, "align": "right", "font_color": "#404040",
                                       "valign": "top"})
        self.plain = book.add_format({**self.BASE, "font_size": 11, "valign": "bottom"})
        self.filled = book.add_format({"font_name": FONT, "font_size": 11, "underline": True})
        self.bold = book.add_format({"font_name": FONT, "font_size": 10, "bold": True})
        self.hint_text = book.add_format({"font_name": FONT, "font_size": 8, "font_color": "#404040"})
        self.note = book.add_format({**self.BASE, "font_size": 8, "valign": "top"})

    def get(self, kind: str, *, left: bool = False, right: bool = False, top: bool = False,
            bottom: bool = False) -> Format:
        key = (kind, left, right, top, bottom)
        fmt = self._cache.get(key)
        if fmt is None:
            spec = {**self.BASE, **self.KINDS[kind], "border": 1}
            for edge, thick in (("left", left), ("right", right), ("top", top), ("bottom", bottom)):
                if thick:
                    spec[edge] = 2
            fmt = self._cache[key] = self.book.add_format(spec)
        return fmt
