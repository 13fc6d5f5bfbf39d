"""A registered document → everything that depends on it alone, and the documents table.

Input: a registry row and its raw file. Output: a :class:`ProcessedDocument` — read, cleaned,
divided into sections, with its tasks, citations, targets and the numbers set aside — and the
``documents`` table (the registry fields, what the build found, the documents each one cites).
:func:`process_document` is a pure function of one raw file and its registry row, so documents
are processed in parallel (:mod:`compare.workers`) or on a cluster.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pandas as pd

from .citations import Citation, cited_works, extract_citations
from .clean import Cleaned, clean
from .config import Paths
from .readers import read_document
from .registry import Document
from .schemas import DOCUMENTS
from .sections import ParsedDocument, parse_sections
from .targets import Extraction, extract
from .tasks import Task, extract_tasks


@dataclass(frozen=True)
class Reading:
    """How a raw file was read. (Its decoded text is not kept: the cleaned text is what every table
    reads, and a second copy of every document would be a third of a large build's memory.)"""

    format: str  # text, html, docx, pdf, or the old format converted (doc …), as read_document names it
    encoding: str


@dataclass
class ProcessedDocument:
    doc: Document
    decoded: Reading
    cleaned: Cleaned
    parsed: ParsedDocument
    tasks: list[Task]
    citations: list[Citation]
    extraction: Extraction | None  # None once the build has made its tables (Build.keep_records)
    warnings: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # per step: read + clean, sections, …

    @property
    def text(self) -> str:
        return self.cleaned.text

    @property
    def targets(self):
        return self.extraction.targets


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
