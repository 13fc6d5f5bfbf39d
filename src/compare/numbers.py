"""Numerals as Chinese policy documents write them → numbers.

Input: a numeral as printed — Arabic (50, 1.5), Chinese (两, 一万二千, 千), mixed with a
magnitude (1.5万, 50万), 百分之三十, 一半, or a year (2025, 二〇二五). Output: a float, or
None when the string is not a number. cn2an does the Chinese numerals; this module adds the
forms it does not take (a bare 千/万/百, 两, years written digit by digit).
"""

from __future__ import annotations

import re
from decimal import Decimal

import cn2an

from .patterns import ARABIC, CN_DIGITS, CN_NUMERAL, NUMBER

_MAGNITUDE = {"万": Decimal(10**4), "亿": Decimal(10**8)}
_YEAR_DIGITS = str.maketrans(CN_DIGITS, "00123456789")


def parse_number(text: str) -> float | None:
    """'50' → 50, '1.5万' → 15000, '两' → 2, '千' → 1000, '一万二千' → 12000."""
    text = text.strip()
    if not text:
        return None
    m = re.fullmatch(rf"({ARABIC})([万亿]?)", text)
    if m:
        # In decimal, so that 2.3亿 is 230000000, not the binary float product 229999999.99999997.
        return float(Decimal(m.group(1)) * _MAGNITUDE.get(m.group(2), 1))
    if not re.fullmatch(CN_NUMERAL, text):
        return None
    if text[0] in "百千万亿":
        text = "一" + text
    try:
        return float(cn2an.cn2an(text.replace("两", "二"), "smart"))
    except (ValueError, KeyError):
        return None


def parse_year(text: str) -> int | None:
    """'2025' or '二〇二五' → 2025 (four digits written out one by one)."""
    digits = text.translate(_YEAR_DIGITS)
    if re.fullmatch(r"\d{4}", digits) and 1949 <= int(digits) <= 2100:
        return int(digits)
    return None


def parse_percent(text: str) -> float | None:
    """'百分之三十' → 30, '一半' → 50."""
    if text == "一半":
        return 50.0
    m = re.fullmatch(rf"百分之({NUMBER})", text)
    return parse_number(m.group(1)) if m else None
