"""Synthetic data for `canbao demo`: a 淮北 roster and the villages' filled-in returns.

Pure and deterministic: every function takes its randomness from a `random.Random`
(seeded by the caller), none reads or writes files. Two steps:

- `make_roster(scale, seed)`: the 入户调查对象名册 of the whole city, with the notice's
  task per county (exactly, at scale 1.0) spread unevenly over the real villages.
- `simulate_return(persons, units, rng)`: one village's template as staff fill it in:
  most roster persons visited, a few new persons, and (optionally) the realistic
  mistakes the checks must catch, listed in `Return.mistakes`.

Ages are counted against `today` (default: the current date), so that the checks, which
judge age plausibility against the current date, agree with the data.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from bisect import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from itertools import accumulate
from operator import mul
from typing import TypeVar

from engine import regions
from engine.form import CODE_LISTS, PERSONS, UNITS
from engine.identifiers import credit_check_char, region_names

T = TypeVar("T")
Row = dict[str, str]
Cell = dict[str, object]


@dataclass
class Roster:
    """The 入户调查对象名册: rows keyed by PERSONS / UNITS field keys, values as text."""

    persons: list[Row]
    units: list[Row]

    def by_village(self) -> dict[str, tuple[list[Row], list[Row]]]:
        """Village code -> (its persons, its units), villages in code order."""
        out: dict[str, tuple[list[Row], list[Row]]] = {}
        for kind, rows in ((0, self.persons), (1, self.units)):
            for row in rows:
                out.setdefault(row["region_code"], ([], []))[kind].append(row)
        return dict(sorted(out.items()))


@dataclass
class Return:
    """One village's filled-in template: rows keyed by field keys, values as cell values.

    `mistakes` lists (index into `persons`, kind) for every injected mistake; kinds are
    those of MISTAKE_KINDS.
    """

    persons: list[Cell]
    units: list[Cell]
    mistakes: list[tuple[int, str]] = field(default_factory=list)


MISTAKE_KINDS = (
    "id_as_number",          # a new person's ID typed without text format: a float
    "invalid_code",          # a pasted value outside the code list ('16', '城镇养老')
    "missing_required",      # handler or hukou_type left empty
    "employer_missing",      # employment 0 without 工作单位名称
    "pension_and_reason",    # a pension and an uninsured reason together
    "no_pension_no_reason",  # neither a pension nor an uninsured reason
    "duplicate",             # the same person entered twice
    "bad_mobile",            # a 10-digit mobile number
    "implausible_age",       # '1 学龄前' for an adult
)

Table = tuple[tuple[str, ...], tuple[float, ...]]


def _table(*pairs: tuple[str, float]) -> Table:
    """Codes and their cumulative weights, for `_pick`."""
    return tuple(p[0] for p in pairs), tuple(accumulate(p[1] for p in pairs))


def _pick(rng: random.Random, table: Table) -> str:
    return table[0][bisect(table[1], rng.random() * table[1][-1])]


def _one(rng: random.Random, items: Sequence[T]) -> T:
    """rng.choice, without its overhead: this runs a million times for the full roster."""
    return items[int(rng.random() * len(items))]


# --- Reference tables --------------------------------------------------------------

_SURNAMES = (
    ("王", 71), ("李", 70), ("张", 68), ("刘", 54), ("陈", 46), ("杨", 31), ("赵", 23),
    ("黄", 22), ("周", 21), ("吴", 20), ("徐", 17), ("孙", 15), ("胡", 13), ("朱", 13),
    ("高", 12), ("林", 8), ("何", 9), ("郭", 12), ("马", 11), ("罗", 6), ("梁", 6),
    ("宋", 8), ("郑", 8), ("谢", 5), ("韩", 8), ("唐", 5), ("冯", 6), ("于", 6), ("董", 6),
    ("程", 6), ("曹", 6), ("袁", 5), ("邓", 4), ("许", 6), ("沈", 3), ("彭", 4), ("吕", 5),
    ("苏", 4), ("卢", 4), ("蒋", 4), ("蔡", 4), ("贾", 5), ("丁", 5), ("魏", 5), ("薛", 4),
    ("任", 5), ("邵", 3), ("闫", 4), ("葛", 3), ("岳", 3), ("段", 3), ("孟", 4), ("侯", 3),
)
_SURNAME_TABLE = _table(*_SURNAMES)
_MALE_CHARS = "伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波宇浩凯健俊帆旭宁龙林阳建国志文斌海峰东亮成兵德松永春坤振家子轩博睿"
_FEMALE_CHARS = "芳娜敏静丽艳娟霞秀英玲桂兰萍红梅琳雪婷洁燕颖倩慧丹萱怡佳欣悦诗雨晨玉凤莉琪涵"

# Relative weight of each age 0..95: five-year bands of a 2010s county population.
_AGE_BANDS = (5.5, 5.5, 5.0, 5.5, 7.0, 8.0, 7.5, 6.5, 7.5, 8.5, 8.0, 6.0, 5.5, 4.5, 3.0,
              2.2, 1.5, 0.8, 0.25)
_AGE_CUM = tuple(accumulate(_AGE_BANDS[min(age // 5, len(_AGE_BANDS) - 1)] for age in range(96)))

# Where people born (or registered) outside 淮北 come from: neighbouring counties.
_ORIGINS = ("340102", "340121", "340321", "340421", "341302", "341321", "341322", "341323",
            "341324", "341602", "341621", "341622", "341221", "320312", "320321", "320322",
            "320324", "411421", "411424", "411426", "411481", "371321")
_COUNTIES = ("340621", "340603", "340602", "340604")

_CN_NUMBERS = "一二三四五六七八九十"
_ROADS = ("人民路", "淮海路", "相山路", "孟山路", "古城路", "惠黎路", "南黎路", "梧桐路", "长山路",
          "濉溪路", "沱河路", "淮海中路", "北海路", "东山路", "杜集路", "烈山路", "濉河路", "健康路",
          "跃进路", "龙山路", "桓谭路", "长征路", "滨河路", "翠峰路")
_COMMITTEE_SUFFIXES = (
    ("社区居民委员会", "社区"), ("社区居民居委会", "社区"), ("社区居委会", "社区"),
    ("村村民委员会", "村"), ("村民委员会", "村"), ("村村委会", "村"), ("村委会", "村"),
    ("居民委员会", "社区"), ("居委会", "社区"),
)

# Unit names: 字号, trades and shops.
_BRANDS = ("恒信", "鑫源", "宏达", "华盛", "金鼎", "瑞丰", "万通", "隆昌", "永安", "兴旺", "天润",
           "东升", "富民", "利华", "顺达", "嘉禾", "昌盛", "诚信", "宏图", "泰和", "金泰", "盛源",
           "德润", "海川", "明辉", "正阳", "安泰", "祥瑞", "聚鑫", "博远", "汇通", "新城", "宏远",
           "康达", "益民", "众诚", "和顺", "润泽", "佳禾", "龙腾", "金石", "锦绣", "同力", "春晖",
           "华泰", "鼎盛", "中兴", "远航", "信达", "皖淮", "相城", "濉河", "乐康", "百川", "宜民")
_TRADES = ("商贸", "建材", "建筑工程", "物流", "食品", "农业科技", "机械制造", "矿山设备", "电子科技",
           "服装", "餐饮管理", "物业管理", "房地产开发", "劳务", "运输", "纺织", "化工", "汽车销售",
           "环保科技", "酒业", "家具", "印刷", "医药", "装饰工程", "信息技术", "煤炭销售", "新材料")
_FACTORIES = ("建材厂", "面粉厂", "砖厂", "机械厂", "塑料制品厂", "纸箱厂", "食品厂", "木材加工厂",
              "预制构件厂", "饲料厂", "服装厂", "酒厂")
_SHOPS = ("超市", "便利店", "五金店", "饭店", "理发店", "农资店", "服装店", "手机店", "汽修部", "药店",
          "水果店", "烟酒店", "家电城", "建材门市部", "早餐店", "副食店")
_FARMS = ("种植专业合作社", "养殖专业合作社", "果蔬专业合作社", "农机专业合作社")
_BUREAUS = ("财政所", "派出所", "司法所", "国土资源所", "农业技术推广站", "水利站", "文化站",
            "劳动保障事务所", "计划生育服务站", "畜牧兽医站")
_PUBLIC = ("中心学校", "卫生院", "中心幼儿园", "初级中学", "敬老院")

# 单位类型 of roster units, with the credit code's first two characters (GB 32100).
_UNIT_TYPES = (("10", 58, "91"), ("60", 22, "92"), ("21", 3, "12"), ("22", 1, "12"),
               ("23", 1, "12"), ("30", 2, "11"), ("40", 2, "51"), ("50", 4, "52"),
               ("70", 1, "12"), ("99", 1, "Y1"))  # 10 also holds 合作社 (93), below

# --- Small helpers ------------------------------------------------------------------


def _digits(rng: random.Random, n: int) -> str:
    return f"{int(rng.random() * 10**n):0{n}d}"


def _mobile(rng: random.Random) -> str:
    return "1" + _one(rng, "3456789") + _digits(rng, 9)


def _landline(rng: random.Random) -> str:
    return f"0561-{rng.randrange(2_000_000, 10_000_000)}"


def _name(rng: random.Random, male: bool) -> str:
    pool = _MALE_CHARS if male else _FEMALE_CHARS
    given = _one(rng, pool) if rng.random() < 0.3 else _one(rng, pool) + _one(rng, pool)
    return _pick(rng, _SURNAME_TABLE) + given


def short_village(name: str) -> str:
    """A village's everyday name: '铚城村村民委员会' -> '铚城村', '春秋社区居民委员会' -> '春秋社区'."""
    for suffix, repl in _COMMITTEE_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)] + repl
    return name


