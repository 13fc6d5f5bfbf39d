"""Documents and their parents → the lineage tables: what each document took from a parent, what it
changed, what it shares only with its siblings, what is its own — and how its targets relate to its
parent's.

Input: the registry's documents, their citations (declared parents), cleaned texts, sections,
targets and shared passages. Output:

- ``document_parents``: each document's parents in the corpus — declared (a preamble citation
  matched by 文号 or by normalised title) or implied by the hierarchy (every local plan implements
  the national plans in the corpus) — and the declared parents the corpus does not hold;
- ``lineage``: one row per sentence (clause) of every document with a parent or a sibling:
  ``copied`` (aligned with a parent's passage, at least COPIED_MIN of its characters, no number,
  year or body changed), ``adapted`` (aligned, at least ADAPTED_MIN, with changes), ``sibling`` (not
  traceable to a parent but shared with a document of the same province — failing that, of the same
  level: the trace of a template the corpus does not hold) or ``local``;
- ``target_lineage``: each target of a document with a parent, matched to the parent's target of
  the same catalogue metric (else the target in the aligned parent sentence): ``same``, ``raised``,
  ``lowered``, ``rescaled`` (a count or total the parent sets for a larger jurisdiction: not
  comparable) or ``new``; and a ``dropped`` row for each parent target the document did not take up.

Candidates come from the shingle index of :mod:`compare.shared_passages`; each candidate sentence
is aligned with rapidfuzz's LCS (in C), never a hand-written dynamic programme.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
from rapidfuzz.distance import LCSseq

from .citations import normalised_title
from .clauses import Sentence, sentences
from .errors import CompareError
from .lexicon import Lexicon, lexicon
from .memo import Memo
from .patterns import CN_NUMERAL_CHARS
from .sections import Section, section_id_finder
from .shared_passages import Stream, indexed_runs, make_stream, shingle_hashes
from .workers import watching

COPIED_MIN = 0.9  # share of a sentence's characters aligned with the parent: copied, when nothing substantive changed
ADAPTED_MIN = 0.5  # … a majority: adapted
SIBLING_MIN = 0.5  # share of a sentence's characters in passages shared with a sibling
MIN_ALIGNED = 15  # characters a sentence must share with a parent's to be traced to it (as for shared passages)
_NUMERAL = re.compile(rf"[\d{CN_NUMERAL_CHARS}.%]+")
_YEAR = re.compile(r"(?:19|20)\d\d")


# ---- which documents are whose parents


@dataclass(frozen=True)
class ParentLink:
    doc_id: str
    parent_doc_id: str  # empty when the cited document is not in the corpus
    basis: str  # doc_number, title, level, or unresolved
    cited: str  # the citation as printed (empty for a link by level)


def same_work(a: str, b: str) -> bool:
    """Two normalised titles name one work: equal, or one is the other with its issuer's name in
    front (自治区深化产教融合…实施方案 and 深化产教融合…实施方案)."""
    return a == b or (min(len(a), len(b)) >= 10 and (a.endswith(b) or b.endswith(a)))


def resolve_parents(documents: pd.DataFrame, citations: pd.DataFrame) -> list[ParentLink]:
    """Each document's declared parents (its preamble citations) matched to registered documents by
    文号, else by normalised title; then the parents the hierarchy implies (a national document for
    every other document; a province's document for the documents of that province). A cycle of
    declared parents is an error naming the documents."""
    docs = documents.set_index("doc_id")
    by_number = {n: d for d, n in docs.doc_number.items() if n}
    titles = [(normalised_title(t), d) for d, t in docs.title.items() if t]
    links: dict[tuple[str, str], ParentLink] = {}
    works: dict[str, list[str]] = {}  # per document, the works it cites (normalised titles or numbers)
    for c in citations[citations.is_parent].itertuples():
        cited = (f"《{c.title}》" if c.title else "") + (
            f"（{c.doc_number}）" if c.title and c.doc_number else c.doc_number
        )
        title = normalised_title(c.title) if c.title else ""
        parent, basis = by_number.get(c.doc_number, ""), "doc_number"
        if not parent and title:
            parent, basis = next((d for t, d in titles if t == title), ""), "title"
        if parent == c.doc_id:
            continue  # a document citing itself
        # One work cited twice (with and without its 文号, with and without its issuer) is one parent.
        seen = works.setdefault(c.doc_id, [])
        work = parent or next((w for w in seen if same_work(w, title or c.doc_number)), title or c.doc_number)
        if work not in seen:
            seen.append(work)
        key = (c.doc_id, work)
        if key not in links or len(cited) > len(links[key].cited):
            links[key] = ParentLink(c.doc_id, parent, basis if parent else "unresolved", cited)
    _check_cycles([link for link in links.values() if link.parent_doc_id])
    national = sorted(docs.index[docs.admin_level == "national"])
    provincial: dict[str, list[str]] = {}
    for d, row in docs[(docs.admin_level == "province") & (docs.province != "")].iterrows():
        provincial.setdefault(row.province, []).append(d)
    for d, row in docs.iterrows():
        implied = national if row.admin_level != "national" else []
        if row.admin_level in ("prefecture", "district"):
            implied = [*implied, *sorted(provincial.get(row.province, []))]
        for p in implied:
            if p != d and (d, p) not in links:
                links[(d, p)] = ParentLink(d, p, "level", "")
    return sorted(links.values(), key=lambda x: (x.doc_id, x.parent_doc_id, x.cited))


def _check_cycles(links: list[ParentLink]) -> None:
    graph: dict[str, list[str]] = {}
    for link in links:
        graph.setdefault(link.doc_id, []).append(link.parent_doc_id)
    state: dict[str, int] = {}  # 1 on the path, 2 done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, [])):
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt) :] + [nxt]
                raise CompareError(
                    f"data/raw/registry.csv: the declared parents form a cycle: {' → '.join(cycle)} "
                    "(each document cites the next as the plan it implements). A document cannot "
                    "descend from itself: check the 文号 and titles these documents cite and register."
                )
            if state.get(nxt) != 2:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])


def document_parents_frame(links: list[ParentLink]) -> pd.DataFrame:
    from .schemas import DOCUMENT_PARENTS

    return pd.DataFrame([vars(link) for link in links], columns=DOCUMENT_PARENTS.columns)


# ---- alignment with a parent


class Aligned(NamedTuple):
    parent_doc_id: str
    parent_section_id: str
    parent_start: int
    parent_end: int
    similarity: float
    changes: list[str]
    substantive: bool


def _boundaries(stream: Stream) -> np.ndarray:
    codes = np.frombuffer(stream.chars.encode("utf-32-le"), dtype=np.uint32)
    return codes >= 0xE000  # the boundary marks make_stream puts between spans (private-use characters)


def _unit_ranges(stream: Stream) -> list[tuple[int, int]]:
    """(start, end) in the stream of each sentence, in order (the boundary after it excluded)."""
    ranges, start = [], 0
    for i in np.flatnonzero(_boundaries(stream)).tolist():
        ranges.append((start, i))
        start = i + 1
    return ranges


@dataclass
class ParentIndex:
    """What aligning with a parent needs, made once however many children it has."""

    doc_id: str
    stream: Stream
    hashes: tuple[np.ndarray, np.ndarray]
    ranges: list[tuple[int, int]]
    starts: np.ndarray
    text_at: np.ndarray  # the stream index of each of the parent's characters
    plain: str  # the parent's characters, without the boundaries
    section_of: object  # offset → the id of the section holding it (sections.section_id_finder)

    @classmethod
    def build(cls, doc_id: str, text: str, units: list[Sentence], sections: list[Section]) -> ParentIndex:
        stream = make_stream(text, [(u.start, u.end) for u in units], "\ue001")
        ranges = _unit_ranges(stream)
        return cls(
            doc_id,
            stream,
            shingle_hashes(stream.chars),
            ranges,
            np.array([a for a, _ in ranges], np.int64),
            np.flatnonzero(~_boundaries(stream)),
            stream.chars.replace("\ue001", ""),
            section_id_finder(sections, hold_empty=True),
        )


def align(
    child_text: str,
    child_units: list[Sentence],
    parent: ParentIndex,
    lex: Lexicon,
    min_aligned: int = MIN_ALIGNED,
    adapted_min: float = ADAPTED_MIN,
) -> dict[int, Aligned]:
    """For each child sentence that shares a shingle with the parent, its alignment: index → Aligned
    (what changed is worked out only for sentences aligned enough to be adapted or copied)."""
    child = make_stream(child_text, [(u.start, u.end) for u in child_units], "\ue000")
    runs = indexed_runs([child, parent.stream], hashes=[shingle_hashes(child.chars), parent.hashes]).get((0, 1), [])
    if not runs:
        return {}
    c_ranges, p_ranges = _unit_ranges(child), parent.ranges
    c_starts = np.array([s for s, _ in c_ranges])
    sa, sb, n = (np.array(x, np.int64) for x in zip(*runs, strict=True))
    ci_all = np.searchsorted(c_starts, sa, side="right") - 1
    pi_all = np.searchsorted(parent.starts, sb, side="right") - 1
    hits: dict[int, dict[int, int]] = {}  # child sentence → parent sentence → shared characters
    for ci, pi, k in zip(ci_all.tolist(), pi_all.tolist(), n.tolist(), strict=True):
        by = hits.setdefault(ci, {})
        by[pi] = by.get(pi, 0) + k
    out: dict[int, Aligned] = {}
    text_at, plain, section_of, parent_id = parent.text_at, parent.plain, parent.section_of, parent.doc_id
    for ci, by_parent in hits.items():
        a = child.chars[slice(*c_ranges[ci])]
        if not a:
            continue
        best = max(by_parent, key=lambda pi: (by_parent[pi], -pi))
        # The best sentence alone, or joined with a neighbour that shares text too (a city merges two).
        windows = [(best, best)] + [
            (lo, hi) for lo, hi in ((best - 1, best), (best, best + 1)) if lo in by_parent and hi in by_parent
        ]
        scored = []
        for lo, hi in windows:
            b_lo = int(np.searchsorted(text_at, p_ranges[lo][0]))
            b_hi = int(np.searchsorted(text_at, p_ranges[hi][1]))
            b = plain[b_lo:b_hi]
            edges = [0, int(np.searchsorted(text_at, p_ranges[lo][1])) - b_lo, len(b)] if hi > lo else [0, len(b)]
            found = _align_one(a, b, edges)
            if found:
                scored.append((found[0], -(hi - lo), b_lo, b, found))
        if not scored:
            continue
        matched, _, b_lo, b, (_, w_lo, w_hi) = max(scored, key=lambda x: (x[0], x[1]))
        if matched < min_aligned:
            continue  # a phrase every plan uses (中等职业教育发展) traces nothing
        similarity = round(matched / len(a), 4)
        changes, substantive = _changes(b[w_lo:w_hi], a, lex) if similarity >= adapted_min else ([], True)
        offsets = parent.stream.offsets
        start, end = int(offsets[text_at[b_lo + w_lo]]), int(offsets[text_at[b_lo + w_hi - 1]]) + 1
        out[ci] = Aligned(parent_id, section_of(start), start, end, similarity, changes, substantive)
    return out


def _align_one(a: str, b: str, edges: list[int]) -> tuple[int, int, int] | None:
    """LCS of a child sentence `a` in a parent window `b` (parent sentences starting at `edges`):
    (characters of `a` matched, the part of `b` they answer). That part runs from the first to the
    last run of two or more matched characters, so stray characters do not stretch it — and out to
    the edge of the parent's sentence where the child has words of its own beyond it (国务院有关部门要…
    became 市教育局要…: the changed body is part of the answer)."""
    ops = LCSseq.opcodes(b, a)
    matched = sum(op.dest_end - op.dest_start for op in ops if op.tag == "equal")
    anchors = [op for op in ops if op.tag == "equal" and op.src_end - op.src_start >= 2]
    if not anchors:
        return None
    lo, hi = anchors[0].src_start, anchors[-1].src_end
    if anchors[0].dest_start > 0:
        lo = max(e for e in edges if e <= lo)
    if anchors[-1].dest_end < len(a):
        hi = min(e for e in edges if e >= hi)
    return matched, lo, hi


def _changes(parent: str, child: str, lex: Lexicon) -> tuple[list[str], bool]:
    """The pieces that differ (`kind: parent → city`), whole numbers kept whole, and whether any is
    substantive: a number, a year, or a body or place."""
    ops = [op for op in LCSseq.opcodes(parent, child) if op.tag != "equal"]
    p_words, c_words = _word_edges(parent), _word_edges(child)
    spans: list[list[int]] = []  # [p_lo, p_hi, c_lo, c_hi]: whole numerals, whole words, close ones merged
    for op in ops:
        p_lo, p_hi = _to_words(p_words, *_widen(parent, op.src_start, op.src_end))
        c_lo, c_hi = _to_words(c_words, *_widen(child, op.dest_start, op.dest_end))
        if spans and p_lo - spans[-1][1] <= 1 and c_lo - spans[-1][3] <= 1:
            spans[-1][1], spans[-1][3] = max(spans[-1][1], p_hi), max(spans[-1][3], c_hi)
        else:
            spans.append([p_lo, p_hi, c_lo, c_hi])
    out, substantive = [], False
    for p_lo, p_hi, c_lo, c_hi in spans:
        a, b = parent[p_lo:p_hi], child[c_lo:c_hi]
        kind = _kind(a, b, lex)
        substantive |= kind != "wording"
        out.append(f"{kind}: {a or '∅'} → {b or '∅'}")
    return out, substantive


def _word_edges(s: str) -> list[int]:
    """Where jieba's words of `s` (Chinese characters, letters and digits only) start and end."""
    from .tokens import segment

    edges, pos = [0], 0
    for word in segment(s):
        pos = s.find(word, pos) + len(word)
        edges.append(pos)
    return edges


