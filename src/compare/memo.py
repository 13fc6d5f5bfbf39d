"""What a build keeps for the next one: the per-document results of the last build.

Input: a per-document function's inputs (a document's registry row and raw file, and whatever
else the function reads). Output: its result, stored in ``data/interim/memo/<name>/`` under a key
that covers everything the result depends on: those inputs, and the code and libraries that
compute it — compare's own code and data (a fingerprint of the package) and the versions of
Python and of the libraries that read, clean, segment and count. A document whose file, registry
row, code and libraries are unchanged is not processed again (`compare add` then `make report`
processes only the new document); any change makes a new key, so a stored result is never used
for other inputs. After a build only the entries it used are kept. ``make clean`` removes them
all; the external converter of old ``.doc`` files (LibreOffice, antiword) is not in the key.

The entries are pickles that this project's own builds wrote; an unreadable one is computed
again.
"""

from __future__ import annotations

import gc
import hashlib
import pickle
import platform
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from .config import PACKAGE_DIR
from .output import atomic_write_bytes

# Libraries whose version can change a table's bytes (reading, numbers, tokens, the Parquet encoding).
LIBRARIES = (
    "numpy",
    "scipy",
    "scikit-learn",
    "pandas",
    "pyarrow",
    "jieba",
    "rjieba",
    "rapidfuzz",
    "opencc",
    "cn2an",
    "beautifulsoup4",
    "lxml",
    "python-docx",
    "pypdf",
    "PyYAML",
)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector paused meanwhile. A stored result is thousands of small objects without
    cycles, and loading one set the collector off over and over, each time across everything the
    build holds: a 1,000-document corpus's pre-labels read in 4.1 s instead of 0.7 s; its records
    read one at a time (as the instruments and lineage stages read them) beside a million objects
    held, in 2.73 s instead of 2.26 s."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


EASED_THRESHOLDS = (50_000, 20, 100)  # Python's defaults: (700, 10, 10)


