"""Running a pure per-item function on every core when the work is big enough to pay for it.

Each per-document stage (reading, cleaning, sections, tasks, targets) and tokenisation is a pure
function of its input, so it maps unchanged onto a process pool here, or onto an engine such as
Dask (``dask.bag.from_sequence(docs).map(process_document, paths)``) or Spark beyond one machine.
Results come back in input order, so the output does not depend on the number of workers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def default_workers(size: int, threshold: int) -> int:
    """Every core when `size` (characters, bytes…) reaches `threshold`, else one."""
    return (os.cpu_count() or 1) if size >= threshold else 1


def map_ordered(
    fn: Callable[..., R], items: Iterable[T], workers: int, initializer=None, initargs: tuple = ()
) -> list[R]:
    """`fn` over `items`, results in input order. `initializer(*initargs)` runs once per worker (or
    once here): the place for large shared inputs, which are then sent once, not with every item."""
    items = list(items)
    if workers <= 1 or len(items) < 2:
        if initializer:
            initializer(*initargs)
        return [fn(x) for x in items]
    with ProcessPoolExecutor(max_workers=workers, initializer=initializer, initargs=initargs) as pool:
        return list(pool.map(fn, items, chunksize=max(1, len(items) // (workers * 8))))
