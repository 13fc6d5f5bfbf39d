"""The build: registry and raw files → every processed table, written in one atomic step.

Input: ``data/raw/`` (the registry and the files it names). Output: ``data/processed/`` —
``text/<doc_id>.txt`` and the tables declared in :mod:`compare.schemas`, as CSV and Parquet.
The build is a list of named stages (:data:`STAGES`), run in order on one :class:`Build`; `compare
build` and ``benchmarks/bench.py`` both run them through :func:`run_stages`, so the benchmark
times the code that runs. The first stage is per document (:func:`compare.documents.process_document`,
on every core when the corpus is large); the others compare the documents.
"""

from __future__ import annotations

import json
import pickle
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from operator import attrgetter
from pathlib import Path

import pandas as pd
from scipy import sparse

from . import schemas
from .analysis_units import analysis_units, unit_spans
from .citations import citations_frame
from .clean import cleaning_log_frame
from .codebooks import codebooks, project_codebooks
from .config import Paths
from .document_similarity import document_similarity_pieces
from .documents import Item, ProcessedDocument, Records, documents_frame, process_document, task_spans
from .instruments import instruments_pieces, read_human_codes, store_instruments
from .keyness import keyness
from .lineage import (
    Corpus,
    document_parents_frame,
    label_documents,
    lineage_pieces,
    resolve_parents,
    target_lineage_pieces,
)
from .memo import Memo, collector_eased, digest
from .output import StagedDirectory, TableWriter, atomic_write_text
from .registry import REFERENCE_LEVELS, Document, load_registry, sha256_file, verify_files
from .section_pairs import scoring_inputs, top_pairs_pieces
from .sections import sections_frame
from .shared_passages import passages_table
from .targets import rejected_numbers_frame, target_mentions_frame, targets_frame
from .tasks import tasks_frame
from .tokens import TokenCache, is_proper_name, unload_jieba
from .vectors import chunked_counts, pooled, tfidf
from .workers import default_workers, imap_ordered, pools_kept, reporting, watched, watching

Log = Callable[[str], None]
PARALLEL_MIN_BYTES = 2_000_000  # raw corpus size from which documents are processed on every core


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr)


def _stdout(msg: str) -> None:
    """A line of the build's progress, seen as it is said (also when stdout is a file: a batch job's log)."""
    print(msg, flush=True)


@dataclass(frozen=True)
class Pieces:
    """A table a stage makes piece by piece, the pieces in the table's order (`make()` yields them):
    each is checked and written as it comes, so the whole table is never held."""

    make: Callable[[], Iterator[pd.DataFrame]]


@dataclass
class Build:
    """What the stages read and make, filled in as they run."""

    paths: Paths
    docs: list[Document]
    caches: bool = True  # reuse (and keep) the token cache and the per-document results in data/interim
    results: Records | None = None  # every document's result, on disk, read back when a stage asks
    doc_keys: list[str] = field(default_factory=list)  # each document's inputs, as a memo key
    seconds: dict[str, float] = field(default_factory=dict)  # doc_id → what processing it took (when it was)
    warnings: dict[str, list[str]] = field(default_factory=dict)  # doc_id → what its processing warns of
    memos: list[Memo] = field(default_factory=list)
    unchanged: set[str] = field(default_factory=set)  # documents whose stored result was used
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    units: pd.DataFrame | None = None
    counts: sparse.csr_matrix | None = None
    terms: object = None
    frame: pd.DataFrame | None = None  # doc_id, city, admin_level of every document
    scratch: list[tempfile.TemporaryDirectory] = field(default_factory=list)  # removed when the build ends

    @property
    def local_cities(self) -> list[str]:
        """The cities, without the reference documents (the national plan is not a city)."""
        return sorted(set(self.frame.city[~self.frame.admin_level.isin(REFERENCE_LEVELS)]))


def process_documents(docs: list[Document], paths: Paths, workers: int | None = None) -> list[ProcessedDocument]:
    """`process_document` for every document, on every core when the corpus is large."""
    return list(each_document(docs, paths, workers))


