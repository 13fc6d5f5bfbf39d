"""Shared fixtures and helpers: a scratch copy of the project's raw data, the five documents built once
per test session, a built project to break, and the one way tests run the `compare` command."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from compare.config import Paths

REPO = Path(__file__).resolve().parents[1]
CITY_DOC_IDS = ["qingyang", "zhongwei", "wuwei", "qinhuangdao", "shangdang"]
DOC_IDS = [*CITY_DOC_IDS, "national"]  # the five city plans and the national plan they implement
QUIET = {"log": lambda _: None, "warn": lambda _: None}


def scratch_project(root: Path) -> Paths:
    """A project folder holding a copy of data/raw/ (so tests never touch the checkout's outputs)."""
    shutil.copytree(REPO / "data" / "raw", root / "data" / "raw")
    return Paths(root)


def run_cli(paths: Paths | None, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`compare [--root PATHS] ARGS…` in a fresh process, as a user runs it."""
    root = ["--root", str(paths.root)] if paths else []
    return subprocess.run([sys.executable, "-m", "compare", *root, *args], capture_output=True, text=True, env=env)


def refused(proc: subprocess.CompletedProcess, *needles: str) -> None:
    """A refusal as users must see it: exit status 2, one paragraph naming the problem, no traceback."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    for needle in needles:
        assert needle in proc.stderr, (needle, proc.stderr)


def snapshot(paths: Paths) -> dict[str, bytes]:
    """Every file of data/raw/ and data/processed/, by path: to check nothing was touched."""
    files = [p for folder in (paths.raw, paths.processed) if folder.exists() for p in folder.rglob("*") if p.is_file()]
    return {str(p.relative_to(paths.root)): p.read_bytes() for p in sorted(files)}


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """The five documents built once: (paths, BuildResult)."""
    from compare.pipeline import build

    paths = scratch_project(tmp_path_factory.mktemp("project"))
    result = build(paths, **QUIET)
    return paths, result


@pytest.fixture(scope="session")
def tables(built) -> dict[str, pd.DataFrame]:
    return built[1].tables


@pytest.fixture(scope="session")
def texts(built) -> dict[str, str]:
    return {r.doc.doc_id: r.text for r in built[1].results}


@pytest.fixture
def project(tmp_path) -> Paths:
    """A scratch project with the raw data and nothing built."""
    return scratch_project(tmp_path)


@pytest.fixture
def built_project(built, tmp_path) -> Paths:
    """A scratch project as `compare build` leaves it (a copy of the session's build): to break."""
    source, _ = built
    shutil.copytree(source.root / "data", tmp_path / "data")
    return Paths(tmp_path)
