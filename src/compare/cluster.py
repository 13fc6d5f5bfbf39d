"""Past one machine: the build's maps run as tasks on a ``dask.distributed`` cluster.

``compare build --scheduler tcp://HOST:8786`` (or ``COMPARE_SCHEDULER``) attaches a
:class:`DaskEngine` to :mod:`compare.workers` for the length of the build: every map the stages
make — documents (read, clean, sections, tasks, targets), tokens, the section-scoring blocks, the
shingle index's hash partitions, the instrument pre-labels and lineage — becomes Dask tasks,
submitted in a bounded window and gathered in input order. Everything else (the registry, the
token cache, writing the tables) stays on this machine, so the outputs are byte-identical to a
local build. This is the only module that imports Dask, and only when a scheduler is named: a
build without one needs no Dask at all.

Before any work, every worker is asked what it runs and sees: the same compare (a fingerprint of
the package's code and data), the same versions of the libraries that decide numbers and tokens,
and the same raw files at the same path (the project must be on a file system every worker
mounts, as a cluster's shared home or scratch is). A difference is refused, naming the workers.
"""

from __future__ import annotations

import hashlib
import os
import platform
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sized
from contextlib import contextmanager
from pathlib import Path

from .config import Paths
from .errors import CompareError
from .memo import LIBRARIES, fingerprint, library_version
from .workers import attach, run_chunk

ENV = "COMPARE_SCHEDULER"
TIMEOUT_ENV = "COMPARE_SCHEDULER_TIMEOUT"  # seconds to reach the scheduler and to wait for its first worker


def identity(registry: str) -> dict[str, str]:
    """What this process runs and sees (run on the client and on every worker)."""
    from . import __version__

    path = Path(registry)
    return {
        "compare": __version__,
        "compare code and data": fingerprint(),
        "python": platform.python_version(),
        **{name: library_version(name) for name in LIBRARIES},
        registry: hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.is_file() else "not found",
    }


def _name(fn: Callable) -> str:
    return getattr(fn, "__name__", None) or getattr(getattr(fn, "func", None), "__name__", "task")


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    chunk: list = []
    for x in items:
        chunk.append(x)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class DaskEngine:
    """Maps as Dask tasks: items in chunks (a list: about 8 chunks per worker thread; a generator:
    one item per task, read as the window frees), at most `window` chunks in flight, results in
    input order. A map's shared inputs are scattered to every worker once."""

    def __init__(self, client, workers: int):
        self.client = client
        self.workers = workers
        self.window = 4 * workers
        self.ran: list[tuple[str, int, int]] = []  # (function, items, tasks) of every map, in order

    def imap(self, fn: Callable, items: Iterable, initializer=None, initargs: tuple = ()) -> Iterator:
        token = uuid.uuid4().hex
        state = self.client.scatter([initargs], broadcast=True, hash=False)[0] if initializer else ()
        size = max(1, len(items) // (self.workers * 8)) if isinstance(items, Sized) else 1
        name = f"compare-{_name(fn)}-{token[:8]}"
        n_items = n_tasks = 0
        pending: deque = deque()
        try:
            for i, chunk in enumerate(_chunks(items, size)):
                n_items, n_tasks = n_items + len(chunk), i + 1
                pending.append(self.client.submit(run_chunk, fn, chunk, initializer, state, token, key=f"{name}-{i}"))
                if len(pending) >= self.window:
                    yield from pending.popleft().result()
            while pending:
                yield from pending.popleft().result()
        except Exception as e:
            if type(e).__module__.split(".")[0] != "distributed":
                raise  # the task's own error (a bad document …), as on this machine
            raise CompareError(
                f"the Dask cluster failed while running {name} ({type(e).__name__}: {e}): a worker died or was "
                "lost (out of memory? give workers more memory or fewer threads) — nothing was written; run the "
                "build again."
            ) from None
        finally:
            for f in pending:
                f.cancel()
            if initializer:
                state.release()
        self.ran.append((_name(fn), n_items, n_tasks))

    def map(self, fn: Callable, items: Iterable, initializer=None, initargs: tuple = ()) -> list:
        return list(self.imap(fn, items, initializer, initargs))


def _differences(here: dict[str, str], there: dict[str, dict[str, str]]) -> list[str]:
    out = []
    for worker, seen in sorted(there.items()):
        diff = [f"{k} {seen.get(k)} (here {v})" for k, v in here.items() if seen.get(k) != v]
        if diff:
            out.append(f"{worker}: " + ", ".join(diff))
    return out


@contextmanager
def connected(address: str, paths: Paths, log: Callable[[str], None] = print):
    """Every map of the build on the Dask cluster at `address` while the block runs."""
    try:
        from distributed import Client
    except ImportError:
        raise CompareError(
            f"--scheduler {address} needs dask.distributed, which is not installed: pip install 'dask[distributed]' "
            "(or the project's `cluster` extra) here and on every worker, or build without --scheduler."
        ) from None
    timeout = _timeout()
    try:
        client = Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as e:
        raise CompareError(
            f"cannot reach the Dask scheduler at {address} ({type(e).__name__}: {e}); start one (`dask scheduler`, "
            "then `dask worker ADDRESS` on each machine) or fix the address (tcp://HOST:8786), or unset "
            f"{ENV} to build on this machine."
        ) from None
    previous = None
    try:
        try:
            client.wait_for_workers(1, timeout=timeout)
        except TimeoutError:
            raise CompareError(
                f"the Dask scheduler at {address} has no workers after {timeout:g} s: start them with "
                f"`dask worker {address} --nthreads 1` on each machine (or submit the dask-jobqueue jobs)."
            ) from None
        here = identity(str(paths.registry))
        bad = _differences(here, client.run(identity, str(paths.registry)))
        if bad:
            raise CompareError(
                "the Dask workers do not run what this machine runs or do not see this project's files, so their "
                "results could differ: " + "; ".join(bad) + ". Install the same compare and libraries on every "
                "worker (the same requirements.lock) and put the project on a file system every worker mounts, "
                f"at the same path ({paths.root})."
            )
        threads = client.nthreads()
        log(f"build on the Dask cluster at {address}: {len(threads)} workers, {sum(threads.values())} threads")
        previous = attach(DaskEngine(client, sum(threads.values())))
        yield client
    finally:
        attach(previous)
        client.close()


def _timeout() -> float:
    raw = os.environ.get(TIMEOUT_ENV, "30")
    try:
        value = float(raw)
    except ValueError:
        value = -1
    if value <= 0:
        raise CompareError(f"{TIMEOUT_ENV}={raw!r} is not a number of seconds: set it to e.g. 60, or unset it (30).")
    return value


def scheduler_address(flag: str | None) -> str | None:
    """The scheduler named by --scheduler, else by the environment, else none."""
    return flag or os.environ.get(ENV) or None
