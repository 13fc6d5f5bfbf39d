"""What every report notebook starts with: the chart setup, the documents, the city names, and the
few display helpers the pages use.

    from compare.notebook import HTML, display, escape, plotting, show, start, table

    docs, names = start()
"""

from __future__ import annotations

from html import escape

import pandas as pd
from IPython.display import HTML, display

from . import plotting
from .tables import city_names, show, table

__all__ = ["HTML", "display", "escape", "plotting", "show", "start", "table"]


def start() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Set up the charts (theme, then the bundled CJK font) and return the documents table and the
    city names (city → city_zh, city_en)."""
    plotting.setup()
    return table("documents"), city_names()
