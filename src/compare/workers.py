"""Running a pure per-item function on every core when the work is big enough to pay for it, or on
a Dask cluster while one is attached (`compare build --scheduler`, :mod:`compare.cluster`).

Each per-document stage (reading, cleaning, sections, tasks, targets), tokenisation, the
instrument pre-labels, lineage, the section-scoring blocks and the shingle index's hash partitions
are pure functions of their input, mapped here. Results come back in input order, and the work is
cut into pieces by the corpus alone (never by the number of workers), so the output does not
depend on the number of workers, or on where they run. While a long map's results come, it says
how far it has got (:func:`watched`).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Protocol, TypeVar

BATCH_DOCUMENTS = 250  # documents whose rows a per-document table is made from at once, then let go

T = TypeVar("T")
R = TypeVar("R")


class Engine(Protocol):
    """Somewhere else to run maps: :class:`compare.cluster.DaskEngine`."""

    workers: int

    def imap(self, fn: Callable, items: Iterable, initializer=None, initargs: tuple = ()) -> Iterator: ...


_engine: Engine | None = None


def attach(engine: Engine | None) -> Engine | None:
    """Run every map on `engine` from now on (None: on this machine again); returns the previous one."""
    global _engine
    previous, _engine = _engine, engine
    return previous


def attached() -> Engine | None:
    return _engine


def cluster_workers() -> int:
    """The workers of the attached cluster, else 1 (work that stays in this process on one machine)."""
    return max(2, _engine.workers) if _engine is not None else 1


def default_workers(size: int, threshold: int) -> int:
    """Every core when `size` (characters, bytes…) reaches `threshold`, else one; on a cluster,
    every worker whatever the size."""
    if _engine is not None:
        return max(2, _engine.workers)
    return (os.cpu_count() or 1) if size >= threshold else 1


_kept: dict[tuple, ProcessPoolExecutor] | None = None  # while `pools_kept` is entered: the open pools


def _drop_inherited_state() -> None:  # a forked worker's copy of its parent's pools and progress is not its own
    global _kept, _report
    _kept, _report = None, None


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_drop_inherited_state)


@contextmanager
def pools_kept() -> Iterator[None]:
    """Within it, a map without shared inputs (no `initargs`) runs on the pool a map before it with
    the same workers and initializer ran on, instead of a pool started and shut down for each map: a
    stage that maps a batch of documents at a time (tokenisation) forks its workers once, and what a
    worker loads for itself (jieba for the runs jieba-rs segments otherwise: 2.2 s and 71 MB) it
    loads once a stage, not once a batch. A map with shared inputs (section scoring's matrices) keeps
    its own pool, so its workers let go of them when it ends. The pools are shut down on leaving, so
    enter it around the maps alone: idle workers keep the memory they used. A map whose initializer
    is a new object at every call (a lambda, a closure, a partial) is not kept: see :func:`_keepable`."""
    global _kept
    if _kept is not None:  # entered already: the outer one shuts them down
        yield
        return
    _kept = {}
    try:
        yield
    finally:
        pools, _kept = _kept, None
        for pool in pools.values():
            pool.shutdown(cancel_futures=True)


def _keepable(initializer) -> bool:
    """Whether maps with this initializer can share a kept pool. Pools are kept by the initializer
    object itself, so only None or what its module holds under its name qualifies (a function, or one
    wrapped by `functools.lru_cache`): a lambda, a closure or a `functools.partial` is a new object at
    every call, and would start and keep a pool per map."""
    if initializer is None:
        return True
    module = sys.modules.get(getattr(initializer, "__module__", None) or "")
    return getattr(module, getattr(initializer, "__qualname__", "") or "<none>", None) is initializer


def imap_ordered(
    fn: Callable[..., R], items: Iterable[T], workers: int, initializer=None, initargs: tuple = ()
) -> Iterator[R]:
    """`fn` over `items`, results yielded in input order as they come (a caller that writes each
    away holds one at a time). `initializer(*initargs)` runs once per worker (or once here): the
    place for large shared inputs, which are then sent once, not with every item. With one worker
    the items are consumed one at a time (a generator is never held whole)."""
    if workers > 1 and _engine is not None:
        yield from _engine.imap(fn, items, initializer, initargs)
        return
    if workers > 1:
        items = list(items)
        if len(items) >= 2:
            chunksize = max(1, len(items) // (workers * 8))
            kept = _kept is not None and not initargs and _keepable(initializer)
            pool = _kept.get((workers, initializer)) if kept else None
            if pool is None:
                pool = ProcessPoolExecutor(max_workers=workers, initializer=initializer, initargs=initargs)
                if kept:
                    _kept[workers, initializer] = pool
            try:
                yield from pool.map(fn, items, chunksize=chunksize)
            finally:
                if not kept:
                    pool.shutdown()
            return
    if initializer:
        initializer(*initargs)
    for x in items:
        yield fn(x)


def map_ordered(
    fn: Callable[..., R], items: Iterable[T], workers: int, initializer=None, initargs: tuple = ()
) -> list[R]:
    """:func:`imap_ordered`'s results as a list."""
    return list(imap_ordered(fn, items, workers, initializer, initargs))


# ---------------------------------------------------------------- how far a long map has got

PROGRESS_EVERY = 30.0  # seconds between two lines of a map's progress: a shorter map says nothing
_report: tuple[Callable[[str], None], float] | None = None  # while `reporting`: (log, seconds between lines)
_clock = time.monotonic


@contextmanager
def reporting(log: Callable[[str], None] | None, every: float | None = None) -> Iterator[None]:
    """Within it, the results passed through :func:`watched` are counted, and a line goes to `log`
    at most every `every` seconds (PROGRESS_EVERY) as they come: a build's stage at 10,000 documents
    runs for many minutes (section scoring for over an hour) between its first line and its last."""
    global _report
    before, _report = _report, ((log, PROGRESS_EVERY if every is None else every) if log else None)
    try:
        yield
    finally:
        _report = before


def watched(label: str, total: int, results: Iterable[R], size: Callable[[R], int] | None = None) -> Iterator[R]:
    """`results`, passed through as they come; while :func:`reporting`, now and then a line such as
    "120,000 of 370,000 sections scored (32%), 24 min so far, about 51 min left" (the time left if
    the rest goes as fast; no line once all are done: the stage's own line follows). `size(result)`:
    how much of `total` one result is (one)."""
    if _report is None or total <= 0:
        yield from results
        return
    log, every = _report
    start = last = _clock()
    done = 0
    results = iter(results)
    try:
        for r in results:
            yield r
            done += size(r) if size is not None else 1
            now = _clock()
            if now - last >= every and done < total:
                last = now
                left = (now - start) * (total - done) / max(done, 1)
                log(
                    f"{done:,} of {total:,} {label} ({100 * done // total}%), {duration(now - start)} so far, "
                    f"about {duration(left)} left"
                )
    finally:  # left early (an error downstream): the map's pool is shut down now, not when collected
        close = getattr(results, "close", None)
        if close is not None:
            close()


def watching(label: str, compute: Callable[[list[T]], Iterable[R]]) -> Callable[[list[T]], Iterator[R]]:
    """`compute(items)` :func:`watched`, `label` counting its items (a memo's fill of the documents
    it has not stored yet)."""
    return lambda items: watched(label, len(items), compute(items))


def duration(seconds: float) -> str:
    """42 s, 3 min 05 s, 12 min, 1 h 05 min."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 600:
        return f"{whole // 60} min {whole % 60:02d} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


# ---------------------------------------------------------------- the worker's side of an engine

_loaded: str | None = None  # the token of the shared inputs this worker process holds
_lock = threading.Lock()


def run_chunk(fn: Callable, chunk: list, initializer, state: tuple, token: str) -> list:
    """`fn` over one chunk of a map, in a worker: the map's shared inputs (`state`, sent to every
    worker once) are handed to `initializer` the first time this worker meets the map's `token`."""
    global _loaded
    if initializer is not None:
        with _lock:
            if _loaded != token:
                initializer(*state)
                _loaded = token
    return [fn(x) for x in chunk]
