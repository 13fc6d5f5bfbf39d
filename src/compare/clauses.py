"""Cleaned text and sections → the clauses (条款): the unit of every clause-level analysis.

Input: a document's cleaned text and its sections. Output: :class:`Sentence` records in document
order — the text up to and including 。！？ or ；, a table cell or a line, each inside one section,
with a heading's number left out and blank or punctuation-only pieces dropped. Lineage aligns these
with a parent's; policy-instrument coding codes them.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from .numbering import match_marker
from .sections import Section

_SENTENCE_RE = re.compile(r"[^\s。！？；][^。！？；\t\n]*[。！？；]?")  # from its first visible character
_WORD_RE = re.compile(r"[^\W_]")  # a letter, digit or Chinese character


class Sentence(NamedTuple):  # tuples: a thousand documents' sentences pass between processes
    section_id: str
    start: int
    end: int


def sentences(text: str, sections: list[Section]) -> list[Sentence]:
    """A document's sentences and clauses (ending at 。！？；, a cell or a line), in document order, each
    inside one section; a heading's number is not part of its sentence."""
    out: list[Sentence] = []
    for sec in sections:
        pos = sec.heading_start if sec.heading_start >= 0 else sec.char_start
        while pos < sec.char_end:
            line_end = text.find("\n", pos, sec.char_end)
            line_end = sec.char_end if line_end < 0 else line_end
            at_line_start = pos == 0 or text[pos - 1] == "\n"
            marker = match_marker(text[pos:line_end]) if at_line_start else None
            for m in _SENTENCE_RE.finditer(text, pos + (marker.end if marker else 0), line_end):
                if _WORD_RE.search(m.group()):
                    out.append(Sentence(sec.section_id, m.start(), m.end()))
            pos = line_end + 1
    return out
