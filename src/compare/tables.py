"""The processed tables, as the notebooks read and show them.

Input: ``data/processed/*.parquet`` (built by ``compare build``). Output: DataFrames (list
columns as lists) and their escaped, index-free HTML for the rendered pages.
"""

from __future__ import annotations

import pandas as pd

from .config import Paths
from .errors import CompareError


def table(name: str, paths: Paths | None = None) -> pd.DataFrame:
    """A processed table (Parquet: list columns are lists)."""
    path = (paths or Paths()).table(name, "parquet")
    if not path.exists():
        raise CompareError(f"{path}: not built yet. Run `make data` (or `compare build`) first.")
    return pd.read_parquet(path)


def city_names(paths: Paths | None = None) -> pd.DataFrame:
    """city → city_zh, city_en (from the registry, via the documents table)."""
    docs = table("documents", paths)
    return docs.drop_duplicates("city").set_index("city")[["city_zh", "city_en"]]


def show(df: pd.DataFrame):
    """A table for a page: every cell in full, text escaped, no index, the same bytes on every run."""
    from IPython.display import HTML

    with pd.option_context("display.max_colwidth", None):
        return HTML(df.to_html(index=False, na_rep="—", escape=True, border=0))
