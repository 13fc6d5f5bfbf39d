"""The processed tables, as the notebooks read and show them.

Input: ``data/processed/*.parquet`` (built by ``compare build``). Output: DataFrames (list
columns as lists) and escaped HTML for the rendered pages: a table, two passages side by side.
"""

from __future__ import annotations

import html
from difflib import SequenceMatcher

import pandas as pd

from .config import Paths
from .errors import CompareError
from .registry import REFERENCE_LEVELS


def table(name: str, paths: Paths | None = None) -> pd.DataFrame:
    """A processed table (Parquet: list columns are lists)."""
    path = (paths or Paths()).table(name, "parquet")
    if not path.exists():
        raise CompareError(f"{path}: not built yet. Run `make data` (or `compare build`) first.")
    return pd.read_parquet(path)


REFERENCE_ZH, REFERENCE_EN = "国家（参照）", "National (reference)"


def city_names(paths: Paths | None = None, reference: bool = False) -> pd.DataFrame:
    """city → city_zh, city_en, is_reference (from the registry, via the documents table): the cities,
    and with `reference` the reference documents' too (the national plan), first and so labelled."""
    return names_of(table("documents", paths), reference)


def names_of(docs: pd.DataFrame, reference: bool = False) -> pd.DataFrame:
    names = docs.drop_duplicates("city").set_index("city")[["city_zh", "city_en", "admin_level"]]
    names["is_reference"] = names.admin_level.isin(REFERENCE_LEVELS)
    names.loc[names.is_reference, "city_zh"] = REFERENCE_ZH
    names.loc[names.is_reference, "city_en"] = REFERENCE_EN
    if not reference:
        names = names[~names.is_reference]
    order = sorted(names.index, key=lambda c: not names.loc[c, "is_reference"])  # stable: registry order kept
    return names.loc[order, ["city_zh", "city_en", "is_reference"]]


def show(df: pd.DataFrame):
    """A table for a page: every cell in full, text escaped, no index, the same bytes on every run."""
    from IPython.display import HTML

    shown = df.astype(object).where(df.notna(), "—")  # a missing value of any type (None, NaN, <NA>) shows as —
    with pd.option_context("display.max_colwidth", None):
        return HTML(shown.to_html(index=False, escape=True, border=0))


def side_by_side(text_a: str, text_b: str, title_a: str = "", title_b: str = "") -> str:
    """An HTML table of two passages with the characters that differ highlighted (text escaped)."""
    sm = SequenceMatcher(None, text_a, text_b, autojunk=False)
    left, right = [], []
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        a, b = html.escape(text_a[i1:i2]), html.escape(text_b[j1:j2])
        if op == "equal":
            left.append(a)
            right.append(b)
        else:
            if a:
                left.append(f'<mark class="diff">{a}</mark>')
            if b:
                right.append(f'<mark class="diff">{b}</mark>')
    head = ""
    if title_a or title_b:
        head = f"<tr><th>{html.escape(title_a)}</th><th>{html.escape(title_b)}</th></tr>"
    return '<table class="side-by-side">' + head + f"<tr><td>{''.join(left)}</td><td>{''.join(right)}</td></tr></table>"


def pair_scores(pairs: pd.DataFrame, sections: pd.DataFrame, city_a: str, city_b: str) -> pd.DataFrame:
    """The section_pairs of two cities as a matrix: rows the sections of `city_a`, columns those of
    `city_b` (each in document order), a score where either section counts the other among its
    closest (the table holds both directions), NaN elsewhere."""
    both = pd.concat(
        [
            pairs.loc[(pairs.city_a == city_a) & (pairs.city_b == city_b), ["section_a", "section_b", "score"]],
            pairs.loc[
                (pairs.city_a == city_b) & (pairs.city_b == city_a), ["section_b", "section_a", "score"]
            ].set_axis(["section_a", "section_b", "score"], axis=1),
        ]
    ).drop_duplicates(["section_a", "section_b"])
    order = sections.set_index("section_id")
    order = order.doc_id.astype(str) + "\0" + order.order.astype(str).str.zfill(8)
    rows = sorted(set(both.section_a), key=order.get)
    cols = sorted(set(both.section_b), key=order.get)
    matrix = both.pivot(index="section_a", columns="section_b", values="score")
    return matrix.reindex(index=rows, columns=cols)


LINEAGE_COLOURS = {"copied": "#1f78b4", "adapted": "#a6cee3", "sibling": "#fdbf6f", "local": "#e0e0e0"}
LINEAGE_NAMES = {
    "copied": ("照抄", "copied"),
    "adapted": ("改写", "adapted"),
    "sibling": ("同级共有", "shared with a sibling"),
    "local": ("本地新增", "own"),
}


def lineage_html(rows: pd.DataFrame, sections: pd.DataFrame) -> str:
    """A document's text, sentence by sentence, each coloured by its lineage label (escaped), under
    its section's number and title; hovering a traced sentence names its source."""
    by_id = sections.set_index("section_id")
    out, current = ['<div class="lineage-text">'], None
    for r in rows.sort_values("char_start").itertuples():
        if r.section_id != current:
            if current is not None:
                out.append("</p>")
            sec = by_id.loc[r.section_id] if r.section_id in by_id.index else None
            head = (sec.number or r.section_id.split("/", 1)[1]) if sec is not None else r.section_id
            out.append(f'<p><span class="lineage-section">{html.escape(head)}</span> ')
            current = r.section_id
        source = f"{r.parent_doc_id} {r.parent_section_id} ({r.similarity:.2f})" if r.parent_doc_id else ""
        zh, en = LINEAGE_NAMES[r.label]
        title = html.escape(f"{zh} {en}" + (f": {source}" if source else ""), quote=True)
        out.append(f'<span class="lineage-{r.label}" title="{title}">{html.escape(r.text)}</span>')
    if current is not None:
        out.append("</p>")
    out.append("</div>")
    return "".join(out)


def lineage_legend() -> str:
    items = "".join(f'<span class="lineage-{k}">{zh} {en}</span> ' for k, (zh, en) in LINEAGE_NAMES.items())
    return f'<p class="lineage-legend">{items.strip()}</p>'


def document_text(doc_id: str, paths: Paths | None = None) -> str:
    """A document's cleaned text (data/processed/text/<doc_id>.txt): every offset points into it."""
    path = (paths or Paths()).text / f"{doc_id}.txt"
    if not path.exists():
        raise CompareError(f"{path}: not built yet. Run `make data` (or `compare build`) first.")
    return path.read_text(encoding="utf-8")
