"""The build: registry and raw files → every processed table, written in one atomic step.

Input: ``data/raw/`` (the registry and the files it names). Output: ``data/processed/`` —
``text/<doc_id>.txt`` and the tables declared in :mod:`compare.schemas`, as CSV and Parquet.
Per-document work (:func:`process_document`) is a pure function of one raw file and its
registry row; the cross-document stages run on its results.
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Callable

import pandas as pd

from . import schemas
from .clean import Cleaned, clean
from .config import Paths
from .corpus import Document, load_registry, verify_files
from .documents import Citation, cited_works, extract_citations
from .output import StagedDirectory, atomic_write_text, write_table
from .readers import Decoded, read_document
from .reuse import passages_table
from .similarity import analysis_units, document_similarity, pooled, term_counts, tfidf, top_pairs, unit_spans
from .sections import ParsedDocument, parse_sections, section_finder
from .metrics import derived_metric_zh, theme_of
from .targets import Target, extract_targets
from .tasks import Task, extract_tasks
from .tokens import TokenCache, is_proper_name
from .workers import default_workers, map_ordered
from .vocabulary import keyness

Log = Callable[[str], None]


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr)

PARALLEL_MIN_BYTES = 2_000_000  # raw corpus size from which documents are processed on every core


@dataclass
class ProcessedDocument:
    doc: Document
    decoded: Decoded
    cleaned: Cleaned
    parsed: ParsedDocument
    tasks: list[Task]
    citations: list[Citation]
    targets: list[Target]
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def text(self) -> str:
        return self.cleaned.text


def process_document(doc: Document, paths: Paths) -> ProcessedDocument:
    """Everything that depends on one document only: read, clean, sections, tasks, citations, targets.
    A pure function of the document and its raw file, so documents are processed in parallel."""
    t0 = time.perf_counter()
    decoded = read_document(paths.raw / doc.file)
    cleaned = clean(decoded.text)
    parsed = parse_sections(cleaned.text, doc.doc_id)
    tasks = extract_tasks(cleaned.text, parsed.sections)
    citations = extract_citations(cleaned.text, parsed.sections, doc)
    targets = extract_targets(cleaned.text, parsed.sections, {t.section_id: t.deadline for t in tasks}, doc.doc_id)
    warnings = [f"{paths.raw / doc.file}: {w}" for w in parsed.warnings]
    return ProcessedDocument(doc, decoded, cleaned, parsed, tasks, citations, targets, warnings,
                             time.perf_counter() - t0)


def process_documents(docs: list[Document], paths: Paths, workers: int | None = None) -> list[ProcessedDocument]:
    """`process_document` for every document, on every core when the corpus is large."""
    if workers is None:
        workers = default_workers(sum((paths.raw / d.file).stat().st_size for d in docs), PARALLEL_MIN_BYTES)
    return map_ordered(partial(process_document, paths=paths), docs, workers)


def documents_frame(results: list[ProcessedDocument]) -> pd.DataFrame:
    rows = []
    for r in results:
        rows.append({
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
        })
    return pd.DataFrame(rows)


def sections_frame(results: list[ProcessedDocument]) -> pd.DataFrame:
    rows = []
    for r in results:
        for s in r.parsed.sections:
            rows.append({
                "section_id": s.section_id, "doc_id": s.doc_id, "city": r.doc.city, "parent_id": s.parent_id,
                "level": s.level, "number": s.number, "title": s.title, "text": s.text(r.text),
                "char_start": s.char_start, "char_end": s.char_end, "kind": s.kind, "order": s.order,
            })
    return pd.DataFrame(rows, columns=schemas.SECTIONS.columns)


def tasks_frame(results: list[ProcessedDocument]) -> pd.DataFrame:
    rows = [{
        "section_id": t.section_id, "doc_id": t.doc_id, "city": r.doc.city,
        "lead_units": t.lead_units, "support_units": t.support_units, "deadline": t.deadline,
        "deadline_text": t.deadline_text, "char_start": t.char_start, "char_end": t.char_end,
    } for r in results for t in r.tasks]
    return pd.DataFrame(rows, columns=schemas.TASKS.columns)


def citations_frame(results: list[ProcessedDocument]) -> pd.DataFrame:
    rows = [vars(c) for r in results for c in r.citations]
    return pd.DataFrame(rows, columns=schemas.CITATIONS.columns)


def cleaning_log_frame(results: list[ProcessedDocument]) -> pd.DataFrame:
    rows = [{"doc_id": r.doc.doc_id, "line": x.line, "reason": x.reason, "text": x.text}
            for r in results for x in r.cleaned.removed]
    return pd.DataFrame(rows, columns=schemas.CLEANING_LOG.columns).astype({"line": int})


def targets_frame(results: list[ProcessedDocument]) -> pd.DataFrame:
    rows = []
    for r in results:
        for t in r.targets:
            p = t.primary
            year, year_source = t.year
            metric = t.metric
            rows.append({
                "target_id": t.target_id, "metric": t.metric_id, "city": r.doc.city, "value": p.value, "year": year,
                "value_max": p.value_max, "unit": p.unit, "measure_word": p.measure_word, "comparator": p.comparator,
                "metric_zh": metric.zh if metric else derived_metric_zh(p.label),
                "metric_en": metric.en if metric else "",
                "theme": theme_of(metric, p.label, r.text[p.char_start:p.char_end]).id,
                "label": p.label, "level": p.level,
                "year_source": year_source, "doc_id": p.doc_id, "section_id": p.section_id,
                "char_start": p.char_start, "char_end": p.char_end, "source_text": r.text[p.char_start:p.char_end],
                "value_start": p.value_start, "value_end": p.value_end,
                "value_text": r.text[p.value_start:p.value_end], "mentions": len(t.mentions),
            })
    return pd.DataFrame(rows, columns=schemas.TARGETS.columns).astype({"year": "Int64", "value_max": float})


def target_mentions_frame(results: list[ProcessedDocument]) -> pd.DataFrame:
    rows = [{
        "target_id": t.target_id, "doc_id": m.doc_id, "city": r.doc.city, "section_id": m.section_id,
        "value": m.value, "value_max": m.value_max, "unit": m.unit, "comparator": m.comparator, "year": m.year,
        "year_source": m.year_source, "char_start": m.char_start, "char_end": m.char_end,
        "source_text": r.text[m.char_start:m.char_end], "value_start": m.value_start, "value_end": m.value_end,
        "value_text": r.text[m.value_start:m.value_end], "is_primary": m is t.primary,
    } for r in results for t in r.targets for m in t.mentions]
    return pd.DataFrame(rows, columns=schemas.TARGET_MENTIONS.columns).astype({"year": "Int64", "value_max": float})


def section_locator(results: list[ProcessedDocument]) -> Callable[[str, int], str]:
    """(doc_id, offset) → the innermost section holding that offset."""
    finders = {r.doc.doc_id: section_finder(r.parsed.sections) for r in results}

    def section_at(doc_id: str, pos: int) -> str:
        sec = finders[doc_id](pos)
        return sec.section_id if sec else ""

    return section_at


def place_names(results: list[ProcessedDocument]) -> frozenset[str]:
    """The registry's place names and their stems (长治市上党区 → 长治, 上党)."""
    names = set()
    for r in results:
        for part in re.split(r"[市区县省]", r.doc.city_zh + "、" + r.doc.province):
            if len(part) >= 2:
                names.add(part)
    return frozenset(names)


