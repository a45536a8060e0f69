"""Live checks: the rules of `engine.rules` that a formula can express, as conditional formats.

A cell turns red while staff type, before anything is sent (the engine still checks every
row again). Each check names the rule it anticipates, the cells it colours and a formula
over the row's cells, written for the first data row with absolute columns ($C4) so that
it holds for every row. The formulas use only functions that Excel 2007+, WPS and
LibreOffice share (SUMPRODUCT over MID with array constants, no dynamic arrays), and 1/0
for true and false (LibreOffice, which has no boolean type, would rewrite TRUE/FALSE on
saving). Each column has at most three, the most an .xls keeps. test_libreoffice has
LibreOffice compute them and compares with the engine's rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from engine.form import OTHER_CODES, Form


@dataclass(frozen=True)
class LiveCheck:
    rule: str                   # the rule's name in engine.problems
    targets: tuple[str, ...]    # the fields whose cells turn red, in column order
    formula: str                # true when the targets are wrong ('=...', for the first data row)
    each: bool = False          # the formula names the first target with a relative column and
    # judges each target cell on its own (the engine reports it at that cell); otherwise it
    # judges the row and the engine reports it at the first target


_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))             # GB 11643: 2^(17-i) mod 11
_ID_CHECK = "10X98765432"
_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"                     # GB 32100
_CREDIT_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))               # 3^i mod 31


def _array(values: Iterable[object]) -> str:
    return "{" + ",".join(map(str, values)) + "}"


def id_check_digit_wrong(x: str) -> str:
    """An 18-character ID whose last character is not the check character of the first 17
    (or whose first 17 are not all digits)."""
    total = f"SUMPRODUCT(MID({x},{_array(range(1, 18))},1)*{_array(_ID_WEIGHTS)})"
    return f'AND(LEN({x})=18,IFERROR(MID("{_ID_CHECK}",MOD({total},11)+1,1)<>UPPER(RIGHT({x},1)),1))'


def credit_check_wrong(x: str) -> str:
    """An 18-character 统一社会信用代码 whose last character is not its check character."""
    total = (f'SUMPRODUCT((FIND(MID(UPPER({x}),{_array(range(1, 18))},1),"{_CREDIT_ALPHABET}")-1)'
             f"*{_array(_CREDIT_WEIGHTS)})")
    check = f'MID("{_CREDIT_ALPHABET}",MOD(31-MOD({total},31),31)+1,1)'
    return f"AND(LEN({x})=18,IFERROR({check}<>UPPER(RIGHT({x},1)),1))"


def mobile_wrong(x: str) -> str:
    """Filled, and not 11 digits starting 1, then 3-9 (what the engine's rule accepts)."""
    digits = f"ISNUMBER(SUMPRODUCT(MID({x},{_array(range(1, 12))},1)*1))"
    return f'AND({x}<>"",NOT(AND(LEN({x})=11,LEFT({x},1)="1",ISNUMBER(FIND(MID({x},2,1),"3456789")),{digits})))'


def code_is(x: str, code: str) -> str:
    """The cell holds `code`, alone or as a dropdown entry ('0 已单位就业')."""
    return f'OR({x}="{code}",LEFT({x},{len(code) + 1})="{code} ")'


def started(form: Form, refs: Mapping[str, str]) -> str:
    """`Form.started` as a formula: any column only a visit fills, or, for persons, an ID
    typed on a row without a roster number (a person found at the door)."""
    work = [refs[f.key] for f in form.fields if f.key in form.work_keys and f.key in refs]
    formula = f"COUNTA({','.join(work)})>0"
    if form.kind == "persons" and "person_no" in refs and "id_number" in refs:
        formula = f'OR({formula},AND({refs["person_no"]}="",{refs["id_number"]}<>""))'
    return formula


def live_checks(form: Form, refs: Mapping[str, str]) -> list[LiveCheck]:
    """The checks that apply to a sheet with the columns `refs` (field key -> cell)."""
    go = started(form, refs)
    required = tuple(f.key for f in form.fields if f.required and f.kind != "date" and not f.derived and f.key in refs)
    checks = [LiveCheck("required", required, f'=AND({go},{refs[required[0]].lstrip("$")}="")', each=True)
              ] if required else []

    def add(rule: str, targets: tuple[str, ...], needs: tuple[str, ...], formula: Callable[..., str],
            gated: bool = False) -> None:
        """`gated`: the check fires on a value the roster pre-fills, so only on a started row
        (the engine checks only those)."""
        if all(k in refs for k in (*targets, *needs)):
            text = formula(*(refs[k] for k in needs))
            checks.append(LiveCheck(rule, targets, f"=AND({go},{text})" if gated else f"={text}"))

    add("id_format", ("id_number",), ("id_number",), lambda x: f"AND(LEN({x})>0,LEN({x})<>15,LEN({x})<>18)")
    add("id_check_digit", ("id_number",), ("id_number",), id_check_digit_wrong)
    add("sex_vs_id", ("sex",), ("id_number", "sex"), lambda x, s: (
        f'AND(LEN({x})=18,OR(LEFT({s},1)="1",LEFT({s},1)="2"),'
        f'IFERROR(LEFT({s},1)<>IF(MOD(MID({x},17,1)*1,2)=1,"1","2"),0))'))
    add("employer_missing", ("employer",), ("employment", "employer"),
        lambda e, w: f'AND({code_is(e, "0")},{w}="")')
    for key, (code, other) in OTHER_CODES.items():
        add("other_missing", (other,), (key, other), lambda c, o, code=code: f'AND({code_is(c, code)},{o}="")',
            gated=key in form.by_key and form[key].prefilled)
    add("reason_missing", ("uninsured_reason",), ("pension", "uninsured_reason"),
        lambda p, r: f'AND({go},{p}="",{r}="")')
    add("reason_with_pension", ("uninsured_reason", "pension"), ("pension", "uninsured_reason"),
        lambda p, r: f'AND({p}<>"",{r}<>"")')
    add("phone_missing", ("mobile", "landline"), ("mobile", "landline"),
        lambda m, n: f'AND({go},{m}="",{n}="")')
    add("mobile_format", ("mobile",), ("mobile",), mobile_wrong)
    add("credit_code_format", ("credit_code",), ("credit_code",), lambda x: f"AND(LEN({x})>0,LEN({x})<>18)")
    add("credit_code_check", ("credit_code",), ("credit_code",), credit_check_wrong)
    return checks
