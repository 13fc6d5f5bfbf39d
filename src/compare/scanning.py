"""What a regular expression's parse says about its matches — the characters they start with, the
characters they hold — so that the codebooks' patterns are scanned over a corpus's clauses faster,
with the same matches at the same places.

Input: a compiled pattern. Output: a pattern with a lookahead for its first characters
(:func:`quick_scan`), or the characters a text must hold to be worth scanning (:func:`needed_chars`).
The parse is CPython's own (``re._parser``, Python 3.11 on); where it cannot be read (another
Python, a case-insensitive pattern) the answer is the cautious one: the pattern as given, no
characters needed. Each answer may say less than is true, never more.
"""

from __future__ import annotations

import re


def _parsed(pattern: re.Pattern):
    """(the pattern's parse, the parser's constants), or None: case-insensitive, or a Python whose
    re module is built otherwise."""
    if pattern.flags & re.IGNORECASE:
        return None
    try:
        from re import _constants, _parser

        return _parser.parse(pattern.pattern, pattern.flags), _constants
    except (ImportError, AttributeError, TypeError, ValueError, re.error):  # pragma: no cover - another Python
        return None


def _repeats(c) -> tuple:
    return (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", c.MAX_REPEAT))


def first_chars(pattern: re.Pattern) -> frozenset[str] | None:
    """The characters every match of `pattern` starts with; None when the parse does not say (a
    match may start with any character or be empty, a negated class, a construct not read here)."""
    parsed = _parsed(pattern)
    if parsed is None:
        return None
    found, may_be_empty = _first_of(*parsed)
    return frozenset(found) if found and not may_be_empty else None


def _first_of(items, c) -> tuple[set[str] | None, bool]:
    """(the characters a sequence of parsed items can start a match with, or None for any; whether
    the sequence can match the empty string)."""
    out: set[str] = set()
    for op, av in items:
        if op in (c.AT, c.ASSERT, c.ASSERT_NOT):  # anchors and lookarounds consume nothing
            continue
        if op is c.LITERAL:
            found, empty = {chr(av)}, False
        elif op is c.IN:
            found, empty = _class_chars(av, c), False
        elif op is c.BRANCH:
            found, empty = set(), False
            for alternative in av[1]:
                chars, can_be_empty = _first_of(alternative, c)
                if chars is None:
                    return None, False
                found, empty = found | chars, empty or can_be_empty
        elif op is c.SUBPATTERN:
            if av[1] & re.IGNORECASE:  # (?i:…)
                return None, False
            found, empty = _first_of(av[-1], c)
        elif op in _repeats(c):
            found, empty = _first_of(av[2], c)
            empty = empty or av[0] == 0
        else:  # any character, a group reference, a conditional …
            return None, False
        if found is None:
            return None, False
        out |= found
        if not empty:
            return out, False
    return out, True


def _class_chars(items, c, widest: int = 4096) -> set[str] | None:
    """The characters of a [...] class, or None (negated, a category such as \\d, a wide range)."""
    out: set[str] = set()
    for op, av in items:
        if op is c.LITERAL:
            out.add(chr(av))
        elif op is c.RANGE and av[1] - av[0] < widest:
            out.update(map(chr, range(av[0], av[1] + 1)))
        else:
            return None
    return out


def quick_scan(pattern: re.Pattern) -> re.Pattern:
    """`pattern` opened by a lookahead for the characters its matches start with, when they are
    known: the same matches at the same places, and at a character that starts none the engine
    tries one class instead of every alternative (a codebook code's cues: twice as fast on a
    corpus's clauses)."""
    chars = first_chars(pattern)
    if chars is None:
        return pattern
    try:
        return re.compile(f"(?=[{''.join(map(re.escape, sorted(chars)))}])(?:{pattern.pattern})", pattern.flags)
    except re.error:  # e.g. global flags, which must open the pattern
        return pattern


def needed_chars(pattern: re.Pattern) -> str:
    """Characters that every text `pattern` matches in holds (those its parse makes certain), in
    pattern order: a text without one of them need not be scanned."""
    parsed = _parsed(pattern)
    return "".join(dict.fromkeys(_needed_of(*parsed))) if parsed is not None else ""


def _needed_of(items, c) -> list[str]:
    out: list[str] = []
    for op, av in items:
        if op is c.LITERAL:
            out.append(chr(av))
        elif op is c.SUBPATTERN and not av[1] & re.IGNORECASE:
            out += _needed_of(av[-1], c)
        elif op is c.BRANCH:  # what every alternative needs
            each = [_needed_of(alternative, c) for alternative in av[1]]
            out += [ch for ch in each[0] if all(ch in other for other in each[1:])]
        elif op in _repeats(c) and av[0] >= 1:
            out += _needed_of(av[2], c)
    return out
