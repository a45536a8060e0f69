"""What the templates' dropdowns offer: the code lists and the cascading place lists.

Each list is a row of the hidden sheet 代码表 behind a defined name. A code column's
dropdown is its list's name (代码_养老保险). Place columns cascade: 户口所在地 省 -> 市 -> 县
for all of China (`engine.places`), and 常住地 省 -> 市 -> 县 -> 乡镇 -> 村, the last two
within 淮北. A place list's name is its level and the names chosen above it (市_安徽省,
县_安徽省_淮北市, 乡镇_濉溪县, 村_濉溪县_濉溪镇); a dependent column's dropdown is
=INDIRECT("市_"&$N4) (guarded by IF while $N4 is empty), which Excel, WPS and
LibreOffice all honour. A name typed that is
not in the list (abroad, a place since renamed) brings a warning, not a stop.

Which columns are places, and of which level, is the form's (`Field.place`); how the
lists are keyed is here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from engine import regions
from engine.form import CODE_LISTS, Field, Form, PlaceLevel
from engine.places import china_places

PROVINCE, CITY, COUNTY, TOWN, VILLAGE = "省", "市", "县", "乡镇", "村"
ALL = "全部"          # the province list: 省_全部
HUAIBEI = "340600"    # 常住地 乡镇 and 村 are listed for its counties
_NOT_IN_NAME = re.compile(r"[^\w.]")   # Excel names: letters (CJK too), digits, _ and .


@dataclass(frozen=True)
class Cascade:
    level: PlaceLevel
    parents: tuple[str, ...]    # the fields whose values, in order, choose the list

    def source(self, refs: Mapping[str, str]) -> str:
        """The data validation's list source for the first data row. While a column it
        depends on is empty the list is that empty cell (one blank entry), not #REF!."""
        if not self.parents:
            return f"={list_name(self.level, ())}"
        keys = '&"_"&'.join(name_part_formula(refs[k]) for k in self.parents)
        formula = f'INDIRECT("{self.level}_"&{keys})'
        for k in reversed(self.parents):
            formula = f'IF({refs[k]}="",{refs[k]},{formula})'
        return f"={formula}"

    def alert(self, f: Field) -> str:
        """The warning on a typed name not in the list (Excel and WPS offer 是/否/取消,
        LibreOffice 确定/取消)."""
        first = "请先选好左侧各级，再从列表中选择；" if self.parents else "请从列表中选择；"
        return (f"“{f.label}”不在下拉列表中。{first}列表中没有的地名（如境外）可以保留："
                "Excel、WPS 中选“是”，LibreOffice 中选“确定”。")


@cache
def cascades(form: Form) -> dict[str, Cascade]:
    """The form's place columns and the columns that choose each one's list: the places
    above it in its address, from the county down for 乡镇 and 村 (listed per county)."""
    out: dict[str, Cascade] = {}
    for f in form.fields:
        if f.place is None:
            continue
        above = [g for g in form.fields[:form.fields.index(f)] if g.group == f.group and g.place]
        if f.place in (TOWN, VILLAGE):
            above = [g for g in above if g.place not in (PROVINCE, CITY)]
        out[f.key] = Cascade(f.place, tuple(g.key for g in above))
    return out


def list_name(level: str, chosen: Sequence[str]) -> str:
    """The defined name of the list of `level` under the places `chosen` above it."""
    name = "_".join((level, *(_NOT_IN_NAME.sub("_", c) for c in chosen or (ALL,))))
    if len(name) > 255:
        raise ValueError(f"list name too long: {name}")
    return name


def name_part_formula(ref: str, characters: Iterable[str] | None = None) -> str:
    """`ref` as its part of a list name: the characters `list_name` replaces (of those that
    occur in place names, or `characters`), replaced by SUBSTITUTE."""
    for ch in sorted(_unnamable_characters() if characters is None else characters):
        ref = f'SUBSTITUTE({ref},"{ch}","_")'
    return ref


@cache
def _unnamable_characters() -> frozenset[str]:
    return frozenset(ch for _, entries in place_lists() for name in entries for ch in name
                     if _NOT_IN_NAME.match(ch))


@cache
def place_lists() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Every list of the cascades, (defined name, entries)."""
    china = china_places()
    lists = [(list_name(PROVINCE, ()), tuple(china))]
    lists += [(list_name(CITY, (p,)), tuple(cities)) for p, cities in china.items()]
    lists += [(list_name(COUNTY, (p, c)), counties) for p, cities in china.items() for c, counties in cities.items()]
    table = regions.load()
    for county in table.sub_regions(HUAIBEI):
        towns = table.sub_regions(county.code)
        lists.append((list_name(TOWN, (county.name,)), tuple(t.name for t in towns)))
        lists += [(list_name(VILLAGE, (county.name, t.name)), tuple(v.name for v in table.sub_regions(t.code)))
                  for t in towns]
    lists = [(name, entries) for name, entries in lists if entries]
    if len({name.casefold() for name, _ in lists}) != len(lists):
        raise ValueError("two place lists have the same name")
    return tuple(lists)


def code_list_name(name: str) -> str:
    """The defined name of a code list: 代码_养老保险."""
    return f"代码_{name}"


def dropdown_lists() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Every list a dropdown offers, (defined name, entries), in the order of 代码表's rows:
    the code lists ('11 城镇职工基本养老保险'...), then the place lists."""
    codes = tuple((code_list_name(cl.name), tuple(c.entry for c in cl.codes)) for cl in CODE_LISTS.values())
    return codes + place_lists()
