"""The report plan: ``notebooks/reports.yaml`` and the processed tables → every page of the site.

Input: the report spec (each notebook, what it reads, which parameter sets it runs for) and the
processed tables. Output: ``build/report-plan.json`` (every page with its notebook, parameters and
titles) and ``build/reports.mk`` (each page's prerequisites, for the Makefile): adding a city or a
newly shared metric needs no edit anywhere.
"""

from __future__ import annotations

import ast
import itertools
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from ..config import PACKAGE_DIR, Paths
from ..errors import CompareError
from ..output import atomic_write_text
from ..tables import city_names, table

RUNS = ("once", "shared_metrics", "cities", "city_pairs", "documents_with_parents")


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
        problem = " ".join(str(e).split())  # YAML's message spans lines; the error is one paragraph
        raise CompareError(f"{spec_file}: not a valid report spec ({problem}). See the comment at its top.") from None
    for entry in spec:
        if entry.get("runs") not in RUNS:
            raise CompareError(f"{spec_file}: {entry.get('notebook')}: 'runs' must be one of {', '.join(RUNS)}.")
        if not (paths.notebooks / f"{entry['notebook']}.ipynb").exists():
            raise CompareError(f"{spec_file}: notebooks/{entry['notebook']}.ipynb does not exist.")
    return spec


def plan(paths: Paths | None = None) -> list[Page]:
    """Every page the site has, from the spec and the processed tables."""
    from ..metrics import by_id

    paths = paths or Paths()
    names = city_names(paths)  # the cities: the national plan is their reference, not one of them
    targets = table("targets", paths)
    targets = targets[targets.city.isin(names.index)]
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
        elif runs == "documents_with_parents":
            docs = table("documents", paths).set_index("doc_id")
            parents = table("document_parents", paths)
            with_parent = sorted(set(parents.doc_id[parents.parent_doc_id != ""]))
            sets = [
                ({"doc_id": d}, {"city_zh": docs.loc[d, "city_zh"], "city_en": docs.loc[d, "city_en"], "doc_id": d})
                for d in with_parent
            ]
        else:
            sets = [
                (
                    {"city_a": a, "city_b": b},
                    {
                        "city_a_zh": names.loc[a, "city_zh"],
                        "city_a_en": names.loc[a, "city_en"],
                        "city_b_zh": names.loc[b, "city_zh"],
                        "city_b_en": names.loc[b, "city_en"],
                    },
                )
                for a, b in itertools.combinations(sorted(names.index), 2)
            ]
        for params, labels in sets:
            name = "-".join([nb, *[str(v) for v in params.values()]])
            pages.append(
                Page(
                    name,
                    nb,
                    params,
                    entry["title"]["zh"].format(**labels),
                    entry["title"]["en"].format(**labels),
                    " ".join(entry["description"].split()),
                )
            )
    return pages


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
    atomic_write_text(
        paths.build / "report-plan.json", json.dumps([asdict(p) for p in pages], ensure_ascii=False, indent=1) + "\n"
    )
    lines = [
        "# Generated by `compare report plan` from notebooks/reports.yaml: do not edit.",
        f"PAGES := {' '.join(p.name for p in pages)}",
    ]
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


def find_page(paths: Paths, name: str) -> Page:
    """A page of the current plan, by name; a name the plan lacks is a clear error."""
    pages = load_plan(paths)
    for p in pages:
        if p.name == name:
            return p
    notebook = "-".join(name.split("-")[:2])
    similar = [p.name for p in pages if p.notebook == notebook]
    hint = f" Pages of that notebook: {', '.join(similar[:8])}{' …' if len(similar) > 8 else ''}." if similar else ""
    raise CompareError(
        f"{name}: not a page of the current report plan ({paths.build / 'report-plan.json'}).{hint} "
        "Run `compare report plan` after building the data, or check the page name."
    )
