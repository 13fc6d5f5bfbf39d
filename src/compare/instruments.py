"""Clauses → the policy-instrument tables: every coding unit of every document (``instrument_units``)
and its codes (``instrument_codes``) — the rules' pre-labels with their evidence, each coder's codes
and the adjudicated ones, side by side and never mixed.

Input: a document's cleaned text, sections and task assignments; the codebooks
(:mod:`compare.codebooks`); the codes researchers imported (``data/coding/*.codes.csv``, see
:mod:`compare.coding`). Output: units with ids in the form 文件-章-节-条-款 (``qingyang-3-5-14-2``: the
document, its section path as numbers, the clause within the section), the units coding leaves out
with the reason (so counts are auditable), and one row per unit, codebook and source.

A rule pre-label is what the cues of a codebook (regular expressions in its YAML) find in the unit:
with ``precedence`` the first code of the codebook's order whose cues fire, with ``first_named`` the
code whose cue comes first (else the codebook's default); a unit matching ``none_when`` (guiding
ideology, the preamble's purpose) or with no cue is ``none``. The researcher's coding decides; a rule
label never replaces a human one.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import NamedTuple

import pandas as pd
from rapidfuzz import process
from rapidfuzz.distance import LCSseq

from .clauses import sentences
from .clean import fold
from .codebooks import NONE, Codebook
from .numbers import parse_number
from .patterns import DOC_NUMBER_RE
from .sections import Section
from .workers import BATCH_DOCUMENTS, watching  # BATCH_DOCUMENTS: documents per piece of the instrument tables

# Why a unit is not coded (docs/coding-rules.md §2): each exclusion has a name.
EXCLUSIONS = {
    "heading": "a heading's title: it names the section, the units under it are coded",
    "assignment": "a task assignment (责任单位, 配合单位, 完成时限): it assigns the task already coded",
    "apparatus": "document apparatus: the title, 文号, addressees, the transmittal formula, a date; officials' "
    "name lists and their notes (X同志兼任…, 成员如有变动…不另行文)",
    "restatement": "an attachment row restating a measure of the main text (counted once, where it is stated)",
}
RESTATES = 0.6  # share of a row's characters found in one main-text clause (LCS) that makes it a restatement
_TRANSMITTAL = re.compile(r"印发给?你们|请认真贯彻|此件公开发布|现将[^。]{0,120}印发")
_OFFICIALS = re.compile(r"同志(?:兼任|担任|任)|不另行文|成员如有变动")  # a name list of officials and its notes
_DATE = re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日$")
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


class Unit(NamedTuple):  # a named tuple: its fields are the columns a DocumentCodes stores
    unit_id: str
    doc_id: str
    section_id: str
    start: int
    end: int
    excluded: str  # "" or a name of EXCLUSIONS


def _part(component: str) -> str:
    """One component of a section id as a number: 三 → 3, (五) → 5, 附件2 → a2, 第一章 → 1, preamble → 0."""
    key, _, repeat = component.partition("~")
    if key in ("preamble", "text"):
        number = "0"
    elif key.startswith("附件"):
        number = f"a{key[2:]}"
    else:
        core = key.strip("()（）").removeprefix("第").rstrip("章节条")
        if core in _CIRCLED:
            number = str(_CIRCLED.index(core) + 1)
        else:
            value = parse_number(core)
            number = str(int(value)) if value is not None else core
    return f"{number}~{repeat}" if repeat else number


def unit_id(section_id: str, index: int) -> str:
    """文件-章-节-条-款: ``qingyang/三/(五)/14`` and its 2nd clause → ``qingyang-3-5-14-2``."""
    doc, *path = section_id.split("/")
    return "-".join([doc, *(_part(p) for p in path), str(index)])


def _prefixes(section_ids: list[str]) -> dict[str, str]:
    """Each section's id prefix (``qingyang-3-5-14``), unique in the document: a section whose numbers
    repeat another's (三、(二) and 三、2. both read 3-2) gets ``~2``, ``~3`` … in document order, and
    its subsections inherit it."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for sid in section_ids:
        parent, _, last = sid.rpartition("/")
        base = f"{out[parent]}-{_part(last)}" if parent in out else unit_id(sid, 0).removesuffix("-0")
        prefix, n = base, 1
        while prefix in taken:
            n += 1
            prefix = f"{base}~{n}"
        taken.add(prefix)
        out[sid] = prefix
    return out


