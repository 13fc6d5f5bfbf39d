"""Running a page: its notebook executed by papermill with the page's parameters.

Input: a page of the plan (:mod:`compare.report.plan`). Output: ``build/executed/<page>.ipynb``,
the record of what ran (cell ids made stable). A failing notebook stops with its notebook, cell
and error; its executed copy is kept in ``build/failed/`` and its old page deleted, so nothing stale
looks current.
"""

from __future__ import annotations

import json
import os
import sys
import time

from ..config import Paths
from ..errors import CompareError
from ..output import atomic_write_text
from .plan import find_page


def _private_kernel(paths: Paths) -> None:
    """Point Jupyter at a private data dir holding this environment's python3 kernel, so a user's own
    kernelspec never runs the report, and keep the kernel's housekeeping log out of the build output."""
    from ipykernel.kernelspec import get_kernel_dict

    spec = get_kernel_dict()
    spec["argv"] = [*spec["argv"], "--IPKernelApp.log_level=CRITICAL"]
    data_dir = paths.build / "jupyter"
    atomic_write_text(data_dir / "kernels" / "python3" / "kernel.json", json.dumps(spec, indent=1) + "\n")
    os.environ["JUPYTER_DATA_DIR"] = str(data_dir)
    os.environ["JUPYTER_PATH"] = str(data_dir)


def _encryption() -> str:
    import zmq

    return "auto" if zmq.has("curve") else "disabled"


def run_page(name: str, paths: Paths | None = None) -> float:
    """Execute one page's notebook with its parameters into build/executed/<name>.ipynb."""
    paths = paths or Paths()
    page = find_page(paths, name)  # before papermill's imports: a wrong name is refused at once
    import papermill
    from papermill.exceptions import PapermillExecutionError
    from traitlets.config import Config

    out = paths.build / "executed" / f"{name}.ipynb"
    tmp = out.with_name(f".{name}.running.ipynb")
    out.parent.mkdir(parents=True, exist_ok=True)
    _private_kernel(paths)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    os.environ["COMPARE_ROOT"] = str(paths.root)
    t0 = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(paths.notebooks / f"{page.notebook}.ipynb"),
            str(tmp),
            parameters=page.parameters,
            kernel_name="python3",
            cwd=str(paths.notebooks),
            progress_bar=False,
            log_output=False,
            # encrypt the local kernel channel when the kernel supports it (and say nothing about it)
            config=Config({"KernelManager": {"transport_encryption": _encryption()}}),
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
