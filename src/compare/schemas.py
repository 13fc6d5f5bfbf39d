"""The declared schema of every processed table, enforced when the table is written.

Input: a DataFrame a stage built. Output: the same rows with columns in declared order,
sorted by the table's sort key, validated (types, allowed values, unique key) — or an error,
which is always a bug in compare, never a user mistake.
"""

from __future__ import annotations

import copy

from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa

from .corpus import ADMIN_LEVELS, STATUSES
from .metrics import OTHER_THEME, UNITS, themes

SLUG = r"^[a-z][a-z0-9_-]*$"
KINDS = ("preamble", "body", "attachment", "task_row", "list_row")
DEADLINE = r"^(?:\d{4}(?:-\d{2})?|ongoing|)$"


def _str(*checks: pa.Check, nullable: bool = False, unique: bool = False) -> pa.Column:
    return pa.Column(str, checks=list(checks), nullable=nullable, unique=unique)


def _int(*checks: pa.Check) -> pa.Column:
    return pa.Column(int, checks=list(checks))


_NONNEG = pa.Check.ge(0)


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    schema: pa.DataFrameSchema
    key: tuple[str, ...]
    sort: tuple[str, ...]
    list_columns: tuple[str, ...] = ()

    @property
    def columns(self) -> list[str]:
        return list(self.schema.columns)

    def finalise(self, df: pd.DataFrame) -> pd.DataFrame:
        """Order columns, sort rows, validate, and check the key is unique."""
        missing = [c for c in self.columns if c not in df.columns]
        if missing:
            raise ValueError(f"table {self.name}: missing columns {missing}")
        out = df[self.columns].sort_values(list(self.sort), kind="mergesort").reset_index(drop=True)
        dup = out.duplicated(list(self.key), keep=False)
        if dup.any():
            raise ValueError(f"table {self.name}: key {self.key} is not unique:\n{out[dup].head()}")
        if out.empty:  # no rows (a corpus without shared passages, tasks …): give the columns their types
            return _coerced(self.schema).validate(out)
        return self.schema.validate(out)


def _coerced(schema: pa.DataFrameSchema) -> pa.DataFrameSchema:
    schema = copy.deepcopy(schema)
    schema.coerce = True
    return schema


DOCUMENTS = Table(
    "documents",
    "One row per registered document: the registry fields, what the build found, and the documents it cites.",
    pa.DataFrameSchema({
        "doc_id": _str(pa.Check.str_matches(SLUG), unique=True),
        "city": _str(pa.Check.str_matches(SLUG)),
        "city_zh": _str(),
        "city_en": _str(),
        "province": _str(),
        "admin_level": _str(pa.Check.isin(ADMIN_LEVELS)),
        "issuer": _str(),
        "title": _str(),
        "doc_number": _str(),
        "issued_date": _str(pa.Check.str_matches(r"^(?:\d{4}-\d{2}-\d{2})?$")),
        "status": _str(pa.Check.isin(STATUSES)),
        "file": _str(),
        "sha256": _str(pa.Check.str_matches(r"^[0-9a-f]{64}$")),
        "source_format": _str(pa.Check.isin(("text", "html", "docx", "pdf"))),
        "encoding": _str(),
        "n_chars": _int(_NONNEG),
        "n_sections": _int(_NONNEG),
        "n_tasks": _int(_NONNEG),
        "n_targets": _int(_NONNEG),
        "n_removed_lines": _int(_NONNEG),
        "parents": pa.Column(object),
        "cites": pa.Column(object),
    }, strict=True, ordered=True),
    key=("doc_id",), sort=("doc_id",), list_columns=("parents", "cites"),
)

SECTIONS = Table(
    "sections",
    "The section tree: one row per heading, preamble, attachment and attachment-table row.",
    pa.DataFrameSchema({
        "section_id": _str(unique=True),
        "doc_id": _str(pa.Check.str_matches(SLUG)),
        "city": _str(pa.Check.str_matches(SLUG)),
        "parent_id": _str(),
        "level": _int(pa.Check.ge(1)),
        "number": _str(),
        "title": _str(),
        "text": _str(),
        "char_start": _int(_NONNEG),
        "char_end": _int(_NONNEG),
        "kind": _str(pa.Check.isin(KINDS)),
        "order": _int(_NONNEG),
    }, strict=True, ordered=True,
        checks=pa.Check(lambda df: (df.char_end >= df.char_start).all(), error="char_end < char_start")),
    key=("section_id",), sort=("doc_id", "order"),
)

