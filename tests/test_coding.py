"""The coding round trip: codebooks as data, coders' Excel sheets out and back, refusals that name the
row, agreement figures checked by hand, the adjudication sheet, and REFI-QDA projects that validate
against the REFI-QDA schemas and come back as codes."""

from __future__ import annotations

import zipfile

import openpyxl
import pandas as pd
import pytest
from lxml import etree

from compare import coding, qdpx
from compare.codebooks import CODEBOOK_DIR, NONE, checked, codebooks, parse_codebook
from compare.errors import CompareError
from compare.instruments import read_human_codes, shown_codes
from compare.pipeline import build
from compare.tables import table
from tests.conftest import QUIET, REPO, refused, run_cli

SCHEMAS = REPO / "tests" / "schemas" / "refi-qda"
RZ_TEXT = (CODEBOOK_DIR / "rothwell_zegveld.yaml").read_text(encoding="utf-8")


# ---- codebooks


def test_the_codebooks_hold_what_the_method_needs():
    books = {b.id: b for b in codebooks()}
    assert set(books) == {"rothwell_zegveld", "mcdonnell_elmore", "actors"}
    rz = books["rothwell_zegveld"]
    assert [t.id for t in rz.types] == ["supply", "environment", "demand"]
    per_type = {t.id: [c.id for c in rz.codes if c.type == t.id] for t in rz.types}
    assert len(per_type["supply"]) == 6 and len(per_type["environment"]) == 7 and len(per_type["demand"]) == 6
    assert [c.id for c in books["mcdonnell_elmore"].codes] == [
        "mandate",
        "inducement",
        "capacity_building",
        "system_changing",
        "hortatory",
    ]
    assert {"government", "schools", "enterprises", "industry", "learners"} <= {c.id for c in books["actors"].codes}
    for b in books.values():
        for c in b.codes:
            assert c.zh and c.en and len(c.definition) > 40 and c.cues, (b.id, c.id)
            assert c.example_doc and c.example_quote, (b.id, c.id)
        assert b.code_ids[-1] == NONE


def test_examples_are_quotes_from_the_corpus(texts):
    for b in codebooks():
        for c in b.codes:
            assert c.example_quote in texts[c.example_doc], (b.id, c.id, c.example_quote)


@pytest.mark.parametrize(
    ("edit", "needles"),
    [
        (lambda t: t.replace("id: rothwell_zegveld", "id: Rothwell Zegveld"), ["the codebook", "slug"]),
        (
            lambda t: t.replace('      - "双师"\n', '      - "双师("\n', 1),
            ["teaching_staff", "cues", "regular expression"],
        ),
        (lambda t: t.replace("    type: supply\n", "    type: suply\n", 1), ["teaching_staff", "suply", "types"]),
        (lambda t: t.replace("  - id: funding\n", "  - id: none\n", 1), ["code 2 (none)", "reserved"]),
        (lambda t: t.replace("  - id: funding\n", "  - id: teaching_staff\n", 1), ["used twice"]),
        (
            lambda t: t.replace("order: [tax_incentives, ", "order: [", 1),
            ["selection: order", "missing tax_incentives"],
        ),
        (lambda t: t.replace("codes:\n", "codes: []\nold_codes:\n", 1), ["has no 'codes:' list"]),
        (lambda t: t + "\n  bad: [unclosed\n", ["not valid YAML"]),
    ],
)
def test_a_malformed_codebook_is_refused_naming_the_entry(edit, needles):
    with pytest.raises(CompareError) as e:
        parse_codebook(edit(RZ_TEXT), "my.yaml")
    assert str(e.value).startswith("my.yaml")
    for n in needles:
        assert n in str(e.value), (n, str(e.value))


def test_codebooks_used_together_are_checked():
    books = codebooks()
    with pytest.raises(CompareError, match="used by another codebook"):
        checked([*books, books[0]])
    actors = next(b for b in books if b.id == "actors")
    with pytest.raises(CompareError, match="none_with names 'rothwell_zegveld'"):
        checked([actors])


# ---- the Excel round trip


