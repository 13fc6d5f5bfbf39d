"""Codebooks for policy-instrument coding: the package's ``data/codebooks/*.yaml`` and a project's own
(``data/coding/codebooks/*.yaml``, installed by ``compare code export --codebook FILE``) → checked
:class:`Codebook` records.

Input: a codebook YAML — the framework's id and labels, its types (Rothwell & Zegveld's supply,
environment, demand), its codes (id, zh/en label, type, definition, cue rules, an example from the
corpus), how one code is chosen when cues point to several (``selection``), and the patterns of units
that hold no instrument (``none_when``) and of the phrases that only mention a source, an area or who
acts, where cues do not count (``mentions``, rule G2 of the coding rules). Output: a :class:`Codebook`; a malformed file is refused
with the file, the entry and the problem. ``none`` is reserved: every codebook may assign it and
none may define it. The coding rules a human coder follows are in ``docs/coding-rules.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .config import PACKAGE_DATA, Paths
from .errors import CompareError
from .scanning import needed_chars, quick_scan

CODEBOOK_DIR = PACKAGE_DATA / "codebooks"
NONE = "none"
METHODS = ("precedence", "first_named")
SLUG_RE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Code:
    id: str
    zh: str
    en: str
    type: str  # the code's type (supply …), or "" in a flat codebook
    definition: str
    cues: tuple[re.Pattern, ...]
    example_doc: str = ""
    example_quote: str = ""

    pattern: re.Pattern = field(init=False, compare=False, repr=False)

    def __post_init__(self):  # the cues as one pattern (the code fires when any cue does): one scan per code
        object.__setattr__(self, "pattern", quick_scan(re.compile("|".join(f"(?:{p.pattern})" for p in self.cues))))


@dataclass(frozen=True)
class Type:
    id: str
    zh: str
    en: str
    definition: str


@dataclass(frozen=True)
class Codebook:
    id: str
    zh: str
    en: str
    description: str
    types: tuple[Type, ...]
    codes: tuple[Code, ...]
    method: str  # precedence: the first code of `order` whose cues fire; first_named: the earliest cue
    order: tuple[str, ...] = ()
    default: str = NONE  # the code when no cue fires (first_named)
    none_with: str = ""  # another codebook whose `none` makes this one's none
    none_when: tuple[re.Pattern, ...] = ()
    mentions: tuple[re.Pattern, ...] = ()
    source: str = ""
    by_id: dict[str, Code] = field(default_factory=dict, compare=False, repr=False)
    needs: dict[re.Pattern, str] = field(init=False, compare=False, repr=False)

    def __post_init__(self):  # a code's cues are made one quick scan by Code; the other patterns' screens here
        object.__setattr__(self, "needs", {p: needed_chars(p) for p in (*self.none_when, *self.mentions)})

    def may_match(self, pattern: re.Pattern, text: str) -> bool:
        """Whether `text` holds every character a match of `pattern` (one of `none_when` or
        `mentions`) needs: else it is not scanned (a mention phrase's lazy 2–60 characters before 等,
        tried from every character, were an eighth of the pre-labels' time)."""
        return all(ch in text for ch in self.needs[pattern])

    def code(self, code_id: str) -> Code:
        return self.by_id[code_id]

    @property
    def code_ids(self) -> tuple[str, ...]:
        """The codes a unit may get, `none` last."""
        return (*(c.id for c in self.codes), NONE)

    def type_of(self, code_id: str) -> str:
        return NONE if code_id == NONE else self.by_id[code_id].type


def _fail(source: str, where: str, problem: str) -> CompareError:
    return CompareError(f"{source}: {where}: {problem}")


def _patterns(values, source: str, where: str) -> tuple[re.Pattern, ...]:
    if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
        raise _fail(source, where, "must be a list of regular expressions.")
    out = []
    for v in values:
        try:
            out.append(re.compile(v))
        except re.error as e:
            raise _fail(source, where, f"{v!r} is not a valid regular expression ({e}).") from None
    return tuple(out)


def _text(e: dict, key: str, source: str, where: str) -> str:
    value = e.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _fail(source, where, f"has no '{key}'.")
    return " ".join(value.split())


def parse_codebook(text: str, source: str) -> Codebook:
    """Check a codebook's YAML and build it; raise CompareError naming the entry at fault."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise CompareError(f"{source}: not valid YAML ({' '.join(str(e).split())}).") from None
    if not isinstance(data, dict):
        raise CompareError(f"{source}: a codebook is a mapping with id, zh, en, description, selection and codes.")
    for key in ("id", "zh", "en", "description"):
        _text(data, key, source, "the codebook")
    if not SLUG_RE.match(data["id"]):
        raise _fail(source, "the codebook", f"id {data['id']!r} must be an ASCII snake_case slug.")
    types = []
    for i, t in enumerate(data.get("types") or [], start=1):
        where = f"type {i} ({t.get('id', '?') if isinstance(t, dict) else '?'})"
        if not isinstance(t, dict):
            raise _fail(source, where, "is not a mapping.")
        types.append(Type(*(_text(t, k, source, where) for k in ("id", "zh", "en", "definition"))))
    type_ids = {t.id for t in types}
    codes: list[Code] = []
    entries = data.get("codes")
    if not isinstance(entries, list) or not entries:
        raise _fail(source, "the codebook", "has no 'codes:' list.")
    for i, e in enumerate(entries, start=1):
        where = f"code {i} ({e.get('id', '?') if isinstance(e, dict) else '?'})"
        if not isinstance(e, dict):
            raise _fail(source, where, "is not a mapping.")
        cid = _text(e, "id", source, where)
        if not SLUG_RE.match(cid):
            raise _fail(source, where, "the id must be an ASCII snake_case slug.")
        if cid == NONE:
            raise _fail(source, where, "`none` is reserved (a unit with no instrument); do not define it.")
        if any(c.id == cid for c in codes):
            raise _fail(source, where, f"the id {cid!r} is used twice.")
        ctype = e.get("type", "")
        if types and ctype not in type_ids:
            raise _fail(
                source, where, f"type {ctype!r} is not one of the codebook's types ({', '.join(sorted(type_ids))})."
            )
        if not types and ctype:
            raise _fail(source, where, f"has type {ctype!r} but the codebook declares no types.")
        example = e.get("example") or {}
        codes.append(
            Code(
                cid,
                _text(e, "zh", source, where),
                _text(e, "en", source, where),
                ctype,
                _text(e, "definition", source, where),
                _patterns(e.get("cues"), source, f"{where}: cues"),
                str(example.get("doc_id", "")),
                str(example.get("quote", "")),
            )
        )
    selection = data.get("selection")
    if not isinstance(selection, dict) or selection.get("method") not in METHODS:
        raise _fail(source, "selection", f"needs a method: {' or '.join(METHODS)}.")
    ids = [c.id for c in codes]
    order = tuple(selection.get("order") or ())
    if selection["method"] == "precedence" and sorted(order) != sorted(ids):
        missing, extra = sorted(set(ids) - set(order)), sorted(set(order) - set(ids))
        raise _fail(
            source,
            "selection: order",
            "must list every code once"
            + (f"; missing {', '.join(missing)}" if missing else "")
            + (f"; unknown {', '.join(extra)}" if extra else "")
            + ".",
        )
    default = selection.get("default", NONE)
    if default != NONE and default not in ids:
        raise _fail(source, "selection: default", f"{default!r} is not one of the codes.")
    book = Codebook(
        data["id"],
        data["zh"],
        data["en"],
        " ".join(data["description"].split()),
        tuple(types),
        tuple(codes),
        selection["method"],
        order,
        default,
        str(selection.get("none_with", "")),
        _patterns(data.get("none_when") or [], source, "none_when"),
        _patterns(data.get("mentions") or [], source, "mentions"),
        source,
    )
    book.by_id.update({c.id: c for c in codes})
    return book


def load_codebook(path: Path) -> Codebook:
    if not path.is_file():
        raise CompareError(f"{path}: no such codebook. Give a YAML file in the format of src/compare/data/codebooks/.")
    return parse_codebook(path.read_text(encoding="utf-8"), str(path))


def project_codebooks(paths: Paths) -> list[Path]:
    """A project's own codebooks: ``data/coding/codebooks/*.yaml``."""
    folder = paths.coding / "codebooks"
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []


def codebooks(paths: Paths | None = None) -> tuple[Codebook, ...]:
    """The codebooks in use: the package's, then the project's own (``data/coding/codebooks/``), whose
    codebook with a package codebook's id replaces it; instrument frameworks before the actors."""
    books = {b.id: b for b in (load_codebook(p) for p in sorted(CODEBOOK_DIR.glob("*.yaml")))}
    for path in project_codebooks(paths) if paths else []:
        book = load_codebook(path)
        books[book.id] = book
    return checked(books.values())


def checked(books) -> tuple[Codebook, ...]:
    """Codebooks that may be used together: distinct ids, and every `none_with` one of them."""
    ids = [b.id for b in books]
    for b in books:
        if ids.count(b.id) > 1:
            raise CompareError(f"{b.source}: the codebook id {b.id!r} is used by another codebook too.")
        if b.none_with and b.none_with not in ids:
            raise CompareError(
                f"{b.source}: selection: none_with names {b.none_with!r}, which is not a codebook in use."
            )
    return tuple(sorted(books, key=lambda b: (bool(b.none_with), b.id)))
