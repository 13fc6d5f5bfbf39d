"""The site's front page: the plan and the documents → ``site/index.html`` (from the template
``data/templates/index.html``) and ``site/style.css``; pages and figures no longer in the plan are
removed.
"""

from __future__ import annotations

import itertools

from ..config import PACKAGE_DATA, Paths
from ..docs import data_dictionary_html
from ..output import atomic_write_text
from ..tables import names_of, table
from .plan import load_plan, load_spec
from .render import SITE_CSS, page_html, templates

SITE_JS = PACKAGE_DATA / "site.js"
LEVEL_LABELS = {
    "national": "国家 national",
    "province": "省 province",
    "prefecture": "市 prefecture",
    "district": "区县 district",
}
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


def document_rows(paths: Paths, names: set[str]) -> list[dict]:
    """The index's table of documents: one row per document, with links to the pages about it."""
    docs = table("documents", paths)
    labels = names_of(docs, reference=True)  # the national plan as the cities' reference
    rows = []
    for d in docs.itertuples():
        links = [
            (label, f"{page}.html")
            for label, page in (("城市 city", f"03-city-{d.city}"), ("继承 lineage", f"06-lineage-{d.doc_id}"))
            if page in names
        ]
        rows.append(
            {
                "city_zh": labels.loc[d.city, "city_zh"],
                "city_en": labels.loc[d.city, "city_en"],
                "province": d.province or "—",
                "level": LEVEL_LABELS.get(d.admin_level, d.admin_level),
                "title": d.title,
                "doc_number": d.doc_number or "—",
                "issued": d.issued_date or "—",
                "n_targets": d.n_targets,
                "n_sections": d.n_sections,
                "links": links,
                "reference": bool(labels.loc[d.city, "is_reference"]),
            }
        )
    return rows


def write_index(paths: Paths | None = None) -> None:
    """site/index.html: the documents (a table to filter and sort), and every page with a one-line
    description (lists to filter); site/site.js does the filtering, site/style.css the looks."""
    paths = paths or Paths()
    pages = load_plan(paths)
    spec = {e["notebook"]: e for e in load_spec(paths)}
    remove_stale(paths, {p.name for p in pages})
    sections = [
        {
            "notebook": nb,
            "heading": f"{spec[nb]['heading']['zh']} {spec[nb]['heading']['en']}",
            "description": " ".join(spec[nb]["description"].split()),
            "note": _note(spec[nb]),
            "pages": list(group),
        }
        for nb, group in itertools.groupby(pages, key=lambda p: p.notebook)
    ]
    documents = document_rows(paths, {p.name for p in pages})
    body = (
        templates()
        .get_template("index.html")
        .render(
            documents=documents,
            sections=sections,
            n_local=sum(not d["reference"] for d in documents),
            n_reference=sum(d["reference"] for d in documents),
        )
    )
    atomic_write_text(
        paths.site / "index.html", page_html(INDEX_TITLE, body.removesuffix("\n"), nav=False, paths=paths)
    )
    atomic_write_text(
        paths.site / f"{DICTIONARY}.html", page_html("数据字典 · Data dictionary", data_dictionary_html(), paths=paths)
    )
    atomic_write_text(paths.site / "style.css", SITE_CSS.read_text(encoding="utf-8"))
    atomic_write_text(paths.site / "site.js", SITE_JS.read_text(encoding="utf-8"))


def _note(entry: dict) -> str:
    """What the index says about which pages a notebook has, when not every parameter set gets one."""
    if entry["runs"] != "city_pairs":
        return ""
    from .plan import NEAREST

    listed = " and the pairs notebooks/reports.yaml lists" if entry.get("pairs") else ""
    return (
        f"Each city is paired with its {entry.get('nearest', NEAREST)} most similar cities (document similarity){listed}; "
        "any other pair is one command away: make pair A=city B=city."
    )