def is_rural(village_name: str) -> bool:
    """A 村 (name ends 村委会/村民委员会) rather than a 社区/居委会 or a farm's 生活区."""
    return village_name.endswith(("村委会", "村民委员会"))


def age_on(birth_date: str, today: dt.date) -> int:
    y, m, d = int(birth_date[:4]), int(birth_date[5:7]), int(birth_date[8:10])
    return today.year - y - ((today.month, today.day) < (m, d))


@cache
def _origin_names() -> dict[str, tuple[str, str, str]]:
    """Origin county code -> (province, city, county) names, from the ID region table."""
    names = region_names()
    out: dict[str, tuple[str, str, str]] = {}
    for code in _ORIGINS:
        parts = (names.get(code[:2] + "0000"), names.get(code[:4] + "00"), names.get(code))
        if all(parts):
            out[code] = (str(parts[0]), str(parts[1]), str(parts[2]))
    return out


def _county_names(code: str) -> tuple[str, str, str]:
    return "安徽省", "淮北市", regions.load().by_code[code].name


# --- Villages -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Village:
    code: str
    name: str
    town: str
    county_code: str
    county: str
    rural: bool
    streets: tuple[str, ...]  # the village's 组 (rural) or roads (urban)

    @property
    def names(self) -> dict[str, str]:
        """The derived region columns of a row in this village."""
        return {"region_code": self.code, "province": "安徽省", "city": "淮北市",
                "county": self.county, "town": self.town, "village": self.name}

    def street(self, rng: random.Random) -> str:
        place, r = _one(rng, self.streets), rng.random()
        if self.rural:
            return f"{place}{int(r * 80) + 1}号"
        number = f"{place}{int(r * 300) + 1}号"
        flat = int(rng.random() * 2 * 2880)  # half have a flat: 30 buildings, 4 units, 6 floors, 4 rooms
        if flat < 2880:
            number += f"{flat % 30 + 1}栋{flat // 30 % 4 + 1}单元{flat // 120 % 6 + 1}0{flat // 720 + 1}室"
        return number


