"""Shared fixtures: a scratch copy of the project's raw data, built once per test session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from compare.config import Paths

REPO = Path(__file__).resolve().parents[1]
DOC_IDS = ["qingyang", "zhongwei", "wuwei", "qinhuangdao", "shangdang"]


def scratch_project(root: Path) -> Paths:
    """A project folder holding a copy of data/raw/ (so tests never touch the checkout's outputs)."""
    shutil.copytree(REPO / "data" / "raw", root / "data" / "raw")
    return Paths(root)


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """The five documents built once: (paths, BuildResult)."""
    from compare.pipeline import build

    paths = scratch_project(tmp_path_factory.mktemp("project"))
    result = build(paths, log=lambda _: None, warn=lambda _: None)
    return paths, result


@pytest.fixture(scope="session")
def tables(built) -> dict[str, pd.DataFrame]:
    return built[1].tables


@pytest.fixture(scope="session")
def texts(built) -> dict[str, str]:
    return {r.doc.doc_id: r.text for r in built[1].results}


@pytest.fixture
def project(tmp_path) -> Paths:
    return scratch_project(tmp_path)
