"""Property tests (hypothesis) for the cleaner, the section parser and the target extractor:
they never crash on arbitrary text, their offsets are always valid, and a target sentence built
from random values, units, comparators and deadlines — Arabic or Chinese numerals — comes back
exactly."""

from __future__ import annotations

import cn2an
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compare.clean import clean
from compare.instruments import units as instrument_units
from compare.sections import parse_sections
from compare.targets import extract_targets

from .test_targets import extract

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text that looks like a policy document often enough to reach the interesting code: numbering,
# headings, numbers, units, comparators, brackets, attachments, tabs and newlines, mixed with any Unicode.
PIECES = [
    "一、",
    "（一）",
    "(二)",
    "1．",
    "2.",
    "3、",
    "附件1",
    "附件：",
    "\n",
    "\t",
    "。",
    "，",
    "；",
    "：",
    "到2025年",
    "到二〇二三年",
    "建成",
    "不低于",
    "以上",
    "左右",
    "超过",
    "%",
    "个",
    "所",
    "万元",
    "人次",
    "3至5",
    "两",
    "百分之三十",
    "〔2021〕13号",
    "《方案》",
    "“双师型”",
    "责任单位：市教育局",
    "完成时限：2023年6月",
    "长期坚持",
    "\u3000",
    "\ufeff",
    "--",
    "——",
    "<script>",
    "1+X",
    "第",
    "条",
]
documentish = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=12)), max_size=60).map("".join)


def check_document(raw: str) -> None:
    text = clean(raw).text
    sections = parse_sections(text, "p").sections
    assert sections, "every document yields at least one section"
    ids = [s.section_id for s in sections]
    assert len(ids) == len(set(ids))
    for s in sections:
        assert 0 <= s.char_start <= s.char_end <= len(text)
        assert s.parent_id == "" or s.parent_id in ids
    units = instrument_units("p", text, sections, [])
    assert len({u.unit_id for u in units}) == len(units), "unit ids are unique"
    assert all(0 <= u.start < u.end <= len(text) and u.section_id in ids for u in units)
    for t in extract_targets(text, sections, {}, "p"):
        for m in t.mentions:
            assert 0 <= m.char_start <= m.value_start < m.value_end <= m.char_end <= len(text)
            assert m.section_id in ids
            assert m.comparator in {"=", ">=", ">", "<=", "<", "~"}
            assert m.value_max is None or m.value_max >= m.value


@SETTINGS
@given(st.text(max_size=400))
def test_any_unicode_is_parsed_without_error(raw):
    check_document(raw)


@SETTINGS
@given(documentish)
def test_document_like_text_is_parsed_without_error(raw):
    check_document(raw)


# ---------------------------------------------------------------- generated targets

OBJECTS = [
    ("公共实训基地", "个", "count"),
    ("骨干专业", "个", "count"),
    ("产教融合型企业", "家", "count"),
    ("精品在线课程", "门", "count"),
    ("技能大师工作室", "个", "count"),
    ("示范性职业院校", "所", "count"),
    ("兼职教师", "名", "person"),
]
COUNT_FORMS = {  # comparator → how the sentence says it around “{object}{n}{measure word}”
    "=": "建成{o}{n}{w}",
    ">=": "建成{o}{n}{w}以上",
    ">=b": "建成{o}不少于{n}{w}",
    ">": "建成{o}超过{n}{w}",
    "<=": "建成{o}不超过{n}{w}",
    "~": "建成{o}{n}{w}左右",
}
PERCENT_FORMS = {
    "=": "“双师型”教师占专业课教师比例达到{n}",
    ">=": "“双师型”教师占专业课教师比例达到{n}以上",
    ">=b": "“双师型”教师占专业课教师比例不低于{n}",
    ">": "“双师型”教师占专业课教师比例超过{n}",
    "<=": "“双师型”教师占专业课教师比例不超过{n}",
    "~": "“双师型”教师占专业课教师比例达到{n}左右",
}
DIGITS_ZH = "〇一二三四五六七八九"