def units(doc_id: str, text: str, sections: list[Section], assignments: list[tuple[int, int]]) -> list[Unit]:
    """Every clause of a document as a coding unit, the excluded ones with their reason."""
    by_id = {s.section_id: s for s in sections}
    clauses = sentences(text, sections)
    main = [fold(text[c.start : c.end]) for c in clauses if by_id[c.section_id].kind in ("body", "preamble")]
    prefix = _prefixes([s.section_id for s in sections])
    counts: dict[str, int] = {}
    out = []
    for c in clauses:
        sec = by_id[c.section_id]
        counts[c.section_id] = counts.get(c.section_id, 0) + 1
        out.append(
            Unit(
                f"{prefix[c.section_id]}-{counts[c.section_id]}",
                doc_id,
                c.section_id,
                c.start,
                c.end,
                _exclusion(text, c.start, c.end, sec, assignments, main),
            )
        )
    return out


def _exclusion(text: str, start: int, end: int, sec: Section, assignments, main: list[str]) -> str:
    clause = text[start:end]
    if sec.kind == "body" and start < sec.char_start and sec.title and clause.rstrip("。").strip() == sec.title:
        return "heading"
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    if clause.startswith("——") and text[line_start:start].strip() == "" and text[end : line_start + len(line)].strip():
        return "heading"  # a dash-bullet title run into its paragraph: ——以“园区”建设为基础，构建…。整合…
    if _OFFICIALS.search(clause):
        return "apparatus"
    if any(s < end and start < e for s, e in assignments):
        return "assignment"
    if sec.kind == "preamble":
        whole_line = line.strip() == clause.strip()
        if (
            _TRANSMITTAL.search(clause)
            or DOC_NUMBER_RE.fullmatch(clause.strip())
            or _DATE.match(clause.strip())
            or (whole_line and clause.rstrip().endswith(("：", ":")))
            or (whole_line and len(clause) <= 60 and not re.search(r"[。；，]", clause))
        ):
            return "apparatus"
    if sec.kind in ("task_row", "list_row") and main:
        row = fold(clause)
        best = process.extractOne(row, main, scorer=LCSseq.similarity)
        if best and best[1] >= RESTATES * len(row):
            return "restatement"
    return ""


# ---- rule pre-labels


@dataclass(frozen=True)
class Label:
    code: str
    score: float
    evidence: list[str]


def _unmentioned(folded: str, book: Codebook) -> tuple[str, list[int]]:
    """The text the cues read: each phrase that only mentions (the codebook's `mentions`, rule G2)
    shrunk to one `…`; and for each of its characters the offset it came from."""
    spans = sorted(
        (m.start(), m.end())
        for p in book.mentions
        if book.may_match(p, folded)
        for m in p.finditer(folded)
        if m.group()
    )
    out, where, pos = [], [], 0
    for start, end in spans:
        if start < pos:  # overlapping mentions: the earlier one already covers this start
            start = pos
            if start >= end:
                continue
        out.append(folded[pos:start] + "…")
        where += [*range(pos, start), start]
        pos = end
    out.append(folded[pos:])
    where += range(pos, len(folded))
    return "".join(out), where


def pre_label(
    text: str, offset: int, book: Codebook, none_in: dict[str, str] | None = None, folded: str | None = None
) -> Label:
    """The codebook's code for a unit's text (folded), from its cues; `offset` places the evidence in
    the cleaned text; `none_in` holds the unit's labels in the codebooks coded before this one;
    `folded`: the text already folded."""
    folded = fold(text) if folded is None else folded
    if book.none_with and (none_in or {}).get(book.none_with) == NONE:
        return Label(NONE, 0.0, [])
    if any(p.search(folded) for p in book.none_when if book.may_match(p, folded)):
        return Label(NONE, 0.0, [])
    seen, where = _unmentioned(folded, book)
    hits: list[tuple[int, int, str, str]] = []  # (start, end, code, matched), offsets in `folded`
    for code in book.codes:
        hits += [
            (where[m.start()], where[m.end() - 1] + 1, code.id, m.group())
            for m in code.pattern.finditer(seen)
            if m.group()
        ]
    hits.sort()
    evidence = [f"{c}:{folded[s:e]}@{s + offset}-{e + offset}" for s, e, c, _ in hits]
    if not hits:
        return Label(book.default, 0.0, [])
    fired = {h[2] for h in hits}
    if book.method == "precedence":
        code = next(c for c in book.order if c in fired)
    else:
        code = next((h[2] for h in hits if h[2] != book.default), book.default)
    mine = sum(1 for h in hits if h[2] == code)
    return Label(code, round(mine / len(hits), 3), evidence)


def labels(text: str, offset: int, books: tuple[Codebook, ...]) -> dict[str, Label]:
    """A unit's pre-label in every codebook, in order (a codebook's `none_with` sees the earlier ones)."""
    out: dict[str, Label] = {}
    folded = fold(text)
    for book in books:
        out[book.id] = pre_label(text, offset, book, {k: v.code for k, v in out.items()}, folded)
    return out


