"""The researcher's own tools: many documents added from one spreadsheet (all or none), every table in
one Excel workbook, Stata / Feather / Parquet files that read back as the tables."""

from __future__ import annotations

import csv
import io
import shutil
import zipfile

import openpyxl
import pandas as pd
import pyarrow.feather as feather
import pytest

from compare.config import Paths
from compare.export import MAX_CELL, export, workbook
from compare.registry import load_registry
from compare.schemas import ALL_TABLES
from compare.tables import table

from .conftest import REPO, refused, run_cli, snapshot
from .documents_for_tests import EXAMPLE


def _variant(i: int) -> str:
    """EXAMPLE as the plan of another city (distinct bytes, the same structure)."""
    return EXAMPLE.replace("示例市", f"示例{i}市")


def _folder(tmp_path, n: int):
    folder = tmp_path / "downloads"
    folder.mkdir()
    for i in range(n):
        (folder / f"plan{i}.txt").write_text(_variant(i), encoding="gbk" if i % 2 else "utf-8")
    return folder


def _manifest_csv(path, rows, encoding="utf-8-sig"):
    buf = io.StringIO()
    w = csv.DictWriter(buf, list(rows[0]), lineterminator="\r\n")
    w.writeheader()
    w.writerows(rows)
    path.write_bytes(
        buf.getvalue().encode(encoding.replace("-sig", ""))
        if encoding != "utf-8-sig"
        else b"\xef\xbb\xbf" + buf.getvalue().encode()
    )
    return path


# ---- compare add --manifest


def test_a_folder_of_documents_is_added_from_one_spreadsheet(project, tmp_path):
    folder = _folder(tmp_path, 12)
    manifest = folder / "documents.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["path", "city", "name_zh", "name_en", "province", "level", "issued"])
    for i in range(12):
        ws.append(
            [f"plan{i}.txt", f"city{i:02d}", f"示例{i}市", None, "甘肃省", "prefecture", "2022/5/20" if i else None]
        )
    ws.append([None] * 7)  # the empty row Excel leaves
    wb.save(manifest)
    before = len(load_registry(project))
    proc = run_cli(project, "add", "--manifest", str(manifest))
    assert proc.returncode == 0, proc.stderr
    assert "[12/12]" in proc.stdout and "12 documents added" in proc.stdout
    docs = load_registry(project)
    assert len(docs) == before + 12
    added = {d.doc_id: d for d in docs[before:]}
    assert added["city03"].city_zh == "示例3市" and added["city03"].issued_date == "2022-05-20"
    assert added["city00"].issued_date == "2022-05-20"  # read from the document when the row leaves it empty
    assert added["city01"].status == "draft"  # 征求意见稿
    assert all((project.raw / d.file).exists() for d in added.values())


def test_a_manifest_with_bad_rows_adds_nothing_and_names_every_bad_row(project, tmp_path):
    folder = _folder(tmp_path, 4)
    (folder / "copy.txt").write_text(_variant(0), encoding="utf-8")  # the same bytes as plan0
    (folder / "empty.txt").write_bytes(b"")
    rows = [
        {"path": "plan0.txt", "city": "alpha", "name_zh": "甲市", "level": "prefecture"},
        {"path": "missing.txt", "city": "beta", "name_zh": "乙市", "level": ""},
        {"path": "plan1.txt", "city": "Gamma City", "name_zh": "丙市", "level": ""},
        {"path": "plan2.txt", "city": "delta", "name_zh": "丁市", "level": "county"},
        {"path": "copy.txt", "city": "epsilon", "name_zh": "戊市", "level": ""},
        {"path": "empty.txt", "city": "zeta", "name_zh": "己市", "level": ""},
        {"path": "plan3.txt", "city": "eta", "name_zh": "", "level": ""},
    ]
    manifest = _manifest_csv(folder / "list.csv", rows, encoding="gbk")
    before = snapshot(project)
    proc = run_cli(project, "add", "--manifest", str(manifest))
    refused(
        proc,
        "nothing was added; 6 of 7 row(s)",
        "row 3: missing.txt: no such file",
        "row 4: plan1.txt: the city slug 'Gamma City'",
        "row 5: plan2.txt: the level 'county'",
        "row 6: copy.txt: this file is already registered as 'alpha'",
        "row 7: empty.txt: the file is empty",
        "row 8: name_zh is empty",
    )
    assert snapshot(project) == before


def test_a_manifest_with_unknown_columns_is_refused(project, tmp_path):
    manifest = _manifest_csv(tmp_path / "m.csv", [{"file": "a.txt", "city": "a", "name_zh": "甲"}])
    refused(run_cli(project, "add", "--manifest", str(manifest)), "lacks path", "does not know: file")
    refused(run_cli(project, "add"), "needs the document and its city")


# ---- every table for Excel


@pytest.fixture(scope="module")
def book(built, tmp_path_factory):
    """The workbook of a built project with the report spec (so targets link to their pages)."""
    source, _ = built
    root = tmp_path_factory.mktemp("book")
    shutil.copytree(source.root / "data", root / "data")
    shutil.copytree(REPO / "notebooks", root / "notebooks")
    paths = Paths(root)
    return openpyxl.load_workbook(io.BytesIO(workbook(paths))), paths


