"""Decoded raw text → one normalised analysis text per document, and the cleaning_log table.

Input: a document's raw text. Output: :class:`Cleaned` — the analysis text (one paragraph
per line; attachment tables one row per line, cells separated by tabs) and every raw line
the cleaner removed, with its line number and reason (the ``cleaning_log`` table).

What changes, and why:
- web-page chrome (breadcrumbs, the disclosure index block, site footers) and lists of
  named officials are removed and reported, never silently dropped;
- paragraphs a PDF broke across lines are rejoined;
- full-width digits and letters become ASCII, ASCII punctuation inside Chinese text becomes
  Chinese punctuation (brackets become （）), and spaces next to Chinese text go, so that
  “5 个”, “(一)” and “到 2023 年” parse like “5个”, “（一）” and “到2023年”.
Every Chinese character of the raw text that is not on a removed line survives, in order.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from functools import lru_cache

import pandas as pd

from .config import PACKAGE_DATA
from .numbering import is_heading_start
from .patterns import DOC_TYPE, HAN, HAN_RUN_RE, TASK_LABEL

LABEL_RE = re.compile(rf"^(?:（?{TASK_LABEL}[:：]|附件)")
DATE_LINE_RE = re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日$")
ATTACHMENT_RE = re.compile(r"^附件\s*(\d{1,2})\s*(?:[:：]\s*(.*))?$")
TABLE_START = "序号"

_TERMINAL = "。！？；：…!?;:"
_DOC_TYPE_END = re.compile(rf"(?:{DOC_TYPE}|意见稿）|清单|名单)$")  # a title line: never joined to the next
_MIN_BROKEN_LINE = 20  # a line shorter than this is a title, signature or cell, not a page-broken one

_SPACE_CHARS = "\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000\t"
_SPACES_TO_BLANK = {ord(c): " " for c in _SPACE_CHARS}
_TRANSLATE = dict(_SPACES_TO_BLANK)
_TRANSLATE.update({ord("\u200b"): None, ord("\ufeff"): None})
_TRANSLATE.update({0xFF10 + i: 0x30 + i for i in range(10)})  # ０-９
_TRANSLATE.update({0xFF21 + i: 0x41 + i for i in range(26)})  # Ａ-Ｚ
_TRANSLATE.update({0xFF41 + i: 0x61 + i for i in range(26)})  # ａ-ｚ
_TRANSLATE.update({ord("％"): "%", ord("("): "（", ord(")"): "）", ord(";"): "；", ord("?"): "？", ord("!"): "！"})

_NAME = rf"[{HAN}](?: ?[{HAN}]){{1,3}}"
_POSITION_END = r"(?:长|主任|书记|秘书长|调研员|巡视员|主席|委员|院长|校长|部长|处长|科长|馆长|（兼）|\(兼\))"
NAMES_RE = re.compile(rf"^(?:[{HAN} ]{{1,8}}[:：] *)?{_NAME}\s{{1,}}[{HAN}、（）()]{{2,40}}{_POSITION_END}$")


@dataclass(frozen=True)
class RemovedLine:
    line: int  # 1-based line number in the raw text
    reason: str
    text: str


@dataclass
class Cleaned:
    text: str
    removed: list[RemovedLine] = field(default_factory=list)


@lru_cache(maxsize=1)
def boilerplate_patterns() -> tuple[tuple[str, re.Pattern], ...]:
    with open(PACKAGE_DATA / "boilerplate.csv", encoding="utf-8", newline="") as f:
        return tuple((row["reason"], re.compile(row["pattern"])) for row in csv.DictReader(f))


_LINE_RULES = tuple(
    (re.compile(pattern), repl)
    for pattern, repl in (
        (r"(?<!\d),|,(?!\d)", "，"),
        (r"(?<!\d):|:(?!\d)", "："),
        (r"(?<=\d)：(?=\d)", ":"),
        (r"(?<=\d)．(?=\d)", "."),
        (rf"(?<=[{HAN}”）%])\.(?!\d)", "。"),  # a half-width full stop ending a Chinese sentence
        (r'"([^"\n]{1,40})"', r"“\1”"),  # half-width quotation marks around Chinese words
        (r"(?<!-)--(?!-)", "——"),  # a half-width dash pair is the Chinese dash
        (r" +", " "),
    )
)
_LONE_SPACE = re.compile(r"(?<![A-Za-z0-9]) | (?![A-Za-z0-9])")


def normalise_line(line: str) -> str:
    """Character-level normalisation of one line (see the module docstring)."""
    s = line.translate(_TRANSLATE)
    for pattern, repl in _LINE_RULES:
        s = pattern.sub(repl, s)
    # A space survives only between two ASCII letters or digits ("GB 18030").
    return _LONE_SPACE.sub("", s.strip())


def removal_reason(stripped: str) -> str | None:
    """Why a raw line (stripped, spaces kept) is boilerplate, or None if it is content."""
    for reason, pattern in boilerplate_patterns():
        if pattern.search(stripped):
            return reason
    if len(stripped) <= 60 and "。" not in stripped and "，" not in stripped:
        if NAMES_RE.match(stripped.replace("\u3000", " ")):
            return "names_list"
    return None


def _is_table_number(cell: str, expected: int) -> bool:
    return cell.strip() == str(expected)


def _render_table(lines: list[tuple[int, str]]) -> list[str]:
    """A flattened table (序号 header, then rows) → one line per row, cells joined by tabs.

    Cells are either marked by a leading tab (copied from a word processor) or are the
    non-blank lines between blank lines (copied from a web page). A row starts at the cell
    holding the next expected row number.
    """
    tab_mode = any(raw.startswith("\t") for _, raw in lines)
    cells: list[list[str]] = []
    for _, raw in lines:
        if not raw.strip():
            continue
        if tab_mode and not raw.startswith("\t") and cells:
            cells[-1].append(raw.strip())
        else:
            cells.append([raw.strip()])
    header: list[str] = []
    rows: list[list[list[str]]] = []
    for cell in cells:
        if _is_table_number(cell[0], len(rows) + 1) and len(cell) == 1:
            rows.append([cell])
        elif rows:
            rows[-1].append(cell)
        else:
            header.append(normalise_line(" ".join(cell)))
    out = ["\t".join(h for h in header if h)]
    unit_columns = {i for i, h in enumerate(header) if re.search(r"部门|单位", h)}
    for row in rows:
        rendered = []
        for i, cell in enumerate(row):
            parts = [normalise_line(p) for p in cell]
            rendered.append(("、" if i in unit_columns else "").join(p for p in parts if p))
        out.append("\t".join(rendered))
    return out


def _joinable(prev_physical: str, nxt: str) -> bool:
    """Did a page or line break split one paragraph between these two lines?"""
    return (
        len(prev_physical) >= _MIN_BROKEN_LINE
        and prev_physical[-1] not in _TERMINAL
        and not _DOC_TYPE_END.search(prev_physical)
        and not is_heading_start(nxt)
        and not LABEL_RE.match(nxt)
        and not DATE_LINE_RE.match(nxt)
        and not nxt.startswith("——")
    )


def clean(raw: str) -> Cleaned:
    """Clean one document's raw text."""
    raw = raw.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    raw_lines = raw.split("\n")
    removed: list[RemovedLine] = []
    kept: list[tuple[int, str]] = []  # (line number, raw line) of content and blank lines
    for i, line in enumerate(raw_lines, start=1):
        stripped = line.translate(_SPACES_TO_BLANK).strip()
        reason = removal_reason(stripped) if stripped else None
        if reason:
            removed.append(RemovedLine(i, reason, line.strip()))
            kept.append((i, "\x00"))  # a barrier: nothing is joined across a removed line
        else:
            kept.append((i, line))

    # Split into prose and table blocks: a table runs from a 序号 line to the next attachment.
    out: list[str] = []
    blank_run = 0
    barrier = True
    last_physical = ""
    idx = 0
    while idx < len(kept):
        _, raw_line = kept[idx]
        if raw_line == "\x00":
            barrier, blank_run = True, 0
            idx += 1
            continue
        line = normalise_line(raw_line)
        if not line:
            blank_run += 1
            idx += 1
            continue
        if line == TABLE_START:
            end = idx + 1
            while end < len(kept) and not ATTACHMENT_RE.match(normalise_line(kept[end][1])):
                end += 1
            out.extend(r for r in _render_table([k for k in kept[idx:end] if k[1] != "\x00"]) if r)
            idx, barrier, blank_run = end, True, 0
            continue
        if out and not barrier and blank_run <= 1 and _joinable(last_physical, line):
            out[-1] += line
        else:
            out.append(line)
        last_physical, barrier, blank_run = line, False, 0
        idx += 1
    return Cleaned(text="\n".join(out) + "\n", removed=removed)


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=4096)
def _fold_char(c: str) -> str:
    s = _t2s().convert(c)
    return s if len(s) == 1 else c


def fold(text: str) -> str:
    """Traditional → simplified characters for matching, keeping every offset (學 → 学).

    Quotes and stored texts keep the original characters; only matching uses the folded copy.
    """
    folded = _t2s().convert(text)
    if len(folded) == len(text):
        return folded
    return "".join(_fold_char(c) for c in text)


def han_sequence(text: str) -> str:
    """The Chinese characters of a text, in order (the cleaner's no-loss invariant)."""
    return "".join(HAN_RUN_RE.findall(text))


def cleaning_log_frame(docs) -> pd.DataFrame:
    """The cleaning_log table's rows: `docs` are (doc_id, Cleaned) per document."""
    from .schemas import CLEANING_LOG

    rows = [
        {"doc_id": doc_id, "line": x.line, "reason": x.reason, "text": x.text}
        for doc_id, cleaned in docs
        for x in cleaned.removed
    ]
    return pd.DataFrame(rows, columns=CLEANING_LOG.columns).astype({"line": int})
