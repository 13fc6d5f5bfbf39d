"""The report: parameterized notebooks run by papermill, rendered into a static site.

Input: ``notebooks/reports.yaml`` (the report spec), the notebooks and the processed tables.
Output: ``build/report-plan.json`` and ``build/reports.mk`` (every page with its notebook and
parameters, for the Makefile), ``build/executed/<page>.ipynb``, ``site/<page>.html`` (inputs
hidden) and ``site/index.html``. Notebooks read tables with :mod:`compare.tables`.
"""

from __future__ import annotations

import ast
import html
import http.server
import itertools
import json
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from .config import Paths
from .errors import CompareError
from .output import atomic_write_text
from .tables import city_names, table

RUNS = ("once", "shared_metrics", "cities", "city_pairs")


@dataclass(frozen=True)
class Page:
    name: str  # e.g. 02-metric-double_qualified_teacher_share
    notebook: str  # e.g. 02-metric
    parameters: dict
    title_zh: str
    title_en: str
    description: str


# ---- the plan


def load_spec(paths: Paths) -> list[dict]:
    spec_file = paths.notebooks / "reports.yaml"
    try:
        spec = yaml.safe_load(spec_file.read_text(encoding="utf-8"))["reports"]
    except (yaml.YAMLError, KeyError, TypeError) as e:
        raise CompareError(f"{spec_file}: not a valid report spec ({e}). See the comment at its top.") from None
    for entry in spec:
        if entry.get("runs") not in RUNS:
            raise CompareError(f"{spec_file}: {entry.get('notebook')}: 'runs' must be one of {', '.join(RUNS)}.")
        if not (paths.notebooks / f"{entry['notebook']}.ipynb").exists():
            raise CompareError(f"{spec_file}: notebooks/{entry['notebook']}.ipynb does not exist.")
    return spec


def plan(paths: Paths | None = None) -> list[Page]:
    """Every page the site has, from the spec and the processed tables."""
    from .metrics import by_id

    paths = paths or Paths()
    names = city_names(paths)
    targets = table("targets", paths)
    catalogue = by_id()
    cities_per_metric = targets[targets.metric.isin(catalogue)].groupby("metric").city.nunique()
    shared = [m for m in catalogue if cities_per_metric.get(m, 0) >= 2]
    pages = []
    for entry in load_spec(paths):
        nb, runs = entry["notebook"], entry["runs"]
        if runs == "once":
            sets = [({}, {})]
        elif runs == "shared_metrics":
            sets = [({"metric": m}, {"metric_zh": catalogue[m].zh, "metric_en": catalogue[m].en}) for m in shared]
        elif runs == "cities":
            sets = [({"city": c}, {"city_zh": r.city_zh, "city_en": r.city_en}) for c, r in names.iterrows()]
        else:
            sets = [({"city_a": a, "city_b": b},
                     {"city_a_zh": names.loc[a, "city_zh"], "city_a_en": names.loc[a, "city_en"],
                      "city_b_zh": names.loc[b, "city_zh"], "city_b_en": names.loc[b, "city_en"]})
                    for a, b in itertools.combinations(sorted(names.index), 2)]
        for params, labels in sets:
            name = "-".join([nb, *[str(v) for v in params.values()]])
            pages.append(Page(name, nb, params, entry["title"]["zh"].format(**labels),
                              entry["title"]["en"].format(**labels), " ".join(entry["description"].split())))
    return pages


PACKAGE_DIR = Path(__file__).resolve().parent


def _compare_imports(source: str, inside_package: bool) -> set[str]:
    """Names of the compare modules a piece of code imports (anywhere in it, lazily or not)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and inside_package:
                found |= {node.module.split(".")[0]} if node.module else {a.name for a in node.names}
            elif node.level == 0 and node.module and node.module.split(".")[0] == "compare":
                parts = node.module.split(".")
                found |= {parts[1]} if len(parts) > 1 else {a.name for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("compare.")}
    return {m for m in found if (PACKAGE_DIR / f"{m}.py").exists()}


def notebook_modules(notebook: Path) -> list[str]:
    """The compare modules a notebook runs: those it imports and, in turn, theirs."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    todo = _compare_imports("\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code"), False)
    todo.add("__init__")  # importing any compare module runs the package's __init__ first
    seen: set[str] = set()
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo |= _compare_imports((PACKAGE_DIR / f"{module}.py").read_text(encoding="utf-8"), True)
    return sorted(seen)


