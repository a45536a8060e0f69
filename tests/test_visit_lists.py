"""Still-to-visit lists: real returns ingested, real workbooks read back with openpyxl."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import openpyxl
import pytest

from engine.demo_data import Roster
from engine.form import PERSONS, UNITS
from engine.pipeline import process_file
from engine.visit_lists import (
    HEADER_ROW,
    PERSON_COLUMNS,
    RETURNED,
    SAME_ADDRESS,
    UNIT_COLUMNS,
    address_key,
    street_of,
    visit_list_path,
    write_visit_lists,
)
from engine.workbook import FIRST_DATA_ROW
from engine.workspace import Workspace
from tests.conftest import busiest_village, fill_like_staff, template_of

TODAY = dt.date(2017, 7, 1)


def _column(label: str, columns: Any = PERSON_COLUMNS) -> int:
    return next(i for i, c in enumerate(columns) if c.label == label)


def _rows(sheet: Any, columns: Any = PERSON_COLUMNS) -> list[tuple[Any, ...]]:
    """The list's data rows (numbered), without title, header and group rows."""
    rows = list(sheet.iter_rows(min_row=HEADER_ROW + 2, values_only=True))
    return [r[:len(columns)] for r in rows if r[0] and str(r[0]).isdigit()]


def _ids(sheet: Any) -> list[str]:
    return [r[_column(PERSONS["id_number"].label)] for r in _rows(sheet)]


def _persons(county_roster: Roster, village: str) -> list[dict[str, str]]:
    return [p for p in county_roster.persons if p["region_code"] == village]


def _filled(sheet: Any, cols: dict[str, int]) -> list[int]:
    """The rows fill_like_staff filled (it signs every row it fills)."""
    return [r for r in range(FIRST_DATA_ROW + 1, sheet.max_row + 1) if sheet.cell(r, cols["handler"]).value]


def test_a_list_holds_exactly_the_persons_not_yet_registered(county: Workspace, county_roster: Roster) -> None:
    village = busiest_village(county_roster)
    persons = _persons(county_roster, village)
    fill_like_staff(template_of(county, village), county.inbox / "r.xlsx", persons, visit=4)
    assert process_file(county, county.inbox / "r.xlsx").count("persons", "accepted") == 4

    paths = write_visit_lists(county, today=TODAY)
    path = visit_list_path(county, village)
    assert path in paths
    assert path.parent == county.village_folder(county.outbox / "待入户名单", village)
    sheet = openpyxl.load_workbook(path)["待入户人员"]
    missing = {m["id_number"] for m in county.store.missing_persons(village)}
    assert len(missing) == len(persons) - 4
    assert sorted(_ids(sheet)) == sorted(missing)
    assert [r[0] for r in _rows(sheet)] == [str(i) for i in range(1, len(missing) + 1)]
    assert all(r[_column("已入户")] == "□" for r in _rows(sheet))

    setup = sheet.page_setup
    assert setup.paperSize == 9 and setup.orientation == "landscape"
    assert sheet.print_title_rows == f"${HEADER_ROW + 1}:${HEADER_ROW + 1}"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert setup.fitToWidth in (None, 1) and setup.fitToHeight == 0
    assert [c.value for c in sheet[HEADER_ROW + 1]][:len(PERSON_COLUMNS)] == [c.label for c in PERSON_COLUMNS]
    assert f"待入户 {len(missing)} 人" in sheet.cell(2, 1).value

    # every other village with a roster is untouched: its whole roster is on its list
    others = {p["region_code"] for p in county_roster.persons} - {village}
    for other in sorted(others)[:5]:
        listed = _ids(openpyxl.load_workbook(visit_list_path(county, other))["待入户人员"])
        assert sorted(listed) == sorted(p["id_number"] for p in _persons(county_roster, other))


def test_persons_are_grouped_by_street_with_neighbours_together(county: Workspace, county_roster: Roster) -> None:
    village = busiest_village(county_roster)
    write_visit_lists(county, today=TODAY)
    sheet = openpyxl.load_workbook(visit_list_path(county, village))["待入户人员"]
    address = _column(PERSONS["home_street"].group)
    group = None
    seen_groups: list[str] = []
    addresses: list[str] = []
    for row in sheet.iter_rows(min_row=HEADER_ROW + 2, values_only=True):
        if row[0] and not str(row[0]).isdigit():            # a group row: '跃进路（3 户，3 人）'
            group = str(row[0]).split("（")[0]
            seen_groups.append(group)
        elif row[0]:
            assert street_of(row[address]) == group
            addresses.append(row[address])
    assert len(seen_groups) == len(set(seen_groups))         # each street once
    for street in seen_groups:
        mine = [a for a in addresses if street_of(a) == street]
        assert mine == sorted(mine, key=address_key)


def test_address_order_reads_house_numbers_and_group_numerals() -> None:
    addresses = ["三组10号", "十组1号", "三组9号", "二组5号", "十二组3号", "淮海路99号2栋1单元101室", "淮海路100号"]
    assert sorted(addresses, key=address_key) == [
        "二组5号", "三组9号", "三组10号", "十组1号", "十二组3号", "淮海路99号2栋1单元101室", "淮海路100号"]
    assert street_of("三组10号") == "三组" and street_of("淮海路99号2栋") == "淮海路"


