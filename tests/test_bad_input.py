"""Bad input: a clear one-paragraph error (file, problem, fix), a non-zero exit, no traceback, and
nothing already built lost or half-written. And big inputs that must simply work."""

from __future__ import annotations

import pytest

from compare.pipeline import build

from .conftest import QUIET, refused, run_cli, snapshot
from .documents_for_tests import EXAMPLE


@pytest.mark.parametrize(
    "content, needles",
    [
        (b"", ["is empty"]),
        (b"   \n\n", ["is empty"]),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), ["looks binary", "NUL byte at offset 8"]),
        (
            "职业教育".encode() + b"\xff\xfe\xfa" + "发展".encode(),
            ["neither UTF-8 (invalid byte at offset 12)", "GB18030/GBK (invalid byte at offset"],
        ),
        (b"Just English text, no Chinese at all.", ["contains no Chinese text"]),
    ],
)
def test_add_refuses_unreadable_files_and_writes_nothing(built_project, tmp_path, content, needles):
    source = tmp_path / "input.txt"
    source.write_bytes(content)
    before = snapshot(built_project)
    refused(
        run_cli(built_project, "add", str(source), "--city", "example", "--name-zh", "示例市"), str(source), *needles
    )
    assert snapshot(built_project) == before


def test_add_refuses_the_same_file_twice(built_project):
    before = snapshot(built_project)
    source = built_project.raw / "qingyang.txt"
    refused(
        run_cli(built_project, "add", str(source), "--city", "another", "--name-zh", "另市"),
        "already registered as 'qingyang'",
        "nothing was added",
    )
    assert snapshot(built_project) == before


@pytest.mark.parametrize(
    "args, needles",
    [
        (["--city", "Bad-Slug"], ["city slug 'Bad-Slug' is not valid", "lowercase ASCII"]),
        (["--city", "example", "--issued", "2022-13-40"], ["'issued_date' is '2022-13-40'", "YYYY-MM-DD"]),
        (["--city", "example", "--doc-id", "qingyang"], ["doc_id 'qingyang' is already registered"]),
    ],
)
def test_add_refuses_bad_fields(built_project, tmp_path, args, needles):
    source = tmp_path / "plan.txt"
    source.write_text(EXAMPLE, encoding="utf-8")
    before = snapshot(built_project)
    refused(run_cli(built_project, "add", str(source), "--name-zh", "示例市", *args), *needles)
    assert snapshot(built_project) == before


def test_add_a_missing_path(built_project, tmp_path):
    refused(
        run_cli(built_project, "add", str(tmp_path / "nope.txt"), "--city", "example", "--name-zh", "示例市"),
        "nope.txt: no such file",
    )


def test_build_refuses_an_undecodable_registered_file_and_keeps_outputs(built_project, tmp_path):
    source = tmp_path / "plan.txt"
    source.write_text(EXAMPLE, encoding="utf-8")
    assert run_cli(built_project, "add", str(source), "--city", "example", "--name-zh", "示例市").returncode == 0
    build(built_project, **QUIET)
    before = {p: p.read_bytes() for p in built_project.processed.rglob("*") if p.is_file()}
    raw = built_project.raw / "example.txt"
    raw.write_bytes(raw.read_bytes() + b"\xff")  # now changed AND undecodable: the checksum speaks first
    refused(run_cli(built_project, "build"), "example.txt", "has changed since it was registered")
    assert {p: p.read_bytes() for p in built_project.processed.rglob("*") if p.is_file()} == before


@pytest.mark.slow
def test_a_five_megabyte_document_builds(project, tmp_path):
    copies = 5_000_000 // len(EXAMPLE.encode("utf-8")) + 1
    big = (EXAMPLE * copies).encode("utf-8")
    assert len(big) >= 5_000_000
    source = tmp_path / "big.txt"
    source.write_bytes(big)
    assert run_cli(project, "add", str(source), "--city", "big", "--name-zh", "大市").returncode == 0
    result = build(project, **QUIET)
    doc = result.tables["documents"].set_index("doc_id").loc["big"]
    assert doc.n_chars > 1_500_000
    # The example repeated: each of its nine targets once, every restatement kept as a mention.
    assert doc.n_targets == 9
    mentions = result.tables["target_mentions"]
    assert (mentions.doc_id == "big").sum() == 9 * copies


def test_a_line_of_100000_characters_builds(project, tmp_path):
    line = ("建设高水平专业群，深化产教融合，" * 6250)[:100_000]
    source = tmp_path / "long.txt"
    source.write_text("关于职业教育的实施方案\n" + line + "建成5个公共实训基地。\n", encoding="utf-8")
    assert run_cli(project, "add", str(source), "--city", "long", "--name-zh", "长市").returncode == 0
    result = build(project, **QUIET)
    t = result.tables["targets"]
    assert t[t.city == "long"].value.tolist() == [5]
    assert result.tables["sections"].query("doc_id == 'long'").shape[0] == 1


def test_an_unregistered_file_is_only_a_warning(project):
    (project.raw / "notes.docx").write_bytes(b"PK\x03\x04")
    proc = run_cli(project, "build")
    assert proc.returncode == 0
    assert "notes.docx: not in the registry" in proc.stderr and "compare add" in proc.stderr


def test_an_interrupted_swap_is_recovered(built_project):
    """A crash between the two renames of the output swap leaves data/.processed.previous; the next build restores it."""
    before = {
        p.relative_to(built_project.processed): p.read_bytes()
        for p in built_project.processed.rglob("*")
        if p.is_file()
    }
    previous = built_project.processed.with_name(".processed.previous")
    built_project.processed.rename(previous)
    build(built_project, **QUIET)
    after = {
        p.relative_to(built_project.processed): p.read_bytes()
        for p in built_project.processed.rglob("*")
        if p.is_file()
    }
    assert after == before and not previous.exists()
