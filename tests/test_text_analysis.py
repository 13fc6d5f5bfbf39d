"""Tokens, section similarity, shared passages, keyness and the concordance on the real documents."""

import gc
import os
import weakref
from functools import lru_cache, partial

import numpy as np
import pandas as pd
import pytest

import compare
from compare import tokens as tok
from compare import workers
from compare.analysis_units import analysis_units, unit_spans
from compare.schemas import ALL_TABLES
from compare.section_pairs import section_pairs, top_pairs, top_pairs_pieces
from compare.shared_passages import _hash_order, _sort_rows, exact_runs, indexed_runs, make_stream, shared_passages
from compare.tables import pair_scores, side_by_side
from compare.vectors import dense_split, pooled, term_counts, tfidf

# ---- tokens


def test_domain_terms_stay_whole_and_stopwords_go():
    words = tok.tokenize("深化产教融合、校企合作，“双师型”教师比例达到50%，推进1+X证书和现代学徒制试点。")
    for term in ("产教融合", "校企合作", "双师型", "1+X证书", "现代学徒制"):
        assert term in words
    assert not {"的", "和", "推进", "50", "50%"} & set(words)


def test_traditional_characters_are_folded():
    assert tok.tokenize("職業學校") == tok.tokenize("职业学校")


def test_jieba_is_silent(capfd):
    tok.tokenize("职业教育")
    out, err = capfd.readouterr()
    assert "prefix dict" not in err + out


def test_token_cache_avoids_tokenising_again(tmp_path, monkeypatch):
    cache = tok.TokenCache(tmp_path / "tokens.sqlite")
    first = cache.tokens(["建设高水平专业群", "深化产教融合", "建设高水平专业群"])
    assert first[0] == first[2] == ["建设", "高水平专业群"]

    def fail(*_):
        raise AssertionError("tokenised again")

    monkeypatch.setattr(tok, "joined_many", lambda texts, workers=None: [fail() for _ in texts])
    assert cache.tokens(["建设高水平专业群", "深化产教融合", "建设高水平专业群"]) == first
    assert tok.TokenCache(tmp_path / "tokens.sqlite").tokens(["深化产教融合"]) == [first[1]]  # persisted


def test_cache_key_changes_with_the_dictionary(tmp_path, monkeypatch):
    before = tok.TokenCache.key("文本")
    monkeypatch.setattr(tok, "signature", lambda: "another-dictionary")
    assert tok.TokenCache.key("文本") != before


def python_jieba_tokens(text: str) -> list[str]:
    """`tokenize` as Python jieba gives it (the reference rjieba must match)."""
    return tok.kept(tok._python_jieba().lcut(compare.clean.fold(text)))


def test_tokens_are_python_jiebas_on_every_section(built):
    """jieba-rs (rjieba) segments exactly as Python jieba on the whole corpus, section by section."""
    _, result = built
    units = analysis_units(result.tables["sections"], result.tables["tasks"])
    assert len(units) > 150
    for text in units.text:
        assert tok.tokenize(text) == python_jieba_tokens(text), text[:60]


@pytest.mark.parametrize(
    "text",
    [
        "推进Wi-Fi全覆盖",
        "应对COVID-19疫情",
        "建设5G-A网络",
        "发展k-12教育",
        "e.g.例如",
        "落实ISO-9001认证",
        "增长3.5%",
        "学学学习",
        "人人人才",
        "鿖鿗合作",
        "𠀀𠀁合作",
    ],
)
def test_tokens_are_python_jiebas_where_jieba_rs_would_differ(text):
    assert tok.tokenize(text) == python_jieba_tokens(text)


def test_tokens_are_python_jiebas_on_generated_strings():
    """Short strings of ASCII, joiners and a few characters: where jieba-rs segments differently."""
    import random

    rng = random.Random(5)
    alphabet = list("abXY0125") + list("-_.+#&%") + list("教育学校职业证书年人等级")
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(2, 9)))
        assert tok.tokenize(text) == python_jieba_tokens(text), text


def test_parallel_tokenisation_gives_the_same_tokens():
    texts = ["深化产教融合，推进校企合作。", "建设双师型教师队伍。", "实施1+X证书制度试点。"] * 4
    assert tok.tokenize_many(texts, workers=2) == [tok.tokenize(t) for t in texts]


def _jieba_loads(_) -> tuple[int, int]:
    """(this process, how many times it has loaded jieba itself)."""
    return os.getpid(), tok._python_jieba.cache_info().misses


