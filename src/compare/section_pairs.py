"""TF-IDF vectors → the section_pairs table: for every section, its most similar sections in
each other city.

Input: the analysis units and their TF-IDF rows (:mod:`compare.vectors`). Output: for every unit,
its top-k most similar units in each of the other cities whose best unit scores highest, in both
directions, scored a block of rows at a time (the few most frequent terms as a dense product, the
rest sparse) so no sections × sections matrix is ever built; scores are rounded only where they
are compared or kept. ``analyzer="char"`` uses character 2–3-grams instead of jieba words, as a
check that a finding does not come from word segmentation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
from scipy import sparse
from threadpoolctl import threadpool_limits

from .memo import Memo
from .vectors import block_scores, block_size, dense_split, vectorise
from .workers import default_workers, imap_ordered, watched

_BLOCK = 512
PARALLEL_MIN_UNITS = 4_000  # from this many sections, blocks are scored on every core
DENSE_TERMS = 128  # the most frequent terms, whose products are done as dense BLAS
_SELECTION = 1 << 23  # block rows × cities kept × units per city: bounds a block's selection arrays
_SCORES = 1 << 25  # block rows × units: bounds a block's scores (256 MB; at 10,000 documents, 95 rows)
TOP_K = 5  # most similar sections kept per other city
MAX_CITIES = 10  # … in this many other cities (the closest ones), so the table stays linear in the corpus


_scoring: tuple = ()  # (Xd, Xs, XsT, codes, starts, slots, top_k, max_cities), set once per process


def _start_scoring(state: tuple, blas_threads: int | None = None) -> None:
    global _scoring
    _scoring = state
    if blas_threads:  # one BLAS thread per worker process: the processes already use every core
        threadpool_limits(blas_threads)


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
    S = block_scores(Xd, Xs, XsT, lo, hi)
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
    # Kept small (17 bytes a pair): at 10,000 documents a build selects some 15 million pairs.
    return (r + lo).astype(np.int32), cols[r, c, k].astype(np.int32), got[r, c, k], (k + 1).astype(np.int8)


def _ticks(scores: np.ndarray) -> np.ndarray:
    """Scores in integer millionths (a score rounded to 6 decimals)."""
    return np.rint(scores * 1e6).astype(np.int64)


COLUMNS = ["section_a", "section_b", "doc_a", "doc_b", "city_a", "city_b", "score", "rank"]
PIECE_ROWS = 1 << 20  # rows of the table made at a time by top_pairs_pieces


def _scored(
    units: pd.DataFrame,
    X: list[sparse.csr_matrix],
    top_k: int,
    max_cities: int,
    workers: int | None,
    block: int,
    weigh: Callable[[sparse.csr_matrix], sparse.csr_matrix] | None = None,
    stored: tuple[Memo, str] | None = None,
):
    """The selected pairs as arrays over the units grouped by city: (by_city, codes, i, j, key,
    rank), `codes` each grouped unit's city (its rank among the cities), the rows a unit's together
    (in no set order). `weigh`: X holds counts, which `weigh` makes into the vectors once they are
    in city order (given the copy in city order, its own: it may weigh it in place); then only
    their two parts are held while scoring. X is handed over in a list of one, which this empties
    (as `shared_passages._sort_rows` its columns): then no reference of the caller's need keep it
    while the pairs are scored. `stored`: (a memo, the key of :func:`scoring_inputs`): each block's
    pairs are stored as the block is scored, and a block stored by an earlier build is read back
    instead — a build stopped in this stage and started again scores only the blocks it had not
    finished; one whose units and counts did not change, none."""
    city = pd.Categorical(units.city).remove_unused_categories()
    codes = np.asarray(city.codes, dtype=np.int64)
    # Units grouped by city (document order kept inside each), so a city is a slice of columns.
    by_city = np.lexsort((np.arange(len(units)), codes))
    codes = codes[by_city]
    starts = np.searchsorted(codes, np.arange(len(city.categories)))
    slots = city_slots(codes, starts)
    n_units = len(units)
    # Rows per block: bounded so the (rows × cities kept × units per city) selection and the
    # (rows × units) scores stay small whatever the corpus's size (a function of the corpus alone).
    selection = _SELECTION // max(1, min(max_cities, len(starts)) * slots.shape[1])
    block = max(1, min(block, selection, _SCORES // max(1, n_units)))
    blocks = [(lo, min(lo + block, n_units)) for lo in range(0, n_units, block)]
    memo, inputs = stored or (Memo(None, "section-pairs"), "")
    keys = [memo.key(inputs, f"rows {lo}-{hi}") for lo, hi in blocks]
    if workers is None:
        workers = default_workers(n_units, PARALLEL_MIN_UNITS)

    def score(todo: list[int]) -> Iterator[tuple]:
        """The blocks `todo` (their places in `blocks`) scored, in order."""
        X_ = X.pop()[by_city]  # the copy in city order: its two parts are what is scored
        if weigh is not None:  # TF-IDF of reordered rows is the reordered TF-IDF (the IDF counts documents)
            X_ = weigh(X_)
        Xd, Xs = dense_split(X_, DENSE_TERMS)
        del X_
        state = (Xd, Xs, Xs.T.tocsr(), codes, starts, slots, top_k, max_cities)
        del Xd, Xs
        mine = [blocks[k] for k in todo]
        in_workers = workers > 1 and len(mine) > 1  # else imap_ordered scores here, with every BLAS thread
        scored = imap_ordered(
            _block_top, mine, workers, initializer=_start_scoring, initargs=(state, 1 if in_workers else None)
        )
        del state
        try:
            for _, r in watched(
                "sections scored", sum(hi - lo for lo, hi in mine), zip(mine, scored, strict=True), size=block_size
            ):
                yield r
        finally:
            _start_scoring(())  # let go of the matrices

    found = memo.get_or_make_many(keys, score)
    X.clear()  # every block stored: the matrix was not needed
    columns = [list(parts) for parts in zip(*found, strict=True)]
    del found  # each column's blocks let go of once it is joined
    i, j, key, rank = (np.concatenate(columns.pop(0)) for _ in range(4))
    return by_city, codes, i, j, key, rank


def _frame(units: pd.DataFrame, by_city, i, j, key, rank) -> pd.DataFrame:
    ids, docs = units.section_id.to_numpy()[by_city], units.doc_id.to_numpy()[by_city]
    names = np.asarray(units.city, dtype=object)[by_city]
    return pd.DataFrame(
        {
            "section_a": ids[i],
            "section_b": ids[j],
            "doc_a": docs[i],
            "doc_b": docs[j],
            "city_a": names[i],
            "city_b": names[j],
            "score": (key >> 20) / 1e6,
            "rank": rank.astype(np.int64),
        },
        columns=COLUMNS,
    )


def top_pairs(
    units: pd.DataFrame,
    X: sparse.csr_matrix,
    top_k: int = TOP_K,
    max_cities: int = MAX_CITIES,
    workers: int | None = None,
    block: int = _BLOCK,
) -> pd.DataFrame:
    """For every unit, its top_k most similar units in each other city (ties: document order) —
    in the `max_cities` other cities whose best unit scores highest, so that the table grows
    linearly with the corpus however many cities it holds (with up to max_cities + 1 cities: all).

    Rows are scored in blocks (a block × all units at a time, never the whole matrix), the
    blocks on every core when the corpus is large."""
    if not len(units):
        return pd.DataFrame([], columns=COLUMNS)
    by_city, codes, i, j, key, rank = _scored(units, [X], top_k, max_cities, workers, block)
    o = np.lexsort((rank, codes[j], by_city[i]))  # rows in the units' order, then city, then rank
    return _frame(units, by_city, i[o], j[o], key[o], rank[o])


def scoring_inputs(units: pd.DataFrame, X: sparse.csr_matrix, top_k: int = TOP_K, max_cities: int = MAX_CITIES):
    """Everything the selected pairs are made from but compare's code, for a memo key (see
    :func:`compare.memo.digest`): the units' sections, documents and cities in their order, the
    matrix (its rows in that order, its arrays read where they lie) and the selection's sizes."""
    X = X.tocsr()
    return (
        *("\x1f".join(map(str, units[c])).encode("utf-8") for c in ("section_id", "doc_id", "city")),
        f"{X.shape} {X.dtype.str} {X.indptr.dtype.str} {top_k} {max_cities}",
        *(np.ascontiguousarray(a) for a in (X.indptr, X.indices, X.data)),
    )