def _fill(path, out, codes_by_framework, rows=None, edit=None):
    """Put codes into a coder's sheet as Excel would save it: codes_by_framework(unit_id) → {fw: code}."""
    wb = openpyxl.load_workbook(path)
    ws = wb["units"]
    header = [c.value for c in ws[1]]
    for i, row in enumerate(ws.iter_rows(min_row=2), start=2):
        if rows is not None and i not in rows:
            continue
        for fw, code in codes_by_framework(row[0].value).items():
            row[header.index(f"{fw} code 编码")].value = code
    if edit:
        edit(ws, header)
    wb.save(out)
    return out


@pytest.fixture
def sheet(built_project):
    out = coding.export_sheet(built_project, "wang", codebooks())
    return built_project, out


def test_the_sheet_lists_every_unit_with_context_and_drop_downs(sheet):
    paths, out = sheet
    wb = openpyxl.load_workbook(out)
    ws = wb["units"]
    header = [c.value for c in ws[1]]
    coded = table("instrument_units", paths).query("excluded == ''")
    assert ws.max_row - 1 == len(coded)
    assert header[:6] == ["unit_id 编码单元", "document 文件", "section 章节", "before 上文", "text 条款", "after 下文"]
    rule = table("instrument_codes", paths).query("source == 'rule' and framework == 'rothwell_zegveld'")
    rule = rule.set_index("unit_id").code
    col = header.index("rothwell_zegveld rule 规则预标")
    assert all(r[col].value == rule[r[0].value] for r in ws.iter_rows(min_row=2))
    validations = ws.data_validations.dataValidation
    assert len(validations) == 3 and all(v.type == "list" for v in validations)
    assert {c.value for c in wb["codebook"]["B"][1:]} >= {"teaching_staff", "mandate", "schools", NONE}
    blind = coding.export_sheet(paths, "li", codebooks(), blind=True)
    assert not any("rule" in str(c.value) for c in openpyxl.load_workbook(blind)["units"][1])


def test_export_is_deterministic(sheet):
    paths, out = sheet
    first = out.read_bytes()
    assert coding.export_sheet(paths, "wang", codebooks()).read_bytes() == first


def test_import_reads_the_codes_back_and_merges(sheet, tmp_path):
    paths, out = sheet
    books = codebooks()
    filled = _fill(
        out, tmp_path / "a.xlsx", lambda u: {"rothwell_zegveld": "funding", "actors": "government"}, rows=range(2, 12)
    )
    result = coding.import_sheet(paths, filled, books)
    assert result.coded == 10 and result.record == paths.coding / "wang.codes.csv"
    record = pd.read_csv(result.record, dtype=str)
    assert len(record) == 20 and set(record.source) == {"coder:wang"}
    # a second sheet codes more units and changes one code: earlier codes stay, the new one wins
    again = coding.export_sheet(paths, "wang", books)  # the sheet shows the codes so far
    ws = openpyxl.load_workbook(again)["units"]
    header = [c.value for c in ws[1]]
    assert ws.cell(2, header.index("rothwell_zegveld code 编码") + 1).value == "funding"
    filled = _fill(again, tmp_path / "b.xlsx", lambda u: {"rothwell_zegveld": "regulation"}, rows=range(11, 14))
    coding.import_sheet(paths, filled, books)
    record = pd.read_csv(result.record, dtype=str).set_index(["unit_id", "framework"]).code
    assert len(record) == 20 + 2  # rows 12 and 13 are new in rothwell_zegveld
    assert (record.xs("rothwell_zegveld", level="framework") == "regulation").sum() == 3
    # the build shows the coder's codes beside the rules', never over them
    rules_before = table("instrument_codes", paths).query("source == 'rule'")
    build(paths, **QUIET)
    codes = table("instrument_codes", paths)
    assert len(codes[codes.source == "coder:wang"]) == 22
    rules_after = codes[codes.source == "rule"].reset_index(drop=True)
    pd.testing.assert_frame_equal(rules_after, rules_before.reset_index(drop=True))


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (
            lambda ws, h: ws.cell(3, h.index("rothwell_zegveld code 编码") + 1, "fundng"),
            "row 3: 'fundng' is not a code",
        ),
        (lambda ws, h: ws.cell(4, h.index("check 校验") + 1, "000000000000"), "row 4: the text of unit"),
        (lambda ws, h: ws.cell(5, 1, ws.cell(2, 1).value), "row 5: unit"),
        (lambda ws, h: ws.delete_rows(6, 3), "3 unit row(s) of the exported sheet are missing"),
        (lambda ws, h: ws.cell(7, 1, "qingyang-99-1"), "row 7: unit qingyang-99-1 is not a unit"),
    ],
)
def test_a_sheet_that_cannot_be_trusted_is_refused_and_nothing_is_lost(sheet, tmp_path, edit, needle):
    paths, out = sheet
    books = codebooks()
    good = _fill(out, tmp_path / "good.xlsx", lambda u: {"rothwell_zegveld": "funding"}, rows=range(2, 6))
    coding.import_sheet(paths, good, books)
    before = (paths.coding / "wang.codes.csv").read_bytes()
    bad = _fill(out, tmp_path / "bad.xlsx", lambda u: {"rothwell_zegveld": "regulation"}, rows=range(2, 9), edit=edit)
    proc = run_cli(paths, "code", "import", str(bad))
    refused(proc, str(bad), needle, "unchanged")
    assert (paths.coding / "wang.codes.csv").read_bytes() == before