def each_document(docs: list[Document], paths: Paths, workers: int | None = None) -> Iterator[ProcessedDocument]:
    """:func:`process_documents`, each result yielded as it comes."""
    if workers is None:
        workers = default_workers(sum((paths.raw / d.file).stat().st_size for d in docs), PARALLEL_MIN_BYTES)
    return imap_ordered(partial(process_document, paths=paths), docs, workers)


def memo(b: Build, name: str) -> Memo:
    """The stored results of one per-document step (none when the build keeps no caches)."""
    m = Memo(b.paths.interim / "memo" if b.caches else None, name)
    b.memos.append(m)
    return m


def on_disk(b: Build, name: str) -> Memo:
    """The stored results of a per-document step whose tables are then read back from them a batch
    of documents at a time: the memo, or, when the build keeps no caches, a scratch folder removed
    once the build ends."""
    stored = memo(b, name)
    return stored if stored.folder is not None else Memo(_scratch(b, f"{name}-"), name)


def _scratch(b: Build, prefix: str) -> Path:
    """A scratch folder in data/interim/, removed when the build ends (written or not)."""
    scratch = tempfile.TemporaryDirectory(dir=_interim(b.paths), prefix=prefix)
    b.scratch.append(scratch)
    return Path(scratch.name)


def documents_stage(b: Build) -> None:
    """Every document read, cleaned and parsed — or, when its file, registry row and compare's code
    are those of the last build, its stored result. Each result is stored as it comes (the memo; a
    scratch folder when the build keeps no caches) and the stages read them back from there."""
    stored = on_disk(b, "documents")
    b.doc_keys = [
        stored.key(json.dumps(d.as_row(), sort_keys=True), str(b.paths.raw / d.file), sha256_file(b.paths.raw / d.file))
        for d in b.docs
    ]
    views = on_disk(b, "document-views")  # what the later stages read of each result, stored beside it
    stored.fill(
        watching("documents read and parsed", partial(each_document, paths=b.paths)),
        b.docs,
        b.doc_keys,
        then=lambda key, r: views.put(key, r.view()),
    )
    b.results = Records(b.docs, b.doc_keys, stored, partial(process_document, paths=b.paths), views)
    b.frame = pd.DataFrame(
        {
            "doc_id": [d.doc_id for d in b.docs],
            "city": [d.city for d in b.docs],
            "admin_level": [d.admin_level for d in b.docs],
        }
    )
    # Every table made a batch of documents at a time, in one reading of the results in doc_id order
    # (every per-document table is sorted by doc_id first): held whole if a later stage reads it, else
    # each batch's piece set aside on disk until the table is written, so a table's rows are Python
    # objects for one batch only. The tables are the same for any batch size.
    read_later = {name for stage in STAGES for name in stage.reads}
    held = {name: [] for name in DOCUMENT_TABLES if name in read_later}
    aside = {name: [] for name in DOCUMENT_TABLES if name not in read_later}
    folder = _scratch(b, "documents-tables-")
    for k, batch in enumerate(b.results.batches()):
        for name, frames in held.items():
            frames.append(DOCUMENT_TABLES[name](batch))
        for name, pieces in aside.items():
            pieces.append(folder / f"{name}-{k:07d}.pickle")
            pieces[-1].write_bytes(pickle.dumps(DOCUMENT_TABLES[name](batch), protocol=pickle.HIGHEST_PROTOCOL))
        for r in batch:
            b.seconds[r.doc.doc_id] = sum(r.seconds.values())
            b.warnings[r.doc.doc_id] = r.warnings
    b.unchanged = {b.docs[i].doc_id for i in stored.reused - b.results.recomputed}
    for name in DOCUMENT_TABLES:
        b.tables[name] = _concat(held[name]) if name in held else Pieces(partial(_set_aside, aside[name]))