def top_pairs_pieces(
    units: pd.DataFrame,
    X: list[sparse.csr_matrix],
    top_k: int = TOP_K,
    max_cities: int = MAX_CITIES,
    piece_rows: int = PIECE_ROWS,
    weigh: Callable[[sparse.csr_matrix], sparse.csr_matrix] | None = None,
    stored: tuple[Memo, str] | None = None,
) -> Iterator[pd.DataFrame]:
    """The rows of :func:`top_pairs` in the table's order (doc_a, section_a, city_b, rank), about
    `piece_rows` at a time: the pairs are selected as integer arrays, and only a piece at a time
    becomes a table of names. With `weigh` (:func:`compare.vectors.tfidf`), X is the units' term
    counts, weighed only once reordered (the build's 10,000-document scoring then does not hold a
    second copy of the vectors while it scores). X is handed over in a list of one, taken from it
    when the first piece is asked for (see :func:`_scored`, and for `stored`, the blocks of pairs
    kept for the next build: 17 bytes a pair, 26 MB at 1,000 documents)."""
    if not len(units):
        yield pd.DataFrame([], columns=COLUMNS)
        return

    by_city, city, i, j, key, rank = _scored(units, X, top_k, max_cities, None, _BLOCK, weigh, stored)

    def ranks(column) -> np.ndarray:  # each grouped unit's rank in the column's sorted values
        return np.unique(np.asarray(column, dtype=object)[by_city], return_inverse=True)[1].reshape(-1)

    # One integer sort key (document, section, city, rank), not a lexsort of four: at 10,000
    # documents each of its keys and temporaries is an array of 15 million.
    unit = np.lexsort((ranks(units.section_id), ranks(units.doc_id)))  # units in (doc, section) order
    place = np.empty(len(unit), np.int64)
    place[unit] = np.arange(len(unit))
    o = np.argsort((place[i] * (city.max(initial=0) + 1) + city[j]) * (top_k + 1) + rank)
    for lo in range(0, len(o), piece_rows):
        sel = o[lo : lo + piece_rows]
        yield _frame(units, by_city, i[sel], j[sel], key[sel], rank[sel])
    if not len(o):
        yield _frame(units, by_city, i, j, key, rank)


def section_pairs(
    units: pd.DataFrame,
    tokens: list[list[str]],
    texts: list[str] | None = None,
    analyzer: str = "word",
    top_k: int = TOP_K,
    max_cities: int = MAX_CITIES,
) -> pd.DataFrame:
    X = vectorise(tokens if analyzer == "word" else texts, analyzer)
    return top_pairs(units.reset_index(drop=True), X, top_k, max_cities)
