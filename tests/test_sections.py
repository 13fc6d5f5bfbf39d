"""The section tree of the five documents, against hand counts."""

from collections import Counter

import pytest

# (kind, level) → count, counted by hand from the raw documents.
EXPECTED_SHAPE = {
    "qingyang": {
        ("preamble", 1): 1,
        ("body", 1): 4,
        ("body", 2): 11,
        ("body", 3): 20,
        ("attachment", 1): 2,
        ("list_row", 2): 7,
        ("task_row", 2): 20,
    },
    "zhongwei": {("preamble", 1): 1, ("body", 1): 4, ("body", 2): 10, ("body", 3): 19},
    "wuwei": {
        ("preamble", 1): 1,
        ("body", 1): 4,
        ("body", 2): 8,
        ("body", 3): 27,
        ("attachment", 1): 5,
        ("list_row", 2): 5,
        ("task_row", 2): 27,
    },
    "qinhuangdao": {("preamble", 1): 1, ("body", 1): 5, ("body", 2): 20},
    "shangdang": {("preamble", 1): 1, ("body", 1): 6, ("body", 2): 21},
}


@pytest.mark.parametrize("doc_id", list(EXPECTED_SHAPE))
def test_sections_per_kind_and_level(tables, doc_id):
    s = tables["sections"]
    s = s[s.doc_id == doc_id]
    assert dict(Counter(zip(s.kind, s.level, strict=True))) == EXPECTED_SHAPE[doc_id]


def test_every_section_body_is_the_slice_of_the_cleaned_text(tables, texts):
    for row in tables["sections"].itertuples():
        assert texts[row.doc_id][row.char_start : row.char_end] == row.text, row.section_id


def test_stable_readable_ids_and_titles(tables):
    s = tables["sections"].set_index("section_id")
    assert s.loc["qingyang/三/(四)/9", "title"] == "提升专业建设水平"
    assert s.loc["qingyang/三/(四)/9", "parent_id"] == "qingyang/三/(四)"
    assert s.loc["qingyang/三/(四)", "parent_id"] == "qingyang/三"
    assert s.loc["qingyang/三/(五)/14", "title"] == "健全产教融合激励机制"
    assert s.loc["wuwei/三/(四)/13", "title"] == "健全产教融合激励机制"
    assert s.loc["wuwei/三/(一)", "number"] == "（一）"  # printed (一) with ASCII brackets
    assert s.loc["zhongwei/四/20", "title"] == "提升职业学校治理水平"  # 1. numbering directly under 四、
    assert s.loc["zhongwei/三/(一)/1", "number"] == "1."
    assert s.loc["qingyang/三/(一)/1", "number"] == "1．"
    assert s.loc["shangdang/六/(二十一)", "title"] == "营造良好发展环境"


def test_run_on_headings_split_title_from_body(tables):
    s = tables["sections"].set_index("section_id")
    row = s.loc["qinhuangdao/一/(一)"]
    assert row.title == "健全多元办学格局"
    assert row.text.startswith("构建政府统筹管理、行业企业积极举办")
    assert s.loc["qingyang/四/(七)", "text"].startswith("加强党委、政府对职业教育的组织领导")
    # a title-only line keeps its body on the following lines
    assert s.loc["wuwei/三/(一)/1", "title"] == "加快发展高层次职业教育"
    assert s.loc["wuwei/三/(一)/1", "text"].startswith("将武威职业学院打造成")


def test_parents_own_body_excludes_children(tables):
    s = tables["sections"].set_index("section_id")
    assert s.loc["qingyang/三", "text"] == ""
    assert s.loc["zhongwei/二", "text"].startswith("到2023年，全市职业学校教学条件达到国家标准")
    assert "1.优化专业布局" not in s.loc["zhongwei/二", "text"]


def test_attachments_are_their_own_subtrees(tables):
    s = tables["sections"].set_index("section_id")
    assert s.loc["qingyang/附件2", "title"] == "庆阳市工作任务清单"
    assert s.loc["qingyang/附件2", "kind"] == "attachment"
    row = s.loc["qingyang/附件2/6"]
    assert (row.kind, row.parent_id, row.text) == (
        "task_row",
        "qingyang/附件2",
        "建设5个左右市级专业教学资源库，建设30门精品在线课程。",
    )
    assert s.loc["wuwei/附件4/3", "kind"] == "list_row"
    assert s.loc["wuwei/附件5/27", "text"] == "依托武威职业学院，建设武威职业教育体验馆"
    # the attachment index and signature belong to no section
    assert not tables["sections"].text.str.contains("庆阳市人民政府\n2021年3月2日").any()


def test_preamble(tables):
    s = tables["sections"].set_index("section_id")
    assert s.loc["qinhuangdao/preamble", "text"].startswith("中共秦皇岛市委办公室\n秦皇岛市人民政府办公室")
    assert s.loc["qingyang/preamble", "text"].endswith("特制定本意见。")
