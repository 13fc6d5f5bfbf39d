"""Sections → the tidy targets table: every quantitative target, normalised, dated, traceable.

Input: a document's cleaned text, its sections and tasks. Output: :class:`Mention` records
(every place a target is stated) merged into :class:`Target` records (one per distinct
target). A mention is a number with a measure word (5个, 30门, 800人, 1万人次, 50万元, 6个月,
两次, 一所), a share (50%, 百分之三十, 一半), a ratio after 比 (4:6) or a multiple (2倍), in a
sentence that commits to it. The rules are about the language of the documents — never about
a particular city, section or sentence:

- not targets: numbers inside 《》 titles, document numbers and parentheses (breakdowns such
  as “（市职业技术学校10个、中宁县6个）”), ordinals and ranks (第1名, 前3名), dates and years,
  durations without a comparator (3年中职教育; 3年内 is a relative deadline), eligibility
  conditions (具有3年以上企业工作经历), fixed phrases that contain numerals
  (``data/number_phrases.csv``: 四个意识, 一批 …), counts governed by a describing verb
  (支持2所国示范学校, 鼓励…4个基地) or a matching rule (按照1个专业对接一个产业链), and the size
  of another body's programme (列入…10所…建设计划);
- the comparator comes from the words around the number (以上/不低于/至少 → ``>=`` …);
- the year is the deadline of the sentence (到2025年), of the paragraph that opens with one,
  or of the task that holds the target (完成时限, an attachment task list); 长期坚持 is no year;
- a target restated in another section (the 具体目标 paragraph, an attachment task list) with
  the same value, unit and metric or label is merged, and the task list's deadline wins.
"""

from __future__ import annotations

import bisect
import csv
import re
from dataclasses import dataclass, field
from functools import lru_cache

from .clean import fold
from .config import PACKAGE_DATA
from .metrics import LEVEL_RE, Metric, core_label, derived_metric_id, match_metric
from .numbers import NUMBER, parse_number, parse_percent, parse_year
from .sections import Section

COUNT_WORDS = "个所门家项处"
PERSON_WORDS = "名人"
QUANTITY_RE = re.compile(
    rf"(?P<num>{NUMBER})(?:(?P<sep>[-—–～~至到])(?P<num2>{NUMBER}))?(?P<approx>[余多])?"
    rf"(?P<measure>%|人次|个月|[{COUNT_WORDS}{PERSON_WORDS}次倍亩元年])"
)
PERCENT_WORD_RE = re.compile(rf"百分之(?P<num>{NUMBER})|一半")
RATIO_RE = re.compile(r"(?<![\d.])(?P<a>\d{1,2}):(?P<b>\d{1,2})(?![\d:])")

UNIT_OF_MEASURE = {"%": "percent", "人次": "person_times", "个月": "month", "次": "times", "倍": "multiple",
                   "亩": "mu", "元": "yuan", "年": "year"}
UNIT_OF_MEASURE.update({w: "count" for w in COUNT_WORDS})
UNIT_OF_MEASURE.update({w: "person" for w in PERSON_WORDS})
DURATION_UNITS = ("year", "month")

BEFORE_COMPARATORS = [("不低于", ">="), ("不少于", ">="), ("不小于", ">="), ("至少", ">="), ("不超过", "<="),
                      ("不高于", "<="), ("不多于", "<="), ("超过", ">"), ("高于", ">"), ("多于", ">"), ("大于", ">"),
                      ("低于", "<"), ("少于", "<"), ("小于", "<"), ("大约", "~"), ("约", "~")]
AFTER_COMPARATORS = [("及以上", ">="), ("以上", ">="), ("以下", "<="), ("以内", "<="), ("左右", "~")]
_BEFORE_RE = re.compile("|".join(w for w, _ in BEFORE_COMPARATORS))
# What may stand between a comparator and its number: a verb, or the base of a share (总课时的).
_BETWEEN_OK = re.compile(
    r"^(?:在|召开|建成|建设|建立|听取|轮训|实现|达到|占|为|按|按照|提取|培育|选派|组织|安排|开设|开展|设立|招收|接纳|有)?"
    r"(?:[\u4e00-\u9fff“”（）]{0,12}的)?(?:每[\u4e00-\u9fff]|人均|年均|生均)*$")
