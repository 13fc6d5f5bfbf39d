"""Sections → the target tables: every quantitative target (``targets``), every place one is stated
(``target_mentions``) and every number that was read and not kept, with the rule that set it aside
(``rejected_numbers``).

Input: a document's cleaned text, its sections and tasks, and the extraction lexicon
(``data/lexicon.yaml``, :mod:`compare.lexicon`). Output: an :class:`Extraction` — :class:`Target`
records (each merging the :class:`Mention` records that state it) and :class:`Rejected` records.

A number with a measure word (5个, 30门, 800人, 1万人次, 50万元, 6个月, 两次, 一所), a share (50%,
百分之三十, 一半), a ratio after 比 (4:6) or a multiple (2倍) is a candidate. Each candidate meets the
named rules of :data:`RULES` in order; the first that applies sets it aside, and a candidate no rule
sets aside is a target. Numbers written without a measure word meet :data:`BARE_RULES`, ending in
``no_measure_word``. The rules are about the language of the documents — never about a particular
city, section or sentence. Then:

- the comparator comes from the words around the number (以上/不低于/至少 → ``>=`` …);
- the year is the deadline of the sentence (到2025年), of the paragraph that opens with one, or of the
  task that holds the target (完成时限, an attachment task list); 长期坚持 is no year;
- a target restated in another section (the 具体目标 paragraph, an attachment task list) with the
  same value, unit and metric or label is merged, and the task list's deadline wins.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from .clean import fold
from .lexicon import OPENING_BULLET_RE, OPENING_LABEL_RE, Lexicon, deadline_year, lexicon
from .metrics import LEVEL_RE, Metric, core_label, derived_metric_id, derived_metric_zh, match_metric, theme_of
from .numbering import match_marker
from .numbers import parse_number, parse_percent
from .patterns import ARABIC, DOC_NUMBER_SERIAL, HAN, HAN_RE, NUMBER
from .sections import Section

PERCENT_WORD_RE = re.compile(rf"百分之(?P<num>{NUMBER})|一半")
RATIO_RE = re.compile(r"(?<![\d.])(?P<a>\d{1,2}):(?P<b>\d{1,2})(?![\d:])")
BARE_NUMBER_RE = re.compile(ARABIC)
_JOIN_PROGRAMME_RE = re.compile(r"(?:列入|纳入)[^，。；]*$")
# The time a change takes (经过5—10年左右时间, 用3年时间): after the duration, 时间; before it, 经过/用.
_HORIZON_AFTER_RE = re.compile(r"^(?:左右|以上)?的?时间")
_HORIZON_BEFORE_RE = re.compile(r"(?:经过|历经|用|花)$")
# A duration that is a standard: the predicate of 时间/时长/期限 (顶岗实习时间一般为6个月).
_DURATION_STANDARD_RE = re.compile(r"(?:时间|时长|期限)(?:一般|原则上|应当?|须|要)?(?:为|是|达到)?$")
_LIST_ITEM_SEP = re.compile(r"[、和与及]")
_PROGRAMME_AFTER_RE = re.compile(r"^[^，。；]*?(?:计划|名单|目录|范围|工程)")

SENTENCE_ENDS = "。！？\n\t"
CLAUSE_ENDS = SENTENCE_ENDS + "，；：:;"


@dataclass(slots=True)
class Mention:
    doc_id: str
    section_id: str
    value: float
    value_max: float | None
    unit: str
    measure_word: str
    comparator: str
    label: str
    level: str
    metric: Metric | None
    metric_id: str
    value_start: int
    value_end: int
    char_start: int  # the sentence: the source text
    char_end: int
    year: int | None = None
    year_source: str = "none"
    part: int = 0  # several targets sharing one number (各3个): 0, 1, …


@dataclass(slots=True)
class Target:
    mentions: list[Mention] = field(default_factory=list)

    @property
    def primary(self) -> Mention:
        return self.mentions[0]

    @property
    def target_id(self) -> str:
        p = self.primary
        return f"{p.doc_id}:{p.value_start}" + (f".{p.part + 1}" if p.part else "")

    @property
    def metric(self) -> Metric | None:
        return next((m.metric for m in self.mentions if m.metric), None)

    @property
    def metric_id(self) -> str:
        return self.metric.id if self.metric else self.primary.metric_id

    @property
    def year(self) -> tuple[int | None, str]:
        """The task list's deadline wins; otherwise the first mention that has a year."""
        for m in self.mentions:
            if m.year_source == "task" and m.year:
                return m.year, "task"
        for m in self.mentions:
            if m.year:
                return m.year, m.year_source
        return None, "none"


