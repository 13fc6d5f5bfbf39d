"""Policy-instrument units and rule pre-labels on the real documents, against units coded by reading
them (tests/gold/instruments.csv, three samples: `tuning` — the rules were revised after seeing it —,
`heldout1` — seen after the first revision —, and `heldout2`, never seen before the rules were fixed)."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from compare.clean import fold
from compare.codebooks import CODEBOOK_DIR, NONE, codebooks
from compare.config import Paths
from compare.instruments import EXCLUSIONS, _prefixes, labels, unit_id
from compare.registry import load_registry
from compare.scanning import first_chars, needed_chars, quick_scan
from tests.conftest import DOC_IDS, REPO

GOLD = REPO / "tests" / "gold" / "instruments.csv"


@pytest.fixture(scope="module")
def units(tables) -> pd.DataFrame:
    return tables["instrument_units"]


@pytest.fixture(scope="module")
def rule(tables) -> pd.DataFrame:
    codes = tables["instrument_codes"]
    return codes[codes.source == "rule"]


@pytest.fixture(scope="module")
def gold() -> pd.DataFrame:
    return pd.read_csv(GOLD, dtype=str, keep_default_na=False)


# ---- units


def test_unit_ids_follow_the_section_tree():
    assert unit_id("qingyang/三/(五)/16", 3) == "qingyang-3-5-16-3"
    assert unit_id("wuwei/附件4/1", 1) == "wuwei-a4-1-1"
    assert unit_id("national/preamble", 9) == "national-0-9"
    assert unit_id("x/第二章/第三节/第十条", 2) == "x-2-3-10-2"


def test_unit_ids_stay_unique_when_numbering_styles_repeat_a_number():
    """三、(二) and 三、2. both read 3-2: the second in document order is 3-2~2, and so are its children."""
    ids = ["d/preamble", "d/三", "d/三/(二)", "d/三/(二)/1", "d/三/2", "d/三/2/(一)", "d/三/(二)~2"]
    assert list(_prefixes(ids).values()) == ["d-0", "d-3", "d-3-2", "d-3-2-1", "d-3-2~2", "d-3-2~2-1", "d-3-2~2~2"]


def test_every_clause_is_a_unit_once_in_order(units, texts):
    assert units.unit_id.is_unique
    assert set(units.doc_id) == set(DOC_IDS)
    for doc_id, rows in units.groupby("doc_id"):
        text = texts[doc_id]
        assert all(text[r.char_start : r.char_end] == r.text for r in rows.itertuples())
        starts, ends = rows.char_start.to_numpy(), rows.char_end.to_numpy()
        assert (starts[1:] >= ends[:-1]).all(), doc_id  # in document order, never overlapping
        assert all(re.fullmatch(rf"{doc_id}(-[0-9a-z~]+)+", u) for u in rows.unit_id)


def test_hand_checked_units(units):
    """Read in the documents: zhongwei 三、(四) 18. opens with its title 建好“双师型”教师队伍。, so
    the teacher-practice rule is the section's 2nd clause; qingyang's 2% quota is restated in
    attachment 2, row 12, and counted once, where the main text states it."""
    by_id = units.set_index("unit_id")
    assert by_id.loc["zhongwei-3-4-18-1", "excluded"] == "heading"
    assert by_id.loc["zhongwei-3-4-18-2", "text"].startswith("严格落实专业教师下企业实践锻炼制度")
    assert by_id.loc["zhongwei-3-4-18-2", "excluded"] == ""
    assert by_id.loc["qingyang-3-5-16-3", "excluded"] == ""
    assert by_id.loc["qingyang-a2-12-1", "excluded"] == "restatement"
    assert "按企业职工总数的2%" in by_id.loc["qingyang-a2-12-1", "text"]
    assert by_id.loc["qingyang-2-4", "excluded"] == "heading"  # ——以“园区”建设为基础…。 run into its paragraph
    assert by_id.loc["wuwei-0-3", "excluded"] == "apparatus"  # 现将《…》印发你们 (the title inside is long)
    assert by_id.loc["wuwei-a1-1", "excluded"] == "apparatus"  # …马生威同志兼任办公室主任 (a name list's note)


def test_exclusions_are_named_and_auditable(units, tables):
    assert set(units.excluded) - {""} <= set(EXCLUSIONS)
    counts = units.excluded.value_counts()
    assert counts[""] > 600 and all(counts.get(r, 0) > 0 for r in EXCLUSIONS)
    tasks = tables["tasks"]
    assigned = units[units.excluded == "assignment"]
    for u in assigned.itertuples():  # each overlaps a task's assignment span
        mine = tasks[tasks.doc_id == u.doc_id]
        assert ((mine.char_start < u.char_end) & (u.char_start < mine.char_end)).any(), u.unit_id


def test_gold_units_exist_with_the_text_coded(units, gold):
    """Gold ids still name the same text (a change to the clause splitter would silently move them)."""
    by_id = units.set_index("unit_id")
    assert gold.unit_id.is_unique and len(gold) >= 320
    assert set(gold.doc_id) == set(DOC_IDS)
    assert gold.groupby("doc_id").size().min() >= 50
    for g in gold.itertuples():
        assert by_id.loc[g.unit_id, "text"] == g.text, g.unit_id
        if g.excluded:
            assert by_id.loc[g.unit_id, "excluded"] == g.excluded, g.unit_id
        else:
            assert by_id.loc[g.unit_id, "excluded"] == "", g.unit_id


# ---- pre-labels


def test_every_coded_unit_has_one_rule_label_per_codebook(units, rule):
    books = codebooks()
    coded = set(units.unit_id[units.excluded == ""])
    assert set(rule.unit_id) == coded
    assert len(rule) == len(coded) * len(books)
    assert not rule.duplicated(["unit_id", "framework"]).any()
    for b in books:
        mine = rule[rule.framework == b.id]
        assert set(mine.code) <= set(b.code_ids)
        assert (mine.type == mine.code.map(b.type_of)).all()


def test_evidence_points_at_the_cue_in_the_text(rule, texts):
    checked = 0
    for r in rule.itertuples():
        for ev in r.evidence:
            code, rest = ev.split(":", 1)
            matched, where = rest.rsplit("@", 1)
            start, end = map(int, where.split("-"))
            assert fold(texts[r.doc_id][start:end]) == matched, (r.unit_id, ev)
            checked += 1
    assert checked > 1000


def test_actor_and_mechanism_are_none_exactly_when_no_instrument(rule):
    wide = rule.pivot(index="unit_id", columns="framework", values="code")
    none = wide.rothwell_zegveld == NONE
    assert none.any()
    assert ((wide.actors == NONE) == none).all()
    assert ((wide.mcdonnell_elmore == NONE) == none).all()


def test_guiding_ideology_and_purpose_are_none():
    books = codebooks()
    for text in (
        "坚持以习近平新时代中国特色社会主义思想为指导，把职业教育摆在更加突出的位置。",
        "为深入贯彻落实国家职业教育改革实施方案，结合我市实际，制定本方案。",
        "改革开放以来，职业教育为我国经济社会发展提供了有力的人才和智力支撑。",
    ):
        assert {book: label.code for book, label in labels(text, 0, books).items()} == {b.id: NONE for b in books}


def test_mentioned_is_not_used():
    """Rule G2: a source of income or an area of action named in passing does not decide."""
    (rz,) = [b for b in codebooks() if b.id == "rothwell_zegveld"]
    label = labels("职业院校通过校企合作、技术服务、社会培训等所得收入，可按一定比例作为绩效工资来源。", 0, (rz,))
    assert label[rz.id].code == "teaching_staff"
    label = labels("各成员单位要加强沟通协调，在战略规划、经费投入、企业办学等方面形成政策合力。", 0, (rz,))
    assert label[rz.id].code == "organisation"


@pytest.mark.parametrize(
    "pattern, chars",
    [
        ("双师|师资", "双师"),
        ("(?:教师)?培训", "教培"),  # an optional start: its characters and what follows it
        ("(?<!非)财政|^以.{0,40}思想", "财以"),  # lookarounds and anchors consume nothing
        ("[a-c]d|(示范|骨干)", "abc示骨"),
        ("[^，。]{2,40}?等", None),  # a negated class: any character
        (r"\d年", None),
        ("(?i:ab)", None),
        ("x*", None),  # may match the empty string
    ],
)
def test_first_chars_of_a_pattern(pattern, chars):
    assert first_chars(re.compile(pattern)) == (None if chars is None else frozenset(chars))


def test_quick_scans_find_what_the_cues_find(texts):
    """A code's pattern (its cues, with a lookahead for their first characters) finds the same
    matches, at the same places, as its cues joined plainly: in every clause of the corpus read
    from every start, and in random strings of the cues' own characters."""
    import random

    books = codebooks()
    plain = {(b.id, c.id): re.compile("|".join(f"(?:{p.pattern})" for p in c.cues)) for b in books for c in b.codes}
    quick = {(b.id, c.id): c.pattern for b in books for c in b.codes}
    assert sum(quick[k] is not plain[k] and quick[k].pattern != plain[k].pattern for k in quick) >= len(quick) - 3
    alphabet = sorted({ch for p in plain.values() for ch in p.pattern if ord(ch) > 0x3000} | set("，。、；"))
    rng = random.Random(7)
    strings = [fold(t) for t in texts.values()]
    strings += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80))) for _ in range(300)]
    for key, pattern in plain.items():
        for s in strings:
            assert [m.span() for m in quick[key].finditer(s)] == [m.span() for m in pattern.finditer(s)], key
    assert quick_scan(re.compile("(?x) a b")).pattern == "(?x) a b"  # global flags must open a pattern: left as is