def write_plan(paths: Paths | None = None) -> list[Page]:
    """build/report-plan.json and build/reports.mk, which the Makefile includes."""
    paths = paths or Paths()
    pages = plan(paths)
    spec = load_spec(paths)
    atomic_write_text(paths.build / "report-plan.json",
                      json.dumps([asdict(p) for p in pages], ensure_ascii=False, indent=1) + "\n")
    lines = ["# Generated by `compare report plan` from notebooks/reports.yaml: do not edit.",
             f"PAGES := {' '.join(p.name for p in pages)}"]
    for entry in spec:
        deps = [f"data/processed/{t}.parquet" for t in entry["tables"]]
        deps += [f"src/compare/{m}.py" for m in notebook_modules(paths.notebooks / f"{entry['notebook']}.ipynb")]
        deps += list(entry.get("files", []))
        lines.append(f"DEPS_{entry['notebook']} := {' '.join(deps)}")
    lines += [f"build/executed/{p.name}.ipynb: notebooks/{p.notebook}.ipynb $(DEPS_{p.notebook})" for p in pages]
    atomic_write_text(paths.build / "reports.mk", "\n".join(lines) + "\n")
    return pages


def load_plan(paths: Paths) -> list[Page]:
    """The pages of the plan `write_plan` last wrote."""
    plan_file = paths.build / "report-plan.json"
    if not plan_file.exists():
        raise CompareError(f"{plan_file}: no report plan yet. Run `compare report plan` (make report does).")
    return [Page(**p) for p in json.loads(plan_file.read_text(encoding="utf-8"))]


def _page(paths: Paths, name: str) -> Page:
    for p in load_plan(paths):
        if p.name == name:
            return p
    raise CompareError(f"{name}: not a page of the current report plan ({plan_file}). "
                       "Run `compare report plan` after building the data.")


# ---- running and rendering


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
    import papermill
    from papermill.exceptions import PapermillExecutionError
    from traitlets.config import Config

    paths = paths or Paths()
    page = _page(paths, name)
    out = paths.build / "executed" / f"{name}.ipynb"
    tmp = out.with_name(f".{name}.running.ipynb")
    out.parent.mkdir(parents=True, exist_ok=True)
    _private_kernel(paths)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    os.environ["COMPARE_ROOT"] = str(paths.root)
    t0 = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(paths.notebooks / f"{page.notebook}.ipynb"), str(tmp), parameters=page.parameters,
            kernel_name="python3", cwd=str(paths.notebooks), progress_bar=False, log_output=False,
            # encrypt the local kernel channel when the kernel supports it (and say nothing about it)
            config=Config({"KernelManager": {"transport_encryption": _encryption()}}))
    except PapermillExecutionError as e:
        failed = paths.build / "failed" / f"{name}.ipynb"
        failed.parent.mkdir(parents=True, exist_ok=True)
        if tmp.exists():
            os.replace(tmp, failed)
        # never leave a page that looks current
        (paths.site / f"{name}.html").unlink(missing_ok=True)
        evalue = e.evalue.splitlines()[0] if e.evalue else ""
        raise CompareError(f"notebooks/{page.notebook}.ipynb ({name}) failed in cell {e.exec_count}: "
                           f"{e.ename}: {evalue}. The executed notebook with the full traceback is "
                           f"{failed.relative_to(paths.root)}; rerun it in JupyterLab (make lab) with the "
                           f"parameters {page.parameters}.") from None
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


SITE_CSS = Path(__file__).resolve().parent / "data" / "site.css"


def _page_html(title: str, body: str, nav: bool = True) -> str:
    back = '<nav class="compare-nav"><a href="index.html">← 全部报告 All reports</a></nav>' if nav else ""
    return (f'<!DOCTYPE html>\n<html lang="zh-Hans">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>{html.escape(title)}</title>\n'
            f'<link rel="stylesheet" href="style.css">\n</head>\n<body>\n{back}\n<main>\n{body}\n</main>\n</body>\n</html>\n')


def render_page(name: str, paths: Paths | None = None) -> None:
    """site/<name>.html from the executed notebook, inputs hidden."""
    import nbformat
    from nbconvert import HTMLExporter

    paths = paths or Paths()
    page = _page(paths, name)
    nb = nbformat.read(paths.build / "executed" / f"{name}.ipynb", as_version=4)
    exporter = HTMLExporter(template_name="basic", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nb)
    atomic_write_text(paths.site / f"{name}.html", _page_html(f"{page.title_zh} · {page.title_en}", body))


