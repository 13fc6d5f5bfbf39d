"""Sections and tasks → the analysis units: the text every cross-document comparison reads.

Input: the sections and tasks tables. Output: one row per section with enough text to compare —
its body without its task assignment (the 责任单位 / 配合单位 / 完成时限 lines), kept when at least
MIN_HAN Chinese characters remain — with the kept pieces as offsets into the cleaned text. Section
pairs, document similarity and keyness count these units' tokens; shared passages compare their
spans.
"""

from __future__ import annotations

import pandas as pd

from .clean import han_sequence

MIN_HAN = 10  # sections with fewer Chinese characters say too little to compare


def analysis_units(sections: pd.DataFrame, tasks: pd.DataFrame) -> pd.DataFrame:
    """Columns section_id, doc_id, city, order, text and spans (the kept pieces of the cleaned text)."""
    cuts: dict[str, list[tuple[int, int]]] = {}
    for t in tasks.itertuples():
        cuts.setdefault(t.doc_id, []).append((t.char_start, t.char_end))
    rows = []
    for s in sections.itertuples():
        pieces, pos = [], s.char_start
        for cs, ce in sorted(cuts.get(s.doc_id, [])):
            if ce <= pos or cs >= s.char_end:
                continue
            if cs > pos:
                pieces.append((pos, cs))
            pos = max(pos, ce)
        if pos < s.char_end:
            pieces.append((pos, s.char_end))
        text = "".join(s.text[a - s.char_start : b - s.char_start] for a, b in pieces)
        if len(han_sequence(text)) >= MIN_HAN:
            rows.append((s.section_id, s.doc_id, s.city, s.order, text, pieces))
    return pd.DataFrame(rows, columns=["section_id", "doc_id", "city", "order", "text", "spans"])


def unit_spans(units: pd.DataFrame, doc_ids) -> dict[str, list[tuple[int, int]]]:
    """Each document's analysis text as spans of its cleaned text (what shared passages compare)."""
    spans = {d: [p for ps in g.spans for p in ps] for d, g in units.groupby("doc_id")}
    return {d: spans.get(d, []) for d in doc_ids}