# The tables of the documents stage: name → the rows of some documents' results (sections and tasks
# also of their views, which the tokens stage reads: a View names its fields as a result does).
DOCUMENT_TABLES: dict[str, Callable[[list[ProcessedDocument]], pd.DataFrame]] = {
    "documents": documents_frame,
    "sections": lambda rs: sections_frame([(r.doc.city, r.text, r.sections) for r in rs]),
    "tasks": lambda rs: tasks_frame([(r.doc.city, r.tasks) for r in rs]),
    "citations": lambda rs: citations_frame([c for r in rs for c in r.citations]),
    "cleaning_log": lambda rs: cleaning_log_frame([(r.doc.doc_id, r.cleaned) for r in rs]),
    "targets": lambda rs: targets_frame([(r.doc.city, r.text, r.targets) for r in rs]),
    "target_mentions": lambda rs: target_mentions_frame([(r.doc.city, r.text, r.targets) for r in rs]),
    "rejected_numbers": lambda rs: rejected_numbers_frame([(r.doc.city, r.text, r.extraction.rejected) for r in rs]),
}


def _set_aside(pieces: list[Path]) -> Iterator[pd.DataFrame]:
    """A table's pieces, read back from where the documents stage set them aside."""
    for path in pieces:
        yield pickle.loads(path.read_bytes())


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Frames with the same columns one after the other; an empty one (a batch without citations …)
    adds nothing, not its columns' lack of a type."""
    full = [f for f in frames if len(f)]
    if len(full) <= 1:
        return full[0] if full else frames[0]
    return pd.concat(full, ignore_index=True)


def tokens_stage(b: Build) -> None:
    """The analysis units and their term counts, made a batch of documents at a time from their
    sections and tasks: the units' texts and token strings are held for one batch only (the later
    stages read the units' ids and spans, and the counts)."""
    cache = TokenCache(b.paths.token_cache if b.caches else None)
    units = []

    def token_strings() -> Iterator[list[str]]:
        for batch in watched("documents segmented", len(b.docs), b.results.view_batches(), size=len):
            part = analysis_units(DOCUMENT_TABLES["sections"](batch), DOCUMENT_TABLES["tasks"](batch))
            units.append(part.drop(columns="text"))
            yield cache.joined(part.text.tolist())

    try:
        with pools_kept():  # every batch's map on one pool: its workers forked, and load jieba, once
            b.counts, b.terms = chunked_counts(token_strings())
    finally:
        unload_jieba()  # loaded here when a batch was tokenised in this process
    b.units = _concat(units)


def section_pairs_stage(b: Build) -> None:
    """The term counts' last reader: it takes them from the build (handed over in a list the scoring
    empties, so that no reference keeps them) and weighs its own copy in place, so that while the
    sections are scored only the two parts of the vectors are held (at 10,000 documents the counts
    are 0.4 GB, and each copy of the vectors as much). Each block of the pairs it selects is kept
    (the memo) under a key of the units and their counts: a build stopped in this stage, the longest
    at 10,000 documents, scores only the blocks it had not finished when started again, and one whose
    sections and their words did not change (a registry edit of a title, a date or a parent) none."""
    counts, b.counts = [b.counts], None
    stored = memo(b, "section-pairs")
    key = stored.key(*scoring_inputs(b.units, counts[0]))
    b.tables["section_pairs"] = Pieces(
        partial(top_pairs_pieces, b.units, counts, weigh=partial(tfidf, copy=False), stored=(stored, key))
    )


def document_similarity_stage(b: Build) -> None:
    b.tables["document_similarity"] = Pieces(
        partial(document_similarity_pieces, b.frame, b.units.doc_id.to_numpy(), b.counts)
    )


def shared_passages_stage(b: Build) -> None:
    """The documents' texts and sections are read back for this stage, a batch at a time."""

    def documents() -> Iterator[tuple[str, str, list]]:
        for batch in b.results.view_batches():
            for r in batch:
                yield r.doc.doc_id, r.text, r.sections

    b.tables["shared_passages"] = passages_table(
        b.frame, documents, unit_spans(b.units, b.frame.doc_id), spill=_interim(b.paths)
    )


def _interim(paths: Paths) -> Path:
    """data/interim/, where a stage's work may wait on disk (made if missing)."""
    paths.interim.mkdir(parents=True, exist_ok=True)
    return paths.interim


def place_names(docs: list[Document]) -> frozenset[str]:
    """The registry's place names and their stems (长治市上党区 → 长治, 上党)."""
    names = set()
    for d in docs:
        for part in re.split(r"[市区县省]", d.city_zh + "、" + d.province):
            if len(part) >= 2:
                names.add(part)
    return frozenset(names)


