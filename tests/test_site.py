"""The rendered site as a reader sees it: every page loads in headless Chromium, every image and
local link resolves, and no figure falls back to a missing glyph.

Needs the built site (make report) and Debian's chromium. `make test` builds the site first;
CI installs chromium and sets COMPARE_REQUIRE_BROWSER=1 so that a missing browser fails the
run instead of skipping these tests.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request

import pytest

from compare.report import browser as site_browser
from compare.report.index import DICTIONARY

from .conftest import REPO

pytestmark = pytest.mark.site
SITE = REPO / "site"
FIGURES = REPO / "figures"


def _require(condition: bool, why: str) -> None:
    if not condition:
        if os.environ.get("COMPARE_REQUIRE_BROWSER"):
            pytest.fail(why)
        pytest.skip(why)


@pytest.fixture(scope="module")
def server():
    _require((SITE / "index.html").exists(), "the site is not built: run `make report`")
    with site_browser.serve(REPO) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    """Chromium started as `make screenshots` starts it."""
    _require(site_browser.chromium_path() is not None, "Debian's chromium is not installed (apt-get install chromium)")
    with site_browser.chromium() as b:
        yield b


def pages() -> list[str]:
    return sorted(p.name for p in SITE.glob("*.html"))


def test_every_planned_page_is_on_the_site_and_in_the_index():
    plan_file = REPO / "build" / "report-plan.json"
    _require(plan_file.exists() and (SITE / "index.html").exists(), "the site is not built: run `make report`")
    planned = {p["name"] for p in json.loads(plan_file.read_text(encoding="utf-8"))}
    assert {p.removesuffix(".html") for p in pages()} == planned | {"index", DICTIONARY}
    index = (SITE / "index.html").read_text(encoding="utf-8")
    assert set(re.findall(r'href="([^"#]+)\.html"', index)) == planned | {DICTIONARY}


@pytest.mark.parametrize("page", pages() or ["index.html"])
def test_page_loads_with_every_image_and_link(server, browser, page):
    tab = browser.new_page()
    failures: list[str] = []
    tab.on("requestfailed", lambda r: failures.append(f"{r.url} {r.failure}"))
    tab.on("response", lambda r: failures.append(f"{r.url} {r.status}") if r.status >= 400 else None)
    response = tab.goto(f"{server}/site/{page}", wait_until="load")
    assert response is not None and response.ok
    assert tab.title().strip()
    images = tab.eval_on_selector_all("img", "els => els.map(e => [e.src, e.complete && e.naturalWidth > 0])")
    assert all(ok for _, ok in images), [src for src, ok in images if not ok]
    links = tab.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    for href in {h.split("#")[0] for h in links if h.startswith(server)}:
        try:
            with urllib.request.urlopen(href) as r:
                assert r.status == 200
        except urllib.error.HTTPError as e:
            failures.append(f"{href} {e.code}")
    assert not failures, failures
    if page.startswith(("01-", "02-", "03-", "04-")):
        assert images, "a report page without its figures"
    tab.close()


def test_no_figure_falls_back_to_a_missing_glyph():
    svgs = sorted(FIGURES.glob("*.svg"))
    _require(bool(svgs), "no figures yet: run `make report`")
    for svg in svgs:
        text = svg.read_text(encoding="utf-8")
        assert "<text" not in text, f"{svg.name}: text left to the reader's fonts"
        glyph_fonts = set(re.findall(r'<path id="([A-Za-z]+(?:-[A-Za-z]+)*)-[0-9a-f]+"', text))
        assert glyph_fonts <= {"NotoSansCJKsc-Regular", "DejaVuSans"}, f"{svg.name}: {glyph_fonts}"
        assert 'id="NotoSansCJKsc-Regular-0"' not in text, f"{svg.name}: a .notdef box"
        assert svg.with_suffix(".png").exists()


def test_document_text_is_escaped_in_pages():
    """Document text reaches pages only escaped: no raw markup from the corpus appears as HTML."""
    _require((SITE / "index.html").exists(), "the site is not built: run `make report`")
    own = '<script src="site.js"></script>'  # the index's filters: the site's only script
    for page in SITE.glob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert html.count(own) == (page.name == "index.html"), page.name
        assert "<script" not in html.replace(own, "").lower(), page.name


def test_every_page_ends_with_how_to_cite_it():
    """Version and data fingerprint on every page, the same as `compare cite` says for this data."""
    from compare import __version__
    from compare.cite import data_version

    _require((SITE / "index.html").exists(), "the site is not built: run `make report`")
    fingerprint = data_version().fingerprint
    for page in sorted(SITE.glob("*.html")):
        text = page.read_text(encoding="utf-8")
        assert '<footer class="compare-cite">' in text, page.name
        assert f"compare {__version__};" in text and f"data fingerprint {fingerprint}" in text, page.name


def test_the_index_filters_and_sorts_opened_as_a_file(browser):
    """The index's table of documents and lists of pages, as a reader uses them from file:// (no server)."""
    _require((SITE / "index.html").exists(), "the site is not built: run `make report`")
    tab = browser.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.goto((SITE / "index.html").as_uri(), wait_until="load")

    def cities() -> list[str]:
        return tab.eval_on_selector_all(
            "#documents tbody tr", "rows => rows.filter(r => !r.hidden).map(r => r.cells[0].textContent)"
        )

    assert len(cities()) == 6
    tab.fill("input[data-filter=documents]", "甘肃")  # the province column
    assert cities() == ["庆阳市 Qingyang", "武威市 Wuwei"]
    assert tab.text_content("#documents-count") == "2 of 6 documents"
    tab.fill("input[data-filter=documents]", "")
    targets = "#documents thead th:nth-child(7) button"
    tab.click(targets)  # fewest targets first …
    assert cities()[0] == "长治市上党区 Shangdang" and cities()[-1] == "中卫市 Zhongwei"  # 12 … 55
    tab.click(targets)  # … then most
    assert cities()[0] == "中卫市 Zhongwei"
    tab.fill("input[data-filter=pages-02-metric]", "STUDIOS")  # any case
    shown = tab.eval_on_selector_all("#pages-02-metric li", "items => items.filter(i => !i.hidden).length")
    assert shown == 4  # ideological, head-teacher, skills-master and master-teacher studios
    assert not errors
    tab.close()