def test_a_village_with_nothing_left_loses_its_stale_list(county: Workspace, county_roster: Roster) -> None:
    with_units = {u["region_code"] for u in county_roster.units}
    village = next(v for v in sorted({p["region_code"] for p in county_roster.persons}) if v not in with_units)
    persons = _persons(county_roster, village)
    write_visit_lists(county, today=TODAY)
    stale = visit_list_path(county, village)
    assert stale.exists()
    keep = stale.with_name("说明.txt")
    keep.write_text("村里自己的文件", encoding="utf-8")

    fill_like_staff(template_of(county, village), county.inbox / "all.xlsx", persons, visit=len(persons))
    process_file(county, county.inbox / "all.xlsx")
    assert county.store.missing_persons(village) == []
    paths = write_visit_lists(county, today=TODAY)
    assert not stale.exists() and stale not in paths
    assert keep.exists()                                       # only lists are removed
    assert not list((county.outbox / "待入户名单").rglob("*.tmp"))


def test_phones_come_from_earlier_records_and_the_same_address(county: Workspace, county_roster: Roster) -> None:
    village = busiest_village(county_roster)
    persons = county.store.roster("persons", village)
    neighbour = persons[-1]                                     # never visited
    filled: list[str] = []

    def share_address(sheet: Any, cols: dict[str, int]) -> None:
        rows = _filled(sheet, cols)
        filled[:] = [sheet.cell(r, cols["id_number"]).value for r in rows]
        sheet.cell(rows[0], cols["home_street"]).value = neighbour["home_street"]
        sheet.cell(rows[0], cols["mobile"]).value = "13905610001"
        sheet.cell(rows[0], cols["landline"]).value = None

    fill_like_staff(template_of(county, village), county.inbox / "a.xlsx", persons, visit=3, edit=share_address)
    assert process_file(county, county.inbox / "a.xlsx").count("persons", "accepted") == 3
    withdrawn = filled[2]
    fill_like_staff(template_of(county, village), county.inbox / "b.xlsx", persons, visit=2, edit=share_address)
    process_file(county, county.inbox / "b.xlsx")                # the full return leaves the third out
    assert neighbour["id_number"] not in filled
    assert withdrawn in {m["id_number"] for m in county.store.missing_persons(village)}
    earlier = county.store.db.execute("SELECT mobile, landline FROM person_versions WHERE id_number = ? "
                                      "ORDER BY version_id DESC", (withdrawn,)).fetchone()

    write_visit_lists(county, today=TODAY)
    rows = _rows(openpyxl.load_workbook(visit_list_path(county, village))["待入户人员"])
    phone_of = {r[_column(PERSONS["id_number"].label)]: r[_column(UNITS["contact_phone"].label)] for r in rows}
    assert phone_of[withdrawn] == " / ".join(p for p in earlier if p)
    assert phone_of[neighbour["id_number"]] == "13905610001" + SAME_ADDRESS


def test_returned_persons_are_listed_as_such(county: Workspace, county_roster: Roster) -> None:
    village = busiest_village(county_roster)
    persons = _persons(county_roster, village)
    filled: list[str] = []

    def no_handler(sheet: Any, cols: dict[str, int]) -> None:
        rows = _filled(sheet, cols)
        filled[:] = [sheet.cell(r, cols["id_number"]).value for r in rows]
        sheet.cell(rows[0], cols["handler"]).value = None

    fill_like_staff(template_of(county, village), county.inbox / "r.xlsx", persons, visit=2, edit=no_handler)
    process_file(county, county.inbox / "r.xlsx")
    write_visit_lists(county, today=TODAY)
    rows = _rows(openpyxl.load_workbook(visit_list_path(county, village))["待入户人员"])
    status = {r[_column(PERSONS["id_number"].label)]: r[_column("状态")] for r in rows}
    assert status[filled[0]] == RETURNED
    assert filled[1] not in status
    assert sum(s == RETURNED for s in status.values()) == 1


def test_units_not_yet_seen_are_listed(county: Workspace, county_roster: Roster) -> None:
    village = county_roster.units[0]["region_code"]
    write_visit_lists(county, today=TODAY)
    book = openpyxl.load_workbook(visit_list_path(county, village))
    rows = _rows(book["待入户单位"], UNIT_COLUMNS)
    names = [r[_column(UNITS["unit_name"].label, UNIT_COLUMNS)] for r in rows]
    assert sorted(names) == sorted(u["unit_name"] for u in county_roster.units if u["region_code"] == village)
    assert book["待入户单位"].page_setup.orientation == "landscape"


def test_the_log_carries_no_personal_data(county: Workspace, county_roster: Roster,
                                          caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="canbao"):
        write_visit_lists(county, today=TODAY)
    logged = caplog.text
    assert "visit list" in logged
    assert not any(p["id_number"] in logged or p["name"] in logged for p in county_roster.persons)


def test_one_village_can_be_refreshed_alone(county: Workspace, county_roster: Roster) -> None:
    village = busiest_village(county_roster)
    assert write_visit_lists(county, village, today=TODAY) == [visit_list_path(county, village)]
    assert [p.name for p in (county.outbox / "待入户名单").rglob("*.xlsx")] == [visit_list_path(county, village).name]
