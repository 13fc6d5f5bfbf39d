"""Running a page: its notebook executed by papermill with the page's parameters.

Input: a page of the plan (:mod:`compare.report.plan`). Output: ``build/executed/<page>.ipynb``,
the record of what ran (cell ids made stable). A failing notebook stops with its notebook, cell
and error; its executed copy is kept in ``build/failed/`` and its old page deleted, so nothing stale
looks current.

A page costs a kernel's start and its imports more than its own work, so :class:`Kernel` keeps one
kernel for page after page: between pages its namespace is cleared, its figures closed and its
execution count reset, and each executed notebook is the one a fresh kernel records (a test compares
the two byte for byte).
"""

from __future__ import annotations

import json
import os
import sys
import time
from functools import lru_cache

from ..config import Paths
from ..errors import CompareError
from ..output import atomic_write_text
from .plan import Page, find_page


def _private_kernel(paths: Paths) -> None:
    """Point Jupyter at a private data dir holding this environment's python3 kernel, so a user's own
    kernelspec never runs the report, and keep the kernel's housekeeping log out of the build output."""
    from ipykernel.kernelspec import get_kernel_dict

    spec = get_kernel_dict()
    # no history database: a report kernel's history is its executed notebook, and a kept kernel's
    # restarted execution count would collide with the history it wrote
    spec["argv"] = [*spec["argv"], "--IPKernelApp.log_level=CRITICAL", "--HistoryManager.enabled=False"]
    data_dir = paths.build / "jupyter"
    atomic_write_text(data_dir / "kernels" / "python3" / "kernel.json", json.dumps(spec, indent=1) + "\n")
    os.environ["JUPYTER_DATA_DIR"] = str(data_dir)
    os.environ["JUPYTER_PATH"] = str(data_dir)


def _encryption() -> str:
    import zmq

    return "auto" if zmq.has("curve") else "disabled"


def _kernel_config():
    from traitlets.config import Config

    # encrypt the local kernel channel when the kernel supports it (and say nothing about it)
    return Config({"KernelManager": {"transport_encryption": _encryption()}})


def _environment(paths: Paths) -> None:
    """What a report kernel inherits: the private kernelspec, a fixed hash seed, the project root."""
    _private_kernel(paths)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    os.environ["COMPARE_ROOT"] = str(paths.root)


def _quiet_kernel_teardown() -> None:
    """jupyter_client's zmq streams log "Uncaught exception in ZMQStream callback" with a traceback
    (tornado's general logger) when a kernel is shut down while a reply is still in flight — seen
    once, on a failing page run while the machine was busy. The page's own error is reported as a
    clean message; that traceback is teardown noise, so it is not shown."""
    import logging

    logging.getLogger("tornado.general").setLevel(logging.CRITICAL)


# Run before each page but the first on a kept kernel: what a fresh kernel would not have.
_RESET = """\
get_ipython().reset(new_session=False)
import matplotlib.pyplot
matplotlib.pyplot.close("all")
del matplotlib
get_ipython().execution_count = 1
"""


class Kernel:
    """One report kernel kept for many pages (see the module's docstring)."""

    def __init__(self, paths: Paths):
        self.paths = paths
        self.km = None
        self.kc = None
        self.pages = 0

    def _start(self) -> None:
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        _environment(self.paths)
        self.km = AsyncKernelManager(kernel_name="python3", config=_kernel_config())
        run_sync(self.km.start_kernel)(cwd=str(self.paths.notebooks))
        self.kc = self.km.client()
        self.kc.start_channels()
        run_sync(self.kc.wait_for_ready)(timeout=120)
        self.pages = 0

    def ready(self) -> Kernel:
        """The kernel, started (again, if it died) and reset for the next page."""
        from jupyter_core.utils import run_sync

        if self.km is None or not run_sync(self.km.is_alive)():
            self.shutdown()
            self._start()
        elif self.pages:
            reply = run_sync(self.kc.execute_interactive)(_RESET, store_history=False, timeout=60)
            if reply["content"]["status"] != "ok":
                self.shutdown()
                self._start()
        self.pages += 1
        return self

    def shutdown(self) -> None:
        from jupyter_core.utils import run_sync

        if self.kc is not None:
            self.kc.stop_channels()
        if self.km is not None:
            try:
                run_sync(self.km.shutdown_kernel)(now=True)
            except RuntimeError:
                pass  # already gone
        self.km = self.kc = None


@lru_cache(maxsize=1)
def _engine() -> str:
    """papermill's nbclient engine, running on the kernel it is handed (``kernel=``) if any."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines

    class KeptKernelEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, kernel: Kernel, log_output=False, **kwargs):
            import logging

            client = PapermillNotebookClient(
                nb_man,
                km=kernel.km,
                kernel_name=kernel_name,
                log=logging.getLogger("papermill"),
                log_output=log_output,
                startup_timeout=120,
            )
            client.kc = kernel.kc  # the kept client: not a new set of sockets per page
            return client.execute()

    papermill_engines.register("compare-kept-kernel", KeptKernelEngine)
    return "compare-kept-kernel"


def run_page(page: Page | str, paths: Paths | None = None, kernel: Kernel | None = None) -> float:
    """Execute a page's notebook (a page of the plan, or its name) with its parameters into
    build/executed/<name>.ipynb: on a fresh kernel, or on `kernel`, kept from page to page."""
    paths = paths or Paths()
    if isinstance(page, str):
        page = find_page(paths, page)  # before papermill's imports: a wrong name is refused at once
    name = page.name
    import papermill
    from papermill.exceptions import PapermillExecutionError

    out = paths.build / "executed" / f"{name}.ipynb"
    tmp = out.with_name(f".{name}.running.ipynb")
    out.parent.mkdir(parents=True, exist_ok=True)
    _environment(paths)
    _quiet_kernel_teardown()
    t0 = time.perf_counter()
    engine = {"engine_name": _engine(), "kernel": kernel.ready()} if kernel else {"config": _kernel_config()}
    try:
        papermill.execute_notebook(
            str(paths.notebooks / f"{page.notebook}.ipynb"),
            str(tmp),
            parameters=page.parameters,
            kernel_name="python3",
            cwd=str(paths.notebooks),
            progress_bar=False,
            log_output=False,
            **engine,
        )
    except PapermillExecutionError as e:
        failed = paths.build / "failed" / f"{name}.ipynb"
        failed.parent.mkdir(parents=True, exist_ok=True)
        if tmp.exists():
            os.replace(tmp, failed)
        # never leave a page that looks current
        (paths.site / f"{name}.html").unlink(missing_ok=True)
        evalue = e.evalue.splitlines()[0] if e.evalue else ""
        raise CompareError(
            f"notebooks/{page.notebook}.ipynb ({name}) failed in cell {e.exec_count}: "
            f"{e.ename}: {evalue}. The executed notebook with the full traceback is "
            f"{failed.relative_to(paths.root)}; rerun it in JupyterLab (make lab) with the "
            f"parameters {page.parameters}."
        ) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    import nbformat

    executed = nbformat.read(tmp, as_version=4)
    for i, cell in enumerate(executed.cells):  # papermill's injected cell gets a random id; ids must be stable
        cell["id"] = f"cell-{i:02d}"
    nbformat.write(executed, tmp)
    os.replace(tmp, out)
    (paths.build / "failed" / f"{name}.ipynb").unlink(missing_ok=True)
    return time.perf_counter() - t0


def progress(name: str, seconds: float) -> None:
    print(f"  {name:<58} {seconds:5.1f}s", file=sys.stdout, flush=True)