TASKS = Table(
    "tasks",
    "One row per assigned task: responsible and supporting units, and the deadline.",
    pa.DataFrameSchema({
        "section_id": _str(unique=True),
        "doc_id": _str(pa.Check.str_matches(SLUG)),
        "city": _str(pa.Check.str_matches(SLUG)),
        "lead_units": pa.Column(object),
        "support_units": pa.Column(object),
        "deadline": _str(pa.Check.str_matches(DEADLINE)),
        "deadline_text": _str(),
        "char_start": _int(_NONNEG),
        "char_end": _int(_NONNEG),
    }, strict=True, ordered=True),
    key=("section_id",), sort=("doc_id", "char_start"), list_columns=("lead_units", "support_units"),
)

CITATIONS = Table(
    "citations",
    "Every cited document title (《…》) or document number, where it is cited, and whether it is a declared parent.",
    pa.DataFrameSchema({
        "doc_id": _str(pa.Check.str_matches(SLUG)),
        "section_id": _str(),
        "title": _str(),
        "doc_number": _str(),
        "char_start": _int(_NONNEG),
        "char_end": _int(_NONNEG),
        "is_parent": pa.Column(bool),
    }, strict=True, ordered=True),
    key=("doc_id", "char_start"), sort=("doc_id", "char_start"),
)

CLEANING_LOG = Table(
    "cleaning_log",
    "Every raw line the cleaner removed (web-page chrome, lists of officials), with its reason.",
    pa.DataFrameSchema({
        "doc_id": _str(pa.Check.str_matches(SLUG)),
        "line": _int(pa.Check.ge(1)),
        "reason": _str(pa.Check.isin(("navigation", "page_metadata", "footer", "names_list"))),
        "text": _str(),
    }, strict=True, ordered=True),
    key=("doc_id", "line"), sort=("doc_id", "line"),
)

COMPARATORS = ("=", ">=", ">", "<=", "<", "~")
YEAR_SOURCES = ("sentence", "paragraph", "task", "none")
_YEAR = pa.Column("Int64", pa.Check.in_range(1949, 2100), nullable=True)

TARGETS = Table(
    "targets",
    "The tidy targets table: one row per distinct quantitative target, normalised to a canonical metric.",
    pa.DataFrameSchema({
        "target_id": _str(unique=True),
        "metric": _str(pa.Check.str_matches(r"^(?:[a-z][a-z0-9_]*|label:.+)$")),
        "city": _str(pa.Check.str_matches(SLUG)),
        "value": pa.Column(float),
        "year": _YEAR,
        "value_max": pa.Column(float, nullable=True),
        "unit": _str(pa.Check.isin(UNITS)),
        "measure_word": _str(),
        "comparator": _str(pa.Check.isin(COMPARATORS)),
        "metric_zh": _str(pa.Check.str_length(min_value=1)),
        "metric_en": _str(),
        "theme": _str(pa.Check.isin([t.id for t in themes()] + [OTHER_THEME.id])),
        "label": _str(),
        "level": _str(),
        "year_source": _str(pa.Check.isin(YEAR_SOURCES)),
        "doc_id": _str(pa.Check.str_matches(SLUG)),
        "section_id": _str(),
        "char_start": _int(_NONNEG),
        "char_end": _int(_NONNEG),
        "source_text": _str(),
        "value_start": _int(_NONNEG),
        "value_end": _int(_NONNEG),
        "value_text": _str(),
        "mentions": _int(pa.Check.ge(1)),
    }, strict=True, ordered=True, checks=[
        pa.Check(lambda df: ((df.year.isna()) == (df.year_source == "none")).all(), error="year and year_source disagree"),
        pa.Check(lambda df: (df.value_max.isna() | (df.value_max > df.value)).all(), error="value_max <= value"),
        pa.Check(lambda df: ((df.metric_en != "") | df.metric.str.startswith("label:")).all(), error="catalogue metric without en"),
    ]),
    key=("target_id",), sort=("doc_id", "value_start", "target_id"),
)