def _village(code: str, rng: random.Random) -> _Village:
    """The village of a 12-digit code, with a few 组 or roads of its own for addresses."""
    reg = regions.load()
    village = reg.by_code[code]
    county = reg.by_code[code[:6]]
    rural = is_rural(village.name)
    if rural:
        streets = tuple(f"{_CN_NUMBERS[i % 10]}{'组' if i < 10 else '队'}" for i in range(rng.randint(3, 12)))
    else:
        streets = tuple(rng.sample(_ROADS, rng.randint(2, 4)))
    return _Village(code, village.name, reg.by_code[code[:9]].name, county.code, county.name,
                    rural, streets)


def _apportion(total: int, slots: int, rng: random.Random) -> list[int]:
    """Split `total` over `slots` unevenly, every slot at least 1 when total allows."""
    if total < slots:
        chosen = set(rng.sample(range(slots), total))
        return [int(i in chosen) for i in range(slots)]
    weights = [rng.lognormvariate(0, 0.6) for _ in range(slots)]
    rest, wsum = total - slots, sum(weights)
    shares = [rest * w / wsum for w in weights]
    counts = [1 + int(s) for s in shares]
    by_fraction = sorted(range(slots), key=lambda i: int(shares[i]) - shares[i])
    for i in by_fraction[: total - sum(counts)]:
        counts[i] += 1
    return counts


# --- Persons ------------------------------------------------------------------------


