"""`compare build --scheduler`: the build's maps as Dask tasks on a cluster give the same bytes as a
build on this machine; a build without a scheduler never imports Dask; a cluster that cannot be
reached, or whose workers run something else, is refused before any work."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from compare.config import Paths

from .conftest import QUIET, REPO, refused, run_cli, scratch_project, snapshot

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes of one thread each, as `dask worker --nthreads 1` on two machines."""
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50
    ) as c:
        yield c


def processed(paths: Paths) -> dict[str, bytes]:
    return {k: v for k, v in snapshot(paths).items() if k.startswith("data/processed/")}


def test_engine_maps_in_order_with_shared_inputs(cluster):
    from compare import workers
    from compare.cluster import connected

    paths = Paths(REPO)
    with connected(cluster.scheduler_address, paths, log=lambda _: None):
        engine = workers.attached()
        assert engine is not None and engine.workers == 2
        assert workers.default_workers(0, 10**9) == 2  # on a cluster, every worker however small the work
        got = workers.map_ordered(_scaled, range(100), workers=2, initializer=_set_factor, initargs=(3,))
        lazy = workers.map_ordered(_scaled, (i for i in range(10)), workers=2, initializer=_set_factor, initargs=(5,))
    assert got == [3 * i for i in range(100)]
    assert lazy == [5 * i for i in range(10)]
    assert workers.attached() is None  # detached when the block ends


_factor = 0


def _set_factor(f: int) -> None:
    global _factor
    _factor = f


def _scaled(i: int) -> int:
    return _factor * i


def test_five_documents_on_a_cluster_are_the_local_build(cluster, built, tmp_path):
    local, _ = built
    paths = scratch_project(tmp_path)
    proc = run_cli(paths, "build", "--scheduler", cluster.scheduler_address)
    assert proc.returncode == 0, proc.stderr
    assert f"build on the Dask cluster at {cluster.scheduler_address}: 2 workers, 2 threads" in proc.stdout
    got, want = processed(paths), processed(local)
    assert got.keys() == want.keys() and len(want) > 30
    assert [k for k in want if got[k] != want[k]] == []


@pytest.mark.slow
def test_two_hundred_documents_on_a_cluster_are_the_local_build(cluster, tmp_path, monkeypatch):
    """200 synthetic documents (2.0 M characters): documents, tokens, scoring blocks, instruments and
    lineage as tasks, and the shingle index in 8 hash partitions on the cluster (1 locally);
    document similarity too, made to keep each document's 50 nearest in blocks of 20 documents (as
    past 1,024 documents) in both builds."""
    from compare import document_similarity, shared_passages, workers
    from compare.cluster import connected
    from compare.pipeline import build
    from compare.synthetic import real_parts, synthetic_corpus, write_project

    monkeypatch.setattr(document_similarity, "NEAREST", 50)
    monkeypatch.setattr(document_similarity, "PIECE_ROWS", 20 * 201)
    parts, chars = real_parts(Paths(REPO))
    local = write_project(tmp_path / "local", synthetic_corpus(200, parts, chars), Paths(REPO))
    shutil.copytree(local.raw, tmp_path / "cluster" / "data" / "raw")
    remote = Paths(tmp_path / "cluster")
    build(local, **QUIET)
    calls = []
    original = shared_passages._partition_matches

    def counted(chosen, **kw):
        calls.append(1)
        return original(chosen, **kw)

    monkeypatch.setattr(shared_passages, "PARTITION", 1 << 18)  # several partitions, so they become tasks
    monkeypatch.setattr(shared_passages, "_partition_matches", counted)
    with connected(cluster.scheduler_address, remote, log=lambda _: None):
        engine = workers.attached()
        build(remote, **QUIET)
    assert calls == []  # no partition was matched here: they ran on the workers
    ran = {name: (items, tasks) for name, items, tasks in engine.ran}
    assert ran["process_document"][0] == 201 and ran["document_instruments"][0] == 201
    assert ran["counted"] == (8, 8)  # the passage partitions, one task each
    for stage in ("tokenize_joined", "_block_top", "_document_rows"):
        assert ran[stage][1] > 1, (stage, ran)
    assert ran["_similarity_block"][0] == 11  # document similarity: 201 documents in blocks of 20
    kept = pd.read_csv(local.processed / "document_similarity.csv")
    assert len(kept) == 201 * 51 and (kept.groupby("doc_a").size() == 51).all()
    got, want = processed(remote), processed(local)
    assert got.keys() == want.keys()
    assert [k for k in want if got[k] != want[k]] == []


def test_workers_that_run_other_code_are_refused(cluster, monkeypatch):
    from compare import cluster as cl
    from compare.errors import CompareError

    monkeypatch.setattr(cl, "fingerprint", lambda: "edited-here")  # this machine's compare differs
    with pytest.raises(CompareError) as e, cl.connected(cluster.scheduler_address, Paths(REPO), log=lambda _: None):
        pass
    assert "compare code and data" in str(e.value) and "(here edited-here)" in str(e.value)
    assert str(e.value).count("tcp://") == 2  # both workers named


def test_an_unreachable_scheduler_is_a_clear_error(project):
    env = {**os.environ, "COMPARE_SCHEDULER": "tcp://127.0.0.1:9", "COMPARE_SCHEDULER_TIMEOUT": "2"}
    refused(
        run_cli(project, "build", env=env), "cannot reach the Dask scheduler at tcp://127.0.0.1:9", "dask scheduler"
    )
    assert not project.processed.exists()  # nothing built, nothing half-written


def test_a_build_without_a_scheduler_never_imports_dask(project):
    code = (
        "import sys; sys.modules['dask'] = None; sys.modules['distributed'] = None\n"
        "from compare.cli import main\n"
        f"sys.exit(main(['--root', {str(project.root)!r}, 'build']))"
    )
    env = {k: v for k, v in os.environ.items() if k != "COMPARE_SCHEDULER"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert (project.processed / "targets.csv").is_file()