_QUANTITY_ITEM = re.compile(rf"{NUMBER}[{COUNT_WORDS}{PERSON_WORDS}][^、，；。]{{0,16}}、")

COMMIT_VERBS = ("建设", "建成", "建立", "打造", "培育", "培养", "达到", "实现", "开设", "开展", "组织", "选派", "选聘",
                "遴选", "评选", "设立", "合办", "共建", "办好", "新增", "创建", "争创", "形成", "确保", "完成", "举办",
                "承办", "招收", "认定", "扶持", "立项", "引进", "增加", "扩大", "参加", "接收", "安排", "设置", "培训", "建")
DESCRIBE_VERBS = ("支持", "鼓励", "指导", "依托", "引导", "发挥", "利用", "整合", "对接", "按照", "按")
_VERB_RE = re.compile("|".join(sorted(COMMIT_VERBS + DESCRIBE_VERBS, key=len, reverse=True)))
_JOIN_PROGRAMME_RE = re.compile(r"(?:列入|纳入)[^，。；]*$")
_PROGRAMME_AFTER_RE = re.compile(r"^[^，。；]*?(?:计划|名单|目录|范围|工程)")

YEAR = r"\d{4}|[〇零一二三四五六七八九]{4}"
DEADLINE_RE = re.compile(
    rf"(?:(?:力争|争取|确保)?(?:到|至|截至|截止到|截止|在)\s*(?P<y1>{YEAR})\s*年(?:底|末)?(?:前)?"
    rf"|(?P<y2>{YEAR})\s*年(?:底|末)?(?:前|以前|之前))")
PARAGRAPH_DEADLINE_RE = re.compile(rf"(?:力争|争取)?(?:到|至)\s*(?P<y>{YEAR})\s*年")  # used with .match(text, line_start)

SENTENCE_ENDS = "。！？\n\t"
CLAUSE_ENDS = SENTENCE_ENDS + "，；：:;"
_SHARE_TRAILING = re.compile(r"(?:达到|为|占|实现|比例为|不低于|不少于|至少|超过|高于|不超过|低于|提取|按照|按)+$")
_LEADING_NOISE = re.compile(r"^(?:(?:力争|争取|确保)?(?:到|至)\d{4}年(?:底|前)?|力争|确保|争取|全市|全区|全县|原则上|"
                            r"每年|每学期|其中|并|使|要|应|可|将|逐步|进一步|积极|重点|同时|同步|着力|大力|共同|"
                            r"按照规定|按规定|严格落实|切实落实|落实)+")
_TRAILING_NOISE = re.compile(r"(?:达到|占|为|不低于|不少于|至少|超过|高于|不超过|低于|按照|按|提取|实现|比例为|"
                             r"的|各|在|于|共|共建|建设|建成|打造|培育|设立)+$")


@dataclass
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


@dataclass
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


@lru_cache(maxsize=1)
def number_phrases() -> tuple[str, ...]:
    with open(PACKAGE_DATA / "number_phrases.csv", encoding="utf-8", newline="") as f:
        return tuple(row["phrase"] for row in csv.DictReader(f))


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


def _excluded_spans(text: str) -> list[tuple[int, int]]:
    """Titles, document numbers, parentheses and fixed phrases: no number inside is a target."""
    spans = [m.span() for m in re.finditer(r"《[^《》]*》", text)]
    spans += [m.span() for m in re.finditer(r"[〔［\[【]\d{4}[〕］\]】]\d+号", text)]
    depth, start = 0, 0
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
    for phrase in number_phrases():
        spans += [(m.start(), m.end()) for m in re.finditer(re.escape(phrase), text)]
    return spans


