"""The targets table: measured against the hand-coded gold file, and hand-checked rows of the real documents."""

import pandas as pd
import pytest

from compare.clean import clean
from compare.evaluate import evaluate, load_gold
from compare.sections import parse_sections
from compare.targets import extract_targets

from .conftest import REPO

GOLD = REPO / "tests" / "gold" / "targets.csv"


def extract(body: str, deadlines: dict[str, str] | None = None) -> list[dict]:
    """Targets of a small document written for a test (one numbered section holding `body`)."""
    text = clean("一、测试\n" + body).text
    sections = parse_sections(text, "t").sections
    out = []
    for t in extract_targets(text, sections, deadlines or {}, "t"):
        m = t.primary
        year, year_source = t.year
        out.append(
            {
                "value": m.value,
                "value_max": m.value_max,
                "unit": m.unit,
                "comparator": m.comparator,
                "year": year,
                "year_source": year_source,
                "metric": t.metric_id,
                "label": m.label,
                "text": text[m.value_start : m.value_end],
                "mentions": len(t.mentions),
            }
        )
    return out


def one(body: str) -> dict:
    found = extract(body)
    assert len(found) == 1, found
    return found[0]


# ---- measured quality on the five documents


def test_quality_against_the_gold_file(built, tables, texts):
    ev = evaluate(tables["targets"], tables["target_mentions"], texts, load_gold(GOLD))
    assert not ev.unlocated, ev.report()
    assert ev.precision >= 0.97, ev.report()
    assert ev.recall >= 0.97, ev.report()
    assert ev.year_accuracy >= 0.95, ev.report()
    assert ev.comparator_accuracy >= 0.95, ev.report()
    assert ev.metric_accuracy >= 0.95, ev.report()


def test_gold_file_covers_every_document():
    gold = load_gold(GOLD)
    assert gold.groupby("doc_id").size().to_dict() == {
        "qingyang": 26,
        "zhongwei": 55,
        "wuwei": 13,
        "qinhuangdao": 19,
        "shangdang": 12,
        "national": 17,
    }


# ---- provenance


def test_every_target_quotes_its_sentence_and_value(tables, texts):
    for t in tables["targets"].itertuples():
        text = texts[t.doc_id]
        assert text[t.char_start : t.char_end] == t.source_text
        assert text[t.value_start : t.value_end] == t.value_text
        assert t.char_start <= t.value_start < t.value_end <= t.char_end
    for m in tables["target_mentions"].itertuples():
        assert texts[m.doc_id][m.value_start : m.value_end] == m.value_text


def test_mentions_table_holds_every_restatement(tables):
    t, m = tables["targets"], tables["target_mentions"]
    counts = m.groupby("target_id").size()
    assert (t.set_index("target_id").mentions == counts.reindex(t.target_id).values).all()
    assert (m.groupby("target_id").is_primary.sum() == 1).all()
    assert set(m.target_id) == set(t.target_id)


def test_sections_of_targets_exist(tables):
    assert set(tables["targets"].section_id) <= set(tables["sections"].section_id)


# ---- hand-checked rows of the real documents


def row(tables, doc_id, metric, value=None):
    t = tables["targets"]
    t = t[(t.doc_id == doc_id) & (t.metric == metric)]
    if value is not None:
        t = t[t.value == value]
    assert len(t) == 1, t
    return t.iloc[0]


def test_double_qualified_teacher_share_lines_up_across_all_five_cities(tables):
    t = tables["targets"]
    dq = t[(t.metric == "double_qualified_teacher_share") & (t.city != "national")].set_index("city")
    assert dq.value.to_dict() == {"qingyang": 50, "zhongwei": 50, "wuwei": 50, "qinhuangdao": 60, "shangdang": 60}
    assert dq.comparator.to_dict() == {
        "qingyang": ">=",
        "zhongwei": ">=",
        "wuwei": ">=",
        "qinhuangdao": ">",
        "shangdang": "=",
    }
    assert dq.year.to_dict() == {
        "qingyang": 2025,
        "zhongwei": 2023,
        "wuwei": 2023,
        "qinhuangdao": 2025,
        "shangdang": 2022,
    }
    # Qingyang states it in the main text and in 附件2 (完成时限 2025年): one row, the task list's year
    assert (dq.loc["qingyang", "mentions"], dq.loc["qingyang", "year_source"]) == (2, "task")
    # Zhongwei's 具体目标 summary, task 18 and task 19's “双师型教师” mention are one target, dated by task 18
    assert dq.loc["zhongwei", "year_source"] == "task"


