"""Cleaned texts → the shared_passages table: the passages two documents share word for word or
nearly (text reuse).

Input: each document's cleaned text and the spans to compare (section bodies, without task
assignments). Output: the ``shared_passages`` table. As in the Legislative Influence
Detector: a shingle index of character k-grams (punctuation- and space-insensitive, traditional
folded to simplified) gives candidate matches; exact runs along a diagonal are then chained
across small gaps (an edited word, an inserted phrase) into passages, which are kept when
they share at least ``min_chars`` characters and their similarity (shared characters over the
longer side) reaches ``min_similarity``. Offsets point into the cleaned texts.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from .clean import fold
from .patterns import is_text_char, text_mask
from .sections import Section, section_id_finder
from .workers import cluster_workers, imap_ordered, watched

SHINGLE = 8  # characters per shingle: long enough that common phrases (职业教育) do not seed matches
MIN_CHARS = 15
MIN_SIMILARITY = 0.7
MAX_GAP = 10  # characters an edit may insert or replace inside one passage
MAX_OCCURRENCES = 20  # a shingle this frequent in one text is boilerplate, not evidence of copying
MAX_DOCUMENTS = 200  # a shingle in more documents than this is everyone's boilerplate: it seeds no pair


class Offsets:
    """Each stream character's offset in the cleaned text, kept as runs of consecutive offsets (a run
    ends at punctuation, a span's end, a boundary): 8 bytes a run instead of 4 a character — every
    document's stream is held while passages are found (10,000 documents: 104 M characters)."""

    __slots__ = ("bases", "n", "starts")

    def __init__(self, offsets: np.ndarray):
        self.n = len(offsets)
        self.starts = np.flatnonzero(np.r_[True, np.diff(offsets) != 1][: self.n]).astype(np.int32)
        self.bases = np.asarray(offsets)[self.starts].astype(np.int32)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i) -> int:
        """The offset of stream character `i` (0 <= i < len)."""
        i = int(i)
        if not 0 <= i < self.n:
            raise IndexError(f"stream index {i} out of range 0..{self.n - 1}")
        k = int(np.searchsorted(self.starts, i, side="right")) - 1
        return int(self.bases[k]) + i - int(self.starts[k])

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """Every character's offset (int64)."""
        runs = np.diff(np.r_[self.starts, self.n])
        out = np.arange(self.n, dtype=np.int64) + np.repeat(self.bases.astype(np.int64) - self.starts, runs)
        return out if dtype is None else out.astype(dtype)


@dataclass
class Stream:
    """A document reduced to the characters that count, with each one's offset in the cleaned text."""

    chars: str
    offsets: Offsets


def make_stream(text: str, spans: list[tuple[int, int]], boundary: str = "\ue000") -> Stream:
    """The text's characters inside `spans`, with `boundary` between spans so that no passage
    runs from one section into the next (give each document of a pair a different boundary)."""
    folded = fold(text)
    codes = np.frombuffer(folded.encode("utf-32-le"), dtype=np.uint32)
    keep = text_mask(codes)
    if not spans:
        return Stream("", Offsets(np.zeros(0, np.int64)))
    spans = sorted(spans)
    starts = np.array([a for a, _ in spans], np.int64)
    ends = np.array([b for _, b in spans], np.int64)
    if np.any(starts[1:] < ends[:-1]):  # overlapping spans: each is streamed on its own
        pos = [start + np.flatnonzero(keep[start:end]) for start, end in spans]
        counts = np.array([len(p) for p in pos], np.int64)
        pos = np.concatenate(pos)
    else:  # every span at once (a document has hundreds)
        cum = np.r_[0, np.cumsum(keep)]
        counts = cum[ends] - cum[starts]
        inside = np.zeros(len(codes) + 1, np.int64)
        np.add.at(inside, starts, 1)
        np.add.at(inside, ends, -1)
        pos = np.flatnonzero((np.cumsum(inside)[:-1] > 0) & keep)
    after = np.cumsum(counts)  # where each span's boundary goes, after its characters
    chars = np.insert(codes[pos], after, np.uint32(ord(boundary)))
    offsets = np.insert(pos, after, ends)
    return Stream(chars.astype(np.uint32).tobytes().decode("utf-32-le"), Offsets(offsets))