def _bounds(text: str, start: int, end: int, lo: int, hi: int, delims: str, include_end: bool) -> tuple[int, int]:
    s = max([text.rfind(d, lo, start) for d in delims] + [lo - 1]) + 1
    ends = [i for i in (text.find(d, end, hi) for d in delims) if i >= 0]
    e = min(ends) if ends else hi
    if include_end and e < hi and text[e] in "。！？":
        e += 1
    return s, e


def _comparator(text: str, clause_start: int, num_start: int, after: str, approx: str | None) -> str:
    if approx:
        return ">"
    for word, comp in AFTER_COMPARATORS:
        if after.startswith(word):
            return comp
    before = text[max(clause_start, num_start - 24):num_start]
    hits = list(_BEFORE_RE.finditer(before))
    if hits:
        last = hits[-1]
        between = _QUANTITY_ITEM.sub("", before[last.end():])
        if _BETWEEN_OK.match(between):
            return dict(BEFORE_COMPARATORS)[last.group(0)]
    return "="


def _governing_verb(prefix: str) -> str | None:
    hits = list(_VERB_RE.finditer(prefix))
    return hits[-1].group(0) if hits else None


def _clean_label(s: str, keep_base: bool = False) -> str:
    """Strip deadlines, adverbs and the verb or comparator next to the number; keep_base keeps a
    final 的 (“企业职工总数的” is the base of a share)."""
    s = _LEADING_NOISE.sub("", s.lstrip("—-－ "))
    s = re.sub(r"(?:每[\u4e00-\u9fff]){1,3}$", "", s)  # 每生每年: the unit of a rate, not its object
    if keep_base:
        return _SHARE_TRAILING.sub("", s).strip("、， ")
    return _TRAILING_NOISE.sub("", s).strip("、，的 ")


def _post_label(text: str, pos: int, clause_end: int) -> str:
    s = text[pos:clause_end]
    s = re.sub(r"^(?:及以上|以上|左右|以下|以内)", "", s).lstrip("的")
    m = re.match(r"(?:[^，。；：（）\n\t]|（[^（），。]{1,2}）)*", s)  # short asides stay: 县（区）级, 专业（群）
    label = m.group(0) if m else ""
    if "”" in label and "“" not in label.split("”")[0]:
        label = label.split("”")[0]  # the number sat inside a quotation: “千亩校园、万名学生”
    label = re.split(rf"(?:和|与|及|或|、)(?={NUMBER}[余多]?(?:[{COUNT_WORDS}{PERSON_WORDS}次倍亩元年%]|个月))", label)[0]
    return label[:30].rstrip("、等")


def _year_from(match: re.Match) -> int | None:
    return parse_year(match.group("y1") or match.group("y2"))


def _sentence_year(text: str, s_start: int, s_end: int, pos: int) -> int | None:
    hits = [(m.start(), _year_from(m)) for m in DEADLINE_RE.finditer(text, s_start, s_end)]
    hits = [(p, y) for p, y in hits if y]
    before = [y for p, y in hits if p < pos]
    if before:
        return before[-1]
    return hits[0][1] if hits else None


def _task_year(deadline: str) -> int | None:
    m = re.match(r"(\d{4})", deadline or "")
    return int(m.group(1)) if m else None


def _quantities(text: str, lo: int, hi: int):
    """Every candidate number in text[lo:hi]: (start, end, value, value_max, unit, measure, approx)."""
    for m in QUANTITY_RE.finditer(text, lo, hi):
        value = parse_number(m.group("num"))
        value_max = parse_number(m.group("num2")) if m.group("num2") else None
        if value is None:
            continue
        unit = UNIT_OF_MEASURE[m.group("measure")]
        yield m.start(), m.end(), value, value_max, unit, m.group("measure"), m.group("approx")
    for m in PERCENT_WORD_RE.finditer(text, lo, hi):
        value = parse_percent(m.group(0))
        if value is not None:
            yield m.start(), m.end(), value, None, "percent", "%", None
    for m in RATIO_RE.finditer(text, lo, hi):
        if "比" in text[max(lo, m.start() - 8):m.start()]:
            a, b = int(m.group("a")), int(m.group("b"))
            if b:
                yield m.start(), m.end(), round(a / b, 4), None, "ratio", ":", None


