"""Text → jieba tokens, with the project's domain dictionary and stopwords, cached by text hash.

Input: any text (a section's analysis text). Output: its tokens — words of two or more
characters (or ASCII terms such as 1+X), traditional characters folded to simplified, with
numbers, punctuation and the stopwords in ``data/stopwords.txt`` left out. Terms in
``data/jieba_dict.txt`` (双师型, 产教融合, 1+X …) stay whole. Tokens are cached under
``data/interim/tokens/`` by a hash of the text and of everything that shapes tokenisation
(jieba's version, the dictionary, the stopwords), so a rerun does not tokenise again.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import warnings
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from pathlib import Path

from .clean import fold
from .config import PACKAGE_DATA
from .output import atomic_write_text

DICT_FILE = PACKAGE_DATA / "jieba_dict.txt"
STOPWORDS_FILE = PACKAGE_DATA / "stopwords.txt"
_KEEP = re.compile(r"[\u4e00-\u9fff]|[A-Za-z]")
_NUMBERISH = re.compile(r"^[\d.%+\-～—〇零一二两三四五六七八九十百千万亿]+$")
PARALLEL_MIN_CHARS = 400_000  # below this, starting worker processes costs more than it saves


def _read_lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


@lru_cache(maxsize=1)
def dictionary_terms() -> tuple[str, ...]:
    return tuple(line.split()[0] for line in _read_lines(DICT_FILE))


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    return frozenset(_read_lines(STOPWORDS_FILE))


@lru_cache(maxsize=1)
def signature() -> str:
    """Everything that changes the tokens of a text: a new value invalidates the cache."""
    import jieba

    h = hashlib.sha256()
    h.update(jieba.__version__.encode())
    h.update(DICT_FILE.read_bytes())
    h.update(STOPWORDS_FILE.read_bytes())
    return h.hexdigest()[:16]


@lru_cache(maxsize=1)
def _jieba():
    with warnings.catch_warnings():  # jieba 0.42 has invalid escape sequences that newer Pythons warn about
        warnings.simplefilter("ignore")
        import jieba
    jieba.setLogLevel(logging.WARNING)
    tk = jieba.Tokenizer()
    tk.tmp_dir = os.environ.get("COMPARE_JIEBA_CACHE") or None
    for term in dictionary_terms():
        tk.add_word(term, freq=100000)
    return tk


@lru_cache(maxsize=1)
def _pos_tagger():
    import jieba.posseg

    return jieba.posseg.POSTokenizer(_jieba())


def is_proper_name(token: str, places: frozenset[str] = frozenset()) -> bool:
    """A place or person name (jieba's tag for the word alone: ns, nr, nrt, nrfg), or one of `places`."""
    if any(p in token for p in places):
        return True
    tags = [w.flag for w in _pos_tagger().lcut(token)]
    return len(tags) == 1 and tags[0] in ("ns", "nr", "nrt", "nrfg")


def tokenize(text: str) -> list[str]:
    """Tokens of one text (no cache)."""
    stop = stopwords()
    out = []
    for word in _jieba().lcut(fold(text)):
        word = word.strip()
        if len(word) < 2 or word in stop or _NUMBERISH.match(word) or not _KEEP.search(word):
            continue
        out.append(word)
    return out


class TokenCache:
    """Tokens of many texts, read from and written to a folder of files named by text hash."""

    def __init__(self, directory: Path | None):
        self.directory = directory

    def _path(self, text: str) -> Path:
        key = hashlib.sha256((signature() + "\0" + text).encode("utf-8")).hexdigest()
        return self.directory / key[:2] / f"{key}.txt"

    def tokens(self, texts: list[str], workers: int | None = None) -> list[list[str]]:
        results: list[list[str] | None] = [None] * len(texts)
        todo: list[int] = []
        for i, text in enumerate(texts):
            if self.directory is not None:
                path = self._path(text)
                if path.exists():
                    results[i] = path.read_text(encoding="utf-8").split()
                    continue
            todo.append(i)
        fresh = tokenize_many([texts[i] for i in todo], workers)
        for i, tokens in zip(todo, fresh):
            results[i] = tokens
            if self.directory is not None:
                atomic_write_text(self._path(texts[i]), " ".join(tokens))
        return results  # type: ignore[return-value]


def _worker_init() -> None:
    _jieba().initialize()


def tokenize_many(texts: list[str], workers: int | None = None) -> list[list[str]]:
    """Tokenise texts, on every core when there is enough text to pay for the processes."""
    if workers is None:
        workers = (os.cpu_count() or 1) if sum(map(len, texts)) >= PARALLEL_MIN_CHARS else 1
    if workers <= 1 or len(texts) < 2:
        return [tokenize(t) for t in texts]
    with ProcessPoolExecutor(max_workers=workers, initializer=_worker_init) as pool:
        return list(pool.map(tokenize, texts, chunksize=max(1, len(texts) // (workers * 8))))