@pytest.mark.parametrize(
    "pattern, chars",
    [
        ("(?:通过)?[^，。；：]{2,40}?等(?:所得|收入)", "等"),  # 所得 or 收入: neither is certain
        ("(?:特|现)?制定本(?:方案|意见)|结合.{0,10}实际，制定", "制定"),  # in both alternatives
        ("没有.{1,20}就没有", "没有就"),
        ("x{0,2}y(?:ab)+", "yab"),  # an optional part needs nothing, a repeated one what it holds
        ("(?i:a)b", "b"),
        ("[ab]c", "c"),
    ],
)
def test_needed_chars_of_a_pattern(pattern, chars):
    assert needed_chars(re.compile(pattern)) == chars


def test_a_text_is_screened_out_only_when_the_pattern_cannot_match(texts):
    """The mention and none_when patterns are not scanned over a text lacking a character they need:
    such a text never holds a match (the five documents' clauses, and random strings)."""
    import random

    patterns = [(b, p) for b in codebooks() for p in (*b.mentions, *b.none_when)]
    rng = random.Random(11)
    alphabet = sorted({ch for _, p in patterns for ch in p.pattern if ord(ch) > 0x3000} | set("，。"))
    strings = [fold(c) for t in texts.values() for c in re.split("(?<=[。；\n])", t)]
    strings += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))) for _ in range(3000)]
    screened = 0
    for book, p in patterns:
        for s in strings:
            if not book.may_match(p, s):
                screened += 1
                assert p.search(s) is None, (p.pattern, s)
    assert screened > len(strings)  # the screen is in use