def extract_mentions(cleaned: str, sections: list[Section], task_deadlines: dict[str, str],
                     doc_id: str) -> list[Mention]:
    text = fold(cleaned)
    excluded = _Spans(_excluded_spans(text))
    mentions: list[Mention] = []
    for sec in sections:
        lo, hi = sec.heading_start, sec.char_end
        for start, end, value, value_max, unit, measure, approx in _quantities(text, lo, hi):
            if start in excluded:
                continue
            line_start = text.rfind("\n", 0, start) + 1
            c_start, c_end = _bounds(text, start, end, max(lo, line_start), hi, CLAUSE_ENDS, False)
            s_start, s_end = _bounds(text, start, end, max(lo, line_start), hi, SENTENCE_ENDS, True)
            prev = text[start - 1] if start > lo else ""
            after = text[end:c_end]
            prefix = text[c_start:start]
            if prev and (prev in "第前每" or prev.isdigit() or prev == "."):
                continue
            if unit == "year" and value >= 1000:
                continue  # a date or deadline year, not a duration
            comparator = _comparator(text, c_start, start, after, approx)
            if unit in DURATION_UNITS:
                if re.match(r"^(?:内|以内)", after) or re.search(r"具有|具备", prefix) or \
                        re.match(r"^[^，。；]{0,8}(?:经历|经验|工龄|教龄)", after):
                    continue  # a relative deadline or an eligibility condition
                if comparator == "=" and not re.match(r"^一(?:周期|轮)", after):
                    continue  # a duration that describes, not one that is committed to
            if unit in ("count", "person"):
                verb = _governing_verb(prefix)
                if verb in DESCRIBE_VERBS:
                    continue
                if _JOIN_PROGRAMME_RE.search(prefix) and _PROGRAMME_AFTER_RE.match(after):
                    continue
                if re.match(r"^[^，。；]{0,12}对接", after):
                    continue
            if unit == "yuan" and re.match(r"^(?:化|制|结构)", after):
                continue
            if unit == "percent" and re.match(r"^[\u4e00-\u9fff]{1,6}内", after):
                comparator = "<="

            labels = _labels(text, unit, c_start, c_end, start, end, prev, post_from=end + _after_len(after))
            forward, around = _contexts(text, s_start, s_end, c_start, start, end)
            for part, label in enumerate(labels):
                strong = unit in ("count", "person") and len(core_label(label)) >= 2
                metric = match_metric(unit, label) if strong else match_metric(unit, label, forward, around)
                level_m = LEVEL_RE.search(label)
                mentions.append(Mention(
                    doc_id=doc_id, section_id=sec.section_id, value=value, value_max=value_max, unit=unit,
                    measure_word="" if measure in ("%", ":") else measure, comparator=comparator,
                    label=_original(cleaned, text, label, c_start, c_end),
                    level=level_m.group(0) if level_m else "", metric=metric,
                    metric_id=metric.id if metric else derived_metric_id(label),
                    value_start=start, value_end=end + _after_len(after), char_start=s_start, char_end=s_end,
                    part=part,
                ))
                _attach_year(mentions[-1], text, sec, task_deadlines, line_start, s_start, s_end, start)
    return sorted(mentions, key=lambda m: (m.value_start, m.part))