def test_the_workbook_has_a_sheet_per_table_as_excel_users_need(book):
    wb, paths = book
    assert wb.sheetnames == ["about 说明", *(n[:31] for n in ALL_TABLES)]
    targets = table("targets", paths)
    ws = wb["targets"]
    header = [c.value for c in ws[1]]
    assert header[0] == "target_id\n目标" and header[3] == "value\n目标值"
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref.startswith("A1:")
    assert ws.max_row == len(targets) + 1
    row = {h.split("\n")[0]: c.value for h, c in zip(header, ws[2], strict=True)}
    first = targets.iloc[0]
    assert row["target_id"] == first.target_id and row["value"] == first.value and isinstance(row["value"], int | float)
    assert ws.cell(1, 1).comment is not None  # each header explains its column
    width = ws.column_dimensions["B"].width
    assert width and width >= 10


def test_each_target_links_to_its_page(book):
    wb, paths = book
    ws = wb["targets"]
    header = [c.value for c in ws[1]]
    assert header[-1] == "page\n页面"
    links = [ws.cell(r, len(header)).hyperlink for r in range(2, ws.max_row + 1)]
    targets = [ws.cell(r, 2).value for r in range(2, ws.max_row + 1)]
    city = [ws.cell(r, 3).value for r in range(2, ws.max_row + 1)]
    for link, metric, c in zip(links, targets, city, strict=True):
        if c == "national":
            continue
        assert link is not None, (metric, c)
        page = link.target.replace("\\", "/").removeprefix("../../site/")  # Excel stores \ in relative links
        assert (REPO / "site" / page).exists(), page


def test_long_tables_are_cut_and_say_so(book):
    wb, paths = book
    pairs = table("section_pairs", paths)
    assert wb["section_pairs"].max_row - 1 == int((pairs["rank"] == 1).sum()) < len(pairs)
    about = {r[0]: r[2] for r in wb["about 说明"].iter_rows(min_row=2, values_only=True) if r[0]}
    assert "rank 1" in about["section_pairs"] and f"of {len(pairs):,} rows" in about["section_pairs"]


def test_the_workbook_is_byte_reproducible_and_cells_fit_excel(built, tmp_path):
    paths, _ = built
    assert workbook(paths) == workbook(paths)
    with zipfile.ZipFile(io.BytesIO(workbook(paths))) as z:
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in z.infolist())
    from compare.export import _cells

    long = pd.DataFrame({"doc_id": ["x"], "line": [1], "reason": ["r"], "text": ["字" * (MAX_CELL + 10)]})
    assert len(_cells(long, "cleaning_log")["text"].iloc[0]) <= MAX_CELL


# ---- Stata, Feather, Parquet


def test_stata_files_read_back_with_their_labels(built, tmp_path):
    paths, _ = built
    export(paths, "dta", tmp_path)
    for name, spec in ALL_TABLES.items():
        original = table(name, paths)
        back = pd.read_stata(tmp_path / f"{name}.dta")
        assert list(back.columns) == spec.columns and len(back) == len(original), name
    targets = pd.read_stata(tmp_path / "targets.dta")
    original = table("targets", paths)
    assert list(targets.unit.astype(str)) == list(original.unit)
    assert list(targets.comparator.astype(str)) == list(original.comparator)
    assert targets.value.tolist() == original.value.tolist()
    assert targets.year.isna().tolist() == original.year.isna().tolist()
    with pd.io.stata.StataReader(tmp_path / "targets.dta") as reader:
        labels = reader.variable_labels()
        values = reader.value_labels()
        assert reader.data_label.startswith("The tidy targets table")
    assert labels["value"].startswith("目标值") and labels["comparator"]
    assert set(values["comparator"].values()) >= {"=", ">=", "~"}
    again = {p.stem: p for p in export(paths, "dta", tmp_path / "again")}
    assert all((tmp_path / f"{n}.dta").read_bytes() == again[n].read_bytes() for n in ALL_TABLES)


@pytest.mark.parametrize("fmt", ["feather", "parquet"])
def test_feather_and_parquet_read_back_as_the_tables(built, tmp_path, fmt):
    paths, _ = built
    export(paths, fmt, tmp_path)
    for name in ALL_TABLES:
        original = table(name, paths)
        back = (
            feather.read_table(tmp_path / f"{name}.{fmt}").to_pandas()
            if fmt == "feather"
            else pd.read_parquet(tmp_path / f"{name}.{fmt}")
        )
        pd.testing.assert_frame_equal(back, original, check_dtype=False, obj=name)


def test_export_through_the_command(built_project, tmp_path):
    proc = run_cli(built_project, "export", "--format", "dta", "--out", str(tmp_path / "stata"))
    assert proc.returncode == 0, proc.stderr
    assert len(list((tmp_path / "stata").glob("*.dta"))) == len(ALL_TABLES)
    proc = run_cli(built_project, "export", "--format", "xlsx")
    assert proc.returncode == 0 and (built_project.processed / "compare.xlsx").exists()


# ---- citing


def test_compare_cite_gives_the_version_commit_and_data(built_project):
    from compare import __version__

    proc = run_cli(built_project, "cite")
    assert proc.returncode == 0, proc.stderr
    assert f"compare, version {__version__}" in proc.stdout and "6 documents, issued 2019-01-24" in proc.stdout
    assert "@software{compare," in proc.stdout


def test_stata_names_fit():
    import re

    for spec in ALL_TABLES.values():
        assert all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,31}", c) for c in spec.columns), spec.name
