"""Cleaned text → the document's section tree, and the sections table.

Input: one document's cleaned text (see :mod:`compare.clean`). Output: :class:`Section`
records in document order: the preamble, the numbered headings (一、 / （一） / 1． …, nested by
rank), each attachment (附件1 …) as its own subtree, and one row section per row of an
attachment table. ``text`` is the section's own body (not its children's) and always equals
``cleaned[char_start:char_end]``.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from .clean import ATTACHMENT_RE, TABLE_START
from .numbering import match_marker

ROW_RE = re.compile(r"^(\d{1,3})\t")
ATTACHMENT_INDEX_RE = re.compile(r"^附件[:：]")
_TITLE_MAX = 40
_UNITS_HEADER = re.compile(r"部门|单位")


@dataclass(slots=True)
class Section:
    section_id: str
    doc_id: str
    parent_id: str
    level: int
    number: str
    title: str
    kind: str  # preamble / body / attachment / task_row / list_row
    char_start: int
    char_end: int
    order: int = 0
    heading_start: int = -1  # where the heading line starts (the title can hold text too)
    # For table rows: header → (cell text, start offset in the cleaned text).
    cells: dict[str, tuple[str, int]] = field(default_factory=dict)

    def text(self, cleaned: str) -> str:
        return cleaned[self.char_start : self.char_end]


@dataclass
class ParsedDocument:
    sections: list[Section]
    warnings: list[str]


def _split_heading(rest: str) -> tuple[str, int]:
    """A heading's title and where its body starts within ``rest`` (the line after the marker).

    “健全多元办学格局。构建…” runs the body on after the title; “指导思想” is a title alone;
    a long line with no early full stop is an untitled numbered paragraph.
    """
    stop = rest.find("。")
    if 0 < stop <= _TITLE_MAX and "，" not in rest[:stop]:
        return rest[:stop], stop + 1
    if stop < 0 and len(rest) <= _TITLE_MAX:
        return rest, len(rest)
    return "", 0


def _row_title(content: str) -> str:
    first = re.split(r"[，。；：]", content, maxsplit=1)[0]
    return first[:30]


def parse_sections(cleaned: str, doc_id: str) -> ParsedDocument:
    sections: list[Section] = []
    warnings: list[str] = []
    ids: set[str] = set()
    repeats: dict[str, int] = {}
    stack: list[tuple[int, Section]] = []
    current: Section | None = None
    attachment: Section | None = None
    header: list[str] = []
    in_closing = False

    def new_section(parent: Section | None, key: str, **kw) -> Section:
        base = f"{parent.section_id}/{key}" if parent else f"{doc_id}/{key}"
        sid = base
        while sid in ids:  # a number printed twice under one parent: qingyang/附件2/3~2
            repeats[base] = repeats.get(base, 1) + 1
            sid = f"{base}~{repeats[base]}"
        ids.add(sid)
        sec = Section(section_id=sid, doc_id=doc_id, parent_id=parent.section_id if parent else "", **kw)
        sections.append(sec)
        return sec

    offset = 0
    lines = cleaned.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        start, end = offset, offset + len(line)
        offset = end + 1
        i += 1
        if not line:
            continue
        m_att = ATTACHMENT_RE.match(line)
        if m_att:
            title = (m_att.group(2) or "").strip()
            body_start = end
            if (
                not title
                and i < len(lines)
                and lines[i]
                and not lines[i].startswith(TABLE_START)
                and not ATTACHMENT_RE.match(lines[i])
                and match_marker(lines[i]) is None
                and len(lines[i]) <= 60
            ):
                title = lines[i]
                body_start = offset + len(lines[i])
                offset += len(lines[i]) + 1
                i += 1
            attachment = new_section(
                None,
                f"附件{m_att.group(1)}",
                level=1,
                number=f"附件{m_att.group(1)}",
                title=title,
                kind="attachment",
                char_start=body_start,
                char_end=body_start,
            )
            stack, current, header, in_closing = [(-1, attachment)], attachment, [], False
            continue
        if attachment is None and ATTACHMENT_INDEX_RE.match(line):
            in_closing, current = True, None  # the list of attachments, signature and date
            continue
        if in_closing:
            continue
        if line.startswith(TABLE_START) and attachment is not None:
            header, current = line.split("\t"), None
            continue
        m_row = ROW_RE.match(line)
        if m_row and attachment is not None and header:
            cells = line.split("\t")
            positions, pos = [], start
            for cell in cells:
                positions.append(pos)
                pos += len(cell) + 1
            content, content_start = cells[1], positions[1]
            named = {}
            for j, cell in enumerate(cells[2:], start=2):
                named[header[j] if j < len(header) else f"column{j + 1}"] = (cell, positions[j])
            is_task = any(_UNITS_HEADER.search(h) for h in header[2:])
            new_section(
                attachment,
                m_row.group(1),
                level=attachment.level + 1,
                number=m_row.group(1),
                title=_row_title(content),
                kind="task_row" if is_task else "list_row",
                char_start=content_start,
                char_end=content_start + len(content),
                cells=named,
            )
            current = None
            continue
        marker = match_marker(line)
        if marker is not None and attachment is None:
            title, body_at = _split_heading(line[marker.end :])
            while stack and stack[-1][0] >= marker.rank:
                stack.pop()
            parent = stack[-1][1] if stack else None
            body_start = start + marker.end + body_at
            sec = new_section(
                parent,
                marker.key,
                level=len(stack) + 1,
                number=marker.printed,
                title=title.strip(),
                kind="body",
                char_start=body_start,
                char_end=end,
                heading_start=start,
            )
            if body_start >= end:  # title-only line: the body, if any, starts on the next line
                sec.char_start = sec.char_end = end
            stack.append((marker.rank, sec))
            current = sec
            continue
        if current is None:
            if sections:
                warnings.append(f"line {i}: text outside any section was left out: {line[:30]}…")
                continue
            current = new_section(
                None, "preamble", level=1, number="", title="", kind="preamble", char_start=start, char_end=end
            )
            continue
        if current.char_start == current.char_end and not cleaned[current.char_start : current.char_end]:
            current.char_start = start
        current.char_end = end

    if not any(s.kind != "preamble" for s in sections):
        warnings.append("no numbered headings (一、 / （一） / 1．) found: the whole text is one section")
        sections = [
            Section(
                section_id=f"{doc_id}/text",
                doc_id=doc_id,
                parent_id="",
                level=1,
                number="",
                title="",
                kind="body",
                char_start=0,
                char_end=len(cleaned.rstrip("\n")),
            )
        ]
    for order, sec in enumerate(sections):
        sec.order = order
        if sec.heading_start < 0:
            sec.heading_start = sec.char_start
        body = cleaned[sec.char_start : sec.char_end]
        sec.char_start += len(body) - len(body.lstrip())
        sec.char_end -= len(body) - len(body.rstrip())
        sec.char_end = max(sec.char_end, sec.char_start)
    return ParsedDocument(sections, warnings)


def section_id_finder(sections: list[Section], hold_empty: bool = False) -> Callable[[int], str]:
    """offset → the id of the innermost section whose span holds it, "" when none does (sections nest
    and come in document order, so that is the last one, in order, starting at or before the offset
    that still holds it). With `hold_empty`, a section with an empty body holds its own start."""
    order = sorted(range(len(sections)), key=lambda i: (sections[i].char_start, i))
    starts = [sections[i].char_start for i in order]

    def at(pos: int) -> str:
        for k in range(bisect.bisect_right(starts, pos) - 1, -1, -1):
            sec = sections[order[k]]
            if pos < (max(sec.char_end, sec.char_start + 1) if hold_empty else sec.char_end):
                return sec.section_id
        return ""

    return at


def sections_frame(docs) -> pd.DataFrame:
    """The sections table's rows: `docs` are (city, cleaned text, sections) per document."""
    from .schemas import SECTIONS

    rows = [
        {
            "section_id": s.section_id,
            "doc_id": s.doc_id,
            "city": city,
            "parent_id": s.parent_id,
            "level": s.level,
            "number": s.number,
            "title": s.title,
            "text": s.text(text),
            "char_start": s.char_start,
            "char_end": s.char_end,
            "kind": s.kind,
            "order": s.order,
        }
        for city, text, sections in docs
        for s in sections
    ]
    return pd.DataFrame(rows, columns=SECTIONS.columns)