def _identity(age: int, male: bool, rural: bool, rng: random.Random) -> str:
    """个人身份 as the roster has it, consistent with age."""
    if age < 6:
        return "90"
    if age < 18 or (age <= 22 and rng.random() < 1.6 - age / 20):
        return "31"
    retired = age > 60 or (not male and age >= 50 and rng.random() < 0.4)
    if retired and rng.random() < (0.35 if rural else 0.75):
        return "80"
    if age > 60:
        return "27" if rural else "70"
    if rural:
        return _pick(rng, _ADULT_RURAL)
    return _pick(rng, _ADULT_URBAN)


_ADULT_RURAL = _table(("27", 52), ("24", 20), ("54", 7), ("51", 5), ("70", 6), ("17", 4),
                      ("13", 3), ("21", 1), ("11", 1), ("90", 1))
_ADULT_URBAN = _table(("24", 28), ("17", 16), ("13", 10), ("21", 6), ("11", 3), ("12", 1),
                      ("54", 10), ("51", 9), ("70", 12), ("27", 4), ("37", 1))
_HUKOU_RURAL = _table(("20", 55), ("21", 38), ("10", 4), ("11", 3))
_HUKOU_URBAN = _table(("10", 50), ("11", 38), ("20", 7), ("21", 5))


def _hukou(v: _Village, id_region: str, rng: random.Random) -> tuple[str, tuple[str, str, str]]:
    """(户口性质, 户口所在地 names): local for most, at their birthplace for a few."""
    if id_region in _origin_names() and rng.random() < 0.5:
        return ("22" if v.rural else "12"), _origin_names()[id_region]
    return _pick(rng, _HUKOU_RURAL if v.rural else _HUKOU_URBAN), _county_names(v.county_code)


def _id_region(v: _Village, rng: random.Random) -> str:
    r = rng.random()
    if r < 0.93:
        return v.county_code
    if r < 0.96:
        return _one(rng, [c for c in _COUNTIES if c != v.county_code])
    return _one(rng, list(_origin_names()))


_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))


def _check_digit(body: str) -> str:
    """identifiers.check_digit (GB 11643), faster: the full roster needs 180,000 of them."""
    return "10X98765432"[sum(map(mul, map(int, body), _ID_WEIGHTS)) % 11]


def _new_id(region: str, birth: int, male: bool, seq: range, ids: set[str],
            rng: random.Random) -> tuple[str, str]:
    """A unique valid 18-digit ID and the birth date it encodes (a day earlier when full)."""
    while True:
        iso = dt.date.fromordinal(birth).isoformat()
        head = region + iso[:4] + iso[5:7] + iso[8:]
        for _ in range(30):
            number = seq.start + int(rng.random() * len(seq)) // 2 * 2 + male
            body = f"{head}{number:03d}"
            full = body + _check_digit(body)
            if full not in ids:
                ids.add(full)
                return full, iso
        birth -= 1


_ROSTER_SEQ = range(0, 900)  # the ID sequence numbers of roster persons
_NEW_SEQ = range(900, 1000)  # and of new persons found at the door: never the same ID


def _person(v: _Village, age: int, ids: set[str], today: dt.date, rng: random.Random,
            seq: range = _ROSTER_SEQ) -> Row:
    """One roster person of the village, every roster column filled."""
    male = rng.random() < 0.51
    birth = today.toordinal() - int((age + rng.random()) * 365.2425)
    id_region = _id_region(v, rng) if seq is _ROSTER_SEQ else v.county_code
    id_number, birth_date = _new_id(id_region, birth, male, seq, ids, rng)
    hukou_type, (hp, hc, hk) = _hukou(v, id_region, rng)
    return {
        "person_no": "", "region_code": v.code, "id_number": id_number, "name": _name(rng, male),
        "sex": "1" if male else "2", "birth_date": birth_date,
        "hukou_type": hukou_type, "identity": _identity(age, male, v.rural, rng),
        "hukou_province": hp, "hukou_city": hc, "hukou_county": hk,
        "home_province": "安徽省", "home_city": "淮北市", "home_county": v.county,
        "home_town": v.town, "home_village": v.name, "home_street": v.street(rng),
    }


def _village_persons(v: _Village, count: int, ids: set[str], today: dt.date,
                     rng: random.Random) -> list[Row]:
    ages = rng.choices(range(96), cum_weights=_AGE_CUM, k=count)
    return [_person(v, age, ids, today, rng) for age in ages]


# --- Units --------------------------------------------------------------------------