def _to_words(edges: list[int], lo: int, hi: int) -> tuple[int, int]:
    """A range widened to whole words (院 → 职业院校); an insertion between two words stays empty."""
    i = bisect.bisect_right(edges, lo) - 1
    j = bisect.bisect_left(edges, hi)
    if lo == hi and edges[i] == lo:
        return lo, hi
    return edges[max(i, 0)], edges[min(j, len(edges) - 1)]


_NUMERAL_CHARS = frozenset("0123456789.%" + CN_NUMERAL_CHARS)


def _is_numeral(c: str) -> bool:
    return c in _NUMERAL_CHARS


def _widen(s: str, lo: int, hi: int) -> tuple[int, int]:
    """A changed range widened to the whole numerals it touches (2022 → 2025, not 2 → 5)."""
    touches = (
        any(map(_is_numeral, s[lo:hi])) or (lo > 0 and _is_numeral(s[lo - 1])) or (hi < len(s) and _is_numeral(s[hi]))
    )
    if touches:
        while lo > 0 and _is_numeral(s[lo - 1]):
            lo -= 1
        while hi < len(s) and _is_numeral(s[hi]):
            hi += 1
    return lo, hi


def _kind(a: str, b: str, lex: Lexicon) -> str:
    """What a change is: a year, a number, a body or place (lexicon.yaml's `bodies`), or wording.
    Numerals inside the fixed phrases of number_phrases.csv (三全育人) are words, not numbers."""
    if _YEAR.search(a) or _YEAR.search(b):
        return "year"
    a_, b_ = (_without_phrases(x, lex) for x in (a, b))
    if re.search(r"\d", a_ + b_) or (_NUMERAL.search(a_) and _NUMERAL.search(b_)):
        return "number"
    if lex.body_re.search(a) or lex.body_re.search(b):
        return "body"
    return "wording"