class DocumentCodes(NamedTuple):
    """One document's coding units and its rules' rows, column by column (lists in the order of
    Unit's fields and of the instrument_codes table's columns): a stored entry reads back as fifteen
    lists, not a tuple per row, and the tables are made from columns: the rule rows of 1,000
    documents read back and made into a frame in 2.24 s instead of 4.07 s, most of the difference
    being the cycle collector's (it goes over every tuple, and not over a list of strings' strings)."""

    units: tuple[list, ...]  # none for a document without units
    rules: tuple[list, ...]  # none for a document without coded units


def _columns(rows: list[tuple]) -> tuple[list, ...]:
    """Rows as columns (none for no rows)."""
    return tuple(map(list, zip(*rows, strict=True)))


def _frame(columns: dict[str, list]) -> pd.DataFrame:
    """A frame of columns; without rows, of untyped (object) columns, as a frame of no rows is."""
    return pd.DataFrame(columns) if next(iter(columns.values())) else pd.DataFrame([], columns=list(columns))


def instrument_units_frame(docs) -> pd.DataFrame:
    """The instrument_units table's rows: `docs` are (city, cleaned text, its DocumentCodes.units)
    per document."""
    from .schemas import INSTRUMENT_UNITS

    columns = {c: [] for c in INSTRUMENT_UNITS.columns}
    for city, text, units_of in docs:
        if not units_of:
            continue
        unit_id, doc_id, section_id, start, end, excluded = units_of
        columns["unit_id"] += unit_id
        columns["doc_id"] += doc_id
        columns["city"] += [city] * len(unit_id)
        columns["section_id"] += section_id
        columns["char_start"] += start
        columns["char_end"] += end
        columns["text"] += [text[a:b] for a, b in zip(start, end, strict=True)]
        columns["excluded"] += excluded
    return _frame(columns)


PARALLEL_MIN_CHARS = 2_000_000  # from this much text, documents are pre-labelled on every core


def document_instruments(item, books: tuple[Codebook, ...]) -> DocumentCodes:
    """One document's coding units and the rules' label of each coded unit in every codebook: a pure
    function of (doc_id, city, cleaned text, sections, task-assignment spans), so it runs on any core."""
    doc_id, city, text, sections, assignments = item
    us = units(doc_id, text, sections, assignments)
    types = {b.id: b.type_of for b in books}
    rows = [  # in the instrument_codes table's column order
        (u.unit_id, doc_id, city, book_id, "rule", label.code, types[book_id](label.code), label.score, label.evidence)
        for u in us
        if not u.excluded
        for book_id, label in labels(text[u.start : u.end], u.start, books).items()
    ]
    return DocumentCodes(_columns(us), _columns(rows))


def instruments(items, books: tuple[Codebook, ...], human: pd.DataFrame | None = None, workers: int | None = None):
    """The instrument_units and instrument_codes tables of every document (`items` as
    :func:`document_instruments` takes them), the human codes (`human`: unit_id, framework, source,
    code) beside the rules', made in memory (the build makes them in pieces: `instruments_pieces`)."""
    items = list(items)
    found = list(_computed(items, books, workers))
    docs = [(item[1], item[2], codes.units) for item, codes in zip(items, found, strict=True)]
    return instrument_units_frame(docs), instrument_codes_frame(docs, [codes.rules for codes in found], books, human)


def _computed(items: list, books: tuple[Codebook, ...], workers: int | None = None):
    """:func:`document_instruments` of each item, yielded in order, on every core for a large corpus."""
    from .workers import default_workers, imap_ordered

    chars = sum(getattr(i, "chars", None) or len(i[2]) for i in items)  # an Item knows it without reading
    n = workers if workers is not None else default_workers(chars, PARALLEL_MIN_CHARS)
    return imap_ordered(partial(document_instruments, books=books), items, n)


def store_instruments(items: list, books: tuple[Codebook, ...], stored, keys: list[str]) -> None:
    """Each document's coding units and rule rows kept in `stored` (a :class:`compare.memo.Memo`,
    under its key in `keys`), computed for the documents it does not hold yet: the build then
    makes the tables from it a batch of documents at a time (:func:`instruments_pieces`)."""
    stored.fill(watching("documents pre-labelled", partial(_computed, books=books)), items, keys)


