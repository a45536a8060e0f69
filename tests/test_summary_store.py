"""The summary is right by construction: after a small demo, every figure of every summary
(the city's and each county's: progress, detail, insurance, uninsured reasons, employment,
identity, unit types, daily history) equals an independent SQL count over the store, cell
by cell, and the status JSON agrees with them.

The counts here are written from the definitions in the README, in SQL of their own, not
with engine code; only the code lists' headers come from the form definition."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.form import CODE_LISTS

# The notice's task table (淮人社秘〔2017〕166号): county -> persons, units.
NOTICE = {"340602": (20278, 465), "340603": (21112, 1252), "340604": (25958, 1234), "340621": (112883, 7987)}
COUNTIES = {"340602": "杜集区", "340603": "相山区", "340604": "烈山区", "340621": "濉溪县"}
LABELS = ("区域代码", "名称", "县区", "乡镇街道", "村社区")

# header -> SQL giving (region prefix, count), `{g}` standing for the prefix of a region code column.
PROGRESS = {
    "任务人数": "SELECT {g:r}, COUNT(*) FROM roster_persons r GROUP BY 1",
    "已登记": "SELECT {g:r}, COUNT(*) FROM roster_persons r JOIN persons p USING (id_number) GROUP BY 1",
    "名册外新增": "SELECT {g:p}, COUNT(*) FROM persons p LEFT JOIN roster_persons r USING (id_number) "
             "WHERE r.id_number IS NULL GROUP BY 1",
    "退回待改": "SELECT {g:q}, COUNT(*) FROM pending q LEFT JOIN persons p ON p.id_number = q.row_key "
            "WHERE q.kind = 'persons' AND p.id_number IS NULL GROUP BY 1",
    "未登记": "SELECT {g:r}, COUNT(*) FROM roster_persons r WHERE r.id_number NOT IN (SELECT id_number FROM persons) "
           "AND r.id_number NOT IN (SELECT row_key FROM pending WHERE kind = 'persons') GROUP BY 1",
    "任务单位数": "SELECT {g:r}, COUNT(*) FROM roster_units r GROUP BY 1",
    "已登记单位": "SELECT {g:r}, COUNT(*) FROM roster_units r JOIN units u USING (unit_key) GROUP BY 1",
}
RATES = {"完成率": ("已登记", "任务人数"), "单位完成率": ("已登记单位", "任务单位数")}


def _where(table: str, condition: str) -> str:
    return f"SELECT {{g:t}}, COUNT(*) FROM {table} t WHERE {condition} GROUP BY 1"


def _codes(list_name: str, column: str, table: str = "persons") -> dict[str, str]:
    """One header per code of the list ('11 城镇职工基本养老保险'), counted where the column holds it."""
    return {c.entry: _where(table, f"t.{column} = '{c.code}'") for c in CODE_LISTS[list_name].codes}


def insurance() -> dict[str, str]:
    return {**_codes("养老保险", "pension"), "养老保险小计": _where("persons", "t.pension IS NOT NULL"),
            **_codes("医疗保险", "medical"), "医疗保险小计": _where("persons", "t.medical IS NOT NULL"),
            "30 工伤保险": _where("persons", "t.injury = '30'"), "40 失业保险": _where("persons", "t.unemployment = '40'"),
            "50 生育保险": _where("persons", "t.maternity = '50'")}


def uninsured() -> dict[str, str]:
    out = _codes("未参保原因", "uninsured_reason")
    for category in ("91", "92", "93"):
        out[f"{category} 小计"] = _where("persons", f"t.uninsured_reason LIKE '{category}%'")
    return out | {"合计": _where("persons", "t.uninsured_reason IS NOT NULL")}


def distribution(list_name: str, column: str, table: str = "persons") -> dict[str, str]:
    return _codes(list_name, column, table) | {"合计": _where(table, f"t.{column} IS NOT NULL")}


# sheet -> the tables on it, top to bottom, each header -> SQL.
SHEETS: dict[str, list[dict[str, str]]] = {
    "进度": [PROGRESS], "明细": [PROGRESS], "参保情况": [insurance()], "未参保原因": [uninsured()],
    "就业与身份": [distribution("就业状态", "employment"), distribution("个人身份", "identity"),
              distribution("单位类型", "unit_type", "units")],
}


class Counts:
    """Counts from the store by SQL, per region code (any level), cached per query."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.cache: dict[tuple[str, int], dict[str, int]] = {}

    def __call__(self, sql: str, code: str) -> int:
        length = len(code.rstrip("0")) if len(code) == 6 and code.endswith("00") else len(code)
        key = (sql, length)
        if key not in self.cache:
            self.cache[key] = dict(self.db.execute(_prefix_sql(sql, length)).fetchall())
        return self.cache[key].get(code[:length], 0)


def _prefix_sql(sql: str, length: int) -> str:
    """`{g:x}` becomes the first `length` digits of the region code of the table aliased x."""
    out = sql
    for alias in ("r", "p", "q", "t"):
        out = out.replace(f"{{g:{alias}}}", f"substr({alias}.region_code, 1, {length})")
    return out


# ---- reading a summary's tables back ---------------------------------------------------


def tables(ws: Any) -> Iterator[tuple[dict[int, str], list[tuple[str, int]]]]:
    """Each table of the sheet: its numeric columns by header, and its rows as (region code,
    row number), subtotal and total rows included (a total row is the sheet's own region)."""
    r = 1
    while r <= ws.max_row:
        if ws.cell(r, 1).value != "区域代码":
            r += 1
            continue
        head = r + 1 if ws.cell(r + 1, 1).value is None else r
        headers = {c: str(ws.cell(head, c).value or ws.cell(r, c).value) for c in range(1, ws.max_column + 1)
                   if (ws.cell(head, c).value or ws.cell(r, c).value)}
        numeric = {c: h for c, h in headers.items() if h not in LABELS}
        rows: list[tuple[str, int]] = []
        r = head + 1
        while ws.cell(r, 1).value or ws.cell(r, 2).value:
            rows.append((str(ws.cell(r, 1).value or ""), r))
            if ws.cell(r, 2).value == "合计":
                break
            r += 1
        yield numeric, rows
        r += 1


