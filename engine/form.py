"""The forms, defined once: 全民参保登记表 (persons) and the units form (单位).

Everything else derives from these definitions: template columns, dropdowns and their
prompts, the reader's header matching, the rule checks of each kind of field, the
store's columns, receipts, exports and summaries. Adding a field or a code is an edit
here and nowhere else.

Where the codes come from (see docs/codes.md for the reasoning):
- 就业状态 1-5, 养老 11-15, 医疗 21-26, 工伤 30, 失业 40, 生育 50, 未参保原因 91-93:
  the notice's 填写说明. 0 (已单位就业) and the detail reasons 911-935 are ours.
- 性别: GB/T 2261.1-2003. 个人身份: GB/T 2261.4-2003 plus 12 参照公务员管理人员.
- 户口性质: the list five provincial 社保 systems share. 单位类型: 参保单位类型.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from functools import cached_property
from itertools import compress, repeat
from operator import is_not, not_
from typing import Literal

from pydantic import BaseModel, ConfigDict

FORM_VERSION = "1"

Kind = Literal[
    "text",        # free text
    "code",        # one entry of a code list
    "id_number",   # 公民身份号码 (GB 11643)
    "credit_code", # 统一社会信用代码 (GB 32100)
    "date",        # YYYY-MM-DD
    "mobile",      # 11-digit mobile number
    "phone",       # landline (or mobile)
    "region_code", # 12-digit village code of the row
]

# A place column's level in an address (its group): 户口所在地 has 省 市 县, 常住地 down to 村.
PlaceLevel = Literal["省", "市", "县", "乡镇", "村"]
PLACE_LEVELS: tuple[PlaceLevel, ...] = ("省", "市", "县", "乡镇", "村")


class Code(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    label: str
    aliases: tuple[str, ...] = ()

    @property
    def entry(self) -> str:
        """What the dropdown shows: '11 城镇职工基本养老保险'."""
        return f"{self.code} {self.label}"


_SPACES = re.compile(r"[\s\u3000]+")
_LEADING_CODE = re.compile(r"^(\d+)\s*[.、．:：]?\s*(.*)$")


def normalize_text(value: str) -> str:
    """Full-width to half-width, no stray spaces: what staff meant, not what they typed."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", value))