def _labels(text: str, unit: str, c_start: int, c_end: int, start: int, end: int, prev: str,
            post_from: int) -> list[str]:
    """The object of a number, as written: usually after the measure word (5个市级专业教学资源库),
    before the number when it ends the clause (技能大师工作室5个), the subject for a share
    (“双师型”教师比例达到50%), and one label per object for 各 (案例和示范课各3个)."""
    post = _post_label(text, post_from, c_end)
    pre = _clean_label(text[c_start:start])
    if unit in ("count", "person", "person_times", "mu"):
        gov = _governing_verb(pre)
        if gov:
            after_last = _clean_label(pre[pre.rfind(gov) + len(gov):])
            first = _VERB_RE.search(pre)
            pre = after_last or (first and _clean_label(pre[first.end():])) or pre
        if prev == "各":
            parts = [p for p in re.split(r"和|与|、", pre) if p]
            if len(parts) > 1:
                return parts
        if core_label(post):
            return [post]
        if post:  # “2个自治区级、8个市级产教融合企业”: the level is ours, the object is the next item's
            nxt = re.match(rf"、{NUMBER}[{COUNT_WORDS}{PERSON_WORDS}]", text[post_from + len(post):c_end])
            if nxt:
                tail = _post_label(text, post_from + len(post) + nxt.end(), c_end)
                return [post + LEVEL_RE.sub("", tail)]
        return [pre or post or _clean_label(text[c_start:start])]
    if unit in DURATION_UNITS:
        post = re.sub(r"^一(?:周期|轮)的?", "", post)
        return [post or pre]
    if unit == "times":
        return [post or _clean_label(re.split(r"[并和、]", pre)[-1]) or pre]
    # shares, amounts, ratios, multiples: the subject, with what follows when it ends in a base (总数的)
    pre = _clean_label(text[c_start:start], keep_base=True)
    pre = re.sub(r"^(?:按照规定|按规定|按照|按|对于|对|给予|可按|可)+", "", pre)
    pre = re.sub(rf"^(?:{_BEFORE_RE.pattern})", "", pre)
    pre = re.sub(r"(?:市财政|财政)?给予$", "", pre)
    if post and not re.fullmatch(r"的?(?:规定|目标任务|目标|任务|政策|要求|比例|标准)", post) and \
            (pre.endswith("的") or unit == "yuan" and len(core_label(post)) >= 2):
        return [f"{pre}…{post}"]
    return [pre or post]


def _contexts(text: str, s_start: int, s_end: int, c_start: int, start: int, end: int) -> tuple[str, str]:
    """The words that belong to a number, narrow then wide: from its clause forward to the clause
    before the next number, then back to the previous number as well (so “实现50%以上的目标任务”
    finds the “双师型”教师…比例 of the clause before it). Semicolons bound both."""
    lo = max(text.rfind("；", s_start, start) + 1, s_start)
    hi_semi = text.find("；", end, s_end)
    hi = hi_semi if hi_semi >= 0 else s_end
    others = [(s, e) for s, e, *_ in _quantities(text, lo, hi) if (s, e) != (start, end)]
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
    return cleaned[i:i + len(label)] if i >= 0 else label


def _after_len(after: str) -> int:
    for word, _ in AFTER_COMPARATORS:
        if after.startswith(word):
            return len(word)
    return 0


def _attach_year(m: Mention, text: str, sec: Section, task_deadlines: dict[str, str],
                 line_start: int, s_start: int, s_end: int, pos: int) -> None:
    year = _sentence_year(text, s_start, s_end, pos)
    if year:
        m.year, m.year_source = year, "sentence"
        return
    para = PARAGRAPH_DEADLINE_RE.match(text, line_start)
    if para and parse_year(para.group("y")):
        m.year, m.year_source = parse_year(para.group("y")), "paragraph"
        return
    year = _task_year(task_deadlines.get(sec.section_id, ""))
    if year:
        m.year, m.year_source = year, "task"


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


def extract_targets(cleaned: str, sections: list[Section], task_deadlines: dict[str, str],
                    doc_id: str) -> list[Target]:
    return merge_mentions(extract_mentions(cleaned, sections, task_deadlines, doc_id))
