"""The report: its spec and plan, the notebooks' form, running and rendering pages, failures, figures."""

from __future__ import annotations

import ast
import json
import re
import shutil

import nbformat
import pytest

from compare import plotting, tables
from compare.config import Paths
from compare.errors import CompareError
from compare.report.index import write_index
from compare.report.plan import load_spec, plan, write_plan
from compare.tables import names_of

from .conftest import REPO, run_cli

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def project(built, tmp_path_factory):
    """A built scratch project with the notebooks and spec, for running pages."""
    paths, _ = built
    root = tmp_path_factory.mktemp("report")
    shutil.copytree(paths.root / "data", root / "data")
    shutil.copytree(REPO / "notebooks", root / "notebooks")
    return Paths(root)


# ---- the notebooks as committed


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_form(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.kernelspec.name == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "outputs committed"
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    for node in ast.parse(tagged[0].source).body:  # plain values only: ASCII slugs, numbers, booleans
        assert isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant), ast.dump(node)
        value = node.value.value
        assert isinstance(value, (int, float, bool)) or (isinstance(value, str) and value.isascii())


def test_every_notebook_is_in_the_spec():
    spec = load_spec(Paths(REPO))
    assert sorted(e["notebook"] for e in spec) == [p.stem for p in NOTEBOOKS]


# ---- the plan


def test_plan_has_a_page_per_parameter_set(project):
    pages = plan(project)
    names = [p.name for p in pages]
    assert names[0] == "01-overview"
    metrics = [n for n in names if n.startswith("02-metric-")]
    # every catalogue metric two or more cities set (the national plan is not a city: per-student
    # funding, set by Qinhuangdao and the national plan, gets no page)
    assert "02-metric-double_qualified_teacher_share" in metrics and len(metrics) == 21
    assert "02-metric-per_student_funding_higher" not in metrics
    assert not [n for n in names if "national" in n]  # no city page, no pair page for the reference
    assert [n for n in names if n.startswith("06-lineage-")] == [
        "06-lineage-qingyang",
        "06-lineage-qinhuangdao",
        "06-lineage-shangdang",
        "06-lineage-wuwei",
        "06-lineage-zhongwei",
    ]
    assert [n for n in names if n.startswith("03-city-")] == [
        "03-city-qingyang",
        "03-city-qinhuangdao",
        "03-city-shangdang",
        "03-city-wuwei",
        "03-city-zhongwei",
    ]
    # each city with its three most similar cities (document_similarity, read by hand): Shangdang's
    # three are Zhongwei .419, Qinhuangdao .383, Qingyang .354; Wuwei's are Qingyang .508, Zhongwei
    # .392, Qinhuangdao .385 — so Shangdang and Wuwei (.344, each other's last) is the pair left out
    pairs = [n for n in names if n.startswith("04-pair-")]
    assert len(pairs) == 9 and "04-pair-qingyang-wuwei" in pairs and "04-pair-shangdang-wuwei" not in pairs
    page = next(p for p in pages if p.name == "03-city-shangdang")
    assert (page.title_zh, page.title_en, page.parameters) == (
        "城市：长治市上党区",
        "City: Shangdang",
        {"city": "shangdang"},
    )


def test_metrics_set_by_one_city_get_no_page(project):
    names = {p.name for p in plan(project)}
    assert "02-metric-vocational_general_ratio" not in names  # only Qingyang sets it