def _index(s: str, k: int) -> dict[str, list[int]]:
    idx: dict[str, list[int]] = {}
    for i in range(len(s) - k + 1):
        idx.setdefault(s[i : i + k], []).append(i)
    return idx


def exact_runs(a: str, b: str, k: int = SHINGLE) -> list[tuple[int, int, int]]:
    """Maximal runs of shared shingles along a diagonal: (start in a, start in b, length)."""
    index_b = _index(b, k)
    counts_a = _index(a, k)
    runs: list[tuple[int, int, int]] = []
    active: dict[int, tuple[int, int]] = {}  # diagonal → (start in a, start in b)
    for i in range(len(a) - k + 1):
        shingle = a[i : i + k]
        js = index_b.get(shingle, ())
        if len(js) > MAX_OCCURRENCES or len(counts_a[shingle]) > MAX_OCCURRENCES:
            js = ()
        current = {}
        for j in js:
            d = j - i
            current[d] = active.get(d, (i, j))
        for d, (sa, sb) in active.items():
            if d not in current:
                runs.append((sa, sb, i - 1 - sa + k))
        active = current
    end = len(a) - k + 1
    for sa, sb in active.values():
        runs.append((sa, sb, end - 1 - sa + k))
    return sorted(runs)


@dataclass
class Passage:
    a_start: int
    a_end: int
    b_start: int
    b_end: int
    shared: int

    @property
    def similarity(self) -> float:
        return self.shared / max(self.a_end - self.a_start, self.b_end - self.b_start)


def _crosses(s: str, lo: int, hi: int) -> bool:
    return any(not is_text_char(c) for c in s[lo:hi])


def chain(runs: list[tuple[int, int, int]], a: str, b: str, max_gap: int = MAX_GAP) -> list[Passage]:
    """Join exact runs that follow each other in both texts across small gaps (never across a section)."""
    passages: list[Passage] = []
    for sa, sb, n in runs:
        for p in reversed(passages[-8:]):
            ga, gb = sa - p.a_end, sb - p.b_end
            if (
                -SHINGLE < ga <= max_gap
                and -SHINGLE < gb <= max_gap
                and not _crosses(a, p.a_end, sa)
                and not _crosses(b, p.b_end, sb)
            ):
                p.shared += n - max(0, -min(ga, gb))
                p.a_end, p.b_end = max(p.a_end, sa + n), max(p.b_end, sb + n)
                break
        else:
            passages.append(Passage(sa, sa + n, sb, sb + n, n))
    return passages


def _passages(
    runs: list[tuple[int, int, int]], a: Stream, b: Stream, min_chars: int, min_similarity: float
) -> list[tuple[int, int, int, int, int, float]]:
    kept = [p for p in chain(runs, a.chars, b.chars) if p.shared >= min_chars and p.similarity >= min_similarity]
    # A passage inside a longer one on both sides adds nothing.
    kept = [
        p
        for p in kept
        if not any(
            q is not p
            and q.a_start <= p.a_start
            and p.a_end <= q.a_end
            and q.b_start <= p.b_start
            and p.b_end <= q.b_end
            and (q.a_end - q.a_start, q.b_end - q.b_start) != (p.a_end - p.a_start, p.b_end - p.b_start)
            for q in kept
        )
    ]
    return [
        (
            int(a.offsets[p.a_start]),
            int(a.offsets[p.a_end - 1]) + 1,
            int(b.offsets[p.b_start]),
            int(b.offsets[p.b_end - 1]) + 1,
            p.shared,
            round(p.similarity, 4),
        )
        for p in kept
    ]


def shared_passages(
    a: Stream, b: Stream, min_chars: int = MIN_CHARS, min_similarity: float = MIN_SIMILARITY
) -> list[tuple[int, int, int, int, int, float]]:
    """(start_a, end_a, start_b, end_b, shared characters, similarity) of one pair, offsets in the cleaned texts."""
    return _passages(exact_runs(a.chars, b.chars), a, b, min_chars, min_similarity)


