"""The shared vocabulary of the text: what counts as a Chinese character, a numeral, a year, a
document number, a document type and a task-assignment label — each defined once, here.

Input: nothing (a leaf module: every other module may import it, it imports none of them).
Output: character classes, compiled patterns and word lists. Vocabularies a researcher extends
for extraction (comparator phrases, units, measure words, verbs) are data, in
``data/lexicon.yaml`` (see :mod:`compare.lexicon`); these are the fixed facts of the script and
of Chinese official-document conventions.
"""

from __future__ import annotations

import re

import numpy as np

# ---- characters

# Chinese characters: CJK Unified Ideographs, Extension A, the Compatibility Ideographs and the
# supplementary-plane extensions (B onwards). Everything that asks "is this Chinese?" uses these.
HAN_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3134F))
HAN = "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in HAN_RANGES)  # for use inside a [...] class
HAN_RE = re.compile(f"[{HAN}]")
HAN_RUN_RE = re.compile(f"[{HAN}]+")
# "Text" characters, as text comparison sees them: Chinese characters, ASCII letters and digits
# (punctuation, spaces and symbols are not compared).
NOT_TEXT_RE = re.compile(f"[^{HAN}A-Za-z0-9]+")


def is_text_char(c: str) -> bool:
    """A Chinese character, an ASCII letter or an ASCII digit."""
    return bool(HAN_RE.match(c)) or (c.isascii() and c.isalnum())


def text_mask(codes: np.ndarray) -> np.ndarray:
    """`is_text_char` for an array of code points."""
    mask = ((codes >= 48) & (codes <= 57)) | ((codes >= 65) & (codes <= 90)) | ((codes >= 97) & (codes <= 122))
    for lo, hi in HAN_RANGES:
        mask |= (codes >= lo) & (codes <= hi)
    return mask


# ---- numerals

CN_DIGITS = "〇零一二三四五六七八九"  # how a year is written digit by digit (二〇二五)
CN_NUMERAL_CHARS = "零〇一二两三四五六七八九十百千万亿"
# Numerals that number a heading (一、 十二、 （二十）): no 千/万/亿, which start ordinary words (千亩, 万名).
HEADING_NUMERAL_CHARS = CN_NUMERAL_CHARS.replace("千万亿", "")
ARABIC = r"\d+(?:\.\d+)?"
CN_NUMERAL = f"[{CN_NUMERAL_CHARS}]+"
# A number as printed: Arabic with an optional magnitude (1.5万), or a run of Chinese numerals.
NUMBER = rf"(?:{ARABIC}(?:[万亿])?|{CN_NUMERAL})"
YEAR = rf"\d{{4}}|[{CN_DIGITS}]{{4}}"  # a year as printed: 2025 or 二〇二五

# ---- official-document conventions

# The brackets, year and serial of a document number (〔2021〕13号), and the full number with its
# issuer's abbreviation in front (庆政发〔2021〕13号).
DOC_NUMBER_SERIAL = r"[〔［\[【]\d{4}[〕］\]】]\d{1,4}号"
DOC_NUMBER = rf"[{HAN}]{{1,12}}{DOC_NUMBER_SERIAL}"
DOC_NUMBER_RE = re.compile(DOC_NUMBER)

# The words a document's title ends with: what kind of document it is.
DOC_TYPES = ("意见", "方案", "计划", "办法", "通知", "措施", "规划", "决定", "细则", "纲要", "条例", "规定", "要点")
DOC_TYPE = "(?:" + "|".join(DOC_TYPES) + ")"
DRAFT_MARKS = ("征求意见稿", "草案", "讨论稿")  # a draft says so after its title

# The labels of a task assignment (责任单位：市教育局 / 完成时限：2023年6月), and the role of each.
TASK_LABELS = {
    "责任单位": "lead",
    "牵头单位": "lead",
    "责任部门": "lead",
    "配合单位": "support",
    "协办单位": "support",
    "完成时限": "deadline",
    "时间节点": "deadline",
}
TASK_LABEL = "(?:" + "|".join(TASK_LABELS) + ")"