def test_a_stage_loads_jieba_once_a_worker():
    """Within a stage (`workers.pools_kept`) the batches' maps run on one pool, so jieba itself (2 s
    and 71 MB to load), which a run jieba-rs would segment otherwise needs, is loaded once by each
    worker, not again by the workers of every batch; outside, a map's workers are its own."""
    texts = ["落实ISO-9001认证", "学学学习", "深化产教融合，推进校企合作。"] * 6
    tok._python_jieba.cache_clear()  # the workers are forked from a process without it
    with workers.pools_kept():
        first = tok.tokenize_many(texts, workers=2)
        second = tok.tokenize_many(texts, workers=2)
        loads = dict(workers.map_ordered(_jieba_loads, range(16), 2, initializer=tok._segmenter))
    assert loads and set(loads.values()) == {1}, loads  # the same workers, each having loaded it once
    assert tok._python_jieba.cache_info().currsize == 0  # … and never this process
    assert set(dict(workers.map_ordered(_jieba_loads, range(16), 2, initializer=tok._segmenter)).values()) == {0}
    assert first == second == [python_jieba_tokens(t) for t in texts]


class _Stop(Exception):
    pass


def test_jieba_loaded_by_the_tokens_stage_in_this_process_is_let_go_of(tmp_path, monkeypatch):
    """A corpus small enough to tokenise in the build's own process (as every build that adds a
    document tokenises its units) loads jieba itself there when a run needs it (here every run with
    产教, which the real documents hold); the tokens stage lets go of it (71 MB) when it ends."""
    import re

    from compare.pipeline import run_stages
    from compare.registry import load_registry

    from .conftest import scratch_project

    monkeypatch.setattr(tok, "_RUST_DIFFERS", re.compile("产教"))
    loads, real = [], tok._python_jieba.__wrapped__

    @lru_cache(maxsize=1)
    def python_jieba():
        loads.append(os.getpid())
        return real()

    monkeypatch.setattr(tok, "_python_jieba", python_jieba)
    seen = []

    def on_stage(b, stage, seconds):
        if stage.name == "tokens":
            seen.append(python_jieba.cache_info().currsize)
            raise _Stop

    paths = scratch_project(tmp_path)
    collecting = gc.get_threshold()
    with pytest.raises(_Stop):
        run_stages(paths, load_registry(paths), on_stage, caches=False)
    assert loads == [os.getpid()] and seen == [0]  # loaded once, in this process, and let go of
    assert gc.get_threshold() == collecting  # the collector's thresholds given back, the build stopped or not


def test_every_dictionary_term_and_stopword_occurs_in_the_corpus(built):
    _, result = built
    corpus = "\n".join(r.text for r in result.results)
    assert [t for t in tok.dictionary_terms() if t not in corpus] == []
    raw_tokens = set(tok.segment(compare.clean.fold(corpus)))
    assert sorted(w for w in tok.stopwords() if w not in raw_tokens) == []


# ---- section similarity


PINNED = [  # sections that plainly answer each other: each is the other's best match in that city
    ("qingyang/三/(五)/14", "wuwei/三/(四)/13"),  # 健全产教融合激励机制 ↔ 健全产教融合激励机制
    ("qingyang/四/(十)", "wuwei/四/(八)/25"),  # 提高人才待遇 ↔ 提高技术技能人才地位待遇
    ("qingyang/三/(五)/16", "wuwei/三/(四)/14"),  # 支持社会力量办学 ↔ 支持社会力量兴办职业教育
    ("qingyang/三/(六)/19", "wuwei/三/(五)/18"),  # 主动开展技能培训 ↔ 强化职业教育技能培训
    ("qingyang/三/(四)/10", "wuwei/三/(三)/9"),  # 推进课堂教学改革 ↔ 推动职业院校课堂变革
]
ONE_WAY = [  # best match from the first to the second's city
    (
        "qingyang/四/(九)",
        "wuwei/四/(七)/24",
    ),  # 保障经费投入 → 健全经费投入机制 (which answers Qingyang's 附件2 row 19 first)
    ("qingyang/四/(九)", "qinhuangdao/五/(十八)"),  # 保障经费投入 → 落实职业教育经费保障
    ("qingyang/三/(五)/16", "shangdang/五/(十七)"),  # 支持社会力量办学 → 建设多元办学格局
    ("qingyang/三/(四)/11", "zhongwei/三/(四)/18"),  # 打造优质教师队伍 → 建好“双师型”教师队伍
    ("qingyang/三/(四)/12", "zhongwei/三/(二)/6"),  # 加大信息化建设力度 → 加强“互联网+职业教育”建设
]


def best(pairs: pd.DataFrame, a: str, city_b: str) -> str:
    hit = pairs[(pairs.section_a == a) & (pairs.city_b == city_b) & (pairs["rank"] == 1)]
    assert len(hit) == 1
    return hit.section_b.iloc[0]


@pytest.mark.parametrize("a, b", PINNED)
def test_sections_that_answer_each_other_rank_first_both_ways(tables, a, b):
    pairs = tables["section_pairs"]
    assert best(pairs, a, b.split("/")[0]) == b
    assert best(pairs, b, a.split("/")[0]) == a