# ---------------------------------------------------------------- the corpus-wide shingle index

_PRIME = np.uint64(1_000_003)


def shingle_hashes(chars: str, k: int = SHINGLE) -> tuple[np.ndarray, np.ndarray]:
    """64-bit rolling hashes of the k-character shingles of a stream that hold no section boundary,
    with their positions; shingles repeated more than MAX_OCCURRENCES times in the stream are dropped."""
    codes = np.frombuffer(chars.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    n = len(codes) - k + 1
    if n <= 0:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64)
    h = np.zeros(n, np.uint64)
    with np.errstate(over="ignore"):
        for j in range(k):
            h = h * _PRIME + codes[j : j + n]
    inside = np.r_[0, np.cumsum(text_mask(codes))]
    pos = np.flatnonzero(inside[k : k + n] - inside[:n] == k)  # every character of the shingle is text
    h = h[pos]
    _, inverse, counts = np.unique(h, return_inverse=True, return_counts=True)
    keep = counts[inverse] <= MAX_OCCURRENCES
    return h[keep], pos[keep]


PARTITION = 1 << 21  # shingles matched at once: the index is joined one hash partition at a time
PAIR_GROUP = 1 << 20  # matches assembled into runs at once (whole documents' pairs): 24 MB of them
_BUCKETS = 1024  # ranges of first documents the matches are spilled into (a group holds one at least)
PAIRS_AT_ONCE = 1 << 14  # pairs whose runs are made Python tuples at once


def indexed_runs(
    streams: list[Stream],
    k: int = SHINGLE,
    max_docs: int = MAX_DOCUMENTS,
    hashes: list | None = None,
    partition: int | None = None,
    spill: Path | None = None,
) -> dict[tuple[int, int], list[tuple[int, int, int]]]:
    """Exact runs of shared shingles for every pair of streams that shares any, from one index of
    the whole corpus (no pair is compared that shares nothing): {(i, j): [(start in i, start in j,
    length), …]} with i < j — for each pair the same runs as ``exact_runs``. See :func:`runs_by_pair`."""
    return dict(runs_by_pair(streams, k, max_docs, hashes, partition, spill))


