"""The summary workbook, read back with openpyxl: every figure, total and rate equals the input."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from engine import regions, summary
from engine.figures import Figures, RegionFigures
from engine.form import CODE_LISTS

COUNTS = ("task_persons", "registered", "returned", "new", "missing", "task_units", "units_registered")
BREAKDOWNS = ("pension", "medical", "other_insurance", "uninsured", "employment", "identity", "unit_types")
PROGRESS = {  # header -> RegionFigures attribute
    "任务人数": "task_persons", "已登记": "registered", "退回待改": "returned", "名册外新增": "new",
    "未登记": "missing", "任务单位数": "task_units", "已登记单位": "units_registered",
}
ID_LIKE = re.compile(r"\d{17}[\dXx]")


# ---- figures made by hand --------------------------------------------------------------


def village(code: str, n: int) -> RegionFigures:
    """A village with counts and breakdowns that differ with n and are never all zero."""
    task = 40 + 7 * n
    registered = 20 + 5 * n
    returned = n % 4
    return RegionFigures(
        code=code, name=f"第{n}村", level="village",
        task_persons=task, registered=registered, returned=returned, new=n % 3,
        missing=task - registered - returned, task_units=3 + n % 5, units_registered=2 + n % 3,
        pension={"11": 3 + n, "12": 10 + n % 7, "13": 1, "14": n % 2, "15": 1},
        medical={"21": 4 + n, "22": 6, "23": 5 + n % 4, "24": 1, "25": n % 3, "26": 2},
        other_insurance={"30": 2 + n % 3, "40": 1 + n % 2, "50": 1},
        uninsured={"91": 1, "911": n % 3, "912": 1, "913": 2, "919": n % 2, "92": 2 + n % 2,
                   "93": 1, "931": n % 2, "932": 1, "933": 0, "934": 1, "935": n % 4},
        employment={"0": 5 + n, "1": 2, "2": 3, "3": n % 5, "4": 4, "5": 6},
        identity={"11": 1, "13": 2, "24": 5 + n, "27": 8, "31": 3, "80": 4, "90": n % 2},
        unit_types={"10": 1 + n % 3, "20": 1, "60": n % 2},
    )


def aggregate(code: str, name: str, level: str, children: list[RegionFigures]) -> RegionFigures:
    region = RegionFigures(code=code, name=name, level=level, children=children)
    for attr in COUNTS:
        setattr(region, attr, sum(getattr(c, attr) for c in children))
    for attr in BREAKDOWNS:
        total: Counter[str] = Counter()
        for c in children:
            total.update(getattr(c, attr))
        setattr(region, attr, dict(total))
    return region


def county(code: str, name: str, towns: int, start: int) -> RegionFigures:
    children = []
    for t in range(1, towns + 1):
        town_code = f"{code}{t:03d}"
        villages = [village(f"{town_code}{v:03d}", start + 10 * t + v) for v in range(1, 2 + t)]
        children.append(aggregate(town_code, f"{name}第{t}镇", "town", villages))
    return aggregate(code, name, "county", children)


DAILY = [(dt.date(2017, 6, 3), 40), (dt.date(2017, 6, 1), 120), (dt.date(2017, 6, 2), 75)]
GENERATED = dt.datetime(2017, 6, 5, 9, 30)


@pytest.fixture
def city() -> Figures:
    counties = [county("340621", "濉溪县", 3, 0), county("340603", "相山区", 2, 5),
                county("340602", "杜集区", 1, 9)]
    root = aggregate("340600", "淮北市", "city", counties)
    return Figures(region=root, files={"received": 9, "accepted": 8, "rejected": 1},
                   daily=list(DAILY), generated_at=GENERATED)


@pytest.fixture
def county_root(city: Figures) -> Figures:
    return Figures(region=city.region.children[0], files={}, daily=[], generated_at=GENERATED)


@pytest.fixture
def written(city: Figures, tmp_path: Path) -> Path:
    return summary.write_summary(city, tmp_path / "汇总" / "淮北市汇总表.xlsx", office="淮北市人社局")


def books(path: Path) -> tuple[Any, Any]:
    return openpyxl.load_workbook(path), openpyxl.load_workbook(path, data_only=True)


# ---- reading a table back by its headers ---------------------------------------------------


def header_row(ws: Any, first: str = "区域代码", start: int = 1) -> int:
    return next(r for r in range(start, ws.max_row + 1) if ws.cell(r, 1).value == first)


def table(ws: Any, start: int = 1) -> tuple[dict[str, int], list[int], int]:
    """Columns by header, data rows (subtotals included) and the total row of the table whose
    header is the first at or below `start`. Under a band row the headers are one row down."""
    top = header_row(ws, start=start)
    head = top + 1 if ws.cell(top + 1, 1).value is None else top
    columns = {str(ws.cell(r, c).value): c for r in (top, head)
               for c in range(1, ws.max_column + 1) if ws.cell(r, c).value}
    rows = []
    r = head + 1
    while ws.cell(r, 2).value != "合计":
        rows.append(r)
        r += 1
    return columns, rows, r


def by_code(ws: Any, rows: list[int]) -> dict[str, int]:
    return {ws.cell(r, 1).value: r for r in rows}


def all_cells(wb: Any) -> Iterator[Any]:
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            yield from row


# ---- the tests -------------------------------------------------------------------------------


def test_sheets_in_order(written: Path) -> None:
    wb = openpyxl.load_workbook(written)
    assert wb.sheetnames == ["进度", "乡镇街道明细", "参保情况", "未参保原因", "就业与身份", "每日进度"]
    assert wb.sheetnames == summary.sheet_names("city")


def test_title_and_office_line(written: Path) -> None:
    ws = openpyxl.load_workbook(written)["进度"]
    assert ws["A1"].value == "淮北市全民参保登记入户调查进度汇总表"
    assert ws["A2"].value == "制表单位：淮北市人社局　　制表时间：2017年06月05日 09:30"


def test_progress_counts_and_totals(written: Path, city: Figures) -> None:
    formulas, values = books(written)
    ws, wf = values["进度"], formulas["进度"]
    cols, rows, total = table(ws)
    assert len(rows) == len(city.region.children)
    for r, child in zip(rows, city.region.children, strict=True):
        assert (ws.cell(r, 1).value, ws.cell(r, 2).value) == (child.code, child.name)
        for header, attr in PROGRESS.items():
            assert ws.cell(r, cols[header]).value == getattr(child, attr), (child.name, header)
        assert ws.cell(r, cols["完成率"]).value == pytest.approx(child.completion)
        assert ws.cell(r, cols["单位完成率"]).value == pytest.approx(child.units_completion)
    for header, attr in PROGRESS.items():
        assert ws.cell(total, cols[header]).value == getattr(city.region, attr), header
        assert wf.cell(total, cols[header]).value.startswith("=SUM(")
    assert ws.cell(total, cols["完成率"]).value == pytest.approx(city.region.completion)
    rate = wf.cell(total, cols["完成率"]).value
    assert rate.startswith("=IF(") and "/" in rate
    assert wf.cell(total, cols["完成率"]).number_format == "0.0%"
    assert wf.cell(rows[0], cols["任务人数"]).number_format == "#,##0"


def test_city_progress_shows_the_notice_task(written: Path, city: Figures) -> None:
    ws = openpyxl.load_workbook(written, data_only=True)["进度"]
    cols, rows, total = table(ws)
    tasks = regions.notice_tasks()
    assert cols["需入户调查人员数"] == cols["任务人数"] - 1
    assert cols["需入户调查单位数"] == cols["任务单位数"] - 1
    for code, r in by_code(ws, rows).items():
        assert ws.cell(r, cols["需入户调查人员数"]).value == tasks[code][0]
        assert ws.cell(r, cols["需入户调查单位数"]).value == tasks[code][1]
    shown = [c.code for c in city.region.children]
    assert ws.cell(total, cols["需入户调查人员数"]).value == sum(tasks[c][0] for c in shown)


def test_progress_presentation(written: Path) -> None:
    ws = openpyxl.load_workbook(written)["进度"]
    _, rows, _ = table(ws)
    assert ws.freeze_panes == f"C{rows[0]}"
    assert ws.conditional_formatting, "completion rate has a data bar"
    assert ws.print_title_rows == f"$1:${rows[0] - 1}"
    with zipfile.ZipFile(written) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 2   # completion by county, and daily progress


@pytest.mark.parametrize("sheet", summary.sheet_names("city"))
def test_every_sheet_prints_on_a4_landscape(written: Path, sheet: str) -> None:
    ws = openpyxl.load_workbook(written)[sheet]
    assert ws.page_setup.paperSize == 9
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.fitToWidth in (None, 1)   # 1 is the default, left out of the XML
    assert ws.page_setup.fitToHeight == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.oddFooter.center.text == "第 &P 页 共 &N 页"
    assert ws.print_title_rows


def test_detail_lists_every_town_under_its_county(written: Path, city: Figures) -> None:
    formulas, values = books(written)
    ws, wf = values["乡镇街道明细"], formulas["乡镇街道明细"]
    assert ws.cell(header_row(ws), 2).value == "县区"
    assert ws.cell(header_row(ws), 3).value == "乡镇街道"
    cols, rows, total = table(ws)
    at = {(ws.cell(r, 1).value, ws.cell(r, 3).value): r for r in rows}
    for cty in city.region.children:
        for town in cty.children:
            r = at[(town.code, town.name)]
            assert ws.cell(r, 2).value == cty.name
            assert ws.row_dimensions[r].outlineLevel == 1
            for header, attr in PROGRESS.items():
                assert ws.cell(r, cols[header]).value == getattr(town, attr)
        sub = at[(cty.code, "小计")]
        for header, attr in PROGRESS.items():
            assert ws.cell(sub, cols[header]).value == getattr(cty, attr)
            assert wf.cell(sub, cols[header]).value.startswith("=SUBTOTAL(9,")
        assert ws.cell(sub, cols["完成率"]).value == pytest.approx(cty.completion)
    for header, attr in PROGRESS.items():
        assert ws.cell(total, cols[header]).value == getattr(city.region, attr)
    assert ws.cell(total, cols["完成率"]).value == pytest.approx(city.region.completion)


def test_insurance_by_scheme(written: Path, city: Figures) -> None:
    formulas, values = books(written)
    ws = values["参保情况"]
    cols, rows, total = table(ws)
    expected = {
        **{c.entry: ("pension", c.code) for c in CODE_LISTS["养老保险"].codes},
        **{c.entry: ("medical", c.code) for c in CODE_LISTS["医疗保险"].codes},
        "30 工伤保险": ("other_insurance", "30"), "40 失业保险": ("other_insurance", "40"),
        "50 生育保险": ("other_insurance", "50"),
    }
    assert "11 城镇职工基本养老保险" in cols and "26 其他医疗保障（单建制度）" in cols
    for code, r in by_code(ws, rows).items():
        child = next(c for c in city.region.children if c.code == code)
        for header, (attr, key) in expected.items():
            assert ws.cell(r, cols[header]).value == getattr(child, attr)[key], header
        assert ws.cell(r, cols["养老保险小计"]).value == sum(child.pension.values())
        assert ws.cell(r, cols["医疗保险小计"]).value == sum(child.medical.values())
    for header, (attr, key) in expected.items():
        assert ws.cell(total, cols[header]).value == getattr(city.region, attr)[key], header
    assert formulas["参保情况"].cell(total, cols["11 城镇职工基本养老保险"]).value.startswith("=SUM(")


def test_uninsured_reasons_roll_up_to_their_category(written: Path, city: Figures) -> None:
    ws = openpyxl.load_workbook(written, data_only=True)["未参保原因"]
    cols, rows, total = table(ws)
    codes = CODE_LISTS["未参保原因"].codes
    assert all(c.entry in cols for c in codes)
    assert cols["911 缴费终止"] < cols["91 小计"] < cols["92 单位未予参保"] < cols["92 小计"]
    for r, region in [*((r, c) for r, c in zip(rows, city.region.children, strict=True)),
                      (total, city.region)]:
        for c in codes:
            assert ws.cell(r, cols[c.entry]).value == region.uninsured[c.code]
        for cat in ("91", "92", "93"):
            expected = sum(n for code, n in region.uninsured.items() if code[:2] == cat)
            assert ws.cell(r, cols[f"{cat} 小计"]).value == expected
        assert ws.cell(r, cols["合计"]).value == sum(region.uninsured.values())


def test_employment_identity_and_unit_types(written: Path, city: Figures) -> None:
    ws = openpyxl.load_workbook(written, data_only=True)["就业与身份"]
    start = 1
    sections = (("employment", "就业状态", "一、就业状态（人）"), ("identity", "个人身份", "二、个人身份（人）"),
                ("unit_types", "单位类型", "三、单位类型（户）"))
    for attr, list_name, heading in sections:
        cols, rows, total = table(ws, start)
        assert ws.cell(header_row(ws, start=start) - 1, 1).value == heading
        for r, region in [*zip(rows, city.region.children, strict=True), (total, city.region)]:
            for c in CODE_LISTS[list_name].codes:
                assert ws.cell(r, cols[c.entry]).value == getattr(region, attr).get(c.code, 0)
            assert ws.cell(r, cols["合计"]).value == sum(getattr(region, attr).values())
        start = total + 1


def test_daily_progress_sorted_with_cumulative(written: Path) -> None:
    formulas, values = books(written)
    ws = values["每日进度"]
    top = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "日期")
    got = [(ws.cell(r, 1).value.date(), ws.cell(r, 2).value, ws.cell(r, 3).value)
           for r in range(top + 1, top + 4)]
    assert got == [(dt.date(2017, 6, 1), 120, 120), (dt.date(2017, 6, 2), 75, 195),
                   (dt.date(2017, 6, 3), 40, 235)]
    assert ws.cell(top + 4, 1).value == "合计" and ws.cell(top + 4, 2).value == 235
    assert formulas["每日进度"].cell(top + 2, 3).value == f"=C{top + 1}+B{top + 2}"


def test_no_personal_data(written: Path) -> None:
    for cell in all_cells(openpyxl.load_workbook(written)):
        assert not ID_LIKE.search(str(cell.value or "")), cell.coordinate


def test_county_root(county_root: Figures, tmp_path: Path) -> None:
    path = summary.write_summary(county_root, tmp_path / "濉溪县汇总表.xlsx", office="濉溪县人社局")
    wb = openpyxl.load_workbook(path, data_only=True)
    assert wb.sheetnames == ["进度", "村社区明细", "参保情况", "未参保原因", "就业与身份", "每日进度"]
    ws = wb["进度"]
    assert ws["A1"].value == "濉溪县全民参保登记入户调查进度汇总表"
    cols, rows, total = table(ws)
    assert "需入户调查人员数" not in cols
    root = county_root.region
    assert [ws.cell(r, 1).value for r in rows] == [t.code for t in root.children]
    for header, attr in PROGRESS.items():
        assert ws.cell(total, cols[header]).value == getattr(root, attr)

    detail = wb["村社区明细"]
    cols, rows, total = table(detail)
    at = by_code(detail, rows)
    villages = [v for t in root.children for v in t.children]
    assert all(v.code in at for v in villages)
    for v in villages:
        assert detail.cell(at[v.code], cols["已登记"]).value == v.registered
    for header, attr in PROGRESS.items():
        assert detail.cell(total, cols[header]).value == getattr(root, attr)
    assert wb["每日进度"].cell(4, 1).value == "暂无登记记录。"


def test_write_is_atomic(city: Figures, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "汇总表.xlsx"
    summary.write_summary(city, target, office="淮北市人社局")
    assert [p.name for p in tmp_path.iterdir()] == [target.name]
    before = target.read_bytes()

    def broken(book: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(summary, "_WRITERS", (*summary._WRITERS[:3], broken))
    with pytest.raises(RuntimeError):
        summary.write_summary(city, target, office="淮北市人社局")
    assert [p.name for p in tmp_path.iterdir()] == [target.name]
    assert target.read_bytes() == before


def test_office_text_is_never_a_formula(city: Figures, tmp_path: Path) -> None:
    path = summary.write_summary(city, tmp_path / "s.xlsx", office='=HYPERLINK("http://x","y")')
    ws = openpyxl.load_workbook(path)["进度"]
    assert ws["A2"].data_type == "s"


def test_codes_outside_the_lists_are_counted_not_dropped(county_root: Figures, tmp_path: Path) -> None:
    first = county_root.region.children[0]
    first.pension["16"] = 4
    first.uninsured["914"] = 3
    first.uninsured["99"] = 2
    wb = openpyxl.load_workbook(summary.write_summary(county_root, tmp_path / "s.xlsx", office="x"),
                                data_only=True)
    cols, rows, _ = table(wb["参保情况"])
    assert wb["参保情况"].cell(rows[0], cols["养老保险其他代码"]).value == 4
    assert wb["参保情况"].cell(rows[0], cols["养老保险小计"]).value == sum(first.pension.values())
    ws = wb["未参保原因"]
    cols, rows, _ = table(ws)
    assert ws.cell(rows[0], cols["91 其他代码"]).value == 3
    assert ws.cell(rows[0], cols["91 小计"]).value == sum(
        n for code, n in first.uninsured.items() if code.startswith("91"))
    assert ws.cell(rows[0], cols["未参保原因其他代码"]).value == 2
    assert ws.cell(rows[0], cols["合计"]).value == sum(first.uninsured.values())


def test_a_region_without_figures_still_writes(tmp_path: Path) -> None:
    empty = Figures(region=RegionFigures(code="340602", name="杜集区", level="county"), files={},
                    generated_at=GENERATED)
    wb = openpyxl.load_workbook(summary.write_summary(empty, tmp_path / "s.xlsx", office="x"),
                                data_only=True)
    cols, rows, total = table(wb["进度"])
    assert rows == [] and wb["进度"].cell(total, cols["任务人数"]).value == 0


def test_a_chart_that_would_be_cut_starts_the_next_page(tmp_path: Path, written: Path) -> None:
    many = county("340621", "濉溪县", 13, 0)
    path = summary.write_summary(Figures(region=many, files={}, generated_at=GENERATED), tmp_path / "s.xlsx",
                                 office="x")
    ws = openpyxl.load_workbook(path)["进度"]
    _, _, total = table(ws)
    (brk,) = ws.row_breaks.brk
    assert brk.id > total                       # below the table and its note, above the chart
    assert not ws.print_title_rows              # the table fits on its page: nothing to repeat
    few = openpyxl.load_workbook(written)["进度"]
    assert not few.row_breaks.brk and few.print_title_rows