def keyness_stage(b: Build) -> None:
    """Each city against the other cities (the reference documents are not a city)."""
    cities = b.local_cities
    local = b.units.city.isin(cities).to_numpy()
    b.tables["keyness"] = keyness(
        pooled(b.counts[local], b.units.city[local], cities),
        cities,
        b.terms,
        exclude=partial(is_proper_name, places=place_names(b.docs)),
    )
    b.terms = None  # the last stage to read them (at 10,000 documents 0.1 GB)


def instruments_stage(b: Build) -> None:
    """Every clause as a coding unit, its rule pre-labels in every codebook, the coders' codes beside
    them: each document's results kept on disk (the memo; a scratch folder when the build keeps no
    caches), the tables then made from them a batch of documents at a time."""
    chars = dict(zip(b.tables["documents"].doc_id, b.tables["documents"].n_chars, strict=True))
    items = [Item(b.results, i, chars[d.doc_id]) for i, d in enumerate(b.docs)]  # each read when asked
    books = codebooks(b.paths)
    stored = on_disk(b, "instruments")
    books_key = digest(*(f"{p}\0{p.read_text(encoding='utf-8')}" for p in project_codebooks(b.paths)))
    keys = [stored.key(k, books_key) for k in b.doc_keys]
    store_instruments(items, books, stored, keys)
    human = read_human_codes(b.paths.coding)
    for name, table in (("instrument_units", "units"), ("instrument_codes", "codes")):
        b.tables[name] = Pieces(partial(instruments_pieces, table, items, books, stored, keys, human))


def lineage_stage(b: Build) -> None:
    """Each document's sentences labelled against its parents and siblings, kept on disk (the memo;
    a scratch folder when the build keeps no caches), the tables then made from them a batch of
    documents at a time."""
    links = resolve_parents(b.tables["documents"], b.tables["citations"])
    corpus = Corpus(  # each document's text, sections and tasks read from its stored view when asked
        b.tables["documents"],
        b.results.field(attrgetter("text")),
        b.results.field(attrgetter("sections")),
        b.tables["shared_passages"],
        b.results.field(task_spans),
    )
    doc_keys = dict(zip((d.doc_id for d in b.docs), b.doc_keys, strict=True))
    labelled = label_documents(corpus, links, on_disk(b, "lineage"), doc_keys)
    b.tables["document_parents"] = document_parents_frame(links)
    b.tables["lineage"] = Pieces(partial(lineage_pieces, corpus, labelled))
    b.tables["target_lineage"] = Pieces(
        partial(target_lineage_pieces, b.tables["targets"], b.tables["documents"], links, labelled)
    )


@dataclass(frozen=True)
class Stage:
    name: str
    zh: str
    does: str
    run: Callable[[Build], None]
    reads: tuple[str, ...] = ()  # tables of earlier stages it reads (kept until it has run)
    # What docs/cluster.md's estimates assume of its work: done as tasks on a cluster's workers (on
    # this machine's cores without one), and a document at a time, so it grows with the corpus.
    on_workers: bool = False
    per_document: bool = False


STAGES: tuple[Stage, ...] = (
    Stage(
        "documents",
        "文件处理",
        "read, clean, sections, tasks, citations and targets of every document",
        documents_stage,
        on_workers=True,
        per_document=True,
    ),
    Stage(
        "tokens",
        "分词",
        "jieba tokens of the analysis units (cached) and their term counts",
        tokens_stage,
        on_workers=True,
        per_document=True,
    ),
    Stage(
        "document similarity",
        "文件相似度",
        "TF-IDF cosine of each document with its most similar documents",
        document_similarity_stage,
        on_workers=True,
    ),
    Stage("keyness", "特色词", "each city's over-used terms", keyness_stage),
    Stage(
        "section pairs",
        "相似章节",
        "TF-IDF and each section's most similar sections in other cities",
        section_pairs_stage,
        on_workers=True,
    ),
    Stage("shared passages", "共享段落", "the shingle index and the passages documents share", shared_passages_stage),
    Stage(
        "instruments",
        "政策工具",
        "coding units and the codebooks' pre-labels, coders' codes beside them",
        instruments_stage,
        reads=("documents",),
        on_workers=True,
        per_document=True,
    ),
    Stage(
        "lineage",
        "继承与改写",
        "each document against its parents: copied, adapted, sibling, local; targets kept or changed",
        lineage_stage,
        reads=("documents", "citations", "targets", "shared_passages"),
        on_workers=True,
        per_document=True,
    ),
)


