"""Text → jieba tokens, with the project's domain dictionary and stopwords, cached by text hash.

jieba's segmentation (its dictionary, DAG and HMM for unknown words) is run by jieba-rs through
rjieba, about 30 times faster than jieba's Python, except on the few runs of text jieba-rs is
known to segment otherwise (ASCII words joined by - _ ., a character three times in a row), which
jieba itself segments. tests/test_text_analysis.py checks the tokens against jieba's on every
section of the five documents and on generated strings.

Input: any text (a section's analysis text). Output: its tokens — words of two or more
characters (or ASCII terms such as 1+X), traditional characters folded to simplified, with
numbers, punctuation and the stopwords in ``data/stopwords.txt`` left out. Terms in
``data/jieba_dict.txt`` (双师型, 产教融合, 1+X …) stay whole. Tokens are cached in
``data/interim/tokens.sqlite`` by a hash of the text and of everything that shapes tokenisation
(jieba's and rjieba's versions, the dictionary, the stopwords, this module), so a rerun does not
tokenise again.
"""

from __future__ import annotations

import hashlib
import logging
import re
import sqlite3
import warnings
from contextlib import closing
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

from .clean import fold
from .config import PACKAGE_DATA
from .patterns import CN_NUMERAL_CHARS, HAN
from .workers import default_workers, map_ordered

DICT_FILE = PACKAGE_DATA / "jieba_dict.txt"
STOPWORDS_FILE = PACKAGE_DATA / "stopwords.txt"
_KEEP = re.compile(f"[{HAN}A-Za-z]")
_NUMBERISH = re.compile(rf"^[\d.%+\-～—{CN_NUMERAL_CHARS}]+$")
PARALLEL_MIN_CHARS = 400_000  # below this, starting worker processes costs more than it saves


def _read_lines(path: Path) -> list[str]:
    return [
        line.strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]


@lru_cache(maxsize=1)
def dictionary_terms() -> tuple[str, ...]:
    return tuple(line.split()[0] for line in _read_lines(DICT_FILE))


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    return frozenset(_read_lines(STOPWORDS_FILE))


@lru_cache(maxsize=1)
def _import_jieba():
    with warnings.catch_warnings():  # jieba 0.42 has invalid escape sequences that newer Pythons warn about
        warnings.simplefilter("ignore")
        import jieba
    jieba.setLogLevel(logging.WARNING)
    return jieba


@lru_cache(maxsize=1)
def signature() -> str:
    """Everything that changes the tokens of a text: a new value invalidates the cache."""
    jieba = _import_jieba()
    h = hashlib.sha256()
    h.update(f"jieba {jieba.__version__}, rjieba {version('rjieba')}".encode())
    h.update(DICT_FILE.read_bytes())
    h.update(STOPWORDS_FILE.read_bytes())
    h.update(Path(__file__).read_bytes())  # this module's rules (which runs go to which segmenter, the filters)
    return h.hexdigest()[:16]


# jieba segments each run of these characters on its own (its re_han_default); what lies between
# runs becomes one-character tokens, which tokenize() drops anyway.
_JIEBA_BLOCK = re.compile(r"[\u4E00-\u9FD5a-zA-Z0-9+#&\._%\-]+")
# Runs whose tokens jieba-rs gives otherwise than jieba (found by comparing both on 200,000
# generated strings): ASCII with a letter joined by - _ . ("Wi-Fi", "COVID-19", "ab9-1"), and a
# Chinese character three times in a row ("学学学": routes of equal weight, tied otherwise).
_RUST_DIFFERS = re.compile(r"[A-Za-z][A-Za-z0-9]*[-_.]|[-_.][A-Za-z0-9]*[A-Za-z]|([\u4E00-\u9FD5])\1\1")


@lru_cache(maxsize=1)
def _python_jieba():
    """jieba itself, with the project's terms: for the runs jieba-rs would segment otherwise."""
    tk = _import_jieba().Tokenizer()
    for term in dictionary_terms():
        tk.add_word(term, freq=100000)
    return tk


def unload_jieba() -> None:
    """Let go of jieba itself (71 MB), once the corpus is tokenised: loaded in this process when a
    batch small enough to tokenise here held a run that needs it; the stages after do not hold it."""
    _python_jieba.cache_clear()


def segment(text: str) -> list[str]:
    """jieba's segmentation of a text: each run by jieba-rs, or by jieba where they would differ."""
    words = []
    for run in _JIEBA_BLOCK.findall(text):
        words += _python_jieba().lcut(run) if _RUST_DIFFERS.search(run) else _segmenter().cut(run)
    return words