def _without_phrases(s: str, lex: Lexicon) -> str:
    return lex.number_phrase_re.sub("", s) if lex.number_phrase_re else s


# ---- the lineage table


class Row(NamedTuple):
    doc_id: str
    section_id: str
    start: int
    end: int
    label: str
    parent: Aligned | None


def _coverage(text: str, units: list[Sentence], spans: list[tuple[int, int]]) -> np.ndarray:
    """The share of each sentence's text characters that lie in any of `spans`."""
    from .patterns import text_mask

    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    is_text = text_mask(codes)
    covered = np.zeros(len(text) + 1, np.int64)
    for s, e in spans:
        covered[s] += 1
        covered[e] -= 1
    inside = (np.cumsum(covered)[:-1] > 0) & is_text
    cum_in, cum_text = np.r_[0, np.cumsum(inside)], np.r_[0, np.cumsum(is_text)]
    starts = np.array([u.start for u in units], np.int64)
    ends = np.array([u.end for u in units], np.int64)
    n_text = cum_text[ends] - cum_text[starts]
    return np.where(n_text > 0, (cum_in[ends] - cum_in[starts]) / np.maximum(n_text, 1), 0.0)


@dataclass
class Corpus:
    """What lineage reads of the built corpus."""

    documents: pd.DataFrame  # doc_id, city, province, admin_level …
    texts: dict[str, str]
    sections: dict[str, list[Section]]
    shared_passages: pd.DataFrame
    assignments: dict[str, list[tuple[int, int]]]  # each document's task assignments (责任单位 … lines)


