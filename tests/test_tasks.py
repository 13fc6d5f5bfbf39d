"""The tasks table against the documents' own responsibility lines and task lists."""

import pytest

from compare.tasks import department_of, parse_deadline, split_units

# Zhongwei: 完成时限 of tasks 1–25, read from the raw document.
ZHONGWEI_DEADLINES = {
    1: "2021-07",
    2: "2023-06",
    3: "2023-12",
    4: "2021-12",
    5: "2021-08",
    6: "2023-06",
    7: "2021-12",
    8: "2023-06",
    9: "2022-12",
    10: "2023-06",
    11: "2021-12",
    12: "2021-12",
    13: "2023-06",
    14: "2023-06",
    15: "2023-06",
    16: "2023-06",
    17: "2021-06",
    18: "2023-06",
    19: "2021-09",
    20: "2021-09",
    21: "ongoing",
    22: "2021-09",
    23: "2021-09",
    24: "2021-09",
    25: "ongoing",
}
# Qingyang 附件2 rows 1–20, 完成时限 column.
QINGYANG_DEADLINES = [
    "2021-04",
    "2025",
    "2025",
    "2023",
    "2021",
    "2023",
    "2023",
    "ongoing",
    "2025",
    "ongoing",
    "2023",
    "ongoing",
    "ongoing",
    "ongoing",
    "ongoing",
    "2023",
    "2023",
    "2023",
    "2021",
    "ongoing",
]


def tasks_of(tables, doc_id):
    t = tables["tasks"]
    return t[t.doc_id == doc_id].set_index("section_id")


def test_task_counts(tables):
    assert tasks_of(tables, "zhongwei").shape[0] == 25
    assert tasks_of(tables, "qingyang").shape[0] == 20
    assert tasks_of(tables, "wuwei").shape[0] == 27
    assert tasks_of(tables, "qinhuangdao").shape[0] == 20
    assert tasks_of(tables, "shangdang").shape[0] == 21


def test_every_zhongwei_deadline(tables):
    t = tasks_of(tables, "zhongwei")
    got = {int(sid.rsplit("/", 1)[1]): d for sid, d in t.deadline.items()}
    assert got == ZHONGWEI_DEADLINES


def test_qingyang_task_list_rows(tables):
    t = tasks_of(tables, "qingyang")
    assert [t.loc[f"qingyang/附件2/{i}", "deadline"] for i in range(1, 21)] == QINGYANG_DEADLINES
    assert t.loc["qingyang/附件2/2", "lead_units"] == [
        "市发展改革委",
        "市自然资源局",
        "市委编办",
        "市财政局",
        "市教育局",
        "西峰区政府",
    ]
    assert t.loc["qingyang/附件2/17", "lead_units"][:2] == ["市人社局", "市扶贫办"]


def test_wuwei_task_list_rows(tables):
    t = tasks_of(tables, "wuwei")
    assert (t.deadline == "").all()  # the Wuwei list has no 完成时限 column
    assert t.loc["wuwei/附件5/1", "lead_units"] == ["市教育局", "各县区", "各职业院校"]
    # “市人社局市财政局” is two departments run together
    assert t.loc["wuwei/附件5/27", "lead_units"] == ["市教育局", "市人社局", "市财政局", "市发展改革委", "各县区"]
    assert t.loc["wuwei/附件5/9", "lead_units"][-1] == "市农业农村局"  # trailing 等 dropped


def test_zhongwei_lead_and_support_units(tables):
    t = tasks_of(tables, "zhongwei")
    row = t.loc["zhongwei/三/(一)/1"]
    assert row.lead_units == ["市发展改革委", "市教育局", "中宁县人民政府", "海原县人民政府"]
    assert row.support_units == [
        "市云计算和大数据局",
        "市工业和信息化局",
        "市旅游和文体广电局",
        "市农业农村局",
        "中卫工业园区管委会",
    ]
    assert t.loc["zhongwei/三/(三)/11", "lead_units"] == ["市人民政府教育督导室", "县人民政府教育督导室"]


def test_closing_responsibility_parentheses(tables):
    t = tasks_of(tables, "qinhuangdao")
    assert t.loc["qinhuangdao/五/(十八)", "lead_units"] == [
        "市财政局",
        "市教育局",
        "市人力资源和社会保障局",
        "各县区政府",
    ]
    assert t.loc["qinhuangdao/二/(八)", "lead_units"].count("市财政局") == 1  # listed twice in the text
    s = tasks_of(tables, "shangdang")
    assert s.loc["shangdang/三/(七)", "lead_units"] == ["区教育局", "区财政局", "区人社局"]
    assert (s.deadline == "").all()


def test_task_spans_point_at_the_assignment(tables, texts):
    for row in tables["tasks"].itertuples():
        span = texts[row.doc_id][row.char_start : row.char_end]
        assert row.lead_units[0][-2:] in span.replace("、", ""), row.section_id


def test_every_responsible_unit_is_in_the_department_catalogue(tables):
    units = {u for col in ("lead_units", "support_units") for us in tables["tasks"][col] for u in us}
    assert [u for u in sorted(units) if department_of(u) is None] == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2021年7月前完成并长期坚持", "2021-07"),
        ("2023 年 6 月前完成并长期坚持", "2023-06"),
        ("2025年", "2025"),
        ("长期坚持", "ongoing"),
        ("2022年底", "2022-12"),
        ("", ""),
    ],
)
def test_parse_deadline(text, expected):
    assert parse_deadline(text) == expected


def test_split_units_writes_out_shared_prefixes_and_suffixes():
    assert split_units("市发展改革委、财政局，中宁、海原县人民政府") == [
        "市发展改革委",
        "市财政局",
        "中宁县人民政府",
        "海原县人民政府",
    ]
    assert split_units("市、县人民政府教育督导室") == ["市人民政府教育督导室", "县人民政府教育督导室"]
    assert split_units("区教育局、区人社局 ") == ["区教育局", "区人社局"]
    assert split_units("市教育局、市人社局市财政局、市发展改革委,各县区") == [
        "市教育局",
        "市人社局",
        "市财政局",
        "市发展改革委",
        "各县区",
    ]
