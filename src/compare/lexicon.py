"""The extraction lexicon: ``data/lexicon.yaml`` and ``data/number_phrases.csv`` → checked entries
and the patterns the target extractor is built from.

Input: the two data files (or a copy of them, for a researcher's own lexicon). Output: a
:class:`Lexicon` — units, measure words, comparators and their phrases, verbs, label noise, the
fixed phrases with numerals — and the regular expressions derived from them. Nothing else in
compare spells these words out: the schemas and the charts read units and comparators from here.
A malformed file (an unknown unit, comparator or kind; a duplicate; a missing field) is refused
with the file, the entry and the problem.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import yaml

from .config import PACKAGE_DATA
from .errors import CompareError
from .numbers import parse_year
from .patterns import HAN, HAN_RE, NUMBER, YEAR

BOUNDS = ("lower", "upper", "point")
UNIT_KINDS = ("counted", "quantity", "duration", "frequency", "amount", "share", "multiple", "ratio")
POSITIONS = ("before", "after")


@dataclass(frozen=True)
class Unit:
    id: str
    zh: str
    en: str
    kind: str
    axis_zh: str
    axis_en: str
    suffix: str = ""


@dataclass(frozen=True)
class Comparator:
    id: str
    symbol: str
    zh: str
    en: str
    marker: str
    filled: bool
    bound: str  # lower, upper or point: which way a larger value moves the target


@dataclass(frozen=True)
class MeasureWord:
    word: str
    unit: str
    symbol: bool = False
    not_before: tuple[str, ...] = ()


@dataclass(frozen=True)
class ComparatorPhrase:
    phrase: str
    position: str
    comparator: str


@dataclass(frozen=True)
class NumberPhrase:
    phrase: str
    why: str


# Deadlines: their grammar is kept beside the lexicon so that years and labels read them from one
# pattern. 力争/争取/确保 introduce a deadline; 到2025年(底)(前), 2025年前 state it, and so does a year
# followed at once by an achievement verb of the lexicon (2020年初步建成…): see Lexicon.deadline_re.
STRIVE = "(?:力争|争取|确保)"
LEADING_DEADLINE = rf"{STRIVE}?(?:到|至)\d{{4}}年(?:底|前)?"  # a deadline at the start of a label
# What may stand at the start of a paragraph before the deadline that opens it: an item number
# (matched by numbering's grammar), a bullet, or a short label ending in a colon (具体指标：).
OPENING_BULLET_RE = re.compile(r"[—\-－–·•●◆■]+\s*")
OPENING_LABEL_RE = re.compile(r"[^，。；：:\n]{1,12}[：:]")


def deadline_year(match: re.Match) -> int | None:
    """The year a match of Lexicon.deadline_re or opening_deadline_re states."""
    return parse_year(next(g for g in match.groups() if g))


def _alternation(words) -> str:
    """A regex alternation of literal words, longest first (so 及以上 is tried before 以上)."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


