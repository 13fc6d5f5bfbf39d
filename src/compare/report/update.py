"""Bringing the site up to date — what ``make report`` runs: the pages whose inputs changed, run on a
pool of kept kernels and rendered, then the index; pages done of the total and the time left.

Input: the plan (``build/report-plan.json``) and what each page is made from
(``build/report-inputs.json``), both from :mod:`~compare.report.plan`. Output: ``build/executed/``,
``site/``. A page runs again when its executed notebook is missing or older than any of its inputs
(its notebook, the tables it reads, the compare modules it imports, the files its spec names), and
is rendered again when its HTML is older than its executed notebook or the site's templates: the
rule Make applies, in one place, so that one kernel per worker can run many pages
(:class:`~compare.report.run.Kernel`) instead of a process and a kernel per page.
"""

from __future__ import annotations

import json
import multiprocessing
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from ..config import PACKAGE_DIR, Paths
from ..errors import CompareError
from ..workers import duration
from .plan import Page, load_plan

PACKAGE_PREFIX = "src/compare/"


@dataclass(frozen=True)
class Work:
    page: Page
    execute: bool  # False: the executed notebook is current, only its HTML is not


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return float("inf")  # a missing input: whatever depends on it is out of date


def _newest(root: Path, inputs: list[str]) -> float:
    """The latest change among `inputs` (relative to the project root; compare's own files are
    wherever the package is installed, which is src/compare/ in a clone)."""
    return max((_mtime(_where(root, f)) for f in inputs), default=0.0)


def _where(root: Path, name: str) -> Path:
    return PACKAGE_DIR / name.removeprefix(PACKAGE_PREFIX) if name.startswith(PACKAGE_PREFIX) else root / name


def _inputs(paths: Paths) -> dict:
    return json.loads((paths.build / "report-inputs.json").read_text(encoding="utf-8"))


def out_of_date(paths: Paths, pages: list[Page] | None = None, inputs: dict | None = None) -> list[Work]:
    """The pages to run or render, in the order to start them (single pages first: they are the
    longest, and a pool ends sooner when the long ones do not come last)."""
    pages = load_plan(paths) if pages is None else pages
    inputs = inputs or _inputs(paths)
    newest = {nb: _newest(paths.root, files) for nb, files in inputs["notebooks"].items()}
    render_newest = _newest(paths.root, inputs["render"])
    work = []
    for page in pages:
        executed = paths.build / "executed" / f"{page.name}.ipynb"
        html = paths.site / f"{page.name}.html"
        if not executed.exists() or _mtime(executed) < newest[page.notebook]:
            work.append(Work(page, True))
        elif not html.exists() or _mtime(html) < max(_mtime(executed), render_newest):
            work.append(Work(page, False))
    per_notebook = {p.notebook: sum(q.notebook == p.notebook for q in pages) for p in pages}
    return sorted(work, key=lambda w: per_notebook[w.page.notebook] > 1)


def index_out_of_date(paths: Paths, pages: list[Page], inputs: dict) -> bool:
    index = paths.site / "index.html"
    return not index.exists() or _mtime(index) < max(
        _newest(paths.root, inputs["index"]), max((_mtime(paths.site / f"{p.name}.html") for p in pages), default=0)
    )


# ---- a worker: one kernel kept for every page it is given

_KERNEL = None


def _start_worker(root: str) -> None:
    global _KERNEL
    from multiprocessing.util import Finalize

    from .run import Kernel

    _KERNEL = Kernel(Paths(root))
    Finalize(_KERNEL, _KERNEL.shutdown, exitpriority=10)  # the kernel goes when the worker does


def _do(root: str, work: Work) -> tuple[str, float, str | None]:
    """Run (if it must) and render one page; an error comes back as its message."""
    from .render import render_page
    from .run import run_page

    paths = Paths(root)
    t0 = time.perf_counter()
    try:
        if work.execute:
            run_page(work.page, paths, _KERNEL)
        render_page(work.page, paths)
    except CompareError as e:
        return work.page.name, time.perf_counter() - t0, str(e)
    return work.page.name, time.perf_counter() - t0, None


def update(paths: Paths | None = None, jobs: int = 2, out=sys.stdout) -> int:
    """Run and render every out-of-date page on `jobs` kept kernels, then the index. Returns the
    number of pages run or rendered. A failing page does not stop the others; afterwards the
    first failure is raised with how many failed, and the index is left as it was."""
    paths = paths or Paths()
    pages, inputs = load_plan(paths), _inputs(paths)
    work = out_of_date(paths, pages, inputs)
    failures: list[str] = []
    if work:
        print(f"report: {len(work)} of {len(pages)} pages to run or render on {jobs} kernel(s)", file=out, flush=True)
        if jobs <= 1:
            _start_worker(str(paths.root))
            try:
                failures = _report((_do(str(paths.root), w) for w in work), len(work), 1, out)
            finally:
                _KERNEL.shutdown()
        else:
            with ProcessPoolExecutor(
                max_workers=min(jobs, len(work)),
                mp_context=multiprocessing.get_context("spawn"),  # no kernel sockets inherited
                initializer=_start_worker,
                initargs=(str(paths.root),),
            ) as pool:
                pending = {pool.submit(_do, str(paths.root), w) for w in work}

                def finished():
                    nonlocal pending
                    while pending:
                        done, pending = wait(pending, return_when=FIRST_COMPLETED)
                        yield from (f.result() for f in done)

                failures = _report(finished(), len(work), min(jobs, len(work)), out)
    if failures:
        more = f" ({len(failures) - 1} more page(s) failed too: see above)" if len(failures) > 1 else ""
        raise CompareError(failures[0] + more)
    if work or index_out_of_date(paths, pages, inputs):
        from .index import write_index  # (pandas and the schemas: not for a no-op)

        write_index(paths)
    return len(work)


def _report(results, total: int, jobs: int, out) -> list[str]:
    """Print each page as it finishes — pages done of the total, its seconds, the time left — and
    return the failures' messages. The time left is the pace since every kernel finished its first
    page (which includes starting the kernel) times the pages left."""
    failures = []
    warm = None  # (time, pages done) when the kernels had all started
    for done, (name, seconds, error) in enumerate(results, start=1):
        now = time.perf_counter()
        left = ""
        if warm and done < total:
            left = f" · about {duration((now - warm[0]) / (done - warm[1]) * (total - done))} left"
        if done == min(jobs, total) and warm is None:
            warm = (now, done)
        status = "FAILED" if error else f"{seconds:5.1f}s"
        print(f"  [{done:>{len(str(total))}}/{total}] {name:<52} {status}{left}", file=out, flush=True)
        if error:
            print(f"    {error}", file=out, flush=True)
            failures.append(error)
    return failures