def _spec_with(project, notebook: str, **changes) -> Paths:
    """A copy of the project whose reports.yaml sets `changes` on one notebook's entry."""
    import yaml

    root = project.root.parent / f"spec-{notebook}-{abs(hash(repr(sorted(changes.items()))))}"
    if not root.exists():
        shutil.copytree(project.root / "data", root / "data")
        shutil.copytree(project.root / "notebooks", root / "notebooks")
    spec = yaml.safe_load((REPO / "notebooks" / "reports.yaml").read_text(encoding="utf-8"))
    for entry in spec["reports"]:
        for f in entry.get("files", []):  # files the notebooks read, such as benchmarks/results.csv
            (root / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(REPO / f, root / f)
        if entry["notebook"] == notebook:
            entry.update(changes)
    (root / "notebooks" / "reports.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return Paths(root)


def test_pair_pages_grow_with_the_cities_not_their_square(project):
    def pairs(paths):
        return [p.name for p in plan(paths) if p.notebook == "04-pair"]

    assert pairs(_spec_with(project, "04-pair", nearest=1)) == [
        "04-pair-qingyang-wuwei",  # Qingyang's and Wuwei's nearest is each other
        "04-pair-qinhuangdao-zhongwei",  # Qinhuangdao's
        "04-pair-shangdang-zhongwei",  # Shangdang's and Zhongwei's
    ]
    assert len(pairs(_spec_with(project, "04-pair", nearest=4))) == 10  # every pair of five cities
    assert pairs(_spec_with(project, "04-pair", nearest=0, pairs=[["wuwei", "shangdang"]])) == [
        "04-pair-shangdang-wuwei"
    ]
    for changes, problem in (
        ({"pairs": [["wuwei", "atlantis"]]}, "pairs: [wuwei, atlantis]: no city atlantis in the corpus"),
        ({"nearest": "three"}, "'nearest' must be a whole number"),
        ({"pairs": ["wuwei"]}, "'pairs' must be a list of two city slugs each"),
    ):
        with pytest.raises(CompareError, match=re.escape(problem)):
            plan(_spec_with(project, "04-pair", **changes))


def test_plan_lists_what_each_page_is_made_from(project):
    write_plan(project)
    inputs = json.loads((project.build / "report-inputs.json").read_text(encoding="utf-8"))
    deps = inputs["notebooks"]
    assert deps["06-lineage"][:4] == [
        "notebooks/06-lineage.ipynb",
        "data/processed/documents.parquet",
        "data/processed/sections.parquet",
        "data/processed/document_parents.parquet",
    ]
    assert deps["04-pair"][1:5] == [
        "data/processed/documents.parquet",
        "data/processed/sections.parquet",
        "data/processed/section_pairs.parquet",
        "data/processed/shared_passages.parquet",
    ]
    assert "benchmarks/results.csv" in deps["05-scaling"]  # a file it reads
    # Modules come from the notebook's imports and theirs: 02-metric runs the lexicon through plotting …
    assert {"src/compare/notebook.py", "src/compare/plotting.py", "src/compare/lexicon.py"} <= set(deps["02-metric"])
    # … and 04-pair reads its scores from a table: it runs neither the tokenizer nor the pipeline.
    assert not {"src/compare/tokens.py", "src/compare/section_pairs.py", "src/compare/pipeline.py"} & set(
        deps["04-pair"]
    )
    assert "src/compare/data/templates/page.html" in inputs["render"] and "src/compare/data/site.js" in inputs["index"]
    for files in [*deps.values(), inputs["render"], inputs["index"]]:  # every input exists (or is built)
        assert all((REPO / f).exists() or f.startswith(("data/processed/", "build/")) for f in files), files


# ---- running and rendering


@pytest.mark.report
def test_a_page_runs_renders_and_cites_its_figure(project):
    write_plan(project)
    proc = run_cli(project, "report", "run", "02-metric-coordination_meetings")
    assert proc.returncode == 0, proc.stderr
    assert "02-metric-coordination_meetings" in proc.stdout and proc.stdout.strip().endswith("s")
    assert run_cli(project, "report", "render", "02-metric-coordination_meetings").returncode == 0
    page = (project.site / "02-metric-coordination_meetings.html").read_text(encoding="utf-8")
    assert 'src="../figures/02-metric-coordination_meetings.png"' in page
    assert "每年召开联席（领导小组）会议次数" in page and "Coordination meetings held per year" in page
    assert "每年至少召开两次会议" in page  # the quoted source sentence
    assert (project.figures / "02-metric-coordination_meetings.svg").exists()
    assert "Traceback" not in page and "application/vnd.jupyter.stderr" not in page  # no error output on the page


@pytest.mark.report
def test_a_failing_notebook_names_itself_and_its_error(project):
    write_plan(project)
    nb_path = project.notebooks / "01-overview.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("raise ValueError('the data are not what this cell expects')"))
    nbformat.write(nb, nb_path)
    stale = project.site / "01-overview.html"
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_text("an old page", encoding="utf-8")
    proc = run_cli(project, "report", "run", "01-overview")
    assert proc.returncode == 2
    assert "notebooks/01-overview.ipynb (01-overview) failed in cell" in proc.stderr
    assert "ValueError: the data are not what this cell expects" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not stale.exists()  # no page that looks current
    assert not (project.build / "executed" / "01-overview.ipynb").exists()
    assert (project.build / "failed" / "01-overview.ipynb").exists()


@pytest.mark.report
def test_a_kept_kernel_records_what_a_fresh_kernel_records(project):
    """`compare report update` runs page after page on one kernel; each executed notebook and page
    must be the one a fresh kernel makes (cells, execution counts, outputs, HTML)."""
    from compare.report.render import render_page
    from compare.report.run import Kernel, run_page

    write_plan(project)

    def record(name):
        nb = nbformat.read(project.build / "executed" / f"{name}.ipynb", as_version=4)
        html = (project.site / f"{name}.html").read_text(encoding="utf-8")
        return [(c.source, c.get("execution_count"), c.get("outputs")) for c in nb.cells], html

    run_page("03-city-wuwei", project)
    render_page("03-city-wuwei", project)
    fresh = record("03-city-wuwei")
    kernel = Kernel(project)
    try:
        for name in ("02-metric-coordination_meetings", "03-city-wuwei"):  # a page before it leaves nothing behind
            run_page(name, project, kernel)
            render_page(name, project)
        assert kernel.pages == 2
    finally:
        kernel.shutdown()
    assert record("03-city-wuwei") == fresh


def _all_built(paths: Paths, after: float | None = None) -> None:
    """Pretend every page of the plan was run and rendered after its inputs changed (at `after`)."""
    import os
    import time

    later = (after or time.time()) + 5
    for page in json.loads((paths.build / "report-plan.json").read_text(encoding="utf-8")):
        for f in (paths.build / "executed" / f"{page['name']}.ipynb", paths.site / f"{page['name']}.html"):
            f.parent.mkdir(parents=True, exist_ok=True)
            if not f.exists():
                f.write_text("{}", encoding="utf-8")
            os.utime(f, (later, later))
            later += 1  # each HTML newer than its executed notebook


def test_update_picks_the_pages_whose_inputs_changed(project):
    import os
    import time

    from compare.report.update import out_of_date

    paths = _spec_with(project, "01-overview")  # a copy: its pages are pretended
    write_plan(paths)
    _all_built(paths)
    assert out_of_date(paths) == []  # the no-op
    later = time.time() + 1000
    os.utime(paths.table("shared_passages", "parquet"), (later, later))  # only 04-pair reads it
    stale = out_of_date(paths)
    assert {w.page.name for w in stale} == {p.name for p in plan(paths) if p.notebook == "04-pair"}
    assert all(w.execute for w in stale)
    _all_built(paths, after=later)
    os.utime(paths.build / "executed" / "03-city-wuwei.ipynb", (later + 1000, later + 1000))  # run, not yet rendered
    assert [(w.page.name, w.execute) for w in out_of_date(paths)] == [("03-city-wuwei", False)]
    (paths.site / "03-city-wuwei.html").unlink()
    (paths.build / "executed" / "01-overview.ipynb").unlink()
    # pages run once (the long ones) start first
    assert [(w.page.name, w.execute) for w in out_of_date(paths)] == [("01-overview", True), ("03-city-wuwei", False)]


@pytest.mark.report
def test_update_runs_renders_indexes_and_shows_progress(project):
    paths = _spec_with(project, "03-city")
    write_plan(paths)
    keep = ["02-metric-coordination_meetings", "02-metric-quality_courses", "03-city-wuwei"]
    plan_file = paths.build / "report-plan.json"
    plan_file.write_text(
        json.dumps([p for p in json.loads(plan_file.read_text(encoding="utf-8")) if p["name"] in keep]),
        encoding="utf-8",
    )
    proc = run_cli(paths, "report", "update", "--jobs", "2")
    assert proc.returncode == 0, proc.stderr
    assert "report: 3 of 3 pages to run or render on 2 kernel(s)" in proc.stdout
    assert re.search(r"\[1/3\] \S+ +\d+\.\ds\n", proc.stdout) and "[3/3]" in proc.stdout, proc.stdout
    assert all((paths.site / f"{n}.html").exists() for n in keep) and (paths.site / "index.html").exists()
    index = (paths.site / "index.html").read_text(encoding="utf-8")
    assert 'href="03-city-wuwei.html"' in index and (paths.site / "site.js").exists()
    again = run_cli(paths, "report", "update", "--jobs", "2")
    assert again.returncode == 0 and again.stdout == ""  # nothing out of date: nothing done
    # a failing page does not stop the others, and is named with its error
    for nb_name, extra in (("03-city", "raise ValueError('not what this cell expects')"), ("02-metric", "1 + 1")):
        nb_path = paths.notebooks / f"{nb_name}.ipynb"
        nb = nbformat.read(nb_path, as_version=4)
        nb.cells.append(nbformat.v4.new_code_cell(extra))
        nbformat.write(nb, nb_path)
    proc = run_cli(paths, "report", "update", "--jobs", "1")
    assert proc.returncode == 2
    assert "notebooks/03-city.ipynb (03-city-wuwei) failed in cell" in proc.stderr
    assert "ValueError: not what this cell expects" in proc.stderr
    assert "FAILED" in proc.stdout
    # the time left, once the kernel has started (its first page pays for that)
    assert re.search(r"\[2/3\] \S+ +(\d+\.\ds|FAILED) · about \d+ s left", proc.stdout), proc.stdout
    assert not (paths.site / "03-city-wuwei.html").exists()  # no page that looks current
    executed = nbformat.read(paths.build / "executed" / "02-metric-quality_courses.ipynb", as_version=4)
    assert executed.cells[-1].source == "1 + 1"  # the others ran


@pytest.mark.report
def test_any_pair_on_demand(project):
    write_plan(project)
    proc = run_cli(project, "report", "pair", "wuwei", "shangdang")
    assert proc.returncode == 0, proc.stderr
    page = (project.site / "04-pair-shangdang-wuwei.html").read_text(encoding="utf-8")
    assert "长治市上党区 与 武威市" in page
    assert "list [shangdang, wuwei] under pairs in notebooks/reports.yaml" in proc.stdout
    proc = run_cli(project, "report", "pair", "wuwei", "atlantis")
    assert proc.returncode == 2 and "pair wuwei atlantis: no city atlantis in the corpus" in proc.stderr


def test_a_page_the_plan_lacks_is_refused_by_name(project):
    """`compare report run 03-city-nowhere` once died with an internal NameError."""
    write_plan(project)
    for action in ("run", "render"):
        proc = run_cli(project, "report", action, "03-city-nowhere")
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.startswith("error: 03-city-nowhere: not a page of the current report plan")
        assert "Pages of that notebook: 03-city-qingyang, 03-city-qinhuangdao" in proc.stderr
        assert "internal error" not in proc.stderr


def test_commands_that_need_a_plan_say_so(tmp_path):
    empty = Paths(tmp_path)
    for args in (("report", "run", "01-overview"), ("report", "index"), ("report", "screenshots")):
        proc = run_cli(empty, *args)
        assert proc.returncode == 2 and "no report plan yet. Run `compare report plan`" in proc.stderr, args


def test_index_escapes_registry_text(project):
    write_plan(project)
    docs = tables.table("documents", project)
    docs.loc[0, "title"] = "<script>alert(1)</script>"
    docs.to_parquet(project.table("documents", "parquet"))
    write_index(project)
    index = (project.site / "index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in index and "<script>" not in index


# ---- figures


def test_font_is_bundled_and_set_after_the_theme():
    import matplotlib.pyplot as plt

    plotting.setup()
    assert plt.rcParams["font.sans-serif"][0] == "Noto Sans CJK SC"
    assert plt.rcParams["axes.unicode_minus"] is True


def test_figures_are_byte_reproducible(tmp_path):
    import matplotlib.pyplot as plt

    plotting.setup()
    outputs = []
    for run in range(2):
        fig, ax = plt.subplots()
        ax.plot([-1, 2], [3, -4])
        ax.set_title("“双师型”教师占比 Share of double-qualified teachers −5%")
        plotting.save(fig, f"check{run}", alt="test", sources="来源 Sources: test", paths=Paths(tmp_path))
        outputs.append(
            (
                (tmp_path / "figures" / f"check{run}.png").read_bytes(),
                (tmp_path / "figures" / f"check{run}.svg").read_bytes(),
            )
        )
    assert outputs[0] == outputs[1]
    assert b"Date" not in outputs[0][1] and b"<text" not in outputs[0][1]


def test_svg_ids_do_not_depend_on_the_last_bits_of_the_layout():
    """matplotlib names a clip path by a hash of its rectangle at full precision: the same chart
    laid out on another CPU (a last-bit difference, printed identically) got another id (seen:
    the overview map in CI). The ids are renamed by order of definition, references with them."""

    def drawn(x: float) -> bytes:
        return (
            f'<defs><clipPath id="{"p614b7d9052" if x < 1 else "pb28928169e"}"><rect x="30.803462"/></clipPath>'
            '<path id="m0a1b2c3d4e"/></defs>'
            f'<g clip-path="url(#{"p614b7d9052" if x < 1 else "pb28928169e"})"><use xlink:href="#m0a1b2c3d4e"/></g>'
        ).encode()

    one, other = plotting.stable_svg_ids(drawn(0)), plotting.stable_svg_ids(drawn(2))
    assert one == other
    assert b'id="clip0"' in one and b"url(#clip0)" in one and b'xlink:href="#marker1"' in one
    assert plotting.stable_svg_ids(b"<svg/>") == b"<svg/>"


def test_missing_glyph_is_an_error(tmp_path):
    import matplotlib.pyplot as plt

    plotting.setup()
    fig, ax = plt.subplots()
    ax.set_title("\U0001f600")
    with pytest.raises(plotting.MissingGlyphError):
        plotting.save(fig, "bad", alt="", sources="", paths=Paths(tmp_path))


def test_every_character_of_the_corpus_is_in_the_bundled_font(built):
    from fontTools.ttLib import TTFont

    from compare.config import FONT_FILE

    cmap = TTFont(FONT_FILE, lazy=True)["cmap"].getBestCmap()
    _, result = built
    chars = {c for r in result.results for c in r.text if not c.isspace()}
    assert sorted(c for c in chars if ord(c) not in cmap) == []


def test_plan_file_is_stable_json(project):
    write_plan(project)
    first = (project.build / "report-plan.json").read_bytes()
    write_plan(project)
    assert (project.build / "report-plan.json").read_bytes() == first
    assert json.loads(first)[0]["name"] == "01-overview"


def test_a_table_on_a_page_shows_missing_values_as_a_dash():
    import pandas as pd

    df = pd.DataFrame({"a": [1.5, float("nan")], "b": ["<x>", None], "c": pd.array([1, None], dtype="Int64")})
    html = tables.show(df).data
    assert html.count("<td>—</td>") == 3
    assert "None" not in html and "nan" not in html and "&lt;NA&gt;" not in html and "&lt;x&gt;" in html


# ---- the overview at research scale


def _many_cities(n: int = 300, per_province: int = 10):
    """Tables of `n` synthetic cities and the national plan: provinces of `per_province`, documents
    alike within a province (0.7) and less across (0.2), targets on catalogue metrics."""
    import numpy as np
    import pandas as pd

    from compare.metrics import catalogue

    rng = np.random.default_rng(7)
    cities = [f"c{i:03d}" for i in range(n)]
    docs = pd.DataFrame(
        {
            "doc_id": ["national", *cities],
            "city": ["national", *cities],
            "city_zh": ["国务院", *[f"城{i}" for i in range(n)]],
            "city_en": ["National", *[f"City {i}" for i in range(n)]],
            "province": ["", *[f"省{i // per_province:02d}" for i in range(n)]],
            "admin_level": ["national", *["prefecture"] * n],
            "doc_number": "",
            "title": "关于推进职业教育改革的实施方案",
        }
    )
    group = np.array([-1, *[i // per_province for i in range(n)]])
    score = np.where(group[:, None] == group[None, :], 0.7, 0.2) + rng.uniform(0, 0.05, (n + 1, n + 1))
    score = np.round((score + score.T) / 2, 4)
    np.fill_diagonal(score, 1.0)
    ids = docs.doc_id.tolist()
    docsim = pd.DataFrame(
        [(a, b, score[i, j]) for i, a in enumerate(ids) for j, b in enumerate(ids)], columns=["doc_a", "doc_b", "score"]
    )
    metrics = [m.id for m in catalogue()]
    rows = []
    for c in ["national", *cities]:
        for m in rng.choice(metrics, size=rng.integers(2, 25), replace=False):
            rows.append((c, m, float(rng.integers(1, 90)), rng.choice([2020.0, 2021.0, 2022.0, np.nan])))
    targets = pd.DataFrame(rows, columns=["city", "metric", "value", "year"])
    own = rng.random(len(targets)) < 0.3
    targets.loc[own, "metric"] = "label:其他"
    names = names_of(docs, reference=True)
    return docs, docsim, targets, names


def test_the_document_map_keeps_the_distances_it_can():
    """Four documents whose dissimilarities are the distances between the corners of a square: the map
    must put them at those distances (stress 0), and the same way every time; five documents at equal
    distances cannot lie flat, and the stress says so."""
    import numpy as np
    import pandas as pd

    def docsim_of(d, ids):
        return pd.DataFrame(
            [(x, y, 1 - d[i, j]) for i, x in enumerate(ids) for j, y in enumerate(ids)],
            columns=["doc_a", "doc_b", "score"],
        )

    corners = np.array([[0, 0], [0.3, 0], [0.3, 0.3], [0, 0.3]])
    d = np.linalg.norm(corners[:, None] - corners[None, :], axis=2)
    docsim = docsim_of(d, ["a", "b", "c", "d"])
    xy = plotting.similarity_coordinates(docsim)
    mapped = np.linalg.norm(xy.values[:, None] - xy.values[None, :], axis=2)
    assert np.allclose(mapped, d, atol=1e-6) and xy.attrs["stress"] < 1e-5
    assert plotting.similarity_coordinates(docsim).equals(xy)
    simplex = plotting.similarity_coordinates(docsim_of(0.5 * (1 - np.eye(5)), list("abcde")))
    assert simplex.attrs["stress"] > 0.1


def test_the_similarity_matrix_of_a_table_with_each_documents_nearest_only():
    """Past 501 documents document_similarity keeps each document's nearest: a pair kept one way
    has its score both ways, one kept neither way is 0, and a complete table is its own matrix."""
    import pandas as pd

    kept = pd.DataFrame(
        [("a", "a", 1.0), ("a", "b", 0.5), ("b", "b", 1.0), ("b", "c", 0.75), ("c", "c", 1.0), ("c", "b", 0.75)],
        columns=["doc_a", "doc_b", "score"],
    )
    m = plotting.similarity_matrix(kept)
    assert m.loc["b", "a"] == 0.5 and m.loc["a", "b"] == 0.5 and m.loc["a", "c"] == 0 and m.loc["c", "a"] == 0
    assert (m.values == m.values.T).all() and list(m.index) == list(m.columns) == ["a", "b", "c"]
    every = pd.DataFrame([(x, y, 1.0 if x == y else 0.3) for x in "ab" for y in "ab"], columns=kept.columns)
    assert plotting.similarity_matrix(every).equals(every.pivot(index="doc_a", columns="doc_b", values="score"))


def test_overview_charts_stay_legible_at_300_cities():
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    plotting.setup()
    docs, docsim, targets, names = _many_cities()

    def texts(fig) -> list[str]:
        return [t.get_text() for ax in fig.axes for t in ax.texts]

    per_city = plotting.targets_per_city(targets, names)
    assert per_city.get_size_inches()[1] < 8  # one chart, not a bar per city
    assert len(texts(per_city)) == 10 and not per_city.axes[0].get_xticklabels()  # the 5 most and 5 fewest named
    coverage = plotting.coverage_heatmap(targets, names, docs)
    ax = coverage.axes[0]
    assert len(ax.get_yticklabels()) <= 40 and not ax.texts  # the most-set metrics, no values in 12,000 cells
    assert [t.get_text() for t in ax.get_xticklabels()][:2] == ["省00", "省01"]  # columns grouped by province
    assert coverage.get_size_inches()[1] < 16
    deadlines = plotting.deadline_timeline(targets, names)
    assert deadlines.get_size_inches()[1] < 8 and len(deadlines.axes[0].get_xticklabels()) == 4  # 2020–2022, none
    grid = plotting.similarity_clustermap(docsim, docs)
    assert max(grid.get_size_inches()) <= 14 and not grid.axes[2].texts  # no numbers in 90,000 cells
    fig = plotting.similarity_map(docsim, docs)
    named = texts(fig)
    assert named[0] == "国家（参照） National (reference)" and 10 < len(named) < 300  # named where space allows
    xy = plotting.similarity_coordinates(docsim)
    province = docs.set_index("doc_id").province
    within = xy.groupby(province.reindex(xy.index)).std().mean().mean()
    assert within < 0.1 * xy.std().mean()  # a province's documents gather in one place
    assert "… and 289 more" in plotting.cite_documents(docs)
    rng = np.random.default_rng(3)
    local = docs.doc_id[1:]
    lineage = pd.DataFrame(
        {"doc_id": np.repeat(local, 4), "label": ["copied", "adapted", "sibling", "local"] * len(local)}
    ).assign(text=lambda d: ["职" * int(n) for n in rng.integers(1, 50, len(d))])
    relations = pd.DataFrame(
        {"doc_id": np.repeat(local, 3), "relation": rng.choice(list(plotting.RELATION_COLOURS), 900)}
    )
    for fig in (plotting.lineage_profile(lineage, docs), plotting.target_relations_chart(relations, docs)):
        assert fig.get_size_inches()[1] < 8 and len(texts(fig)) == 10  # thin columns, the 5 first and 5 last named
    from compare.codebooks import codebooks

    rz = next(b for b in codebooks() if b.types)
    picked = [rz.codes[i] for i in rng.integers(0, len(rz.codes), 30 * len(docs))]
    codes = pd.DataFrame(
        {
            "doc_id": np.repeat(docs.doc_id, 30).to_numpy(),
            "framework": rz.id,
            "code": [c.id for c in picked],
            "type": [c.type for c in picked],
        }
    )
    source = ("规则预标", "rule pre-labels")
    for fig in (plotting.instrument_mix(codes, docs, rz, source), plotting.code_heatmap(codes, docs, rz, source)):
        assert fig.get_size_inches()[1] < 12 and len(texts(fig)) <= 10
    plt.close("all")


def test_overview_charts_for_five_cities_keep_their_form(tables):
    import matplotlib.pyplot as plt

    plotting.setup()
    docs, targets = tables["documents"], tables["targets"]
    names = names_of(docs, reference=True)
    per_city = plotting.targets_per_city(targets, names)
    assert len(per_city.axes[0].get_yticklabels()) == 6  # a bar per city and the national plan
    coverage = plotting.coverage_heatmap(targets, names, docs)
    assert coverage.axes[0].texts  # the values in the cells
    plt.close("all")


def test_make_pair_renders_the_two_cities_asked_for():
    import subprocess

    proc = subprocess.run(
        ["make", "-n", "--no-print-directory", "pair", "A=wuwei", "B=shangdang"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0 and "compare report pair wuwei shangdang" in proc.stdout, proc.stdout + proc.stderr