TARGET_MENTIONS = Table(
    "target_mentions",
    "Every place a target is stated; restatements merged into one target keep their own spans here.",
    pa.DataFrameSchema({
        "target_id": _str(),
        "doc_id": _str(pa.Check.str_matches(SLUG)),
        "city": _str(pa.Check.str_matches(SLUG)),
        "section_id": _str(),
        "value": pa.Column(float),
        "value_max": pa.Column(float, nullable=True),
        "unit": _str(pa.Check.isin(UNITS)),
        "comparator": _str(pa.Check.isin(COMPARATORS)),
        "year": _YEAR,
        "year_source": _str(pa.Check.isin(YEAR_SOURCES)),
        "char_start": _int(_NONNEG),
        "char_end": _int(_NONNEG),
        "source_text": _str(),
        "value_start": _int(_NONNEG),
        "value_end": _int(_NONNEG),
        "value_text": _str(),
        "is_primary": pa.Column(bool),
    }, strict=True, ordered=True),
    key=("target_id", "value_start"), sort=("doc_id", "value_start", "target_id"),
)

_SCORE = pa.Column(float, pa.Check.in_range(0, 1.000001))

SECTION_PAIRS = Table(
    "section_pairs",
    "For every section, its most similar sections in each other city (TF-IDF cosine over jieba tokens).",
    pa.DataFrameSchema({
        "section_a": _str(), "section_b": _str(),
        "doc_a": _str(pa.Check.str_matches(SLUG)), "doc_b": _str(pa.Check.str_matches(SLUG)),
        "city_a": _str(pa.Check.str_matches(SLUG)), "city_b": _str(pa.Check.str_matches(SLUG)),
        "score": _SCORE, "rank": _int(pa.Check.in_range(1, 100)),
    }, strict=True, ordered=True, checks=pa.Check(lambda df: (df.city_a != df.city_b).all(), error="same city")),
    key=("section_a", "section_b"), sort=("doc_a", "section_a", "city_b", "rank"),
)

DOCUMENT_SIMILARITY = Table(
    "document_similarity",
    "TF-IDF cosine similarity of every pair of documents (both orders, and each with itself).",
    pa.DataFrameSchema({
        "doc_a": _str(pa.Check.str_matches(SLUG)), "doc_b": _str(pa.Check.str_matches(SLUG)),
        "city_a": _str(pa.Check.str_matches(SLUG)), "city_b": _str(pa.Check.str_matches(SLUG)),
        "score": _SCORE,
    }, strict=True, ordered=True),
    key=("doc_a", "doc_b"), sort=("doc_a", "doc_b"),
)

SHARED_PASSAGES = Table(
    "shared_passages",
    "Passages two documents share word for word or nearly (text reuse), with offsets into both cleaned texts.",
    pa.DataFrameSchema({
        "doc_a": _str(pa.Check.str_matches(SLUG)), "doc_b": _str(pa.Check.str_matches(SLUG)),
        "city_a": _str(pa.Check.str_matches(SLUG)), "city_b": _str(pa.Check.str_matches(SLUG)),
        "section_a": _str(), "section_b": _str(),
        "start_a": _int(_NONNEG), "end_a": _int(_NONNEG), "start_b": _int(_NONNEG), "end_b": _int(_NONNEG),
        "n_chars": _int(pa.Check.ge(1)), "similarity": _SCORE, "text_a": _str(), "text_b": _str(),
    }, strict=True, ordered=True, checks=pa.Check(lambda df: (df.doc_a < df.doc_b).all(), error="doc_a >= doc_b")),
    key=("doc_a", "doc_b", "start_a", "end_a", "start_b", "end_b"), sort=("doc_a", "doc_b", "start_a", "start_b", "end_a", "end_b"),
)

KEYNESS = Table(
    "keyness",
    "Terms each city over-uses against all the others: counts, log-likelihood G², p-value and log ratio.",
    pa.DataFrameSchema({
        "city": _str(pa.Check.str_matches(SLUG)), "term": _str(), "rank": _int(pa.Check.ge(1)),
        "count": _int(pa.Check.ge(1)), "count_rest": _int(_NONNEG),
        "per_10k": pa.Column(float), "per_10k_rest": pa.Column(float),
        "g2": pa.Column(float, pa.Check.ge(0)), "p_value": pa.Column(float, pa.Check.in_range(0, 1)),
        "log_ratio": pa.Column(float),
    }, strict=True, ordered=True),
    key=("city", "term"), sort=("city", "rank"),
)

ALL_TABLES: dict[str, Table] = {t.name: t for t in (DOCUMENTS, SECTIONS, TASKS, CITATIONS, CLEANING_LOG, TARGETS,
                                                     TARGET_MENTIONS, SECTION_PAIRS, DOCUMENT_SIMILARITY,
                                                     SHARED_PASSAGES, KEYNESS)}
