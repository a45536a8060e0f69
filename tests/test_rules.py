"""Every rule of the catalogue, with a valid and an invalid value.

A complete, valid person row passes clean; each case changes it the way staff get it
wrong and expects exactly that rule. Messages come from the catalogue, never copied here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.form import PERSONS, UNITS
from engine.identifiers import check_digit, credit_check_char
from engine.problems import BY_NAME, RULES
from engine.reader import RawRow
from engine.rules import RowContext, check_row, check_rows

TODAY = dt.date(2026, 11, 29)
ID = "34062119800101123" + check_digit("34062119800101123")          # male, born 1980-01-01
CHILD_ID = "34062120220301002" + check_digit("34062120220301002")    # female, born 2022


def person(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id_number": ID, "name": "张伟", "sex": "1 男", "birth_date": "1980-01-01", "hukou_type": "20",
        "employment": "4 灵活就业", "identity": "27 农民", "hukou_province": "安徽省", "hukou_city": "淮北市",
        "hukou_county": "濉溪县", "home_province": "安徽省", "home_city": "淮北市", "home_county": "濉溪县",
        "home_street": "一组12号", "mobile": "13812345678", "pension": "12", "medical": "22",
        "handler": "李明", "reviewer": "王芳",
    }
    row.update(changes)
    return {k: v for k, v in row.items() if v is not None}


def unit(**changes: Any) -> dict[str, Any]:
    code = "91340621MA2N" + "0000A"
    row: dict[str, Any] = {"region_code": "340621100001", "credit_code": code + credit_check_char(code),
                           "unit_name": "濉溪县某建材厂", "unit_type": "10", "address": "濉溪镇建设路1号",
                           "unit_status": "1", "handler": "李明", "contact_phone": "0561-6012345"}
    row.update(changes)
    return {k: v for k, v in row.items() if v is not None}


def rules_of(values: dict[str, Any], form: Any = PERSONS) -> list[str]:
    checked = check_row(RawRow(5, values), RowContext("人员登记", form, TODAY))
    return sorted({p.rule for p in checked.problems})


def test_a_complete_row_is_clean() -> None:
    assert rules_of(person()) == []
    assert rules_of(unit(), UNITS) == []


CASES: list[tuple[str, dict[str, Any]]] = [
    ("required", {"handler": None}),
    ("id_mangled", {"id_number": float(ID[:17] + "0")}),
    ("id_mangled", {"id_number": "3.40621198001011E+17"}),
    ("id_format", {"id_number": "34062119800101"}),
    ("id_check_digit", {"id_number": ID[:17] + ("0" if ID[17] != "0" else "1")}),
    ("id_birth_date", {"id_number": "34062119801301001" + check_digit("34062119801301001"), "birth_date": None}),
    ("sex_vs_id", {"sex": "2 女"}),
    ("birth_vs_id", {"birth_date": "1980-01-02"}),
    ("date_format", {"birth_date": "去年"}),
    ("code_invalid", {"pension": "16"}),
    ("code_invalid", {"medical": "城镇医保"}),
    ("employer_missing", {"employment": "0 已单位就业"}),
    ("employer_unexpected", {"employment": "3 未就业", "employer": "某公司"}),
    ("other_missing", {"identity": "90 其他"}),
    ("other_missing", {"pension": None, "uninsured_reason": "919"}),
    ("reason_missing", {"pension": None}),
    ("reason_with_pension", {"uninsured_reason": "91 个人未参保"}),
    ("phone_missing", {"mobile": None}),
    ("mobile_format", {"mobile": "1381234567"}),
    ("phone_format", {"landline": "12345"}),
    ("age_implausible", {"employment": "1 学龄前"}),
    ("region_unknown", {"region_code": "340621999999"}),
]


@pytest.mark.parametrize(("rule", "changes"), CASES, ids=[f"{r}-{i}" for i, (r, _) in enumerate(CASES)])
def test_each_rule_fires_on_its_mistake(rule: str, changes: dict[str, Any]) -> None:
    assert rules_of(person(**changes)) == [BY_NAME[rule].code]


def test_legacy_15_digit_id_is_upgraded_with_a_warning() -> None:
    checked = check_row(RawRow(5, person(id_number=ID[:6] + ID[8:17], birth_date=None)),
                        RowContext("人员登记", PERSONS, TODAY))
    assert [p.rule for p in checked.problems] == [BY_NAME["id_legacy"].code]
    assert checked.ok and checked.values["id_number"] == ID


def test_unknown_region_in_id_is_a_warning() -> None:
    body = "99062119800101123"
    checked = check_row(RawRow(5, person(id_number=body + check_digit(body))), RowContext("x", PERSONS, TODAY))
    assert [p.rule for p in checked.problems] == [BY_NAME["id_region"].code]
    assert checked.ok


def test_birth_date_and_sex_come_from_the_id_when_empty() -> None:
    checked = check_row(RawRow(5, person(birth_date=None)), RowContext("x", PERSONS, TODAY))
    assert checked.values["birth_date"] == "1980-01-01"


def test_a_birth_date_that_is_no_date_is_reported_and_taken_from_the_id() -> None:
    for check in (check_row, lambda raw, ctx: check_rows([raw], ctx)[0]):
        checked = check(RawRow(5, person(birth_date="去年")), RowContext("x", PERSONS, TODAY))
        assert [p.rule for p in checked.problems] == [BY_NAME["date_format"].code]
        assert checked.values["birth_date"] == "1980-01-01"


def test_child_aged_three_at_school_is_plausible_but_at_work_is_not() -> None:
    child = {"id_number": CHILD_ID, "sex": "2", "birth_date": None, "identity": "90", "identity_other": "学龄前儿童"}
    assert rules_of(person(**child, employment="1 学龄前", pension=None, uninsured_reason="919",
                           reason_other="未满16周岁")) == []
    assert BY_NAME["age_implausible"].code in rules_of(person(**child, employment="0", employer="某厂"))


@pytest.mark.parametrize(("rule", "changes"), [
    ("credit_code_format", {"credit_code": "91340621MA2N0000I"}),
    ("credit_code_check", {"credit_code": "91340621MA2N0000A0"}),
    ("required", {"unit_status": None}),
    ("code_invalid", {"unit_type": "11"}),
])
def test_unit_rules(rule: str, changes: dict[str, Any]) -> None:
    if rule == "credit_code_check" and credit_check_char("91340621MA2N0000A") == "0":
        changes = {"credit_code": "91340621MA2N0000A1"}
    assert rules_of(unit(**changes), UNITS) == [BY_NAME[rule].code]


def test_every_rule_has_a_chinese_message_and_a_test() -> None:
    tested = {r for r, _ in CASES} | {"id_legacy", "id_region", "credit_code_format", "credit_code_check"}
    across_rows = {"duplicate_in_file", "duplicate_across_villages", "not_on_roster", "name_differs",
                   "region_outside", "duplicate_unit"}     # tested in test_pipeline / test_end_to_end
    files = {r.name for r in RULES.values() if r.code.startswith("F")}   # tested in test_reader
    assert {r.name for r in RULES.values()} == tested | across_rows | files
    for r in RULES.values():
        assert any("\u4e00" <= ch <= "\u9fff" for ch in r.message), r.code


def test_cells_are_read_as_text_staff_meant() -> None:
    checked = check_row(RawRow(5, person(name=" 张伟 ", remark=12.0, home_street="一组12号\u3000",
                                         mobile=" 138 1234 5678 ")), RowContext("x", PERSONS, TODAY))
    assert checked.problems == []
    assert (checked.values["name"], checked.values["remark"], checked.values["mobile"]) == ("张伟", "12", "13812345678")
    assert checked.values["home_street"] == "一组12号"


def test_problems_are_listed_in_the_forms_order_cells_before_rules() -> None:
    checked = check_row(RawRow(5, person(pension="16", mobile="1381234567", sex="男女", name=None, employment="0")),
                        RowContext("x", PERSONS, TODAY))
    assert [(p.rule, p.field) for p in checked.problems] == [
        ("R001", "name"), ("R030", "sex"), ("R061", "mobile"), ("R030", "pension"), ("R040", "employer")]
    assert "sex" not in checked.values and "pension" not in checked.values


def test_only_the_forms_fields_are_taken() -> None:
    checked = check_row(RawRow(5, person(hukou_place="安徽省淮北市濉溪县")), RowContext("x", PERSONS, TODAY))
    assert "hukou_place" not in checked.values


# -- a sheet at a time ---------------------------------------------------------------------

# What a cell of each field may hold, from clean to spoilt (None: left empty).
MESSY: dict[str, list[Any]] = {
    "id_number": [ID, CHILD_ID, ID.lower(), f" {ID} ", ID[:6] + ID[8:17], float(ID[:17] + "0"), ID[:16], "990621" + ID[6:],
                  ID[:17] + ("0" if ID[17] != "0" else "1"), None, " "],
    "name": ["张伟", " 张伟 ", 12.0, None, ""],
    "sex": ["1 男", "2", "女", "3", 1.0, None],
    "birth_date": ["1980-01-01", "1980/1/2", "19800101", dt.date(1980, 1, 1), dt.datetime(2022, 3, 1), "去年", None],
    "hukou_type": ["20", "农业", "99", None],
    "employment": ["0 已单位就业", "1 学龄前", "2", "3 未就业", "5", "失业", 4.0, None],
    "employer": ["某公司", None, "  "],
    "identity": ["27 农民", "90 其他", "99", None],
    "identity_other": ["学龄前儿童", None],
    "mobile": ["13812345678", " 138-1234-5678 ", 13812345678.0, "1381234567", "()", None],
    "landline": ["0561-6012345", "12345", None],
    "pension": ["12", "11 城镇职工基本养老保险", "16", None],
    "uninsured_reason": ["91", "919 其他（须说明）", "99", None],
    "reason_other": ["未满16周岁", None],
    "injury": ["30", "0", 0, "否", None],
    "region_code": ["340621100001", "340621999999", None],
    "handler": ["李明", None],
}


@st.composite
def messy_rows(draw: st.DrawFn) -> dict[str, Any]:
    row = person()
    row.update({key: draw(st.sampled_from(values)) for key, values in MESSY.items()})
    return {k: v for k, v in row.items() if v is not None}


@settings(max_examples=60, deadline=None)
@given(st.lists(messy_rows(), max_size=12), st.booleans())
def test_a_sheet_checked_column_by_column_is_each_row_checked_alone(rows: list[dict[str, Any]], roster: bool) -> None:
    raws = [RawRow(i + 4, values) for i, values in enumerate(rows)]
    ctx = RowContext("人员登记", PERSONS, TODAY, roster=roster)
    assert check_rows(raws, ctx) == [check_row(raw, ctx) for raw in raws]
    # rows as the reader marks them (all text, trimmed) are taken the short way, to the same result
    plain = [RawRow(r.row, {k: v.strip() for k, v in r.values.items() if isinstance(v, str) and v.strip()})
             for r in raws]
    assert check_rows([RawRow(r.row, r.values, trimmed=True) for r in plain], ctx) == check_rows(plain, ctx)


MESSY_UNITS: dict[str, list[Any]] = {
    "credit_code": [unit()["credit_code"], unit()["credit_code"].lower(), "91340621MA2N0000I", "91340621MA2N0000A0",
                    None],
    "unit_no": ["U3406002954", None], "unit_name": ["濉溪县某建材厂", " 某厂 ", None],
    "unit_type": ["10 企业", "个体", "11", 10.0, None], "unit_status": ["1", "3 部分职工未参保", "9", None],
    "contact_phone": ["0561-6012345", "13812345678", "6012345", None], "region_code": ["340621100001", "3406", None],
}


@settings(max_examples=30, deadline=None)
@given(st.lists(st.fixed_dictionaries({k: st.sampled_from(v) for k, v in MESSY_UNITS.items()}), max_size=8))
def test_a_units_sheet_checked_column_by_column_is_each_row_checked_alone(rows: list[dict[str, Any]]) -> None:
    raws = [RawRow(i + 4, unit(**values)) for i, values in enumerate(rows)]
    ctx = RowContext("单位登记", UNITS, TODAY)
    assert check_rows(raws, ctx) == [check_row(raw, ctx) for raw in raws]


def test_every_case_checks_the_same_in_a_sheet() -> None:
    raws = [RawRow(i + 4, person(**changes)) for i, (_, changes) in enumerate(CASES)]
    raws += [RawRow(40, unit()), RawRow(41, {})]
    ctx = RowContext("人员登记", PERSONS, TODAY)
    assert check_rows(raws, ctx) == [check_row(raw, ctx) for raw in raws]
    units = [RawRow(5, unit()), RawRow(6, unit(credit_code="91340621MA2N0000I", unit_status=None))]
    assert check_rows(units, RowContext("单位登记", UNITS, TODAY)) == [check_row(r, RowContext("单位登记", UNITS, TODAY))
                                                                     for r in units]
    assert check_rows([], ctx) == []