def _assigning(units: list[Sentence], spans: list[tuple[int, int]]) -> list[bool]:
    """Which sentences are part of a task assignment: they name the document's own bodies and deadlines,
    so they are its own and are never traced to a parent (whose bodies they would match by name)."""
    return [any(s < u.end and u.start < e for s, e in spans) for u in units]


@dataclass(frozen=True)
class Thresholds:
    copied_min: float = COPIED_MIN
    adapted_min: float = ADAPTED_MIN
    sibling_min: float = SIBLING_MIN
    min_aligned: int = MIN_ALIGNED


PARALLEL_MIN_CHARS = 2_000_000  # from this much text, documents are aligned on every core

_state: dict = {}  # what every document's alignment reads, set once per worker process


@dataclass
class Labelled:
    """Every sentence of every document that has a parent or a sibling in the corpus, labelled: one
    entry per document in `stored` (a :class:`compare.memo.Memo`), read back a batch of documents
    at a time (:meth:`batches`), so the corpus's rows are never held at once."""

    jobs: list[tuple[str, list[str], set[str]]]  # (document, its parents, its siblings)
    keys: list[str]  # each job's entry in `stored`
    stored: Memo
    state: dict  # what labelling a document reads (see :func:`_start`)
    workers: int | None = None

    def compute(self, jobs: list[tuple[str, list[str], set[str]]]) -> Iterator[list[Row]]:
        """The rows of each job, yielded in order as they come (on every core when the text of the
        documents and of their parents is large)."""
        from .workers import default_workers, imap_ordered

        n = self.workers
        if n is None:
            chars = self.state["chars"]
            n = default_workers(sum(chars[d] for job in jobs for d in {job[0], *job[1]}), PARALLEL_MIN_CHARS)
        try:
            yield from imap_ordered(_document_rows, jobs, n, initializer=_start, initargs=(self.state,))
        finally:
            _start({})

    def batches(self) -> Iterator[dict[str, list[Row]]]:
        """doc_id → its rows, for BATCH_DOCUMENTS documents at a time, in doc_id order (an entry that
        cannot be read is labelled and stored again)."""
        from .workers import BATCH_DOCUMENTS

        order = sorted(range(len(self.jobs)), key=lambda i: self.jobs[i][0])
        keys = [self.keys[i] for i in order]

        def again(positions: list[int]) -> Iterator[list[Row]]:
            return self.compute([self.jobs[order[p]] for p in positions])

        for positions, found in self.stored.batches(keys, again, BATCH_DOCUMENTS):
            yield {self.jobs[order[p]][0]: rows for p, rows in zip(positions, found, strict=True)}