@lru_cache(maxsize=1)
def _jieba_dictionary() -> bytes:
    """jieba's dict.txt (word, frequency, tag per line): loaded into jieba-rs, and read for name tags."""
    return _import_jieba().get_dict_file().read()


@lru_cache(maxsize=1)
def _segmenter():
    """jieba's segmenter as jieba-rs runs it (rjieba: about 30 times faster than jieba's Python),
    holding jieba's own dictionary, word for word, and the project's terms."""
    import rjieba

    seg = rjieba.Jieba.empty()
    for line in _jieba_dictionary().decode("utf-8").splitlines():
        word, freq, *tag = line.strip().split(" ")
        seg.add_word(word, int(freq), tag[0] if tag else None)
    for term in dictionary_terms():
        seg.add_word(term, 100000, None)
    return seg


NAME_TAGS = ("ns", "nr", "nrt", "nrfg")  # jieba's tags for place and person names


@lru_cache(maxsize=1)
def _name_words() -> frozenset[str]:
    """The words jieba's dictionary tags as place or person names (read straight from the
    dictionary, without loading it into a tokenizer or jieba.posseg's tag table: seconds)."""
    words = re.findall(rb"^(\S+) \d+ (?:" + "|".join(NAME_TAGS).encode() + rb")\r?$", _jieba_dictionary(), re.M)
    return frozenset(w.decode("utf-8") for w in words) - set(dictionary_terms())


def is_proper_name(token: str, places: frozenset[str] = frozenset()) -> bool:
    """A place or person name (jieba's dictionary tag for the word: ns, nr, nrt, nrfg), or one of `places`."""
    if any(p in token for p in places):
        return True
    return token in _name_words()


def kept(words) -> list[str]:
    """The words that are tokens: two or more characters (or an ASCII term), not a number or a stopword."""
    stop = stopwords()
    out = []
    for word in words:
        word = word.strip()
        if len(word) < 2 or word in stop or _NUMBERISH.match(word) or not _KEEP.search(word):
            continue
        out.append(word)
    return out


def tokenize(text: str) -> list[str]:
    """Tokens of one text (no cache)."""
    return kept(segment(fold(text)))


class TokenCache:
    """Tokens of many texts, kept in one SQLite file keyed by text hash (a transaction per batch,
    so an interrupted run leaves the cache consistent). `path=None` disables the cache."""

    def __init__(self, path: Path | None):
        self.path = path

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256((signature() + "\0" + text).encode("utf-8")).hexdigest()

    def tokens(self, texts: list[str], workers: int | None = None) -> list[list[str]]:
        """Each text's tokens."""
        return [j.split() for j in self.joined(texts, workers)]

    def joined(self, texts: list[str], workers: int | None = None) -> list[str]:
        """Each text's tokens as one string, space-separated (as the cache keeps them): a corpus's
        millions of tokens never become millions of Python objects."""
        if self.path is None:
            return joined_many(texts, workers)
        keys = [self.key(t) for t in texts]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path)) as db, db:
            db.execute("CREATE TABLE IF NOT EXISTS tokens (key TEXT PRIMARY KEY, tokens TEXT NOT NULL)")
            known: dict[str, str] = {}
            unique = sorted(set(keys))
            for lo in range(0, len(unique), 500):
                chunk = unique[lo : lo + 500]
                rows = db.execute(f"SELECT key, tokens FROM tokens WHERE key IN ({','.join('?' * len(chunk))})", chunk)
                known.update(rows)
            todo: dict[str, str] = {}  # key → text, each new text once
            for k, text in zip(keys, texts, strict=True):
                if k not in known:
                    todo.setdefault(k, text)
            fresh = dict(zip(todo, joined_many(list(todo.values()), workers), strict=True))
            db.executemany("INSERT OR REPLACE INTO tokens VALUES (?, ?)", fresh.items())
            known.update(fresh)
        return [known[k] for k in keys]


def tokenize_many(texts: list[str], workers: int | None = None) -> list[list[str]]:
    """Tokenise texts, on every core when there is enough text to pay for the processes."""
    return [j.split() for j in joined_many(texts, workers)]


def tokenize_joined(text: str) -> str:
    """Tokens of one text, space-separated (tokens never hold a space)."""
    return " ".join(tokenize(text))


def joined_many(texts: list[str], workers: int | None = None) -> list[str]:
    """`tokenize_joined` of every text, on every core when there is enough text to pay for the processes."""
    if workers is None:
        workers = default_workers(sum(map(len, texts)), PARALLEL_MIN_CHARS)
    if texts:
        _segmenter()  # loaded once here: worker processes forked from this one inherit it
    return map_ordered(tokenize_joined, texts, workers, initializer=_segmenter if workers > 1 else None)
