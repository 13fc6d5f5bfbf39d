"""New documents: `compare add`, every file format a government site hands out, several documents
per city, documents without numbering, traditional characters — and a sixth city end to end."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from compare import schemas
from compare.config import Paths
from compare.documents import process_document
from compare.intake import detect_metadata
from compare.pipeline import build
from compare.registry import Document, sha256_file
from compare.targets import targets_frame

from .conftest import QUIET, REPO, run_cli, scratch_project
from .documents_for_tests import EXAMPLE, EXAMPLE_METADATA, EXAMPLE_TARGETS, HOSTILE


def found_targets(result) -> list[tuple]:
    return sorted(
        [
            (t.primary.value, t.primary.value_max, t.primary.unit, t.primary.comparator, t.year[0], t.metric_id)
            for t in result.targets
        ],
        key=repr,
    )


def processed(path: Path, tmp_path: Path):
    """Read, clean, parse and extract one file as a registered document would be."""
    paths = Paths(tmp_path)
    paths.raw.mkdir(parents=True, exist_ok=True)
    target = paths.raw / path.name
    if path != target:
        target.write_bytes(path.read_bytes())
    doc = Document(
        "example",
        "example",
        "示例市",
        "Example",
        "",
        "prefecture",
        "",
        "",
        "",
        "",
        "draft",
        target.name,
        sha256_file(target),
    )
    return process_document(doc, paths)


# ---- compare add


def test_add_copies_registers_and_reads_metadata(project, tmp_path):
    source = tmp_path / "示例市职业教育方案.txt"
    source.write_text(EXAMPLE, encoding="utf-8")
    proc = run_cli(project, "add", str(source), "--city", "example", "--name-zh", "示例市", "--province", "示例省")
    assert proc.returncode == 0, proc.stderr
    assert "added example: data/raw/example.txt" in proc.stdout
    assert (project.raw / "example.txt").read_bytes() == source.read_bytes()
    with open(project.registry, encoding="utf-8") as f:
        row = list(csv.DictReader(f))[-1]
    assert {k: row[k] for k in EXAMPLE_METADATA} == EXAMPLE_METADATA
    assert (row["city_en"], row["province"], row["admin_level"], row["sha256"]) == (
        "Example",
        "示例省",
        "prefecture",
        sha256_file(source),
    )
    result = build(project, **QUIET)
    example = next(r for r in result.results if r.doc.doc_id == "example")
    assert found_targets(example) == EXAMPLE_TARGETS
    assert "example" in set(result.tables["targets"].city)


def test_metadata_of_the_five_documents_is_read_from_their_text():
    with open(REPO / "data" / "raw" / "registry.csv", encoding="utf-8") as f:
        registry = {r["doc_id"]: r for r in csv.DictReader(f)}
    for doc_id in ("qingyang", "qinhuangdao", "shangdang", "zhongwei"):
        found = detect_metadata((REPO / "data" / "raw" / f"{doc_id}.txt").read_text(encoding="utf-8"))
        for field in ("title", "doc_number", "issued_date", "status"):
            assert found[field] == registry[doc_id][field].replace(" ", ""), (doc_id, field)
    wuwei = detect_metadata((REPO / "data" / "raw" / "wuwei.txt").read_text(encoding="utf-8"))
    assert (wuwei["doc_number"], wuwei["issued_date"]) == (
        "武政发〔2020〕81号",
        "2020-12-01",
    )  # from the page's index block


def test_options_override_what_the_document_says(project, tmp_path):
    source = tmp_path / "plan.txt"
    source.write_text(EXAMPLE, encoding="utf-8")
    proc = run_cli(
        project,
        "add",
        str(source),
        "--city",
        "example",
        "--name-zh",
        "示例市",
        "--name-en",
        "Shili",
        "--level",
        "province",
        "--title",
        "另一个标题",
        "--doc-number",
        "示政办发〔2022〕5号",
        "--issued",
        "2022-06-01",
        "--status",
        "final",
    )
    assert proc.returncode == 0, proc.stderr
    with open(project.registry, encoding="utf-8") as f:
        row = list(csv.DictReader(f))[-1]
    assert [row[k] for k in ("city_en", "admin_level", "title", "doc_number", "issued_date", "status")] == [
        "Shili",
        "province",
        "另一个标题",
        "示政办发〔2022〕5号",
        "2022-06-01",
        "final",
    ]


def test_a_city_with_several_documents_keeps_them_apart(project, tmp_path):
    first, second = tmp_path / "plan.txt", tmp_path / "revision.txt"
    first.write_text(EXAMPLE, encoding="utf-8")
    second.write_text(EXAMPLE.replace("3至5个", "6个").replace("2022年5月20日", "2023年1月5日"), encoding="utf-8")
    for f in (first, second):
        assert run_cli(project, "add", str(f), "--city", "example", "--name-zh", "示例市").returncode == 0
    result = build(project, **QUIET)
    t = result.tables["targets"]
    bases = t[(t.city == "example") & (t.metric == "public_training_bases")].set_index("doc_id")
    assert bases.value.to_dict() == {"example": 3, "example-2": 6}
    assert set(result.tables["sections"].query("city == 'example'").doc_id) == {"example", "example-2"}
    from compare.plotting import document_label

    docs = result.tables["documents"]
    assert document_label(docs, "example-2") == "示例市 Example (example-2)"
    assert document_label(docs, "qingyang") == "庆阳市 Qingyang"


# ---- formats, as they come from government sites


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"])
def test_text_encodings_are_detected(tmp_path, encoding):
    path = tmp_path / "example.txt"
    path.write_bytes(EXAMPLE.encode(encoding))
    r = processed(path, tmp_path)
    assert r.decoded.encoding == {"gbk": "gb18030", "utf-16": "utf-16"}.get(encoding, encoding)
    assert found_targets(r) == EXAMPLE_TARGETS


def test_saved_web_page(tmp_path):
    paragraphs = "".join(f"<p>{line}</p>" for line in EXAMPLE.splitlines())
    page = f"""<!DOCTYPE html><html><head><meta charset="gb2312"><title>示例市</title>