@pytest.mark.parametrize("a, b", ONE_WAY)
def test_best_match_in_other_cities(tables, a, b):
    assert best(tables["section_pairs"], a, b.split("/")[0]) == b


def test_top_five_per_other_city_in_both_directions(tables):
    pairs = tables["section_pairs"]
    per = pairs.groupby(["section_a", "city_b"]).size()
    assert per.max() == 5 and (per >= 1).all()
    assert (pairs.groupby(["section_a", "city_b"])["rank"].apply(lambda r: list(r) == list(range(1, len(r) + 1)))).all()
    assert (
        pairs.sort_values(["section_a", "city_b", "rank"])
        .groupby(["section_a", "city_b"])
        .score.apply(lambda s: s.is_monotonic_decreasing)
    ).all()
    # each pair of cities is covered from both sides
    assert set(zip(pairs.city_a, pairs.city_b, strict=True)) == {
        (a, b) for a in tables["documents"].city for b in tables["documents"].city if a != b
    }


def test_character_ngrams_agree_on_the_pinned_pairs(built):
    _, result = built
    units = analysis_units(result.tables["sections"], result.tables["tasks"])
    pairs = section_pairs(units, tokens=None, texts=units.text.tolist(), analyzer="char")
    for a, b in PINNED:
        assert best(pairs, a, b.split("/")[0]) == b


def test_document_similarity_matrix(tables):
    m = tables["document_similarity"].pivot(index="doc_a", columns="doc_b", values="score")
    assert (m.values.diagonal() == 1).all()
    assert (m == m.T).all().all()
    # Qingyang and Wuwei implement the same Gansu document: each is the other's closest
    assert m.loc["qingyang"].drop("qingyang").idxmax() == "wuwei"
    assert m.loc["wuwei"].drop("wuwei").idxmax() == "qingyang"


# ---- shared passages


def passages(tables, a, b):
    p = tables["shared_passages"]
    return p[(p.doc_a == a) & (p.doc_b == b)]


def test_passage_offsets_quote_both_texts(tables, texts):
    for p in tables["shared_passages"].itertuples():
        assert texts[p.doc_a][p.start_a : p.end_a] == p.text_a
        assert texts[p.doc_b][p.start_b : p.end_b] == p.text_b
        assert p.n_chars >= 15 and p.similarity >= 0.7
        assert "\n" not in p.text_a and "\n" not in p.text_b  # never across sections