def label_documents(
    corpus: Corpus,
    links: list[ParentLink],
    stored: Memo,
    doc_keys: dict[str, str],
    thresholds: Thresholds = Thresholds(),
    workers: int | None = None,
) -> Labelled:
    """Label every sentence of every document that has a parent or a sibling in the corpus, each
    document on its own (on every core when the corpus is large), and keep each document's rows in
    `stored`, as they come.

    An entry's key covers everything the rows are computed from — the document's and its parents'
    inputs (`doc_keys`: each document's memo key, which covers its file, registry row and compare's
    code), the passages it shares with its siblings, and the thresholds — so a document added to a
    built corpus labels only itself and the documents whose parents or sibling passages it changed."""
    docs = corpus.documents.set_index("doc_id")
    parents: dict[str, list[str]] = {}
    for link in links:
        if link.parent_doc_id:
            parents.setdefault(link.doc_id, []).append(link.parent_doc_id)
    siblings_of = sibling_groups(docs)
    jobs = []
    for doc_id in docs.index:
        mine = sorted(parents.get(doc_id, []))
        siblings = siblings_of(doc_id, mine)
        if mine or siblings:
            jobs.append((doc_id, mine, siblings))
    passages = _passages_by_document(corpus.shared_passages)
    keys = [
        stored.key(
            doc_keys[doc_id],
            *(doc_keys[p] for p in mine),
            repr(_shared_with(passages, doc_id, siblings)),
            repr(thresholds),
        )
        for doc_id, mine, siblings in jobs
    ]
    state = {
        "texts": corpus.texts,  # (the build's: read from each document's stored view when asked)
        "chars": dict(zip(corpus.documents.doc_id, corpus.documents.n_chars, strict=True)),
        "sections": corpus.sections,
        "assignments": corpus.assignments,
        "lex": lexicon(),
        "thresholds": thresholds,
        "passages": passages,
        "parents": {p for _, mine, _ in jobs for p in mine},
    }  # sent once to each worker: no tables
    labelled = Labelled(jobs, keys, stored, state, workers)
    stored.fill(watching("documents compared with their parents and siblings", labelled.compute), jobs, keys)
    return labelled