def text_tables(results: list[ProcessedDocument], sections: pd.DataFrame, tasks: pd.DataFrame,
                paths: Paths) -> dict[str, pd.DataFrame]:
    """The cross-document text analyses: section and document similarity, shared passages, keyness."""
    units = analysis_units(sections, tasks)
    tokens = TokenCache(paths.token_cache).tokens(units.text.tolist())
    counts, terms = term_counts(tokens)
    docs = pd.DataFrame([{"doc_id": r.doc.doc_id, "city": r.doc.city} for r in results])
    cities = sorted(set(docs.city))
    return {
        "section_pairs": top_pairs(units, tfidf(counts)),
        "document_similarity": document_similarity(docs, units.doc_id, counts),
        "shared_passages": passages_table(docs, {r.doc.doc_id: r.text for r in results},
                                          unit_spans(units, docs.doc_id), section_locator(results)),
        "keyness": keyness(pooled(counts, units.city, cities), cities, terms,
                           exclude=partial(is_proper_name, places=place_names(results))),
    }


@dataclass
class BuildResult:
    results: list[ProcessedDocument]
    tables: dict[str, pd.DataFrame]
    warnings: list[str]
    seconds: float


def build_tables(results: list[ProcessedDocument], paths: Paths) -> dict[str, pd.DataFrame]:
    sections, tasks = sections_frame(results), tasks_frame(results)
    frames = {
        "documents": documents_frame(results),
        "sections": sections,
        "tasks": tasks,
        "citations": citations_frame(results),
        "cleaning_log": cleaning_log_frame(results),
        "targets": targets_frame(results),
        "target_mentions": target_mentions_frame(results),
        **text_tables(results, sections, tasks, paths),
    }
    return {name: schemas.ALL_TABLES[name].finalise(df) for name, df in frames.items()}


def build(paths: Paths | None = None, log: Log = print, warn: Log = _stderr) -> BuildResult:
    """Build every processed table from the raw files; replace data/processed/ only on success."""
    paths = paths or Paths()
    t0 = time.perf_counter()
    docs = load_registry(paths)
    warnings = verify_files(paths, docs)
    results = process_documents(docs, paths)
    for r in results:
        warnings.extend(r.warnings)
        log(f"  {r.doc.doc_id:<14} {len(r.text):>7,} chars {len(r.parsed.sections):>4} sections "
            f"{len(r.tasks):>3} tasks {len(r.targets):>3} targets  "
            f"({r.decoded.format}, {r.decoded.encoding}, {r.seconds:.2f}s)")
    tables = build_tables(results, paths)
    with StagedDirectory(paths.processed) as out:
        for r in results:
            atomic_write_text(out / "text" / f"{r.doc.doc_id}.txt", r.text)
        for name, df in tables.items():
            write_table(df, out, name, schemas.ALL_TABLES[name].list_columns)
    for w in warnings:
        warn(f"warning: {w}")
    seconds = time.perf_counter() - t0
    log(f"built {len(docs)} documents: {len(tables['sections'])} sections, {len(tables['tasks'])} tasks, "
        f"{len(tables['targets'])} targets, {len(tables['shared_passages'])} shared passages "
        f"→ {paths.processed} ({seconds:.1f}s)")
    return BuildResult(results, tables, warnings, seconds)