class CodeList(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    codes: tuple[Code, ...]
    source: str

    @cached_property
    def _lookup(self) -> dict[str, str]:
        table: dict[str, str] = {}
        for c in self.codes:
            for key in (c.code, c.label, c.entry, *c.aliases):
                table[normalize_text(key)] = c.code
        return table

    @cached_property
    def labels(self) -> dict[str, str]:
        return {c.code: c.label for c in self.codes}

    def parse(self, raw: str) -> str | None:
        """The code meant by a cell's text, or None when it is not in the list.

        Accepts '11', '11 城镇职工基本养老保险', '11.城镇…', the label alone, an alias (also
        after its code: '12 城乡居民基本养老保险'), full-width digits and stray spaces. A
        leading number decides when it is a code:
        '11 城乡居民…' is 11, and a label that does not match its number is refused.
        """
        text = normalize_text(raw)
        if not text:
            return None
        found = self._lookup.get(text)
        if found is not None:
            return found
        m = _LEADING_CODE.match(text)
        if m and m.group(1) in self.labels:
            rest = m.group(2)
            if not rest or self._lookup.get(rest) == m.group(1):   # its label or one of its aliases
                return m.group(1)
        return None


def _codes(*pairs: tuple[str, str] | tuple[str, str, tuple[str, ...]]) -> tuple[Code, ...]:
    return tuple(Code(code=p[0], label=p[1], aliases=p[2] if len(p) == 3 else ()) for p in pairs)


_YES = ("是", "√", "✓", "有", "参加", "已参加", "已参保", "Y", "y")
_NO = ("否", "×", "无", "没有", "未参加", "未参保", "N", "n")

CODE_LISTS: dict[str, CodeList] = {
    cl.name: cl
    for cl in (
        CodeList(name="性别", source="GB/T 2261.1-2003", codes=_codes(
            ("1", "男"), ("2", "女"), ("0", "未知的性别"), ("9", "未说明的性别"))),
        CodeList(name="户口性质", source="社保系统通用 户口性质 (docs/codes.md)", codes=_codes(
            ("10", "非农业户口（城镇）", ("非农业", "非农业户口", "城镇", "城镇户口")),
            ("11", "本地非农业户口（本地城镇）"),
            ("12", "外地非农业户口（外地城镇）"),
            ("20", "农业户口（农村）", ("农业", "农业户口", "农村", "农村户口")),
            ("21", "本地农业户口（本地农村）"),
            ("22", "外地农业户口（外地农村）"),
            ("30", "港澳台侨人员"),
            ("40", "外国人"),
            ("50", "居民户口（含农业户口、非农业户口）", ("居民户口", "居民")),
            ("51", "本地居民户口"),
            ("52", "外地居民户口"))),
        CodeList(name="就业状态", source="通知 填写说明(二); 0 为本系统补充", codes=_codes(
            ("0", "已单位就业", ("单位就业", "已就业")),
            ("1", "学龄前"), ("2", "在校学生", ("学生",)), ("3", "未就业", ("失业", "无业")),
            ("4", "灵活就业"),
            ("5", "已办理离退休手续或已领取养老待遇", ("离退休", "退休", "已退休")))),
        CodeList(name="个人身份", source="GB/T 2261.4-2003; 12 为本系统补充", codes=_codes(
            ("11", "国家公务员", ("公务员",)), ("12", "参照公务员管理人员"),
            ("13", "专业技术人员"), ("17", "职员"), ("21", "企业管理人员"), ("24", "工人"),
            ("27", "农民"), ("31", "学生"), ("37", "现役军人"), ("51", "自由职业者"),
            ("54", "个体经营者"), ("70", "无业人员"), ("80", "退（离）休人员", ("退休人员", "离休人员", "退(离)休人员")),
            ("90", "其他"))),
        CodeList(name="养老保险", source="通知 填写说明(六)", codes=_codes(
            ("11", "城镇职工基本养老保险"),
            ("12", "城乡居民基本养老保险（含城居保和新农保）", ("城乡居民基本养老保险", "新农保", "城居保")),
            ("13", "机关事业单位养老保险"),
            ("14", "被征地农民养老保障（单建制度）"),
            ("15", "其他养老保障（单建制度）"))),
        CodeList(name="医疗保险", source="通知 填写说明(六)", codes=_codes(
            ("21", "城镇职工基本医疗保险"),
            ("22", "城镇居民（含城乡统筹）基本医疗保险", ("城镇居民基本医疗保险", "城乡居民医保", "居民医保")),
            ("23", "新型农村合作医疗", ("新农合",)),
            ("24", "公费医疗"),
            ("25", "农民工其他形式医疗保险"),
            ("26", "其他医疗保障（单建制度）"))),
        CodeList(name="工伤保险", source="通知 填写说明(六)", codes=_codes(
            ("30", "参加工伤保险", _YES), ("0", "未参加", _NO))),
        CodeList(name="失业保险", source="通知 填写说明(六)", codes=_codes(
            ("40", "参加失业保险", _YES), ("0", "未参加", _NO))),
        CodeList(name="生育保险", source="通知 填写说明(六)", codes=_codes(
            ("50", "参加生育保险", _YES), ("0", "未参加", _NO))),
        CodeList(name="未参保原因", source="通知 填写说明(七) 91-93; 三位细目为本系统补充", codes=_codes(
            ("91", "个人未参保"),
            ("911", "缴费终止"),
            ("912", "已参保信息有误"),
            ("913", "人户分离、联系不上"),
            ("919", "其他（须说明）", ("其他",)),
            ("92", "单位未予参保"),
            ("93", "参军", ("参军等原因未参保",)),
            ("931", "部队建账的随军家属"),
            ("932", "全日制在校生"),
            ("933", "出国（含留学、定居、就业）", ("出国",)),
            ("934", "判刑"),
            ("935", "户口待注销"))),
        CodeList(name="单位类型", source="参保单位类型 (docs/codes.md)", codes=_codes(
            ("10", "企业"), ("20", "事业单位"), ("21", "全额拨款事业单位"),
            ("22", "差额拨款事业单位"), ("23", "自收自支事业单位"), ("30", "机关"),
            ("40", "社会团体"), ("50", "民办非企业单位"), ("60", "城镇个体工商户", ("个体工商户", "个体")),
            ("70", "再就业服务中心"), ("99", "其他"))),
        CodeList(name="单位参保状态", source="本系统定义", codes=_codes(
            ("1", "已参保"), ("2", "未参保"), ("3", "部分职工未参保"), ("4", "已停业或注销"))),
    )
}

# Which code of a list is "other, please explain" and which field then explains it.
OTHER_CODES: dict[str, tuple[str, str]] = {
    "identity": ("90", "identity_other"),
    "uninsured_reason": ("919", "reason_other"),
}


class Field(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str                  # store column and code name
    label: str                # the header staff see
    kind: Kind = "text"
    codes: str | None = None  # CodeList name, for kind == "code"
    required: bool = False    # required on every started row (conditional ones live in rules)
    roster: bool = False      # pre-filled from the roster and locked on roster rows
    prefilled: bool = False   # pre-filled from the roster but editable
    derived: bool = False     # written by the engine from the row's region, locked
    width: float = 12
    prompt: str = ""          # the template's input message
    aliases: tuple[str, ...] = ()
    group: str = ""           # the header band above the label in the template
    place: PlaceLevel | None = None  # a level of the address its group is (dropdowns cascade)

    @property
    def code_list(self) -> CodeList | None:
        return CODE_LISTS[self.codes] if self.codes else None

    @property
    def is_input(self) -> bool:
        """Staff fill it on a visited roster row (roster and derived columns are given)."""
        return not (self.roster or self.derived)

    @property
    def help_text(self) -> str:
        """The prompt as staff see it (the template's input message, 填写说明): '（必填）' on
        a required field."""
        return f"{self.prompt}（必填）" if self.required and self.prompt else self.prompt

    def header_names(self) -> tuple[str, ...]:
        return (self.label, *self.aliases)


class Form(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str         # 全民参保登记表
    sheet: str        # the template's sheet name
    kind: Literal["persons", "units"]
    key: str          # the field that identifies a row's person or unit
    fields: tuple[Field, ...]

    @cached_property
    def by_key(self) -> dict[str, Field]:
        return {f.key: f for f in self.fields}

    @cached_property
    def keys(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.fields)

    @cached_property
    def input_keys(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.fields if f.is_input)

    @cached_property
    def work_keys(self) -> frozenset[str]:
        """The columns only a visit fills: a row with none of them is a roster row not yet visited."""
        return frozenset(f.key for f in self.fields if f.is_input and not f.prefilled)

    def started(self, values: Mapping[str, object]) -> bool:
        """A row staff worked on, so the engine checks it: any column only a visit fills, or,
        for persons, an ID on a row without a roster number (a person found at the door).
        `values` holds only filled cells. The templates' live checks use the same definition
        as a formula (`engine.live_checks.started`)."""
        return not self.work_keys.isdisjoint(values) or (
            self.kind == "persons" and not values.get("person_no") and "id_number" in values)

    def started_rows(self, cells: Mapping[str, Sequence[object]], size: int) -> list[bool]:
        """`started` of each row of a sheet given as columns (field -> each row's cell, None
        where it has none; a field not given has none)."""
        work = [map(is_not, cells[key], repeat(None)) for key in self.work_keys if key in cells]
        started = list(map(any, zip(*work, strict=True))) if work else [False] * size
        if self.kind == "persons" and "id_number" in cells:
            numbers, ids = cells.get("person_no") or [None] * size, cells["id_number"]
            for i in compress(range(size), map(not_, started)):
                started[i] = not numbers[i] and ids[i] is not None
        return started

    def __getitem__(self, key: str) -> Field:
        return self.by_key[key]


def _region_fields() -> tuple[Field, ...]:
    return (
        Field(key="region_code", label="行政区划代码", kind="region_code", derived=True, width=15,
              aliases=("区划代码", "村社区代码", "社区村代码", "行政区划"), group="所在地"),
        Field(key="province", label="省", derived=True, width=7, group="所在地"),
        Field(key="city", label="市", derived=True, width=7, group="所在地"),
        Field(key="county", label="区县", derived=True, width=8, aliases=("区(县)", "县区"), group="所在地"),
        Field(key="town", label="街道乡镇", derived=True, width=10, aliases=("街道(乡镇)", "乡镇街道", "乡镇"), group="所在地"),
        Field(key="village", label="社区村", derived=True, width=14, aliases=("社区(村)", "村社区", "村居"), group="所在地"),
    )


PERSONS = Form(
    name="全民参保登记表", sheet="人员登记", kind="persons", key="id_number",
    fields=(
        Field(key="person_no", label="人员编号", roster=True, width=12, aliases=("个人编号", "人员ID"),
              group="名册"),
        *_region_fields(),
        Field(key="group_name", label="组", width=6, aliases=("村民组", "居民组", "小组"), group="所在地",
              prompt="村民组或居民小组，可不填"),
        Field(key="id_number", label="公民身份号码", kind="id_number", required=True, roster=True, width=21,
              aliases=("公民身份证号码", "身份证号码", "身份证号", "证件号码", "身份号码"), group="人员",
              prompt="18位身份证号码，按文本填写；名册外新增人员在空白行填写"),
        Field(key="name", label="户籍姓名", required=True, roster=True, width=9, aliases=("姓名",),
              group="人员", prompt="与户口簿一致的姓名"),
        Field(key="sex", label="性别", kind="code", codes="性别", required=True, roster=True, width=8,
              group="人员", prompt="须与身份证号码第17位一致（奇数男、偶数女）"),
        Field(key="birth_date", label="出生日期", kind="date", roster=True, width=11,
              aliases=("出生年月", "出生年月日"), group="人员",
              prompt="可不填，系统按身份证号码生成；填写格式 1980-01-31"),
        Field(key="hukou_type", label="户口性质", kind="code", codes="户口性质", required=True,
              prefilled=True, width=17, aliases=("户籍地类别", "户口类别", "户籍性质"), group="人员",
              prompt="从下拉列表选择户口性质"),
        Field(key="employment", label="就业状态", kind="code", codes="就业状态", required=True, width=14,
              group="就业", prompt="有就业单位选 0 并填写工作单位名称；无单位选 1-5"),
        Field(key="employer", label="工作单位名称", width=18, aliases=("就业单位名称", "单位名称"),
              group="就业", prompt="就业状态为 0 已单位就业时必填，填写单位全称"),
        Field(key="identity", label="个人身份", kind="code", codes="个人身份", required=True, prefilled=True,
              width=13, group="就业", prompt="从下拉列表选择；选 90 其他时在右侧说明"),
        Field(key="identity_other", label="个人身份其他说明", width=10, aliases=("个人身份其他",),
              group="就业", prompt="个人身份选 90 其他时必填"),
        Field(key="hukou_province", label="户口所在地省", place="省", required=True, prefilled=True, width=14,
              aliases=("户口所在省",), group="户口所在地", prompt="省、自治区、直辖市，如 安徽省"),
        Field(key="hukou_city", label="户口所在地市", place="市", required=True, prefilled=True, width=14,
              aliases=("户口所在市",), group="户口所在地", prompt="地、市、州，如 淮北市"),
        Field(key="hukou_county", label="户口所在地县", place="县", required=True, prefilled=True, width=14,
              aliases=("户口所在县", "户口所在地区县"), group="户口所在地", prompt="区、县，如 濉溪县"),
        Field(key="home_province", label="常住地省", place="省", required=True, prefilled=True, width=11,
              group="常住地地址", prompt="常住地所在省"),
        Field(key="home_city", label="常住地市", place="市", required=True, prefilled=True, width=11,
              group="常住地地址", prompt="常住地所在市"),
        Field(key="home_county", label="常住地县", place="县", required=True, prefilled=True, width=11,
              aliases=("常住地区县",), group="常住地地址", prompt="常住地所在区县"),
        Field(key="home_town", label="常住地乡镇", place="乡镇", prefilled=True, width=13, aliases=("常住地街道",),
              group="常住地地址", prompt="常住地所在乡镇或街道"),
        Field(key="home_village", label="常住地村", place="村", prefilled=True, width=18, aliases=("常住地社区",),
              group="常住地地址", prompt="常住地所在村或社区"),
        Field(key="home_street", label="常住地街路巷门牌", required=True, prefilled=True, width=20,
              aliases=("常住所在地地址", "常住地址", "常住地地址", "详细地址", "门牌号"), group="常住地地址",
              prompt="街、路、巷、门牌号码及居室号码"),
        Field(key="mobile", label="手机", kind="mobile", width=13, aliases=("手机号码", "手机号", "联系电话"),
              group="联系方式", prompt="11位手机号；本人无手机可填家庭其他成员手机；手机与固定电话至少填一项"),
        Field(key="landline", label="固定电话", kind="phone", width=13, aliases=("座机", "家庭座机"),
              group="联系方式", prompt="区号-号码，如 0561-1234567"),
        Field(key="pension", label="养老保险", kind="code", codes="养老保险", width=22, group="现参保情况",
              prompt="单选；未参加养老保险留空并填写未参保原因"),
        Field(key="medical", label="医疗保险", kind="code", codes="医疗保险", width=22, group="现参保情况",
              prompt="单选；未参加医疗保险留空"),
        Field(key="injury", label="工伤保险", kind="code", codes="工伤保险", width=14, group="现参保情况",
              prompt="参加选 30，未参加留空或选 0"),
        Field(key="unemployment", label="失业保险", kind="code", codes="失业保险", width=14, group="现参保情况",
              prompt="参加选 40，未参加留空或选 0"),
        Field(key="maternity", label="生育保险", kind="code", codes="生育保险", width=14, group="现参保情况",
              prompt="参加选 50，未参加留空或选 0"),
        Field(key="uninsured_reason", label="未参保原因", kind="code", codes="未参保原因", width=17,
              group="未参保", prompt="未参加养老保险时必填；已参加养老保险时留空"),
        Field(key="reason_other", label="未参保原因其他说明", width=10, aliases=("未参保原因其他",),
              group="未参保", prompt="未参保原因选 919 其他时必填"),
        Field(key="handler", label="经办人", required=True, width=8, aliases=("经办人签名",),
              group="签名", prompt="入户调查经办人姓名"),
        Field(key="reviewer", label="复核人", required=True, width=8, aliases=("复核人签名",),
              group="签名", prompt="复核人姓名（入户调查须2人以上）"),
        Field(key="remark", label="备注", width=14, group="签名", prompt="其他需要说明的情况"),
    ),
)

UNITS = Form(
    name="单位登记表", sheet="单位登记", kind="units", key="unit_key",
    fields=(
        _region_fields()[0],
        Field(key="unit_no", label="单位编号", roster=True, width=12, aliases=("单位ID",), group="名册"),
        Field(key="credit_code", label="统一社会信用代码", kind="credit_code", roster=True, width=21,
              aliases=("信用代码", "社会信用代码"), group="单位",
              prompt="18位统一社会信用代码；无代码的单位留空"),
        Field(key="unit_name", label="单位名称", required=True, roster=True, width=26, group="单位",
              prompt="单位全称"),
        Field(key="unit_type", label="单位类型", kind="code", codes="单位类型", required=True,
              prefilled=True, width=15, group="单位", prompt="从下拉列表选择单位类型"),
        Field(key="address", label="单位地址", required=True, width=24, aliases=("地址", "经营地址", "注册地址"),
              group="单位", prompt="单位实际经营地址"),
        Field(key="contact", label="联系人", width=9, group="联系", prompt="单位联系人姓名"),
        Field(key="contact_phone", label="联系电话", kind="phone", width=14, aliases=("电话",),
              group="联系", prompt="手机或区号-座机"),
        Field(key="unit_status", label="参保状态", kind="code", codes="单位参保状态", required=True,
              width=14, aliases=("单位参保状态",), group="参保", prompt="从下拉列表选择单位参保状态"),
        Field(key="handler", label="经办人", required=True, width=8, group="签名", prompt="经办人姓名"),
        Field(key="remark", label="备注", width=14, group="签名", prompt="其他需要说明的情况"),
    ),
)

FORMS: dict[str, Form] = {"persons": PERSONS, "units": UNITS}

# Insurance fields of a person, in the order of the notice.
INSURANCE_KEYS = ("pension", "medical", "injury", "unemployment", "maternity")
