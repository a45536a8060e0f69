"""The catalogue of problems: every rule's code, severity and Chinese message, in one place.

Problems are values, not exceptions (frictionless-style). A check yields
`Problem`s; a receipt lists them; the rule code is stable so tests and offices can
refer to it. An error returns the row for correction (not merged); a warning is
merged and flagged. File-level problems (`F…`) mean no row of the file was taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: Severity
    title: str        # short Chinese title, for problem lists and summaries
    message: str      # Chinese message template: says what is wrong and how to fix it


@dataclass(frozen=True)
class Problem:
    rule: str                 # Rule.code
    severity: Severity
    message: str
    sheet: str = ""
    row: int = 0              # 1-based spreadsheet row, 0 for the whole file
    column: str = ""          # the column's label as staff see it
    field: str = ""           # the form field key
    value: str = ""

    @property
    def title(self) -> str:
        return RULES[self.rule].title


_CATALOGUE: tuple[Rule, ...] = (
    # -- cells ------------------------------------------------------------------------
    Rule("R001", "required", "error", "必填项未填",
         "“{column}”未填写。请填写：{hint}。"),
    Rule("R010", "id_mangled", "error", "身份证号码被转成数字",
         "身份证号码被 Excel 当作数字保存（读到 {value}），后几位已经丢失。请把这一列设为“文本”格式，"
         "再对照身份证重新输入完整的18位号码（或在号码前加英文单引号 '）。"),
    Rule("R011", "id_format", "error", "身份证号码格式错误",
         "身份证号码应为18位（最后一位可以是 X）或15位旧号码，现在是“{value}”。请对照身份证重新填写。"),
    Rule("R012", "id_check_digit", "error", "身份证号码校验位错误",
         "身份证号码“{value}”的最后一位按国家标准应为 {expected}，号码中有数字填错。请对照身份证逐位核对。"),
    Rule("R013", "id_birth_date", "error", "身份证号码中的出生日期无效",
         "身份证号码“{value}”第7-14位的出生日期不存在或晚于今天。请对照身份证核对。"),
    Rule("R014", "id_region", "warning", "身份证号码地区码未知",
         "身份证号码前6位 {code} 不是已知的行政区划代码，请核对号码。"),
    Rule("R015", "id_legacy", "warning", "15位旧身份证号码",
         "这是15位旧身份证号码，已按国家标准升级为18位：{upgraded}。请核对，能取得新号码时请填写新号码。"),
    Rule("R020", "sex_vs_id", "error", "性别与身份证号码不符",
         "性别填的是“{value}”，但身份证号码第17位是 {digit}（{expected}）。请核对性别或身份证号码。"),
    Rule("R021", "birth_vs_id", "error", "出生日期与身份证号码不符",
         "出生日期填的是“{value}”，身份证号码中的出生日期是 {expected}。请改为 {expected}，或核对身份证号码。"),
    Rule("R022", "date_format", "error", "日期格式错误",
         "“{column}”应写成 1980-01-31 这样的日期，现在是“{value}”。"),
    Rule("R030", "code_invalid", "error", "不是下拉列表中的选项",
         "“{value}”不是“{column}”的有效选项。请从下拉列表中选择，例如“{example}”，不要自行输入或粘贴。"),
    Rule("R040", "employer_missing", "error", "缺少工作单位名称",
         "就业状态是“0 已单位就业”，必须填写“工作单位名称”（单位全称）；如果没有单位，请把就业状态改为 1-5 中的一项。"),
    Rule("R041", "employer_unexpected", "warning", "无单位人员填了工作单位",
         "就业状态是“{value}”（无单位），却填写了工作单位名称。如果此人在单位就业，请把就业状态改为“0 已单位就业”。"),
    Rule("R042", "other_missing", "error", "选了“其他”但未说明",
         "“{chosen}”选择了“其他”，请在“{column}”中写明具体情况。"),
    Rule("R050", "reason_missing", "error", "未参保但未填原因",
         "此人没有填写养老保险，必须填写“未参保原因”；如果已参加养老保险，请在“养老保险”中选择险种。"),
    Rule("R051", "reason_with_pension", "error", "已参保又填了未参保原因",
         "已选择养老保险“{value}”，又填写了未参保原因。已参保的请清空“未参保原因”，未参保的请清空“养老保险”。"),
    Rule("R060", "phone_missing", "error", "没有联系电话",
         "手机和固定电话至少填写一项；本人没有手机的，可以填家庭其他成员的手机或家庭座机。"),
    Rule("R061", "mobile_format", "error", "手机号码格式错误",
         "手机号码应为以1开头的11位数字，现在是“{value}”。"),
    Rule("R062", "phone_format", "error", "电话号码格式错误",
         "“{column}”应为“区号-号码”（如 0561-3012345）或11位手机号，现在是“{value}”。"),
    Rule("R070", "duplicate_in_file", "error", "同一人在本表重复登记",
         "身份证号码与原文件第 {first} 行相同，同一人只登记一次。请删除重复的一行，或核对身份证号码。"),
    Rule("R071", "duplicate_across_villages", "error", "此人已由其他村（社区）登记",
         "此人已由“{other}”登记（{when}），本行未入库。请核实此人的常住地：确属本村请联系县区经办机构处理，否则请删除本行。"),
    Rule("R080", "not_on_roster", "warning", "名册外新增人员",
         "此人不在入户调查对象名册中，已作为名册外新增人员登记，请核实身份证号码。"),
    Rule("R081", "name_differs", "warning", "姓名与名册不一致",
         "姓名“{value}”与名册中的“{expected}”不一致，请核对户口簿。"),
    Rule("R090", "age_implausible", "warning", "年龄与就业状态不符",
         "此人{age}岁，就业状态为“{value}”，请核实。"),
    Rule("R100", "region_outside", "error", "不属于本村（社区）",
         "行政区划代码 {value} 不在本表所属的“{expected}”范围内。请不要改动行政区划代码；属于其他村的人员请交给所在村登记。"),
    Rule("R101", "region_unknown", "error", "行政区划代码无效",
         "行政区划代码“{value}”不是淮北市的村（社区）代码（12位）。请使用模板中预填的代码。"),
    Rule("R110", "credit_code_format", "error", "统一社会信用代码格式错误",
         "统一社会信用代码应为18位数字或大写字母（不含 I、O、S、V、Z），现在是“{value}”。请对照营业执照填写。"),
    Rule("R111", "credit_code_check", "error", "统一社会信用代码校验位错误",
         "统一社会信用代码“{value}”的最后一位按国家标准应为 {expected}，请对照营业执照逐位核对。"),
    Rule("R112", "duplicate_unit", "error", "同一单位在本表重复登记",
         "该单位与原文件第 {first} 行重复，同一单位只登记一次。"),
    # -- files ------------------------------------------------------------------------
    Rule("F001", "unreadable", "error", "文件无法读取",
         "文件无法作为 Excel 或 CSV 表格读取（{detail}）。请用 Excel/WPS 打开后另存为 .xlsx 再发送。"),
    Rule("F002", "no_form_sheet", "error", "找不到登记表",
         "文件中没有找到全民参保登记表（工作表：{sheets}）。{suggestion}"),
    Rule("F003", "missing_columns", "error", "缺少必需的列",
         "工作表“{sheet}”缺少列：{columns}。请使用下发的模板，不要删除或改名列标题。{suggestion}"),
    Rule("F004", "empty", "error", "没有填写任何人员",
         "文件中没有已填写的人员或单位行，没有登记任何数据（以前登记的数据保持不变）。"
         "如果发错了文件，请发送填好的模板。"),
    Rule("F005", "region_not_ours", "error", "不属于本辖区",
         "文件所属地区“{value}”不在本工作区“{expected}”的辖区内，未登记。"),
    Rule("F006", "internal_error", "error", "处理时出错",
         "处理这个文件时程序出错（{detail}），没有登记任何数据。原件已保存，请把本回执发给县区经办机构。"),
    Rule("F007", "encrypted", "error", "文件设置了密码",
         "文件设置了打开密码（已加密），无法读取；我们没有、也不需要这个密码。请去掉密码后重新保存再发送："
         "Excel 点“文件→信息→保护工作簿→用密码进行加密”，清空密码后保存；"
         "WPS 点“文件→文档加密→密码加密”，清空打开密码后保存。"),
    Rule("F008", "format_refused", "error", "不接收的文件格式",
         "{kind}（{suffix}）不能读取。请发送填好的登记表：用 Excel 或 WPS 打开，点“另存为”，"
         "文件类型选“Excel 工作簿（*.xlsx）”，保存后再发送。"),
    Rule("F009", "zero_bytes", "error", "空文件",
         "文件是空的（0 字节），可能没有保存完或传送时出错。请在 Excel/WPS 中打开原文件，保存后重新发送。"),
    Rule("F010", "incomplete", "error", "文件不完整",
         "文件不完整（只收到了一部分，或者已经损坏），无法读取。请重新发送原文件；"
         "如果还是不行，请用 Excel/WPS 打开后另存为 .xlsx 再发送。"),
)

# What F001 says the file is, by reason: the one place for these texts.
UNREADABLE_DETAILS: dict[str, str] = {
    "suffix": "不支持的文件类型 {suffix}",
    "not_a_table": "文件内容不是 Excel、WPS 或 CSV 表格",
    "html": "这是网页（HTML）格式的表格，只是扩展名为 {suffix}",
    "zip": "这是一个压缩包，里面没有 Excel 工作簿",
    "damaged": "文件已损坏",
    "encoding": "无法识别 CSV 文件的文字编码",
    "binary": "文件内容不是文字，不是 CSV 表格",
}

# Formats we never read, by suffix: what F008 calls them.
REFUSED_FORMATS: dict[str, str] = {
    ".xlsb": "Excel 二进制工作簿",
    ".et": "WPS 表格格式的文件",
    ".ett": "WPS 表格模板",
    ".wps": "WPS 文字文档（不是表格）",
    ".wpt": "WPS 文字模板（不是表格）",
    ".doc": "Word 文档（不是表格）",
    ".docx": "Word 文档（不是表格）",
    ".pdf": "PDF 文件（不是表格）",
    ".numbers": "Numbers 表格",
}

# File-level problems that mean the file could not be read as a table at all.
UNREADABLE_CODES = frozenset({"F001", "F007", "F008", "F009", "F010"})

RULES: dict[str, Rule] = {r.code: r for r in _CATALOGUE}
BY_NAME: dict[str, Rule] = {r.name: r for r in _CATALOGUE}


def problem(name: str, *, sheet: str = "", row: int = 0, column: str = "", field: str = "",
            value: object = "", **params: object) -> Problem:
    """A Problem of rule `name`, its message filled from the catalogue's template."""
    rule = BY_NAME[name]
    text = "" if value is None else str(value)
    message = rule.message.format(column=column, value=text, sheet=sheet, **params)
    return Problem(rule=rule.code, severity=rule.severity, message=message, sheet=sheet, row=row,
                   column=column, field=field, value=text)


def unreadable(reason: str, **params: object) -> Problem:
    """F001 with the detail of `reason` (a key of UNREADABLE_DETAILS)."""
    return problem("unreadable", detail=UNREADABLE_DETAILS[reason].format(**params))
