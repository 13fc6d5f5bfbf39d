"""The documentation: generated from the code that declares it, never stale; the README short."""

from __future__ import annotations

import re

from compare.config import Paths
from compare.docs import data_dictionary_html, data_dictionary_markdown, generated
from compare.schemas import ALL_TABLES

from .conftest import REPO


def test_generated_docs_are_not_stale():
    """docs/data-dictionary.md and the results table of docs/performance.md are what `make docs` writes."""
    for path, text in generated(Paths(REPO)).items():
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