def check_summary(path: Path, root: str, counts: Counts, *, city: bool) -> int:
    """Every number of every table of the summary against `counts`; returns how many."""
    wb = openpyxl.load_workbook(path, data_only=True)
    checked = 0
    for ws in wb.worksheets:
        if ws.title == "每日进度":
            continue
        specs = SHEETS["明细" if ws.title.endswith("明细") else ws.title]
        found = list(tables(ws))
        assert len(found) == len(specs), ws.title
        for (numeric, rows), spec in zip(found, specs, strict=True):
            assert rows and rows[-1][0] == "", (ws.title, "a total row ends every table")
            for code, r in rows:
                region = code or root
                for c, header in numeric.items():
                    value = ws.cell(r, c).value
                    if header in RATES:
                        num, den = (counts(PROGRESS[h], region) for h in RATES[header])
                        assert value == pytest.approx(num / den if den else 0), (ws.title, region, header)
                    elif header.startswith("需入户调查"):
                        assert city and ws.title == "进度", (ws.title, header)
                        index = 0 if header == "需入户调查人员数" else 1
                        expected = NOTICE[code][index] if code else sum(t[index] for t in NOTICE.values())
                        assert value == expected, (region, header)
                    else:
                        assert header in spec, (ws.title, header, "a column the test does not know")
                        assert value == counts(spec[header], region), (ws.title, region, header)
                    checked += 1
    return checked


def check_daily(path: Path, root: str, db: sqlite3.Connection) -> int:
    ws = openpyxl.load_workbook(path, data_only=True)["每日进度"]
    top = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "日期")
    prefix = root.rstrip("0") if len(root) == 6 and root.endswith("00") else root
    expected = db.execute("SELECT substr(first_seen, 1, 10), COUNT(*) FROM persons WHERE region_code LIKE ? "
                          "GROUP BY 1 ORDER BY 1", (prefix + "%",)).fetchall()
    assert expected, "the demo registered persons"
    total = 0
    for r, (day, n) in enumerate(expected, start=top + 1):
        total += n
        shown = ws.cell(r, 1).value
        assert (shown.date(), ws.cell(r, 2).value, ws.cell(r, 3).value) == (dt.date.fromisoformat(day), n, total)
    end = top + 1 + len(expected)
    assert (ws.cell(end, 1).value, ws.cell(end, 2).value) == ("合计", total)
    return 3 * len(expected) + 1


@pytest.fixture(scope="module")
def store(city_demo: Path) -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(city_demo / "workbooks" / "canbao.db")
    yield db
    db.close()


def summary_of(demo: Path, name: str) -> Path:
    return demo / "outbox" / "汇总" / f"{name}汇总表.xlsx"


def test_every_figure_of_the_city_summary_equals_an_independent_count(city_demo: Path,
                                                                      store: sqlite3.Connection) -> None:
    counts = Counts(store)
    checked = check_summary(summary_of(city_demo, "淮北市"), "340600", counts, city=True)
    checked += check_daily(summary_of(city_demo, "淮北市"), "340600", store)
    assert checked > 700          # every number of the seven tables and the daily history


@pytest.mark.parametrize("code", sorted(COUNTIES))
def test_every_figure_of_each_county_summary_equals_an_independent_count(city_demo: Path, store: sqlite3.Connection,
                                                                         code: str) -> None:
    path = summary_of(city_demo, COUNTIES[code])
    checked = check_summary(path, code, Counts(store), city=False)
    checked += check_daily(path, code, store)
    assert checked > 500


def test_the_check_notices_a_wrong_figure(city_demo: Path, store: sqlite3.Connection, tmp_path: Path) -> None:
    """The comparison is not vacuous: one changed cell fails it."""
    wb = openpyxl.load_workbook(summary_of(city_demo, "相山区"))
    ws = wb["参保情况"]
    numeric, rows = next(tables(ws))
    col = next(c for c, h in numeric.items() if h.startswith("12 "))
    ws.cell(rows[0][1], col).value = (ws.cell(rows[0][1], col).value or 0) + 1
    wb.save(tmp_path / "wrong.xlsx")
    with pytest.raises(AssertionError):
        check_summary(tmp_path / "wrong.xlsx", "340603", Counts(store), city=False)


def test_status_json_agrees_with_the_counts_and_the_summary(city_demo: Path, store: sqlite3.Connection) -> None:
    status = json.loads(CliRunner().invoke(main, ["status", "--json", "-w", str(city_demo)]).output)
    counts = Counts(store)
    keys = {"task": "任务人数", "registered": "已登记", "returned": "退回待改", "new": "名册外新增", "missing": "未登记"}
    for entry in (status["region"], *status["regions"]):
        code = entry["code"]
        assert entry["persons"] == {k: counts(PROGRESS[h], code) for k, h in keys.items()}, code
        assert entry["units"] == {"task": counts(PROGRESS["任务单位数"], code),
                                  "registered": counts(PROGRESS["已登记单位"], code)}, code
    assert [r["code"] for r in status["regions"]] == sorted(COUNTIES)
    files = dict(store.execute("SELECT status, COUNT(*) FROM files GROUP BY status").fetchall())
    assert status["files"]["received"] == sum(files.values())
