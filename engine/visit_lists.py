"""Still-to-visit lists (待入户名单): who on the roster the village has not registered yet.

outbox/待入户名单/<县区>/<乡镇>/<村社区>.xlsx, one per village with anything left: its
roster persons with no accepted record (not visited, or returned with errors and not
yet corrected) and its roster units with no accepted record. Persons are grouped by
street or 组 and sorted by house number, so that neighbours stand together and one
walk covers them; each row has the full ID (the list goes to the village's own staff),
the phone of the person's earlier record or else of someone registered at the same
address, and a □ 已入户 box for the field worker. A village with nothing left gets no
list, and its list from an earlier run is removed.

The queries are here, read-only and in portable SQL, against the store's tables. The
lists carry personal data; the log carries counts only.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path
from typing import Any

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from engine import regions
from engine.atomic import atomic_workbook
from engine.form import CODE_LISTS, PERSONS, UNITS
from engine.parallel import run_all
from engine.workspace import Workspace

log = logging.getLogger("canbao.visit_lists")

FOLDER = "待入户名单"
A4 = 9
NOT_VISITED, RETURNED = "未登记", "退回待改"
SAME_ADDRESS = "（同址）"
UNKNOWN_ADDRESS = "地址不详"
CHECKBOX = "□"

# -- queries (read-only, portable SQL) -----------------------------------------------------

_NOT_REGISTERED = "NOT EXISTS (SELECT 1 FROM persons p WHERE p.id_number = r.id_number)"
_UNIT_NOT_SEEN = "NOT EXISTS (SELECT 1 FROM units u WHERE u.unit_key = r.unit_key)"

OPEN_PERSONS_BY_VILLAGE = (f"SELECT r.region_code, COUNT(*) FROM roster_persons r "
                           f"WHERE r.region_code LIKE ? AND {_NOT_REGISTERED} GROUP BY r.region_code")
OPEN_UNITS_BY_VILLAGE = (f"SELECT r.region_code, COUNT(*) FROM roster_units r "
                         f"WHERE r.region_code LIKE ? AND {_UNIT_NOT_SEEN} GROUP BY r.region_code")
ROSTER_COUNTS = ("SELECT (SELECT COUNT(*) FROM roster_persons WHERE region_code = ?), "
                 "(SELECT COUNT(*) FROM roster_units WHERE region_code = ?)")
OPEN_PERSONS = (
    "SELECT r.person_no, r.id_number, r.name, r.sex, r.birth_date, r.home_street, "
    "CASE WHEN EXISTS (SELECT 1 FROM pending q WHERE q.kind = 'persons' AND q.row_key = r.id_number) "
    "THEN 1 ELSE 0 END "
    f"FROM roster_persons r WHERE r.region_code = ? AND {_NOT_REGISTERED}")
OPEN_UNITS = (
    "SELECT r.unit_key, r.unit_no, r.credit_code, r.unit_name, r.unit_type, "
    "CASE WHEN EXISTS (SELECT 1 FROM pending q WHERE q.kind = 'units' AND q.row_key = r.unit_key) "
    "THEN 1 ELSE 0 END "
    f"FROM roster_units r WHERE r.region_code = ? AND {_UNIT_NOT_SEEN}")
# Phones of earlier (withdrawn or superseded) records of the village's roster persons, oldest first.
EARLIER_PHONES = (
    "SELECT v.id_number, v.mobile, v.landline FROM person_versions v "
    "JOIN roster_persons r ON r.id_number = v.id_number "
    "WHERE r.region_code = ? AND (v.mobile IS NOT NULL OR v.landline IS NOT NULL) ORDER BY v.version_id")
# Phones of persons registered in the village, by address, oldest first.
ADDRESS_PHONES = (
    "SELECT p.home_street, p.mobile, p.landline FROM persons p "
    "WHERE p.region_code = ? AND p.home_street IS NOT NULL "
    "AND (p.mobile IS NOT NULL OR p.landline IS NOT NULL) ORDER BY p.updated_at")
EARLIER_UNITS = (
    "SELECT v.unit_key, v.address, v.contact_phone FROM unit_versions v "
    "JOIN roster_units r ON r.unit_key = v.unit_key "
    "WHERE r.region_code = ? AND (v.address IS NOT NULL OR v.contact_phone IS NOT NULL) "
    "ORDER BY v.version_id")


@dataclass
class OpenPerson:
    person_no: str
    id_number: str
    name: str
    sex: str
    birth_date: str
    address: str
    returned: bool
    phone: str = ""


@dataclass
class OpenUnit:
    unit_no: str
    credit_code: str
    unit_name: str
    unit_type: str
    returned: bool
    address: str = ""
    phone: str = ""


@dataclass
class VillageList:
    """What is left to do in one village, read from the store."""

    code: str
    roster_persons: int
    roster_units: int
    persons: list[OpenPerson] = field(default_factory=list)
    units: list[OpenUnit] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.persons and not self.units


def _phone(mobile: str | None, landline: str | None) -> str:
    return " / ".join(p for p in (mobile, landline) if p)


def read_village(db: sqlite3.Connection, code: str) -> VillageList:
    """The village's open persons (by address) and units (by type), with the phones known."""
    total_persons, total_units = db.execute(ROSTER_COUNTS, (code, code)).fetchone()
    village = VillageList(code, total_persons, total_units)
    own = {number: _phone(m, f) for number, m, f in db.execute(EARLIER_PHONES, (code,))}
    at_address = {street: _phone(m, f) for street, m, f in db.execute(ADDRESS_PHONES, (code,))}
    for no, number, name, sex, birth, street, returned in db.execute(OPEN_PERSONS, (code,)):
        person = OpenPerson(no or "", number or "", name or "", sex or "", birth or "", street or "", bool(returned))
        person.phone = own.get(person.id_number) or (
            at_address[person.address] + SAME_ADDRESS if person.address in at_address else "")
        village.persons.append(person)
    village.persons.sort(key=lambda p: (not p.address, address_key(p.address), p.person_no))
    earlier = {key: (address or "", phone or "") for key, address, phone in db.execute(EARLIER_UNITS, (code,))}
    for key, no, credit, name, kind, returned in db.execute(OPEN_UNITS, (code,)):
        address, phone = earlier.get(key, ("", ""))
        village.units.append(OpenUnit(no or "", credit or "", name or "", kind or "", bool(returned), address, phone))
    village.units.sort(key=lambda u: (u.unit_type, address_key(u.address), u.unit_name))
    return village