@dataclass(frozen=True, slots=True)
class Rejected:
    """A number the extractor read and set aside, and the rule that did."""

    doc_id: str
    section_id: str
    value_start: int
    value_end: int
    char_start: int  # its sentence
    char_end: int
    rule: str


@dataclass
class Extraction:
    targets: list[Target]
    rejected: list[Rejected]


class _Spans:
    """Sorted, merged spans with a fast membership test (a long document has thousands)."""

    def __init__(self, spans: list[tuple[int, int]]):
        merged: list[list[int]] = []
        for s, e in sorted(spans):
            if merged and s <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        self.starts = [s for s, _ in merged]
        self.ends = [e for _, e in merged]

    def __contains__(self, pos: int) -> bool:
        i = bisect.bisect_right(self.starts, pos) - 1
        return i >= 0 and pos < self.ends[i]


def _parenthesised(text: str) -> list[tuple[int, int]]:
    spans, depth, start = [], 0, 0
    for i, c in enumerate(text):
        if c == "（":
            if depth == 0:
                start = i
            depth += 1
        elif c == "）" and depth:
            depth -= 1
            if depth == 0:
                spans.append((start, i + 1))
        elif c == "\n":
            depth = 0
    return spans


def excluded_spans(text: str, lex: Lexicon) -> dict[str, _Spans]:
    """Where no number is a target, by kind: titles, document numbers, parentheses, fixed phrases."""
    phrases = [(m.start(), m.end()) for p in lex.number_phrases for m in re.finditer(re.escape(p.phrase), text)]
    return {
        "title": _Spans([m.span() for m in re.finditer(r"《[^《》]*》", text)]),
        "document_number": _Spans([m.span() for m in re.finditer(DOC_NUMBER_SERIAL, text)]),
        "parentheses": _Spans(_parenthesised(text)),
        "phrase": _Spans(phrases),
    }


# ---- what the extractor knows about one number


@dataclass
class Seen:
    """A number in its context, as the rules see it."""

    text: str  # the document, folded
    lex: Lexicon
    excluded: dict[str, _Spans]
    start: int
    end: int  # the number with its measure word
    lo: int  # the section's start
    c_start: int  # its clause
    c_end: int
    unit: str = ""
    value: float = 0.0
    not_before: tuple[str, ...] = ()  # words that, right after the measure word, make it part of another word
    comparator: str = "="

    @property
    def prev(self) -> str:
        return self.text[self.start - 1] if self.start > self.lo else ""

    @property
    def after(self) -> str:
        return self.text[self.end : self.c_end]

    @property
    def prefix(self) -> str:
        return self.text[self.c_start : self.start]

    @property
    def kind(self) -> str:
        return self.lex.kind(self.unit) if self.unit else ""

    def inside(self, kind: str) -> bool:
        return self.start in self.excluded[kind]

    @property
    def subject_end(self) -> int:
        """Where the words before the number stop being its subject: before a comparator phrase
        written right before it (比例不高于20%, 约20个), else at the number."""
        hit = self.lex.before_at_end_re.search(self.text, self.c_start, self.start)
        return hit.start() if hit else self.start


@dataclass(frozen=True)
class Rule:
    """A named reason a number is not a target; `applies` decides it from the number's context."""

    name: str
    why: str
    applies: Callable[[Seen], bool]


def _governing_verb(prefix: str, lex: Lexicon) -> str | None:
    hits = list(lex.verb_re.finditer(prefix))
    return hits[-1].group(0) if hits else None


IN_TITLE = Rule("in_title", "inside a 《》 title: part of a cited document's name", lambda n: n.inside("title"))
IN_DOCUMENT_NUMBER = Rule(
    "in_document_number", "inside a document number (〔2021〕13号)", lambda n: n.inside("document_number")
)
IN_PARENTHESES = Rule(
    "in_parentheses",
    "inside parentheses: an aside, or the breakdown of a total stated before it",
    lambda n: n.inside("parentheses"),
)
FIXED_PHRASE = Rule(
    "fixed_phrase",
    "part of a fixed phrase with a numeral (number_phrases.csv: 四个意识, 一批 …)",
    lambda n: n.inside("phrase"),
)
ORDINAL = Rule("ordinal_or_rank", "an ordinal or a rank (第1名, 前3名)", lambda n: n.prev in ("第", "前"))
PER_PERIOD = Rule("per_period", "the period of a rate (每3年修订1次: the 1次 is the target)", lambda n: n.prev == "每")
INSIDE_A_NUMBER = Rule("inside_a_number", "the tail of a longer number", lambda n: n.prev.isdigit() or n.prev == ".")

