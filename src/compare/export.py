"""Processed tables → the files researchers' own tools open: one Excel workbook of every table
(``compare.xlsx``), Stata ``.dta`` files with variable and value labels, Feather and Parquet for R
and Python.

Input: the processed tables (``data/processed/*.parquet``), their data dictionary
(:mod:`compare.schemas`), the lexicon's units and comparators, and the report plan (which pages
exist, for the links from each target to its page). Output: ``data/processed/compare.xlsx``
(written by ``make report``) or ``data/export/FORMAT/`` (or ``--out DIR``) with one file per table. Every file is the same bytes
for the same tables: fixed workbook and Stata timestamps, no other metadata that changes.

The CSVs stay UTF-8 without a byte-order mark (what R, Stata 14+, pandas and every other tool
read); Excel and WPS on a Chinese Windows read a CSV as GBK, so the workbook is the file to open
there.
"""

from __future__ import annotations

import datetime
import io
from pathlib import Path

import pandas as pd

from .config import Paths
from .docs import columns as dictionary
from .errors import CompareError
from .output import atomic_write_bytes
from .schemas import ALL_TABLES
from .tables import table

FORMATS = ("xlsx", "dta", "feather", "parquet")
FIXED_TIME = datetime.datetime(2000, 1, 1)  # workbook and Stata timestamps: the same tables, the same bytes
MAX_ROWS = 100_000  # a sheet longer than this is cut (Excel's limit is 1,048,576; a reader's much lower)
MAX_CELL = 32_767  # Excel's limit on the characters of one cell
WRAP_ABOVE = 40  # a text column whose values run longer than this wraps
# Long tables cut to what a reader uses, and how: table → (query, what the sheet says)
CUTS = {
    "section_pairs": ("rank == 1", "only each section's closest section in every other document (rank 1)"),
    "document_similarity": ("doc_a != doc_b", "without each document's similarity with itself"),
}


def _is_text(column: pd.Series) -> bool:
    """A column of text (pandas' str dtype, or objects)."""
    return pd.api.types.is_string_dtype(column) or pd.api.types.is_object_dtype(column)


