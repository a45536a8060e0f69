"""ID numbers, credit codes and the tolerant code parser, by property."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import assume, given
from hypothesis import strategies as st

from engine.form import CODE_LISTS
from engine.identifiers import (
    check_credit_code,
    check_digit,
    check_digit_by_weights,
    check_id,
    credit_check_char,
    mask_id,
    upgrade15,
)

TODAY = dt.date(2026, 11, 29)
REGIONS = st.sampled_from(["340621", "340602", "340603", "340604", "110105", "320102"])
DATES = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2026, 11, 1))


@st.composite
def ids(draw: st.DrawFn) -> str:
    body = draw(REGIONS) + draw(DATES).strftime("%Y%m%d") + f"{draw(st.integers(0, 999)):03d}"
    return body + check_digit(body)


def test_the_standard_example_is_valid() -> None:
    assert check_id("11010519491231002X").ok        # GB 11643-1999's own example
    assert check_id("11010519491231002x").number == "11010519491231002X"


@given(ids())
def test_valid_ids_pass_and_say_their_birth_date(number: str) -> None:
    result = check_id(number, TODAY)
    assert result.ok
    assert result.birth_date == dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    assert result.sex == ("1" if int(number[16]) % 2 else "2")


@given(ids(), st.integers(0, 16), st.integers(1, 9))
def test_any_single_digit_error_is_caught(number: str, position: int, shift: int) -> None:
    wrong = number[:position] + str((int(number[position]) + shift) % 10) + number[position + 1:]
    assert check_id(wrong, TODAY).problem is not None


@given(ids())
def test_an_id_excel_turned_into_a_number_is_recognised(number: str) -> None:
    assume(not number.endswith("X"))
    assert check_id(float(number), TODAY).problem == "mangled"
    assert check_id(f"{float(number):.14E}", TODAY).problem == "mangled"


@given(ids())
def test_15_digit_ids_upgrade_to_their_18_digit_form(number: str) -> None:
    assume(number[6:8] == "19")
    legacy = number[:6] + number[8:17]
    result = check_id(legacy, TODAY)
    assert result.upgraded and result.number == upgrade15(legacy)
    assert result.number[:17] == number[:17]


@given(ids())
def test_an_id_excel_wrote_back_with_15_significant_digits_is_named_mangled(number: str) -> None:
    """Excel keeps 15 significant digits: '340602199108144052' comes back as '…144000'."""
    assume(not number.endswith("X"))
    written = str(int(Decimal(f"{Decimal(number):.14E}")))    # rounded to 15 significant digits
    assume(written[6:14] == number[6:14])                     # (a carry may reach the birth date)
    assume(check_digit(written[:17]) != written[17])          # (1 in 11 is by chance a valid ID)
    assert check_id(written, TODAY).problem == "mangled"


def test_an_id_really_ending_in_000_is_valid() -> None:
    assert check_digit("34060219910814000") == "0"
    assert check_id("340602199108140000", TODAY).ok                       # sequence 000, check digit 0
    assert check_id("340602199108150000", TODAY).problem == "mangled"      # its check digit is 6


@given(st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=17, max_size=17))
def test_credit_codes_with_their_check_char_pass(body: str) -> None:
    code = body[:2] + "".join(c if c.isdigit() else "1" for c in body[2:8]) + body[8:]   # 6-digit region
    assert check_credit_code(code + credit_check_char(code)) == (code + credit_check_char(code), None)
    other = "0" if credit_check_char(code) != "0" else "1"
    assert check_credit_code(code + other)[1] == "check_char"


def test_a_published_credit_code_passes() -> None:
    assert check_credit_code("91350100M000100Y43")[1] is None


def test_mask_keeps_region_and_last_four() -> None:
    assert mask_id("11010519491231002X") == "110105********002X"


@given(st.sampled_from([cl for cl in CODE_LISTS.values()]).flatmap(
    lambda cl: st.tuples(st.just(cl), st.sampled_from(cl.codes))))
def test_codes_parse_however_staff_write_them(pair: tuple) -> None:  # type: ignore[type-arg]
    cl, code = pair
    full_width = code.code.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    for written in (code.code, code.entry, code.label, f" {code.code} ", full_width, f"{code.code}.{code.label}",
                    f"{code.code}{code.label}"):
        assert cl.parse(written) == code.code, written


def test_a_code_followed_by_an_alias_of_its_label_is_understood() -> None:
    assert CODE_LISTS["养老保险"].parse("12 城乡居民基本养老保险") == "12"
    assert CODE_LISTS["医疗保险"].parse("23.新农合") == "23"
    assert CODE_LISTS["医疗保险"].parse("21 新农合") is None          # another code's alias


def test_a_code_with_the_wrong_label_is_refused() -> None:
    pension = CODE_LISTS["养老保险"]
    assert pension.parse("11 城乡居民基本养老保险") is None
    assert pension.parse("16") is None
    assert pension.parse("") is None


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_the_fast_check_digit_is_the_standards_weighted_sum(first17: str) -> None:
    assert check_digit(first17) == check_digit_by_weights(first17)


@given(ids())
def test_each_way_an_id_is_spoilt_gets_its_verdict(number: str) -> None:
    assume(number[17] != "X" and number[6:8] == "19")
    wrong_digit = number[:17] + ("0" if number[17] != "0" else "1")
    full_width = number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    verdicts = {number: None, f" {number} ": None, full_width: None, "'" + number: None,
                number[:6] + number[8:17]: None, float(number): "mangled", int(number): "mangled",
                f"{float(number):.14E}": "mangled", number[:16]: "format", "": "format", True: "format",
                wrong_digit: "mangled" if wrong_digit.endswith("000") else "check_digit", number[:6] + "20991231" + number[14:]: "birth_date",
                number[:6] + "19800230" + number[14:]: "birth_date"}
    for cell, verdict in verdicts.items():
        assert check_id(cell, TODAY).problem == verdict, cell
    assert check_id("990621" + number[6:17] + check_digit("990621" + number[6:17]), TODAY).problem == "region"