RULES: tuple[Rule, ...] = (
    IN_TITLE,
    IN_DOCUMENT_NUMBER,
    IN_PARENTHESES,
    FIXED_PHRASE,
    ORDINAL,
    PER_PERIOD,
    INSIDE_A_NUMBER,
    Rule(
        "part_of_word",
        "the measure word begins another word (多元化, 二元制)",
        lambda n: bool(n.not_before) and n.after.startswith(n.not_before),
    ),
    Rule("calendar_year", "a calendar year (到2025年), not a duration", lambda n: n.unit == "year" and n.value >= 1000),
    Rule(
        "time_horizon",
        "the time a change will take (经过5—10年左右时间, 用3年时间): a horizon, not a target",
        lambda n: (
            n.kind == "duration"
            and (bool(_HORIZON_AFTER_RE.match(n.after)) or bool(_HORIZON_BEFORE_RE.search(n.prefix)))
        ),
    ),
    Rule(
        "relative_deadline",
        "a relative deadline (3年内), which gives no year",
        lambda n: n.kind == "duration" and bool(re.match(r"^(?:内|以内)", n.after)),
    ),
    Rule(
        "eligibility",
        "an eligibility condition on people (具有3年以上企业工作经历)",
        lambda n: (
            n.kind == "duration"
            and (
                bool(re.search(r"具有|具备", n.prefix))
                or bool(re.match(r"^[^，。；]{0,8}(?:经历|经验|工龄|教龄)", n.after))
            )
        ),
    ),
    Rule(
        "descriptive_duration",
        "a duration that describes (3年中职教育) rather than one committed to "
        "(a duration is a target with a comparator, or as a cycle: 5年一周期)",
        lambda n: (
            n.kind == "duration"
            and n.comparator == "="
            and not re.match(r"^一(?:周期|轮)", n.after)
            and not _DURATION_STANDARD_RE.search(n.prefix)
        ),
    ),
    Rule(
        "describing_verb",
        "counted things governed by a describing verb (支持2所国示范学校): what exists, not a commitment",
        lambda n: n.kind == "counted" and _governing_verb(n.prefix, n.lex) in n.lex.describe_verbs,
    ),
    Rule(
        "another_bodys_programme",
        "the size of another body's programme a unit is to join (列入…10所…建设计划)",
        lambda n: (
            n.kind == "counted"
            and bool(_JOIN_PROGRAMME_RE.search(n.prefix))
            and bool(_PROGRAMME_AFTER_RE.match(n.after))
        ),
    ),
    Rule(
        "matching_rule",
        "a matching rule (按照1个专业对接一个产业链)",
        lambda n: n.kind == "counted" and bool(re.match(r"^[^，。；]{0,12}对接", n.after)),
    ),
    Rule(
        "enumeration_total",
        "the total of a list just named (严把教学标准和毕业学生质量标准两个关口), with no verb committing to it",
        lambda n: n.kind == "counted" and _enumeration_total(n),
    ),
)

# Numbers written without a measure word (and not part of a candidate): why each is not a target.
BARE_RULES: tuple[Rule, ...] = (
    IN_TITLE,
    IN_DOCUMENT_NUMBER,
    IN_PARENTHESES,
    FIXED_PHRASE,
    Rule("heading_number", "the number of a heading or list item (1．, （2）)", lambda n: _is_heading_number(n)),
    ORDINAL,
    PER_PERIOD,
    INSIDE_A_NUMBER,
    Rule("date", "part of a date (3月, 2日)", lambda n: bool(re.match(r"^(?:月|日|时)", n.after))),
    Rule(
        "no_measure_word",
        "a number without a measure word, a share or a ratio: nothing says what it counts",
        lambda n: True,
    ),
)
# Candidates the number readers themselves set aside (before any rule): not a number, not a ratio.
READER_RULES = (
    Rule("unreadable_numeral", "numerals that do not make a number (十百)", lambda n: True),
    Rule("not_a_ratio", "a:b without 比 before it (a time, a score) or with b = 0", lambda n: True),
    Rule(
        "not_a_range",
        "two numbers joined by 至/到/- whose second is not above the first (5至3个, 千到50%)",
        lambda n: True,
    ),
)
ALL_RULES: dict[str, str] = {r.name: r.why for r in (*READER_RULES, *RULES, *BARE_RULES)}  # name → why, in order