def test_restated_targets_take_the_task_lists_deadline(tables):
    r = row(tables, "qingyang", "quality_specialties", 10)
    assert (r.comparator, r.year, r.year_source, r.mentions) == ("~", 2023, "task", 3)  # main text, 附件1, 附件2
    r = row(tables, "zhongwei", "teacher_practice_bases", 3)
    assert (r.year, r.year_source, r.mentions) == (2023, "task", 2)  # 具体目标 (paragraph) + task 18
    r = row(tables, "qingyang", "school_standard_attainment", 70)
    assert (r.year, r.year_source, r.mentions) == (2025, "task", 2)


def test_ongoing_is_not_a_year(tables):
    for city in ("qingyang", "wuwei"):
        r = row(tables, city, "enterprise_internship_quota", 2)
        assert pd.isna(r.year) and r.year_source == "none" and r.mentions == 2
    r = row(tables, "zhongwei", "investment_surcharge_credit", 30)  # task 21: 完成时限：长期坚持
    assert pd.isna(r.year) and r.year_source == "none"


def test_paragraph_deadline(tables):
    r = row(tables, "zhongwei", "practice_teaching_share", 50)
    assert (r.comparator, r.year, r.year_source) == (">=", 2023, "paragraph")


@pytest.mark.parametrize("text, value", [("2.3亿", 230_000_000), ("0.07万", 700), ("1.5万", 15_000), ("3.5", 3.5)])
def test_magnitudes_multiply_exactly(text, value):
    """In binary floats 2.3 × 1e8 is 229999999.99999997: the tables would print that noise."""
    from compare.numbers import parse_number

    assert parse_number(text) == value


def test_units_and_values_as_written(tables):
    t = tables["targets"]

    def by_text(doc_id, value_text):
        hit = t[(t.doc_id == doc_id) & (t.value_text == value_text)]
        assert len(hit) == 1, (value_text, hit)
        return hit.iloc[0]

    assert by_text("zhongwei", "1万人次以上")[["value", "unit", "comparator", "year"]].tolist() == [
        10000,
        "person_times",
        ">=",
        2021,
    ]
    assert by_text("qinhuangdao", "50万元")[["value", "unit"]].tolist() == [500000, "yuan"]
    assert by_text("qingyang", "两次")[["value", "unit", "comparator"]].tolist() == [2, "times", ">="]
    assert by_text("qingyang", "4:6")[["value", "unit", "comparator"]].tolist() == [0.6667, "ratio", ">="]
    assert by_text("wuwei", "2倍以上")[["value", "unit", "comparator"]].tolist() == [2, "multiple", ">="]
    assert by_text("qinhuangdao", "一所")[["value", "unit"]].tolist() == [1, "count"]
    assert by_text("zhongwei", "3-5名")[["value", "value_max", "unit"]].tolist() == [3, 5, "person"]
    assert by_text("qingyang", "1—2个")[["value", "value_max"]].tolist() == [1, 2]
    assert by_text("qinhuangdao", "2～3个")[["value", "value_max"]].tolist() == [2, 3]
    assert by_text("qingyang", "万名")[["value", "unit"]].tolist() == [10000, "person"]
    assert by_text("qinhuangdao", "15%")["comparator"] == "<="  # 15%编制员额内
    assert by_text("zhongwei", "6个月")[["unit", "comparator"]].tolist() == ["month", ">="]
    assert by_text("qingyang", "5个左右")["level"] == "市级"


def test_no_target_is_counted_twice(tables):
    """Restatements are merged: targets of one document that share a catalogue metric and a value
    only stay apart when they sit in the same section (Zhongwei task 2 sets 3 brand specialties
    for each of two schools)."""
    t = tables["targets"]
    t = t[~t.metric.str.startswith("label:")].fillna({"value_max": -1})
    sections = t.groupby(["doc_id", "metric", "value", "value_max"]).section_id.nunique()
    sizes = t.groupby(["doc_id", "metric", "value", "value_max"]).size()
    assert ((sizes == 1) | (sections == 1)).all(), sizes[(sizes > 1) & (sections > 1)]
    # Wuwei's 3 quality schools: main text, 附件4 and 附件5 → one row with three mentions
    assert row(tables, "wuwei", "quality_secondary_schools", 3).mentions == 3