def runs_by_pair(
    streams: list[Stream],
    k: int = SHINGLE,
    max_docs: int = MAX_DOCUMENTS,
    hashes: list | None = None,
    partition: int | None = None,
    spill: Path | None = None,
    watch: bool = False,
) -> Iterator[tuple[tuple[int, int], list[tuple[int, int, int]]]]:
    """((i, j), runs) of every pair of streams that shares a shingle, in pair order (i, then j):
    the runs as :func:`indexed_runs` gives them. A shingle found in more than `max_docs` documents
    is ubiquitous boilerplate and seeds nothing. `hashes`: each stream's shingle_hashes, when the
    caller already has them (a parent aligned with many children).

    The index is sorted and joined one hash partition at a time (the hashes' top bits, about
    `partition` shingles each, default PARTITION): every match of a shingle lies in its own
    partition. When there are several, the shingles wait on disk (in a temporary folder in `spill`,
    default the system's) by partition, and the matches by range of first document; the runs are
    then assembled a few documents' pairs at a time (about PAIR_GROUP matches). So the working
    memory is bounded by a partition and a group, not by the corpus, and the result is the same for
    any partition or group size. `watch`: say how far the partitions have got (the corpus's index,
    :func:`compare.workers.watched`)."""
    n = len(streams)
    if not n:
        return
    length = max(len(s.chars) for s in streams) + 1
    total = sum(len(h) for h, _ in hashes) if hashes is not None else sum(max(0, len(s.chars) - k + 1) for s in streams)
    partition = partition or PARTITION
    bits = max(0, (max(total, 1) - 1) // max(partition, 1)).bit_length()  # 2**bits partitions
    match = partial(_partition_matches, n=n, length=length, max_docs=max_docs)
    if not bits:  # one partition: in memory
        parts = hashes if hashes is not None else [shingle_hashes(s.chars, k) for s in streams]
        H = np.concatenate([h for h, _ in parts])
        where = np.concatenate([i * length + pos for i, (_, pos) in enumerate(parts)])
        yield from _pair_runs(list(match((H, where))), n, length, k)
        return
    with tempfile.TemporaryDirectory(prefix="compare-passages-", dir=spill) as tmp:
        folder = Path(tmp)
        shingles = _spill_by_partition(streams, hashes, k, bits, folder)
        loaded = ((np.fromfile(h, np.uint64), np.fromfile(w, np.int64)) for h, w in shingles)
        buckets = min(n, _BUCKETS)
        files = [folder / f"m{b}" for b in range(buckets)]
        # one partition at a time: here, or as tasks on a cluster (the results come back in order)
        joined = imap_ordered(match, loaded, cluster_workers())
        for pair, diag, pa in watched("parts of the shingle index joined", len(shingles), joined) if watch else joined:
            bucket = (pair // n) * buckets // n  # pairs of a range of first documents
            order = np.argsort(bucket, kind="stable")
            rows = np.column_stack([pair, diag, pa])[order]
            cuts = np.searchsorted(bucket[order], np.arange(buckets + 1))
            for b in np.flatnonzero(cuts[1:] > cuts[:-1]).tolist():
                with open(files[b], "ab") as f:
                    rows[cuts[b] : cuts[b + 1]].tofile(f)
            del rows, order, bucket
        for h, w in shingles:
            h.unlink()
            w.unlink()
        group: list[np.ndarray] = []
        size = 0
        for b, file in enumerate(files):  # consecutive ranges of first documents, about PAIR_GROUP matches
            if file.exists():
                group.append(np.fromfile(file, np.int64).reshape(-1, 3))
                size += len(group[-1])
                file.unlink()
            if group and (size >= PAIR_GROUP or b == buckets - 1):
                columns = list(np.concatenate(group).T.copy())  # pair, diagonal, position: each contiguous
                group, size = [], 0
                yield from _pair_runs(columns, n, length, k)


def _spill_by_partition(streams, hashes, k: int, bits: int, folder: Path) -> list[tuple[Path, Path]]:
    """Every stream's shingles written by hash partition: (hashes file, where file) per partition,
    each in document then position order; `where` = document · length + position."""
    length = max(len(s.chars) for s in streams) + 1
    files = [(folder / f"h{p}", folder / f"w{p}") for p in range(1 << bits)]
    with ExitStack() as stack:
        out = [(stack.enter_context(open(h, "wb")), stack.enter_context(open(w, "wb"))) for h, w in files]
        for i, s in enumerate(streams):
            h, pos = hashes[i] if hashes is not None else shingle_hashes(s.chars, k)
            top = (h >> np.uint64(64 - bits)).astype(np.int64)
            order = np.argsort(top, kind="stable")
            h, where, top = h[order], i * length + pos[order], top[order]
            cuts = np.searchsorted(top, np.arange((1 << bits) + 1))
            for p in np.flatnonzero(cuts[1:] > cuts[:-1]).tolist():
                h[cuts[p] : cuts[p + 1]].tofile(out[p][0])
                where[cuts[p] : cuts[p + 1]].tofile(out[p][1])
    return files


def _pair_runs(
    matches: list[np.ndarray], n: int, length: int, k: int
) -> Iterator[tuple[tuple[int, int], list[tuple[int, int, int]]]]:
    """The runs of each pair from its matches ([pair, diagonal, position in i], a list this empties:
    its arrays are let go of as soon as they are sorted), pairs in order."""
    if not len(matches[0]):
        return
    # Matches by pair, diagonal, position: a run is consecutive positions on one diagonal.
    pair, diag, pa = _sort_rows(matches, [n * n, 2 * length, length])
    first = np.r_[True, (pair[1:] != pair[:-1]) | (diag[1:] != diag[:-1]) | (pa[1:] != pa[:-1] + 1)]
    run_start = np.flatnonzero(first)
    run_last = np.r_[run_start[1:], len(pa)] - 1
    pair, sa, sb = pair[run_start], pa[run_start], pa[run_start] + diag[run_start] - length
    n_chars = pa[run_last] - sa + k
    del diag, pa, first, run_start, run_last
    runs = [pair, sa, sb, n_chars]
    del pair, sa, sb, n_chars
    pair, sa, sb, n_chars = _sort_rows(runs, [n * n, length, length, length])  # text order
    bounds = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1], True])
    first = pair[bounds[:-1]]
    del pair
    for c in range(0, len(first), PAIRS_AT_ONCE):  # the runs as Python tuples a few pairs at a time
        lo, hi = int(bounds[c]), int(bounds[min(c + PAIRS_AT_ONCE, len(first))])
        triples = list(zip(sa[lo:hi].tolist(), sb[lo:hi].tolist(), n_chars[lo:hi].tolist(), strict=True))
        cuts = (bounds[c : c + PAIRS_AT_ONCE + 1] - lo).tolist()
        for p, a, b in zip(first[c : c + PAIRS_AT_ONCE].tolist(), cuts[:-1], cuts[1:], strict=True):
            yield divmod(p, n), triples[a:b]


