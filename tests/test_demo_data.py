"""The demo's synthetic roster and returns: notice counts, valid identifiers, codes, mistakes."""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import Counter

import pytest

from engine import demo_data, regions
from engine.demo_data import MISTAKE_KINDS, Return, Roster, make_roster, simulate_return
from engine.form import CODE_LISTS, PERSONS, UNITS, Form
from engine.identifiers import check_credit_code, check_digit, check_id, region_names

TODAY = dt.date(2024, 6, 30)
MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0561-\d{7}$")


@pytest.fixture(scope="module")
def full() -> Roster:
    return make_roster(1.0, seed=0, today=TODAY)


@pytest.fixture(scope="module")
def small() -> Roster:
    return make_roster(0.02, seed=3, today=TODAY)


def _county_counts(rows: list[dict[str, str]]) -> Counter[str]:
    return Counter(r["region_code"][:6] for r in rows)


def _parse(form: Form, key: str, value: object) -> str | None:
    codes = form[key].codes
    assert codes is not None
    return CODE_LISTS[codes].parse(str(value))


def _big_village(roster: Roster, size: int = 150) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    return next(v for v in roster.by_village().values() if len(v[0]) >= size)


# --- Roster ---------------------------------------------------------------------------


def test_full_scale_matches_the_notice(full: Roster) -> None:
    tasks = regions.notice_tasks()
    assert dict(_county_counts(full.persons)) == {c: t[0] for c, t in tasks.items()}
    assert dict(_county_counts(full.units)) == {c: t[1] for c, t in tasks.items()}
    assert len(full.persons) == 180231 and len(full.units) == 10938


def test_full_scale_reaches_every_village(full: Roster) -> None:
    villages = {r.code for r in regions.load().villages("340600")}
    assert {p["region_code"] for p in full.persons} == villages
    sizes = Counter(p["region_code"] for p in full.persons)
    assert max(sizes.values()) > 3 * min(sizes.values())  # uneven


def test_full_scale_numbers_are_unique(full: Roster) -> None:
    for rows, key in ((full.persons, "id_number"), (full.persons, "person_no"), (full.units, "unit_no")):
        values = [r[key] for r in rows]
        assert len(set(values)) == len(values), key
    codes = [u["credit_code"] for u in full.units if u["credit_code"]]
    assert len(set(codes)) == len(codes)
    assert 0.02 < 1 - len(codes) / len(full.units) < 0.08  # about 5% without a credit code


@pytest.mark.parametrize("scale", [0.01, 0.1])
def test_scaled_counts(scale: float) -> None:
    roster = make_roster(scale, seed=1, today=TODAY)
    tasks = regions.notice_tasks()
    assert dict(_county_counts(roster.persons)) == {c: round(t[0] * scale) for c, t in tasks.items()}
    assert dict(_county_counts(roster.units)) == {c: round(t[1] * scale) for c, t in tasks.items()}


def test_tiny_scale_keeps_one_of_each() -> None:
    roster = make_roster(0.000001, seed=0, today=TODAY)
    assert set(_county_counts(roster.persons).values()) == {1}
    assert set(_county_counts(roster.units).values()) == {1}


def test_default_today_works() -> None:
    roster = make_roster(0.001)
    assert all(check_id(p["id_number"]).ok for p in roster.persons)


def test_ids_are_valid_and_match_sex_and_birth_date(small: Roster) -> None:
    for p in small.persons:
        result = check_id(p["id_number"], today=TODAY)
        assert result.ok, p
        assert check_digit(p["id_number"][:17]) == p["id_number"][17]
        assert result.sex == p["sex"]
        assert result.birth_date is not None and result.birth_date.isoformat() == p["birth_date"]
        assert 0 <= demo_data.age_on(p["birth_date"], TODAY) <= 96


def test_ids_mostly_of_the_village_county(small: Roster) -> None:
    own = sum(p["id_number"][:6] == p["region_code"][:6] for p in small.persons)
    assert 0.88 < own / len(small.persons) < 0.98
    assert all(p["id_number"][:6] in region_names() for p in small.persons)