def _is_heading_number(n: Seen) -> bool:
    """The number is the marker of the heading or list item its line starts with (numbering's grammar)."""
    line_start = n.text.rfind("\n", 0, n.start) + 1
    if n.start - line_start > 1:
        return False
    marker = match_marker(n.text[line_start : n.end + 2])
    return marker is not None and line_start + marker.end >= n.end


# ---- reading one document


def _bounds(text: str, start: int, end: int, lo: int, hi: int, delims: str, include_end: bool) -> tuple[int, int]:
    s = max([text.rfind(d, lo, start) for d in delims] + [lo - 1]) + 1
    ends = [i for i in (text.find(d, end, hi) for d in delims) if i >= 0]
    e = min(ends) if ends else hi
    if include_end and e < hi and text[e] in "。！？":
        e += 1
    return s, e


def _comparator(text: str, clause_start: int, num_start: int, after: str, approx: str | None, lex: Lexicon) -> str:
    if approx:
        return lex.approximate[approx]
    for word, comp in lex.after:
        if after.startswith(word):
            return comp
    before = text[max(clause_start, num_start - 24) : num_start]
    hits = list(lex.before_re.finditer(before))
    if hits:
        last = hits[-1]
        between = lex.quantity_item_re.sub("", before[last.end() :])
        if lex.bridge_re.match(between):
            return lex.before[last.group(0)]
    return "="


def _clean_label(s: str, lex: Lexicon, keep_base: bool = False) -> str:
    """Strip deadlines, adverbs and the verb or comparator next to the number; keep_base keeps a
    final 的 (“企业职工总数的” is the base of a share)."""
    s = lex.leading_noise_re.sub("", s.lstrip("—-－ "))
    s = re.sub(rf"(?:每[{HAN}]){{1,3}}$", "", s)  # 每生每年: the unit of a rate, not its object
    if keep_base:
        return lex.share_trailing_re.sub("", s).strip("、， ")
    return lex.trailing_noise_re.sub("", s).strip("、，的 ")


def _post_label(text: str, pos: int, clause_end: int, lex: Lexicon) -> str:
    s = text[pos:clause_end]
    s = lex.after_start_re.sub("", s).lstrip("的")
    m = re.match(r"(?:[^，。；：（）\n\t]|（[^（），。]{1,2}）)*", s)  # short asides stay: 县（区）级, 专业（群）
    label = m.group(0) if m else ""
    if "”" in label and "“" not in label.split("”")[0]:
        label = label.split("”")[0]  # the number sat inside a quotation: “千亩校园、万名学生”
    label = lex.next_quantity_re.split(label)[0]
    return label[:30].rstrip("、等")


def _sentence_year(text: str, s_start: int, s_end: int, pos: int, lex: Lexicon) -> int | None:
    hits = [(m.start(), deadline_year(m)) for m in lex.deadline_re.finditer(text, s_start, s_end)]
    hits = [(p, y) for p, y in hits if y]
    before = [y for p, y in hits if p < pos]
    if before:
        return before[-1]
    return hits[0][1] if hits else None


def opening_deadline(text: str, start: int, end: int, lex: Lexicon) -> int | None:
    """The year of the deadline a paragraph (text[start:end]) opens with, whatever stands before it:
    an item number (1．, （一）), a bullet (——, --) or a short label (具体指标：, 主要目标：)."""
    pos = start
    marker = match_marker(text[start:end])
    if marker:
        pos += marker.end
    bullet = OPENING_BULLET_RE.match(text, pos, end)
    if bullet:
        pos = bullet.end()
    for at in (pos, *(m.end() for m in [OPENING_LABEL_RE.match(text, pos, end)] if m)):
        m = lex.opening_deadline_re.match(text, at, end)
        if m and deadline_year(m):
            return deadline_year(m)
    return None


