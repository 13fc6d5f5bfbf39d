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
from .workers import default_workers, map_ordered

ANALYZERS = ("word", "char")
MIN_HAN = 10  # sections with fewer Chinese characters say too little to compare
_BLOCK = 512
PARALLEL_MIN_UNITS = 4_000  # from this many sections, blocks are scored on every core
TOP_K = 5  # most similar sections kept per other city
MAX_CITIES = 10  # … in this many other cities (the closest ones), so the table stays linear in the corpus
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


def unit_spans(units: pd.DataFrame, doc_ids) -> dict[str, list[tuple[int, int]]]:
    """Each document's analysis text as spans of its cleaned text (what shared passages compare)."""
    spans = {d: [p for ps in g.spans for p in ps] for d, g in units.groupby("doc_id")}
    return {d: spans.get(d, []) for d in doc_ids}


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


_scoring: tuple = ()  # (X, XT, bounds, codes, top_k, max_cities), set once per process by _start_scoring


def _start_scoring(*state) -> None:
    global _scoring
    _scoring = state


def _block_top(rows: tuple[int, int]) -> list[tuple[int, int, float, int]]:
    """(row, column, score, rank) of one block of rows: see `top_pairs`."""
    lo, hi = rows
    X, XT, bounds, codes, top_k, max_cities = _scoring
    S = np.round((X[lo:hi] @ XT).toarray(), 6)
    n_rows, n_cities = hi - lo, len(bounds) - 1
    # Integer keys order by score, then document order (earlier first), with no ties.
    ticks = np.rint(S * 1e6).astype(np.int64) << 20
    keys = ticks + ((1 << 20) - 1 - np.arange(S.shape[1]) + np.repeat(bounds[:-1], np.diff(bounds)))
    keys[S <= 0] = -1
    own = codes[lo:hi]
    k = np.full((n_rows, n_cities, top_k), -1, np.int64)
    col = np.zeros((n_rows, n_cities, top_k), np.int64)
    for c in range(n_cities):
        c0, c1 = bounds[c], bounds[c + 1]
        part = keys[:, c0:c1]
        if c1 - c0 > top_k:
            idx = np.argpartition(-part, top_k - 1, axis=1)[:, :top_k]
        else:
            idx = np.broadcast_to(np.arange(c1 - c0), (n_rows, c1 - c0))
        got = np.take_along_axis(part, idx, axis=1)
        o = np.argsort(-got, axis=1, kind="stable")
        k[:, c, :got.shape[1]] = np.take_along_axis(got, o, axis=1)
        col[:, c, :got.shape[1]] = c0 + np.take_along_axis(idx, o, axis=1)
    k[np.arange(n_rows), own, :] = -1  # a section's own city is not compared with it
    best = k[:, :, 0]
    if n_cities - 1 > max_cities:  # keep the cities whose best section scores highest (ties: city order)
        city_key = np.where(best >= 0, (best >> 20) * n_cities + (n_cities - 1 - np.arange(n_cities)), -1)
        cut = np.sort(city_key, axis=1)[:, -max_cities][:, None]
        k[city_key < cut] = -1
    rows, cities, ranks = np.nonzero(k >= 0)
    return list(zip((rows + lo).tolist(), col[rows, cities, ranks].tolist(),
                    ((k[rows, cities, ranks] >> 20) / 1e6).tolist(), (ranks + 1).tolist()))


def top_pairs(units: pd.DataFrame, X: sparse.csr_matrix, top_k: int = TOP_K, max_cities: int = MAX_CITIES,
              workers: int | None = None) -> pd.DataFrame:
    """For every unit, its top_k most similar units in each other city (ties: document order) —
    in the `max_cities` other cities whose best unit scores highest, so that the table grows
    linearly with the corpus however many cities it holds (with up to max_cities + 1 cities: all).

    Rows are scored in blocks (a block × all units at a time, never the whole matrix), the
    blocks on every core when the corpus is large."""
    columns = ["section_a", "section_b", "doc_a", "doc_b", "city_a", "city_b", "score", "rank"]
    if not len(units):
        return pd.DataFrame([], columns=columns)
    city = pd.Categorical(units.city)
    codes = np.asarray(city.codes, dtype=np.int64)
    # Units grouped by city (document order kept inside each), so a city is a slice of columns.
    by_city = np.lexsort((np.arange(len(units)), codes))
    X, codes = X[by_city], codes[by_city]
    bounds = np.searchsorted(codes, np.arange(len(city.categories) + 1))
    XT = X.T.tocsr()
    blocks = [(lo, min(lo + _BLOCK, X.shape[0])) for lo in range(0, X.shape[0], _BLOCK)]
    if workers is None:
        workers = default_workers(X.shape[0], PARALLEL_MIN_UNITS)
    found = [t for block in map_ordered(_block_top, blocks, workers, initializer=_start_scoring,
                                        initargs=(X, XT, bounds, codes, top_k, max_cities)) for t in block]
    _start_scoring()  # let go of the matrices
    ids, docs = units.section_id.to_numpy()[by_city], units.doc_id.to_numpy()[by_city]
    names = np.asarray(units.city, dtype=object)[by_city]
    unsort = np.argsort(by_city)  # back to the units' order for the rows
    found.sort(key=lambda t: (unsort[t[0]], codes[t[1]], t[3]))
    return pd.DataFrame([(ids[i], ids[j], docs[i], docs[j], names[i], names[j], sc, rk) for i, j, sc, rk in found],
                        columns=columns)


def section_pairs(units: pd.DataFrame, tokens: list[list[str]], texts: list[str] | None = None,
                  analyzer: str = "word", top_k: int = TOP_K, max_cities: int = MAX_CITIES) -> pd.DataFrame:
    X = vectorise(tokens if analyzer == "word" else texts, analyzer)
    return top_pairs(units.reset_index(drop=True), X, top_k, max_cities)


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
    n = len(documents)
    a, b = np.repeat(np.arange(n), n), np.tile(np.arange(n), n)
    ids, cities = documents.doc_id.to_numpy(dtype=object), documents.city.to_numpy(dtype=object)
    return pd.DataFrame({"doc_a": ids[a], "doc_b": ids[b], "city_a": cities[a], "city_b": cities[b],
                         "score": S.reshape(-1) if n else np.zeros(0)})
