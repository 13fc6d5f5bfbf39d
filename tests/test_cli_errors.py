"""Every way a user's input can be wrong, through the command a user types: exit status 2, one
paragraph naming the file and the fix, no traceback, and never "internal error". (Refusals of
`compare add`'s formats and `compare build`'s registry are in test_bad_input.py and test_build.py.)"""

from __future__ import annotations

import os
import shutil

import pytest

from compare.config import Paths

from .conftest import REPO, refused, run_cli
from .documents_for_tests import EXAMPLE


def add(paths: Paths, source, *extra: str):
    return run_cli(paths, "add", str(source), "--city", "example", "--name-zh", "示例市", *extra)


# ---- documents compare cannot read, refused before anything is written


@pytest.mark.parametrize(
    "name, content, needles",
    [
        (
            "bom.txt",
            b"\xef\xbb\xbf" + "职业".encode() + b"\xff\xfe",
            ["starts with a utf-8-sig byte-order mark but byte 9 of the file is not valid utf-8-sig"],
        ),
        (
            "page.html",
            b'<html><head><meta charset="gb2312"></head><body><p>\x81\x20</p></body></html>',
            ["declares gb2312 but byte", "Re-save it as UTF-8"],
        ),
        ("control.txt", "职业教育".encode() + bytes(range(1, 9)) * 3, ["contains control characters"]),
        ("broken.docx", b"PK\x03\x04 not really a zip", ["not a readable .docx file", "save it again as .docx"]),
        ("broken.pdf", b"%PDF-1.4 nothing else", ["not a readable PDF"]),
        ("empty.html", b"   ", ["the file is empty"]),
        ("table.xls", b"\xd0\xcf\x11\xe0", ["a spreadsheet ('.xls')", "compare add --manifest FILE"]),
        ("list.xlsx", b"PK\x03\x04", ["a spreadsheet ('.xlsx')", "--manifest"]),
        ("notes.rtfd", b"abc", ["compare cannot read '.rtfd' files", "Convert it"]),
    ],
)
def test_unreadable_documents_are_refused(built_project, tmp_path, name, content, needles):
    source = tmp_path / name
    source.write_bytes(content)
    before = sorted(p.name for p in built_project.raw.iterdir())
    refused(add(built_project, source), name, *needles)
    assert sorted(p.name for p in built_project.raw.iterdir()) == before


def test_a_scanned_pdf_is_refused_with_the_ocr_hint(built_project, tmp_path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 50)  # a page with no text layer, as a scanner makes it
    source = tmp_path / "scan.pdf"
    pdf.output(str(source))
    refused(add(built_project, source), "scan.pdf", "no text layer", "ocrmypdf")


def test_a_file_already_in_data_raw_under_the_new_name_is_refused(built_project, tmp_path):
    source = tmp_path / "plan.txt"
    source.write_text(EXAMPLE, encoding="utf-8")
    (built_project.raw / "example.txt").write_text("一个没有登记的文件", encoding="utf-8")
    refused(add(built_project, source), "example.txt: a file of that name is already in data/raw/", "--doc-id")


# ---- the registry


def test_a_missing_registry_is_refused(built_project):
    built_project.registry.unlink()
    refused(run_cli(built_project, "build"), "registry.csv: the registry is missing", "git checkout")


def test_an_empty_registry_is_refused(built_project):
    header = built_project.registry.read_text(encoding="utf-8").splitlines()[0]
    built_project.registry.write_text(header + "\n", encoding="utf-8")
    refused(run_cli(built_project, "build"), "no documents are registered", "compare add")


# ---- commands that read the built tables


@pytest.mark.parametrize("args", [("metrics",), ("metrics", "--unmapped"), ("evaluate",)])
def test_commands_that_read_tables_ask_for_a_build_first(project, args):
    refused(run_cli(project, *args), "not built yet. Run `make data` (or `compare build`) first")


def test_evaluate_refuses_a_missing_or_malformed_gold_file(built_project, tmp_path):
    refused(
        run_cli(built_project, "evaluate", "--gold", str(tmp_path / "nope.csv")),
        "nope.csv: the gold file does not exist",
    )
    gold = tmp_path / "gold.csv"
    gold.write_text(
        "doc_id,quote,value,value_max,unit,comparator,year,year_source,restated\n"
        "shangdang,建设20门思政微课,twenty,,count,=,,none,\n",
        encoding="utf-8",
    )
    refused(run_cli(built_project, "evaluate", "--gold", str(gold)), "gold.csv line 2: value 'twenty' is not a number")


# ---- the report


@pytest.fixture
def report_project(built_project):
    shutil.copytree(REPO / "notebooks", built_project.notebooks)
    return built_project


@pytest.mark.parametrize(
    "spec, needles",
    [
        ("reports: [\n", ["not a valid report spec"]),
        ("reports:\n  - {notebook: 01-overview, runs: weekly}\n", ["01-overview: 'runs' must be one of once"]),
        ("reports:\n  - {notebook: 09-nothing, runs: once}\n", ["notebooks/09-nothing.ipynb does not exist"]),
    ],
)
def test_a_malformed_report_spec_is_refused(report_project, spec, needles):
    (report_project.notebooks / "reports.yaml").write_text(spec, encoding="utf-8")
    refused(run_cli(report_project, "report", "plan"), "reports.yaml", *needles)


def test_screenshots_without_chromium_say_how_to_install_it(report_project, tmp_path):
    assert run_cli(report_project, "report", "plan").returncode == 0
    no_browser = {**os.environ, "PATH": str(tmp_path)}  # a PATH holding no chromium
    refused(
        run_cli(report_project, "report", "screenshots", env=no_browser), "chromium is not installed", "make browser"
    )


@pytest.mark.parametrize("name", ["old.doc", "plan.wps"])
def test_old_word_and_wps_files_say_how_to_convert_them(built_project, tmp_path, name):
    """Without LibreOffice on the PATH: the exact command that converts the file."""
    source = tmp_path / name
    source.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    env = dict(os.environ, PATH=os.path.dirname(shutil.which("python3") or "/usr/bin/python3"))
    proc = run_cli(built_project, "add", str(source), "--city", "example", "--name-zh", "示例市", env=env)
    refused(proc, name, "LibreOffice", f'soffice --headless --convert-to docx "{source}"')
