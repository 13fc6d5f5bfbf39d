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