def _paragraph_year(text: str, sec: Section, line_start: int, pos: int, lex: Lexicon) -> int | None:
    """The deadline that governs a paragraph: the one it opens with — or, in a section whose heading
    is itself a deadline (（一）到2022年…), the heading's — overridden, for what follows, by a later
    deadline inside the paragraph."""
    line_end = text.find("\n", pos)
    line_end = len(text) if line_end < 0 else line_end
    year = opening_deadline(text, line_start, line_end, lex)
    if year is None and sec.heading_start == line_start and line_start < sec.char_start < line_end:
        year = opening_deadline(
            text, sec.char_start, line_end, lex
        )  # the body after a run-on title (（一）建设目标。到2025年，…)
    if year is None and 0 <= sec.heading_start < line_start:
        heading_end = text.find("\n", sec.heading_start)
        year = opening_deadline(text, sec.heading_start, heading_end if heading_end >= 0 else len(text), lex)
    if year is None:
        return None
    later = [y for m in lex.deadline_re.finditer(text, line_start, pos) if (y := deadline_year(m))]
    return later[-1] if later else year


def _enumeration_total(n: Seen) -> bool:
    """The count totals the list of things named right before it (A和B两个关口), and no verb
    commits to it."""
    items = _LIST_ITEM_SEP.split(n.prefix)
    if len(items) < 2 or n.value != len(items) or not all(len(HAN_RE.findall(i)) >= 2 for i in items):
        return False
    return _governing_verb(n.prefix, n.lex) not in n.lex.commit_verbs


def _task_year(deadline: str) -> int | None:
    m = re.match(r"(\d{4})", deadline or "")
    return int(m.group(1)) if m else None


@dataclass(frozen=True)
class Quantity:
    start: int
    end: int
    value: float | None
    value_max: float | None
    unit: str
    measure_word: str  # as printed; empty for a sign (%) or a ratio
    approx: str | None
    not_before: tuple[str, ...] = ()
    problem: str = ""  # the reader rule that sets it aside, if any


def quantities(text: str, lo: int, hi: int, lex: Lexicon):
    """Every candidate number in text[lo:hi] — counts, shares, ratios — including those the readers
    cannot take (`problem` names why)."""
    for m in lex.quantity_re.finditer(text, lo, hi):
        value = parse_number(m.group("num"))
        value_max = parse_number(m.group("num2")) if m.group("num2") else None
        word = lex.unit_of(m.group("measure"))
        if value is None:
            problem = "unreadable_numeral"
        elif value_max is not None and value_max <= value:
            problem = "not_a_range"
        else:
            problem = ""
        yield Quantity(
            m.start(),
            m.end(),
            value,
            value_max,
            word.unit,
            "" if word.symbol else word.word,
            m.group("approx"),
            word.not_before,
            problem,
        )
    for m in PERCENT_WORD_RE.finditer(text, lo, hi):
        value = parse_percent(m.group(0))
        yield Quantity(
            m.start(),
            m.end(),
            value,
            None,
            "percent",
            "",
            None,
            problem="" if value is not None else "unreadable_numeral",
        )
    for m in RATIO_RE.finditer(text, lo, hi):
        a, b = int(m.group("a")), int(m.group("b"))
        ok = "比" in text[max(lo, m.start() - 8) : m.start()] and b
        yield Quantity(
            m.start(),
            m.end(),
            round(a / b, 4) if ok else None,
            None,
            "ratio",
            "",
            None,
            problem="" if ok else "not_a_ratio",
        )


