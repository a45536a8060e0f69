"""Every rule of the catalogue, with a valid and an invalid value.

A complete, valid person row passes clean; each case changes it the way staff get it
wrong and expects exactly that rule. Messages come from the catalogue, never copied here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from engine.form import PERSONS, UNITS
from engine.identifiers import check_digit, credit_check_char
from engine.problems import BY_NAME, RULES
from engine.reader import RawRow
from engine.rules import RowContext, check_row

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
