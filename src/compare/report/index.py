"""The site's front page: the plan and the documents → ``site/index.html`` (from the template
``data/templates/index.html``) and ``site/style.css``; pages and figures no longer in the plan are
removed.
"""

from __future__ import annotations

import itertools

from ..config import Paths
from ..docs import data_dictionary_html
from ..output import atomic_write_text
from ..tables import table
from .plan import load_plan, load_spec
from .render import SITE_CSS, page_html, templates

INDEX_TITLE = "职业教育改革方案比较 · Comparing vocational-education reform plans"
DICTIONARY = "data-dictionary"  # a page of the site that no notebook makes


def remove_stale(paths: Paths, keep: set[str]) -> None:
    """Pages and figures of pages that are no longer in the plan."""
    for old in paths.site.glob("*.html"):
        if old.stem not in keep and old.stem not in ("index", DICTIONARY):
            old.unlink()
    for fig in paths.figures.glob("*.*"):
        if fig.suffix in (".png", ".svg") and not any(fig.stem.startswith(k + "-") or fig.stem == k for k in keep):
            fig.unlink()


def write_index(paths: Paths | None = None) -> None:
    """site/index.html: the documents, and every page with a one-line description."""
    paths = paths or Paths()
    pages = load_plan(paths)
    spec = {e["notebook"]: e for e in load_spec(paths)}
    remove_stale(paths, {p.name for p in pages})
    sections = [
        {
            "heading": f"{spec[nb]['heading']['zh']} {spec[nb]['heading']['en']}",
            "description": " ".join(spec[nb]["description"].split()),
            "pages": list(group),
        }
        for nb, group in itertools.groupby(pages, key=lambda p: p.notebook)
    ]
    docs = table("documents", paths)
    body = templates().get_template("index.html").render(documents=list(docs.itertuples()), sections=sections)
    atomic_write_text(
        paths.site / "index.html", page_html(INDEX_TITLE, body.removesuffix("\n"), nav=False, paths=paths)
    )
    atomic_write_text(
        paths.site / f"{DICTIONARY}.html", page_html("数据字典 · Data dictionary", data_dictionary_html(), paths=paths)
    )
    atomic_write_text(paths.site / "style.css", SITE_CSS.read_text(encoding="utf-8"))