def extract(
    cleaned: str, sections: list[Section], task_deadlines: dict[str, str], doc_id: str, lex: Lexicon | None = None
) -> Extraction:
    """A document's targets (mentions merged) and the numbers set aside, each with its rule."""
    lex = lex or lexicon()
    text = fold(cleaned)
    excluded = excluded_spans(text, lex)
    mentions: list[Mention] = []
    rejected: dict[tuple[int, int], Rejected] = {}
    for sec in sections:
        lo, hi = sec.heading_start, sec.char_end
        covered: list[tuple[int, int]] = []

        def reject(
            start: int, end: int, rule: str, line_start: int, sec: Section = sec, lo: int = lo, hi: int = hi
        ) -> None:
            s_start, s_end = _bounds(text, start, end, max(lo, line_start), hi, SENTENCE_ENDS, True)
            rejected.setdefault((start, end), Rejected(doc_id, sec.section_id, start, end, s_start, s_end, rule))

        for q in quantities(text, lo, hi, lex):
            covered.append((q.start, q.end))
            line_start = text.rfind("\n", 0, q.start) + 1
            if q.problem:
                reject(q.start, q.end, q.problem, line_start)
                continue
            c_start, c_end = _bounds(text, q.start, q.end, max(lo, line_start), hi, CLAUSE_ENDS, False)
            seen = Seen(text, lex, excluded, q.start, q.end, lo, c_start, c_end, q.unit, q.value, q.not_before)
            seen.comparator = _comparator(text, c_start, q.start, seen.after, q.approx, lex)
            rule = next((r.name for r in RULES if r.applies(seen)), None)
            if rule:
                reject(q.start, q.end, rule, line_start)
                continue
            _add_mentions(mentions, seen, q, cleaned, sec, task_deadlines, doc_id, line_start)
        for m in BARE_NUMBER_RE.finditer(text, lo, hi):
            if any(s <= m.start() < e for s, e in covered):
                continue
            line_start = text.rfind("\n", 0, m.start()) + 1
            c_start, c_end = _bounds(text, m.start(), m.end(), max(lo, line_start), hi, CLAUSE_ENDS, False)
            seen = Seen(text, lex, excluded, m.start(), m.end(), lo, c_start, c_end)
            reject(m.start(), m.end(), next(r.name for r in BARE_RULES if r.applies(seen)), line_start)
    mentions.sort(key=lambda m: (m.value_start, m.part))
    return Extraction(merge_mentions(mentions), sorted(rejected.values(), key=lambda r: (r.value_start, r.value_end)))


def _add_mentions(
    mentions: list[Mention],
    n: Seen,
    q: Quantity,
    cleaned: str,
    sec: Section,
    task_deadlines: dict[str, str],
    doc_id: str,
    line_start: int,
) -> None:
    """The mentions of one kept number: one per object it counts (各3个 for two objects: two)."""
    text, lex, unit = n.text, n.lex, n.unit
    if n.kind == "share" and re.match(rf"^[{HAN}]{{1,6}}内", n.after):
        n.comparator = "<="  # 15%编制员额内: a ceiling
    s_start, s_end = _bounds(text, n.start, n.end, max(n.lo, line_start), sec.char_end, SENTENCE_ENDS, True)
    after_len = _after_len(n.after, lex)
    labels = _labels(text, n, post_from=n.end + after_len)
    forward, around = _contexts(text, s_start, s_end, n.c_start, n.start, n.end, lex)
    for part, label in enumerate(labels):
        strong = n.kind == "counted" and len(core_label(label)) >= 2
        metric = match_metric(unit, label) if strong else match_metric(unit, label, forward, around)
        level_m = LEVEL_RE.search(label)
        mention = Mention(
            doc_id=doc_id,
            section_id=sec.section_id,
            value=q.value,
            value_max=q.value_max,
            unit=unit,
            measure_word=q.measure_word,
            comparator=n.comparator,
            label=_original(cleaned, text, label, n.c_start, n.c_end),
            level=level_m.group(0) if level_m else "",
            metric=metric,
            metric_id=metric.id if metric else derived_metric_id(label),
            value_start=n.start,
            value_end=n.end + after_len,
            char_start=s_start,
            char_end=s_end,
            part=part,
        )
        _attach_year(mention, text, sec, task_deadlines, line_start, s_start, s_end, n.start, lex)
        mentions.append(mention)


