"""Tokens → term counts and TF-IDF vectors, the shared ground of section pairs, document
similarity and keyness.

Input: a token list per analysis unit (or texts, for character n-grams). Output: a sparse matrix
of term counts (one row per unit, columns the sorted terms), counts pooled by document or city,
and L2-normalised TF-IDF rows (sublinear tf, smoothed idf, as scikit-learn computes them). The
counts are made once, in C, and serve all three analyses.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer

from .clean import fold
from .patterns import NOT_TEXT_RE

try:  # scipy's own loop of toarray(), which adds into an array (toarray zeroes it first)
    from scipy.sparse._sparsetools import csr_todense as _csr_add_into
except ImportError:  # pragma: no cover - a scipy that moved it
    _csr_add_into = None

ANALYZERS = ("word", "char")


def char_text(text: str) -> str:
    """The characters character n-grams are taken from: folded, without punctuation or spaces."""
    return NOT_TEXT_RE.sub("", fold(text))


def term_counts(tokens: list[list[str]]) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Rows of term counts, one per token list, and the terms of the columns (sorted): what
    scikit-learn's CountVectorizer gives, counted in C rather than token by token in Python."""
    lengths = np.fromiter(map(len, tokens), np.int64, len(tokens))
    codes, terms = pd.factorize(np.fromiter(chain.from_iterable(tokens), object, int(lengths.sum())))
    terms = np.asarray(terms, dtype=object)
    order = np.argsort(terms)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    counts = sparse.csr_matrix(
        (np.ones(len(codes)), (np.repeat(np.arange(len(tokens)), lengths), rank[codes])),
        shape=(len(tokens), len(terms)),
    )
    counts.sum_duplicates()
    counts.sort_indices()
    return counts, terms[order]


COUNT_CHUNK = 1 << 13  # units whose tokens are split and counted at once by joined_counts


def joined_counts(joined: list[str], chunk: int = COUNT_CHUNK):
    """`term_counts` of space-separated token strings (as the token cache keeps them), split,
    counted and sorted by Arrow: a corpus's tokens never become Python objects, only its terms.
    `chunk` units at a time are split and counted (their distinct terms by unit), so only counts,
    never every token, are held; the result is the same for any chunk size. The terms are an Arrow
    array (see :func:`chunked_counts`)."""
    return chunked_counts(joined[lo : lo + chunk] for lo in range(0, len(joined), chunk))


