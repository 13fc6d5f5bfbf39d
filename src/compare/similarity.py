"""Section tokens → TF-IDF cosine similarity between sections and between documents.

Input: the analysis units (sections with enough text) and their tokens. Output: the
``section_pairs`` table — for every section, its top-k most similar sections in each other
city, in both directions — and the ``document_similarity`` table (every pair of documents).
``analyzer="char"`` uses character 2–3-grams instead of jieba words, as a check that a
finding does not come from word segmentation. Similarity is computed as sparse products in
row blocks, so no dense sections × sections matrix is ever built.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from .clean import fold, han_sequence

ANALYZERS = ("word", "char")
MIN_HAN = 10  # sections with fewer Chinese characters say too little to compare
_BLOCK = 512
_NOT_TEXT = re.compile(r"[^\u4e00-\u9fffA-Za-z0-9]+")


def analysis_units(sections: pd.DataFrame, tasks: pd.DataFrame) -> pd.DataFrame:
    """The sections compared across cities: each section's body without its task assignment (the
    责任单位 … lines), kept when at least MIN_HAN Chinese characters remain. `spans` are the kept
    pieces as offsets into the cleaned text."""
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
        text = "".join(s.text[a - s.char_start:b - s.char_start] for a, b in pieces)
        if len(han_sequence(text)) >= MIN_HAN:
            rows.append((s.section_id, s.doc_id, s.city, s.order, text, pieces))
    return pd.DataFrame(rows, columns=["section_id", "doc_id", "city", "order", "text", "spans"])


def char_text(text: str) -> str:
    """The characters character n-grams are taken from: folded, without punctuation or spaces."""
    return _NOT_TEXT.sub("", fold(text))


def _identity(tokens: list[str]) -> list[str]:
    return tokens


def vectorise(items: list, analyzer: str = "word") -> sparse.csr_matrix:
    """TF-IDF rows, L2-normalised: `items` are token lists (word) or texts (char)."""
    if analyzer == "word":
        vec = TfidfVectorizer(analyzer=_identity, sublinear_tf=True)
    elif analyzer == "char":
        vec = TfidfVectorizer(analyzer="char", ngram_range=(2, 3), sublinear_tf=True, preprocessor=char_text)
    else:
        raise ValueError(f"analyzer must be one of {ANALYZERS}, not {analyzer!r}")
    if not items:
        return sparse.csr_matrix((0, 0))
    return vec.fit_transform(items).tocsr()


def top_pairs(units: pd.DataFrame, X: sparse.csr_matrix, top_k: int = 5) -> pd.DataFrame:
    """For every unit, its top_k most similar units in each other city (ties: document order)."""
    city = pd.Categorical(units.city)
    codes, names = np.asarray(city.codes), np.asarray(units.city, dtype=object)
    order = np.arange(len(units))
    ids, docs = units.section_id.to_numpy(), units.doc_id.to_numpy()
    out: list[tuple] = []
    XT = X.T.tocsc()
    for lo in range(0, X.shape[0], _BLOCK):
        block = (X[lo:lo + _BLOCK] @ XT).tocsr()
        for r in range(block.shape[0]):
            i = lo + r
            s, e = block.indptr[r], block.indptr[r + 1]
            j, score = block.indices[s:e], block.data[s:e]
            keep = (codes[j] != codes[i]) & (score > 0)
            j, score = j[keep], np.round(score[keep], 6)
            if not len(j):
                continue
            idx = np.lexsort((order[j], -score, codes[j]))
            j, score = j[idx], score[idx]
            c = codes[j]
            starts = np.r_[0, np.flatnonzero(np.diff(c)) + 1]
            rank = np.arange(len(j)) - np.repeat(starts, np.diff(np.r_[starts, len(j)]))
            for jj, sc, rk in zip(j[rank < top_k], score[rank < top_k], rank[rank < top_k]):
                out.append((ids[i], ids[jj], docs[i], docs[jj], names[i], names[jj], float(sc), int(rk) + 1))
    return pd.DataFrame(out, columns=["section_a", "section_b", "doc_a", "doc_b", "city_a", "city_b", "score", "rank"])


def section_pairs(units: pd.DataFrame, tokens: list[list[str]], texts: list[str] | None = None,
                  analyzer: str = "word", top_k: int = 5) -> pd.DataFrame:
    X = vectorise(tokens if analyzer == "word" else texts, analyzer)
    return top_pairs(units.reset_index(drop=True), X, top_k)


def pair_matrix(units: pd.DataFrame, tokens: list[list[str]], city_a: str, city_b: str) -> pd.DataFrame:
    """The full similarity matrix between two cities' units, in document order (for heatmaps).

    IDF is fitted on the whole corpus, as in ``section_pairs``, so the scores agree.
    """
    X = vectorise(tokens)
    units = units.reset_index(drop=True)
    a = units.index[units.city == city_a]
    b = units.index[units.city == city_b]
    S = (X[a] @ X[b].T).toarray()
    return pd.DataFrame(np.round(S, 6), index=units.section_id[a], columns=units.section_id[b])


def document_similarity(documents: pd.DataFrame, tokens_by_doc: list[list[str]]) -> pd.DataFrame:
    """Cosine similarity of every pair of documents (their units' tokens pooled), both orders."""
    X = vectorise(tokens_by_doc)
    S = np.round((X @ X.T).toarray(), 6)
    rows = []
    for i, a in enumerate(documents.itertuples()):
        for j, b in enumerate(documents.itertuples()):
            rows.append((a.doc_id, b.doc_id, a.city, b.city, float(S[i, j])))
    return pd.DataFrame(rows, columns=["doc_a", "doc_b", "city_a", "city_b", "score"])