<script>var tracker = "首页 统计代码";</script><style>.x{{color:red}}</style></head><body>
<div class="header"><a href="/">首页</a> 网站导航 政务公开 办事服务</div>
<div class="breadcrumb">首页 &gt; 政府信息公开 &gt; 政策文件</div>
<div class="main"><div class="article">{paragraphs}</div>
<div class="share">分享到：微信 微博</div></div>
<div class="footer">版权所有：示例市人民政府 网站标识码1234 ICP备12345678号</div></body></html>"""
    path = tmp_path / "example.html"
    path.write_bytes(page.encode("gb18030"))
    r = processed(path, tmp_path)
    assert r.decoded.format == "html"
    assert found_targets(r) == EXAMPLE_TARGETS
    for chrome in ("网站导航", "政府信息公开", "分享到", "版权所有", "统计代码"):
        assert chrome not in r.text


def test_a_web_page_is_read_in_the_encoding_it_declares(tmp_path):
    from compare.readers import read_document

    path = tmp_path / "taiwan.html"
    path.write_bytes(
        '<html><head><meta charset="big5"></head><body><div><p>建設職業教育學校10所。</p></div></body></html>'.encode(
            "big5"
        )
    )
    assert (read_document(path).encoding, read_document(path).text) == ("big5", "建設職業教育學校10所。")


def test_word_document(tmp_path):
    import docx

    document = docx.Document()
    for line in EXAMPLE.splitlines():
        document.add_paragraph(line)
    table = document.add_table(rows=2, cols=3)
    for cell, text in zip(table.rows[0].cells, ["序号", "工作任务", "责任部门"], strict=True):
        cell.text = text
    for cell, text in zip(table.rows[1].cells, ["1", "建设2个技能大师工作室", "市教育局"], strict=True):
        cell.text = text
    path = tmp_path / "example.docx"
    document.save(path)
    r = processed(path, tmp_path)
    assert r.decoded.format == "docx"
    # The example's targets, and the table row's: 2 studios, in the last section (no deadline there).
    assert found_targets(r) == sorted(
        [*EXAMPLE_TARGETS, (2, None, "count", "=", None, "skills_master_studios")], key=repr
    )
    assert "建设2个技能大师工作室" in r.text


def test_pdf_with_a_text_layer(tmp_path):
    from fpdf import FPDF

    from compare.config import FONT_FILE

    pdf = FPDF()
    pdf.add_page()
    pdf.add_font("noto", fname=str(FONT_FILE))
    pdf.set_font("noto", size=11)
    for line in EXAMPLE.splitlines():
        pdf.multi_cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
    path = tmp_path / "example.pdf"
    pdf.output(str(path))
    r = processed(path, tmp_path)
    assert r.decoded.format == "pdf"
    assert found_targets(r) == EXAMPLE_TARGETS


def test_traditional_characters_match_but_quotes_keep_them(tmp_path):
    import opencc

    traditional = opencc.OpenCC("s2t").convert(EXAMPLE)
    path = tmp_path / "example.txt"
    path.write_text(traditional, encoding="utf-8")
    r = processed(path, tmp_path)
    assert found_targets(r) == EXAMPLE_TARGETS
    labels = {t.primary.label for t in r.targets}
    assert "市級公共實訓基地" in labels  # as printed


def test_a_document_without_numbering_is_one_section_with_a_warning(tmp_path):
    path = tmp_path / "fragment.txt"
    path.write_text("到2024年，建成2个技能大师工作室，培育10名技术能手。\n其余工作另行部署。\n", encoding="utf-8")
    r = processed(path, tmp_path)
    assert [s.section_id for s in r.parsed.sections] == ["example/text"]
    assert any("no numbered headings" in w for w in r.warnings)
    assert [(t.primary.value, t.year[0]) for t in r.targets] == [(2, 2024), (10, 2024)]


def test_a_number_without_a_named_object_still_has_a_metric_name(tmp_path):
    """Found by the benchmark's synthetic text: "共建低于5个" counts nothing named, and its empty
    metric name failed the targets table's schema, stopping the whole build."""
    path = tmp_path / "fragment.txt"
    path.write_text("一、测试\n加强培育企业行业对接，鼓励校企合作，共建低于5个。\n", encoding="utf-8")
    r = processed(path, tmp_path)
    assert [(t.primary.value, t.primary.label, t.metric_id) for t in r.targets] == [(5, "", "label:unlabelled")]
    row = schemas.TARGETS.finalise(targets_frame([(r.doc.city, r.text, r.targets)])).iloc[0]
    assert (row.metric, row.metric_zh) == ("label:unlabelled", "（未标明）")


