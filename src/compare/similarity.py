"""Section tokens → TF-IDF cosine similarity between sections and between documents.

Input: the analysis units (sections with enough text) and their tokens. Output: the
``section_pairs`` table — for every section, its top-k most similar sections in each other
city, in both directions — and the ``document_similarity`` table (every pair of documents).
``analyzer="char"`` uses character 2–3-grams instead of jieba words, as a check that a
finding does not come from word segmentation. Similarity is computed a block of rows at a
time (the few most frequent terms as a dense product, the rest sparse), so no sections ×
sections matrix is ever built; scores are rounded only where they are compared or kept.
"""

from __future__ import annotations

import re
from itertools import chain

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer
from threadpoolctl import threadpool_limits

from .clean import fold, han_sequence
from .workers import default_workers, map_ordered

ANALYZERS = ("word", "char")
MIN_HAN = 10  # sections with fewer Chinese characters say too little to compare
_BLOCK = 512
PARALLEL_MIN_UNITS = 4_000  # from this many sections, blocks are scored on every core
DENSE_TERMS = 128  # the most frequent terms, whose products are done as dense BLAS
_SELECTION = 1 << 23  # block rows × cities kept × units per city: bounds a block's selection arrays
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


def term_counts(tokens: list[list[str]]) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Rows of term counts, one per token list, and the terms of the columns (sorted): what
    scikit-learn's CountVectorizer gives, counted in C rather than token by token in Python."""
    lengths = np.fromiter(map(len, tokens), np.int64, len(tokens))
    codes, terms = pd.factorize(np.fromiter(chain.from_iterable(tokens), object, int(lengths.sum())))
    terms = np.asarray(terms, dtype=object)
    order = np.argsort(terms)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    counts = sparse.csr_matrix((np.ones(len(codes)), (np.repeat(np.arange(len(tokens)), lengths), rank[codes])),
                               shape=(len(tokens), len(terms)))
    counts.sum_duplicates()
    counts.sort_indices()
    return counts, terms[order]


def pooled(counts: sparse.csr_matrix, keys, names) -> sparse.csr_matrix:
    """Count rows summed by key: a row per name in `names` (each row's key in `keys`)."""
    rows = pd.Index(names).get_indexer(keys)
    pool = sparse.csr_matrix((np.ones(len(rows)), (rows, np.arange(len(rows)))), shape=(len(names), len(rows)))
    return (pool @ counts).tocsr()


def tfidf(counts: sparse.csr_matrix) -> sparse.csr_matrix:
    """TF-IDF rows (sublinear tf, smoothed idf), L2-normalised, from term counts."""
    if not counts.shape[1]:
        return sparse.csr_matrix(counts.shape)
    return TfidfTransformer(sublinear_tf=True).fit_transform(counts).tocsr()


def vectorise(items: list, analyzer: str = "word") -> sparse.csr_matrix:
    """TF-IDF rows, L2-normalised: `items` are token lists (word) or texts (char)."""
    if analyzer == "word":
        return tfidf(term_counts(items)[0])
    if analyzer != "char":
        raise ValueError(f"analyzer must be one of {ANALYZERS}, not {analyzer!r}")
    if not items:
        return sparse.csr_matrix((0, 0))
    return TfidfVectorizer(analyzer="char", ngram_range=(2, 3), sublinear_tf=True,
                           preprocessor=char_text).fit_transform(items).tocsr()


_scoring: tuple = ()  # (Xd, Xs, XsT, codes, starts, slots, top_k, max_cities), set once per process


def _start_scoring(state: tuple, blas_threads: int | None = None) -> None:
    global _scoring
    _scoring = state
    if blas_threads:  # one BLAS thread per worker process: the processes already use every core
        threadpool_limits(blas_threads)


def dense_split(X: sparse.csr_matrix, n_dense: int = DENSE_TERMS) -> tuple[np.ndarray, sparse.csr_matrix]:
    """X as (its `n_dense` most frequent terms as a dense array, the other terms sparse).

    The few terms found in most sections make most of the work of a sparse product, and that
    work is several times faster as a dense (BLAS) product. The two parts' products add up to
    the whole one but for the last bit of a float (another order of additions), far below the
    6 decimals scores are rounded to."""
    df = np.bincount(X.indices, minlength=X.shape[1])
    common = np.sort(np.argsort(-df, kind="stable")[:min(n_dense, X.shape[1])])
    rare = np.ones(X.shape[1], bool)
    rare[common] = False
    return X[:, common].toarray(), X[:, rare].tocsr()


