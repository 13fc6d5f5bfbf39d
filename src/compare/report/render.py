"""Rendering a page: an executed notebook → ``site/<page>.html``, inputs hidden, in the site's page
template (``data/templates/page.html``).

Input: ``build/executed/<page>.ipynb``. Output: the page's HTML (nbconvert's basic template inside
ours), and :func:`remove_outputs`, which clears the generated site and figures.
"""

from __future__ import annotations

import html
import shutil
from functools import lru_cache

import jinja2

from ..config import PACKAGE_DATA, Paths
from ..output import atomic_write_text
from .plan import Page, find_page

TEMPLATES = PACKAGE_DATA / "templates"
SITE_CSS = PACKAGE_DATA / "site.css"


@lru_cache(maxsize=1)
def templates() -> jinja2.Environment:
    """The site's templates. Text is escaped explicitly (`|h`, Python's html.escape) where it is
    inserted; HTML made elsewhere (nbconvert's output, rows built here) is inserted as it is."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=False,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["h"] = html.escape
    return env


def page_html(title: str, body: str, nav: bool = True, paths: Paths | None = None) -> str:
    from ..cite import footer_html

    return templates().get_template("page.html").render(title=title, body=body, nav=nav, footer=footer_html(paths))


@lru_cache(maxsize=1)
def _exporter():
    from nbconvert import HTMLExporter

    return HTMLExporter(
        template_name="basic", exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True
    )


def render_page(page: Page | str, paths: Paths | None = None) -> None:
    """site/<name>.html from the executed notebook of a page (of the plan, or its name), inputs hidden."""
    paths = paths or Paths()
    if isinstance(page, str):
        page = find_page(paths, page)  # before nbconvert's imports: a wrong name is refused at once
    import nbformat

    nb = nbformat.read(paths.build / "executed" / f"{page.name}.ipynb", as_version=4)
    body, _ = _exporter().from_notebook_node(nb)
    atomic_write_text(
        paths.site / f"{page.name}.html", page_html(f"{page.title_zh} · {page.title_en}", body, paths=paths)
    )


def remove_outputs(paths: Paths) -> None:
    """Delete the generated site and figures (CI does this before checking a fresh build reproduces them)."""
    for folder in (paths.site, paths.figures):
        if folder.exists():
            for f in folder.iterdir():
                if f.is_file() and f.name != ".gitkeep":
                    f.unlink()
    shutil.rmtree(paths.build / "executed", ignore_errors=True)
