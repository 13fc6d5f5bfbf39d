"""Every path the project uses, derived from the package location.

Input: the location of this file (or ``COMPARE_ROOT`` to point the tools at another copy
of the project, as the tests do). Output: absolute paths; nothing here touches the disk.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PACKAGE_DATA = PACKAGE_DIR / "data"
FONT_FILE = PACKAGE_DIR / "fonts" / "NotoSansCJKsc-Regular.otf"


def project_root() -> Path:
    """The project checkout: ``COMPARE_ROOT`` if set, else two levels above the package."""
    env = os.environ.get("COMPARE_ROOT")
    return Path(env).resolve() if env else PACKAGE_DIR.parents[1]


class Paths:
    """The project's folders for one root (the checkout, or a scratch copy in tests)."""

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root).resolve() if root else project_root()
        self.raw = self.root / "data" / "raw"
        self.registry = self.raw / "registry.csv"
        self.processed = self.root / "data" / "processed"
        self.text = self.processed / "text"
        self.interim = self.root / "data" / "interim"
        self.token_cache = self.interim / "tokens.sqlite"
        self.coding = self.root / "data" / "coding"  # coders' sheets and the codes imported from them
        self.figures = self.root / "figures"
        self.notebooks = self.root / "notebooks"
        self.build = self.root / "build"
        self.site = self.root / "site"

    def table(self, name: str, ext: str = "csv") -> Path:
        return self.processed / f"{name}.{ext}"

    def __repr__(self) -> str:
        return f"Paths({str(self.root)!r})"


# The rows of benchmarks/results.csv (written by benchmarks/bench.py) that charts and docs single out.
WHOLE_PIPELINE = "whole pipeline (compare build)"
REPORT_PAGES = "report pages (compare report update)"  # n_docs: the number of cities
