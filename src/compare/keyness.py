"""Term counts → the keyness table: what each city says that the others don't.

Input: the term counts of each city's analysis units, pooled. Output: the ``keyness`` table —
terms over-represented in one city against all the others, with their counts, the
log-likelihood G² (Dunning), its p-value and the log ratio (Hardie) as effect size.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.stats import chi2

from .vectors import term_names

TOP_TERMS = 30
MIN_COUNT = 3


def _g2(a: int, b: int, c: int, d: int) -> float:
    """Log-likelihood of a term seen a times in c tokens (the city) and b times in d (the rest)."""
    e1, e2 = c * (a + b) / (c + d), d * (a + b) / (c + d)
    return 2 * sum(o * math.log(o / e) for o, e in ((a, e1), (b, e2)) if o > 0)


def keyness(
    counts: sparse.csr_matrix,
    cities: list[str],
    terms,
    top: int = TOP_TERMS,
    min_count: int = MIN_COUNT,
    exclude=lambda term: False,
) -> pd.DataFrame:
    """Top terms per city by G², from a row of term counts per city (`cities`; columns: `terms`).
    `exclude(term)` keeps a term out of the lists (the build drops place and person names, which
    are trivially distinctive); it is asked only of the terms that would otherwise make a list,
    once per term, since a large corpus has hundreds of thousands of terms."""
    counts = sparse.csr_matrix(counts)
    total = np.asarray(counts.sum(axis=0)).ravel().astype(np.int64)
    n_all = int(total.sum())
    rows = []
    excluded: dict[str, bool] = {}
    for i in sorted(range(len(cities)), key=lambda i: cities[i]):
        city, row = cities[i], counts[i]
        n_city = int(row.sum())
        n_rest = n_all - n_city
        if not n_city or not n_rest:
            continue
        cols, a = row.indices, row.data.astype(np.int64)
        b = total[cols] - a
        keep = (a >= min_count) & ~(a / n_city <= b / n_rest)  # used more here than in the rest
        scored = sorted(
            (-round(_g2(x, y, n_city, n_rest), 4), term, x, y)
            for term, x, y in zip(term_names(terms, cols[keep]), a[keep].tolist(), b[keep].tolist(), strict=True)
        )
        kept = 0
        for neg_g2, term, a, b in scored:
            if kept == top:
                break
            if term not in excluded:
                excluded[term] = bool(exclude(term))
            if excluded[term]:
                continue
            kept += 1
            g2 = -neg_g2
            log_ratio = math.log2(((a + 0.5) / n_city) / ((b + 0.5) / n_rest))
            rows.append(
                (city, term, a, b, round(a / n_city * 1e4, 3), round(b / n_rest * 1e4, 3), g2, round(log_ratio, 4))
            )
    df = pd.DataFrame(
        rows, columns=["city", "term", "count", "count_rest", "per_10k", "per_10k_rest", "g2", "log_ratio"]
    )
    p_values = chi2.sf(df.g2.to_numpy(dtype=float), 1)  # one call for every row: per row, the call costs more
    df.insert(7, "p_value", [float(f"{p:.4g}") for p in p_values])
    df = df.sort_values(["city", "g2", "term"], ascending=[True, False, True], kind="mergesort")
    df["rank"] = df.groupby("city").cumcount() + 1
    return df[df["rank"] <= top].reset_index(drop=True)
