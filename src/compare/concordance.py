"""The processed sections → every use of a term in its context (a keyword-in-context concordance).

Input: a term and the sections table. Output: one row per occurrence, with up to `window`
characters on each side, never beyond the sentence. Traditional characters match their
simplified form.
"""

from __future__ import annotations

import re

import pandas as pd

from .clean import fold
from .config import Paths

_SENTENCE_BREAK = "。！？；\n\t"


def kwic(
    term: str,
    paths: Paths | None = None,
    window: int = 20,
    cities: list[str] | None = None,
    sections: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every occurrence of `term` in the section texts, with up to `window` characters of context
    on each side, never beyond its sentence. Traditional characters match their simplified form.

    >>> compare.kwic("双师型")  # doctest: +SKIP
    """
    if sections is None:
        sections = pd.read_parquet((paths or Paths()).table("sections", "parquet"))
    if cities:
        sections = sections[sections.city.isin(cities)]
    needle = fold(term)
    rows = []
    if needle:
        for s in sections.itertuples():
            folded = fold(s.text)
            for m in re.finditer(re.escape(needle), folded):
                lo = max([folded.rfind(c, 0, m.start()) for c in _SENTENCE_BREAK] + [-1]) + 1
                his = [i for i in (folded.find(c, m.end()) for c in _SENTENCE_BREAK) if i >= 0]
                hi = min(his) + 1 if his else len(folded)
                left = s.text[max(lo, m.start() - window) : m.start()]
                right = s.text[m.end() : min(hi, m.end() + window)]
                rows.append(
                    (
                        s.city,
                        s.doc_id,
                        s.section_id,
                        left,
                        s.text[m.start() : m.end()],
                        right,
                        s.char_start + m.start(),
                        s.char_start + m.end(),
                    )
                )
    return pd.DataFrame(
        rows, columns=["city", "doc_id", "section_id", "left", "match", "right", "char_start", "char_end"]
    )
