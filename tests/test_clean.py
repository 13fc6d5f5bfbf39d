"""The cleaner on the real documents: what it removes, rejoins and normalises, and that nothing else is lost."""

import pytest

from compare.clean import clean, han_sequence, normalise_line

from .conftest import DOC_IDS, REPO


def raw(doc_id: str) -> str:
    return (REPO / "data" / "raw" / f"{doc_id}.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("doc_id", DOC_IDS)
def test_every_chinese_character_survives_except_reported_lines(doc_id):
    text = raw(doc_id)
    result = clean(text)
    removed = {r.line for r in result.removed}
    kept = "\n".join(line for i, line in enumerate(text.split("\n"), start=1) if i not in removed)
    assert han_sequence(result.text) == han_sequence(kept)
    # and the removed lines' characters are exactly what is missing
    assert len(han_sequence(text)) == len(han_sequence(result.text)) + sum(
        len(han_sequence(r.text)) for r in result.removed
    )


def test_wuwei_web_chrome_and_officials_are_removed_and_reported():
    result = clean(raw("wuwei"))
    by_reason = {}
    for r in result.removed:
        by_reason.setdefault(r.reason, []).append(r.line)
    # breadcrumb (lines 1-2), disclosure index block (3-6, 8), footer (522-523)
    assert by_reason["navigation"] == [1, 2]
    assert by_reason["page_metadata"] == [3, 4, 5, 6, 8]
    assert by_reason["footer"] == [522, 523]
    # attachment 1 lists 14 officials, attachment 2 lists 19, attachment 3 lists 15
    names = by_reason["names_list"]
    assert len(names) == 14 + 19 + 15
    assert (min(names), max(names)) == (188, 304)
    assert "周伟" not in result.text and "马生威 市教育局局长" not in result.text
    assert "索引号" not in result.text and "大汉网络" not in result.text
    # the notice title on line 7, between removed lines, is content and stays
    assert result.text.startswith("武威市人民政府关于印发《贯彻落实〈教育部甘肃省人民政府")


@pytest.mark.parametrize("doc_id", ["qingyang", "zhongwei", "qinhuangdao", "shangdang"])
def test_clean_documents_lose_no_line(doc_id):
    assert clean(raw(doc_id)).removed == []


def test_zhongwei_sentences_broken_by_the_pdf_are_rejoined():
    text = clean(raw("zhongwei")).text
    for joined in [
        "职业教育与普通教育双向互通机制",
        "每年培养具有合格职业技能的学生800人以上",
        "开展一次“职业体验日”活动。",
        "配合单位：市云计算和大数据局、工业和信息化局、旅游和文体广电局、农业农村局",
        "推进教法改革，探索行动导向",
        "研究协调解决工作中重大问题",
    ]:
        assert joined in text, joined
    # but headings, labels and the title are never glued to their neighbours
    lines = text.split("\n")
    assert "二、具体目标" in lines and "完成时限：长期坚持" in lines
    assert lines[0] == "中卫市贯彻落实《自治区深化产教融合推进职业教育改革发展实施方案》重点任务暨分工方案"


def test_shangdang_line_broken_without_blank_line_is_rejoined():
    assert "加强区职教中心社会服务能力建设，建成面向区域内" in clean(raw("shangdang")).text


def test_attachment_tables_become_one_row_per_line():
    lines = clean(raw("qingyang")).text.split("\n")
    assert "序号\t工作任务\t责任部门\t完成时限" in lines
    row1 = next(line for line in lines if line.startswith("1\t各县（区）制定"))
    assert row1.split("\t")[2:] == ["市教育局、各县（区）政府、庆阳职业技术学院", "2021年4月"]
    wuwei = clean(raw("wuwei")).text.split("\n")
    assert "序号\t政策内容\t责任部门" in wuwei
    assert sum(1 for line in wuwei if line[:1].isdigit() and "\t" in line) == 5 + 27


def test_normalisation_keeps_chinese_punctuation_and_fixes_digits_brackets_spaces():
    assert normalise_line("到 2023 年，建设 5 个") == "到2023年，建设5个"
    assert normalise_line("(一)完善职业教育体系") == "（一）完善职业教育体系"
    assert normalise_line("达到５０ ％以上") == "达到50%以上"
    assert normalise_line("职普比不低于4：6") == "职普比不低于4:6"
    assert normalise_line("各县、区人民政府,市政府各部门:") == "各县、区人民政府，市政府各部门："
    assert normalise_line("1.5万人, 1,000元") == "1.5万人，1,000元"
    assert normalise_line("GB 18030\u3000编码") == "GB 18030编码"
    assert normalise_line("　　（五）全面激发办学活力。") == "（五）全面激发办学活力。"
