"""Cleaned text and sections → the citations table: the documents each document cites, and its
declared parents.

Input: a document's cleaned text, sections and registry row. Output: :class:`Citation`
records — every 《…》 title (with the document number that follows it, e.g.
（甘政发〔2020〕38号）) and every free-standing document number — and their table. Citations in
the preamble are the document's declared parents: the higher-level plans it says it implements.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from .patterns import DOC_NUMBER, DOC_NUMBER_RE, DRAFT_MARKS
from .registry import Document
from .sections import Section, section_id_finder

TITLE_RE = re.compile(r"《([^《》]{2,120})》")
NUMBER_AFTER_TITLE_RE = re.compile(rf"^（({DOC_NUMBER})）")


@dataclass
class Citation:
    doc_id: str
    section_id: str
    title: str
    doc_number: str
    char_start: int
    char_end: int
    is_parent: bool


def normalised_title(title: str) -> str:
    """A title as it is cited and as it is registered, made comparable: no brackets, quotes or
    spaces, no draft mark, and a notice that issues a document (关于印发…的通知) stands for it."""
    t = re.sub(r"[\s《》〈〉“”\"'‘’]", "", title)
    t = re.sub(rf"（(?:{'|'.join(DRAFT_MARKS)}|试行)）$", "", t)
    m = re.fullmatch(r".*?关于印发(.+?)的通知", t)
    return m.group(1) if m else t


def extract_citations(cleaned: str, sections: list[Section], doc: Document) -> list[Citation]:
    section_at = section_id_finder(sections, hold_empty=True)  # the preamble includes its title lines
    preamble_end = next((s.char_end for s in sections if s.kind == "preamble"), 0)
    # its own title — a notice that issues a plan (关于印发…的通知) names the plan as its own
    own_title, own_number = normalised_title(doc.title), doc.doc_number
    found: list[Citation] = []
    covered: list[tuple[int, int]] = []
    for m in TITLE_RE.finditer(cleaned):
        title = m.group(1)
        if own_title and normalised_title(title) == own_title:
            continue
        end = m.end()
        number = ""
        after = NUMBER_AFTER_TITLE_RE.match(cleaned[end : end + 40])
        if after:
            number = after.group(1)
            end += after.end()
        covered.append((m.start(), end))
        found.append(
            Citation(doc.doc_id, section_at(m.start()), title, number, m.start(), end, m.start() < preamble_end)
        )
    for m in DOC_NUMBER_RE.finditer(cleaned):
        if m.group(0) == own_number or any(s <= m.start() < e for s, e in covered):
            continue
        found.append(
            Citation(doc.doc_id, section_at(m.start()), "", m.group(0), m.start(), m.end(), m.start() < preamble_end)
        )
    return sorted(found, key=lambda c: c.char_start)


def describe(citation: Citation) -> str:
    if citation.title and citation.doc_number:
        return f"《{citation.title}》（{citation.doc_number}）"
    return f"《{citation.title}》" if citation.title else citation.doc_number


def cited_works(citations: list[Citation]) -> list[str]:
    """Distinct works in order of first citation; a title cited with and without its number counts once."""
    works: dict[str, Citation] = {}
    for c in citations:
        key = normalised_title(c.title) or c.doc_number
        if key not in works or (c.doc_number and not works[key].doc_number):
            works[key] = c
    return [describe(c) for c in works.values()]


def citations_frame(citations: list[Citation]) -> pd.DataFrame:
    """The citations table's rows."""
    from .schemas import CITATIONS

    return pd.DataFrame([vars(c) for c in citations], columns=CITATIONS.columns)