def _partition_matches(
    shingles: tuple[np.ndarray, np.ndarray], n: int, length: int, max_docs: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The matches among one hash partition's shingles (`shingles`: their hashes, and where each is
    as document · length + position, in document then position order): for every two documents
    holding one (2 … max_docs documents), each pair of their occurrences as (pair = i·n + j with
    i < j, diagonal = position in j − position in i + length, position in i)."""
    H, where = shingles
    del shingles
    empty = np.zeros(0, np.int64)
    if not len(H):
        return empty, empty, empty
    order = _hash_order(H)  # by hash, then document and position
    H, where = H[order], where[order]
    D, P = np.divmod(where, length)
    # Groups of equal hashes, kept when 2 … max_docs documents hold them.
    starts = np.flatnonzero(np.r_[True, H[1:] != H[:-1]])
    sizes = np.diff(np.r_[starts, len(H)])
    new_doc = np.r_[True, (H[1:] != H[:-1]) | (D[1:] != D[:-1])]
    n_docs = np.add.reduceat(new_doc.astype(np.int64), starts)
    useful = (n_docs >= 2) & (n_docs <= max_docs)
    member = np.repeat(useful, sizes)
    rank = np.arange(len(H)) - np.repeat(starts, sizes)  # position within the group
    later = np.where(member, np.repeat(sizes, sizes) - 1 - rank, 0)  # members after this one in its group
    ia = np.repeat(np.arange(len(H)), later)
    ib = ia + 1 + (np.arange(len(ia)) - np.repeat(np.cumsum(later) - later, later))
    cross = D[ia] != D[ib]
    ia, ib = ia[cross], ib[cross]
    # sorted by document within a group, so the first is the earlier
    return D[ia] * n + D[ib], P[ib] - P[ia] + length, P[ia]


def _sort_rows(columns: list[np.ndarray], sizes: list[int]) -> list[np.ndarray]:
    """The rows of `columns` (integers, column c in 0 … sizes[c] - 1) in lexicographic order; the
    list `columns` is emptied, so that its arrays can be let go of as they are read.
    Rows are packed into one integer each when they fit: sorting numbers is several times faster
    than sorting indices (lexsort)."""
    if math.prod(sizes) < 2**63:
        packed = np.zeros(len(columns[0]), np.int64)
        for size in sizes:
            packed *= size
            packed += columns.pop(0)
        packed.sort()
        out = []
        for size in reversed(sizes):
            packed, col = np.divmod(packed, size)
            out.append(col)
        return out[::-1]
    order = np.lexsort(columns[::-1])
    out = [col[order] for col in columns]
    columns.clear()
    return out


def _hash_order(H: np.ndarray) -> np.ndarray:
    """The stable order of hashes (equal hashes in input order), by a sort of numbers: the high
    bits of each hash with its index in the low bits. Where two hashes share those high bits, that
    stretch is ordered again by the whole hash."""
    bits = max(1, (len(H) - 1).bit_length())
    if bits > 40:
        return np.argsort(H, kind="stable")
    low = np.uint64((1 << bits) - 1)
    packed = np.sort((H & ~low) | np.arange(len(H), dtype=np.uint64))
    order = (packed & low).astype(np.int64)
    high, whole = packed & ~low, H[order]
    clash = np.flatnonzero((high[1:] == high[:-1]) & (whole[1:] != whole[:-1]))
    if len(clash):
        group = np.r_[0, np.cumsum(high[1:] != high[:-1])]
        for g in np.unique(group[clash]):
            lo, hi = np.searchsorted(group, [g, g + 1])
            part = order[lo:hi]
            order[lo:hi] = part[np.lexsort((part, H[part]))]
    return order


def passages_table(
    docs: pd.DataFrame,
    documents: Callable[[], Iterable[tuple[str, str, list[Section]]]],
    spans: dict[str, list[tuple[int, int]]],
    min_chars: int = MIN_CHARS,
    min_similarity: float = MIN_SIMILARITY,
    spill: Path | None = None,
) -> pd.DataFrame:
    """Shared passages of every pair of documents (each unordered pair once, in doc_id order).
    `documents()`: every document's (doc_id, cleaned text, sections), in doc_id order. It is read
    twice — once for the streams, once for the passages' texts and sections — so that no more
    than one document's text and sections are held at a time (at 10,000 documents the texts are
    0.2 GB, their sections more). `spill`: where the index may wait on disk (:func:`runs_by_pair`)."""
    ids = sorted(docs.doc_id)
    streams = [make_stream(text, spans[doc_id]) for doc_id, text, _ in _one_each(documents(), ids)]
    found = []  # (i, j, start_a, end_a, start_b, end_b, n_chars, similarity)
    for (i, j), runs in runs_by_pair(streams, spill=spill, watch=True):
        if sum(r[2] for r in runs) >= min_chars:  # else too little shared to hold one passage
            found.extend((i, j, *p) for p in _passages(runs, streams[i], streams[j], min_chars, min_similarity))
    del streams
    # Each passage's texts and sections, from its two documents' side, one document at a time.
    on_side: list[list[tuple[int, int, int, int]]] = [[] for _ in ids]  # (row, side, start, end) by document
    for row, (i, j, sa, ea, sb, eb, _, _) in enumerate(found):
        on_side[i].append((row, 0, sa, ea))
        on_side[j].append((row, 1, sb, eb))
    texts = [[""] * len(found), [""] * len(found)]
    sections = [[""] * len(found), [""] * len(found)]
    for k, (_, text, secs) in enumerate(_one_each(documents(), ids)):
        section_at = section_id_finder(secs)
        for row, side, start, end in on_side[k]:
            texts[side][row] = text[start:end]
            sections[side][row] = section_at(start)
        on_side[k] = []
    city = dict(zip(docs.doc_id, docs.city, strict=True))
    columns = [list(c) for c in zip(*found, strict=True)] if found else [[] for _ in range(8)]
    del found
    i, j, start_a, end_a, start_b, end_b, n_chars, similarity = columns
    doc_a, doc_b = [ids[x] for x in i], [ids[x] for x in j]
    return pd.DataFrame(
        {
            "doc_a": doc_a,
            "doc_b": doc_b,
            "city_a": [city[d] for d in doc_a],
            "city_b": [city[d] for d in doc_b],
            "section_a": sections[0],
            "section_b": sections[1],
            "start_a": start_a,
            "end_a": end_a,
            "start_b": start_b,
            "end_b": end_b,
            "n_chars": n_chars,
            "similarity": similarity,
            "text_a": texts[0],
            "text_b": texts[1],
        }
    )


def _one_each(documents: Iterable[tuple], ids: list[str]) -> Iterator[tuple]:
    """`documents`, checked to come one for each of `ids`, in that order."""
    got = 0
    for got, d in enumerate(documents, 1):
        if got > len(ids) or d[0] != ids[got - 1]:
            expected = ids[got - 1] if got <= len(ids) else "no more documents"
            raise ValueError(f"shared passages: document {got} is {d[0]!r}, expected {expected!r} (doc_id order)")
        yield d
    if got != len(ids):
        raise ValueError(f"shared passages: {got} documents given for {len(ids)}")
