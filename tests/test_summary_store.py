"""The summary is right by construction: after a small demo, every county figure of the
city summary equals an independent SQL count over the store, cell by cell, and the status
JSON agrees with both."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.form import CODE_LISTS

COUNTY = "substr({col}, 1, 6)"


@pytest.fixture
def demo(city_demo: Path) -> Path:
    return city_demo


def _by_county(db: sqlite3.Connection, sql: str) -> dict[str, Any]:
    return dict(db.execute(sql).fetchall())


def independent_counts(ws: Path) -> dict[str, dict[str, Any]]:
    """The progress figures per county, straight from the tables, without engine code."""
    db = sqlite3.connect(ws / "workbooks" / "canbao.db")
    r, p, q = COUNTY.format(col="r.region_code"), COUNTY.format(col="p.region_code"), COUNTY.format(col="q.region_code")
    figures = {
        "任务人数": _by_county(db, f"SELECT {r}, COUNT(*) FROM roster_persons r GROUP BY 1"),
        "已登记": _by_county(db, f"SELECT {r}, COUNT(*) FROM roster_persons r JOIN persons p USING (id_number) GROUP BY 1"),
        "名册外新增": _by_county(db, f"SELECT {p}, COUNT(*) FROM persons p LEFT JOIN roster_persons r "
                                 "USING (id_number) WHERE r.id_number IS NULL GROUP BY 1"),
        "退回待改": _by_county(db, f"SELECT {q}, COUNT(*) FROM pending q LEFT JOIN persons p ON p.id_number = q.row_key "
                               "WHERE q.kind = 'persons' AND p.id_number IS NULL GROUP BY 1"),
        "未登记": _by_county(db, f"SELECT {r}, COUNT(*) FROM roster_persons r WHERE r.id_number NOT IN "
                             "(SELECT id_number FROM persons) AND r.id_number NOT IN "
                             "(SELECT row_key FROM pending WHERE kind = 'persons') GROUP BY 1"),
        "任务单位数": _by_county(db, f"SELECT {r}, COUNT(*) FROM roster_units r GROUP BY 1"),
        "已登记单位": _by_county(db, f"SELECT {r}, COUNT(*) FROM roster_units r JOIN units u USING (unit_key) GROUP BY 1"),
    }
    for column, list_name in (("pension", "养老保险"), ("medical", "医疗保险"), ("uninsured_reason", "未参保原因")):
        for code in CODE_LISTS[list_name].labels:
            figures[f"{code} {CODE_LISTS[list_name].labels[code]}"] = _by_county(
                db, f"SELECT {p}, COUNT(*) FROM persons p WHERE {column} = '{code}' GROUP BY 1")
    db.close()
    return figures


def sheet_rows(path: Path, sheet: str) -> dict[str, dict[str, Any]]:
    """county code -> header -> value, from a summary sheet (values as Excel caches them)."""
    rows = list(openpyxl.load_workbook(path, data_only=True)[sheet].iter_rows(values_only=True))
    header_row = next(i for i, row in enumerate(rows) if row[0] == "区域代码") + 1
    headers = rows[header_row]
    return {str(row[0]): {str(h): v for h, v in zip(headers, row, strict=False) if h}
            for row in rows[header_row + 1:] if row[0] and str(row[0]).isdigit()}


def test_every_county_figure_equals_an_independent_count(demo: Path) -> None:
    expected = independent_counts(demo)
    summary = demo / "outbox" / "汇总" / "淮北市汇总表.xlsx"
    shown = sheet_rows(summary, "进度") | {}
    for sheet in ("参保情况", "未参保原因"):
        for county, values in sheet_rows(summary, sheet).items():
            shown.setdefault(county, {}).update(values)
    assert set(shown) == {"340602", "340603", "340604", "340621"}
    checked = 0
    for header, per_county in expected.items():
        for county, row in shown.items():
            if header in row:
                assert row[header] == per_county.get(county, 0), (county, header)
                checked += 1
    assert checked >= 4 * 30, "the comparison covered the progress, insurance and reason columns"


def test_status_json_agrees_with_the_summary(demo: Path) -> None:
    status = json.loads(CliRunner().invoke(main, ["status", "--json", "-w", str(demo)]).output)
    shown = sheet_rows(demo / "outbox" / "汇总" / "淮北市汇总表.xlsx", "进度")
    for region in status["regions"]:
        row = shown[region["code"]]
        assert (row["任务人数"], row["已登记"], row["退回待改"], row["名册外新增"], row["未登记"]) == (
            region["persons"]["task"], region["persons"]["registered"], region["persons"]["returned"],
            region["persons"]["new"], region["persons"]["missing"])
        assert (row["任务单位数"], row["已登记单位"]) == (region["units"]["task"], region["units"]["registered"])