def test_targets_per_document(tables):
    assert tables["targets"].groupby("doc_id").size().to_dict() == {
        "qingyang": 26,
        "zhongwei": 55,
        "wuwei": 13,
        "qinhuangdao": 19,
        "shangdang": 12,
        "national": 17,
    }
    assert tables["documents"].set_index("doc_id").n_targets.to_dict() == {
        "qingyang": 26,
        "zhongwei": 55,
        "wuwei": 13,
        "qinhuangdao": 19,
        "shangdang": 12,
        "national": 17,
    }


# ---- variants the five documents do not contain


@pytest.mark.parametrize(
    "body, expected",
    [
        ("全市“双师型”教师比例不低于百分之五十。", (50, None, "percent", ">=")),
        ("一半以上的中职学校达到国家标准。", (50, None, "percent", ">=")),
        ("建设３至５个市级专业教学资源库。", (3, 5, "count", "=")),  # full-width digits and 至
        ("建成不少于10门精品课程.", (10, None, "count", ">=")),  # half-width full stop
        ("每年培养技术技能人才1.5万人。", (15000, None, "person", "=")),
        ("开展职业技能培训2万人次左右。", (20000, None, "person_times", "~")),
        ("建设10余个技能大师工作室。", (10, None, "count", ">")),
        ("生均拨款不低于每生每年6000元。", (6000, None, "yuan", ">=")),
        ("建成约20个公共实训基地。", (20, None, "count", "~")),
        ("职普比保持在5:5左右。", (1, None, "ratio", "~")),
        ("设立专项资金1.2亿元。", (120000000, None, "yuan", "=")),
        ("每年至少召开两次联席会议。", (2, None, "times", ">=")),
    ],
)
def test_variants(body, expected):
    t = one(body)
    assert (t["value"], t["value_max"], t["unit"], t["comparator"]) == expected


def test_half_width_punctuation_and_brackets():
    found = extract("到2025年,建设5个市级专业教学资源库;建成30门精品在线课程(含10门省级课程).")
    assert [(t["value"], t["metric"], t["year"]) for t in found] == [
        (5, "teaching_resource_libraries", 2025),
        (30, "quality_courses", 2025),
    ]


@pytest.mark.parametrize(
    "body, year, source",
    [
        ("到二〇二五年，建设5个公共实训基地。", 2025, "sentence"),
        ("力争2024年底前建成3个公共实训基地。", 2024, "sentence"),
        ("建成3个公共实训基地，2023年前完成。", 2023, "sentence"),
        ("从2020年起，每年建设3个公共实训基地。", None, "none"),  # a start, not a deadline
        ("力争3年内建成3个公共实训基地。", None, "none"),  # relative: never invented
    ],
)
def test_sentence_deadlines(body, year, source):
    t = one(body)
    assert (t["year"], t["year_source"]) == (year, source)


def test_task_deadline_applies_and_ongoing_does_not():
    assert one_with_deadline("2023-06")["year"] == 2023
    t = one_with_deadline("ongoing")
    assert (t["year"], t["year_source"]) == (None, "none")


def one_with_deadline(deadline: str) -> dict:
    found = extract("建设5个公共实训基地。", {"t/一": deadline})
    assert len(found) == 1
    return found[0]


def test_several_objects_sharing_one_number_are_several_targets():
    found = extract("遴选特色德育案例和思政课示范课各3个。")
    assert [(t["value"], t["label"]) for t in found] == [(3, "特色德育案例"), (3, "思政课示范课")]


def test_a_level_shares_the_object_of_the_next_item():
    found = extract("培育2个自治区级、8个市级产教融合企业。")
    assert [(t["value"], t["label"], t["metric"]) for t in found] == [
        (2, "自治区级产教融合企业", "industry_education_enterprises"),
        (8, "市级产教融合企业", "industry_education_enterprises"),
    ]


# ---- what is not a target: one test per excluded kind