def chunked_counts(chunks: Iterable[list[str]]):
    """:func:`joined_counts` of the units' token strings given a chunk at a time, in order (a
    chunk may be made only when it is asked for: the corpus's token strings are then never all
    held); the result is the same however the units are cut into chunks. The terms come as an
    Arrow array of strings, not Python objects (about 17 bytes a term instead of 70: a
    10,000-document corpus has millions of terms); :func:`term_names` reads some of them."""
    import pyarrow as pa
    import pyarrow.compute as pc

    lengths, codes, counts = [], [], []  # per chunk: distinct terms per unit, their codes and counts
    dictionaries = []
    for part in chain(chunks, [[]]):  # an empty last chunk: no chunks at all still make a matrix
        lists = pc.split_pattern(pa.array(part, pa.large_string()), " ")
        flat = pc.list_flatten(lists)
        keep = pc.not_equal(flat, "")  # "" (a unit without tokens) splits into one empty string
        rows = pc.list_parent_indices(lists).filter(keep).to_numpy().astype(np.int64)
        encoded = flat.filter(keep).dictionary_encode()
        del lists, flat, keep
        dictionaries.append(encoded.dictionary)
        width = max(len(encoded.dictionary), 1)
        pairs, n = np.unique(rows * width + encoded.indices.to_numpy(), return_counts=True)  # by unit, then code
        del rows, encoded
        lengths.append(np.bincount(pairs // width, minlength=len(part)))
        codes.append((pairs % width).astype(np.int32))
        counts.append(n.astype(np.int32))
        del pairs, n
    terms = pc.unique(pa.chunked_array(dictionaries, pa.large_string()))
    terms = terms.take(pc.sort_indices(terms))  # UTF-8 byte order is code point order: Python's sorted()
    # The matrix filled a chunk at a time, each unit's terms in column order.
    indptr = np.r_[0, np.cumsum(np.concatenate(lengths))]
    indices = np.empty(indptr[-1], np.int32)
    data = np.empty(indptr[-1], np.float64)
    at = 0
    for k, d in enumerate(dictionaries):
        cols = pc.index_in(d, value_set=terms).to_numpy(zero_copy_only=False).astype(np.int32)[codes[k]]
        order = np.lexsort((cols, np.repeat(np.arange(len(lengths[k])), lengths[k])))
        indices[at : at + len(order)], data[at : at + len(order)] = cols[order], counts[k][order]
        at += len(order)
        codes[k] = counts[k] = None
    matrix = sparse.csr_matrix((data, indices, indptr), shape=(len(indptr) - 1, len(terms)))
    matrix.has_sorted_indices = True
    return matrix, terms


def term_names(terms, columns: np.ndarray) -> list[str]:
    """The terms of some columns, as Python strings (`terms`: Arrow's array, or a NumPy array or list)."""
    if isinstance(terms, (np.ndarray, list)):
        return [terms[c] for c in columns]
    return terms.take(np.asarray(columns, dtype=np.int64)).to_pylist()


def pooled(counts: sparse.csr_matrix, keys, names) -> sparse.csr_matrix:
    """Count rows summed by key: a row per name in `names` (each row's key in `keys`)."""
    rows = pd.Index(names).get_indexer(keys)
    pool = sparse.csr_matrix((np.ones(len(rows)), (rows, np.arange(len(rows)))), shape=(len(names), len(rows)))
    return (pool @ counts).tocsr()


def tfidf(counts: sparse.csr_matrix, copy: bool = True) -> sparse.csr_matrix:
    """TF-IDF rows (sublinear tf, smoothed idf), L2-normalised, from term counts (float64 CSR);
    without `copy`, the counts themselves are weighed (the same operations, so the same bits)."""
    if not counts.shape[1]:
        return sparse.csr_matrix(counts.shape)
    return TfidfTransformer(sublinear_tf=True).fit(counts).transform(counts, copy=copy).tocsr()


def vectorise(items: list, analyzer: str = "word") -> sparse.csr_matrix:
    """TF-IDF rows, L2-normalised: `items` are token lists (word) or texts (char)."""
    if analyzer == "word":
        return tfidf(term_counts(items)[0])
    if analyzer != "char":
        raise ValueError(f"analyzer must be one of {ANALYZERS}, not {analyzer!r}")
    if not items:
        return sparse.csr_matrix((0, 0))
    return (
        TfidfVectorizer(analyzer="char", ngram_range=(2, 3), sublinear_tf=True, preprocessor=char_text)
        .fit_transform(items)
        .tocsr()
    )


def dense_split(X: sparse.csr_matrix, n_dense: int) -> tuple[np.ndarray, sparse.csr_matrix]:
    """X as (its `n_dense` most frequent terms as a dense array, the other terms sparse).

    The few terms found in most rows (sections, documents) make most of the work of a sparse product, and that
    work is several times faster as a dense (BLAS) product. The two parts' products add up to
    the whole one but for the last bit of a float (another order of additions), far below the
    6 decimals scores are rounded to."""
    df = np.bincount(X.indices, minlength=X.shape[1])
    common = np.sort(np.argsort(-df, kind="stable")[: min(n_dense, X.shape[1])])
    rare = np.ones(X.shape[1], bool)
    rare[common] = False
    return X[:, common].toarray(), X[:, rare].tocsr()


def add_sparse(S: np.ndarray, P: sparse.csr_matrix) -> None:
    """S += P for a C-ordered float64 S and a CSR P without repeated entries (a product's), without
    making P dense first: at 5,000 documents a block's P is 512 × 150k, and making it dense took
    a quarter of the block's time. Each entry gets the same single addition as `S += P.toarray()`,
    so the bits are the same."""
    if _csr_add_into is None or not S.flags.c_contiguous or S.dtype != P.dtype:
        S += P.toarray()
    else:
        _csr_add_into(P.shape[0], P.shape[1], P.indptr, P.indices, P.data, S)


def block_scores(Xd: np.ndarray, Xs: sparse.csr_matrix, XsT: sparse.csr_matrix, lo: int, hi: int) -> np.ndarray:
    """Rows lo..hi of X · Xᵀ for X split by :func:`dense_split` (`XsT`: its sparse part transposed,
    CSR): the dense product plus the sparse one. The block's rows are copied first, so that NumPy
    never sees one array times its own transpose (which it hands to another BLAS routine): each
    score is made the same way whatever the block."""
    S = np.array(Xd[lo:hi]) @ Xd.T
    add_sparse(S, Xs[lo:hi] @ XsT)
    return S


def block_size(scored_block) -> int:
    """How many rows a ((lo, hi), result) of a block map covers: the `size` of its progress."""
    (lo, hi), _ = scored_block
    return hi - lo