class Lexicon:
    """The checked lexicon and the patterns built from it (compiled once, on first use)."""

    def __init__(
        self,
        units,
        comparators,
        measure_words,
        approximate,
        phrases,
        verbs,
        rate_words,
        noise,
        number_phrases,
        source: str,
        bodies=(),
    ):
        self.units: dict[str, Unit] = units
        self.comparators: dict[str, Comparator] = comparators
        self.measure_words: tuple[MeasureWord, ...] = measure_words
        self.approximate: dict[str, str] = approximate
        self.phrases: tuple[ComparatorPhrase, ...] = phrases
        self.commit_verbs: tuple[str, ...] = tuple(verbs["commit"])
        self.describe_verbs: tuple[str, ...] = tuple(verbs["describe"])
        self.bridge_verbs: tuple[str, ...] = tuple(verbs["bridge"])
        self.achieve_verbs: tuple[str, ...] = tuple(verbs["achieve"])
        self.rate_words: tuple[str, ...] = tuple(rate_words)
        self.noise: dict[str, tuple[str, ...]] = noise
        self.number_phrases: tuple[NumberPhrase, ...] = number_phrases
        self.bodies: tuple[str, ...] = tuple(bodies)
        self.source = source

    # ---- lookups

    def unit_of(self, measure: str) -> MeasureWord:
        return self._measures[measure]

    @cached_property
    def _measures(self) -> dict[str, MeasureWord]:
        return {m.word: m for m in self.measure_words}

    def kind(self, unit: str) -> str:
        return self.units[unit].kind

    def units_of_kind(self, *kinds: str) -> tuple[str, ...]:
        return tuple(u.id for u in self.units.values() if u.kind in kinds)

    @cached_property
    def before(self) -> dict[str, str]:
        """Before-phrase → comparator."""
        return {p.phrase: p.comparator for p in self.phrases if p.position == "before"}

    @cached_property
    def after(self) -> tuple[tuple[str, str], ...]:
        """(after-phrase, comparator), longest first: the first that starts the text after a number wins."""
        pairs = [(p.phrase, p.comparator) for p in self.phrases if p.position == "after"]
        return tuple(sorted(pairs, key=lambda p: len(p[0]), reverse=True))

    # ---- patterns

    @cached_property
    def measure(self) -> str:
        """Any measure word or unit symbol."""
        return _alternation(m.word for m in self.measure_words)

    @cached_property
    def counted_measure(self) -> str:
        """The measure words of things and people counted (个, 所, 名 …)."""
        counted = set(self.units_of_kind("counted"))
        return _alternation(m.word for m in self.measure_words if m.unit in counted)

    @cached_property
    def approx(self) -> str:
        return _alternation(self.approximate)

    @cached_property
    def quantity_re(self) -> re.Pattern:
        """A number (or a range of two) with its measure word: 5个, 3-5名, 10余所, 50%, 1.5万人次."""
        return re.compile(
            rf"(?P<num>{NUMBER})(?:(?P<sep>[-—–～~至到])(?P<num2>{NUMBER}))?(?P<approx>{self.approx})?"
            rf"(?P<measure>{self.measure})"
        )

    @cached_property
    def deadline_re(self) -> re.Pattern:
        """A deadline in a sentence: 到2025年(底)(前), 2025年前, 2020年(初步)建成 (an achievement verb)."""
        return re.compile(
            rf"(?:{STRIVE}?(?:到|至|截至|截止到|截止|在)\s*(?P<y1>{YEAR})\s*年(?:底|末)?(?:前)?"
            rf"|(?P<y2>{YEAR})\s*年(?:底|末)?(?:前|以前|之前)"
            rf"|(?P<y3>{YEAR})\s*年(?:底|末)?(?=(?:初步|基本|全面)?(?:{_alternation(self.achieve_verbs)})))"
        )

    @cached_property
    def opening_deadline_re(self) -> re.Pattern:
        """A deadline that opens a paragraph (matched where the paragraph's words start)."""
        return re.compile(rf"{STRIVE}?(?:到|至)\s*(?P<y>{YEAR})\s*年")

    @cached_property
    def number_phrase_re(self) -> re.Pattern | None:
        """Any of the fixed phrases with numerals (四个意识 …), longest first."""
        return re.compile(_alternation(p.phrase for p in self.number_phrases)) if self.number_phrases else None

    @cached_property
    def body_re(self) -> re.Pattern:
        """A word naming a body or a place (lexicon.yaml's `bodies`)."""
        return re.compile(_alternation(self.bodies))

    @cached_property
    def before_re(self) -> re.Pattern:
        return re.compile(_alternation(self.before))

    @cached_property
    def before_at_end_re(self) -> re.Pattern:
        """A before-phrase that ends where the search ends (search(text, pos, number_start))."""
        return re.compile(rf"(?:{_alternation(self.before)})$")

    @cached_property
    def after_start_re(self) -> re.Pattern:
        return re.compile(rf"^(?:{_alternation(p for p, _ in self.after)})")

    @cached_property
    def bridge_re(self) -> re.Pattern:
        """What may stand between a before-comparator and its number: a verb, the base of a share
        (总课时的) and rate words (每生每年, 生均)."""
        return re.compile(
            rf"^(?:{_alternation(self.bridge_verbs)})?(?:[{HAN}“”（）]{{0,12}}的)?"
            rf"(?:每[{HAN}]|{_alternation(self.rate_words)})*$"
        )

    @cached_property
    def quantity_item_re(self) -> re.Pattern:
        """An earlier item of a list of counts (2个…、) between a comparator and its number."""
        return re.compile(rf"{NUMBER}(?:{self.counted_measure})[^、，；。]{{0,16}}、")

    @cached_property
    def verb_re(self) -> re.Pattern:
        return re.compile(_alternation(self.commit_verbs + self.describe_verbs))

    @cached_property
    def label_comparators(self) -> list[str]:
        """Before-phrases stripped from the end of a label: two characters or more (see lexicon.yaml)."""
        return [p for p in self.before if len(p) >= 2]

    @cached_property
    def leading_noise_re(self) -> re.Pattern:
        return re.compile(rf"^(?:{LEADING_DEADLINE}|{_alternation(self.noise['leading'])})+")

    @cached_property
    def trailing_noise_re(self) -> re.Pattern:
        words = [*self.noise["trailing_verbs"], *self.label_comparators, *self.noise["trailing_words"]]
        return re.compile(rf"(?:{_alternation(words)})+$")

    @cached_property
    def share_trailing_re(self) -> re.Pattern:
        return re.compile(rf"(?:{_alternation([*self.noise['trailing_verbs'], *self.label_comparators])})+$")

    @cached_property
    def next_quantity_re(self) -> re.Pattern:
        """Where a label ends because the next item of a list starts (…案例和3个…)."""
        return re.compile(rf"(?:和|与|及|或|、)(?={NUMBER}(?:{self.approx})?(?:{self.measure}))")