def _labels(text: str, n: Seen, post_from: int) -> list[str]:
    """The object of a number, as written: usually after the measure word (5个市级专业教学资源库),
    before the number when it ends the clause (技能大师工作室5个), the subject for a share
    (“双师型”教师比例达到50%), and one label per object for 各 (案例和示范课各3个)."""
    lex, c_start, c_end, start = n.lex, n.c_start, n.c_end, n.subject_end
    post = _post_label(text, post_from, c_end, lex)
    pre = _clean_label(text[c_start:start], lex)
    if n.kind in ("counted", "quantity"):
        gov = _governing_verb(pre, lex)
        if gov:
            after_last = _clean_label(pre[pre.rfind(gov) + len(gov) :], lex)
            first = lex.verb_re.search(pre)
            pre = after_last or (first and _clean_label(pre[first.end() :], lex)) or pre
        if n.prev == "各":
            parts = [p for p in re.split(r"和|与|、", pre) if p]
            if len(parts) > 1:
                return parts
        if core_label(post):
            return [post]
        if post:  # “2个自治区级、8个市级产教融合企业”: the level is ours, the object is the next item's
            nxt = re.match(rf"、{NUMBER}(?:{lex.counted_measure})", text[post_from + len(post) : c_end])
            if nxt:
                tail = _post_label(text, post_from + len(post) + nxt.end(), c_end, lex)
                return [post + LEVEL_RE.sub("", tail)]
        return [pre or post or _clean_label(text[c_start:start], lex)]
    if n.kind == "duration":
        post = re.sub(r"^一(?:周期|轮)的?", "", post)
        return [post or pre]
    if n.kind == "frequency":
        return [post or _clean_label(re.split(r"[并和、]", pre)[-1], lex) or pre]
    # shares, amounts, ratios, multiples: the subject, with what follows when it ends in a base (总数的)
    pre = _clean_label(text[c_start:start], lex, keep_base=True)
    pre = re.sub(r"^(?:按照规定|按规定|按照|按|对于|对|给予|可按|可)+", "", pre)
    pre = re.sub(rf"^(?:{lex.before_re.pattern})", "", pre)
    pre = re.sub(r"(?:市财政|财政)?给予$", "", pre)
    if (
        post
        and not re.fullmatch(r"的?(?:规定|目标任务|目标|任务|政策|要求|比例|标准)", post)
        and (pre.endswith("的") or n.kind == "amount" and len(core_label(post)) >= 2)
    ):
        return [f"{pre}…{post}"]
    return [pre or post]


def _contexts(text: str, s_start: int, s_end: int, c_start: int, start: int, end: int, lex: Lexicon) -> tuple[str, str]:
    """The words that belong to a number, narrow then wide: from its clause forward to the clause
    before the next number, then back to the previous number as well (so “实现50%以上的目标任务”
    finds the “双师型”教师…比例 of the clause before it). Semicolons bound both."""
    lo = max(text.rfind("；", s_start, start) + 1, s_start)
    hi_semi = text.find("；", end, s_end)
    hi = hi_semi if hi_semi >= 0 else s_end
    others = [
        (q.start, q.end) for q in quantities(text, lo, hi, lex) if not q.problem and (q.start, q.end) != (start, end)
    ]
    seg_start = max([e for s, e in others if e <= start] + [lo])
    following = [s for s, e in others if s >= end]
    seg_end = hi
    if following:
        nxt = min(following)
        seg_end = max([text.rfind(d, end, nxt) for d in CLAUSE_ENDS] + [end])
    seg_end = max(seg_end, end)
    return text[c_start:seg_end], text[seg_start:seg_end]


def _original(cleaned: str, folded: str, label: str, lo: int, hi: int) -> str:
    """The label as printed (traditional characters kept): find the folded label in the clause."""
    i = folded.find(label, lo, hi + 40)
    return cleaned[i : i + len(label)] if i >= 0 else label


def _after_len(after: str, lex: Lexicon) -> int:
    for word, _ in lex.after:
        if after.startswith(word):
            return len(word)
    return 0


def _attach_year(
    m: Mention,
    text: str,
    sec: Section,
    task_deadlines: dict[str, str],
    line_start: int,
    s_start: int,
    s_end: int,
    pos: int,
    lex: Lexicon,
) -> None:
    """The target's year: its sentence's deadline, else its paragraph's, else its task's."""
    year = _sentence_year(text, s_start, s_end, pos, lex)
    if year:
        m.year, m.year_source = year, "sentence"
        return
    year = _paragraph_year(text, sec, line_start, pos, lex)
    if year:
        m.year, m.year_source = year, "paragraph"
        return
    year = _task_year(task_deadlines.get(sec.section_id, ""))
    if year:
        m.year, m.year_source = year, "task"


# ---- restatements


def _same_target(t: Target, m: Mention, sections: set[str], metric: Metric | None) -> bool:
    p = t.primary
    if m.section_id in sections:
        return False  # restatements live in other sections; one section's equal numbers are different targets
    if metric and m.metric:
        return metric.id == m.metric.id
    a, b = core_label(p.label), core_label(m.label)
    if a == b:
        return bool(a)
    if min(len(a), len(b)) >= 4 and (a in b or b in a):  # “专业” alone says too little to merge
        return True
    # An uncommon number restated with the same head noun (800 … 学生) is the same target.
    return p.value >= 100 and len(a) >= 2 and len(b) >= 2 and a[-2:] == b[-2:]


