"""The build end to end: reproducible bytes, atomic replacement, and clear errors for bad input."""

import csv
import gc
import os
import shutil
import time
from functools import partial

import pandas as pd
import pytest

from compare.config import Paths
from compare.pipeline import build

from .conftest import DOC_IDS, QUIET, refused, run_cli, scratch_project, snapshot


def edit_registry(paths: Paths, change) -> None:
    with open(paths.registry, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    fields = list(rows[0])
    rows = change(rows) or rows
    with open(paths.registry, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def test_two_builds_are_byte_identical(built, tmp_path):
    first_paths, _ = built
    second = scratch_project(tmp_path)
    build(second, **QUIET)
    assert snapshot(second) == snapshot(first_paths)
    assert {
        f"data/processed/{name}"
        for name in (
            "documents.csv",
            "sections.parquet",
            "tasks.csv",
            "citations.csv",
            "cleaning_log.csv",
            "rejected_numbers.csv",
            "text/wuwei.txt",
        )
    } <= set(snapshot(second))


def test_rebuild_keeps_modification_times_of_unchanged_files(project):
    build(project, **QUIET)
    before = {p: p.stat().st_mtime_ns for p in project.processed.rglob("*.csv")}
    build(project, **QUIET)
    assert {p: p.stat().st_mtime_ns for p in project.processed.rglob("*.csv")} == before


def test_documents_table(tables):
    d = tables["documents"].set_index("doc_id")
    assert list(d.index) == sorted(DOC_IDS)
    assert d.loc["qingyang", "parents"] == [
        "《国家职业教育改革实施方案》",
        "《教育部甘肃省人民政府关于整省推进职业教育发展打造“技能甘肃”的意见》（甘政发〔2020〕38号）",
    ]
    assert d.loc["wuwei", "parents"] == [
        "《教育部甘肃省人民政府关于整省推进职业教育发展打造“技能甘肃”的意见》（甘政发〔2020〕38号）"
    ]
    assert d.loc["qinhuangdao", "parents"] == [
        "《关于推动职业教育高质量发展加快建设技能型人才强省的实施意见》（冀办传〔2021〕62号）"
    ]
    assert "教职成厅〔2019〕7号" in " ".join(d.loc["qingyang", "cites"])
    assert not any("庆政发〔2021〕13号" in c for c in d.loc["qingyang", "cites"])  # its own number
    assert d.loc["wuwei", "n_removed_lines"] == 57
    assert (d.n_tasks.to_dict()) == {
        "qingyang": 20,
        "qinhuangdao": 20,
        "shangdang": 21,
        "wuwei": 27,
        "zhongwei": 25,
        "national": 0,
    }
    assert d.loc["national", "parents"] == ["《中华人民共和国职业教育法》"]
    assert (d.loc["national", "admin_level"], d.loc["national", "doc_number"]) == ("national", "国发〔2019〕4号")


def test_documents_count_chars_of_the_cleaned_text(built):
    paths, result = built
    for row in result.tables["documents"].itertuples():
        assert row.n_chars == len((paths.text / f"{row.doc_id}.txt").read_text(encoding="utf-8"))


def test_csv_lists_round_trip(built):
    paths, result = built
    csv_tasks = pd.read_csv(paths.table("tasks"), keep_default_na=False)
    parquet_tasks = pd.read_parquet(paths.table("tasks", "parquet"))
    assert csv_tasks.lead_units.str.split("|").tolist() == [list(x) for x in parquet_tasks.lead_units]


# ---- bad input: clear message, exit status 2, no traceback, previous outputs untouched


def assert_refused(paths: Paths, *needles: str) -> None:
    """`compare build` refuses with exit status 2, one paragraph naming the problem, and touches no output."""
    before = {k: v for k, v in snapshot(paths).items() if k.startswith("data/processed/")}
    refused(run_cli(paths, "build"), *needles)
    assert {k: v for k, v in snapshot(paths).items() if k.startswith("data/processed/")} == before


def test_modified_raw_file_is_refused(built_project):
    with open(built_project.raw / "zhongwei.txt", "a", encoding="utf-8") as f:
        f.write("一个修改。\n")
    assert_refused(built_project, "zhongwei.txt", "has changed since it was registered", "git checkout")


def test_missing_raw_file_is_refused(built_project):
    (built_project.raw / "wuwei.txt").unlink()
    assert_refused(built_project, "wuwei.txt", "missing")


def test_registry_row_with_missing_field_is_refused(built_project):
    def blank(rows):
        rows[3]["city_zh"] = ""

    edit_registry(built_project, blank)
    assert_refused(built_project, "registry.csv line 5", "qinhuangdao", "'city_zh' is empty")


def test_duplicate_doc_id_and_file_are_refused(built_project):
    edit_registry(built_project, lambda rows: rows + [dict(rows[0], file="zhongwei.txt")])
    assert_refused(built_project, "doc_id 'qingyang' is already used on line 2")
    edit_registry(built_project, lambda rows: rows[:-1] + [dict(rows[0], doc_id="qingyang-2")])
    assert_refused(built_project, "'qingyang.txt' is already registered as 'qingyang'")


def test_missing_registry_column_is_refused(built_project):
    text = built_project.registry.read_text(encoding="utf-8").replace(",sha256", ",checksum", 1)
    built_project.registry.write_text(text, encoding="utf-8")
    assert_refused(built_project, "lacks the column(s) sha256")


def test_cli_help_documents_every_command():
    from compare.cli import COMMANDS

    proc = run_cli(None, "--help")
    assert proc.returncode == 0
    for name in COMMANDS:
        assert name in proc.stdout


def test_a_table_written_in_pieces_is_the_table_written_whole(tables, tmp_path, monkeypatch):
    """TableWriter streams pieces to the files: the same bytes as csv_bytes/parquet_bytes of the whole
    table, for every table of the five documents cut at random places, with row groups cut small
    (3 rows) so that pieces straddle them; an empty table too."""
    import random

    from compare import output
    from compare.schemas import ALL_TABLES

    monkeypatch.setattr(output, "ROW_GROUP", 3)
    rng = random.Random(7)
    for name, df in [*tables.items(), ("empty", tables["targets"].iloc[:0])]:
        lists = ALL_TABLES[name].list_columns if name in ALL_TABLES else ALL_TABLES["targets"].list_columns
        whole = output.arrow_table(df, lists)
        cuts = sorted(rng.sample(range(len(df) + 1), min(4, len(df) + 1)))
        with output.TableWriter(tmp_path, name, lists) as w:
            for lo, hi in zip([0, *cuts], [*cuts, len(df)], strict=True):
                w.write(df.iloc[lo:hi])
        assert (tmp_path / f"{name}.csv").read_bytes() == output.csv_bytes(whole, lists), name
        assert (tmp_path / f"{name}.parquet").read_bytes() == output.parquet_bytes(whole), name
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left


def test_a_failed_table_leaves_no_file(tables, tmp_path):
    from compare import output

    try:
        with output.TableWriter(tmp_path, "targets") as w:
            w.write(tables["targets"])
            raise RuntimeError("the stage failed")
    except RuntimeError:
        pass
    assert list(tmp_path.iterdir()) == []


def test_pieces_out_of_the_tables_order_are_refused(tables):
    """A stage that makes a table piece by piece must give the pieces in the table's order: the
    file is written as they come, so a piece out of order is an error, not a silently unsorted file."""
    import pytest

    from compare.pipeline import _in_order
    from compare.schemas import ALL_TABLES

    spec, df = ALL_TABLES["document_similarity"], tables["document_similarity"]
    assert len(df) == 36
    pieces = [df.iloc[:12], df.iloc[12:30], df.iloc[30:]]
    assert sum(len(p) for p in _in_order(spec, pieces)) == 36
    with pytest.raises(ValueError, match="document_similarity: a piece starts at"):
        list(_in_order(spec, pieces[::-1]))


def recorded(monkeypatch, module, name: str, calls: list, what) -> None:
    """`module.name` made to append `what(its arguments)` to `calls` at each call, then to run."""
    real = getattr(module, name)

    def record(*args, **kwargs):
        calls.append(what(*args, **kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, record)


def test_a_document_added_to_a_built_corpus_is_the_only_one_processed(built, tmp_path, monkeypatch):
    """The next build reuses each unchanged document's stored results (reading, cleaning, sections,
    tasks, targets, instrument pre-labels, lineage) and processes only what is new or changed; every
    output byte is that of a build from nothing."""
    from compare import instruments, lineage, pipeline
    from compare.registry import sha256_file

    processed, labelled, traced = [], [], []
    recorded(monkeypatch, pipeline, "process_document", processed, lambda doc, paths: doc.doc_id)
    recorded(monkeypatch, instruments, "document_instruments", labelled, lambda item, books: item[0])
    recorded(monkeypatch, lineage, "_document_rows", traced, lambda job: job[0])
    paths = scratch_project(tmp_path)
    with open(paths.registry, encoding="utf-8") as f:
        registry = f.read()
    edit_registry(paths, lambda rows: [r for r in rows if r["doc_id"] != "wuwei"])
    build(paths, **QUIET)
    assert sorted(processed) == sorted(set(DOC_IDS) - {"wuwei"}) and sorted(labelled) == sorted(processed)
    processed.clear(), labelled.clear(), traced.clear()
    paths.registry.write_text(registry, encoding="utf-8")  # the document comes (back) into the corpus
    logged = []
    build(paths, log=logged.append, warn=lambda _: None)
    assert processed == ["wuwei"] and labelled == ["wuwei"]
    # Lineage: wuwei, and the documents it may be a sibling of (甘肃's, and the prefectures alone in
    # their province); 上党区 (a district, the only one, its parent unchanged) is not traced again.
    assert "wuwei" in traced and "shangdang" not in traced and "national" not in traced
    assert "5 unchanged documents not processed again" in logged[-1]
    assert any("qingyang" in line and "unchanged: not processed again" in line for line in logged)
    assert snapshot(paths) == snapshot(built[0])  # as built from nothing
    memo = paths.interim / "memo"
    stored = {"documents", "document-views", "instruments", "lineage", "section-pairs"}
    assert {p.parent.name for p in memo.rglob("*.pickle")} == stored
    # only what this build used is kept (lineage: every document but the national plan; one selection of pairs)
    assert len(list(memo.rglob("*.pickle"))) == 4 * len(DOC_IDS) - 1 + 1

    # A changed file, a changed registry row: those documents again; unreadable entries: computed again.
    processed.clear()
    (paths.raw / "zhongwei.txt").write_text((paths.raw / "zhongwei.txt").read_text(encoding="utf-8") + "\n", "utf-8")
    digest = sha256_file(paths.raw / "zhongwei.txt")  # the edit, recorded as `compare add` would
    edit_registry(paths, lambda rows: [{**r, "sha256": digest} if r["doc_id"] == "zhongwei" else r for r in rows])
    edit_registry(
        paths, lambda rows: [{**r, "city_en": "Qin Huangdao"} if r["doc_id"] == "qinhuangdao" else r for r in rows]
    )
    build(paths, **QUIET)
    assert sorted(processed) == ["qinhuangdao", "zhongwei"]
    processed.clear()
    for entry in (memo / "documents").iterdir():
        entry.write_bytes(entry.read_bytes()[:100])  # cut short (a full disk, a killed build)
    build(paths, **QUIET)
    assert sorted(processed) == sorted(DOC_IDS)
    fresh = scratch_project(tmp_path / "fresh")
    shutil.copy(paths.registry, fresh.registry)
    shutil.copy(paths.raw / "zhongwei.txt", fresh.raw / "zhongwei.txt")
    build(fresh, **QUIET)
    assert snapshot(paths) == snapshot(fresh)


def test_sections_whose_words_did_not_change_are_not_scored_again(built, tmp_path, monkeypatch):
    """Section scoring, the longest stage at 10,000 documents, stores each block of pairs it selects
    under a key of the units, their term counts and the block's rows: a build stopped in the stage
    and started again scores only the blocks it had not finished; a registry edit that leaves every
    section and its words as they were (a title) scores none; a document's words changed, or
    compare's code, score them all again. The table's bytes are always a build's from nothing."""
    import pytest

    from compare import section_pairs
    from compare.registry import sha256_file

    monkeypatch.setattr(section_pairs, "_BLOCK", 50)  # the five documents' 212 sections in 5 blocks
    scored, real = [], section_pairs._block_top

    def block_top(rows):
        scored.append(rows)
        if len(scored) == stop_at:
            raise KeyboardInterrupt  # the build stopped (a cluster job's time limit, Ctrl-C)
        return real(rows)

    monkeypatch.setattr(section_pairs, "_block_top", block_top)
    table = ("section_pairs.csv", "section_pairs.parquet")
    stored = tmp_path / "data" / "interim" / "memo" / "section-pairs"
    paths = scratch_project(tmp_path)
    stop_at = 3
    with pytest.raises(KeyboardInterrupt):
        build(paths, **QUIET)
    assert len(list(stored.iterdir())) == 2  # the blocks finished before the stop
    scored.clear()
    stop_at = None
    build(paths, **QUIET)
    assert scored == [(100, 150), (150, 200), (200, 212)]
    assert all((paths.processed / t).read_bytes() == (built[0].processed / t).read_bytes() for t in table)
    scored.clear()
    edit_registry(
        paths, lambda rows: [{**r, "title": r["title"] + "（修订）"} if r["doc_id"] == "wuwei" else r for r in rows]
    )
    build(paths, **QUIET)
    assert scored == []  # not scored again
    assert all((paths.processed / t).read_bytes() == (built[0].processed / t).read_bytes() for t in table)
    text = paths.raw / "zhongwei.txt"
    text.write_text(text.read_text(encoding="utf-8") + "\n五、附则\n本方案由市教育局负责解释。\n", encoding="utf-8")
    digest = sha256_file(text)
    edit_registry(paths, lambda rows: [{**r, "sha256": digest} if r["doc_id"] == "zhongwei" else r for r in rows])
    build(paths, **QUIET)
    assert len(scored) == 5 and len(list(stored.iterdir())) == 5  # scored again; the old blocks removed
    scored.clear()
    monkeypatch.setattr("compare.memo.code_digest", lambda: "other code")
    build(paths, **QUIET)
    assert len(scored) == 5


def test_per_document_tables_and_tokens_are_made_a_batch_of_documents_at_a_time(built, tmp_path, monkeypatch):
    """The documents stage's tables and the tokens stage's units are made a few documents at a time
    (here two), so a large corpus's rows and token strings are never all held as Python objects:
    the tables no later stage reads are written batch by batch, in doc_id order, and every output
    has the same bytes as a build that made them at once. The batches' maps share one pool of
    workers (the stage runs within `workers.pools_kept`)."""
    from compare import pipeline, sections, workers

    monkeypatch.setattr(workers, "BATCH_DOCUMENTS", 2)
    made, counted = [], []
    real_sections, real_chunks = sections.sections_frame, pipeline.chunked_counts

    def sections_frame(docs):
        made.append(sorted({s.doc_id for _, _, secs in docs for s in secs}))
        return real_sections(docs)

    def chunked_counts(chunks):
        return real_chunks(counted.append((len(c), workers._kept is not None)) or c for c in chunks)

    monkeypatch.setattr(pipeline, "sections_frame", sections_frame)
    monkeypatch.setattr(pipeline, "chunked_counts", chunked_counts)
    paths = scratch_project(tmp_path)
    build(paths, **QUIET)
    assert snapshot(paths) == snapshot(built[0])
    written, tokenised = made[: len(made) // 2], made[len(made) // 2 :]  # the table is written before tokens
    assert all(len(docs) <= 2 for docs in made) and len(counted) == 3 and all(kept for _, kept in counted)
    assert [d for docs in written for d in docs] == sorted(DOC_IDS)
    assert sorted(d for docs in tokenised for d in docs) == sorted(DOC_IDS)


def test_the_stages_read_the_documents_results_back_from_disk_a_batch_at_a_time(built, tables, tmp_path, monkeypatch):
    """Each document's result is stored as it comes, and the later stages read it back from there a
    few documents at a time (here two), or one when asked, so the build never holds the corpus's
    records: the same bytes as a build that held them; a result cut short is computed and stored
    again; a build that keeps no caches works in a scratch folder, removed at its end, and every
    table is the same. The term counts are handed over to section pairs, their last reader."""
    from compare import pipeline, workers
    from compare.documents import Records
    from compare.memo import EASED_THRESHOLDS, Memo
    from compare.pipeline import STAGES, run_stages
    from compare.registry import load_registry

    monkeypatch.setattr(workers, "BATCH_DOCUMENTS", 2)
    processed, read = [], {"documents": [], "document-views": []}
    recorded(monkeypatch, pipeline, "process_document", processed, lambda doc, paths: doc.doc_id)
    real = Memo.get_many

    def get_many(self, keys):  # the reads of several results at once (not of one asked for)
        keys = list(keys)
        if self.name in read and len(keys) > 1:
            read[self.name].append(len(keys))
        return real(self, keys)

    monkeypatch.setattr(Memo, "get_many", get_many)
    looked_up, real_has = [], Memo.has
    monkeypatch.setattr(Memo, "has", lambda self, key: looked_up.append(self.name) or real_has(self, key))
    remade, real_remade = [], Records._remade_view
    monkeypatch.setattr(Records, "_remade_view", lambda self, i: remade.append(i) or real_remade(self, i))
    paths = scratch_project(tmp_path)
    result = build(paths, **QUIET)
    # each view is stored as its result is computed (none made later from a stored result), not
    # looked for by a reader of the results
    assert remade == [] and looked_up.count("documents") == len(DOC_IDS) and "document-views" not in looked_up
    assert sorted(processed) == sorted(DOC_IDS) and len(result.results) == len(DOC_IDS)
    # the whole results by the documents stage's tables; their views by tokens, shared passages twice
    # (its streams; its texts and sections), the texts written
    assert read == {"documents": [2, 2, 2], "document-views": [2, 2, 2] * 4}
    assert snapshot(paths) == snapshot(built[0])

    an_entry_cut_short_is_computed_again_once(paths, "documents", processed, snapshot(built[0]))
    # a view cut short is made again from its result (read back once more, not computed), and stored
    # again; no other whole result is read after the documents stage
    views = sorted((paths.interim / "memo" / "document-views").iterdir())
    assert len(views) == len(DOC_IDS)
    views[0].write_bytes(views[0].read_bytes()[:100])
    read["documents"].clear()
    whole, real_get = [], Memo.get

    def get(self, key):
        if self.name == "documents":
            whole.append(key)
        return real_get(self, key)

    monkeypatch.setattr(Memo, "get", get)
    build(paths, keep_tables=False, **QUIET)  # as `compare build`: the results are not read for the caller
    assert len(processed) == 1 and read["documents"] == [2, 2, 2] and snapshot(paths) == snapshot(built[0])
    assert len(whole) == len(DOC_IDS) + 1  # the documents stage's, and the one the cut view is made from
    assert Memo(paths.interim / "memo", "document-views").get(views[0].name.removesuffix(".pickle")) is not None

    counted = []  # the term counts are held from tokens until section pairs, their last reader, take them
    thresholds, before = [], gc.get_threshold()  # the collector runs less often while the stages run

    def on_stage(b, stage, seconds):
        thresholds.append(gc.get_threshold())
        if b.counts is not None:
            counted.append(stage.name)

    kept = run_stages(paths, load_registry(paths), on_stage, caches=False).tables
    assert counted == ["tokens", "document similarity", "keyness"]
    assert thresholds == [EASED_THRESHOLDS] * len(STAGES) and gc.get_threshold() == before != EASED_THRESHOLDS
    assert not list(paths.interim.glob("documents*")) and kept.keys() == tables.keys()
    for name in tables:
        pd.testing.assert_frame_equal(kept[name], tables[name])


def an_entry_cut_short_is_computed_again_once(paths, memo: str, computed: list, want) -> None:
    """An entry of the `memo` cut short (a full disk, a killed build): the next build computes that
    document again (`computed` lists what was) and stores it; the one after computes nothing; the
    outputs stay `want`."""
    computed.clear()
    entry = sorted((paths.interim / "memo" / memo).iterdir())[0]
    entry.write_bytes(entry.read_bytes()[:100])
    build(paths, **QUIET)
    assert len(computed) == 1 and snapshot(paths) == want
    build(paths, **QUIET)
    assert len(computed) == 1  # stored again the first time


def test_instrument_tables_are_made_a_batch_of_documents_at_a_time(built, tables, tmp_path, monkeypatch):
    """The instrument tables are made from each document's stored results a few documents at a time
    (here two), so a large corpus's rows are never all held: the same bytes as a build that made
    them at once; an entry cut short is computed and stored again; a build that keeps no caches
    works in a scratch folder, removed at its end."""
    from compare import instruments
    from compare.pipeline import run_stages
    from compare.registry import load_registry

    monkeypatch.setattr(instruments, "BATCH_DOCUMENTS", 2)
    batches, labelled = [], []
    recorded(monkeypatch, instruments, "instrument_codes_frame", batches, lambda docs, *_, **__: len(docs))
    recorded(monkeypatch, instruments, "document_instruments", labelled, lambda item, books: item[0])
    paths = scratch_project(tmp_path)
    build(paths, **QUIET)
    assert batches == [2, 2, 2] and sorted(labelled) == sorted(DOC_IDS)
    assert snapshot(paths) == snapshot(built[0])

    an_entry_cut_short_is_computed_again_once(paths, "instruments", labelled, snapshot(built[0]))

    kept = run_stages(paths, load_registry(paths), caches=False).tables
    assert not list(paths.interim.glob("instruments-*"))
    for name in ("instrument_units", "instrument_codes"):
        pd.testing.assert_frame_equal(kept[name], tables[name])


def test_lineage_tables_are_made_a_batch_of_documents_at_a_time(built, tables, tmp_path, monkeypatch):
    """Each document's labelled sentences are stored as they come and the lineage tables made from
    them a few documents at a time (here two), in doc_id order, so a large corpus's rows are never
    all held: the same bytes as a build that made them at once; an entry cut short is labelled and
    stored again; a build that keeps no caches works in a scratch folder, removed at its end."""
    from compare import lineage, workers
    from compare.pipeline import run_stages
    from compare.registry import load_registry

    monkeypatch.setattr(workers, "BATCH_DOCUMENTS", 2)
    batches, traced = [], []
    recorded(monkeypatch, lineage, "lineage_frame", batches, lambda corpus, rows: list(rows))
    recorded(monkeypatch, lineage, "_document_rows", traced, lambda job: job[0])
    paths = scratch_project(tmp_path)
    build(paths, **QUIET)
    labelled = sorted(set(DOC_IDS) - {"national"})  # every document with a parent
    assert [len(b) for b in batches] == [2, 2, 1] and [d for b in batches for d in b] == labelled
    assert sorted(traced) == labelled
    assert snapshot(paths) == snapshot(built[0])

    an_entry_cut_short_is_computed_again_once(paths, "lineage", traced, snapshot(built[0]))

    kept = run_stages(paths, load_registry(paths), caches=False).tables
    assert not list(paths.interim.glob("lineage-*"))
    for name in ("lineage", "target_lineage", "document_parents"):
        pd.testing.assert_frame_equal(kept[name], tables[name])


def test_a_stored_result_is_read_back_holding_its_text_once_and_a_stored_one_is_not_computed(tmp_path):
    """The build reads each result back from its stored bytes, not the object it pickled: pickling a
    string caches a UTF-8 copy inside it, which would double every document's text held. A memo that
    holds every entry does not start `compute` (on a cluster it would send its inputs to every
    worker)."""
    import sys

    from compare.memo import Memo

    text = "职业教育改革实施方案" * 1000
    fresh = sys.getsizeof(text)
    stored = Memo(tmp_path, "documents")
    key = stored.key("a document")
    stored.fill(lambda items: [{"text": t} for t in items], [text], [key])
    assert stored.reused == set()
    ((_, (got,)),) = stored.batches([key], lambda positions: 1 / 0, 10)
    assert got == {"text": text} and sys.getsizeof(got["text"]) == fresh  # no UTF-8 copy inside
    again = Memo(tmp_path, "documents")
    again.fill(lambda items: 1 / 0, [text], [key])
    assert again.reused == {0}
    # sent to a worker (inside the documents' Records), a memo reads the same entries without the
    # keys this build used, which stay with the build (it keeps only those)
    import pickle

    sent = pickle.loads(pickle.dumps(again))
    assert again.used == {key} and sent.used == set() and sent.reused == set()
    assert sent.get(key) == {"text": text} and sent.used == {key} and again.used == {key}


def test_a_long_map_says_how_far_it_has_got(monkeypatch):
    """While a build reports, a watched map logs how much of its work is done, how long it took and
    about how long is left, at most every so many seconds (a short stage says nothing); unwatched, or
    once all is done, it is silent; the results pass through unchanged."""
    from compare import workers

    assert list(workers.watched("documents", 3, iter("abc"))) == ["a", "b", "c"]  # nobody listening
    clock = iter([0, 10, 20, 50, 61, 95, 4000, 5000])  # at the start, then after each result
    monkeypatch.setattr(workers, "_clock", lambda: next(clock))
    lines = []
    with workers.reporting(lines.append, every=30):
        got = list(workers.watched("sections scored", 70, iter([10, 10, 10, 10, 10, 10, 10]), size=lambda r: r))
    assert got == [10] * 7 and workers._report is None  # and the reporting ended with it
    assert lines == [
        "30 of 70 sections scored (42%), 50 s so far, about 1 min 07 s left",
        "50 of 70 sections scored (71%), 1 min 35 s so far, about 38 s left",
        "60 of 70 sections scored (85%), 1 h 07 min so far, about 11 min left",
    ]  # (never 100% before the end) and none at 70 of 70: the stage's own line follows
    assert [workers.duration(s) for s in (0.4, 59.6, 600, 3599, 3600, 7260)] == [
        "0 s",
        "1 min 00 s",
        "10 min",
        "1 h 00 min",
        "1 h 00 min",
        "2 h 01 min",
    ]


def test_a_build_says_how_far_each_long_stage_has_got(built, tmp_path, monkeypatch):
    """`compare build` logs the progress of every stage that maps many pieces of work — documents
    read, segmented, pre-labelled and set against their parents, sections scored, the shingle index
    joined — here made to report after every piece (small batches, blocks and partitions), and the
    outputs are those of a build that says nothing."""
    from compare import section_pairs, shared_passages, workers
    from compare.pipeline import STAGES

    monkeypatch.setattr(workers, "PROGRESS_EVERY", 0)
    monkeypatch.setattr(workers, "BATCH_DOCUMENTS", 2)
    monkeypatch.setattr(section_pairs, "_BLOCK", 64)
    monkeypatch.setattr(shared_passages, "PARTITION", 10_000)
    paths = scratch_project(tmp_path)
    lines = []
    build(paths, log=lines.append, warn=lambda _: None)
    assert snapshot(paths) == snapshot(built[0])
    said = [line for line in lines if line.endswith(" left")]
    for stage, label in (
        ("documents", "documents read and parsed"),
        ("tokens", "documents segmented"),
        ("section pairs", "sections scored"),
        ("shared passages", "parts of the shingle index joined"),
        ("instruments", "documents pre-labelled"),
        ("lineage", "documents compared with their parents and siblings"),
    ):  # each in its own stage's name (lineage also joins shingles, of two documents at a time: unsaid)
        k = [s.name for s in STAGES].index(stage) + 1
        mine = [line for line in said if f" {label} (" in line]
        assert mine and all(line.startswith(f"[{k}/{len(STAGES)}] {stage}: ") for line in mine), (label, mine)
    assert any(line.startswith("[1/8] documents: 1 of 6 documents read and parsed (16%), ") for line in said)
    assert any(line.startswith("[2/8] tokens: 2 of 6 documents segmented (33%), ") for line in said)
    assert workers._report is None


def _reporting_seen(_) -> bool:
    from compare import workers

    return workers._report is not None


def test_a_forked_worker_does_not_report_its_parents_progress():
    """Workers forked while the build reports do not log its progress lines themselves."""
    from compare import workers

    with workers.reporting(print):
        assert workers.map_ordered(_reporting_seen, range(4), 2) == [False] * 4
        assert workers._report is not None


def test_a_memo_makes_only_what_it_cannot_read_and_hands_each_new_result_on(tmp_path):
    """One rule for "read it, else make it and store it", for one key and a batch: only the entries
    missing or cut short are made, together, in order, and stored; `fill` hands each result it
    stores to `then` (the documents stage stores each result's view there)."""
    from compare.memo import Memo

    stored = Memo(tmp_path, "m")
    keys = [stored.key(str(n)) for n in range(5)]
    handed = []
    stored.fill(lambda items: [n * 10 for n in items], [0, 1, 2, 3, 4], keys, then=lambda k, v: handed.append((k, v)))
    assert handed == [(k, n * 10) for n, k in enumerate(keys)]
    stored._path(keys[1]).unlink()
    stored._path(keys[3]).write_bytes(b"\x80\x05cut")  # a pickle cut short
    asked = []

    def make(positions):
        asked.append(positions)
        return [-p for p in positions]

    assert stored.get_or_make_many(keys, make) == [0, -1, 20, -3, 40]
    assert asked == [[1, 3]]  # the two it could not read, in one call
    assert stored.get_many(keys) == [0, -1, 20, -3, 40]  # and stored
    assert stored.get_or_make(keys[2], lambda: 1 / 0) == 20
    assert stored.get_or_make(stored.key("new"), lambda: "made") == "made" == stored.get(stored.key("new"))
    stored._path(keys[4]).unlink()
    got = list(stored.batches(keys, lambda positions: [f"again {p}" for p in positions], 2))
    assert got == [([0, 1], [0, -1]), ([2, 3], [20, -3]), ([4], ["again 4"])]  # positions in `keys`
    handed.clear()
    stored.fill(lambda items: 1 / 0, [0, 1, 2, 3, 4], keys, then=lambda k, v: handed.append(v))
    assert handed == []  # nothing made, nothing handed on


def test_a_faulty_table_stops_the_build_at_the_stage_that_made_it(tmp_path, monkeypatch):
    """A table kept for a later stage (targets, for lineage) is checked when it is made: a faulty
    row stops the build after the documents stage, not after every stage has run (at 10,000
    documents, the hour between them)."""
    import pytest

    from compare import pipeline
    from compare.registry import load_registry

    real = pipeline.targets_frame

    def faulty(docs):
        t = real(docs)
        t.loc[0, "value_max"] = t.loc[0, "value"] - 1  # a range that falls: the table's check refuses it
        return t

    monkeypatch.setattr(pipeline, "targets_frame", faulty)
    paths = scratch_project(tmp_path)
    ran = []
    with pytest.raises(Exception, match="value_max <= value"):
        pipeline.run_stages(paths, load_registry(paths), on_stage=lambda b, stage, s: ran.append(stage.name))
    assert ran == []  # stopped within the documents stage


_calls = 0


def _count_start() -> None:
    global _calls
    _calls += 1


def _worker(_) -> tuple[int, int]:
    """(this process, how many times a map's initializer has run in it), after a few milliseconds'
    work, so that both workers take some of the items."""
    time.sleep(0.005)
    return os.getpid(), _calls


def _pools_seen(_) -> bool:
    from compare import workers

    time.sleep(0.005)
    return workers._kept is not None


def _set_calls(n: int) -> None:
    global _calls
    _calls = n


def test_a_stages_maps_share_their_workers_unless_they_send_shared_inputs():
    """Within `pools_kept` (the tokens stage's batches), maps with the same workers and initializer run on
    one pool whose workers each ran the initializer once; a map with shared inputs (`initargs`), or
    whose initializer is made anew for it (a partial), gets workers of its own, let go of when it
    ends; leaving shuts the kept pools down."""
    from compare import workers

    with workers.pools_kept():
        first = dict(workers.map_ordered(_worker, range(32), 2, initializer=_count_start))
        second = dict(workers.map_ordered(_worker, range(32), 2, initializer=_count_start))
        own = dict(workers.map_ordered(_worker, range(32), 2, initializer=_set_calls, initargs=(7,)))
        # a partial is a new object every call: keyed by it, every map would start and keep a pool
        made = dict(workers.map_ordered(_worker, range(32), 2, initializer=partial(_set_calls, 3)))
        with workers.pools_kept():  # entered again: the same pools
            third = dict(workers.map_ordered(_worker, range(32), 2, initializer=_count_start))
        # a worker's copy of the parent's pools is forgotten: a map inside it would wait on them
        assert workers.map_ordered(_pools_seen, range(8), 2, initializer=_count_start) == [False] * 8
        pools = list(workers._kept.values())
    assert set(first.values()) == set(second.values()) == set(third.values()) == {1}
    assert set(second) | set(third) <= set(first) and len(set(first)) == 2
    assert set(own.values()) == {7} and not set(own) & set(first)
    assert set(made.values()) == {3} and not set(made) & (set(first) | set(own))
    assert workers._kept is None and len(pools) == 1
    with pytest.raises(RuntimeError):  # shut down
        pools[0].submit(_worker, 0)
    again = dict(workers.map_ordered(_worker, range(32), 2, initializer=_count_start))
    assert set(again.values()) == {1} and not set(again) & set(first)