def _start(state: dict) -> None:
    global _state
    _state = {**state, "units": {}, "indexes": {}} if state else {}


def _units(doc_id: str) -> tuple[list[Sentence], list[Sentence]]:
    """A document's sentences, and those that are not task assignments (a parent's kept per process:
    its children are aligned with it again and again)."""
    if doc_id in _state["units"]:
        return _state["units"][doc_id]
    units = sentences(_state["texts"][doc_id], _state["sections"][doc_id])
    assigning = _assigning(units, _state["assignments"].get(doc_id, []))
    found = units, [u for u, a in zip(units, assigning, strict=True) if not a]
    if doc_id in _state["parents"]:
        _state["units"][doc_id] = found
    return found


def _document_rows(job: tuple[str, list[str], set[str]]) -> list[Row]:
    doc_id, parents, siblings = job
    texts, lex, th = _state["texts"], _state["lex"], _state["thresholds"]
    mine, free = _units(doc_id)
    index_of = {(u.start, u.end): i for i, u in enumerate(mine)}
    best: dict[int, Aligned] = {}
    for parent in parents:
        if parent not in _state["indexes"]:
            _state["indexes"][parent] = ParentIndex.build(
                parent, texts[parent], _units(parent)[1], _state["sections"][parent]
            )
        for k, a in align(texts[doc_id], free, _state["indexes"][parent], lex, th.min_aligned, th.adapted_min).items():
            i = index_of[(free[k].start, free[k].end)]
            if i not in best or a.similarity > best[i].similarity:
                best[i] = a
    shared = _shared_with(_state["passages"], doc_id, siblings)
    shared_starts = [p[0] for p in shared]
    sib_cover = _coverage(texts[doc_id], mine, [(s, e) for s, e, *_ in shared])
    rows = []
    for i, u in enumerate(mine):
        a = best.get(i)
        if a and a.similarity >= th.copied_min and not a.substantive:
            rows.append(Row(doc_id, u.section_id, u.start, u.end, "copied", a))
        elif a and a.similarity >= th.adapted_min:
            rows.append(Row(doc_id, u.section_id, u.start, u.end, "adapted", a))
        elif sib_cover[i] >= th.sibling_min:
            side = _sibling_side(shared, shared_starts, u, round(float(sib_cover[i]), 4))
            rows.append(Row(doc_id, u.section_id, u.start, u.end, "sibling", side))
        else:
            rows.append(Row(doc_id, u.section_id, u.start, u.end, "local", None))
    return rows


def sibling_groups(docs: pd.DataFrame):
    """(doc_id, its parents) → its siblings: the documents of the same province — failing that, of the
    same level — other than itself and its parents. Groups are made once, so a large corpus stays fast."""
    by_province: dict[str, set[str]] = {}
    by_level: dict[str, set[str]] = {}
    province = dict(zip(docs.index, docs.province, strict=True))
    level = dict(zip(docs.index, docs.admin_level, strict=True))
    for d in docs.index:
        if province[d]:
            by_province.setdefault(province[d], set()).add(d)
        by_level.setdefault(level[d], set()).add(d)

    def siblings(doc_id: str, parents: list[str]) -> set[str]:
        same = by_province.get(province[doc_id], set()) - {doc_id, *parents} if province[doc_id] else set()
        return same or (by_level.get(level[doc_id], set()) - {doc_id, *parents})

    return siblings


def _passages_by_document(passages: pd.DataFrame) -> dict[str, list[tuple]]:
    """Each document's shared passages from its side: (start, end, other doc, other section, start, end)."""
    out: dict[str, list[tuple]] = {}
    cols_a = zip(
        passages.doc_a,
        passages.start_a,
        passages.end_a,
        passages.doc_b,
        passages.section_b,
        passages.start_b,
        passages.end_b,
        strict=True,
    )
    cols_b = zip(
        passages.doc_b,
        passages.start_b,
        passages.end_b,
        passages.doc_a,
        passages.section_a,
        passages.start_a,
        passages.end_a,
        strict=True,
    )
    for doc, *rest in (*cols_a, *cols_b):
        out.setdefault(doc, []).append(tuple(rest))
    return out


