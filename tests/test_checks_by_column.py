"""A sheet is checked a field at a time: the shortcuts taken there give each cell and row
what checking it alone gives.

`check_ids` is `check_id` down a column; a cell `CellCheck.clean` passes is its own value
without a problem; the age rule judged on birth dates as text is the age in years; a
row's pattern (its codes, the watched fields it leaves empty), once worked out, serves
every later row with that pattern, whatever its shape.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.columns import cell_check
from engine.form import PERSONS
from engine.identifiers import check_digit, check_id, check_ids
from engine.problems import BY_NAME
from engine.reader import RawRow
from engine.rules import RowContext, check_row, check_rows

TODAY = dt.date(2026, 11, 29)
ID = "34062119800101123" + check_digit("34062119800101123")

ID_CELLS = st.one_of(
    st.builds(lambda body: body + check_digit(body),
              st.from_regex(r"(340621|110105|990621)(19[0-9]{2}|20[0-2][0-9])(0[1-9]|1[0-2])[0-3][0-9][0-9]{3}",
                            fullmatch=True)),
    st.from_regex(r"[0-9]{17}[0-9Xx]", fullmatch=True),
    st.sampled_from([ID, ID.lower(), f" {ID} ", "'" + ID, ID[:6] + ID[8:17], ID[:16], "３４０６２１" + ID[6:], ""]),
    st.floats(min_value=1e17, max_value=9e17), st.integers(min_value=10**17, max_value=10**18 - 1),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(ID_CELLS, max_size=20))
def test_a_column_of_ids_is_each_id_checked(cells: list[Any]) -> None:
    assert check_ids(cells, TODAY) == [check_id(cell, TODAY) for cell in cells]


@pytest.mark.parametrize("key", ["birth_date", "mobile", "landline", "region_code", "sex"])
def test_a_clean_cell_is_its_own_value_without_a_problem(key: str) -> None:
    check = cell_check(PERSONS[key])
    cells: list[Any] = ["1980-01-01", "1980/1/2", "13812345678", " 13812345678", "0561-6012345", "340621100001",
                        "1", "1 男", "", None, 13812345678, 1.0, dt.date(1980, 1, 1)]
    for cell in cells:
        if cell is not None:
            check.lookup(cell)          # the table has seen it
    for cell, clean in zip(cells, check.clean(cells), strict=True):
        if clean:
            assert cell is not None and check.lookup(cell) == (cell, None), (key, cell)
    assert not check.clean([None])[0]


def person(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id_number": "123", "name": "张伟", "sex": "1", "birth_date": "1980-01-01", "hukou_type": "20",
        "employment": "4", "identity": "27", "hukou_province": "安徽省", "hukou_city": "淮北市",
        "hukou_county": "濉溪县", "home_province": "安徽省", "home_city": "淮北市", "home_county": "濉溪县",
        "home_street": "一组12号", "mobile": "13812345678", "pension": "12", "handler": "李明", "reviewer": "王芳",
    }
    row.update(changes)
    return {k: v for k, v in row.items() if v is not None}


LIMITS = {"0": (16, 200), "1": (0, 7), "2": (3, 40), "5": (40, 200)}


@pytest.mark.parametrize("today", [TODAY, dt.date(2024, 2, 29), dt.date(2025, 2, 28), dt.date(2025, 3, 1)])
def test_an_age_is_implausible_exactly_outside_its_status_limits(today: dt.date) -> None:
    births = sorted({dt.date(today.year - years, month, day) + dt.timedelta(days=shift)
                     for years in (0, 3, 7, 8, 16, 40, 41, 200, 201, 202) for month, day in ((today.month, 28),
                                                                                        (2, 28), (3, 1))
                     for shift in (-1, 0, 1) if today.year - years > 1})
    births += [dt.date(today.year - 40, today.month, today.day), dt.date(today.year - 16, today.month, today.day)]
    employer = {"0": "某厂"}
    raws = [RawRow(i, person(birth_date=born.isoformat(), employment=status, employer=employer.get(status)),
                   trimmed=True)
            for i, (born, status) in enumerate((born, status) for born in births for status in LIMITS)]
    for raw, checked in zip(raws, check_rows(raws, RowContext("x", PERSONS, today)), strict=True):
        born = dt.date.fromisoformat(raw.values["birth_date"])
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        low, high = LIMITS[raw.values["employment"]]
        implausible = [p for p in checked.problems if p.rule == BY_NAME["age_implausible"].code]
        assert bool(implausible) == (not low <= age <= high), (today, born, raw.values["employment"])
        assert not implausible or f"{age}岁" in implausible[0].message


def test_a_pattern_worked_out_once_serves_rows_of_any_shape() -> None:
    rows = [person(), person(employment="0"), person(employment="0", employer="某厂"), person(sex="男女", pension=None),
            person(identity="90"), person(identity="90", identity_other="学龄前"), person(name=None, handler=None)]
    # the same rows with their fields in another order, and as rows not from the reader
    reordered = [dict(reversed(row.items())) for row in rows]
    spaced = [{k: f" {v} " for k, v in row.items()} for row in rows]
    ctx = RowContext("x", PERSONS, TODAY)
    alone = [check_row(RawRow(i, row), ctx) for i, row in enumerate(rows)]
    for variant, trimmed in ((rows, True), (reordered, True), (reordered, False), (spaced, False)):
        sheet = [RawRow(i, row, trimmed=trimmed) for i, row in enumerate(variant)]
        twice = check_rows(sheet + sheet, ctx)
        assert [(c.values, c.problems) for c in twice[:len(rows)]] == [(c.values, c.problems) for c in alone]
        assert twice[:len(rows)] == twice[len(rows):]