@contextmanager
def collector_eased() -> Iterator[None]:
    """Python's cycle collector run less often meanwhile (a build: EASED_THRESHOLDS). With its
    defaults it runs after every 700 new containers, and goes over its older generations, which hold
    everything the build keeps, every 10th and 100th run; a build makes millions of short-lived
    containers (rows, stored entries read back) with hardly a cycle among them. At 1,000 documents
    the collector took 6.5 s of a 65 s build that processed nothing (in turn with the defaults: 999
    documents 121.5 and 128.3 s against 137.6 and 164.6 s, one added 62.6 and 75.9 s against 82.7 and
    86.1 s; the largest process +0.7%). Cycles are still collected, later. Workers forked meanwhile
    inherit it."""
    before = gc.get_threshold()
    gc.set_threshold(*EASED_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def fingerprint() -> str:
    """The compare package's code and data, as one digest."""
    h = hashlib.sha256()
    for p in sorted(PACKAGE_DIR.rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts:
            h.update(p.relative_to(PACKAGE_DIR).as_posix().encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:16]


def library_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "missing"


@lru_cache(maxsize=1)
def code_digest() -> str:
    """compare's code and data, Python's version and the LIBRARIES' versions, as one digest."""
    parts = [fingerprint(), platform.python_version(), *(f"{n} {library_version(n)}" for n in LIBRARIES)]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def digest(*parts) -> str:
    """SHA-256 of the parts, each text (UTF-8) or bytes-like (bytes, a contiguous NumPy array: read
    where it lies, not copied), each part's length first so that parts cannot run into each other."""
    h = hashlib.sha256()
    for p in parts:
        b = p.encode("utf-8") if isinstance(p, str) else memoryview(p).cast("B")
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()


class Memo:
    """Results of one per-document function (`name`), one file per key, in `folder` (None: keep
    nothing). Keys come from :meth:`key`, which adds the code digest to the inputs given."""

    def __init__(self, folder: Path | None, name: str):
        self.folder = folder / name if folder is not None else None
        self.name = name
        self.used: set[str] = set()
        self.reused: set[int] = set()  # the items whose stored result the last map used

    def __getstate__(self) -> dict:  # sent to a worker, which reads and writes: what the build used stays here
        return {**self.__dict__, "used": set(), "reused": set()}

    def key(self, *inputs) -> str:
        return digest(code_digest(), self.name, *inputs)

    def _path(self, key: str) -> Path:
        return self.folder / f"{key[:40]}.pickle"

    def get(self, key: str):
        """The stored result, or None (nothing stored, or an entry that cannot be read)."""
        if self.folder is None:
            return None
        self.used.add(key)
        try:
            with open(self._path(key), "rb") as f, collector_paused():
                return pickle.load(f)
        except Exception:  # none stored, or a truncated or foreign file: compute it again
            return None

    def get_or_make(self, key: str, make: Callable[[], object]):
        """The stored result, else `make()`, stored."""
        return self.get_or_make_many([key], lambda missing: [make()])[0]

    def get_or_make_many(self, keys: list[str], make: Callable[[list[int]], Iterable]) -> list:
        """The stored results of `keys`; those not stored or that cannot be read (cut short,
        removed since) made together — `make(their positions in keys)` yields their results in
        order — and stored."""
        found = self.get_many(keys)
        missing = [n for n, value in enumerate(found) if value is None]
        if missing:
            for n, (_, value) in zip(missing, self._put_each([keys[n] for n in missing], make(missing)), strict=True):
                found[n] = value
        return found

    def get_many(self, keys: Iterable[str]) -> list:
        """:meth:`get` of each key."""
        return [self.get(k) for k in keys]

    def put(self, key: str, value) -> None:
        if self.folder is not None:
            self.used.add(key)
            atomic_write_bytes(self._path(key), pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))

    def keep_only_used(self) -> None:
        """Remove the entries this build did not ask for (other documents, older code)."""
        if self.folder is None or not self.folder.is_dir():
            return
        keep = {self._path(k).name for k in self.used}
        for p in self.folder.iterdir():
            if p.name not in keep:
                p.unlink(missing_ok=True)

    def fill(
        self, compute, items: Iterable, keys: list[str], then: Callable[[str, object], None] | None = None
    ) -> None:
        """Store the result of every item not stored yet; `compute(those items)` yields their
        results in order, each stored as it comes (and handed to `then(key, result)`) and let go of
        (the corpus's results are never held at once). Read them back with :meth:`get`."""
        items = list(items)
        todo = [i for i, k in enumerate(keys) if not self.has(k)]
        self.reused = set(range(len(items))) - set(todo)
        if not todo:  # compute is not started for nothing (on a cluster it would send its inputs)
            return
        for key, value in self._put_each([keys[i] for i in todo], compute([items[i] for i in todo])):
            if then is not None:
                then(key, value)

    def _put_each(self, keys: list[str], values: Iterable) -> Iterator[tuple[str, object]]:
        """Each value stored under its key as it comes, then yielded with it."""
        for key, value in zip(keys, values, strict=True):
            self.put(key, value)
            yield key, value

    def batches(self, keys: list[str], compute, size: int) -> Iterator[tuple[list[int], list]]:
        """The stored results of `keys`, `size` at a time in the order given, as (their positions in
        `keys`, their results), by :meth:`get_or_make_many`: `compute(positions)` yields the results
        of those that cannot be read. Read with :meth:`fill` first, so that only a batch of results
        is held at a time."""
        for lo in range(0, len(keys), size):
            positions = list(range(lo, min(lo + size, len(keys))))
            yield (
                positions,
                self.get_or_make_many(
                    [keys[p] for p in positions], lambda missing, at=positions: compute([at[n] for n in missing])
                ),
            )

    def has(self, key: str) -> bool:
        """Whether an entry is stored for `key` (:meth:`get` still reads None from one cut short)."""
        if self.folder is None:
            return False
        self.used.add(key)
        return self._path(key).is_file()
