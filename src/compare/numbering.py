"""The grammar of heading numbers in Chinese policy documents.

Input: a line of cleaned text. Output: the heading marker at its start, if any — its kind,
its rank in the outline (lower ranks contain higher ones), the number as printed and the
canonical form used in section ids. Used by the cleaner (never join a heading to the line
before) and by the section parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .patterns import HEADING_NUMERAL_CHARS as CN_DIGITS

# (kind, rank, pattern). Rank orders the outline: 第一章 > 一、 > （一） > 1． > （1） > ①.
_MARKERS: tuple[tuple[str, int, re.Pattern], ...] = (
    ("chapter", 0, re.compile(rf"^第([{CN_DIGITS}]+)章\s*")),
    ("section", 1, re.compile(rf"^第([{CN_DIGITS}]+)节\s*")),
    ("cn", 2, re.compile(rf"^([{CN_DIGITS}]+)[、．.](?!\d)")),
    ("paren_cn", 3, re.compile(rf"^（([{CN_DIGITS}]+)）")),
    ("article", 4, re.compile(rf"^第([{CN_DIGITS}]+)条\s*")),
    ("arabic", 4, re.compile(r"^(\d{1,3})(?:[．.、](?!\d)|\s+(?=\D))")),
    ("paren_arabic", 5, re.compile(r"^（(\d{1,3})）")),
    ("circled", 6, re.compile(r"^([①-⑳])")),
)


@dataclass(frozen=True)
class Marker:
    kind: str
    rank: int
    printed: str  # as in the text, e.g. "（四）" or "9．"
    key: str  # as in section ids, e.g. "(四)" or "9"
    end: int  # where the marker ends in the line


def match_marker(line: str) -> Marker | None:
    for kind, rank, pattern in _MARKERS:
        m = pattern.match(line)
        if m:
            value = m.group(1)
            key = (
                f"({value})"
                if kind.startswith("paren")
                else (m.group(0).strip() if kind in ("chapter", "section", "article") else value)
            )
            return Marker(kind, rank, m.group(0).strip(), key, m.end())
    return None


def is_heading_start(line: str) -> bool:
    return match_marker(line) is not None