def test_rules_name_no_city():
    """No cue, none_when or mention pattern may name a city, a district or a document of the corpus."""
    names = set()
    for doc in load_registry(Paths(REPO)):
        if doc.admin_level != "national":  # 国家 is not a place name (发达国家)
            names |= {doc.city_zh, doc.doc_id, *re.split(r"[省市区县]", doc.city_zh)}
    names = {n for n in names if len(n) >= 2}
    for path in CODEBOOK_DIR.glob("*.yaml"):
        patterns = re.findall(r'^\s*- "(.*)"\s*$', path.read_text(encoding="utf-8"), flags=re.M)
        assert patterns, path
        for p in patterns:
            assert not any(n in p for n in names), (path.name, p)


# ---- agreement with the gold coding


def _agreement(gold, rule, framework, sample=None):
    g = gold[(gold.excluded == "") & ((gold["sample"] == sample) if sample else True)]
    predicted = rule[rule.framework == framework].set_index("unit_id").code.reindex(g.unit_id)
    return g[framework].tolist(), predicted.tolist()


@pytest.mark.parametrize(("sample", "floor"), [(None, 0.80), ("heldout2", 0.80)])
def test_rule_types_agree_with_the_gold_coding(gold, rule, sample, floor):
    """Cohen's kappa of the pre-labels' type (supply / environment / demand / none) against the coding
    by reading: 0.843 on all 325 units, 0.886 on the 90 never seen while writing the rules."""
    (rz,) = [b for b in codebooks() if b.id == "rothwell_zegveld"]
    truth, predicted = _agreement(gold, rule, rz.id, sample)
    kappa = cohen_kappa_score([rz.type_of(c) for c in truth], [rz.type_of(c) for c in predicted])
    assert kappa >= floor, kappa


def test_per_type_precision_and_recall(gold, rule):
    (rz,) = [b for b in codebooks() if b.id == "rothwell_zegveld"]
    truth, predicted = _agreement(gold, rule, rz.id)
    t = pd.Series([rz.type_of(c) for c in truth])
    p = pd.Series([rz.type_of(c) for c in predicted])
    for kind in ("supply", "environment", "demand"):
        hit = ((t == kind) & (p == kind)).sum()
        assert hit / (p == kind).sum() >= 0.84, kind  # measured: .924, .912, .853
        assert hit / (t == kind).sum() >= 0.85, kind  # measured: .872, .920, .901


