"""The documentation: generated from the code that declares it, never stale; the README short."""

from __future__ import annotations

import re

from compare.config import Paths
from compare.docs import data_dictionary_html, data_dictionary_markdown, generated
from compare.schemas import ALL_TABLES

from .conftest import REPO


def test_generated_docs_are_not_stale():
    """docs/data-dictionary.md and the results table of docs/performance.md are what `make docs` writes."""
    from compare.pipeline import STAGES

    for path, text in generated(Paths(REPO), STAGES).items():
        assert path.read_text(encoding="utf-8") == text, f"{path.relative_to(REPO)} is stale: run `make docs`"


def test_the_dictionary_gives_every_column_its_meaning_once():
    md = data_dictionary_markdown()
    for table in ALL_TABLES.values():
        section = md.split(f"\n## {table.name}\n", 1)[1].split("\n## ", 1)[0]
        rows = re.findall(r"^\| `([a-z_0-9]+)` \| ([^|]+) \| ([^|]+) \| (.+) \|$", section, re.M)
        assert [r[0] for r in rows] == table.columns, table.name
        assert all(zh.strip() and meaning.strip() for _, zh, _, meaning in rows), table.name
    html = data_dictionary_html()
    assert all(f'<h2 id="{name}">' in html for name in ALL_TABLES)
    assert "<script" not in html


def test_readme_is_the_front_door():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 200
    assert "make report" in readme and "make test" in readme
    for name in ALL_TABLES:  # the data flow names every table
        assert f"{name}.csv" in readme, name
    for doc in re.findall(r"\]\((docs/[^)#]+)", readme):
        assert (REPO / doc).exists(), doc
    modules = {p.stem for p in (REPO / "src" / "compare").glob("*.py")} - {"__init__", "__main__"}
    mapped = set(re.findall(r"`([a-z_]+)`", readme.split("## The module map", 1)[1].split("\n## ", 1)[0]))
    assert modules <= mapped, modules - mapped  # the module map lists every module