Sink = Callable[[str, Iterable[pd.DataFrame]], None]


def _in_order(spec: schemas.Table, pieces: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """Each piece checked against the table's schema (its key unique within the piece), and the
    pieces checked to follow each other in the table's order."""
    last = None
    for piece in pieces:
        piece = spec.finalise(piece)
        if len(piece):
            first = tuple(piece.iloc[0][list(spec.sort)])
            if last is not None and first < last:
                raise ValueError(f"table {spec.name}: a piece starts at {first}, before the last one ended ({last})")
            last = tuple(piece.iloc[-1][list(spec.sort)])
        yield piece


def run_stages(
    paths: Paths,
    docs: list[Document],
    on_stage: Callable[[Build, Stage, float], None] | None = None,
    caches: bool = True,
    sink: Sink | None = None,
    log: Log | None = None,
) -> Build:
    """Every stage in order; each table is checked against its schema as soon as no later stage
    reads its draft (one that a later stage reads is also checked when it is made, so a faulty
    table stops the build at its own stage). `sink(name, pieces)` takes each finished table, as pieces in the table's
    order (one, or a stage's :class:`Pieces`), and writes it; the build then lets go of it, so the
    tables of every stage are never held at once. Without a sink they are kept in `tables`.
    `on_stage(build, stage, seconds)` after each stage (progress, the benchmark's clock; the
    seconds include finishing its tables); `log`: where a long stage says how far it has got
    (:func:`compare.workers.watched`). The documents' results are read back from the memo
    (`results`); when the build keeps no caches, from a scratch folder removed when it ends."""
    b = Build(paths, docs, caches)
    kept: dict[str, pd.DataFrame] = {}
    checked: set[str] = set()
    with collector_eased():
        try:
            for k, stage in enumerate(STAGES):
                t0 = time.perf_counter()
                with reporting(log and partial(_said_in, stage, log)):  # (a table's pieces are made as written)
                    stage.run(b)
                    _finish_tables(b, {name for s in STAGES[k + 1 :] for name in s.reads}, checked, sink, kept)
                _release_memory()
                if on_stage:
                    on_stage(b, stage, time.perf_counter() - t0)
        finally:  # the stages' scratch folders, the build written or not
            for scratch in b.scratch:
                scratch.cleanup()
    b.tables = {name: kept[name] for name in schemas.ALL_TABLES if name in kept}  # in their order
    return b


def _finish_tables(b: Build, later: set[str], checked: set[str], sink: Sink | None, kept: dict) -> None:
    """After a stage: each table a later stage reads checked now (`checked` records it), so that a
    faulty one stops the build at the stage that made it, not after the later stages' hour at 10,000
    documents; every other table checked and handed to `sink` (else kept in `kept`) and let go of."""
    for name in [n for n in b.tables if n in later and n not in checked]:
        schemas.ALL_TABLES[name].finalise(b.tables[name])
        checked.add(name)
    for name in [n for n in b.tables if n not in later]:
        spec, draft = schemas.ALL_TABLES[name], b.tables.pop(name)
        pieces = _in_order(spec, draft.make()) if isinstance(draft, Pieces) else [spec.finalise(draft)]
        if sink:
            sink(name, pieces)
        else:
            kept[name] = spec.finalise(pd.concat(list(pieces), ignore_index=True))


def _numbered(stage: Stage) -> str:
    """ "[5/8] section pairs": how the build's lines name a stage."""
    return f"[{STAGES.index(stage) + 1}/{len(STAGES)}] {stage.name}"


def _said_in(stage: Stage, log: Log, line: str) -> None:
    """A line of a stage's progress, naming the stage."""
    log(f"{_numbered(stage)}: {line}")


def _release_memory() -> None:
    """Hand the memory a stage freed back to the system (Arrow's pool and C malloc keep freed pages
    for reuse), so that it does not stack under the next stage's peak. (No gc.collect: 0.17 s a
    stage at 1,000 documents for nothing measurable.)"""
    import ctypes

    if "pyarrow" in sys.modules:
        sys.modules["pyarrow"].default_memory_pool().release_unused()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _high_water() -> str:
    """ ", memory high-water N MB" of this process (where the system tells it)."""
    try:
        import resource
    except ImportError:  # Windows
        return ""
    return f", memory high-water {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB"


@dataclass
class BuildResult:
    results: Sequence[ProcessedDocument]  # a list, or (compare build) Records read from the memo
    tables: dict[str, pd.DataFrame]
    warnings: list[str]
    seconds: float


def build(
    paths: Paths | None = None,
    log: Log = _stdout,
    warn: Log = _stderr,
    checked: tuple[list[Document], list[str]] | None = None,
    keep_tables: bool = True,
) -> BuildResult:
    """Build every processed table from the raw files; replace data/processed/ only on success.
    `checked`: the registry's documents and verify_files' warnings, when the caller has them.
    Each table is written as soon as it is final; `keep_tables=False` (`compare build`) lets go of
    it then, and the result holds no tables, and its results are read from the memo when asked."""
    paths = paths or Paths()
    t0 = time.perf_counter()
    if checked is None:
        docs = load_registry(paths)
        checked = docs, verify_files(paths, docs)
    docs, warnings = checked

    def progress(b: Build, stage: Stage, seconds: float) -> None:
        log(f"{_numbered(stage)} ({stage.zh}): {seconds:.1f}s{_high_water()}")
        if stage.name == "documents":  # each document, from the documents table (held for lineage)
            documents = b.tables["documents"].set_index("doc_id")
            for d in b.docs:
                row = documents.loc[d.doc_id]
                log(
                    f"  {d.doc_id:<14} {row.n_chars:>7,} chars {row.n_sections:>4} sections "
                    f"{row.n_tasks:>3} tasks {row.n_targets:>3} targets  "
                    f"({row.source_format}, {row.encoding}, "
                    + ("unchanged: not processed again)" if d.doc_id in b.unchanged else f"{b.seconds[d.doc_id]:.2f}s)")
                )

    tables: dict[str, pd.DataFrame] = {}
    rows: dict[str, int] = {}
    with StagedDirectory(paths.processed) as out:

        def sink(name: str, pieces: Iterable[pd.DataFrame]) -> None:
            parts = []
            with TableWriter(out, name, schemas.ALL_TABLES[name].list_columns) as w:
                for piece in pieces:
                    w.write(piece)
                    if keep_tables:
                        parts.append(piece)
            rows[name] = w.rows
            if keep_tables:
                tables[name] = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)

        b = run_stages(paths, docs, progress, sink=sink, log=log)
        for batch in b.results.view_batches():  # (the build keeps its caches: the results are in the memo)
            for r in batch:
                atomic_write_text(out / "text" / f"{r.doc.doc_id}.txt", r.text)
        # The library's callers and the tests read every result; `compare build` lets them stay on disk.
        results = list(b.results) if keep_tables else b.results
    for m in b.memos:  # the build is written: keep the stored results it used, and only those
        m.keep_only_used()
    for d in docs:
        warnings.extend(b.warnings[d.doc_id])
    for w in warnings:
        warn(f"warning: {w}")
    seconds = time.perf_counter() - t0
    log(
        f"built {len(docs)} documents: {rows['sections']} sections, {rows['tasks']} tasks, "
        f"{rows['targets']} targets, {rows['shared_passages']} shared passages "
        f"→ {paths.processed} ({seconds:.1f}s"
        + (f"; {len(b.unchanged)} unchanged documents not processed again)" if b.unchanged else ")")
    )
    return BuildResult(
        results, {name: tables[name] for name in schemas.ALL_TABLES if name in tables}, warnings, seconds
    )