def test_mechanism_and_actor_agreement(gold, rule):
    """Below the 0.8 two coders need: the pages say these are pre-labels for a coder to check."""
    for framework, floor in (("mcdonnell_elmore", 0.58), ("actors", 0.60)):  # measured .612, .640
        truth, predicted = _agreement(gold, rule, framework)
        assert cohen_kappa_score(truth, predicted) >= floor, framework


def test_tables_do_not_depend_on_the_number_of_workers(built):
    from compare.instruments import instruments

    items = [
        (r.doc.doc_id, r.doc.city, r.text, r.parsed.sections, [(t.char_start, t.char_end) for t in r.tasks])
        for r in built[1].results
    ]
    one = instruments(items, codebooks(), workers=1)
    two = instruments(items, codebooks(), workers=2)
    for a, b in zip(one, two, strict=True):
        pd.testing.assert_frame_equal(a, b)


def test_the_tables_made_from_columns_are_those_made_row_by_row(built, tmp_path):
    """A document's units and rule rows are kept (and stored) column by column: the tables made from
    them are, row for row and type for type, those made from one tuple per row, the coders' codes
    after the rules' (a code for an unknown codebook or unit left out); a document without units
    (here an empty one) adds no rows and takes no columns away; the codes table reads no text."""
    from compare.instruments import instruments, instruments_pieces, labels, store_instruments
    from compare.instruments import units as units_of
    from compare.memo import Memo
    from compare.schemas import INSTRUMENT_CODES, INSTRUMENT_UNITS

    r = built[1].results[0]
    items = [
        (r.doc.doc_id, r.doc.city, r.text, r.parsed.sections, [(t.char_start, t.char_end) for t in r.tasks]),
        ("empty", "nowhere", "", [], []),
    ]
    books = codebooks()
    unit_rows, code_rows = [], []
    for doc_id, city, text, sections, spans in items:
        for u in units_of(doc_id, text, sections, spans):
            unit_rows.append((u.unit_id, doc_id, city, u.section_id, u.start, u.end, text[u.start : u.end], u.excluded))
            if not u.excluded:
                for book in books:
                    label = labels(text[u.start : u.end], u.start, books)[book.id]
                    code_rows.append(
                        (
                            u.unit_id,
                            doc_id,
                            city,
                            book.id,
                            "rule",
                            label.code,
                            book.type_of(label.code),
                            label.score,
                            label.evidence,
                        )
                    )
    coded, book = code_rows[0][0], books[0]
    human = pd.DataFrame(
        [
            (coded, book.id, "coder:wang", book.codes[0].id),
            (coded, book.id, "coder:li", "not-a-code"),
            (coded, "no-such-codebook", "coder:wang", "x"),
            ("no-such-unit", book.id, "coder:wang", book.codes[0].id),
        ],
        columns=["unit_id", "framework", "source", "code"],
    )
    code_rows += [
        (coded, r.doc.doc_id, r.doc.city, book.id, "coder:wang", book.codes[0].id, book.codes[0].type, 1.0, []),
        (coded, r.doc.doc_id, r.doc.city, book.id, "coder:li", "not-a-code", "", 1.0, []),
    ]
    got_units, got_codes = instruments(items, books, human, workers=1)
    assert len(got_units) > 100 and not (got_units.doc_id == "empty").any()
    pd.testing.assert_frame_equal(got_units, pd.DataFrame(unit_rows, columns=INSTRUMENT_UNITS.columns))
    pd.testing.assert_frame_equal(got_codes, pd.DataFrame(code_rows, columns=INSTRUMENT_CODES.columns))
    none_units, none_codes = instruments(items[1:], books, workers=1)
    pd.testing.assert_frame_equal(none_units, pd.DataFrame([], columns=INSTRUMENT_UNITS.columns))
    pd.testing.assert_frame_equal(none_codes, pd.DataFrame([], columns=INSTRUMENT_CODES.columns))

    class Textless(tuple):
        def __getitem__(self, k):
            assert k != 2, "the codes table read a document's text"
            return super().__getitem__(k)

    stored = Memo(tmp_path, "instruments")
    keys = [stored.key(item[0]) for item in items]
    store_instruments(items, books, stored, keys)
    pieces = list(instruments_pieces("codes", [Textless(i) for i in items], books, stored, keys, human))
    pd.testing.assert_frame_equal(pd.concat(pieces, ignore_index=True), got_codes)