def write_index(paths: Paths | None = None) -> None:
    """site/index.html: every page with a one-line description; stale pages and figures removed."""
    paths = paths or Paths()
    pages = load_plan(paths)
    spec = {e["notebook"]: e for e in load_spec(paths)}
    keep = {p.name for p in pages}
    for old in paths.site.glob("*.html"):
        if old.stem not in keep and old.name != "index.html":
            old.unlink()
    for fig in paths.figures.glob("*.*"):
        if fig.suffix in (".png", ".svg") and not any(fig.stem.startswith(k + "-") or fig.stem == k for k in keep):
            fig.unlink()
    docs = table("documents", paths)
    sections = []
    for nb, group in itertools.groupby(pages, key=lambda p: p.notebook):
        entry = spec[nb]
        items = "".join(
            f'<li><a href="{html.escape(p.name)}.html">{html.escape(p.title_zh)} · {html.escape(p.title_en)}</a></li>'
            for p in group)
        heading = f"{entry['heading']['zh']} {entry['heading']['en']}"
        sections.append(f"<section><h2>{html.escape(heading)}</h2>"
                        f"<p>{html.escape(' '.join(entry['description'].split()))}</p><ul>{items}</ul></section>")
    doc_rows = "".join(
        f"<tr><td>{html.escape(d.city_zh)} {html.escape(d.city_en)}</td><td>{html.escape(d.title)}</td>"
        f"<td>{html.escape(d.doc_number or '—')}</td><td>{html.escape(d.issued_date or '—')}</td>"
        f"<td>{html.escape(d.status)}</td></tr>" for d in docs.itertuples())
    body = f"""<h1>职业教育改革方案比较<br>Comparing Chinese cities' vocational-education reform plans</h1>
<p>What {len(docs)} local governments promise in their vocational-education (职业教育) plans, lined up
target by target and passage by passage. Every number on these pages is traced to its sentence in the
documents; every chart is rebuilt from the raw texts by <code>make report</code>.</p>
<h2>The documents 文件</h2>
<table><tr><th>City 城市</th><th>Title 标题</th><th>Number 文号</th><th>Issued 日期</th><th>Status 状态</th></tr>
{doc_rows}</table>
{"".join(sections)}"""
    atomic_write_text(paths.site / "index.html",
                      _page_html("职业教育改革方案比较 · Comparing vocational-education reform plans", body, nav=False))
    atomic_write_text(paths.site / "style.css", SITE_CSS.read_text(encoding="utf-8"))


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the checkout to a local browser without logging every request."""

    def log_message(self, *args) -> None:
        pass


def screenshots(paths: Paths | None = None) -> list[Path]:
    """PNG screenshots of the index and of the first page of each notebook, as headless Chromium shows them."""
    import functools
    import threading

    from playwright.sync_api import sync_playwright

    paths = paths or Paths()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise CompareError("chromium is not installed: run `make browser` (Debian: apt-get install chromium fonts-noto-cjk).")
    pages = load_plan(paths)
    firsts = ["index"] + [next(g).name for _, g in itertools.groupby(pages, key=lambda p: p.notebook)]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(paths.root)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    out_dir = paths.build / "screenshots"
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=[
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"])
            tab = browser.new_page(viewport={"width": 1280, "height": 900})
            for name in firsts:
                tab.goto(f"http://127.0.0.1:{httpd.server_address[1]}/site/{name}.html", wait_until="load")
                target = out_dir / f"{name}.png"
                tab.screenshot(path=str(target), full_page=True)
                written.append(target)
            browser.close()
    finally:
        httpd.shutdown()
    return written


def progress(name: str, seconds: float) -> None:
    print(f"  {name:<58} {seconds:5.1f}s", file=sys.stdout, flush=True)


def remove_outputs(paths: Paths) -> None:
    """Delete the generated site and figures (CI does this before checking a fresh build reproduces them)."""
    for folder in (paths.site, paths.figures):
        if folder.exists():
            for f in folder.iterdir():
                if f.is_file() and f.name != ".gitkeep":
                    f.unlink()
    shutil.rmtree(paths.build / "executed", ignore_errors=True)

