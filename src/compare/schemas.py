"""The declared schema of every processed table, enforced when the table is written — and the one
place each column's meaning is written down.

Input: a DataFrame a stage built. Output: the same rows with columns in declared order, sorted by
the table's sort key, validated (types, allowed values, unique key) — or an error, which is always
a bug in compare, never a user mistake. Each column carries its meaning in English
(``description``) and a short Chinese name (``title``); ``docs/data-dictionary.md``, the site's
data dictionary and the workbooks' header rows are generated from them (:mod:`compare.docs`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa

from .lexicon import lexicon
from .metrics import OTHER_THEME, themes
from .registry import ADMIN_LEVELS, STATUSES

SLUG = r"^[a-z][a-z0-9_-]*$"
KINDS = ("preamble", "body", "attachment", "task_row", "list_row")
DEADLINE = r"^(?:\d{4}(?:-\d{2})?|ongoing|)$"
YEAR_SOURCES = ("sentence", "paragraph", "task", "none")
UNITS = tuple(lexicon().units)
COMPARATORS = tuple(lexicon().comparators)


def _col(dtype, zh: str, en: str, *checks: pa.Check, nullable: bool = False, unique: bool = False) -> pa.Column:
    return pa.Column(dtype, checks=list(checks), nullable=nullable, unique=unique, title=zh, description=en)


def _str(zh: str, en: str, *checks: pa.Check, unique: bool = False) -> pa.Column:
    return _col(str, zh, en, *checks, unique=unique)


def _int(zh: str, en: str, *checks: pa.Check) -> pa.Column:
    return _col(int, zh, en, *checks)


def _list(zh: str, en: str) -> pa.Column:
    return _col(object, zh, en)


_NONNEG = pa.Check.ge(0)


def _slug(zh: str, en: str) -> pa.Column:
    return _str(zh, en, pa.Check.str_matches(SLUG))


# Columns several tables share, with the same meaning in each.
DOC_ID = _slug("文件", "the document's id (see the registry)")
CITY = _slug("城市", "the city slug shared by all of a city's documents")
SECTION_ID = _str(
    "章节", "the section: `doc_id/` then its numbers down the tree (`qingyang/三/(四)/9`, `qingyang/附件2/6`)"
)
CHAR_START = _int(
    "起", "where the span starts in the cleaned text `data/processed/text/<doc_id>.txt` (0-based)", _NONNEG
)
CHAR_END = _int("止", "where the span ends (exclusive): `text[char_start:char_end]`", _NONNEG)
SENTENCE = _str("原句", "the sentence: `text[char_start:char_end]` of the cleaned text")
VALUE_START = _int("数值起", "where the value as printed starts in the cleaned text", _NONNEG)
VALUE_END = _int("数值止", "where the value as printed ends (exclusive)", _NONNEG)
VALUE_TEXT = _str("原文数值", "the value as printed (`50%以上`): `text[value_start:value_end]`")
# Where a target is stated: its sentence and its value as printed (targets, target_mentions).
STATEMENT = {
    "char_start": CHAR_START,
    "char_end": CHAR_END,
    "source_text": SENTENCE,
    "value_start": VALUE_START,
    "value_end": VALUE_END,
    "value_text": VALUE_TEXT,
}
_YEAR = _col(
    "Int64",
    "期限",
    "the deadline year, empty when the document gives none",
    pa.Check.in_range(1949, 2100),
    nullable=True,
)
_SCORE = _col(
    float,
    "相似度",
    "cosine similarity of the two TF-IDF vectors, 0–1, rounded to 6 decimals",
    pa.Check.in_range(0, 1.000001),
)


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    schema: pa.DataFrameSchema
    key: tuple[str, ...]
    sort: tuple[str, ...]
    list_columns: tuple[str, ...] = ()

    @property
    def columns(self) -> list[str]:
        return list(self.schema.columns)

    def finalise(self, df: pd.DataFrame) -> pd.DataFrame:
        """Order columns, sort rows, validate, and check the key is unique."""
        missing = [c for c in self.columns if c not in df.columns]
        if missing:
            raise ValueError(f"table {self.name}: missing columns {missing}")
        out = df[self.columns].sort_values(list(self.sort), kind="mergesort").reset_index(drop=True)
        dup = out.duplicated(list(self.key), keep=False)
        if dup.any():
            raise ValueError(f"table {self.name}: key {self.key} is not unique:\n{out[dup].head()}")
        if out.empty:  # no rows (a corpus without shared passages, tasks …): give the columns their types
            return _coerced(self.schema).validate(out)
        return self.schema.validate(out)


def _coerced(schema: pa.DataFrameSchema) -> pa.DataFrameSchema:
    schema = copy.deepcopy(schema)
    schema.coerce = True
    return schema


DOCUMENTS = Table(
    "documents",
    "One row per registered document: the registry fields, what the build found, and the documents it cites.",
    pa.DataFrameSchema(
        {
            "doc_id": _str(
                "文件",
                "the document's id, a lowercase slug (`qingyang`; a second document of a city: `qingyang-2022`)",
                pa.Check.str_matches(SLUG),
                unique=True,
            ),
            "city": CITY,
            "city_zh": _str("城市名", "the city's name in Chinese (庆阳市)"),
            "city_en": _str("City", "the city's name in English (Qingyang)"),
            "province": _str("省份", "the province, as written (甘肃省)"),
            "admin_level": _str(
                "行政级别", f"the issuer's administrative level: {', '.join(ADMIN_LEVELS)}", pa.Check.isin(ADMIN_LEVELS)
            ),
            "issuer": _str("发文机关", "the issuing body, empty when the document does not state it"),
            "title": _str("标题", "the document's title"),
            "doc_number": _str("文号", "its document number (庆政发〔2021〕13号), empty if it has none"),
            "issued_date": _str(
                "成文日期",
                "the date of issue, `YYYY-MM-DD`, empty when not stated",
                pa.Check.str_matches(r"^(?:\d{4}-\d{2}-\d{2})?$"),
            ),
            "status": _str("状态", "`final`, or `draft` (征求意见稿)", pa.Check.isin(STATUSES)),
            "file": _str("文件名", "the raw file's name in `data/raw/`"),
            "sha256": _str(
                "校验和",
                "the raw file's SHA-256; the build refuses a file that no longer matches",
                pa.Check.str_matches(r"^[0-9a-f]{64}$"),
            ),
            "source_format": _str(
                "格式",
                "how the raw file was read: `text`, `html`, `docx` or `pdf`",
                pa.Check.isin(("text", "html", "docx", "pdf")),
            ),
            "encoding": _str(
                "编码", "the encoding detected for a text file (`utf-8`, `utf-8-sig`, `gb18030`, `utf-16`)"
            ),
            "n_chars": _int("字数", "length of the cleaned text, in characters", _NONNEG),
            "n_sections": _int("章节数", "its rows in `sections`", _NONNEG),
            "n_tasks": _int("任务数", "its rows in `tasks`", _NONNEG),
            "n_targets": _int("目标数", "its rows in `targets`", _NONNEG),
            "n_removed_lines": _int("删除行数", "its rows in `cleaning_log`", _NONNEG),
            "parents": _list(
                "上位文件", "the documents it declares it implements: citations in its preamble (title and number)"
            ),
            "cites": _list("引用文件", "every document it cites, in order of first citation"),
        },
        strict=True,
        ordered=True,
    ),
    key=("doc_id",),
    sort=("doc_id",),
    list_columns=("parents", "cites"),
)

SECTIONS = Table(
    "sections",
    "The section tree: one row per heading, preamble, attachment and attachment-table row.",
    pa.DataFrameSchema(
        {
            "section_id": _str(
                "章节", "stable, readable id: `qingyang/三/(四)/9`, `qingyang/附件2/6`, `wuwei/preamble`", unique=True
            ),
            "doc_id": DOC_ID,
            "city": CITY,
            "parent_id": _str("上级章节", "the enclosing section (empty at the top level)"),
            "level": _int("层级", "depth in the tree, 1 at the top", pa.Check.ge(1)),
            "number": _str("序号", "the number as printed (`（四）`, `9．`, `附件2`)"),
            "title": _str("标题", "the heading phrase (`提升专业建设水平`); for table rows, the row's first clause"),
            "text": _str(
                "正文", "the section's own body — not its children's; equals the cleaned text at `char_start:char_end`"
            ),
            "char_start": CHAR_START,
            "char_end": CHAR_END,
            "kind": _str(
                "类型",
                "`preamble`, `body` (a numbered section), `attachment` (附件N), `task_row` (a row of an "
                "attachment's task list, with responsible units) or `list_row` (a row of another "
                "attachment table)",
                pa.Check.isin(KINDS),
            ),
            "order": _int("顺序", "position in the document", _NONNEG),
        },
        strict=True,
        ordered=True,
        checks=pa.Check(lambda df: (df.char_end >= df.char_start).all(), error="char_end < char_start"),
    ),
    key=("section_id",),
    sort=("doc_id", "order"),
)

TASKS = Table(
    "tasks",
    "One row per assigned task: responsible and supporting units, and the deadline.",
    pa.DataFrameSchema(
        {
            "section_id": _str("章节", "the task's section (a numbered section, or a `task_row`)", unique=True),
            "doc_id": DOC_ID,
            "city": CITY,
            "lead_units": _list(
                "责任单位",
                "the responsible units (责任单位 / 责任部门 / 牵头单位), written out in full: "
                "“市发展改革委、财政局” → `市发展改革委`, `市财政局`",
            ),
            "support_units": _list("配合单位", "the supporting units (配合单位)"),
            "deadline": _str(
                "完成时限",
                "`YYYY-MM`, `YYYY`, `ongoing` (长期坚持), or empty when the document gives none",
                pa.Check.str_matches(DEADLINE),
            ),
            "deadline_text": _str("时限原文", "the deadline as printed (`2021年7月前完成并长期坚持`)"),
            "char_start": CHAR_START,
            "char_end": CHAR_END,
        },
        strict=True,
        ordered=True,
    ),
    key=("section_id",),
    sort=("doc_id", "char_start"),
    list_columns=("lead_units", "support_units"),
)

CITATIONS = Table(
    "citations",
    "Every cited document title (《…》) or document number, where it is cited, and whether it is a declared parent.",
    pa.DataFrameSchema(
        {
            "doc_id": DOC_ID,
            "section_id": _str("章节", "the section holding the citation"),
            "title": _str("引用标题", "the cited title inside 《》 (empty for a bare document number)"),
            "doc_number": _str(
                "文号", "the document number (甘政发〔2020〕38号), from the brackets after the title or standing alone"
            ),
            "char_start": CHAR_START,
            "char_end": CHAR_END,
            "is_parent": _col(bool, "上位文件", "cited in the preamble: a plan this document says it implements"),
        },
        strict=True,
        ordered=True,
    ),
    key=("doc_id", "char_start"),
    sort=("doc_id", "char_start"),
)

CLEANING_LOG = Table(
    "cleaning_log",
    "Every raw line the cleaner removed (web-page chrome, lists of officials), with its reason.",
    pa.DataFrameSchema(
        {
            "doc_id": DOC_ID,
            "line": _int("行号", "the line number in the raw file (1-based)", pa.Check.ge(1)),
            "reason": _str(
                "原因",
                "`navigation`, `page_metadata`, `footer` or `names_list`",
                pa.Check.isin(("navigation", "page_metadata", "footer", "names_list")),
            ),
            "text": _str("原文", "the removed line"),
        },
        strict=True,
        ordered=True,
    ),
    key=("doc_id", "line"),
    sort=("doc_id", "line"),
)

_COMPARATOR_MEANING = ", ".join(f"`{c.id}` {c.en}" for c in lexicon().comparators.values())
_UNIT_MEANING = ", ".join(f"`{u.id}`" for u in lexicon().units.values())

TARGETS = Table(
    "targets",
    "The tidy targets table: one row per distinct quantitative target, normalised to a canonical metric. "
    "The first four columns are the tidy core: metric, city, value, year.",
    pa.DataFrameSchema(
        {
            "target_id": _str("目标", "`<doc_id>:<offset of the value>` (stable while the text is)", unique=True),
            "metric": _str(
                "指标",
                "the canonical metric id from the catalogue (`double_qualified_teacher_share`), or "
                "`label:<object>` when no catalogue entry fits",
                pa.Check.str_matches(r"^(?:[a-z][a-z0-9_]*|label:.+)$"),
            ),
            "city": CITY,
            "value": _col(
                float,
                "目标值",
                "the number in the canonical unit: percent as 50 (not 0.5), money in yuan "
                "(50万元 → 500000), 1万人次 → 10000; for a range the lower end",
            ),
            "year": _YEAR,
            "value_max": _col(
                float, "上限", "upper end of a range (3-5名, 1—2个, 3至5个), empty otherwise", nullable=True
            ),
            "unit": _str(
                "单位",
                f"the canonical unit (`data/lexicon.yaml`): {_UNIT_MEANING}; a ratio 4:6 is 0.6667",
                pa.Check.isin(UNITS),
            ),
            "measure_word": _str(
                "量词", "the measure word as printed (个, 所, 门, 名, 家, 人次 …); empty for % and ratios"
            ),
            "comparator": _str(
                "比较", f"how the target relates to its value: {_COMPARATOR_MEANING}", pa.Check.isin(COMPARATORS)
            ),
            "metric_zh": _str(
                "指标名",
                "the metric's Chinese label from the catalogue (for `label:` metrics, the object)",
                pa.Check.str_length(min_value=1),
            ),
            "metric_en": _str("Metric", "the metric's English label from the catalogue (empty for `label:` metrics)"),
            "theme": _str(
                "主题",
                "the metric's theme from the catalogue, or for other targets the first theme whose "
                "words match the object",
                pa.Check.isin([t.id for t in themes()] + [OTHER_THEME.id]),
            ),
            "label": _str("对象", "the object as written (`市级专业教学资源库`)"),
            "level": _str("级别", "国家级 / 省级 / 自治区级 / 市级 / 区级 / 县（区）级 … when stated"),
            "year_source": _str(
                "期限来源",
                "where the year comes from: `sentence` (到2025年 in the sentence), `paragraph` "
                "(a paragraph opening with its deadline), `task` (the task's 完成时限 or a "
                "task-list row restating the target), `none`",
                pa.Check.isin(YEAR_SOURCES),
            ),
            "doc_id": DOC_ID,
            "section_id": _str("章节", "where the target is first stated"),
            **STATEMENT,
            "mentions": _int(
                "提及次数", "how many statements were merged into this row (see `target_mentions`)", pa.Check.ge(1)
            ),
        },
        strict=True,
        ordered=True,
        checks=[
            pa.Check(
                lambda df: ((df.year.isna()) == (df.year_source == "none")).all(), error="year and year_source disagree"
            ),
            pa.Check(lambda df: (df.value_max.isna() | (df.value_max > df.value)).all(), error="value_max <= value"),
            pa.Check(
                lambda df: ((df.metric_en != "") | df.metric.str.startswith("label:")).all(),
                error="catalogue metric without en",
            ),
        ],
    ),
    key=("target_id",),
    sort=("doc_id", "value_start", "target_id"),
)

TARGET_MENTIONS = Table(
    "target_mentions",
    "Every place a target is stated; restatements merged into one target keep their own spans here.",
    pa.DataFrameSchema(
        {
            "target_id": _str("目标", "the target this statement belongs to"),
            "doc_id": DOC_ID,
            "city": CITY,
            "section_id": _str("章节", "where it is stated"),
            "value": _col(float, "目标值", "the value as read from this statement"),
            "value_max": _col(float, "上限", "the upper end of a range, as read from this statement", nullable=True),
            "unit": _str("单位", "the unit, as read from this statement", pa.Check.isin(UNITS)),
            "comparator": _str("比较", "the comparator, as read from this statement", pa.Check.isin(COMPARATORS)),
            "year": _col(
                "Int64", "期限", "the deadline this statement alone gives", pa.Check.in_range(1949, 2100), nullable=True
            ),
            "year_source": _str("期限来源", "where this statement's year comes from", pa.Check.isin(YEAR_SOURCES)),
            **STATEMENT,
            "is_primary": _col(
                bool,
                "首次",
                "the first statement in document order, whose value, comparator and label the target row shows",
            ),
        },
        strict=True,
        ordered=True,
    ),
    key=("target_id", "value_start"),
    sort=("doc_id", "value_start", "target_id"),
)


REJECTED_NUMBERS = Table(
    "rejected_numbers",
    "Every number the target extractor read inside a section and did not keep, with the named rule that set it "
    "aside (`docs/methods.md` lists the rules): audit a missed target here.",
    pa.DataFrameSchema(
        {
            "doc_id": DOC_ID,
            "city": CITY,
            "section_id": _str("章节", "the section holding the number"),
            "value_start": VALUE_START,
            "value_end": VALUE_END,
            "value_text": _str("原文数值", "the number as printed, with its measure word if it has one"),
            "rule": _str(
                "规则",
                "the name of the rule that set the number aside (`in_title`, `calendar_year`, "
                "`describing_verb`, `no_measure_word` …)",
                pa.Check.str_matches(r"^[a-z_]+$"),
            ),
            "char_start": CHAR_START,
            "char_end": CHAR_END,
            "source_text": SENTENCE,
        },
        strict=True,
        ordered=True,
    ),
    key=("doc_id", "value_start", "value_end"),
    sort=("doc_id", "value_start", "value_end"),
)

SECTION_PAIRS = Table(
    "section_pairs",
    "For every section, its most similar sections in each other city (TF-IDF cosine over jieba tokens).",
    pa.DataFrameSchema(
        {
            "section_a": _str("章节A", "the section whose neighbours these are"),
            "section_b": _str("章节B", "a section of another city"),
            "doc_a": _slug("文件A", "the document of `section_a`"),
            "doc_b": _slug("文件B", "the document of `section_b`"),
            "city_a": _slug("城市A", "the city of `section_a`"),
            "city_b": _slug("城市B", "the city of `section_b`"),
            "score": _SCORE,
            "rank": _int("排名", "1 for the most similar section of `city_b`, up to 5", pa.Check.in_range(1, 100)),
        },
        strict=True,
        ordered=True,
        checks=pa.Check(lambda df: (df.city_a != df.city_b).all(), error="same city"),
    ),
    key=("section_a", "section_b"),
    sort=("doc_a", "section_a", "city_b", "rank"),
)

DOCUMENT_SIMILARITY = Table(
    "document_similarity",
    "TF-IDF cosine similarity of each document with itself and with its 500 most similar other documents "
    "(ties: doc_id order); in a corpus of up to 501 documents, every pair, both orders.",
    pa.DataFrameSchema(
        {
            "doc_a": _slug("文件A", "the first document"),
            "doc_b": _slug("文件B", "the second document"),
            "city_a": _slug("城市A", "the city of `doc_a`"),
            "city_b": _slug("城市B", "the city of `doc_b`"),
            "score": _col(
                float,
                "相似度",
                "cosine similarity of the documents' TF-IDF vectors (the term counts of their "
                "sections pooled), rounded to 6 decimals",
                pa.Check.in_range(0, 1.000001),
            ),
        },
        strict=True,
        ordered=True,
    ),
    key=("doc_a", "doc_b"),
    sort=("doc_a", "doc_b"),
)

SHARED_PASSAGES = Table(
    "shared_passages",
    "Passages two documents share word for word or nearly (text reuse), with offsets into both cleaned texts.",
    pa.DataFrameSchema(
        {
            "doc_a": _slug("文件A", "the first document (`doc_a` < `doc_b`)"),
            "doc_b": _slug("文件B", "the second document"),
            "city_a": _slug("城市A", "the city of `doc_a`"),
            "city_b": _slug("城市B", "the city of `doc_b`"),
            "section_a": _str("章节A", "the section holding the passage in `doc_a`"),
            "section_b": _str("章节B", "the section holding the passage in `doc_b`"),
            "start_a": _int("起A", "where the passage starts in `doc_a`'s cleaned text", _NONNEG),
            "end_a": _int("止A", "where it ends in `doc_a`'s cleaned text (exclusive)", _NONNEG),
            "start_b": _int("起B", "where the passage starts in `doc_b`'s cleaned text", _NONNEG),
            "end_b": _int("止B", "where it ends in `doc_b`'s cleaned text (exclusive)", _NONNEG),
            "n_chars": _int("共享字数", "characters the two sides share (punctuation not counted)", pa.Check.ge(1)),
            "similarity": _col(
                float, "相似度", "shared characters over the longer side", pa.Check.in_range(0, 1.000001)
            ),
            "text_a": _str("原文A", "the passage as printed in `doc_a`"),
            "text_b": _str("原文B", "the passage as printed in `doc_b`"),
        },
        strict=True,
        ordered=True,
        checks=pa.Check(lambda df: (df.doc_a < df.doc_b).all(), error="doc_a >= doc_b"),
    ),
    key=("doc_a", "doc_b", "start_a", "end_a", "start_b", "end_b"),
    sort=("doc_a", "doc_b", "start_a", "start_b", "end_a", "end_b"),
)

KEYNESS = Table(
    "keyness",
    "Terms each city over-uses against all the others: counts, log-likelihood G², p-value and log ratio.",
    pa.DataFrameSchema(
        {
            "city": CITY,
            "term": _str("词语", "the term (a jieba token)"),
            "rank": _int("排名", "by G², 1 = most distinctive (top 30 per city, at least 3 uses)", pa.Check.ge(1)),
            "count": _int("次数", "uses in the city", pa.Check.ge(1)),
            "count_rest": _int("其他城市次数", "uses in all the other cities", _NONNEG),
            "per_10k": _col(float, "每万词", "uses per 10,000 tokens in the city"),
            "per_10k_rest": _col(float, "其他每万词", "uses per 10,000 tokens in the other cities"),
            "g2": _col(float, "G²", "Dunning's log-likelihood statistic", pa.Check.ge(0)),
            "p_value": _col(float, "p值", "from χ² with one degree of freedom", pa.Check.in_range(0, 1)),
            "log_ratio": _col(
                float, "对数比", "log2 of the ratio of relative frequencies (Hardie's log ratio, 0.5 added to counts)"
            ),
        },
        strict=True,
        ordered=True,
    ),
    key=("city", "term"),
    sort=("city", "rank"),
)


# The lineage tables' vocabularies (compare.lineage assigns them).
LINEAGE_LABELS = ("copied", "adapted", "sibling", "local")
TARGET_RELATIONS = ("same", "raised", "lowered", "rescaled", "new", "dropped")


DOCUMENT_PARENTS = Table(
    "document_parents",
    "Each document's parents in the corpus — declared in its preamble (matched by 文号 or by normalised title) or "
    "implied by the hierarchy (a national plan is every local plan's parent) — and the declared parents the corpus "
    "does not hold.",
    pa.DataFrameSchema(
        {
            "doc_id": DOC_ID,
            "parent_doc_id": _str(
                "上位文件", "the parent document's id; empty when the cited document is not in the corpus"
            ),
            "basis": _str(
                "依据",
                "how the link was made: `doc_number` (the cited 文号 is a registered document's), `title` (the cited title, "
                "normalised, is one's), `level` (no citation: the hierarchy — a national document is the parent of "
                "every other, a province's of the documents in that province), `unresolved` (cited, not in the corpus)",
                pa.Check.isin(("doc_number", "title", "level", "unresolved")),
            ),
            "cited": _str("引用", "the citation as printed in the preamble (empty for a link by level)"),
        },
        strict=True,
        ordered=True,
    ),
    key=("doc_id", "parent_doc_id", "cited"),
    sort=("doc_id", "parent_doc_id", "cited"),
)

LINEAGE = Table(
    "lineage",
    "Every sentence (clause) of every document with a parent or a sibling in the corpus: copied from a parent, "
    "adapted from it, shared only with a sibling, or the document's own.",
    pa.DataFrameSchema(
        {
            "doc_id": DOC_ID,
            "city": CITY,
            "section_id": _str("章节", "the section holding the sentence"),
            "char_start": CHAR_START,
            "char_end": CHAR_END,
            "text": _str("原文", "the sentence: `text[char_start:char_end]` of the cleaned text"),
            "label": _str(
                "来源",
                "`copied` (aligned with a parent's passage: at least 90% of its characters, no number, year or body "
                "changed), `adapted` (aligned, a majority of its characters, with changes), `sibling` (not traceable "
                "to a parent, shared with a document of the same province — failing that, of the same level), `local`",
                pa.Check.isin(LINEAGE_LABELS),
            ),
            "parent_doc_id": _str(
                "对应文件", "the parent (or, for `sibling`, the sibling) the sentence is aligned with"
            ),
            "parent_section_id": _str("对应章节", "the section of that passage"),
            "parent_start": _col("Int64", "对应起", "where that passage starts in its cleaned text", nullable=True),
            "parent_end": _col("Int64", "对应止", "where that passage ends (exclusive)", nullable=True),
            "similarity": _col(
                float,
                "相似度",
                "the share of the sentence's characters (Chinese characters, letters, digits) aligned with the passage "
                "(LCS), 0–1; for `sibling`, the share inside passages shared with siblings",
                pa.Check.in_range(0, 1),
            ),
            "changes": _list(
                "改动",
                "what differs, `kind: parent → city`, kind `year`, `number`, `body` (a body or place) or `wording`",
            ),
        },
        strict=True,
        ordered=True,
    ),
    key=("doc_id", "char_start"),
    sort=("doc_id", "char_start"),
    list_columns=("changes",),
)

TARGET_LINEAGE = Table(
    "target_lineage",
    "Each target of a document with a parent in the corpus against the parent's targets — kept, raised, lowered, "
    "rescaled or new — and a `dropped` row for each parent target the document did not take up.",
    pa.DataFrameSchema(
        {
            "doc_id": DOC_ID,
            "city": CITY,
            "target_id": _str("目标", "the document's target (empty on a `dropped` row)"),
            "parent_doc_id": _slug("上位文件", "the parent document"),
            "parent_target_id": _str(
                "上位目标",
                "the parent's target: the same catalogue metric, else the target in the aligned parent sentence "
                "(empty for `new`)",
            ),
            "relation": _str(
                "关系",
                "`same` value; `raised` (more ambitious: a larger value, or for an upper bound a smaller one); "
                "`lowered`; `rescaled` (a count or total set for a jurisdiction of another level: not compared); "
                "`new` (no parent target); `dropped` (a parent target the document does not take up)",
                pa.Check.isin(TARGET_RELATIONS),
            ),
            "metric": _str("指标", "the target's metric (the parent target's on a `dropped` row)"),
            "unit": _str("单位", "the unit", pa.Check.isin(UNITS)),
            "value": _col(float, "目标值", "the document's value", nullable=True),
            "parent_value": _col(float, "上位目标值", "the parent's value", nullable=True),
            "comparator": _str("比较", "the document's comparator"),
            "parent_comparator": _str("上位比较", "the parent's comparator"),
            "year": _col("Int64", "期限", "the document's deadline year", nullable=True),
            "parent_year": _col("Int64", "上位期限", "the parent's deadline year", nullable=True),
            "deadline_shift": _col(
                "Int64",
                "期限推移",
                "years later (positive) or earlier than the parent's; empty when either is undated",
                nullable=True,
            ),
        },
        strict=True,
        ordered=True,
    ),
    key=("doc_id", "parent_doc_id", "target_id", "parent_target_id"),
    sort=("doc_id", "parent_doc_id", "target_id", "parent_target_id"),
)


def _exclusions() -> tuple[str, ...]:
    from .instruments import EXCLUSIONS

    return ("", *EXCLUSIONS)


INSTRUMENT_UNITS = Table(
    "instrument_units",
    "Every clause (条款) of every document as a policy-instrument coding unit, with its id 文件-章-节-条-款; the "
    "units coding leaves out keep their row, with the reason.",
    pa.DataFrameSchema(
        {
            "unit_id": _str(
                "编码单元",
                "文件-章-节-条-款: the document, its section path as numbers (附件2 → a2, the preamble → 0) and the "
                "clause within the section (`qingyang-3-5-14-2`); a section whose numbers repeat another's "
                "(三、(二) and 三、2.) gets `~2`",
                unique=True,
            ),
            "doc_id": DOC_ID,
            "city": CITY,
            "section_id": _str("章节", "the section holding the clause"),
            "char_start": CHAR_START,
            "char_end": CHAR_END,
            "text": _str("原文", "the clause: `text[char_start:char_end]`, up to 。 or ；, a cell or a line"),
            "excluded": _str(
                "不编码原因",
                "empty for a unit to code; else why it is left out: `heading`, `assignment` (责任单位 … lines), "
                "`apparatus` (title, 文号, addressees, transmittal formula, dates, officials' name lists), `restatement` "
                "(an attachment row "
                "restating the main text)",
                pa.Check(lambda s: s.isin(_exclusions())),
            ),
        },
        strict=True,
        ordered=True,
    ),
    key=("unit_id",),
    sort=("doc_id", "char_start"),
)

INSTRUMENT_CODES = Table(
    "instrument_codes",
    "The codes of every coding unit in every codebook: the rules' pre-label (`source` rule) with the cues that "
    "fired, each coder's code (`coder:NAME`) and the adjudicated code — side by side, never mixed.",
    pa.DataFrameSchema(
        {
            "unit_id": _str("编码单元", "the unit (`instrument_units`)"),
            "doc_id": DOC_ID,
            "city": CITY,
            "framework": _str("编码框架", "the codebook: `rothwell_zegveld`, `mcdonnell_elmore`, `actors` …"),
            "source": _str(
                "来源",
                "`rule` (a pre-label from the codebook's cues), `coder:NAME` (imported from that coder's sheet) or "
                "`adjudicated` (the decision on a disagreement)",
                pa.Check.str_matches(r"^(?:rule|adjudicated|coder:.+)$"),
            ),
            "code": _str("代码", "the code's id in the codebook, or `none` (no instrument)"),
            "type": _str(
                "类型",
                "the code's type (Rothwell & Zegveld: `supply`, `environment`, `demand`), `none`, or "
                "empty in a flat codebook",
            ),
            "score": _col(
                float,
                "置信度",
                "for a rule label, the share of the cues that fired that point to its code "
                "(0 for none or a default); 1 for a human code",
                pa.Check.in_range(0, 1),
            ),
            "evidence": _list(
                "依据", "the cues that fired: `code:matched text@start-end` (offsets in the cleaned text)"
            ),
        },
        strict=True,
        ordered=True,
    ),
    key=("unit_id", "framework", "source"),
    sort=("doc_id", "unit_id", "framework", "source"),
    list_columns=("evidence",),
)

ALL_TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        DOCUMENTS,
        SECTIONS,
        TASKS,
        CITATIONS,
        CLEANING_LOG,
        TARGETS,
        TARGET_MENTIONS,
        REJECTED_NUMBERS,
        SECTION_PAIRS,
        DOCUMENT_SIMILARITY,
        SHARED_PASSAGES,
        KEYNESS,
        DOCUMENT_PARENTS,
        LINEAGE,
        TARGET_LINEAGE,
        INSTRUMENT_UNITS,
        INSTRUMENT_CODES,
    )
}