def test_a_benchmark_run_replaces_only_what_it_measured_and_each_row_keeps_its_machine(tmp_path, monkeypatch, capsys):
    """`make bench SIZES=5000` adds its rows to the results file instead of wiping the others: a size
    measured again replaces all of that size's rows (one size's stages never come from two runs),
    the rest keep the machine that measured them, and the table says which machine measured what."""
    import csv
    import importlib.util

    from compare.docs import results_table

    spec = importlib.util.spec_from_file_location("bench", REPO / "benchmarks" / "bench.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)

    def row(n, stage, seconds, chars="1000", mb="100.0", pages=""):
        return dict(n_docs=n, n_chars=chars, stage=stage, stage_zh="", seconds=seconds, peak_mb=mb, n_pages=pages)

    out = tmp_path / "results.csv"
    monkeypatch.setattr(bench, "machine", lambda: "machine A")
    stages = ("documents", "tokens", bench.WHOLE[0])
    report, no_op = row(5, bench.REPORT[0], 9.0, pages="26"), row(5, bench.MAKE[1][0], 0.1, "", "")
    bench.write_results(out, [*(row(n, s, 1.0) for n in (5, 50) for s in stages), report, no_op])
    monkeypatch.setattr(bench, "machine", lambda: "machine B")
    bench.write_results(out, [row(5000, bench.WHOLE[0], 700.0), row(50, "tokens", 2.0)])  # --whole-only; not all of 50
    fifty = [r["stage"] for r in csv.DictReader(out.open(encoding="utf-8")) if r["n_docs"] == "50"]
    assert fifty == ["tokens"]  # 50's other stages are not kept from the old run, and the run says so
    said = capsys.readouterr().out
    assert "dropped: documents at 50 documents" in said and "dropped: tokens" not in said
    bench.write_results(out, [row(5000, bench.WHOLE[0], 700.0), *(row(50, s, 2.0) for s in stages)])
    got = [(r["n_docs"], r["stage"], r["seconds"], r["machine"]) for r in csv.DictReader(out.open(encoding="utf-8"))]
    assert got == [
        ("5", "documents", "1.0", "machine A"),
        ("5", "tokens", "1.0", "machine A"),
        ("5", bench.WHOLE[0], "1.0", "machine A"),
        ("50", "documents", "2.0", "machine B"),
        ("50", "tokens", "2.0", "machine B"),
        ("50", bench.WHOLE[0], "2.0", "machine B"),
        ("5000", bench.WHOLE[0], "700.0", "machine B"),
        ("5", bench.REPORT[0], "9.0", "machine A"),
        ("5", bench.MAKE[1][0], "0.1", "machine A"),
    ]
    table = results_table(out)
    assert "| 5000 | 1k | — | — | 700 s | 0.1 GB |" in table
    assert table.endswith(
        "\n\nMachines:\n\n- machine A: 5 documents; the report at 5 cities; make report (no-op)\n"
        "- machine B: 50 and 5000 documents"
    )
    out.write_text(out.read_text(encoding="utf-8").replace("machine B", "machine A"), encoding="utf-8")
    assert results_table(out).endswith("\n\nMachine: machine A.")


def test_cluster_estimates_extrapolate_each_stage_at_its_measured_rate(tmp_path):
    """docs/cluster.md's time and cluster size at 10⁵ and 10⁶ documents come from the measured
    stages, not from hand-copied figures that go stale when `make bench` runs again; checked
    against figures worked out by hand from a small results file."""
    from compare.config import WHOLE_PIPELINE
    from compare.docs import cluster_estimates
    from compare.pipeline import STAGES

    at_200 = {"section pairs": 16.0, "document similarity": 8.0, "keyness": 1.0, "shared passages": 2 * 2**1.5}
    at_100 = {"section pairs": 4.0, "document similarity": 1.0, "keyness": 1.0, "shared passages": 2.0}
    lines = ["n_docs,n_chars,stage,stage_zh,seconds,peak_mb,n_pages,machine"]
    for n, times in ((100, at_100), (200, at_200)):
        lines += [f"{n},1,{s.name},,{times.get(s.name, n / 20)},,,2 cores (test)" for s in STAGES]
    lines += [f"200,1,{WHOLE_PIPELINE},,50,200,,2 cores (test)", f"1000,1,{WHOLE_PIPELINE},,900,1000,,2 cores (test)"]
    results = tmp_path / "results.csv"
    results.write_text("\n".join(lines) + "\n", encoding="utf-8")
    table = cluster_estimates(results, STAGES)
    # A document at a time: 10 s at 200 documents × 500 × 2 cores = 2.8 core-hours, 100 s on 100 workers.
    assert (
        "| documents (workers) | 10.0 s | linear (a document at a time) | 2.8 core-hours: 1.7 min on 100 workers |"
        in table
    )
    # 4 → 16 s for twice the documents: N², so 16 s × 500² × 2 cores = 2,200 core-hours, 22 h on 100 workers.
    assert "| section pairs (workers) | 16.0 s | N^2.00 | 2,200 core-hours: 22 h on 100 workers |" in table
    # 1 → 8 s would be N³; no stage does more than every pair, so N²: 8 s × 500² × 2 cores = 1,100
    # core-hours, 11 h on 100 workers.
    assert "| document similarity (workers) | 8.0 s | N^2.00 | 1,100 core-hours: 11 h on 100 workers |" in table
    assert "| keyness (the client) | 1.0 s | N^1.00 | 8.3 min |" in table  # not faster than linear
    assert "| shared passages (the client) | 5.7 s | N^1.50 | 18 h |" in table  # 5.66 s × 500^1.5
    # Peak memory: 200 MB at 200 documents, 1,000 at 1,000: 1 MB a document, 100,000 MB at 10⁵.
    assert "| peak memory (the largest process) | 1.0 GB at 1,000 | linear, 1,000 MB per 1,000 documents" in table
    assert "| 98 GB | 980 GB |" in table
    # The rates against the whole build measured beyond them: at 1,000 documents 4 × 50 s of
    # per-document stages, 400 s of section pairs, 200 of document similarity, 5 of keyness, 63 of
    # shared passages = 868 s.
    assert "a build of 1,000 documents in 14 min (measured: 15 min)" in table
    results.write_text("\n".join(lines[: 1 + len(STAGES)]) + "\n", encoding="utf-8")
    assert "no estimates" in cluster_estimates(results, STAGES)


def test_a_page_that_lost_its_generated_block_is_refused_with_the_fix():
    import pytest

    from compare.docs import _between_markers
    from compare.errors import CompareError

    with pytest.raises(CompareError, match=r"docs/cluster.md has lost the lines .*put them back"):
        _between_markers("# A build on a cluster\n", "docs/cluster.md", "estimates", "| a table |")
    page = "intro\n<!-- estimates: generated by `compare docs` from benchmarks/results.csv -->\nold\n<!-- /estimates -->\nend"
    assert _between_markers(page, "docs/cluster.md", "estimates", "new") == page.replace("old", "new")


def test_a_benchmark_size_shows_its_builds_progress_and_hands_over_only_its_rows(tmp_path):
    """`make bench SIZES=10000` runs for an hour or more: the builds' progress lines reach the
    terminal as they come (they were thrown away), while the size's rows come back on stdout."""
    import csv
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "bench.py"), "--one", "5", "--work", str(tmp_path), "--whole-only"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    rows = list(csv.reader(proc.stdout.splitlines()))
    assert [(r[0], r[2]) for r in rows] == [("5", "whole pipeline (compare build)")]
    said = proc.stderr.splitlines()
    assert said[0] == "N=5: whole pipeline (compare build)"
    assert any(line.startswith("[5/8] section pairs") for line in said)
    assert said[-1].startswith("built 6 documents")
