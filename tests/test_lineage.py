"""Lineage: which documents are whose parents, what each sentence took from a parent, and how each
target relates to the parent's — on documents written for the test, and on the national plan and
the five city plans."""

from __future__ import annotations

import pandas as pd
import pytest

from compare.citations import normalised_title
from compare.config import Paths
from compare.errors import CompareError
from compare.intake import add_document
from compare.lineage import resolve_parents, same_work, sentences
from compare.pipeline import build
from compare.registry import write_registry

from .conftest import QUIET, refused, run_cli

PARENT = """国务院关于印发测试改革方案的通知
测试改革方案
一、总体要求
（一）建设目标。到2022年，建设50所高水平职业学校。“双师型”教师占专业课教师总数超过一半。
（二）保障措施。各级政府要建立与办学规模相适应的财政投入制度，完善职业教育经费投入机制。国务院有关部门要加强统筹协调，每年召开两次工作会议。
（三）质量评价。建立职业教育质量评价制度，定期开展专项督导评估工作，督导结果向社会公开。
"""

CHILD = """示例市关于贯彻落实测试改革方案的实施意见
为贯彻落实《测试改革方案》，结合实际，制定本意见。
一、主要目标
（一）建设目标。到2025年，建设5所高水平职业学校。“双师型”教师占专业课教师总数超过60%。
（二）保障措施。各级政府要建立与办学规模相适应的财政投入制度，完善职业教育经费投入机制。市教育局要加强统筹协调，每年召开一次工作会议。
（三）本地特色。发展本地特色产业学院，新增3个草原牧业专业，服务乡村振兴战略。建立健全校企合作长效机制，推动职业院校与本地龙头企业共建共享实训基地。
"""

SIBLING = """同省市关于职业教育的实施方案
一、重点任务
（一）校企合作。建立健全校企合作长效机制，推动职业院校与本地龙头企业共建共享实训基地。
"""

# What a reader finds, sentence by sentence (sentences end at 。！？；): (the sentence, its label).
EXPECTED = [
    ("示例市关于贯彻落实测试改革方案的实施意见", "local"),
    ("为贯彻落实《测试改革方案》，结合实际，制定本意见。", "local"),
    ("主要目标", "local"),
    ("建设目标。", "local"),  # a heading too short to trace
    ("到2025年，建设5所高水平职业学校。", "adapted"),  # year and number changed
    ("“双师型”教师占专业课教师总数超过60%。", "adapted"),  # a number changed
    ("保障措施。", "local"),
    ("各级政府要建立与办学规模相适应的财政投入制度，完善职业教育经费投入机制。", "copied"),
    ("市教育局要加强统筹协调，每年召开一次工作会议。", "adapted"),  # the body and the number changed
    ("本地特色。", "local"),
    ("发展本地特色产业学院，新增3个草原牧业专业，服务乡村振兴战略。", "local"),
    ("建立健全校企合作长效机制，推动职业院校与本地龙头企业共建共享实训基地。", "sibling"),  # the sibling has it
]


@pytest.fixture(scope="module")
def family(tmp_path_factory):
    """A national parent, a city plan that copies, adapts and adds to it, and a sibling city."""
    root = tmp_path_factory.mktemp("family")
    paths = Paths(root)
    paths.raw.mkdir(parents=True)
    write_registry(paths, [])
    for name, text, city, zh, level, province in (
        ("parent.txt", PARENT, "guojia", "国家", "national", ""),
        ("child.txt", CHILD, "shili", "示例市", "prefecture", "示例省"),
        ("sibling.txt", SIBLING, "tongsheng", "同省市", "prefecture", "示例省"),
    ):
        (root / name).write_text(text, encoding="utf-8")
        add_document(paths, root / name, city, zh, province=province, admin_level=level)
    return paths, build(paths, **QUIET).tables


def test_a_child_document_gets_exactly_the_expected_labels(family):
    _, tables = family
    rows = tables["lineage"].query("doc_id == 'shili'")
    got = [(r.text, r.label) for r in rows.itertuples()]
    assert EXPECTED == got
    copied = rows[rows.label == "copied"].iloc[0]
    assert (copied.parent_doc_id, copied.similarity, list(copied.changes)) == ("guojia", 1.0, [])
    sibling = rows[rows.label == "sibling"].iloc[0]
    assert sibling.parent_doc_id == "tongsheng"


def test_adapted_sentences_name_what_changed(family):
    _, tables = family
    rows = tables["lineage"].query("doc_id == 'shili' and label == 'adapted'").set_index("text")
    changes = {t: list(rows.loc[t, "changes"]) for t in rows.index}
    assert changes == {
        "到2025年，建设5所高水平职业学校。": ["year: 2022 → 2025", "number: 50 → 5"],
        "“双师型”教师占专业课教师总数超过60%。": ["number: 一半 → 60"],
        "市教育局要加强统筹协调，每年召开一次工作会议。": ["body: 国务院有关部门 → 市教育局", "number: 两次 → 一次"],
    }