@pytest.mark.parametrize(
    "body",
    [
        "根据《国务院关于印发国家职业教育改革实施方案的通知》（国发〔2019〕4号）精神。",  # document number
        "落实《关于印发2个实施意见的通知》要求。",  # a number inside a cited title
        "庆阳市人民政府\n2021年3月2日",  # date of issue
        "对接“十四五”规划和2035年远景目标。",  # plan names and years
        "推进“1+X”证书制度试点，实施“3+2”“3+4”分段培养，对接信息化2.0版。",  # programme names
        "引导师生增强“四个意识”、坚定“四个自信”、做到“两个维护”。",  # slogans
        "培育一批名师，打造一支队伍，形成一系列制度。",  # 一批 / 一支 are not counts
        "对世界技能大赛前3名选手和省赛第1名选手直接招聘。",  # ranks and ordinals
        "从具有3年以上企业工作经历的人员中招聘。",  # eligibility
        "推动3年中职教育与2年高职教育贯通培养。",  # durations that define a programme
        "力争3年内完成改革任务。",  # relative deadline
        "支持2所国示范学校、1所省示范学校新增专业。",  # existing institutions, not a commitment
        "鼓励甲校、乙校、丙校3个实训基地升级改造。",  # existing institutions, describing verb
        "按照1个专业（群）对接一个产业链要求。",  # a matching rule
        "将学院列入省级10所高水平高职院校和30个高水平专业群建设计划。",  # another body's programme
        "合办20个高职专业（市职业技术学校10个、县职业技术学校10个）。",  # breakdown in parentheses (the 20 is the target)
    ],
)
def test_not_targets(body):
    found = extract(body)
    if "合办20个" in body:
        assert [t["value"] for t in found] == [20]
    else:
        assert found == [], found


def test_list_numbering_is_not_a_target():
    assert extract("1.建设高水平专业。2.完善评价制度。") == []


# ---- the numbers set aside, each with the rule that did it


def rejected(body: str) -> list[tuple[str, str]]:
    """(number as printed, rule) of every number a test-written sentence's extraction set aside."""
    from compare.targets import extract as extract_all

    text = clean("一、测试\n" + body).text
    found = extract_all(text, parse_sections(text, "t").sections, {}, "t")
    return [(text[r.value_start : r.value_end], r.rule) for r in found.rejected]


REJECTIONS = [  # one sentence per rule, written for the test: (sentence, number as printed, its rule)
    ("落实《关于印发2个实施意见的通知》要求。", "2个", "in_title"),
    ("根据国发〔2019〕4号文件精神推进改革。", "2019", "in_document_number"),
    ("合办20个高职专业（市职业技术学校10个、县职业技术学校10个）。", "10个", "in_parentheses"),
    ("引导师生增强“四个意识”。", "四个", "fixed_phrase"),
    ("对技能大赛前3名选手直接招聘。", "3名", "ordinal_or_rank"),
    ("每3年修订1次教材。", "3年", "per_period"),
    ("每年培训5千人次。", "千人次", "inside_a_number"),  # 5千 is not read as 5000: it shows here
    ("推行二元制人才培养。", "二元", "part_of_word"),
    ("到2025年全面完成。", "2025年", "calendar_year"),
    ("力争3年内完成改革任务。", "3年", "relative_deadline"),
    ("从具有3年以上企业工作经历的人员中招聘。", "3年", "eligibility"),
    ("推动3年中职教育与2年高职教育贯通培养。", "3年", "descriptive_duration"),
    ("支持2所国示范学校新增专业。", "2所", "describing_verb"),
    ("将学院列入省级10所高水平高职院校建设计划。", "10所", "another_bodys_programme"),
    ("形成1个专业对接一个产业链的格局。", "1个", "matching_rule"),
    ("2．建设高水平专业。", "2", "heading_number"),
    ("本方案于2021年3月2日印发。", "3", "date"),
    ("共建成10套实训设备。", "10", "no_measure_word"),
    ("建成十百个基地。", "十百个", "unreadable_numeral"),
    ("会议于8:30召开。", "8:30", "not_a_ratio"),
    ("每个专业配备5至3名骨干教师。", "5至3名", "not_a_range"),  # a range must rise (the table checks it)
    ("经过5—10年左右时间，基本完成转变。", "5—10年", "time_horizon"),
    ("严把教学标准和毕业学生质量标准两个关口。", "两个", "enumeration_total"),
]


@pytest.mark.parametrize("body, printed, rule", REJECTIONS, ids=[r for _, _, r in REJECTIONS])
def test_each_rule_names_what_it_sets_aside(body, printed, rule):
    assert (printed, rule) in rejected(body), rejected(body)


def test_every_rule_has_its_sentence():
    from compare.targets import ALL_RULES

    assert sorted({r for _, _, r in REJECTIONS}) == sorted(ALL_RULES)