def _org_code(rng: random.Random) -> str:
    """A 9-character organisation code (GB 11714) with its check character."""
    body = _digits(rng, 8)
    check = 11 - sum(int(c) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def _credit_code(prefix: str, county: str, codes: set[str], rng: random.Random) -> str:
    while True:
        first17 = prefix + county + _org_code(rng)
        full = first17 + credit_check_char(first17)
        if full not in codes:
            codes.add(full)
            return full


def _unit_name(unit_type: str, v: _Village, rng: random.Random) -> tuple[str, bool]:
    """A plausible name for a unit of this type, and whether it is a 合作社."""
    brand = rng.choice(_BRANDS)
    if unit_type == "60":
        owner = _pick(rng, _SURNAME_TABLE) + "记" if rng.random() < 0.4 else brand
        return f"{v.county}{v.town}{owner}{rng.choice(_SHOPS)}", False
    if unit_type in ("21", "22", "23", "70"):
        return f"{v.county}{v.town}{rng.choice(_PUBLIC)}", False
    if unit_type == "30":
        return f"{v.county}{v.town}{rng.choice(_BUREAUS)}", False
    if unit_type in ("40", "50"):
        kind = "协会" if unit_type == "40" else rng.choice(("幼儿园", "培训学校", "养老服务中心"))
        return f"{v.county}{brand}{kind}", False
    r = rng.random()
    if v.rural and r < 0.12:
        return f"{v.county}{short_village(v.name)}{brand}{rng.choice(_FARMS)}", True
    if r < 0.35:
        return f"{v.county}{brand}{rng.choice(_FACTORIES)}", False
    city = rng.choice(("淮北市", "淮北", "安徽", v.county))
    return f"{city}{brand}{rng.choice(_TRADES)}{rng.choice(('有限公司', '有限责任公司'))}", False


def _unique_name(unit_type: str, v: _Village, names: set[str], rng: random.Random) -> tuple[str, bool]:
    for _ in range(10):
        name, coop = _unit_name(unit_type, v, rng)
        if name not in names:
            break
    else:
        name = f"{name}（{short_village(v.name)}{rng.randint(2, 99)}）"
    names.add(name)
    return name, coop


def _unit(v: _Village, names: set[str], codes: set[str], rng: random.Random) -> Row:
    pick = rng.choices(_UNIT_TYPES, weights=[t[1] for t in _UNIT_TYPES])[0]
    name, coop = _unique_name(pick[0], v, names, rng)
    credit = "" if rng.random() < 0.05 else _credit_code("93" if coop else pick[2], v.county_code, codes, rng)
    return {"region_code": v.code, "unit_no": "", "credit_code": credit, "unit_name": name,
            "unit_type": pick[0]}


# --- The roster ---------------------------------------------------------------------


def make_roster(scale: float = 1.0, seed: int = 0, *, today: dt.date | None = None) -> Roster:
    """The whole city's roster: per county round(task * scale) persons and units (at least
    1 each), spread over the county's villages, in village-code order."""
    rng = random.Random(seed)
    day = today or dt.date.today()
    ids: set[str] = set()
    names: set[str] = set()
    codes: set[str] = set()
    persons: list[Row] = []
    units: list[Row] = []
    for county, (task_persons, task_units) in sorted(regions.notice_tasks().items()):
        villages = sorted(regions.load().villages(county), key=lambda r: r.code)
        n_persons = _apportion(max(1, round(task_persons * scale)), len(villages), rng)
        n_units = _apportion(max(1, round(task_units * scale)), len(villages), rng)
        for region, np_, nu in zip(villages, n_persons, n_units, strict=True):
            v = _village(region.code, rng)
            persons += _village_persons(v, np_, ids, day, rng)
            units += [_unit(v, names, codes, rng) for _ in range(nu)]
    for i, row in enumerate(persons):
        row["person_no"] = f"P{3406000000 + i + 1:010d}"
    for i, row in enumerate(units):
        row["unit_no"] = f"U{3406000000 + i + 1:010d}"
    return Roster(persons, units)


# --- Filling in the template --------------------------------------------------------


@dataclass
class _Staff:
    """How one village's staff fill the template."""

    village: _Village
    rng: random.Random
    today: dt.date
    names: list[str]        # handlers and reviewers
    employers: list[str]    # units of the village, for its employed persons
    entry_rate: float       # how often a code is written 'code label' rather than bare

    def code(self, list_name: str, code: str) -> str:
        """A code cell as staff write it: the dropdown entry, or sometimes the bare code."""
        if not code or self.rng.random() >= self.entry_rate:
            return code
        return f"{code} {CODE_LISTS[list_name].labels[code]}"


def _staff(v: _Village, units: list[Row], today: dt.date, rng: random.Random) -> _Staff:
    names = [_name(rng, rng.random() < 0.5) for _ in range(rng.randint(2, 4))]
    employers = [u["unit_name"] for u in units if u["unit_type"] != "60"]
    return _Staff(v, rng, today, names, employers, rng.uniform(0.6, 0.97))


def _employer(identity: str, s: _Staff) -> str:
    rng, v = s.rng, s.village
    if identity in ("11", "12"):
        return f"{v.county}{v.town}{rng.choice(_BUREAUS)}" if rng.random() < 0.5 else \
            f"{v.county}{rng.choice(('人力资源和社会保障局', '财政局', '教育局', '民政局', '公安局'))}"
    if identity == "37":
        return "中国人民解放军某部"
    if identity == "13" and rng.random() < 0.6:
        return rng.choice((f"{v.county}人民医院", f"{v.county}第一中学", f"{v.town}中心学校"))
    if s.employers and rng.random() < 0.6:
        return rng.choice(s.employers)
    return _unit_name("10", v, rng)[0]


_GROUP = re.compile(r"^.{1,3}?[组队]")
_EMPLOYED = frozenset(("11", "12", "13", "17", "21", "24", "37"))


def _employment(age: int, identity: str, rng: random.Random) -> str:
    """就业状态 before pensions are known (60+ farmers get 5 only with a pension)."""
    if age < 6:
        return "1"
    if identity == "31":
        return "2"
    if identity == "80":
        return "5"
    if identity in _EMPLOYED:
        return "4" if identity == "24" and rng.random() < 0.15 else "0"
    if identity in ("51", "54") or (identity == "27" and rng.random() < 0.35):
        return "4"
    return "3"


def _pension(age: int, employment: str, identity: str, rural: bool, rng: random.Random) -> str:
    r = rng.random()
    if age < 16 or identity == "37":
        return ""
    if employment == "2":
        return "12" if r < 0.15 else ""
    if employment == "0":
        if identity in ("11", "12"):
            return "13"
        return "13" if identity == "13" and r < 0.3 else ("11" if r < 0.85 else "")
    if employment == "5":
        # 城乡居民 pensions are paid from 60; earlier retirees left a job (职工 or 机关)
        return "12" if rural and age >= 60 and r < 0.5 else ("13" if r > 0.85 else "11")
    if identity == "27":
        return "12" if r < 0.82 else ("14" if r < 0.86 else "")
    if employment == "4":
        return "11" if r < 0.35 else ("12" if r < 0.8 else "")
    return "12" if r < 0.5 else ("15" if r < 0.52 else "")


_REASONS = _table(("91", 50), ("911", 15), ("913", 12), ("912", 4), ("933", 3), ("934", 1),
                  ("935", 2), ("931", 1), ("919", 4))
_UNIT_STATUS = _table(("1", 60), ("2", 20), ("3", 15), ("4", 5))
_OTHER_REASONS = ("外出务工，本人未办理", "重病在家", "本人不愿参保", "待就业")


def _reason(age: int, employment: str, identity: str, rng: random.Random) -> tuple[str, str]:
    """未参保原因 (and its 其他说明) of a person without a pension."""
    if employment == "2":
        return "932", ""
    if age < 16:
        return "919", "未满16周岁"
    if identity == "37":
        return "93", ""
    if employment == "0":
        return ("92" if rng.random() < 0.7 else "91"), ""
    code = _pick(rng, _REASONS)
    return code, (rng.choice(_OTHER_REASONS) if code == "919" else "")


def _medical(pension: str, rural: bool, rng: random.Random) -> str:
    r = rng.random()
    if r < 0.03:
        return ""
    if pension in ("11", "13"):
        return "24" if pension == "13" and r < 0.2 else "21"
    if rural:
        return "23" if r < 0.6 else ("22" if r < 0.95 else "25")
    return "22" if r < 0.97 else "26"


def _other_insurance(employment: str, pension: str, rng: random.Random) -> dict[str, str]:
    """工伤, 失业, 生育 codes ('' for no): mostly for employees with a 职工 or 机关 pension."""
    if employment == "0" and pension in ("11", "13"):
        rates = (0.8, 0.65, 0.6)
    elif employment == "0":
        rates = (0.2, 0.0, 0.0)
    else:
        rates = (0.01, 0.01, 0.01)
    keys = (("injury", "30"), ("unemployment", "40"), ("maternity", "50"))
    return {k: c if rng.random() < p else "" for (k, c), p in zip(keys, rates, strict=True)}


def _phones(rng: random.Random) -> tuple[str, str]:
    r = rng.random()
    if r < 0.85:
        return _mobile(rng), ""
    return (_mobile(rng), _landline(rng)) if r < 0.93 else ("", _landline(rng))


def _fill_person(roster_row: Row, s: _Staff) -> Cell:
    """A visited person's row: roster values kept, every input column filled consistently."""
    rng, v = s.rng, s.village
    age, identity = age_on(roster_row["birth_date"], s.today), roster_row["identity"]
    employment = _employment(age, identity, rng)
    pension = _pension(age, employment, identity, v.rural, rng)
    if employment == "4" and identity == "27" and age >= 60 and pension:
        employment = "5"
    reason, reason_other = ("", "") if pension else _reason(age, employment, identity, rng)
    others = _other_insurance(employment, pension, rng)
    mobile, landline = _phones(rng)
    first = int(rng.random() * len(s.names))
    handler, reviewer = s.names[first], s.names[first - 1]  # two different people
    street = roster_row["home_street"]
    row: Cell = dict.fromkeys(PERSONS.keys, "")
    row.update(v.names)
    row.update(roster_row)
    row.update({
        "group_name": group.group(0) if v.rural and (group := _GROUP.match(street)) else "",
        "employment": s.code("就业状态", employment),
        "employer": _employer(identity, s) if employment == "0" else "",
        "identity_other": ("学龄前儿童" if age < 6 else "料理家务") if identity == "90" else "",
        "mobile": mobile, "landline": landline,
        "pension": s.code("养老保险", pension), "medical": s.code("医疗保险", _medical(pension, v.rural, rng)),
        **{k: s.code(PERSONS[k].codes or "", c) for k, c in others.items()},
        "uninsured_reason": s.code("未参保原因", reason), "reason_other": reason_other,
        "handler": handler, "reviewer": reviewer,
        "remark": "常年外出务工" if reason == "913" else "",
    })
    return row


def _new_person(s: _Staff, ids: set[str]) -> Cell:
    """A person found at the door who is not on the roster: typed in full by staff."""
    age = s.rng.choices(range(96), cum_weights=_AGE_CUM)[0]
    row = _fill_person(_person(s.village, age, ids, s.today, s.rng, seq=_NEW_SEQ), s)
    for key in ("hukou_type", "identity"):
        row[key] = s.code(PERSONS[key].codes or "", str(row[key]))
    row["person_no"] = ""
    return row


def _new_persons(s: _Staff, ids: set[str], need_numeric: bool) -> list[Cell]:
    """0-5 new persons; with `need_numeric` at least one whose ID Excel could turn into a
    number (check digit not X), so that a large village gets every kind of mistake."""
    rows = [_new_person(s, ids) for _ in range(s.rng.randint(1 if need_numeric else 0, 5))]
    while need_numeric and all(str(r["id_number"]).endswith("X") for r in rows):
        rows[-1] = _new_person(s, ids)
    return rows


def _fill_unit(roster_row: Row, s: _Staff) -> Cell:
    rng, v = s.rng, s.village
    if v.rural:
        address = f"{v.county}{v.town}{short_village(v.name)}{v.street(rng)}"
    else:
        address = f"{v.county}{rng.choice(v.streets)}{rng.randint(1, 500)}号"
    status = _pick(rng, _UNIT_STATUS)
    row: Cell = dict.fromkeys(UNITS.keys, "")
    row.update(roster_row)
    row.update({
        "address": address, "contact": _name(rng, rng.random() < 0.6),
        "contact_phone": _mobile(rng) if rng.random() < 0.7 else _landline(rng),
        "unit_status": s.code("单位参保状态", status), "handler": rng.choice(s.names),
    })
    return row


def _new_unit(s: _Staff) -> Cell:
    unit = _unit(s.village, set(), set(), s.rng)
    unit["unit_type"] = s.code("单位类型", unit["unit_type"])
    return _fill_unit(unit, s)


# --- Mistakes -----------------------------------------------------------------------


def _code_of(value: object) -> str:
    return str(value).split(" ", 1)[0]


def _is_adult(row: Cell, today: dt.date) -> bool:
    return age_on(str(row["birth_date"]), today) >= 18


def _eligible(kind: str, row: Cell, is_new: bool, today: dt.date) -> bool:
    """Rows a mistake of this kind can go into without making a second mistake."""
    if kind in ("invalid_code", "pension_and_reason"):
        return bool(row["pension"])
    if kind == "no_pension_no_reason":
        return not row["pension"]
    if kind == "id_as_number":
        return is_new and not str(row["id_number"]).endswith("X")  # Excel keeps '…X' as text
    if kind == "employer_missing":
        return _code_of(row["employment"]) == "0"
    if kind == "bad_mobile":
        return bool(row["mobile"])
    if kind == "implausible_age":
        return _is_adult(row, today)
    return True  # missing_required, duplicate


def _apply(kind: str, row: Cell, rng: random.Random) -> None:
    if kind == "invalid_code":
        row["pension"] = rng.choice(("16", "城镇养老", "职工养老保险"))
    elif kind == "id_as_number":
        row["id_number"] = float(str(row["id_number"]))
    elif kind == "missing_required":
        row[rng.choice(("handler", "hukou_type"))] = ""
    elif kind == "employer_missing":
        row["employer"] = ""
    elif kind == "pension_and_reason":
        row["uninsured_reason"] = rng.choice(("91 个人未参保", "91", "913 人户分离、联系不上"))
    elif kind == "no_pension_no_reason":
        row["uninsured_reason"] = row["reason_other"] = ""
    elif kind == "bad_mobile":
        row["mobile"] = str(row["mobile"])[:10]
    elif kind == "implausible_age":
        row.update(employment=rng.choice(("1 学龄前", "1")), employer="")


def _targets(kind: str, rows: list[Cell], first_new: int, used: set[int], wanted: int,
             today: dt.date, rng: random.Random) -> list[int]:
    """Up to `wanted` unused rows this kind of mistake fits: random draws, then a scan."""
    start, total = (first_new if kind == "id_as_number" else 0), len(rows)
    picked: list[int] = []

    def fits(i: int) -> bool:
        return i not in used and i not in picked and _eligible(kind, rows[i], i >= first_new, today)

    for _ in range(20 * wanted if total > start else 0):
        i = start + int(rng.random() * (total - start))
        if len(picked) < wanted and fits(i):
            picked.append(i)
    if len(picked) < wanted:
        rest = [i for i in range(start, total) if fits(i)]
        picked += rng.sample(rest, min(wanted - len(picked), len(rest)))
    return picked


def _inject(rows: list[Cell], first_new: int, today: dt.date, rng: random.Random) -> list[tuple[int, str]]:
    """Put each kind of mistake into 0.5-2% of the rows (at least one from 100 rows on)."""
    total, used = len(rows), set[int]()
    found: list[tuple[int, str]] = []
    for kind in MISTAKE_KINDS:  # id_as_number first: few rows fit it
        wanted = round(total * rng.uniform(0.005, 0.02))
        wanted = max(wanted, 1) if total >= 100 else wanted
        for i in _targets(kind, rows[:total], first_new, used, wanted, today, rng):
            used.add(i)
            if kind == "duplicate":
                rows.append(dict(rows[i]))
                found.append((len(rows) - 1, kind))
            else:
                _apply(kind, rows[i], rng)
                found.append((i, kind))
    return sorted(found)


# --- One village's return -----------------------------------------------------------


def simulate_return(persons: list[Row], units: list[Row], rng: random.Random, *,
                    mistakes: bool = True, today: dt.date | None = None,
                    visit_rate: float | None = None) -> Return:
    """One village's template as its staff return it: 80-95% of the roster persons
    visited (the rest omitted; `visit_rate` fixes the share), 0-5 new persons, most
    units; with `mistakes`, each kind of MISTAKE_KINDS at a low rate. All rows must be
    of one village."""
    if not persons and not units:
        return Return([], [])
    day = today or dt.date.today()
    v = _village(str((persons or units)[0]["region_code"]), rng)
    s = _staff(v, units, day, rng)
    drawn = rng.uniform(0.80, 0.95)      # drawn either way: the same seed makes the same villages
    visit_rate = drawn if visit_rate is None else visit_rate
    rows = [_fill_person(p, s) for p in persons if rng.random() < visit_rate]
    first_new = len(rows)
    rows += _new_persons(s, {p["id_number"] for p in persons}, mistakes and len(rows) >= 95)
    unit_rows = [_fill_unit(u, s) for u in units if rng.random() < 0.92]
    unit_rows += [_new_unit(s) for _ in range(rng.randint(0, 1))]
    found = _inject(rows, first_new, day, rng) if mistakes else []
    return Return(rows, unit_rows, found)