def test_a_file_that_is_not_a_sheet_is_refused(built_project, tmp_path):
    junk = tmp_path / "notes.xlsx"
    junk.write_text("not a workbook")
    refused(run_cli(built_project, "code", "import", str(junk)), "not an Excel workbook")
    other = tmp_path / "other.xlsx"
    openpyxl.Workbook().save(other)
    refused(run_cli(built_project, "code", "import", str(other)), "not a compare coding sheet")
    refused(run_cli(built_project, "code", "export"), "--coder NAME")
    refused(run_cli(built_project, "code", "export", "--coder", "rule"), "coder name 'rule'")
    refused(run_cli(built_project, "code", "agree"), "agreement needs two codings")


# ---- agreement


def test_agreement_figures_match_a_hand_computation():
    """Four units, codes a = x x y y, b = x y y y. Percent 3/4. Cohen: pe = 2/4·1/4 + 2/4·3/4 = 1/2,
    kappa = (3/4 − 1/2)/(1 − 1/2) = 0.5. Krippendorff (nominal): coincidences o_xx = 2, o_xy = o_yx = 1,
    o_yy = 4, n = 8, n_x = 3, n_y = 5; Do = 2/8, De = 2·3·5/(8·7) = 30/56, alpha = 1 − Do/De = 0.533."""
    (me,) = [b for b in codebooks() if b.id == "mcdonnell_elmore"]
    idx = ["u1", "u2", "u3", "u4"]
    a = pd.Series(["mandate", "mandate", "inducement", "inducement"], index=idx)
    b = pd.Series(["mandate", "inducement", "inducement", "inducement"], index=idx)
    ag = coding.agreement(a, b, me, "a", "b")
    assert (ag.n, ag.percent, ag.kappa, ag.alpha) == (4, 0.75, 0.5, 0.533)
    assert ag.confusion.loc["mandate", "inducement"] == 1 and ag.confusion.loc["inducement", "inducement"] == 2
    per = ag.per_code.set_index("code")
    assert per.loc["mandate", "agree"] == 1 and per.loc["inducement", "n_b"] == 3


def test_type_agreement_counts_codes_of_one_type_as_agreeing():
    (rz,) = [b for b in codebooks() if b.id == "rothwell_zegveld"]
    a = pd.Series(["funding", "teaching_staff", "regulation", "none"], index=list("wxyz"))
    b = pd.Series(["teaching_staff", "funding", "regulation", "demonstration"], index=list("wxyz"))
    ag = coding.agreement(a, b, rz, "a", "b")
    assert ag.percent == 0.25
    per = ag.per_type.set_index("type")
    assert per.loc["supply", "precision"] == 1.0 and per.loc["supply", "recall"] == 1.0
    assert per.loc["demand", "recall"] == 0.0