def test_rejected_numbers_of_the_real_documents(tables, texts):
    r, t = tables["rejected_numbers"], tables["target_mentions"]
    for row in r.itertuples():
        assert texts[row.doc_id][row.value_start : row.value_end] == row.value_text
        assert texts[row.doc_id][row.char_start : row.char_end] == row.source_text
    kept = {(m.doc_id, p) for m in t.itertuples() for p in range(m.value_start, m.value_end)}
    assert not [x for x in r.itertuples() if (x.doc_id, x.value_start) in kept]  # a number is kept or set aside
    assert set(r.section_id) <= set(tables["sections"].section_id)
    from compare.targets import ALL_RULES

    assert set(r.rule) <= set(ALL_RULES)

    def rule_of(doc_id: str, sentence_part: str, printed: str) -> str:
        hit = r[
            (r.doc_id == doc_id) & r.source_text.str.contains(sentence_part, regex=False) & (r.value_text == printed)
        ]
        assert len(hit) == 1, (sentence_part, hit)
        return hit.rule.iloc[0]

    # hand-checked against the documents
    assert rule_of("qinhuangdao", "力争3年内建成10个产业学院", "3年") == "relative_deadline"
    assert rule_of("qingyang", "支持2所国示范学校", "2所") == "describing_verb"
    assert rule_of("shangdang", "具有3年以上企业工作经历", "3年") == "eligibility"
    assert rule_of("qingyang", "列入省级实施建设10所高水平高职院校", "30个") == "another_bodys_programme"
    assert rule_of("qinhuangdao", "前3名选手", "3名") == "ordinal_or_rank"
    assert rule_of("qingyang", "庆政发〔2021〕13号", "13") == "in_document_number"


# ---- deadlines that govern a paragraph (issue 12: rules about the language, found on the national plan)


@pytest.mark.parametrize(
    "body, years",
    [
        (
            "具体指标：到2022年，建设50所学校。培育100家企业。",
            [(2022, "sentence"), (2022, "paragraph")],
        ),  # a label first
        ("主要目标：力争到2025年，建成3个基地。新增5个专业。", [(2025, "sentence"), (2025, "paragraph")]),
        ("——到2025年，建成3个基地。新增5个专业。", [(2025, "sentence"), (2025, "paragraph")]),  # a bullet first
        ("--到2025年，建成3个基地。新增5个专业。", [(2025, "sentence"), (2025, "paragraph")]),
        (
            "到2022年，建成3个基地。到2025年，新增5个专业。培育10家企业。",  # a later deadline overrides
            [(2022, "sentence"), (2025, "sentence"), (2025, "paragraph")],
        ),
        ("建成3个基地。新增5个专业。", [(None, "none"), (None, "none")]),  # no deadline: none invented
    ],
)
def test_a_deadline_that_opens_a_paragraph_governs_it(body, years):
    assert [(t["year"], t["year_source"]) for t in extract(body)] == years


def test_a_deadline_after_a_run_on_heading_governs_its_paragraph():
    found = extract("（一）建设目标。到2025年，建成3个基地。新增5个专业。")
    assert [(t["value"], t["year"], t["year_source"]) for t in found] == [(3, 2025, "sentence"), (5, 2025, "paragraph")]


def test_a_numbered_item_or_a_heading_that_is_a_deadline_governs_its_body():
    text = clean("一、目标\n1．到2025年，建成3个基地。新增5个专业。\n（一）到2022年\n建成4个基地。新增6个专业。\n").text
    found = extract_targets(text, parse_sections(text, "t").sections, {}, "t")
    assert [(t.primary.value, t.year) for t in found] == [
        (3, (2025, "sentence")),
        (5, (2025, "paragraph")),
        (4, (2022, "paragraph")),
        (6, (2022, "paragraph")),
    ]


@pytest.mark.parametrize(
    "body, year",
    [
        ("2020年初步建成300个示范性职业教育集团。", 2020),  # a year and an achievement verb
        ("2023年全面建成5个公共实训基地。", 2023),
        ("从2019年起，建设10个公共实训基地。", None),  # a start, not a deadline
    ],
)
def test_a_year_followed_by_an_achievement_verb_is_a_deadline(body, year):
    assert one(body)["year"] == year


def test_a_duration_set_as_a_standard_is_a_target():
    t = one("顶岗实习时间一般为6个月。")
    assert (t["value"], t["unit"], t["comparator"]) == (6, "month", "=")
    assert extract("推动3年中职教育与2年高职教育贯通培养。") == []  # a programme's length stays out


def test_a_count_committed_to_is_not_an_enumeration_total():
    assert [t["value"] for t in extract("建设国家级和省级实训基地2个。")] == [2]