def _shared_with(passages: dict[str, list[tuple]], doc_id: str, siblings: set[str]) -> list[tuple]:
    """The passages a document shares with its siblings, from its side, in order."""
    return sorted(p for p in passages.get(doc_id, []) if p[2] in siblings)


def _sibling_side(shared: list[tuple], starts: list[int], u: Sentence, similarity: float) -> Aligned:
    """The sibling passage that overlaps the sentence most (`shared` sorted by start, `starts` theirs)."""
    near = [p for p in shared[: bisect.bisect_left(starts, u.end)] if p[1] > u.start]
    s, e, doc, sec, ps, pe = max(near, key=lambda p: (min(p[1], u.end) - max(p[0], u.start), -p[4]))
    return Aligned(doc, sec, ps, pe, similarity, [], False)


def lineage_pieces(corpus: Corpus, labelled: Labelled) -> Iterator[pd.DataFrame]:
    """The lineage table, a batch of documents at a time in doc_id order (at least one piece)."""
    empty = True
    for rows in labelled.batches():
        empty = False
        yield lineage_frame(corpus, rows)
    if empty:
        yield lineage_frame(corpus, {})


def lineage_frame(corpus: Corpus, rows: dict[str, list[Row]]) -> pd.DataFrame:
    from .schemas import LINEAGE

    city = dict(zip(corpus.documents.doc_id, corpus.documents.city, strict=True))
    every = [r for doc_rows in rows.values() for r in doc_rows]
    traced = [r.parent for r in every]
    columns = {  # built column by column: a dict per row costs seconds at a thousand documents
        "doc_id": [r.doc_id for r in every],
        "city": [city[r.doc_id] for r in every],
        "section_id": [r.section_id for r in every],
        "char_start": [r.start for r in every],
        "char_end": [r.end for r in every],
        "text": [corpus.texts[r.doc_id][r.start : r.end] for r in every],
        "label": [r.label for r in every],
        "parent_doc_id": [a.parent_doc_id if a else "" for a in traced],
        "parent_section_id": [a.parent_section_id if a else "" for a in traced],
        "parent_start": pd.array([a.parent_start if a else None for a in traced], dtype="Int64"),
        "parent_end": pd.array([a.parent_end if a else None for a in traced], dtype="Int64"),
        "similarity": [a.similarity if a else 0.0 for a in traced],
        "changes": [a.changes if a else [] for a in traced],
    }
    return pd.DataFrame(columns, columns=LINEAGE.columns)


# ---- targets against the parent's


def _is_rate(row, lex: Lexicon) -> bool:
    """An amount per student, per person, per year … (生均拨款): comparable across jurisdictions."""
    return bool(re.search("|".join(["每", *lex.rate_words]), f"{row.label}{row.metric_zh}"))


def relation(child, parent, child_level: str, parent_level: str, lex: Lexicon) -> str:
    """same, raised or lowered — “raised” meaning more ambitious: a larger value, except for an upper
    bound (不超过, 以内), where a smaller one is. A count or a total set for a jurisdiction of another
    level (150 national key specialties, 10 of a city's) is `rescaled`: not compared."""
    kind = lex.kind(child.unit)
    if child_level != parent_level and (
        kind in ("counted", "quantity") or (kind == "amount" and not _is_rate(child, lex))
    ):
        return "rescaled"
    if child.value == parent.value and _same(child.value_max, parent.value_max):
        return "same"
    more = child.value > parent.value
    if lex.comparators[parent.comparator].bound == "upper":
        more = not more
    return "raised" if more else "lowered"


def _same(a, b) -> bool:
    return (pd.isna(a) and pd.isna(b)) or a == b


def target_lineage_pieces(
    targets: pd.DataFrame, documents: pd.DataFrame, links: list[ParentLink], labelled: Labelled
) -> Iterator[pd.DataFrame]:
    """The target_lineage table, a batch of documents at a time in doc_id order (at least one
    piece): every document with a parent in the corpus is labelled, so its rows come in a batch."""
    rows_of = {}
    for i, doc_id in enumerate(targets.doc_id):
        rows_of.setdefault(doc_id, []).append(i)
    linked: dict[str, list[ParentLink]] = {}
    for link in links:
        if link.parent_doc_id:
            linked.setdefault(link.doc_id, []).append(link)
    made = False
    for rows in labelled.batches():
        mine = [link for doc_id in rows for link in linked.get(doc_id, [])]
        if mine:  # the batch's targets and their parents'
            held = sorted({i for link in mine for d in (link.doc_id, link.parent_doc_id) for i in rows_of.get(d, [])})
            made = True
            yield target_lineage_frame(targets.iloc[held], documents, mine, rows)
    if not made:
        yield target_lineage_frame(targets.iloc[:0], documents, [], {})