def test_target_relations_against_the_parent(family):
    _, tables = family
    t = tables["targets"].set_index("target_id")
    rel = tables["target_lineage"].query("doc_id == 'shili'")
    got = sorted(
        (
            t.loc[r.target_id, "value_text"] if r.target_id else "",
            r.relation,
            t.loc[r.parent_target_id, "value_text"] if r.parent_target_id else "",
            None if pd.isna(r.deadline_shift) else int(r.deadline_shift),
        )
        for r in rel.itertuples()
    )
    assert got == sorted(
        [
            ("5所", "rescaled", "50所", 3),  # a national count against a city's: not compared
            ("60%", "raised", "一半", 3),  # a larger share, three years later
            ("一次", "lowered", "两次", None),  # fewer meetings a year; neither has a deadline
            ("3个", "new", "", None),
        ],
        key=str,
    )


def test_a_parent_target_not_taken_up_is_dropped(tmp_path):
    paths = Paths(tmp_path)
    paths.raw.mkdir(parents=True)
    write_registry(paths, [])
    (tmp_path / "p.txt").write_text(PARENT, encoding="utf-8")
    (tmp_path / "c.txt").write_text("示例市方案\n一、目标\n（一）发展。新增3个草原牧业专业。\n", encoding="utf-8")
    add_document(paths, tmp_path / "p.txt", "guojia", "国家", admin_level="national")
    add_document(paths, tmp_path / "c.txt", "shili", "示例市")
    rel = build(paths, **QUIET).tables["target_lineage"]
    assert sorted(rel.relation) == ["dropped", "dropped", "dropped", "new"]
    assert set(rel.parent_doc_id) == {"guojia"}


def test_the_parents_of_the_test_family(family):
    _, tables = family
    p = tables["document_parents"]
    assert list(zip(p.doc_id, p.parent_doc_id, p.basis, strict=True)) == [
        ("shili", "guojia", "title"),  # 《测试改革方案》 is the plan the registered notice issues
        ("tongsheng", "guojia", "level"),  # cites nothing: the hierarchy
    ]
    assert set(tables["lineage"].doc_id) == {"shili", "tongsheng"}  # the national plan has no parent


# ---- resolving declared parents


def docs_frame(rows):
    return pd.DataFrame(rows, columns=["doc_id", "city", "province", "admin_level", "title", "doc_number"])


def cites(rows):
    return pd.DataFrame(
        [(*r, 0, 10, True) for r in rows],
        columns=["doc_id", "section_id", "title", "doc_number", "char_start", "char_end", "is_parent"],
    )


def test_parents_are_matched_by_number_then_by_title_and_listed_when_missing():
    docs = docs_frame(
        [
            ("gs", "gansu", "甘肃省", "province", "关于整省推进职业教育发展的意见", "甘政发〔2020〕38号"),
            ("ly", "lanzhou", "甘肃省", "prefecture", "兰州市实施方案", ""),
            ("qy", "qingyang", "甘肃省", "prefecture", "庆阳市实施意见", ""),
            ("nx", "yinchuan", "宁夏回族自治区", "prefecture", "银川市方案", ""),
        ]
    )
    citations = cites(
        [
            ("ly", "ly/preamble", "", "甘政发〔2020〕38号"),  # by 文号
            ("qy", "qy/preamble", "关于整省推进职业教育发展的意见", ""),  # by title
            ("nx", "nx/preamble", "自治区人民政府关于印发〈深化产教融合实施方案〉的通知", "宁政规发〔2020〕3号"),
            ("nx", "nx/preamble", "自治区深化产教融合实施方案", ""),  # the same work again, without its number
        ]
    )
    links = [(x.doc_id, x.parent_doc_id, x.basis) for x in resolve_parents(docs, citations)]
    assert links == [("ly", "gs", "doc_number"), ("nx", "", "unresolved"), ("qy", "gs", "title")]


def test_a_cycle_of_declared_parents_is_an_error_naming_the_documents():
    docs = docs_frame(
        [
            ("a", "a", "", "prefecture", "甲市方案", "甲发〔2020〕1号"),
            ("b", "b", "", "prefecture", "乙市方案", "乙发〔2020〕2号"),
        ]
    )
    with pytest.raises(CompareError, match="the declared parents form a cycle: a → b → a"):
        resolve_parents(
            docs, cites([("a", "a/preamble", "", "乙发〔2020〕2号"), ("b", "b/preamble", "", "甲发〔2020〕1号")])
        )


def test_a_cycle_stops_the_build_with_one_paragraph(tmp_path):
    paths = Paths(tmp_path)
    paths.raw.mkdir(parents=True)
    write_registry(paths, [])
    for name, number, cited in (
        ("a", "甲发〔2020〕1号", "乙发〔2020〕2号"),
        ("b", "乙发〔2020〕2号", "甲发〔2020〕1号"),
    ):
        (tmp_path / f"{name}.txt").write_text(
            f"{name}市方案\n{number}\n根据（{cited}）制定本方案。\n一、目标\n建设3个基地。\n", encoding="utf-8"
        )
        add_document(paths, tmp_path / f"{name}.txt", name, f"{name}市", doc_number=number)
    refused(run_cli(paths, "build"), "the declared parents form a cycle: a → b → a")


