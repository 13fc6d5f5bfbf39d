"""The extraction lexicon as data: every pattern comes from it, a researcher extends it without code,
and a malformed file is refused naming the entry."""

from __future__ import annotations

import shutil

import pytest
import yaml

from compare.clean import clean
from compare.config import PACKAGE_DATA
from compare.errors import CompareError
from compare.lexicon import lexicon, load_lexicon, parse_lexicon, parse_number_phrases
from compare.sections import parse_sections
from compare.targets import extract_targets

from .test_targets import extract


def targets_with(lex, body: str) -> list[tuple]:
    text = clean("一、测试\n" + body).text
    return [
        (t.primary.value, t.primary.unit, t.primary.comparator, t.primary.label)
        for t in extract_targets(text, parse_sections(text, "t").sections, {}, "t", lex)
    ]


def test_a_comparator_phrase_and_a_measure_word_added_in_a_copy_of_the_data_are_extracted(tmp_path):
    """A researcher's extension, made in the data files only: 不得少于 (at least) and 套 (sets)."""
    sentence = "建设职业教育教学资源10套，每所学校实训工位不得少于200个。"
    before = targets_with(lexicon(), sentence)
    assert before == [(200, "count", "<", "每所学校实训工位不得")]  # 套 unknown; 少于 read alone: “less than”
    data = tmp_path / "data"
    shutil.copytree(PACKAGE_DATA, data)
    spec = yaml.safe_load((data / "lexicon.yaml").read_text(encoding="utf-8"))
    spec["comparator_phrases"].append({"phrase": "不得少于", "position": "before", "comparator": ">="})
    spec["measure_words"].append({"word": "套", "unit": "count"})
    (data / "lexicon.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    after = targets_with(load_lexicon(data), sentence)
    assert after == [(10, "count", "=", "职业教育教学资源"), (200, "count", ">=", "每所学校实训工位")]
    assert targets_with(lexicon(), sentence) == before  # the project's own lexicon is untouched


@pytest.mark.parametrize(
    "body, label, comparator",
    [
        ("班额学生比例不高于20%。", "班额学生比例", "<="),  # was 班额学生比例不 (metric label:班额学生比例不)
        ("建设省级示范专业不多于5个。", "省级示范专业", "<="),  # was 省级示范专业不多
        ("建成实训基地约8个。", "实训基地", "~"),  # was 实训基地约
    ],
)
def test_every_comparator_phrase_leaves_the_label(body, label, comparator):
    (t,) = extract(body)
    assert (t["label"], t["comparator"]) == (label, comparator)
    assert t["metric"] == f"label:{label.removeprefix('省级')}"


def test_every_comparator_phrase_is_read():
    """Each phrase of the lexicon, before or after a number, gives its comparator."""
    lex = lexicon()
    for p in lex.phrases:
        body = f"建成实训基地{p.phrase}8个。" if p.position == "before" else f"建成实训基地8个{p.phrase}。"
        (t,) = extract(body)
        assert t["comparator"] == p.comparator, p.phrase
        assert t["label"] == "实训基地", p.phrase


def test_units_and_comparators_of_the_schemas_and_charts_come_from_the_lexicon():
    from compare import schemas

    lex = lexicon()
    assert schemas.UNITS == tuple(lex.units) and schemas.COMPARATORS == tuple(lex.comparators)
    assert {m.unit for m in lex.measure_words} <= set(lex.units)


def test_every_unit_is_used_by_the_corpus(tables):
    assert set(lexicon().units) == set(tables["targets"].unit)


GOOD = (PACKAGE_DATA / "lexicon.yaml").read_text(encoding="utf-8")


def broken(change) -> str:
    spec = yaml.safe_load(GOOD)
    change(spec)
    return yaml.safe_dump(spec, allow_unicode=True)


@pytest.mark.parametrize(
    "change, problem",
    [
        (
            lambda s: s["measure_words"].append({"word": "套", "unit": "sets"}),
            "measure word 17 (套): unit 'sets' is not one of",
        ),
        (
            lambda s: s["comparator_phrases"].append({"phrase": "不得少于", "position": "before", "comparator": "≥"}),
            "comparator phrase 22 (不得少于): comparator '≥' is not one of",
        ),
        (
            lambda s: s["comparator_phrases"].append({"phrase": "以上", "position": "after", "comparator": ">="}),
            "comparator phrase 22 (以上): is listed twice",
        ),
        (
            lambda s: s["comparator_phrases"].append({"phrase": "不得少于", "position": "around", "comparator": ">="}),
            "position 'around' must be 'before' or 'after'",
        ),
        (
            lambda s: s["units"].append(
                {"id": "hectare", "zh": "公顷", "en": "ha", "kind": "area", "axis_zh": "公顷", "axis_en": "ha"}
            ),
            "unit 12 (hectare): kind 'area' is not one of",
        ),
        (lambda s: s["units"][0].pop("en"), "unit 1 (percent): has no 'en'"),
        (lambda s: s["verbs"]["describe"].append("建设"), "建设 cannot both commit and describe"),
        (lambda s: s["noise"].pop("leading"), "noise: leading: must be a list of words"),
        (lambda s: s.pop("measure_words"), "no 'measure_words:' list found"),
    ],
)
def test_a_malformed_lexicon_is_refused_naming_the_entry(change, problem):
    with pytest.raises(CompareError) as e:
        parse_lexicon(broken(change), "lexicon.yaml")
    assert str(e.value).startswith("lexicon.yaml: ") and problem in str(e.value)


def test_number_phrases_need_a_numeral_and_a_reason():
    with pytest.raises(CompareError, match="line 2: '产教融合' has no numeral"):
        parse_number_phrases("phrase,why\n产教融合,not a number\n", "number_phrases.csv")
    with pytest.raises(CompareError, match="line 3: every row needs a phrase and why"):
        parse_number_phrases("phrase,why\n三全育人,programme\n四个意识,\n", "number_phrases.csv")
    assert len(load_lexicon().number_phrases) >= 60  # the political formulas and slogans policy documents carry