def merge_mentions(mentions: list[Mention]) -> list[Target]:
    """Mentions of one quantity (unit, value, range) in different sections that name the same thing
    become one target. Candidates are looked up by quantity, so a long document stays linear."""
    targets: list[Target] = []
    by_quantity: dict[tuple, list[list]] = {}
    for m in mentions:
        candidates = by_quantity.setdefault((m.unit, m.value, m.value_max), [])
        for entry in candidates:
            t, sections, metric = entry
            if _same_target(t, m, sections, metric):
                t.mentions.append(m)
                sections.add(m.section_id)
                entry[2] = metric or m.metric  # the target's metric: its first mention that has one
                break
        else:
            targets.append(Target([m]))
            candidates.append([targets[-1], {m.section_id}, m.metric])
    return targets


def extract_targets(
    cleaned: str, sections: list[Section], task_deadlines: dict[str, str], doc_id: str, lex: Lexicon | None = None
) -> list[Target]:
    return extract(cleaned, sections, task_deadlines, doc_id, lex).targets


# ---- the tables


def _statement(m: Mention, text: str) -> dict:
    """The columns that place a statement: its sentence and its value as printed."""
    return {
        "char_start": m.char_start,
        "char_end": m.char_end,
        "source_text": text[m.char_start : m.char_end],
        "value_start": m.value_start,
        "value_end": m.value_end,
        "value_text": text[m.value_start : m.value_end],
    }


def targets_frame(docs) -> pd.DataFrame:
    """The targets table's rows: `docs` are (city, cleaned text, targets) per document."""
    from .schemas import TARGETS

    rows = []
    for city, text, targets in docs:
        for t in targets:
            p = t.primary
            year, year_source = t.year
            metric = t.metric
            rows.append(
                {
                    "target_id": t.target_id,
                    "metric": t.metric_id,
                    "city": city,
                    "value": p.value,
                    "year": year,
                    "value_max": p.value_max,
                    "unit": p.unit,
                    "measure_word": p.measure_word,
                    "comparator": p.comparator,
                    "metric_zh": metric.zh if metric else derived_metric_zh(p.label),
                    "metric_en": metric.en if metric else "",
                    "theme": theme_of(metric, p.label, text[p.char_start : p.char_end]).id,
                    "label": p.label,
                    "level": p.level,
                    "year_source": year_source,
                    "doc_id": p.doc_id,
                    "section_id": p.section_id,
                    **_statement(p, text),
                    "mentions": len(t.mentions),
                }
            )
    return pd.DataFrame(rows, columns=TARGETS.columns).astype({"year": "Int64", "value_max": float})


def target_mentions_frame(docs) -> pd.DataFrame:
    """The target_mentions table's rows: `docs` are (city, cleaned text, targets) per document."""
    from .schemas import TARGET_MENTIONS

    rows = [
        {
            "target_id": t.target_id,
            "doc_id": m.doc_id,
            "city": city,
            "section_id": m.section_id,
            "value": m.value,
            "value_max": m.value_max,
            "unit": m.unit,
            "comparator": m.comparator,
            "year": m.year,
            "year_source": m.year_source,
            **_statement(m, text),
            "is_primary": m is t.primary,
        }
        for city, text, targets in docs
        for t in targets
        for m in t.mentions
    ]
    return pd.DataFrame(rows, columns=TARGET_MENTIONS.columns).astype({"year": "Int64", "value_max": float})


def rejected_numbers_frame(docs) -> pd.DataFrame:
    """The rejected_numbers table's rows: `docs` are (city, cleaned text, rejected) per document."""
    from .schemas import REJECTED_NUMBERS

    rows = [
        {
            "doc_id": r.doc_id,
            "city": city,
            "section_id": r.section_id,
            "value_start": r.value_start,
            "value_end": r.value_end,
            "value_text": text[r.value_start : r.value_end],
            "rule": r.rule,
            "char_start": r.char_start,
            "char_end": r.char_end,
            "source_text": text[r.char_start : r.char_end],
        }
        for city, text, rejected in docs
        for r in rejected
    ]
    return pd.DataFrame(rows, columns=REJECTED_NUMBERS.columns)