def _cells(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """Lists joined with ` | `, text cut to what a cell holds."""
    out = df.copy()
    for col in ALL_TABLES[name].list_columns:
        out[col] = out[col].map(lambda v: " | ".join(map(str, v)) if v is not None else "")
    for col in out.columns:
        if _is_text(out[col]):
            out[col] = out[col].map(
                lambda v: (
                    v[: MAX_CELL - 60] + f"…（截断 cut; the whole text is in {name}.csv）"
                    if isinstance(v, str) and len(v) > MAX_CELL
                    else v
                )
            )
    return out


def _width(values, header: str) -> float:
    """A column width that fits Chinese text: a CJK character counts two."""

    def w(s: str) -> int:
        return sum(2 if ord(c) > 0x2E80 else 1 for c in s)

    longest = max([w(str(v)) for v in values[:500]] + [w(part) for part in header.split("\n")] + [6])
    return min(longest + 2, 60)


def _pages(paths: Paths) -> set[str]:
    """The site's pages (from the report spec and the tables), or none in a project without notebooks."""
    from .report.plan import plan

    if not (paths.notebooks / "reports.yaml").exists():
        return set()
    return {page.name for page in plan(paths)}


def _target_page(row, pages: set[str]) -> str:
    for page in (f"02-metric-{row.metric}", f"03-city-{row.city}"):
        if page in pages:
            return page
    return ""


def workbook(paths: Paths) -> bytes:
    """Every processed table as a sheet: bilingual header, frozen, filtered, widths for Chinese,
    long text wrapped, numbers as numbers, each target linked to its page on the site."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(
        buf,
        {
            "in_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "nan_inf_to_errors": True,
        },
    )
    wb.set_properties({"title": "compare: every processed table", "author": "compare", "created": FIXED_TIME})
    head = wb.add_format({"bold": True, "bg_color": "#F2F2F2", "text_wrap": True, "valign": "top", "border": 1})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    top = wb.add_format({"valign": "top"})
    link = wb.add_format({"font_color": "#1f4e9c", "underline": 1, "valign": "top"})
    about = wb.add_worksheet("about 说明")
    notes: list[tuple[str, str, str]] = []
    pages = _pages(paths)
    for name, spec in ALL_TABLES.items():
        df = table(name, paths)
        total = len(df)
        cut = ""
        if name in CUTS:
            df = df.query(CUTS[name][0])
            cut = CUTS[name][1]
        if len(df) > MAX_ROWS:
            df = df.head(MAX_ROWS)
            cut = (cut + "; " if cut else "") + f"the first {MAX_ROWS:,} rows"
        df = _cells(df, name)
        ws = wb.add_worksheet(name[:31])
        cols = dictionary(spec)
        headers = [f"{c.name}\n{c.zh}" for c in cols]
        link_col = name == "targets" and bool(pages)
        if link_col:
            headers.append("page\n页面")
        ws.write_row(0, 0, headers, head)
        for j, c in enumerate(cols):
            ws.write_comment(0, j, c.meaning[:2000], {"x_scale": 3, "y_scale": 2})
        for j, c in enumerate(cols):
            values = df[c.name].tolist()
            text = _is_text(df[c.name])
            long = text and any(isinstance(v, str) and len(v) > WRAP_ABOVE for v in values[:500])
            ws.set_column(j, j, 60 if long else _width(values, headers[j]), wrap if long else top)
            for i, v in enumerate(values, start=1):
                if v is None or (isinstance(v, float) and v != v) or v is pd.NA:
                    continue
                if isinstance(v, bool):
                    ws.write_boolean(i, j, v)
                elif isinstance(v, (int, float)) and not isinstance(v, bool):
                    ws.write_number(i, j, float(v) if isinstance(v, float) else int(v))
                elif hasattr(v, "item"):  # numpy scalars
                    ws.write_number(i, j, v.item())
                else:
                    ws.write_string(i, j, str(v))
        if link_col:
            j = len(cols)
            ws.set_column(j, j, 30)
            for i, r in enumerate(df.itertuples(), start=1):
                page = _target_page(r, pages)
                if page:
                    ws.write_url(i, j, f"external:../../site/{page}.html", link, string=page)
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(len(df), 1), len(headers) - 1)
        notes.append((name, spec.description, f"{len(df):,} of {total:,} rows: {cut}" if cut else f"{total:,} rows"))
    about.set_column(0, 0, 24)
    about.set_column(1, 1, 90)
    about.set_column(2, 2, 50)
    about.write_row(0, 0, ["sheet 工作表", "what it holds 内容", "rows 行数"], head)
    for i, (n, description, rows) in enumerate(notes, start=1):
        about.write_url(i, 0, f"internal:'{n[:31]}'!A1", link, string=n)
        about.write_string(i, 1, description, wrap)
        about.write_string(i, 2, rows, wrap)
    r = len(notes) + 2
    for k, text in enumerate(
        [
            "Each sheet is one table of data/processed/ (the CSV files hold the same rows, in UTF-8). Hover a column "
            "header for what it holds; docs/data-dictionary.md has every column. Offsets (char_start, char_end) "
            "point into data/processed/text/<doc_id>.txt.",
            "每个工作表对应 data/processed/ 中的一张表；CSV 文件为 UTF-8 编码，Excel/WPS 直接打开会乱码，请使用本工作簿。",
            "The page column of `targets` links each target to its page of the site (site/ next to data/).",
        ]
    ):
        about.write_string(r + k, 0, "note" if k != 1 else "说明", head)
        about.write_string(r + k, 1, text, wrap)
    about.activate()
    wb.close()
    return buf.getvalue()


# ---- Stata, Feather, Parquet


def _value_labels():
    from .lexicon import lexicon

    lex = lexicon()
    return {"unit": list(lex.units), "comparator": list(lex.comparators)}


def _label(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def stata_frame(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """A table as Stata stores it: lists joined, nullable integers as doubles (missing is `.`),
    booleans as 0/1, `unit` and `comparator` as labelled integers; and the variable labels."""
    out = df.copy()
    for col in ALL_TABLES[name].list_columns:
        out[col] = out[col].map(lambda v: " | ".join(map(str, v)) if v is not None else "")
    labels = _value_labels()
    for col in out.columns:
        kind = str(out[col].dtype)
        if kind in ("Int64", "Int32", "Int16", "Int8"):
            out[col] = out[col].astype("float64")
        elif kind == "bool":
            out[col] = out[col].astype("int8")
        elif col in labels:
            known = labels[col]
            extra = sorted(set(out[col].dropna()) - set(known))
            out[col] = pd.Categorical(out[col], categories=[*known, *extra])
        elif _is_text(out[col]):
            out[col] = out[col].fillna("").astype(object)
    variable_labels = {c.name: _label(f"{c.zh}: {c.meaning}") for c in dictionary(ALL_TABLES[name])}
    return out, variable_labels


def stata_bytes(name: str, df: pd.DataFrame) -> bytes:
    out, variable_labels = stata_frame(name, df)
    strl = [c for c in out.columns if _is_text(out[c]) and out[c].str.len().max() > 2045]
    buf = io.BytesIO()
    out.to_stata(
        buf,
        write_index=False,
        version=118,  # Unicode text (Stata 14 and later)
        variable_labels=variable_labels,
        data_label=_label(ALL_TABLES[name].description),
        time_stamp=FIXED_TIME,
        convert_strl=strl,
    )
    return buf.getvalue()


def export(paths: Paths, fmt: str, out: Path | None = None) -> list[Path]:
    """Write every processed table in `fmt`: xlsx → one workbook (default data/processed/compare.xlsx),
    dta / feather / parquet → one file per table in `out` (default data/export/<fmt>/, which a rebuild of
    data/processed/ leaves alone)."""
    if fmt not in FORMATS:
        raise CompareError(f"--format {fmt}: choose one of {', '.join(FORMATS)}.")
    if fmt == "xlsx":
        target = (out / "compare.xlsx") if out else paths.processed / "compare.xlsx"
        atomic_write_bytes(target, workbook(paths))
        return [target]
    folder = out or paths.root / "data" / "export" / fmt
    written = []
    for name in ALL_TABLES:
        df = table(name, paths)
        target = folder / f"{name}.{fmt}"
        if fmt == "dta":
            data = stata_bytes(name, df)
        else:
            buf = io.BytesIO()
            if fmt == "feather":
                df.to_feather(buf, compression="zstd")
            else:
                df.to_parquet(buf, index=False, compression="zstd")
            data = buf.getvalue()
        atomic_write_bytes(target, data)
        written.append(target)
    return written
