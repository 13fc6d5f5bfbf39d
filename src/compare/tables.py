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


def table(name: str, paths: Paths | None = None) -> pd.DataFrame:
    """A processed table (Parquet: list columns are lists)."""
    path = (paths or Paths()).table(name, "parquet")
    if not path.exists():
        raise CompareError(f"{path}: not built yet. Run `make data` (or `compare build`) first.")
    return pd.read_parquet(path)


def city_names(paths: Paths | None = None) -> pd.DataFrame:
    """city → city_zh, city_en (from the registry, via the documents table)."""
    docs = table("documents", paths)
    return docs.drop_duplicates("city").set_index("city")[["city_zh", "city_en"]]


def show(df: pd.DataFrame):
    """A table for a page: every cell in full, text escaped, no index, the same bytes on every run."""
    from IPython.display import HTML

    with pd.option_context("display.max_colwidth", None):
        return HTML(df.to_html(index=False, na_rep="—", escape=True, border=0))


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
