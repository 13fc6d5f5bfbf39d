"""Term counts → the document_similarity table: how alike two documents are.

Input: the documents (doc_id, city), each analysis unit's document and the units' term counts.
Output: the TF-IDF cosine similarity, rounded to 6 decimals, of each document with itself and with
its :data:`NEAREST` most similar other documents (ties: doc_id order) — in a corpus of up to
NEAREST + 1 documents, every ordered pair. Each document's vector is its units' counts pooled.
The table grows linearly with the corpus (501 rows a document), where every pair would be N² rows:
100 million at 10,000 documents, 10¹⁰ at 100,000.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
from scipy import sparse
from threadpoolctl import threadpool_limits

from .vectors import block_scores, block_size, dense_split, pooled, tfidf
from .workers import default_workers, imap_ordered, watched

NEAREST = 500  # other documents kept per document (every pair in a corpus of up to 501 documents)
PIECE_ROWS = 1 << 20  # about this many pairs scored, and rows of the table made, at a time
_DENSE = 1 << 24  # documents × terms done as a dense (BLAS) product: 2,048 terms at 8,192 documents
DENSE_TERMS = 2_048  # … at most


_scoring: tuple = ()  # (Xd, Xs, XsT, nearest), set once per process


def _start_scoring(state: tuple, blas_threads: int | None = None) -> None:
    global _scoring
    _scoring = state
    if blas_threads:  # one BLAS thread per worker process: the processes already use every core
        threadpool_limits(blas_threads)


def dense_terms(n_docs: int) -> int:
    """How many of the most frequent terms are scored as a dense product: a function of the corpus's
    size alone (so of no worker count or block), bounded so that the dense part stays small."""
    return max(1, min(DENSE_TERMS, _DENSE // max(1, n_docs)))


def _similarity_block(rows: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, column, score) of the pairs kept for rows lo..hi, in (row, column) order."""
    lo, hi = rows
    Xd, Xs, XsT, nearest = _scoring
    n = Xd.shape[0]
    S = np.round(block_scores(Xd, Xs, XsT, lo, hi), 6)
    if n - 1 <= nearest:  # every pair
        return np.repeat(np.arange(lo, hi), n), np.tile(np.arange(n), hi - lo), S.reshape(-1)
    # The `nearest` highest scores of each row but its own, ties to the earlier document: the
    # rounded score in integer millionths, then the column reversed, as one integer key.
    cols = np.arange(n)
    key = np.rint(S * 1e6).astype(np.int64) * n + (n - 1 - cols)
    own = np.arange(hi - lo), np.arange(lo, hi)
    key[own] = -1
    kept = np.argpartition(-key, nearest - 1, axis=1)[:, :nearest]
    kept = np.sort(np.concatenate([kept, own[1][:, None]], axis=1), axis=1)
    return np.repeat(np.arange(lo, hi), nearest + 1), kept.reshape(-1), np.take_along_axis(S, kept, axis=1).reshape(-1)


def document_similarity_pieces(
    documents: pd.DataFrame,
    unit_docs,
    counts: sparse.csr_matrix,
    piece_rows: int | None = None,
    nearest: int | None = None,
    workers: int | None = None,
) -> Iterator[pd.DataFrame]:
    """The table's rows in its order (doc_a, doc_b), a block of documents at a time (about
    `piece_rows` pairs scored each, default PIECE_ROWS), so no N × N matrix is held. Each block is
    the product of its rows with every document (the most frequent terms as a dense product, the
    rest sparse), on every core when there are several blocks; which pairs are kept (`nearest`,
    default NEAREST) and their scores do not depend on the blocks or the workers."""
    piece_rows, nearest = piece_rows or PIECE_ROWS, NEAREST if nearest is None else nearest
    if nearest < 1:
        raise ValueError(f"document similarity: nearest must be 1 or more (documents kept for each), not {nearest}")
    n = len(documents)
    order = np.argsort(documents.doc_id.to_numpy(dtype=object), kind="stable")
    ids, cities = (documents[c].to_numpy(dtype=object)[order] for c in ("doc_id", "city"))
    if not n:
        yield pd.DataFrame({"doc_a": ids, "doc_b": ids, "city_a": cities, "city_b": cities, "score": np.zeros(0)})
        return
    X = tfidf(pooled(counts, unit_docs, documents.doc_id))[order]
    Xd, Xs = dense_split(X, dense_terms(n))
    del X
    state = (Xd, Xs, Xs.T.tocsr(), nearest)
    del Xd, Xs
    step = max(1, piece_rows // n)
    blocks = [(lo, min(n, lo + step)) for lo in range(0, n, step)]
    if workers is None:  # every core when there are blocks enough to share (past 1,024 documents)
        workers = default_workers(len(blocks), 2)
    in_workers = workers > 1 and len(blocks) > 1  # else scored here, with every BLAS thread
    scored = imap_ordered(
        _similarity_block, blocks, workers if in_workers else 1, _start_scoring, (state, 1 if in_workers else None)
    )
    del state
    try:
        for _, (a, b, score) in watched("documents compared", n, zip(blocks, scored, strict=True), size=block_size):
            yield pd.DataFrame(
                {"doc_a": ids[a], "doc_b": ids[b], "city_a": cities[a], "city_b": cities[b], "score": score}
            )
    finally:
        _start_scoring(())  # let go of the matrices


def document_similarity(
    documents: pd.DataFrame, unit_docs, counts: sparse.csr_matrix, nearest: int | None = None
) -> pd.DataFrame:
    """The whole table (see :func:`document_similarity_pieces`)."""
    return pd.concat(
        list(document_similarity_pieces(documents, unit_docs, counts, nearest=nearest, workers=1)), ignore_index=True
    )
