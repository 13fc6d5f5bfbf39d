"""The report plan: ``notebooks/reports.yaml`` and the processed tables → every page of the site.

Input: the report spec (each notebook, what it reads, which parameter sets it runs for) and the
processed tables. Output: ``build/report-plan.json`` (every page with its notebook, parameters and
titles) and ``build/report-inputs.json`` (what each page is made from, for :mod:`~compare.report.update`):
adding a city or a newly shared metric needs no edit anywhere. City pairs grow linearly: each city
with its k most similar cities, plus the pairs the spec lists.
"""

from __future__ import annotations

import ast
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from ..config import PACKAGE_DIR, Paths
from ..errors import CompareError
from ..output import atomic_write_text

if TYPE_CHECKING:
    import pandas as pd

RUNS = ("once", "shared_metrics", "cities", "city_pairs", "documents_with_parents")
NEAREST = 3  # city_pairs: each city's k most similar cities, unless the spec says `nearest: k`


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
    path = spec_file(paths)
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))["reports"]
    except (yaml.YAMLError, KeyError, TypeError) as e:
        problem = " ".join(str(e).split())  # YAML's message spans lines; the error is one paragraph
        raise CompareError(f"{path}: not a valid report spec ({problem}). See the comment at its top.") from None
    for entry in spec:
        if entry.get("runs") not in RUNS:
            raise CompareError(f"{path}: {entry.get('notebook')}: 'runs' must be one of {', '.join(RUNS)}.")
        if not (paths.notebooks / f"{entry['notebook']}.ipynb").exists():
            raise CompareError(f"{path}: notebooks/{entry['notebook']}.ipynb does not exist.")
        nearest = entry.get("nearest", NEAREST)
        if isinstance(nearest, bool) or not isinstance(nearest, int) or nearest < 0:
            raise CompareError(
                f"{path}: {entry['notebook']}: 'nearest' must be a whole number ≥ 0 (each city's k most "
                f"similar cities get a page), not {nearest!r}."
            )
        pairs = entry.get("pairs") or []
        if not isinstance(pairs, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(c, str) for c in p) for p in pairs
        ):
            raise CompareError(
                f"{path}: {entry['notebook']}: 'pairs' must be a list of two city slugs each, "
                "e.g. pairs: [[qingyang, wuwei]]."
            )
    return spec


def city_pairs(paths: Paths, names: pd.DataFrame, nearest: int, listed: list[list[str]]) -> list[tuple[str, str]]:
    """The pairs of cities that get a page: each city with its `nearest` most similar cities (the best
    score of any of their documents in document_similarity; ties by slug), and the `listed` pairs.
    The number of pages grows with the number of cities, not with its square. Past 501 documents
    the table keeps each document's 500 most similar: a pair of documents both of which have 500
    closer documents is not in it, so two cities whose best pair is such a pair are not counted
    as alike (with a few documents a city, their best pairs are among the kept ones)."""
    import pandas as pd

    from ..tables import table

    sim = table("document_similarity", paths)
    both = pd.concat([sim, sim.rename(columns={"city_a": "city_b", "city_b": "city_a"})])
    both = both[both.city_a.isin(names.index) & both.city_b.isin(names.index) & (both.city_a != both.city_b)]
    best = both.groupby(["city_a", "city_b"], as_index=False).score.max()
    best = best.sort_values(["city_a", "score", "city_b"], ascending=[True, False, True])
    nearest_rows = best.groupby("city_a").head(nearest)
    chosen = {tuple(sorted(ab)) for ab in zip(nearest_rows.city_a, nearest_rows.city_b, strict=True)}
    for a, b in listed:
        if problem := _pair_problem(names, a, b):
            raise CompareError(f"{spec_file(paths)}: pairs: [{a}, {b}]: {problem}.")
        chosen.add(tuple(sorted((a, b))))
    return sorted(chosen)


def _pair_problem(names: pd.DataFrame, a: str, b: str) -> str:
    """What is wrong with pairing cities `a` and `b` ("" when nothing is), naming some cities there are."""
    unknown = [c for c in (a, b) if c not in names.index]
    if not unknown and a != b:
        return ""
    cities = list(names.index)
    some = ", ".join(cities[:8]) + (f" … ({len(cities)} in all)" if len(cities) > 8 else "")
    return (f"no city {', '.join(unknown)} in the corpus" if unknown else "two different cities are needed") + (
        f". Cities: {some}"
    )