# -- addresses: neighbours together --------------------------------------------------------

_CN_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")}
_CN_NUMBER = re.compile(r"[〇一二三四五六七八九十]{1,3}")
_NUMBER = re.compile(r"(\d+)")


def _cn_value(text: str) -> int:
    """'三' 3, '十二' 12, '二十' 20, '二十三' 23: the numbers of 组 and 队."""
    if "十" not in text:
        value = 0
        for ch in text:
            value = value * 10 + _CN_DIGITS[ch]
        return value
    tens, _, units = text.partition("十")
    return (_CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (_CN_DIGITS.get(units, 0) if units else 0)


def address_key(address: str) -> tuple[Any, ...]:
    """Sort key that puts '三组9号' before '三组10号' and '二组' before '十组'."""
    text = _CN_NUMBER.sub(lambda m: str(_cn_value(m.group())), address)
    return tuple(int(t) if t.isdigit() else t for t in _NUMBER.split(text))


def street_of(address: str) -> str:
    """The street, road or 组 of an address: what comes before its first number."""
    if not address:
        return UNKNOWN_ADDRESS
    head = _NUMBER.split(address)[0]
    return head or address


# -- writing -------------------------------------------------------------------------------


def visit_list_path(ws: Workspace, village_code: str) -> Path:
    name = regions.load().by_code[village_code].name
    return ws.village_folder(ws.outbox / FOLDER, village_code) / f"{name}.xlsx"


def write_visit_lists(ws: Workspace, region_code: str | None = None, *, today: dt.date | None = None,
                      progress: Callable[[int, int], None] | None = None) -> list[Path]:
    """A list for every village of the region with persons or units left; stale lists removed."""
    within = ws.within(region_code)
    villages = [village.code for village in regions.load().villages(within.code)]
    return _write_lists(ws, villages, _open_villages(ws, within.prefix), today, progress)


def write_village_lists(ws: Workspace, codes: Iterable[str], *, today: dt.date | None = None) -> list[Path]:
    """The lists of these villages only (a watcher's refresh writes a few at a time): written
    for those with persons or units left, removed for the others."""
    villages = sorted(set(codes))
    open_villages: set[str] = set()
    for code in villages:
        open_villages |= _open_villages(ws, ws.within(code).prefix)
    return _write_lists(ws, villages, open_villages, today, None)


def _open_villages(ws: Workspace, prefix: str) -> set[str]:
    like = (prefix + "%",)
    open_villages = {code for code, _ in ws.store.db.execute(OPEN_PERSONS_BY_VILLAGE, like)}
    return open_villages | {code for code, _ in ws.store.db.execute(OPEN_UNITS_BY_VILLAGE, like)}


def _write_lists(ws: Workspace, villages: list[str], open_villages: set[str], today: dt.date | None,
                 progress: Callable[[int, int], None] | None) -> list[Path]:
    for code in villages:
        stale = visit_list_path(ws, code)
        if code not in open_villages and stale.exists():
            stale.unlink()
            log.info("visit list removed: %s has nothing left", code)
    day = (today or dt.date.today()).isoformat()
    jobs = [(str(ws.root), code, day) for code in sorted(open_villages)]
    written = run_all(_write_job, jobs, progress)
    for code, (_, persons, units) in zip(sorted(open_villages), written, strict=True):
        log.info("visit list %s: %d persons, %d units left", code, persons, units)
    return [path for path, _, _ in written]


def _write_job(job: tuple[str, str, str]) -> tuple[Path, int, int]:
    """One village's list; runs in a worker process with its own store connection."""
    root, code, day = job
    ws = Workspace(Path(root))
    try:
        village = read_village(ws.store.db, code)
        path = write_village_list(village, visit_list_path(ws, code), dt.date.fromisoformat(day))
        return path, len(village.persons), len(village.units)
    finally:
        ws.close()


def write_village_list(village: VillageList, path: Path, today: dt.date) -> Path:
    with atomic_workbook(path, {"in_memory": True}) as book:
        styles = _Styles(book)
        if village.persons or not village.units:
            _persons_sheet(book.add_worksheet("待入户人员"), styles, village, today)
        if village.units:
            _units_sheet(book.add_worksheet("待入户单位"), styles, village, today)
    return path




@dataclass(frozen=True)
class Column:
    label: str
    width: float
    style: str = "cell"


PHONE = UNITS["contact_phone"].label
PERSON_COLUMNS = (
    Column("序号", 5, "center"), Column(PERSONS["person_no"].label, 13), Column(PERSONS["name"].label, 9),
    Column(PERSONS["sex"].label, 5, "center"), Column(PERSONS["birth_date"].label, 11, "center"),
    Column("年龄", 5, "center"), Column(PERSONS["id_number"].label, 20), Column(PERSONS["home_street"].group, 30),
    Column(PHONE, 22), Column("状态", 9, "center"), Column("已入户", 7, "box"), Column(PERSONS["remark"].label, 22),
)
UNIT_COLUMNS = (
    Column("序号", 5, "center"), Column(UNITS["unit_no"].label, 13), Column(UNITS["credit_code"].label, 21),
    Column(UNITS["unit_name"].label, 32), Column(UNITS["unit_type"].label, 14), Column(UNITS["address"].label, 26),
    Column(PHONE, 16), Column("状态", 9, "center"), Column("已入户", 7, "box"), Column(UNITS["remark"].label, 22),
)
HEADER_ROW = 2


def age_on(birth_date: str, today: dt.date) -> int | None:
    try:
        born = dt.date.fromisoformat(birth_date)
    except ValueError:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _persons_sheet(sheet: Worksheet, styles: _Styles, village: VillageList, today: dt.date) -> None:
    returned = sum(p.returned for p in village.persons)
    counts = (f"名册 {village.roster_persons:,} 人，已登记 {village.roster_persons - len(village.persons):,} 人，"
              f"待入户 {len(village.persons):,} 人（其中{RETURNED} {returned:,} 人）")
    _head(sheet, styles, village.code, "待入户人员名单", counts, PERSON_COLUMNS, today)
    sexes = CODE_LISTS["性别"].labels
    r = HEADER_ROW + 1
    n = 0
    for street, members in groupby(village.persons, key=lambda p: street_of(p.address)):
        group = list(members)
        homes = len({p.address for p in group})
        r = _group_row(sheet, styles, r, f"{street}（{homes} 户，{len(group)} 人）", len(PERSON_COLUMNS))
        for p in group:
            n += 1
            age = age_on(p.birth_date, today)
            _row(sheet, styles, r, PERSON_COLUMNS, (
                str(n), p.person_no, p.name, sexes.get(p.sex, p.sex), p.birth_date, "" if age is None else str(age),
                p.id_number, p.address, p.phone, RETURNED if p.returned else NOT_VISITED, CHECKBOX, ""))
            r += 1
    _page_setup(sheet, village.code, PERSON_COLUMNS, r - 1, today)


def _units_sheet(sheet: Worksheet, styles: _Styles, village: VillageList, today: dt.date) -> None:
    returned = sum(u.returned for u in village.units)
    counts = (f"名册 {village.roster_units:,} 个，已登记 {village.roster_units - len(village.units):,} 个，"
              f"待入户 {len(village.units):,} 个（其中{RETURNED} {returned:,} 个）")
    _head(sheet, styles, village.code, "待入户单位名单", counts, UNIT_COLUMNS, today)
    types = CODE_LISTS["单位类型"].labels
    r = HEADER_ROW + 1
    n = 0
    for kind, members in groupby(village.units, key=lambda u: u.unit_type):
        group = list(members)
        r = _group_row(sheet, styles, r, f"{types.get(kind, kind or '类型不详')}（{len(group)} 个）", len(UNIT_COLUMNS))
        for u in group:
            n += 1
            _row(sheet, styles, r, UNIT_COLUMNS, (
                str(n), u.unit_no, u.credit_code, u.unit_name, types.get(u.unit_type, u.unit_type), u.address,
                u.phone, RETURNED if u.returned else NOT_VISITED, CHECKBOX, ""))
            r += 1
    _page_setup(sheet, village.code, UNIT_COLUMNS, r - 1, today)


def _head(sheet: Worksheet, styles: _Styles, code: str, what: str, counts: str,
          columns: Sequence[Column], today: dt.date) -> None:
    last = len(columns) - 1
    names = regions.load().path_names(code)
    sheet.merge_range(0, 0, 0, last, f"{names[-1]} {what}", styles.title)
    sheet.set_row(0, 30)
    sheet.merge_range(1, 0, 1, last, f"{'　'.join(names)}（{code}）　截至 {today.isoformat()}　{counts}",
                      styles.subtitle)
    sheet.set_row(1, 20)
    for c, column in enumerate(columns):
        sheet.set_column(c, c, column.width)
        sheet.write_string(HEADER_ROW, c, column.label, styles.header)
    sheet.set_row(HEADER_ROW, 22)
    sheet.set_default_row(20)        # every list row: room to tick the box and write a note
    sheet.freeze_panes(HEADER_ROW + 1, 0)


def _group_row(sheet: Worksheet, styles: _Styles, r: int, text: str, width: int) -> int:
    sheet.merge_range(r, 0, r, width - 1, text, styles.group)
    return r + 1


def _row(sheet: Worksheet, styles: _Styles, r: int, columns: Sequence[Column], values: Iterable[str]) -> None:
    for c, (column, value) in enumerate(zip(columns, values, strict=True)):
        sheet.write_string(r, c, value, styles.cells[column.style])


def _page_setup(sheet: Worksheet, code: str, columns: Sequence[Column], last_row: int, today: dt.date) -> None:
    sheet.set_paper(A4)
    sheet.set_landscape()
    sheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    sheet.center_horizontally()
    sheet.repeat_rows(HEADER_ROW)
    sheet.print_area(0, 0, max(last_row, HEADER_ROW), len(columns) - 1)
    sheet.fit_to_pages(1, 0)
    where = "　".join(regions.load().path_names(code)).replace("&", "&&")
    sheet.set_header(f"&L&9{where}&R&9截至 {today.isoformat()}")
    sheet.set_footer("&C&9第 &P 页 共 &N 页")


class _Styles:
    def __init__(self, book: Workbook) -> None:
        base: dict[str, Any] = {"font_name": "宋体", "font_size": 10, "valign": "vcenter"}
        cell: Mapping[str, Any] = {**base, "border": 1, "num_format": "@"}
        self.title = book.add_format({**base, "bold": True, "font_size": 16, "align": "center"})
        self.subtitle = book.add_format({**base, "align": "left"})
        self.header = book.add_format({**base, "bold": True, "border": 1, "align": "center", "bg_color": "#F2F2F2",
                                       "text_wrap": True})
        self.group = book.add_format({**base, "bold": True, "border": 1, "bg_color": "#DDEBF7", "indent": 1})
        self.cells = {
            "cell": book.add_format({**cell, "shrink": True}),
            "center": book.add_format({**cell, "align": "center"}),
            "box": book.add_format({**cell, "align": "center", "font_size": 14}),
        }