def numeral(value: int, chinese: bool) -> str:
    return cn2an.an2cn(value) if chinese else str(value)


def deadline(year: int, chinese: bool, lead: str) -> str:
    return lead + ("".join(DIGITS_ZH[int(c)] for c in str(year)) if chinese else str(year)) + "年"


deadlines = st.builds(deadline, st.integers(2021, 2035), st.booleans(), st.sampled_from(["到", "力争到", "至"]))


@SETTINGS
@given(
    value=st.integers(1, 9999),
    chinese=st.booleans(),
    comparator=st.sampled_from(sorted(COUNT_FORMS)),
    obj=st.sampled_from(OBJECTS),
    when=deadlines,
)
def test_a_generated_count_target_comes_back_exactly(value, chinese, comparator, obj, when):
    sentence = when + "，" + COUNT_FORMS[comparator].format(o=obj[0], n=numeral(value, chinese), w=obj[1]) + "。"
    (got,) = extract(sentence)
    year = int("".join(str(DIGITS_ZH.index(c)) if c in DIGITS_ZH else c for c in when if c.isdigit() or c in DIGITS_ZH))
    assert (got["value"], got["value_max"], got["unit"], got["comparator"], got["year"]) == (
        value,
        None,
        obj[2],
        comparator.rstrip("b"),
        year,
    ), sentence


@SETTINGS
@given(
    value=st.integers(1, 99),
    chinese=st.booleans(),
    comparator=st.sampled_from(sorted(PERCENT_FORMS)),
    year=st.integers(2021, 2035),
)
def test_a_generated_percent_target_comes_back_exactly(value, chinese, comparator, year):
    n = f"百分之{cn2an.an2cn(value)}" if chinese else f"{value}%"
    sentence = f"到{year}年，" + PERCENT_FORMS[comparator].format(n=n) + "。"
    (got,) = extract(sentence)
    assert (got["value"], got["unit"], got["comparator"], got["year"], got["metric"]) == (
        value,
        "percent",
        comparator.rstrip("b"),
        year,
        "double_qualified_teacher_share",
    ), sentence


@SETTINGS
@given(
    low=st.integers(1, 50),
    width=st.integers(1, 50),
    dash=st.sampled_from(["-", "—", "～", "~", "至", "到"]),
    obj=st.sampled_from(OBJECTS),
    year=st.integers(2021, 2035),
)
def test_a_generated_range_comes_back_as_an_interval(low, width, dash, obj, year):
    sentence = f"到{year}年，建成{obj[0]}{low}{dash}{low + width}{obj[1]}。"
    (got,) = extract(sentence)
    assert (got["value"], got["value_max"], got["unit"], got["year"]) == (low, low + width, obj[2], year), sentence


@SETTINGS
@given(
    wan=st.integers(1, 999),
    unit=st.sampled_from(
        [("万元", "yuan", 10_000), ("元", "yuan", 1), ("万人次", "person_times", 10_000), ("人次", "person_times", 1)]
    ),
    year=st.integers(2021, 2035),
)
def test_a_generated_amount_is_scaled_to_its_unit(wan, unit, year):
    word, canonical, factor = unit
    sentence = (
        f"到{year}年，每年开展职业技能培训投入不低于{wan}{word}。"
        if canonical == "yuan"
        else f"到{year}年，每年开展职业技能培训{wan}{word}以上。"
    )
    (got,) = extract(sentence)
    assert (got["value"], got["unit"], got["comparator"], got["year"]) == (wan * factor, canonical, ">=", year), (
        sentence
    )


@SETTINGS
@given(year=st.integers(2021, 2035), number=st.integers(1, 99), value=st.integers(1, 99))
def test_document_numbers_and_dates_are_never_targets(year, number, value):
    sentence = (
        f"根据《某某方案》(甘政发〔{year}〕{number}号)，{year}年{(number % 12) + 1}月印发，建成实训基地{value}个。"
    )
    (got,) = extract(sentence)
    assert got["value"] == value