def test_chapters_and_articles_of_national_documents(tmp_path):
    path = tmp_path / "national.txt"
    path.write_text(
        "第一章 总则\n第一条 为推进职业教育发展，制定本办法。\n第二章 目标\n"
        "第二条 到2025年，建设100所高水平职业学校。\n",
        encoding="utf-8",
    )
    r = processed(path, tmp_path)
    ids = [s.section_id for s in r.parsed.sections]
    assert ids == ["example/第一章", "example/第一章/第一条", "example/第二章", "example/第二章/第二条"]
    assert [(t.primary.value, t.year[0]) for t in r.targets] == [(100, 2025)]


# ---- a sixth city, end to end: add, build, plan, a page, the index; its text escaped on the site


@pytest.mark.report
def test_sixth_city_reaches_every_table_and_the_site(built, tmp_path):
    from compare.report.index import write_index
    from compare.report.plan import write_plan

    paths = scratch_project(tmp_path)
    import shutil

    shutil.copytree(REPO / "notebooks", paths.notebooks)
    for name, text, slug, zh in (
        ("example.txt", EXAMPLE, "example", "示例市"),
        ("hostile.txt", HOSTILE, "hostile", "测试市"),
    ):
        (tmp_path / name).write_text(text, encoding="utf-8")
        assert run_cli(paths, "add", str(tmp_path / name), "--city", slug, "--name-zh", zh).returncode == 0
    result = build(paths, **QUIET)
    for table in ("documents", "sections", "targets", "section_pairs", "document_similarity", "keyness"):
        assert "example" in set(result.tables[table].filter(regex="^city").stack()), table
    pages = {p.name for p in write_plan(paths)}
    assert {"03-city-example", "03-city-hostile"} <= pages
    # a new city gets the pair pages of its three most similar cities (and of any city counting it in its three)
    assert len([p for p in pages if p.startswith("04-pair-") and "example" in p.split("-")[2:]]) >= 3
    hostile_pair = min(p for p in pages if p.startswith("04-pair-") and "hostile" in p.split("-")[2:])
    assert "02-metric-public_training_bases" in pages
    for page in ("03-city-hostile", hostile_pair):
        proc = run_cli(paths, "report", "run", page)
        assert proc.returncode == 0, proc.stderr
        assert run_cli(paths, "report", "render", page).returncode == 0
    write_index(paths)
    index = (paths.site / "index.html").read_text(encoding="utf-8")
    assert 'href="03-city-example.html"' in index and "示例市" in index
    for page in ("03-city-hostile", hostile_pair):
        html = (paths.site / f"{page}.html").read_text(encoding="utf-8")
        assert "<script" not in html and "<img src=x" not in html and "<b>示范</b>" not in html
        # shown as the cleaned text shows it (brackets made full-width), escaped
        assert "&lt;script&gt;alert（'x'）&lt;/script&gt;与&lt;img src=x onerror=alert（1）&gt;" in html


def test_a_corpus_of_one_document_builds_with_empty_tables(tmp_path):
    """Nothing to compare, no task, nothing removed: the tables exist, typed, with no rows."""
    paths = Paths(tmp_path)
    paths.raw.mkdir(parents=True)
    (paths.raw / "registry.csv").write_text(
        (REPO / "data/raw/registry.csv").read_text(encoding="utf-8").split("\n")[0] + "\n", encoding="utf-8"
    )
    (tmp_path / "plan.txt").write_text(EXAMPLE, encoding="utf-8")
    assert run_cli(paths, "add", str(tmp_path / "plan.txt"), "--city", "example", "--name-zh", "示例市").returncode == 0
    result = build(paths, **QUIET)
    assert len(result.tables["targets"]) == len(EXAMPLE_TARGETS)
    for name in ("shared_passages", "tasks", "section_pairs"):
        assert result.tables[name].empty
        assert pd.read_parquet(paths.processed / f"{name}.parquet").empty
