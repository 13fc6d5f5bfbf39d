"""Term counts → the document_similarity table: how alike every pair of documents is.

Input: the documents (doc_id, city), each analysis unit's document and the units' term counts.
Output: the TF-IDF cosine similarity of every ordered pair of documents (each with itself too),
from each document's units' counts pooled, rounded to 6 decimals.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
from scipy import sparse

from .vectors import pooled, tfidf


def document_similarity(documents: pd.DataFrame, unit_docs, counts: sparse.csr_matrix) -> pd.DataFrame:
    """Cosine similarity of every pair of documents, both orders: TF-IDF of each document's
    units' term counts (`counts`, a row per unit; `unit_docs`, each unit's doc_id) pooled."""
    n = len(documents)
    X = tfidf(pooled(counts, unit_docs, documents.doc_id))
    S = np.round((X @ X.T).toarray(), 6)
    a, b = np.repeat(np.arange(n), n), np.tile(np.arange(n), n)
    ids, cities = documents.doc_id.to_numpy(dtype=object), documents.city.to_numpy(dtype=object)
    return pd.DataFrame(
        {
            "doc_a": ids[a],
            "doc_b": ids[b],
            "city_a": cities[a],
            "city_b": cities[b],
            "score": S.reshape(-1) if n else np.zeros(0),
        }
    )


PIECE_ROWS = 1 << 20  # rows of the table made at a time


def document_similarity_pieces(
    documents: pd.DataFrame, unit_docs, counts: sparse.csr_matrix, piece_rows: int = PIECE_ROWS
) -> Iterator[pd.DataFrame]:
    """The rows of :func:`document_similarity` in the table's order (doc_a, doc_b), a block of
    documents at a time (about `piece_rows` rows each), so the N² table is never held whole.
    Each block is a sparse product of its rows with all documents: the same numbers, bit for bit,
    as the whole product (a sparse product's entries do not depend on the rows computed with them)."""
    n = len(documents)
    X = tfidf(pooled(counts, unit_docs, documents.doc_id))
    order = np.argsort(documents.doc_id.to_numpy(dtype=object), kind="stable")
    X = X[order]
    XT = X.T.tocsc()
    ids, cities = (documents[c].to_numpy(dtype=object)[order] for c in ("doc_id", "city"))
    step = max(1, piece_rows // max(n, 1))
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        S = np.round((X[lo:hi] @ XT).toarray(), 6)
        a, b = np.repeat(np.arange(lo, hi), n), np.tile(np.arange(n), hi - lo)
        yield pd.DataFrame(
            {"doc_a": ids[a], "doc_b": ids[b], "city_a": cities[a], "city_b": cities[b], "score": S.reshape(-1)}
        )
    if not n:
        yield document_similarity(documents, unit_docs, counts)