@pytest.mark.parametrize(
    "a, b, same",
    [
        ("国务院关于印发国家职业教育改革实施方案的通知", "国家职业教育改革实施方案", True),
        ("自治区深化产教融合推进职业教育改革发展实施方案", "深化产教融合推进职业教育改革发展实施方案", True),
        ("职业教育法", "中华人民共和国职业教育法实施条例", False),
    ],
)
def test_one_work_under_its_notice_or_its_issuer(a, b, same):
    assert same_work(normalised_title(a), normalised_title(b)) is same


# ---- the national plan and the five city plans


def test_the_national_plan_is_registered_and_parsed(tables):
    d = tables["documents"].set_index("doc_id").loc["national"]
    assert (d.admin_level, d.issuer, d.doc_number, d.issued_date) == (
        "national",
        "国务院",
        "国发〔2019〕4号",
        "2019-01-24",
    )
    s = tables["sections"].query("doc_id == 'national'")
    assert list(s[s.level == 1].number) == ["", "一、", "二、", "三、", "四、", "五、", "六、", "七、"]
    assert list(s[s.level == 2].number) == [f"（{n}）" for n in "一二三四五六七八九十"] + [
        f"（十{n}）" for n in "一二三四五六七八九"
    ] + ["（二十）"]


def test_every_city_descends_from_the_national_plan(tables):
    p = tables["document_parents"]
    national = p[p.parent_doc_id == "national"].set_index("doc_id").basis.to_dict()
    # Qingyang and Shangdang cite it by title; the others implement it through their provinces' plans
    assert national == {
        "qingyang": "title",
        "shangdang": "title",
        "qinhuangdao": "level",
        "wuwei": "level",
        "zhongwei": "level",
    }
    cited = p[p.basis == "unresolved"]
    assert "甘政发〔2020〕38号" in " ".join(cited[cited.doc_id == "wuwei"].cited)


def test_lineage_covers_every_sentence_of_the_cities(tables, texts, built):
    lin = tables["lineage"]
    assert set(lin.doc_id) == {"qingyang", "zhongwei", "wuwei", "qinhuangdao", "shangdang"}
    for r in lin.itertuples():
        assert texts[r.doc_id][r.char_start : r.char_end] == r.text
        if r.label in ("copied", "adapted"):
            assert r.parent_doc_id == "national" and r.similarity >= 0.5
    _, result = built
    for res in result.results:
        if res.doc.doc_id != "national":
            assert len(lin[lin.doc_id == res.doc.doc_id]) == len(sentences(res.text, res.parsed.sections))
    # Qingyang and Wuwei share their Gansu template's sentences, which the national plan lacks
    shares = lin.assign(n=lin.text.str.len()).groupby(["doc_id", "label"]).n.sum().unstack(fill_value=0)
    assert shares.loc["wuwei", "sibling"] > shares.loc["wuwei", "copied"] and shares.loc["shangdang", "sibling"] == 0


def test_target_relations_of_the_cities_hand_checked(tables):
    rel = tables["target_lineage"]
    dq = rel[rel.metric == "double_qualified_teacher_share"].set_index("doc_id")
    # national: 超过一半 (> 50%) by 2022 (具体指标：到2022年)
    assert dq.relation.to_dict() == {
        "qingyang": "same",
        "qinhuangdao": "raised",
        "shangdang": "raised",
        "wuwei": "same",
        "zhongwei": "same",
    }
    assert dq.deadline_shift.to_dict() == {"qingyang": 3, "qinhuangdao": 3, "shangdang": 0, "wuwei": 1, "zhongwei": 1}
    ks = rel[(rel.metric == "key_specialties") & (rel.relation != "dropped")].set_index("doc_id").relation.to_dict()
    assert ks == {"qinhuangdao": "rescaled", "zhongwei": "rescaled"}  # 150 nationwide vs a city's 2–3 or 10
    funding = rel[(rel.metric == "per_student_funding_higher") & (rel.relation != "dropped")]
    assert funding[["doc_id", "relation", "value"]].values.tolist() == [["qinhuangdao", "same", 12000.0]]
    # Shangdang's 8000元 is for secondary schools: aligned with the national 12000元 for higher
    # vocational education, but not the same metric, so it is new rather than lowered
    secondary = rel[rel.metric == "per_student_funding_secondary"]
    assert secondary[["doc_id", "relation", "parent_target_id"]].values.tolist() == [["shangdang", "new", ""]]
    dropped = rel[rel.relation == "dropped"]
    assert set(dropped.parent_doc_id) == {"national"} and dropped.target_id.eq("").all()


def test_keyness_compares_the_cities_only(tables):
    assert "national" not in set(tables["keyness"].city)
