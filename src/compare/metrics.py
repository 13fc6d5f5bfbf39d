"""The metric catalogue: which canonical metric a target measures.

Input: ``data/metrics.yaml`` (the versioned catalogue) and a target's unit, context and
label. Output: the matching :class:`Metric`, or a readable metric id derived from the label
(``label:…``) when no entry fits, so that nothing is dropped and ``compare metrics
--unmapped`` can show what the catalogue still lacks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import yaml

from .config import PACKAGE_DATA
from .errors import CompareError
from .lexicon import lexicon

CATALOGUE_FILE = PACKAGE_DATA / "metrics.yaml"
LEVEL_RE = re.compile(
    r"国家、省级以上|国家、省级|国家级|省级以上|省级|自治区级|自治区|县（区）级|县区级|市级|区级|县级|校级"
)


@dataclass(frozen=True)
class Theme:
    id: str
    zh: str
    en: str
    pattern: re.Pattern


@dataclass(frozen=True)
class Metric:
    id: str
    zh: str
    en: str
    unit: str
    theme: str
    all: tuple[re.Pattern, ...]
    none: tuple[re.Pattern, ...] = ()

    def matches(self, context: str) -> bool:
        return all(p.search(context) for p in self.all) and not any(p.search(context) for p in self.none)


def parse_themes(data: dict, source: str) -> tuple[Theme, ...]:
    out = []
    for i, t in enumerate(data.get("themes") or [], start=1):
        for key in ("id", "zh", "en", "pattern"):
            if not t.get(key):
                raise CompareError(f"{source}: theme {i} ({t.get('id', '?')}) has no '{key}'.")
        out.append(Theme(t["id"], t["zh"], t["en"], re.compile(t["pattern"])))
    return tuple(out)


def parse_catalogue(text: str, source: str) -> tuple[Metric, ...]:
    return _metrics(yaml.safe_load(text), source)


def _metrics(data, source: str) -> tuple[Metric, ...]:
    entries = data.get("metrics") if isinstance(data, dict) else None
    if not entries:
        raise CompareError(f"{source}: no 'metrics:' list found. See the comment at the top of the catalogue.")
    theme_ids = {t.id for t in parse_themes(data, source)}
    seen: set[str] = set()
    out = []
    for i, e in enumerate(entries, start=1):
        where = f"{source}: entry {i} ({e.get('id', '?')})"
        for key in ("id", "zh", "en", "unit", "theme", "all"):
            if not e.get(key):
                raise CompareError(f"{where} has no '{key}'. Every entry needs id, zh, en, unit, theme and all.")
        if e["theme"] not in theme_ids:
            raise CompareError(
                f"{where}: theme {e['theme']!r} is not one of the catalogue's themes ({', '.join(sorted(theme_ids))})."
            )
        if not re.fullmatch(r"[a-z][a-z0-9_]*", e["id"]):
            raise CompareError(f"{where}: the id must be an ASCII snake_case slug.")
        if e["id"] in seen:
            raise CompareError(f"{where}: the id {e['id']!r} is used twice.")
        units = lexicon().units
        if e["unit"] not in units:
            raise CompareError(f"{where}: unit {e['unit']!r} is not one of the lexicon's units ({', '.join(units)}).")
        seen.add(e["id"])
        try:
            compiled = {k: tuple(re.compile(p) for p in e.get(k, ())) for k in ("all", "none")}
        except re.error as err:
            raise CompareError(f"{where}: a rule is not a valid regular expression ({err}).") from None
        out.append(Metric(e["id"], e["zh"], e["en"], e["unit"], e["theme"], compiled["all"], compiled["none"]))
    return tuple(out)


@lru_cache(maxsize=1)
def _catalogue_data():
    return yaml.safe_load(CATALOGUE_FILE.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def catalogue() -> tuple[Metric, ...]:
    return _metrics(_catalogue_data(), str(CATALOGUE_FILE))


@lru_cache(maxsize=1)
def themes() -> tuple[Theme, ...]:
    return parse_themes(_catalogue_data(), str(CATALOGUE_FILE))


OTHER_THEME = Theme("other", "其他", "Other", re.compile("$^"))


def theme_of(metric: Metric | None, *contexts: str) -> Theme:
    """The metric's theme, or for an unmapped target the first theme matching its object, then its sentence."""
    by = {t.id: t for t in themes()}
    if metric:
        return by[metric.theme]
    for context in contexts:
        for t in themes():
            if t.pattern.search(context):
                return t
    return OTHER_THEME


def by_id() -> dict[str, Metric]:
    return {m.id: m for m in catalogue()}


def match_metric(unit: str, *contexts: str) -> Metric | None:
    """The first entry of the given unit matching the first context that any entry matches
    (contexts go from narrow to wide: the label, then the words around the number)."""
    candidates = [m for m in catalogue() if m.unit == unit]
    for context in contexts:
        for m in candidates:
            if context and m.matches(context):
                return m
    return None


def core_label(label: str) -> str:
    """A label without its level, quotes and scope words: the object being counted."""
    s = LEVEL_RE.sub("", label)
    s = re.sub(r"[“”\"‘’]|（群）|\(群\)", "", s)
    return s.strip("、，的 ")


UNLABELLED_ZH = "（未标明）"  # the name of a count whose sentence names nothing counted (共建低于5个)


def derived_metric_id(label: str) -> str:
    core = core_label(label)[:20] or "unlabelled"
    return f"label:{core}"


def derived_metric_zh(label: str) -> str:
    """The Chinese name of a metric outside the catalogue: its label's core, else the label, else
    UNLABELLED_ZH."""
    return core_label(label) or label or UNLABELLED_ZH