def plan(paths: Paths | None = None) -> list[Page]:
    """Every page the site has, from the spec and the processed tables."""
    from ..metrics import by_id
    from ..tables import city_names, table

    paths = paths or Paths()
    names = city_names(paths)  # the cities: the national plan is their reference, not one of them
    targets = table("targets", paths)
    targets = targets[targets.city.isin(names.index)]
    catalogue = by_id()
    cities_per_metric = targets[targets.metric.isin(catalogue)].groupby("metric").city.nunique()
    shared = [m for m in catalogue if cities_per_metric.get(m, 0) >= 2]
    pages = []
    for entry in load_spec(paths):
        runs = entry["runs"]
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
            pairs = city_pairs(paths, names, entry.get("nearest", NEAREST), entry.get("pairs") or [])
            sets = [_pair_set(names, a, b) for a, b in pairs]
        pages += [_page(entry, params, labels) for params, labels in sets]
    return pages


def _page(entry: dict, params: dict, labels: dict) -> Page:
    nb = entry["notebook"]
    return Page(
        "-".join([nb, *[str(v) for v in params.values()]]),
        nb,
        params,
        entry["title"]["zh"].format(**labels),
        entry["title"]["en"].format(**labels),
        " ".join(entry["description"].split()),
    )


def _pair_set(names: pd.DataFrame, a: str, b: str) -> tuple[dict, dict]:
    return (
        {"city_a": a, "city_b": b},
        {
            "city_a_zh": names.loc[a, "city_zh"],
            "city_a_en": names.loc[a, "city_en"],
            "city_b_zh": names.loc[b, "city_zh"],
            "city_b_en": names.loc[b, "city_en"],
        },
    )


def pair_page(paths: Paths, a: str, b: str) -> Page:
    """The page of any two cities, in the plan or not (`make pair A=… B=…`)."""
    from ..tables import city_names

    names = city_names(paths)
    if problem := _pair_problem(names, a, b):
        raise CompareError(
            f"pair {a or '?'} {b or '?'}: {problem}. Example: make pair A={names.index[0]} B={names.index[-1]}"
        )
    entry = next((e for e in load_spec(paths) if e["runs"] == "city_pairs"), None)
    if entry is None:
        raise CompareError(f"{spec_file(paths)}: no notebook runs for city_pairs, so there is no pair page to make.")
    return _page(entry, *_pair_set(names, *sorted((a, b))))


def spec_file(paths: Paths) -> Path:
    return paths.notebooks / "reports.yaml"


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


# What every page's HTML and the index are made with, besides the executed notebooks (relative to the root).
RENDER_INPUTS = [
    "src/compare/report/render.py",
    "src/compare/cite.py",  # every page ends with how to cite it: the version and the documents
    "src/compare/__init__.py",
    "data/processed/documents.parquet",
]
INDEX_INPUTS = [
    "build/report-plan.json",
    "src/compare/report/index.py",
    "src/compare/docs.py",
    "src/compare/schemas.py",
    "src/compare/data/site.css",
    "src/compare/data/site.js",
]


def notebook_inputs(paths: Paths, entry: dict) -> list[str]:
    """What a notebook's pages depend on, relative to the root: the notebook, the tables it reads, the
    compare modules it imports (and theirs) and the files its spec entry names."""
    inputs = [f"notebooks/{entry['notebook']}.ipynb"]
    inputs += [f"data/processed/{t}.parquet" for t in entry["tables"]]
    inputs += [f"src/compare/{m}.py" for m in notebook_modules(paths.notebooks / f"{entry['notebook']}.ipynb")]
    inputs += list(entry.get("files", []))
    return inputs


def write_plan(paths: Paths | None = None) -> list[Page]:
    """build/report-plan.json (every page) and build/report-inputs.json (what each notebook's pages,
    the rendered HTML and the index are made from: what `compare report update` compares dates with)."""
    paths = paths or Paths()
    pages = plan(paths)
    templates = sorted(
        f"src/compare/data/templates/{t.name}" for t in (PACKAGE_DIR / "data" / "templates").glob("*.html")
    )
    inputs = {
        "notebooks": {e["notebook"]: notebook_inputs(paths, e) for e in load_spec(paths)},
        "render": RENDER_INPUTS + templates,
        "index": INDEX_INPUTS + RENDER_INPUTS[1:] + templates,
    }
    atomic_write_text(paths.build / "report-inputs.json", json.dumps(inputs, ensure_ascii=False, indent=1) + "\n")
    # the plan last: the Makefile's target, written once everything it stands for is
    atomic_write_text(
        paths.build / "report-plan.json", json.dumps([asdict(p) for p in pages], ensure_ascii=False, indent=1) + "\n"
    )
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