def target_lineage_frame(
    targets: pd.DataFrame,
    documents: pd.DataFrame,
    links: list[ParentLink],
    rows: dict[str, list[Row]],
    lex: Lexicon | None = None,
) -> pd.DataFrame:
    """Each target of a document with a parent in the corpus, against the parent's targets."""
    from types import SimpleNamespace

    from .schemas import TARGET_LINEAGE

    lex = lex or lexicon()
    level = dict(zip(documents.doc_id, documents.admin_level, strict=True))
    city = dict(zip(documents.doc_id, documents.city, strict=True))
    columns = [
        "target_id",
        "doc_id",
        "metric",
        "unit",
        "value",
        "value_max",
        "comparator",
        "year",
        "label",
        "metric_zh",
        "value_start",
    ]
    by_doc: dict[str, list] = {}
    for values in zip(*(targets[c] for c in columns), strict=True):  # plain records: pandas per row is slow
        t = SimpleNamespace(**dict(zip(columns, values, strict=True)))
        by_doc.setdefault(t.doc_id, []).append(t)
    for ts in by_doc.values():
        ts.sort(key=lambda t: t.value_start)
    records = []
    for link in links:
        if not link.parent_doc_id:
            continue
        doc, parent = link.doc_id, link.parent_doc_id
        mine, theirs = by_doc.get(doc, []), by_doc.get(parent, [])
        windows = [
            (r.start, r.end, r.parent.parent_start, r.parent.parent_end)
            for r in rows.get(doc, [])
            if r.label in ("copied", "adapted") and r.parent.parent_doc_id == parent
        ]
        taken: set[str] = set()
        for t in mine:
            window = next(((ps, pe) for s, e, ps, pe in windows if s <= t.value_start < e), None)
            in_window = [p for p in theirs if window and window[0] <= p.value_start < window[1]]
            same_metric = [p for p in theirs if p.metric == t.metric] if not t.metric.startswith("label:") else []
            match = (
                next((p for p in same_metric if p in in_window), None)
                or next(iter(same_metric), None)
                or next((p for p in in_window if p.unit == t.unit and _comparable_metrics(p.metric, t.metric)), None)
            )
            if match is not None:
                taken.add(match.target_id)
            rel = relation(t, match, level[doc], level[parent], lex) if match is not None else "new"
            records.append(_record(t, match, doc, parent, city[doc], rel))
        for p in theirs:
            if p.target_id not in taken:
                records.append(_record(None, p, doc, parent, city[doc], "dropped"))
    return pd.DataFrame(records, columns=TARGET_LINEAGE.columns).astype(
        {"year": "Int64", "parent_year": "Int64", "deadline_shift": "Int64"}
    )


def _comparable_metrics(a: str, b: str) -> bool:
    """Two targets of one aligned sentence measure the same thing unless the catalogue says they do not
    (two different catalogue metrics: 中职 and 高职 per-student funding)."""
    return a == b or a.startswith("label:") or b.startswith("label:")


def _record(t, p, doc: str, parent: str, city: str, rel: str) -> dict:
    year = t.year if t is not None else None
    parent_year = p.year if p is not None else None
    both = year is not None and parent_year is not None and not pd.isna(year) and not pd.isna(parent_year)
    some = t if t is not None else p
    return {
        "doc_id": doc,
        "city": city,
        "target_id": t.target_id if t is not None else "",
        "parent_doc_id": parent,
        "parent_target_id": p.target_id if p is not None else "",
        "relation": rel,
        "metric": some.metric,
        "unit": some.unit,
        "value": t.value if t is not None else None,
        "parent_value": p.value if p is not None else None,
        "comparator": t.comparator if t is not None else "",
        "parent_comparator": p.comparator if p is not None else "",
        "year": year,
        "parent_year": parent_year,
        "deadline_shift": int(year - parent_year) if both else None,
    }
