"""The report: its spec and plan, the notebooks' form, running and rendering pages, failures, figures."""

from __future__ import annotations

import ast
import json
import shutil

import nbformat
import pytest

from compare import plotting, tables
from compare.config import Paths
from compare.report.index import write_index
from compare.report.plan import load_spec, plan, write_plan

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
    assert len([n for n in names if n.startswith("04-pair-")]) == 10 and "04-pair-qingyang-wuwei" in names
    page = next(p for p in pages if p.name == "03-city-shangdang")
    assert (page.title_zh, page.title_en, page.parameters) == (
        "城市：长治市上党区",
        "City: Shangdang",
        {"city": "shangdang"},
    )


def test_metrics_set_by_one_city_get_no_page(project):
    names = {p.name for p in plan(project)}
    assert "02-metric-vocational_general_ratio" not in names  # only Qingyang sets it


def test_make_include_lists_pages_and_dependencies(project):
    write_plan(project)
    mk = (project.build / "reports.mk").read_text(encoding="utf-8")
    assert mk.splitlines()[1].startswith("PAGES := 01-overview 02-metric-")
    deps = {
        line.split(" := ")[0].removeprefix("DEPS_"): line.split(" := ")[1].split()
        for line in mk.splitlines()
        if line.startswith("DEPS_")
    }
    assert deps["06-lineage"][:3] == [
        "data/processed/documents.parquet",
        "data/processed/sections.parquet",
        "data/processed/document_parents.parquet",
    ]
    assert deps["04-pair"][:4] == [
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