def test_two_coders_adjudication_and_what_the_pages_show(sheet, tmp_path):
    paths, out = sheet
    books = codebooks()
    rows = range(2, 22)
    coding.import_sheet(paths, _fill(out, tmp_path / "w.xlsx", lambda u: {"rothwell_zegveld": "funding"}, rows), books)
    li = coding.export_sheet(paths, "li", books, blind=True)
    flip = {}

    def li_codes(unit):
        flip[unit] = "funding" if len(flip) % 4 else "regulation"  # every 4th unit differs
        return {"rothwell_zegveld": flip[unit]}

    coding.import_sheet(paths, _fill(li, tmp_path / "l.xlsx", li_codes, rows), books)
    result = coding.agree(paths, books, None, None)
    (ag,) = result.agreements
    assert (ag.a, ag.b, ag.n, ag.percent) == ("li", "wang", 20, 0.75)
    assert result.disagreements == 5 and result.sheet == paths.coding / "adjudication.xlsx"
    wb = openpyxl.load_workbook(result.sheet)
    ws = wb["units"]
    header = [c.value for c in ws[1]]
    assert ws.max_row == 6
    decision = header.index("rothwell_zegveld code 裁决") + 1
    for r in range(2, 7):
        ws.cell(r, decision, "regulation")
    wb.save(tmp_path / "adj.xlsx")
    imported = coding.import_sheet(paths, tmp_path / "adj.xlsx", books)
    assert imported.kind == "adjudication" and imported.coded == 5
    # what a page shows: human = adjudicated, else the coders' agreed code; never the rules' mixed in
    units = table("instrument_units", paths)
    human = read_human_codes(paths.coding)
    codes = human.merge(units[["unit_id", "doc_id", "city"]], on="unit_id").assign(type="")
    shown, source, unresolved = shown_codes(codes, "human")
    assert source == "human" and unresolved.empty
    got = shown[shown.framework == "rothwell_zegveld"].set_index("unit_id").code
    assert len(got) == 20 and (got == "regulation").sum() == 5 and (got == "funding").sum() == 15
    # rule against a gold file, through the command
    gold = tmp_path / "gold.csv"
    pd.DataFrame({"unit_id": list(got.index), "rothwell_zegveld": list(got)}).to_csv(gold, index=False)
    proc = run_cli(paths, "code", "agree", "--gold", str(gold), "--framework", "rothwell_zegveld")
    assert proc.returncode == 0, proc.stderr
    assert "rothwell_zegveld: rule vs gold, 20 units coded by both" in proc.stdout
    assert "Cohen's kappa" in proc.stdout and "Krippendorff's alpha" in proc.stdout


def test_a_gold_file_naming_an_unknown_unit_is_refused(built_project, tmp_path):
    gold = tmp_path / "gold.csv"
    pd.DataFrame({"unit_id": ["qingyang-98-1"], "rothwell_zegveld": ["funding"]}).to_csv(gold, index=False)
    refused(run_cli(built_project, "code", "agree", "--gold", str(gold)), "line 2: unit qingyang-98-1")


# ---- REFI-QDA


@pytest.fixture(scope="module")
def schemas():
    return {
        name: etree.XMLSchema(etree.parse(str(SCHEMAS / f"{name}.xsd"))) for name in ("Project-mrt2019", "Codebook")
    }


def test_qdpx_and_qdc_validate_against_the_refi_qda_schemas(sheet, tmp_path, schemas):
    paths, out = sheet
    books = codebooks()
    coding.import_sheet(paths, _fill(out, tmp_path / "w.xlsx", lambda u: {"actors": "schools"}, range(2, 9)), books)
    project, qdc = qdpx.export_project(paths, books)
    z = zipfile.ZipFile(project)
    root = etree.fromstring(z.read("project.qde"))
    assert schemas["Project-mrt2019"].validate(root), schemas["Project-mrt2019"].error_log
    assert schemas["Codebook"].validate(etree.parse(str(qdc))), schemas["Codebook"].error_log
    ns = {"q": qdpx.PROJECT_NS}
    assert {u.get("name") for u in root.iterfind(".//q:User", ns)} == {"compare rules", "wang"}
    sources = root.findall(".//q:TextSource", ns)
    assert len(sources) == len(table("documents", paths))
    units = table("instrument_units", paths).set_index("unit_id")
    for src in sources:
        text = z.read("Sources/" + src.get("plainTextPath").removeprefix("internal://")).decode("utf-8")
        for sel in src.iterfind("q:PlainTextSelection", ns):
            u = units.loc[sel.get("name")]
            assert text[int(sel.get("startPosition")) : int(sel.get("endPosition"))] == u.text
    first = project.read_bytes(), qdc.read_bytes()
    assert (qdpx.export_project(paths, books)[0].read_bytes(), qdc.read_bytes()) == first


