"""Term counts → the document_similarity table: how alike every pair of documents is.

Input: the documents (doc_id, city), each analysis unit's document and the units' term counts.
Output: the TF-IDF cosine similarity of every ordered pair of documents (each with itself too),
from each document's units' counts pooled, rounded to 6 decimals.
"""

from __future__ import annotations

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
