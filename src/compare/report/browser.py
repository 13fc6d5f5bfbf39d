"""The site as a reader's browser shows it: the checkout served on localhost, Debian's Chromium
started headless, and screenshots of the pages.

Input: the built site. Output: :func:`serve` (a local web server for the checkout), :func:`chromium`
(a headless Chromium driven by Playwright, started the one way both this module and the site tests
start it) and :func:`screenshots` (``build/screenshots/*.png``).
"""

from __future__ import annotations

import functools
import http.server
import itertools
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..config import Paths
from ..errors import CompareError
from .plan import load_plan

# As root in a closed network: no sandbox, no GPU, and none of Chromium's own network traffic.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the checkout to a local browser without logging every request."""

    def log_message(self, *args) -> None:
        pass


@contextmanager
def serve(root: Path) -> Iterator[str]:
    """Serve `root` on a free localhost port; yields the base URL."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()


@contextmanager
def chromium():
    """Headless Chromium (Debian's, driven by Playwright); a missing browser is a clear error."""
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    if not path:
        raise CompareError(
            "chromium is not installed: run `make browser` (Debian: apt-get install chromium fonts-noto-cjk)."
        )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def screenshots(paths: Paths | None = None) -> list[Path]:
    """PNG screenshots of the index and of the first page of each notebook, as headless Chromium shows them."""
    paths = paths or Paths()
    pages = load_plan(paths)
    firsts = ["index"] + [next(g).name for _, g in itertools.groupby(pages, key=lambda p: p.notebook)]
    out_dir = paths.build / "screenshots"
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with serve(paths.root) as base, chromium() as browser:
        tab = browser.new_page(viewport={"width": 1280, "height": 900})
        for name in firsts:
            tab.goto(f"{base}/site/{name}.html", wait_until="load")
            target = out_dir / f"{name}.png"
            tab.screenshot(path=str(target), full_page=True)
            written.append(target)
    return written