def test_a_project_coded_elsewhere_comes_back_as_a_coders_codes(sheet, tmp_path):
    """As NVivo or MAXQDA would return it: the same sources, a new user, new codings on selections."""
    paths, _ = sheet
    books = codebooks()
    project, _ = qdpx.export_project(paths, books)
    P = f"{{{qdpx.PROJECT_NS}}}"
    z = zipfile.ZipFile(project)
    root = etree.fromstring(z.read("project.qde"))
    users = root.find(f"{P}Users")
    etree.SubElement(users, f"{P}User", guid="0f8fad5b-d9cb-469f-a165-70867728950e", name="Zhang Wei")
    units = table("instrument_units", paths).query("doc_id == 'zhongwei' and excluded == ''").head(3)
    src = next(s for s in root.iter(f"{P}TextSource") if s.get("name").startswith("zhongwei "))
    for i, u in enumerate(units.itertuples()):
        sel = etree.SubElement(
            src,
            f"{P}PlainTextSelection",
            guid=f"0f8fad5b-d9cb-469f-a165-7086772895{i:02d}",
            startPosition=str(u.char_start),
            endPosition=str(u.char_end - 1),  # a selection a character short still codes the unit
        )
        coding_el = etree.SubElement(
            sel,
            f"{P}Coding",
            guid=f"1f8fad5b-d9cb-469f-a165-7086772895{i:02d}",
            creatingUser="0f8fad5b-d9cb-469f-a165-70867728950e",
        )
        etree.SubElement(coding_el, f"{P}CodeRef", targetGUID=qdpx.guid("code", "rothwell_zegveld", "funding"))
    back = tmp_path / "back.qdpx"
    with zipfile.ZipFile(back, "w") as w:
        for name in z.namelist():
            w.writestr(name, etree.tostring(root) if name == "project.qde" else z.read(name))
    proc = run_cli(paths, "code", "import", str(back))
    assert proc.returncode == 0, proc.stderr
    record = pd.read_csv(paths.coding / "Zhang_Wei.codes.csv", dtype=str)
    assert list(record.unit_id) == sorted(units.unit_id) and set(record.code) == {"funding"}
    assert set(record.source) == {"coder:Zhang_Wei"}
    # the same project with one source's text edited in the QDA program is refused, nothing imported
    edited = tmp_path / "edited.qdpx"
    member = "Sources/" + src.get("plainTextPath").removeprefix("internal://")
    with zipfile.ZipFile(edited, "w") as w:
        for name in z.namelist():
            data = etree.tostring(root) if name == "project.qde" else z.read(name)
            w.writestr(name, data + "改".encode() if name == member else data)
    before = (paths.coding / "Zhang_Wei.codes.csv").read_bytes()
    refused(run_cli(paths, "code", "import", str(edited)), "its text differs", "Nothing was imported")
    assert (paths.coding / "Zhang_Wei.codes.csv").read_bytes() == before


def test_a_researchers_codebook_is_installed_and_used(built_project, tmp_path):
    own = tmp_path / "mine.yaml"
    own.write_text(
        RZ_TEXT.replace("id: rothwell_zegveld", "id: my_tools", 1).replace(
            "en: Policy instruments (Rothwell & Zegveld)", "en: My tools", 1
        ),
        encoding="utf-8",
    )
    proc = run_cli(built_project, "code", "export", "--coder", "wang", "--codebook", str(own))
    assert proc.returncode == 0, proc.stderr
    assert (built_project.coding / "codebooks" / "my_tools.yaml").exists()
    header = [c.value for c in openpyxl.load_workbook(built_project.coding / "sheets" / "wang.xlsx")["units"][1]]
    assert "my_tools code 编码" in header and "rothwell_zegveld code 编码" not in header
    assert "my_tools" in {b.id for b in codebooks(built_project)}
    bad = tmp_path / "bad.yaml"
    bad.write_text(RZ_TEXT.replace('      - "双师"\n', '      - "双师("\n', 1), encoding="utf-8")
    refused(
        run_cli(built_project, "code", "export", "--coder", "wang", "--codebook", str(bad)), str(bad), "teaching_staff"
    )