def instruments_pieces(
    table: str, items: list, books: tuple[Codebook, ...], stored, keys: list[str], human=None
) -> Iterator[pd.DataFrame]:
    """The instrument_units (`table` "units") or instrument_codes ("codes") table in pieces of
    BATCH_DOCUMENTS documents, in doc_id order, each document's results read from `stored` (see
    :func:`store_instruments`; one that cannot be read is computed again), so that only a batch
    of documents' rows is held at a time."""

    order = sorted(range(len(items)), key=lambda i: items[i][0])

    def again(positions: list[int]) -> Iterator:
        return (document_instruments(items[order[p]], books) for p in positions)

    for positions, found in stored.batches([keys[i] for i in order], again, BATCH_DOCUMENTS):
        batch = [order[p] for p in positions]
        if table == "units":
            yield instrument_units_frame(
                [(items[i][1], items[i][2], c.units) for i, c in zip(batch, found, strict=True)]
            )
        else:  # (the codes need no text: the documents' views are not read)
            docs = [(items[i][1], None, c.units) for i, c in zip(batch, found, strict=True)]
            yield instrument_codes_frame(docs, [c.rules for c in found], books, human)
    if not order:
        yield instrument_units_frame([]) if table == "units" else instrument_codes_frame([], [], books, human)


def instrument_codes_frame(
    docs, rules: list[tuple[list, ...]], books: tuple[Codebook, ...], human=None
) -> pd.DataFrame:
    """The instrument_codes table: the rules' rows (`rules`: each document's DocumentCodes.rules) and the
    human codes beside them; a human code for a codebook or a unit no longer in use stays in its file,
    unshown. `docs`: (city, text, DocumentCodes.units) per document (the text is not read)."""
    from .schemas import INSTRUMENT_CODES

    columns = {c: [] for c in INSTRUMENT_CODES.columns}
    for part in filter(None, rules):  # (a document without coded units has no columns)
        for column, values in zip(columns.values(), part, strict=True):
            column += values
    human = human if human is not None else pd.DataFrame(columns=["unit_id"])
    city_of = (
        {u: (d, city) for city, _, us in docs if us for u, d in zip(us[0], us[1], strict=True)} if len(human) else {}
    )
    known = {b.id: b for b in books}
    for h in human.itertuples():
        book = known.get(h.framework)
        if book is None or h.unit_id not in city_of:
            continue
        doc_id, city = city_of[h.unit_id]
        code_type = book.type_of(h.code) if h.code in book.code_ids else ""
        for column, value in zip(
            columns.values(), (h.unit_id, doc_id, city, h.framework, h.source, h.code, code_type, 1.0, []), strict=True
        ):
            column.append(value)
    return _frame(columns)


def read_human_codes(folder) -> pd.DataFrame:
    """Every coder's imported codes (data/coding/*.codes.csv): unit_id, framework, source, code."""
    frames = []
    for path in sorted(folder.glob("*.codes.csv")) if folder.exists() else []:
        frames.append(
            pd.read_csv(
                io.StringIO(path.read_text(encoding="utf-8")),
                dtype=str,
                keep_default_na=False,
                quoting=csv.QUOTE_MINIMAL,
            )
        )
    if not frames:
        return pd.DataFrame(columns=["unit_id", "framework", "source", "code"])
    return pd.concat(frames, ignore_index=True)[["unit_id", "framework", "source", "code"]]


# ---- the coding a page shows

SHOWN = {
    "rule": ("规则预标（未经人工核对）", "the rules' pre-labels (not checked by a coder)"),
    "human": (
        "人工编码（裁决优先，其次为编码员一致的编码）",
        "the coders' codes (adjudicated, else where the coders agree)",
    ),
}


def shown_codes(codes: pd.DataFrame, source: str = "auto") -> tuple[pd.DataFrame, str, pd.DataFrame]:
    """The codes a report shows, never a mix: `rule` (the pre-labels), `human` (per unit and codebook
    the adjudicated code, else the code every coder of the unit gave), or `auto` (human as soon as
    any coder's codes exist). Returns the codes (unit_id, doc_id, city, framework, code, type), the
    source shown, and the units left out (coders disagree, not adjudicated)."""
    humans = codes[codes.source != "rule"]
    if source == "auto":
        source = "human" if len(humans) else "rule"
    cols = ["unit_id", "doc_id", "city", "framework", "code", "type"]
    if source == "rule":
        return codes.loc[codes.source == "rule", cols].reset_index(drop=True), source, pd.DataFrame(columns=cols)
    adjudicated = humans[humans.source == "adjudicated"]
    coders = humans[humans.source.str.startswith("coder:")]
    decided = adjudicated.set_index(["unit_id", "framework"]).index
    open_ = coders[~coders.set_index(["unit_id", "framework"]).index.isin(decided)]
    agreeing = open_.groupby(["unit_id", "framework"]).code.transform("nunique") == 1
    agreed = open_[agreeing].drop_duplicates(["unit_id", "framework"])
    unresolved = open_[~agreeing].drop_duplicates(["unit_id", "framework"])
    out = pd.concat([adjudicated, agreed], ignore_index=True)[cols]
    return out.sort_values(["doc_id", "unit_id", "framework"]).reset_index(drop=True), source, unresolved[cols]