def test_ages_have_a_realistic_shape(small: Roster) -> None:
    ages = Counter(demo_data.age_on(p["birth_date"], TODAY) // 10 for p in small.persons)
    assert ages[0] > ages[8] > ages[9]
    assert ages[3] + ages[4] + ages[5] > 0.3 * len(small.persons)


def test_person_fields(small: Roster) -> None:
    reg = regions.load()
    for p in small.persons:
        village = reg.by_code[p["region_code"]]
        names = reg.path_names(village.code)
        assert village.level == "village"
        assert re.fullmatch(r"P\d{10}", p["person_no"])
        assert 2 <= len(p["name"]) <= 3
        assert (p["home_province"], p["home_city"]) == ("安徽省", "淮北市")
        assert [p["home_county"], p["home_town"], p["home_village"]] == names
        assert p["home_street"].endswith(("号", "室"))
        for key in ("sex", "hukou_type", "identity"):
            assert _parse(PERSONS, key, p[key]) == p[key]


def test_identity_and_hukou_follow_age_and_village(small: Roster) -> None:
    for p in small.persons:
        age = demo_data.age_on(p["birth_date"], TODAY)
        if 6 <= age < 18:
            assert p["identity"] == "31"
        if p["identity"] == "31":
            assert 6 <= age <= 22
        if p["identity"] == "80":
            assert age >= 50
    rural = [p for p in small.persons if demo_data.is_rural(p["home_village"])]
    urban = [p for p in small.persons if not demo_data.is_rural(p["home_village"])]
    assert sum(p["hukou_type"] in ("20", "21") for p in rural) > 0.8 * len(rural)
    assert sum(p["hukou_type"] in ("10", "11") for p in urban) > 0.8 * len(urban)
    elsewhere = [p for p in small.persons if p["hukou_county"] != p["home_county"]]
    assert 0 < len(elsewhere) < 0.05 * len(small.persons)


def test_units_have_valid_credit_codes(small: Roster) -> None:
    for u in small.units:
        assert re.fullmatch(r"U\d{10}", u["unit_no"])
        assert u["unit_name"] and _parse(UNITS, "unit_type", u["unit_type"]) == u["unit_type"]
        if u["credit_code"]:
            assert check_credit_code(u["credit_code"]) == (u["credit_code"], None)
            assert u["credit_code"][2:8] == u["region_code"][:6]


def test_roster_is_deterministic() -> None:
    assert make_roster(0.01, seed=5, today=TODAY) == make_roster(0.01, seed=5, today=TODAY)
    assert make_roster(0.01, seed=5, today=TODAY) != make_roster(0.01, seed=6, today=TODAY)


# --- Returns --------------------------------------------------------------------------


def _return(roster: Roster, seed: int = 0, mistakes: bool = True, size: int = 150) -> tuple[Return, list[dict[str, str]]]:
    persons, units = _big_village(roster, size)
    return simulate_return(persons, units, random.Random(seed), mistakes=mistakes, today=TODAY), persons


def _problems(row: dict[str, object]) -> set[str]:
    """The mistakes a row shows, judged the way the checks will (one row at a time)."""
    found: set[str] = set()
    if not isinstance(row["id_number"], str):
        found.add("id_as_number")
    elif not check_id(row["id_number"], today=TODAY).ok:
        found.add("bad_id")
    for f in PERSONS.fields:
        if f.codes and row[f.key] != "" and _parse(PERSONS, f.key, row[f.key]) is None:
            found.add("invalid_code")
    if any(row[f.key] == "" for f in PERSONS.fields if f.required):
        found.add("missing_required")
    employment = _parse(PERSONS, "employment", row["employment"])
    if employment == "0" and not row["employer"]:
        found.add("employer_missing")
    if row["pension"] and row["uninsured_reason"]:
        found.add("pension_and_reason")
    if not row["pension"] and not row["uninsured_reason"]:
        found.add("no_pension_no_reason")
    if not (row["mobile"] or row["landline"]) or (row["mobile"] and not MOBILE.match(str(row["mobile"]))):
        found.add("bad_mobile")
    if row["landline"] and not LANDLINE.match(str(row["landline"])):
        found.add("bad_landline")
    if employment == "1" and demo_data.age_on(str(row["birth_date"]), TODAY) >= 6:
        found.add("implausible_age")
    return found


def test_clean_return_is_consistent(full: Roster) -> None:
    ret, roster_rows = _return(full, mistakes=False)
    assert ret.mistakes == []
    by_id = {p["id_number"]: p for p in roster_rows}
    for row in ret.persons:
        assert set(row) == set(PERSONS.keys)
        assert _problems(row) == set(), row
        age = demo_data.age_on(str(row["birth_date"]), TODAY)
        employment = _parse(PERSONS, "employment", row["employment"])
        assert (employment == "1") == (age < 6)
        assert employment != "2" or 6 <= age <= 22
        assert _parse(PERSONS, "uninsured_reason", row["uninsured_reason"]) != "919" or row["reason_other"]
        assert _parse(PERSONS, "identity", row["identity"]) != "90" or row["identity_other"]
        assert row["handler"] != row["reviewer"]
        roster_row = by_id.get(str(row["id_number"]))
        if roster_row is not None:
            assert {k: row[k] for k in roster_row} == roster_row


def test_return_visits_most_and_adds_a_few(full: Roster) -> None:
    ret, roster_rows = _return(full, mistakes=False)
    ids = {p["id_number"] for p in roster_rows}
    visited = [r for r in ret.persons if r["id_number"] in ids]
    new = [r for r in ret.persons if r["id_number"] not in ids]
    assert 0.7 < len(visited) / len(roster_rows) < 1
    assert len(new) <= 5
    for row in new:
        assert row["person_no"] == ""
        assert str(row["id_number"])[:6] == str(row["region_code"])[:6]
    assert len({r["id_number"] for r in ret.persons}) == len(ret.persons)


def test_a_fixed_visit_rate_visits_everyone_or_nobody(full: Roster) -> None:
    persons, units = _big_village(full, 150)
    everyone = simulate_return(persons, units, random.Random(3), mistakes=False, today=TODAY, visit_rate=1.0)
    ids = {p["id_number"] for p in persons}
    assert ids <= {r["id_number"] for r in everyone.persons}
    nobody = simulate_return(persons, units, random.Random(3), mistakes=False, today=TODAY, visit_rate=0.0)
    assert not ids & {r["id_number"] for r in nobody.persons}


def test_clean_return_codes_parse(full: Roster) -> None:
    for code, (persons, units) in list(full.by_village().items())[:60]:
        ret = simulate_return(persons, units, random.Random(code), mistakes=False, today=TODAY)
        for form, rows in ((PERSONS, ret.persons), (UNITS, ret.units)):
            for row in rows:
                for f in form.fields:
                    if f.codes and row[f.key] != "":
                        assert _parse(form, f.key, row[f.key]) is not None, (f.key, row[f.key])


def test_return_units(full: Roster) -> None:
    persons, units = _big_village(full, 50)
    ret = simulate_return(persons, units, random.Random(1), mistakes=False, today=TODAY)
    roster_nos = {u["unit_no"] for u in units}
    for row in ret.units:
        assert set(row) == set(UNITS.keys)
        assert row["unit_no"] in roster_nos or row["unit_no"] == ""
        assert all(row[f.key] for f in UNITS.fields if f.required)
        assert _parse(UNITS, "unit_status", row["unit_status"]) in ("1", "2", "3", "4")
        if row["credit_code"]:
            assert check_credit_code(str(row["credit_code"]))[1] is None


def test_empty_village_returns_nothing() -> None:
    assert simulate_return([], [], random.Random(0)) == Return([], [])


def test_return_is_deterministic(full: Roster) -> None:
    persons, units = _big_village(full)
    one = simulate_return(persons, units, random.Random(9), today=TODAY)
    two = simulate_return(persons, units, random.Random(9), today=TODAY)
    assert one == two


@pytest.mark.parametrize("seed", range(5))
def test_mistakes_are_listed_and_real(full: Roster, seed: int) -> None:
    ret, _ = _return(full, seed=seed)
    listed: dict[int, set[str]] = {}
    for index, kind in ret.mistakes:
        listed.setdefault(index, set()).add(kind)
    assert {kind for _, kind in ret.mistakes} == set(MISTAKE_KINDS)
    seen: set[str] = set()
    for index, row in enumerate(ret.persons):
        expected = listed.get(index, set())
        duplicate = str(row["id_number"]) in seen
        seen.add(str(row["id_number"]))
        assert duplicate == ("duplicate" in expected), index
        assert _problems(row) == expected - {"duplicate"}, (index, row)


def test_mistake_rates_are_low(full: Roster) -> None:
    ret, _ = _return(full, seed=2)
    counts = Counter(kind for _, kind in ret.mistakes)
    assert all(n <= 0.02 * len(ret.persons) + 1 for n in counts.values())


def test_small_villages_may_have_no_mistakes(small: Roster) -> None:
    persons, units = next(v for v in small.by_village().values() if len(v[0]) < 20)
    ret = simulate_return(persons, units, random.Random(0), today=TODAY)
    assert len(ret.mistakes) <= 2