# ---- loading and checking


def _problem(source: str, where: str, problem: str) -> CompareError:
    return CompareError(f"{source}: {where}: {problem}")


def _entries(data: dict, key: str, source: str) -> list:
    entries = data.get(key)
    if not isinstance(entries, list) or not entries:
        raise CompareError(f"{source}: no '{key}:' list found. See the comment at the top of the lexicon.")
    for i, e in enumerate(entries, start=1):
        if not isinstance(e, dict):
            raise _problem(source, f"{key} entry {i}", "is not a mapping of fields ({field: value, …}).")
    return entries


def _need(e: dict, fields: tuple[str, ...], source: str, where: str) -> None:
    for f in fields:
        if e.get(f) in (None, ""):
            raise _problem(source, where, f"has no '{f}'. Every entry needs {', '.join(fields)}.")


def _words(value, source: str, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(w, str) and w for w in value):
        raise _problem(source, where, "must be a list of words.")
    dup = sorted({w for w in value if value.count(w) > 1})
    if dup:
        raise _problem(source, where, f"lists {', '.join(dup)} twice.")
    return value


def parse_lexicon(text: str, source: str, number_phrases: tuple[NumberPhrase, ...] = ()) -> Lexicon:
    """Check the lexicon's YAML and build a Lexicon; raise CompareError naming the entry at fault."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise CompareError(f"{source}: not valid YAML ({e}).") from None
    if not isinstance(data, dict):
        raise CompareError(
            f"{source}: expected the sections units, measure_words, comparators, "
            "comparator_phrases, verbs, rate_words and noise."
        )
    units: dict[str, Unit] = {}
    for i, e in enumerate(_entries(data, "units", source), start=1):
        where = f"unit {i} ({e.get('id', '?')})"
        _need(e, ("id", "zh", "en", "kind", "axis_zh", "axis_en"), source, where)
        if e["kind"] not in UNIT_KINDS:
            raise _problem(source, where, f"kind {e['kind']!r} is not one of {', '.join(UNIT_KINDS)}.")
        if e["id"] in units:
            raise _problem(source, where, f"the id {e['id']!r} is used twice.")
        units[e["id"]] = Unit(
            e["id"], e["zh"], e["en"], e["kind"], str(e["axis_zh"]), e["axis_en"], str(e.get("suffix", ""))
        )
    comparators: dict[str, Comparator] = {}
    for i, e in enumerate(_entries(data, "comparators", source), start=1):
        where = f"comparator {i} ({e.get('id', '?')})"
        _need(e, ("id", "zh", "en", "marker", "bound"), source, where)
        if e["id"] in comparators:
            raise _problem(source, where, f"the id {e['id']!r} is used twice.")
        if e["bound"] not in BOUNDS:
            raise _problem(source, where, f"bound {e['bound']!r} is not one of {', '.join(BOUNDS)}.")
        comparators[e["id"]] = Comparator(
            e["id"], str(e.get("symbol") or ""), e["zh"], e["en"], e["marker"], bool(e.get("filled")), e["bound"]
        )
    if "=" not in comparators:
        raise _problem(source, "comparators", "must include '=' (a plain number).")
    measures: list[MeasureWord] = []
    for i, e in enumerate(_entries(data, "measure_words", source), start=1):
        where = f"measure word {i} ({e.get('word', '?')})"
        _need(e, ("word", "unit"), source, where)
        if e["unit"] not in units:
            raise _problem(source, where, f"unit {e['unit']!r} is not one of the units ({', '.join(units)}).")
        if any(m.word == str(e["word"]) for m in measures):
            raise _problem(source, where, f"the word {e['word']!r} is listed twice.")
        not_before = _words(e.get("not_before", []), source, f"{where}: not_before")
        measures.append(MeasureWord(str(e["word"]), e["unit"], bool(e.get("symbol")), tuple(not_before)))
    approximate = data.get("approximate_suffixes") or {}
    if not isinstance(approximate, dict):
        raise _problem(source, "approximate_suffixes", "must map a suffix to a comparator ({余: '>'}).")
    for suffix, comp in approximate.items():
        if comp not in comparators:
            raise _problem(
                source,
                f"approximate_suffixes ({suffix})",
                f"comparator {comp!r} is not one of {', '.join(comparators)}.",
            )
    phrases: list[ComparatorPhrase] = []
    for i, e in enumerate(_entries(data, "comparator_phrases", source), start=1):
        where = f"comparator phrase {i} ({e.get('phrase', '?')})"
        _need(e, ("phrase", "position", "comparator"), source, where)
        if e["position"] not in POSITIONS:
            raise _problem(source, where, f"position {e['position']!r} must be 'before' or 'after' the number.")
        if e["comparator"] not in comparators:
            raise _problem(source, where, f"comparator {e['comparator']!r} is not one of {', '.join(comparators)}.")
        if any(p.phrase == e["phrase"] and p.position == e["position"] for p in phrases):
            raise _problem(source, where, "is listed twice.")
        if not HAN_RE.search(str(e["phrase"])):
            raise _problem(source, where, "a comparator phrase is written in Chinese characters.")
        phrases.append(ComparatorPhrase(str(e["phrase"]), e["position"], e["comparator"]))
    verbs = data.get("verbs")
    if not isinstance(verbs, dict):
        raise _problem(source, "verbs", "needs the lists commit, describe, bridge and achieve.")
    for key in ("commit", "describe", "bridge", "achieve"):
        _words(verbs.get(key), source, f"verbs: {key}")
    both = sorted(set(verbs["commit"]) & set(verbs["describe"]))
    if both:
        raise _problem(source, "verbs", f"{', '.join(both)} cannot both commit and describe.")
    noise = data.get("noise")
    if not isinstance(noise, dict):
        raise _problem(source, "noise", "needs the lists leading, trailing_verbs and trailing_words.")
    noise = {
        key: tuple(_words(noise.get(key), source, f"noise: {key}"))
        for key in ("leading", "trailing_verbs", "trailing_words")
    }
    rate_words = _words(data.get("rate_words"), source, "rate_words")
    bodies = _words(data.get("bodies"), source, "bodies")
    return Lexicon(
        units,
        comparators,
        tuple(measures),
        dict(approximate),
        tuple(phrases),
        verbs,
        rate_words,
        noise,
        number_phrases,
        source,
        bodies,
    )


def parse_number_phrases(text: str, source: str) -> tuple[NumberPhrase, ...]:
    """The fixed phrases with numerals (四个意识, 一批 …): each needs a phrase with a numeral and a reason."""
    from .patterns import CN_NUMERAL_CHARS

    rows = list(csv.DictReader(text.splitlines()))
    out: list[NumberPhrase] = []
    for line, row in enumerate(rows, start=2):
        phrase, why = (row.get("phrase") or "").strip(), (row.get("why") or "").strip()
        if not phrase or not why:
            raise CompareError(f"{source} line {line}: every row needs a phrase and why it is not a target.")
        if not re.search(rf"[\d{CN_NUMERAL_CHARS}]", phrase):
            raise CompareError(
                f"{source} line {line}: {phrase!r} has no numeral, so it can never hide a target; remove it."
            )
        if any(p.phrase == phrase for p in out):
            raise CompareError(f"{source} line {line}: {phrase!r} is listed twice.")
        out.append(NumberPhrase(phrase, why))
    return tuple(out)


def load_lexicon(directory: Path = PACKAGE_DATA) -> Lexicon:
    """The lexicon in `directory` (lexicon.yaml and number_phrases.csv)."""
    phrases_file, lexicon_file = directory / "number_phrases.csv", directory / "lexicon.yaml"
    phrases = parse_number_phrases(phrases_file.read_text(encoding="utf-8"), str(phrases_file))
    return parse_lexicon(lexicon_file.read_text(encoding="utf-8"), str(lexicon_file), phrases)


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """The project's lexicon (src/compare/data/)."""
    return load_lexicon()