def test_each_stream_character_is_placed_on_its_character_in_the_text(texts):
    """A stream keeps each character's offset as runs of consecutive offsets: every character of
    every document's stream, boundaries aside, is the folded character at its offset, and looking one
    up gives what the whole array holds."""
    from compare.clean import fold

    for doc_id, text in texts.items():
        spans = [(0, len(text) // 3), (len(text) // 3, len(text) // 2), (len(text) // 2 + 7, len(text))]
        stream = make_stream(text, spans)
        at = np.asarray(stream.offsets)
        assert len(at) == len(stream.offsets) == len(stream.chars)
        assert len(stream.offsets.starts) < len(at) / 3, doc_id  # runs, not characters
        folded = fold(text)
        chars = [c for c, o in zip(stream.chars, at, strict=True) if c != "\ue000"]
        assert "".join(chars) == "".join(folded[o] for c, o in zip(stream.chars, at, strict=True) if c != "\ue000")
        for i in range(0, len(at), 97):
            assert stream.offsets[i] == at[i]
        with pytest.raises(IndexError):
            stream.offsets[len(at)]


def test_qingyang_and_wuwei_share_dozens_of_passages(tables):
    qw = passages(tables, "qingyang", "wuwei")
    assert len(qw) >= 50
    joined = " ".join(qw.text_a)
    for shared in [
        "原则上每年按企业职工总数的2%接纳职业院校学生实习",
        "建立健全改革创新容错纠错机制",
        "按规定投资额30%的比例抵免该企业当年应缴教育费附加",
        "在教学中广泛运用云计算、大数据、物联网、人工智能等新技术",
        "职业学校毕业生在落户、就业、参加公务员招录、事业单位招聘、职称评聘、职务职级晋升等方面与普通学校毕业生同等对待",
    ]:
        assert shared in joined, shared


def test_near_copies_with_edits_are_one_passage(tables):
    qw = passages(tables, "qingyang", "wuwei")
    hit = qw[qw.text_a.str.contains("五业融合发展模式")]
    assert len(hit) >= 1
    p = hit.iloc[0]
    assert "逐步实现学生入学即入职" in p.text_a and "实现学生入学即入职，毕业即上岗" in p.text_b
    assert p.similarity < 1


def test_passages_every_city_shares_with_the_national_template(tables):
    p = tables["shared_passages"]
    phrase = "大国工匠进校园”“劳模进校园”“优秀职校生校园分享"
    pairs = {(r.doc_a, r.doc_b) for r in p.itertuples() if phrase in r.text_a}
    assert {("qingyang", "wuwei"), ("qingyang", "zhongwei"), ("shangdang", "zhongwei")} <= pairs
    lemma = "建立公开透明规范的民办职业教育准入、审批制度"
    assert ("qingyang", "shangdang") in {(r.doc_a, r.doc_b) for r in p.itertuples() if lemma in r.text_a}


def test_reuse_on_a_constructed_pair():
    a = "第一段无关内容。鼓励上市公司和企业依法参与举办职业教育，支持社会力量通过独资、合资、合作等形式举办职业教育。其他无关内容。"
    b = "别的开头。支持社会力量通过独资、合资等形式举办职业教育，鼓励上市公司和企业依法参与举办职业教育。结尾。"
    found = shared_passages(make_stream(a, [(0, len(a))]), make_stream(b, [(0, len(b))], boundary="\ue001"))
    texts = sorted(a[s:e] for s, e, *_ in found)
    # the reordered sentences are found apart; the dropped 合作 is bridged inside one passage
    assert texts == ["支持社会力量通过独资、合资、合作等形式举办职业教育", "鼓励上市公司和企业依法参与举办职业教育"]
    assert shared_passages(make_stream(a, [(0, len(a))]), make_stream(b, [(0, len(b))], "\ue001"), min_chars=30) == []


def test_the_corpus_index_finds_the_same_runs_as_comparing_every_pair(built, tables, texts):
    """The shingle index compares only pairs that share a shingle; on the five documents (every pair
    shares some) its runs must be exactly those of the pair-by-pair scan."""
    ids = sorted(texts)
    spans = unit_spans(analysis_units(tables["sections"], tables["tasks"]), ids)
    streams = [make_stream(texts[d], spans[d]) for d in ids]
    runs = indexed_runs(streams)
    assert len(runs) == 15
    for i in range(len(ids)):
        for j in range(i + 1, len(ids)):
            other = make_stream(texts[ids[j]], spans[ids[j]], boundary="\ue001")
            assert runs[(i, j)] == exact_runs(streams[i].chars, other.chars), (ids[i], ids[j])
    # Unrelated documents are never paired; a shingle in more than max_docs documents seeds nothing.
    lone = make_stream("完全不同的另一段文字内容毫无重复之处", [(0, 18)])
    assert all(len(streams) not in pair for pair in indexed_runs([*streams, lone]))
    assert indexed_runs(streams, max_docs=1) == {}


def test_hash_order_is_a_stable_sort_even_when_hashes_share_their_high_bits():
    """The fast path sorts high bits + index; hashes that agree in those bits are re-sorted whole."""
    rng = np.random.default_rng(3)
    H = rng.integers(0, 2**63, 5000, dtype=np.int64).astype(np.uint64)
    H[rng.integers(0, 5000, 800)] = H[rng.integers(0, 5000, 800)]  # repeated hashes
    bits = (len(H) - 1).bit_length()
    H[:40] = (H[:40] & ~np.uint64((1 << bits) - 1)) | rng.integers(0, 1 << bits, 40).astype(np.uint64)
    H[40:80] = H[0] & ~np.uint64((1 << bits) - 1) | rng.integers(0, 1 << bits, 40).astype(np.uint64)  # one clash
    assert np.array_equal(_hash_order(H), np.argsort(H, kind="stable"))


def test_packed_row_sort_is_lexicographic_and_falls_back_when_rows_do_not_fit():
    rng = np.random.default_rng(4)
    cols = [rng.integers(0, 50, 3000), rng.integers(0, 7, 3000), rng.integers(0, 1000, 3000)]
    expected = sorted(zip(*(c.tolist() for c in cols), strict=True))
    for sizes in ([50, 7, 1000], [2**40, 2**20, 2**10]):  # packed into one integer; too big to pack
        assert list(zip(*(c.tolist() for c in _sort_rows(list(cols), sizes)), strict=True)) == expected


def test_side_by_side_highlights_differences_and_escapes_text():
    out = side_by_side("实现学生入学即入职", "逐步实现学生入学即入职<script>", "甲", "乙")
    assert '<mark class="diff">逐步</mark>' in out
    assert "&lt;script&gt;" in out and "<script>" not in out


# ---- keyness and concordance


def test_keyness_finds_each_citys_own_vocabulary(tables):
    k = tables["keyness"]
    top = k[k["rank"] <= 10].groupby("city").term.apply(set)
    assert "职专" in top["qingyang"] and "技术学校" in top["zhongwei"] and "职业高中" in top["shangdang"]
    assert not {"庆阳", "武威", "秦皇岛", "环县", "上党"} & set(k.term)  # place names are trivially distinctive
    assert (k.g2 > 0).all() and (k.per_10k > k.per_10k_rest).all()
    assert (k.groupby("city")["rank"].max() <= 30).all()


def test_keyness_counts_are_real_counts(built, tables):
    _, result = built
    zhongwei = "".join(r.text for r in result.results if r.doc.doc_id == "zhongwei")
    row = tables["keyness"].set_index(["city", "term"]).loc[("zhongwei", "技术学校")]
    assert row["count"] <= zhongwei.count("技术学校") and row["count_rest"] == 0


def test_kwic_is_sentence_bounded(built):
    paths, _ = built
    hits = compare.kwic("双师型", paths=paths, window=30)
    assert list(hits.columns) == ["city", "doc_id", "section_id", "left", "match", "right", "char_start", "char_end"]
    assert set(hits.city) == {"qingyang", "zhongwei", "wuwei", "qinhuangdao", "shangdang", "national"}
    assert not any(c in "。；" for c in "".join(hits.left))
    trad = compare.kwic("中小学生", paths=paths, cities=["zhongwei"])
    assert "中小學生" in set(trad.match)  # traditional characters match and are quoted as printed


def brute_force_pairs(units: pd.DataFrame, X, top_k: int, max_cities: int) -> list[tuple]:
    """`top_pairs` by its definition, one row at a time on the whole dense matrix."""
    S = np.round((X @ X.T).toarray(), 6)
    city, ids = units.city.tolist(), units.section_id.tolist()
    cities = sorted(set(city))
    rows = []
    for i in range(len(units)):
        per_city = {}
        for c in cities:
            if c == city[i]:
                continue
            cols = [j for j in range(len(units)) if city[j] == c and S[i, j] > 0]
            cols.sort(key=lambda j: -S[i, j])  # stable: document order among equal scores
            if cols:
                per_city[c] = cols[:top_k]
        kept = sorted(per_city, key=lambda c: (-S[i, per_city[c][0]], cities.index(c)))[:max_cities]
        for c in sorted(kept):
            rows += [(ids[i], ids[j], float(S[i, j]), r + 1) for r, j in enumerate(per_city[c])]
    return rows


@pytest.mark.parametrize("workers, block", [(1, 512), (1, 7), (2, 5)])
def test_top_pairs_follow_their_definition_on_a_random_corpus(workers, block):
    """Many cities of 1–6 sections, tied scores (repeated rows), blocks that cut through cities."""
    from scipy import sparse

    rng = np.random.default_rng(11)
    n_cities, rows = 30, []
    for c in range(n_cities):
        rows += [f"c{c:02d}"] * int(rng.integers(1, 7))
    order = rng.permutation(len(rows))  # units of a city are not next to each other
    units = pd.DataFrame({"city": np.asarray(rows)[order]})
    units["section_id"] = [f"{c}/{i}" for i, c in enumerate(units.city)]
    units["doc_id"] = units.city
    dense = rng.integers(1, 4, (len(units), 60)) * (rng.random((len(units), 60)) < 0.08)
    for c in ("c00", "c01", "c02"):  # in some cities two sections with the same words: tied scores
        same = np.flatnonzero(units.city == c)
        dense[same] = dense[same[0]]
    X = tfidf(sparse.csr_matrix(dense.astype(float)))
    assert dense_split(X, 8)[0].shape == (len(units), 8)
    for max_cities in (n_cities, 4):
        got = top_pairs(units, X, top_k=3, max_cities=max_cities, workers=workers, block=block)
        expected = brute_force_pairs(units, X, 3, max_cities)
        key = {s: i for i, s in enumerate(units.section_id)}
        expected.sort(key=lambda r: (key[r[0]], r[1].split("/")[0], r[3]))
        assert list(zip(got.section_a, got.section_b, got.score, got["rank"], strict=True)) == expected
        # made piece by piece in the table's order (as the build writes it): the same rows
        spec = ALL_TABLES["section_pairs"]
        for piece_rows in (1, 97, 10**6):
            pieces = list(top_pairs_pieces(units, [X], top_k=3, max_cities=max_cities, piece_rows=piece_rows))
            assert len(pieces) == -(-len(got) // piece_rows)
            pd.testing.assert_frame_equal(
                pd.concat(pieces, ignore_index=True)[spec.columns], spec.finalise(got), check_exact=True
            )
        # from the counts, weighed once in city order (as the build scores them): the same bits
        counts = sparse.csr_matrix(dense.astype(float))
        weighed = list(top_pairs_pieces(units, [counts], top_k=3, max_cities=max_cities, weigh=tfidf))
        pd.testing.assert_frame_equal(pd.concat(weighed, ignore_index=True), pd.concat(pieces), check_exact=True)
        # the counts handed over (the build's): taken from the list and let go of once scored, and
        # weighed in place: the same bits
        handed = [counts.copy()]
        given = weakref.ref(handed[0])
        made = top_pairs_pieces(units, handed, top_k=3, max_cities=max_cities, weigh=partial(tfidf, copy=False))
        first = next(made)
        assert handed == [] and given() is None
        pd.testing.assert_frame_equal(pd.concat([first, *made], ignore_index=True), pd.concat(pieces), check_exact=True)


@pytest.fixture(scope="module")
def counted(built):
    """The build of the five documents through the tokens stage: its documents and term counts."""
    from compare.pipeline import Build, documents_stage, tokens_stage
    from compare.registry import load_registry

    paths, _ = built
    b = Build(paths, load_registry(paths))
    documents_stage(b)
    tokens_stage(b)
    return b


def test_document_similarity_made_in_pieces_is_the_whole_table(counted):
    """Every pair of documents, a block of documents at a time in the table's order, bit for bit."""
    from compare.document_similarity import document_similarity, document_similarity_pieces

    b = counted
    spec = ALL_TABLES["document_similarity"]
    whole = spec.finalise(document_similarity(b.frame, b.units.doc_id, b.counts))
    assert len(whole) == 36
    for piece_rows in (1, 6, 13, 10**6):
        pieces = list(document_similarity_pieces(b.frame, b.units.doc_id, b.counts, piece_rows))
        assert len(pieces) == (6 if piece_rows <= 6 else 3 if piece_rows == 13 else 1)
        pd.testing.assert_frame_equal(
            pd.concat([spec.finalise(p) for p in pieces], ignore_index=True), whole, check_exact=True
        )


def test_document_similarity_keeps_each_documents_nearest_beyond_every_pair(counted):
    """Past `nearest` + 1 documents, each document keeps itself and its `nearest` most similar others
    (ties: doc_id order), with the scores every pair has: checked against the every-pair table, for
    any block of rows and on two worker processes."""
    from compare.document_similarity import document_similarity, document_similarity_pieces

    b = counted
    spec = ALL_TABLES["document_similarity"]
    every = spec.finalise(document_similarity(b.frame, b.units.doc_id, b.counts))
    assert len(every) == 36  # six documents, nearest 500: every ordered pair
    # its scores: the whole sparse product of the pooled TF-IDF vectors, rounded
    ids = sorted(b.frame.doc_id)
    X = tfidf(pooled(b.counts, b.units.doc_id, ids))
    whole = np.round((X @ X.T).toarray(), 6)
    assert (every.pivot(index="doc_a", columns="doc_b", values="score").loc[ids, ids].to_numpy() == whole).all()
    at_edge = document_similarity(b.frame, b.units.doc_id, b.counts, nearest=5)  # 5 others: every pair
    pd.testing.assert_frame_equal(spec.finalise(at_edge), every, check_exact=True)
    for nearest in (1, 2, 4):
        others = every[every.doc_a != every.doc_b].sort_values(
            ["doc_a", "score", "doc_b"], ascending=[True, False, True]
        )
        kept = pd.concat([every[every.doc_a == every.doc_b], others.groupby("doc_a").head(nearest)])
        expected = spec.finalise(kept)
        assert len(expected) == 6 * (nearest + 1)
        for piece_rows, n_workers in ((1, 1), (13, 1), (6, 2), (10**6, 1)):
            pieces = document_similarity_pieces(b.frame, b.units.doc_id, b.counts, piece_rows, nearest, n_workers)
            got = pd.concat([spec.finalise(p) for p in pieces], ignore_index=True)
            pd.testing.assert_frame_equal(got, expected, check_exact=True)
    # Qingyang and Wuwei implement the same Gansu document: each is the other's one nearest
    one = spec.finalise(document_similarity(b.frame, b.units.doc_id, b.counts, nearest=1))
    nearest_of = one[one.doc_a != one.doc_b].set_index("doc_a").doc_b
    assert nearest_of["qingyang"] == "wuwei" and nearest_of["wuwei"] == "qingyang"


def test_document_similarity_ties_go_to_the_earlier_document():
    from scipy import sparse

    from compare.document_similarity import document_similarity, document_similarity_pieces

    docs = pd.DataFrame({"doc_id": ["d", "b", "c", "a"], "city": ["x", "y", "z", "w"]})
    # b, c and d have the same words, so the same score with a; a's nearest two are b and c
    counts = sparse.csr_matrix(np.array([[1, 1, 0], [1, 1, 0], [1, 1, 0], [1, 0, 1]], dtype=float))
    got = document_similarity(docs, docs.doc_id, counts, nearest=2)
    assert got[got.doc_a == "a"].doc_b.tolist() == ["a", "b", "c"]
    assert got[got.doc_a == "d"].doc_b.tolist() == ["b", "c", "d"]  # scores 1, 1 beat a's
    one_a_block = pd.concat(list(document_similarity_pieces(docs, docs.doc_id, counts, 4, 2, 2)), ignore_index=True)
    pd.testing.assert_frame_equal(one_a_block, got, check_exact=True)


def test_top_pairs_ignore_cities_without_sections():
    """A categorical city column may list cities with no section: they must not take a place."""
    from scipy import sparse

    units = pd.DataFrame({"city": list("abcd"), "section_id": ["a/0", "b/0", "c/0", "d/0"], "doc_id": list("abcd")})
    X = tfidf(sparse.csr_matrix(np.array([[1, 1, 0], [1, 0, 1], [0, 1, 1], [1, 1, 1]], dtype=float)))
    expected = top_pairs(units, X, max_cities=1)
    for categories in (list("abxcd"), list("abcdz")):
        with_empty = units.assign(city=pd.Categorical(units.city, categories=categories))
        got = top_pairs(with_empty, X, max_cities=1)
        assert list(zip(got.section_a, got.section_b, got.score, strict=True)) == list(
            zip(expected.section_a, expected.section_b, expected.score, strict=True)
        )


def test_scoring_here_leaves_the_blas_threads_alone():
    """Asked for two workers but given one block, top_pairs scores in this process: it must not
    leave this process limited to one BLAS thread."""
    from scipy import sparse
    from threadpoolctl import threadpool_info

    units = pd.DataFrame({"city": list("ab"), "section_id": ["a/0", "b/0"], "doc_id": list("ab")})
    before = [p["num_threads"] for p in threadpool_info()]
    top_pairs(units, tfidf(sparse.csr_matrix(np.ones((2, 3)))), workers=2)
    assert [p["num_threads"] for p in threadpool_info()] == before


def test_term_counts_are_scikit_learns():
    from sklearn.feature_extraction.text import CountVectorizer

    tokens = [["职业", "教育", "职业"], [], ["教育", "产教融合"], ["1+X证书"]]
    counts, terms = term_counts(tokens)
    vec = CountVectorizer(analyzer=lambda t: t)
    expected = vec.fit_transform(tokens)
    assert list(terms) == list(vec.get_feature_names_out())
    assert (counts != expected).nnz == 0 and counts.has_sorted_indices


def test_section_pairs_keep_the_closest_cities_when_there_are_many():
    texts = {
        "a": ["产教 融合 实训 基地", "教师 队伍 建设"],
        "b": ["产教 融合 实训 基地 建设"],
        "c": ["产教 融合 专业"],
        "d": ["教师 队伍 培训"],
    }
    rows = [(f"{c}/{i}", c, c, i) for c in texts for i in range(len(texts[c]))]
    units = pd.DataFrame(rows, columns=["section_id", "doc_id", "city", "order"])
    tokens = [texts[c][i].split() for _, c, _, i in rows]
    every = section_pairs(units, tokens)
    assert set(every[every.section_a == "a/0"].city_b) == {"b", "c"}  # d shares no word with a/0
    capped = section_pairs(units, tokens, max_cities=1)
    assert capped[capped.section_a == "a/0"].section_b.tolist() == ["b/0"]  # the closest city only
    assert capped[capped.section_a == "a/1"].section_b.tolist() == ["d/0"]
    assert len(capped) < len(every) and set(map(tuple, capped.values)) <= set(map(tuple, every.values))


def test_pair_scores_lay_the_table_out_in_document_order(tables):
    """The 04-pair heatmap reads section_pairs: both directions, sections in document order."""
    m = pair_scores(tables["section_pairs"], tables["sections"], "qingyang", "wuwei")
    order = tables["sections"].set_index("section_id").order
    assert list(m.index) == sorted(m.index, key=order.get) and list(m.columns) == sorted(m.columns, key=order.get)
    pairs = tables["section_pairs"]
    one_way = pairs[(pairs.city_a == "qingyang") & (pairs.city_b == "wuwei")]
    other_way = pairs[(pairs.city_a == "wuwei") & (pairs.city_b == "qingyang")]
    for r in one_way.itertuples():
        assert m.loc[r.section_a, r.section_b] == r.score
    for r in other_way.itertuples():
        assert m.loc[r.section_b, r.section_a] == r.score
    assert m.notna().sum().sum() == len(
        set(zip(one_way.section_a, one_way.section_b, strict=True))
        | set(zip(other_way.section_b, other_way.section_a, strict=True))
    )


def test_the_index_gives_the_same_runs_for_any_partition(texts, tmp_path, monkeypatch):
    """The shingle index is joined one hash partition at a time, and its matches assembled into
    runs a group of documents' pairs at a time, both waiting on disk in between, to bound its
    memory: the runs (and their order) must not depend on how many partitions or groups there
    are, and nothing is left on disk."""
    from compare import shared_passages
    from compare.shared_passages import indexed_runs, make_stream, runs_by_pair

    streams = [make_stream(texts[d], [(0, len(texts[d]))]) for d in sorted(texts)]
    whole = list(runs_by_pair(streams, partition=1 << 40))  # one partition, in memory
    assert sum(len(r) for _, r in whole) > 100  # the documents do share passages
    assert [pair for pair, _ in whole] == sorted(pair for pair, _ in whole)
    for group in (1, 10**9):  # a group per range of first documents; one group
        monkeypatch.setattr(shared_passages, "PAIR_GROUP", group)
        for size in (700, 6000, 25_000):  # 128, 8 and 2 partitions of the 45,509 shingles
            assert list(runs_by_pair(streams, partition=size, spill=tmp_path)) == whole
            assert list(tmp_path.iterdir()) == []
    assert indexed_runs(streams, partition=700) == dict(whole)


def test_the_passages_table_holds_one_documents_text_at_a_time(built, tables, texts):
    """The table's maker reads the documents twice — for the streams, then for the passages' texts
    and sections — and keeps no document's text: at most one is alive when the next is read, so
    the corpus's texts are never held at once. The table is the build's."""
    import gc
    import weakref

    from compare.shared_passages import passages_table

    class Text(str):  # a str that can be watched (a plain one cannot be weakly referred to)
        pass

    sections = {r.doc.doc_id: r.parsed.sections for r in built[1].results}
    docs = tables["documents"][["doc_id", "city"]]
    spans = unit_spans(analysis_units(tables["sections"], tables["tasks"]), docs.doc_id)
    alive, most, readings = weakref.WeakSet(), [], []

    def documents():
        readings.append(0)
        for doc_id in sorted(texts):
            gc.collect()
            most.append(len(alive))
            text = Text(texts[doc_id])
            alive.add(text)
            yield doc_id, text, sections[doc_id]

    made = passages_table(docs, documents, spans)
    assert len(readings) == 2 and max(most) <= 1
    assert len(made) > 100
    assert ALL_TABLES["shared_passages"].finalise(made).equals(tables["shared_passages"])
    with pytest.raises(ValueError, match="document 1 is 'zhongwei', expected 'national'"):
        passages_table(docs, lambda: ((d, texts[d], sections[d]) for d in ["zhongwei", *sorted(texts)]), spans)


def test_counts_of_joined_tokens_are_the_token_lists_counts(tables):
    """The build counts the cache's space-separated strings in Arrow; the same matrix and terms as
    counting the token lists (here: the real documents' units, and edge cases: empty units, a unit
    of one token, terms that sort differently by UTF-16 and by code point)."""
    from compare.vectors import joined_counts

    lists = [["职业", "教育", "职业"], [], ["教育"], ["𠀀字", "ｅ", "z"], [], ["1+X证书", "教育"]]
    units = analysis_units(tables["sections"], tables["tasks"])
    for sample in (lists, [tok.tokenize(t) for t in units.text]):
        want_counts, want_terms = term_counts(sample)
        for chunk in (1, 2, 7, 10**6):  # counted a few units at a time, or all at once: the same
            counts, terms = joined_counts([" ".join(t) for t in sample], chunk=chunk)
            assert terms.to_pylist() == list(want_terms)
            assert counts.shape == want_counts.shape and (counts != want_counts).nnz == 0
            assert counts.has_sorted_indices and counts.dtype == want_counts.dtype
            for a in ("indptr", "indices", "data"):
                got, want = getattr(counts, a), getattr(want_counts, a)
                assert got.dtype == want.dtype and np.array_equal(got, want), a
    counts, terms = joined_counts([])
    assert counts.shape == (0, 0) and terms.to_pylist() == []


def test_sparse_part_added_in_place_has_the_bits_of_adding_it_dense():
    """Scoring adds a block's sparse product into the dense one without making it dense first:
    every entry must get the bits `S += P.toarray()` gives (scores are compared bit for bit)."""
    from scipy import sparse

    from compare.vectors import add_sparse

    rng = np.random.default_rng(5)
    A = sparse.random(40, 300, density=0.05, random_state=rng, format="csr")
    B = sparse.random(300, 70, density=0.05, random_state=rng, format="csr")
    P = A @ B
    assert P.nnz and P.nnz < P.shape[0] * P.shape[1]
    S = rng.random((40, 70)) / 3
    expected = S + P.toarray()
    add_sparse(S, P)
    assert S.tobytes() == expected.tobytes()