def city_slots(codes: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """(city, i) → the column of the city's i-th unit, -1 past its last (columns sorted by city)."""
    pos = np.arange(len(codes)) - starts[codes]
    slots = np.full((len(starts), pos.max(initial=-1) + 1), -1, np.int64)
    slots[codes, pos] = np.arange(len(codes))
    return slots


def _block_top(rows: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(row, column, key, rank) arrays of one block of rows: see `top_pairs`. A key orders by
    score (its millionths in the high bits), then by document order (earlier first), no ties."""
    lo, hi = rows
    Xd, Xs, XsT, codes, starts, slots, top_k, max_cities = _scoring
    n_rows, n_cities = hi - lo, len(starts)
    S = Xd[lo:hi] @ Xd.T
    S += (Xs[lo:hi] @ XsT).toarray()
    own = codes[lo:hi]
    # Scores are rounded to 6 decimals as integer millionths ("ticks") only where they are used:
    # rounding is monotonic, so a city's best rounded score is its best score rounded.
    best = _ticks(np.maximum.reduceat(S, starts, axis=1))  # each city's best unit, per row
    best[np.arange(n_rows), own] = -1  # a section's own city is not compared with it
    if n_cities - 1 > max_cities:  # keep the cities whose best unit scores highest (ties: city order)
        city_key = np.where(best > 0, best * n_cities + (n_cities - 1 - np.arange(n_cities)), -1)
        chosen = np.argpartition(-city_key, max_cities - 1, axis=1)[:, :max_cities]
    else:
        chosen = np.broadcast_to(np.arange(n_cities), (n_rows, n_cities))
    cols = slots[chosen]  # (row, chosen city, that city's units), -1 padded
    ticks = _ticks(np.take_along_axis(S, cols.clip(0).reshape(n_rows, -1), axis=1).reshape(cols.shape))
    got = (ticks << 20) + ((1 << 20) - 1 - (cols - starts[chosen][:, :, None]))
    got[(ticks <= 0) | (cols < 0) | (chosen == own[:, None])[:, :, None]] = -1
    if got.shape[2] > top_k:
        idx = np.argpartition(-got, top_k - 1, axis=2)[:, :, :top_k]
        got, cols = np.take_along_axis(got, idx, axis=2), np.take_along_axis(cols, idx, axis=2)
    order = np.argsort(-got, axis=2, kind="stable")
    got, cols = np.take_along_axis(got, order, axis=2), np.take_along_axis(cols, order, axis=2)
    r, c, k = np.nonzero(got >= 0)
    return r + lo, cols[r, c, k], got[r, c, k], k + 1


def _ticks(scores: np.ndarray) -> np.ndarray:
    """Scores in integer millionths (a score rounded to 6 decimals)."""
    return np.rint(scores * 1e6).astype(np.int64)


def top_pairs(units: pd.DataFrame, X: sparse.csr_matrix, top_k: int = TOP_K, max_cities: int = MAX_CITIES,
              workers: int | None = None, block: int = _BLOCK) -> pd.DataFrame:
    """For every unit, its top_k most similar units in each other city (ties: document order) —
    in the `max_cities` other cities whose best unit scores highest, so that the table grows
    linearly with the corpus however many cities it holds (with up to max_cities + 1 cities: all).

    Rows are scored in blocks (a block × all units at a time, never the whole matrix), the
    blocks on every core when the corpus is large."""
    columns = ["section_a", "section_b", "doc_a", "doc_b", "city_a", "city_b", "score", "rank"]
    if not len(units):
        return pd.DataFrame([], columns=columns)
    city = pd.Categorical(units.city).remove_unused_categories()
    codes = np.asarray(city.codes, dtype=np.int64)
    # Units grouped by city (document order kept inside each), so a city is a slice of columns.
    by_city = np.lexsort((np.arange(len(units)), codes))
    X, codes = X[by_city], codes[by_city]
    starts = np.searchsorted(codes, np.arange(len(city.categories)))
    slots = city_slots(codes, starts)
    Xd, Xs = dense_split(X)
    # Rows per block: bounded so the (rows × cities kept × units per city) selection stays small.
    block = max(1, min(block, _SELECTION // max(1, min(max_cities, len(starts)) * slots.shape[1])))
    blocks = [(lo, min(lo + block, X.shape[0])) for lo in range(0, X.shape[0], block)]
    if workers is None:
        workers = default_workers(X.shape[0], PARALLEL_MIN_UNITS)
    state = (Xd, Xs, Xs.T.tocsr(), codes, starts, slots, top_k, max_cities)
    in_workers = workers > 1 and len(blocks) > 1  # else map_ordered scores here, with every BLAS thread
    found = map_ordered(_block_top, blocks, workers, initializer=_start_scoring,
                        initargs=(state, 1 if in_workers else None))
    _start_scoring(())  # let go of the matrices
    i, j, key, rank = (np.concatenate(parts) for parts in zip(*found))
    o = np.lexsort((rank, codes[j], by_city[i]))  # rows in the units' order, then city, then rank
    i, j, key, rank = i[o], j[o], key[o], rank[o]
    ids, docs = units.section_id.to_numpy()[by_city], units.doc_id.to_numpy()[by_city]
    names = np.asarray(units.city, dtype=object)[by_city]
    return pd.DataFrame({"section_a": ids[i], "section_b": ids[j], "doc_a": docs[i], "doc_b": docs[j],
                         "city_a": names[i], "city_b": names[j], "score": (key >> 20) / 1e6, "rank": rank},
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


def document_similarity(documents: pd.DataFrame, unit_docs, counts: sparse.csr_matrix) -> pd.DataFrame:
    """Cosine similarity of every pair of documents, both orders: TF-IDF of each document's
    units' term counts (`counts`, a row per unit; `unit_docs`, each unit's doc_id) pooled."""
    n = len(documents)
    X = tfidf(pooled(counts, unit_docs, documents.doc_id))
    S = np.round((X @ X.T).toarray(), 6)
    a, b = np.repeat(np.arange(n), n), np.tile(np.arange(n), n)
    ids, cities = documents.doc_id.to_numpy(dtype=object), documents.city.to_numpy(dtype=object)
    return pd.DataFrame({"doc_a": ids[a], "doc_b": ids[b], "city_a": cities[a], "city_b": cities[b],
                         "score": S.reshape(-1) if n else np.zeros(0)})
