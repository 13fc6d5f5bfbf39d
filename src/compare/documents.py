"""A registered document → everything that depends on it alone, and the documents table.

Input: a registry row and its raw file. Output: a :class:`ProcessedDocument` — read, cleaned,
divided into sections, with its tasks, citations, targets and the numbers set aside — and the
``documents`` table (the registry fields, what the build found, the documents each one cites).
:func:`process_document` is a pure function of one raw file and its registry row, so documents
are processed in parallel (:mod:`compare.workers`) or on a cluster.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import pandas as pd

from .citations import Citation, cited_works, extract_citations
from .clean import Cleaned, clean
from .config import Paths
from .memo import Memo
from .readers import read_document
from .registry import Document
from .schemas import DOCUMENTS
from .sections import ParsedDocument, Section, parse_sections
from .targets import Extraction, extract
from .tasks import Task, extract_tasks


@dataclass(frozen=True)
class Reading:
    """How a raw file was read. (Its decoded text is not kept: the cleaned text is what every table
    reads, and a second copy of every document would be a third of a large build's memory.)"""

    format: str  # text, html, docx, pdf, or the old format converted (doc …), as read_document names it
    encoding: str


class View(NamedTuple):
    """What the stages after the documents stage read of a document's result — its registry row,
    cleaned text, sections and tasks, under the names a :class:`ProcessedDocument` gives them —,
    stored beside the result (:class:`Records`): read back three to five times faster than the whole
    result, which also holds its cleaning log, citations, targets and the numbers set aside (1,000
    documents a batch at a time: 0.25-0.44 s against 1.15-1.31 s)."""

    doc: Document
    text: str
    sections: list[Section]
    tasks: list[Task]


@dataclass
class ProcessedDocument:
    doc: Document
    decoded: Reading
    cleaned: Cleaned
    parsed: ParsedDocument
    tasks: list[Task]
    citations: list[Citation]
    extraction: Extraction
    warnings: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # per step: read + clean, sections, …

    @property
    def text(self) -> str:
        return self.cleaned.text

    @property
    def sections(self) -> list[Section]:
        return self.parsed.sections

    @property
    def targets(self):
        return self.extraction.targets

    def view(self) -> View:
        return View(self.doc, self.text, self.parsed.sections, self.tasks)


CACHED_RECORDS = 8  # results (and views) a Records keeps after reading them (a document, its parents)


class Records(Sequence[ProcessedDocument]):
    """Every document's :class:`ProcessedDocument`, kept on disk in `stored` (the documents memo, or
    a scratch folder when the build keeps no caches) under its key, and read back when a stage asks
    for it — one at a time, or a batch of documents at a time (:meth:`batches`) — so the build does
    not hold the corpus's records (text, sections, tasks, citations, targets: about 70 MB of Python
    objects per 1,000 documents) from the first stage to the last. An entry that cannot be read (cut
    short, removed since) is computed again (`compute(doc)`: :func:`process_document`) and stored.

    Each result's :class:`View` is kept in `views` under the same key, stored by the documents stage
    as the result is computed: the later stages read the views
    (:meth:`view`, :meth:`view_batches`, :meth:`field`), a view that cannot be read being made from
    its result again. A Records is small to pickle: a worker given one reads the entries itself
    (from a folder it must see, as it sees data/raw)."""

    def __init__(self, docs: list[Document], keys: list[str], stored: Memo, compute: Callable, views: Memo):
        self.docs, self.keys, self.stored, self.compute, self.views = docs, keys, stored, compute, views
        self.position = {d.doc_id: i for i, d in enumerate(docs)}
        self.recomputed: set[int] = set()  # the documents whose entry could not be read
        self._cache: OrderedDict[int, ProcessedDocument] = OrderedDict()
        self._viewed: OrderedDict[int, View] = OrderedDict()

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_cache": OrderedDict(), "_viewed": OrderedDict()}

    def __len__(self) -> int:
        return len(self.docs)

    def __getitem__(self, i):
        i = range(len(self.docs))[i]
        return _read(self._cache, i, lambda: self.stored.get_or_make(self.keys[i], lambda: self._again(i)))

    def view(self, i: int) -> View:
        """Document `i`'s :class:`View` (its result read only if the view cannot be)."""
        return _read(self._viewed, i, lambda: self.views.get_or_make(self.keys[i], lambda: self._remade_view(i)))

    def _again(self, i: int) -> ProcessedDocument:
        self.recomputed.add(i)
        return self.compute(self.docs[i])

    def _remade_view(self, i: int) -> View:
        return self[i].view()

    def batches(self, size: int | None = None) -> Iterator[list[ProcessedDocument]]:
        """The results `size` documents at a time (BATCH_DOCUMENTS), in doc_id order: at least one
        batch (an empty one for no documents), so that a table made of batches has a piece."""
        return self._in_doc_order(self.stored, self._again, size)

    def view_batches(self, size: int | None = None) -> Iterator[list[View]]:
        """The documents' views as :meth:`batches` gives their results."""
        return self._in_doc_order(self.views, self._remade_view, size)

    def _in_doc_order(self, stored: Memo, make: Callable[[int], object], size: int | None) -> Iterator[list]:
        from .workers import BATCH_DOCUMENTS

        if not self.docs:
            yield []
            return
        order = sorted(range(len(self.docs)), key=lambda i: self.docs[i].doc_id)

        def again(positions: list[int]) -> Iterator:
            return (make(order[p]) for p in positions)

        for _, found in stored.batches([self.keys[i] for i in order], again, size or BATCH_DOCUMENTS):
            yield found

    def field(self, get) -> Mapping:
        """doc_id → `get(its View)`, read when asked (a mapping that pickles small)."""
        return Field(self, get)


def _read(cache: OrderedDict, i: int, read: Callable):
    """Entry `i`: from `cache` (the last CACHED_RECORDS read), else `read()`."""
    if i in cache:
        cache.move_to_end(i)
        return cache[i]
    value = cache[i] = read()
    if len(cache) > CACHED_RECORDS:
        cache.popitem(last=False)
    return value


class Field(Mapping):
    """One field of each document's :class:`View`, by doc_id, read from :class:`Records` when asked."""

    def __init__(self, records: Records, get):
        self.records, self.get_field = records, get

    def __getitem__(self, doc_id: str):
        if doc_id not in self.records.position:
            raise KeyError(doc_id)
        return self.get_field(self.records.view(self.records.position[doc_id]))

    def __iter__(self) -> Iterator[str]:
        return iter(self.records.position)

    def __len__(self) -> int:
        return len(self.records.position)


class Item(Sequence):
    """(doc_id, city, cleaned text, sections, task spans) of one document — what the instrument
    pre-labels take —, its view read from :class:`Records` only when its text is asked for;
    `chars`: its text's length, known without reading it."""

    def __init__(self, records: Records, i: int, chars: int):
        self.records, self.i, self.chars = records, i, chars

    def __len__(self) -> int:
        return 5

    def __getitem__(self, k):
        k = range(5)[k]
        if k < 2:
            d = self.records.docs[self.i]
            return (d.doc_id, d.city)[k]
        v = self.records.view(self.i)
        return v.text if k == 2 else v.sections if k == 3 else task_spans(v)


def task_spans(r: ProcessedDocument | View) -> list[tuple[int, int]]:
    """The character spans of a document's tasks."""
    return [(t.char_start, t.char_end) for t in r.tasks]


def process_document(doc: Document, paths: Paths) -> ProcessedDocument:
    """Read, clean, sections, tasks, citations, targets: everything that depends on one document only."""
    clock = _Clock()
    decoded = read_document(paths.raw / doc.file)
    cleaned = clean(decoded.text)
    clock.lap("read + clean")
    parsed = parse_sections(cleaned.text, doc.doc_id)
    clock.lap("sections")
    tasks = extract_tasks(cleaned.text, parsed.sections)
    citations = extract_citations(cleaned.text, parsed.sections, doc)
    clock.lap("tasks + citations")
    extraction = extract(cleaned.text, parsed.sections, {t.section_id: t.deadline for t in tasks}, doc.doc_id)
    clock.lap("targets")
    warnings = [f"{paths.raw / doc.file}: {w}" for w in parsed.warnings]
    reading = Reading(decoded.format, decoded.encoding)
    return ProcessedDocument(doc, reading, cleaned, parsed, tasks, citations, extraction, warnings, clock.laps)


class _Clock:
    def __init__(self):
        self.laps: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = now - self._t
        self._t = now


def documents_frame(results: list[ProcessedDocument]) -> pd.DataFrame:
    rows = []
    for r in results:
        rows.append(
            {
                **r.doc.as_row(),
                "source_format": r.decoded.format,
                "encoding": r.decoded.encoding,
                "n_chars": len(r.text),
                "n_sections": len(r.parsed.sections),
                "n_tasks": len(r.tasks),
                "n_targets": len(r.targets),
                "n_removed_lines": len(r.cleaned.removed),
                "parents": cited_works([c for c in r.citations if c.is_parent]),
                "cites": cited_works(r.citations),
            }
        )
    return pd.DataFrame(rows, columns=DOCUMENTS.columns)
