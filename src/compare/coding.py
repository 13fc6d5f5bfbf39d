"""The coding round trip: the units to code → a coder's Excel sheet → the codes imported back; two
coders' agreement (percent, Cohen's κ, Krippendorff's α, per code, the confusion matrix); the
adjudication of their disagreements; a REFI-QDA project (.qdpx) and codebook (.qdc) for NVivo,
MAXQDA and ATLAS.ti.

Input: the processed ``instrument_units`` and ``instrument_codes`` tables and the codebooks.
Output: files in ``data/coding/`` — ``sheets/NAME.xlsx`` (a coder's sheet), ``NAME.codes.csv`` (their
imported codes: the record the build reads), ``adjudication.xlsx`` and ``adjudicated.codes.csv``.
A sheet that cannot be imported (an unknown code, a unit whose text changed since the export, a unit
id duplicated, missing or unknown) is refused naming the row, and nothing imported before is lost.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .codebooks import NONE, Codebook
from .config import Paths
from .errors import CompareError
from .instruments import labels, read_human_codes
from .output import atomic_write_bytes, atomic_write_text
from .tables import table

WORKBOOK_DATE = datetime.datetime(2000, 1, 1)  # fixed workbook metadata: the same units give the same file
ADJUDICATION = "adjudication"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")


def text_check(text: str) -> str:
    """A short fingerprint of a unit's text: an import sees whether the text changed since the export."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def coder_name(name: str) -> str:
    if not _NAME_RE.match(name) or name in ("rule", ADJUDICATION):
        raise CompareError(
            f"coder name {name!r}: use letters, digits, _ . or - (not 'rule' or 'adjudication'), "
            "for example --coder wang."
        )
    return name


# ---- the units and codes as coding sees them


@dataclass
class Units:
    units: pd.DataFrame  # the units to code, in document order, with before/after context
    human: pd.DataFrame  # the codes imported so far (data/coding/*.codes.csv): unit_id, framework, source, code


def load_units(paths: Paths) -> Units:
    units = table("instrument_units", paths)
    allu = units.sort_values(["doc_id", "char_start"]).reset_index(drop=True)
    same_doc_before = allu.doc_id.eq(allu.doc_id.shift(1))
    same_doc_after = allu.doc_id.eq(allu.doc_id.shift(-1))
    allu["before"] = allu.text.shift(1).where(same_doc_before, "").fillna("")
    allu["after"] = allu.text.shift(-1).where(same_doc_after, "").fillna("")
    return Units(allu[allu.excluded == ""].reset_index(drop=True), read_human_codes(paths.coding))


def rule_codes(units: pd.DataFrame, books: tuple[Codebook, ...]) -> dict[str, dict[str, str]]:
    """framework → unit_id → the rules' pre-label, from the codebooks as they are now (a codebook
    installed since the last build has its pre-labels too)."""
    out: dict[str, dict[str, str]] = {b.id: {} for b in books}
    for u in units.itertuples():
        for book_id, label in labels(u.text, u.char_start, books).items():
            out[book_id][u.unit_id] = label.code
    return out


def codes_of(codes: pd.DataFrame, source: str, framework: str) -> pd.Series:
    """unit_id → code, for one source (rule, coder:NAME, adjudicated) and one codebook."""
    rows = codes[(codes.source == source) & (codes.framework == framework)]
    return rows.set_index("unit_id").code


# ---- the coder's sheet


def export_sheet(paths: Paths, coder: str, books: tuple[Codebook, ...], blind: bool = False) -> Path:
    """data/coding/sheets/CODER.xlsx: one row per unit with its context, a drop-down of codes per
    codebook (filled with the coder's codes so far), the rules' pre-label unless `blind`."""
    import xlsxwriter

    coder = coder_name(coder)
    data = load_units(paths)
    mine = {b.id: codes_of(data.human, f"coder:{coder}", b.id) for b in books}
    rule = rule_codes(data.units, books)
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(
        buf, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}
    )
    wb.set_properties({"title": f"compare coding sheet: {coder}", "author": "compare", "created": WORKBOOK_DATE})
    head = wb.add_format({"bold": True, "bg_color": "#F2F2F2", "text_wrap": True, "valign": "top"})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    grey = wb.add_format({"text_wrap": True, "valign": "top", "font_color": "#777777"})
    ws = wb.add_worksheet("units")
    cols = ["unit_id 编码单元", "document 文件", "section 章节", "before 上文", "text 条款", "after 下文"]
    for b in books:
        if not blind:
            cols.append(f"{b.id} rule 规则预标")
        cols.append(f"{b.id} code 编码")
    cols += ["note 备注", "check 校验"]
    ws.write_row(0, 0, cols, head)
    widths = [18, 12, 16, 30, 60, 30] + [16] * (len(cols) - 8) + [24, 14]
    for i, w in enumerate(widths):
        ws.set_column(i, i, w)
    ws.freeze_panes(1, 5)
    for r, u in enumerate(data.units.itertuples(), start=1):
        values = [u.unit_id, u.doc_id, u.section_id, u.before, u.text, u.after]
        for b in books:
            if not blind:
                values.append(rule[b.id].get(u.unit_id, ""))
            values.append(mine[b.id].get(u.unit_id, ""))
        values += ["", text_check(u.text)]
        for c, v in enumerate(values):
            ws.write_string(r, c, str(v), grey if c in (3, 5) else wrap)
    n = len(data.units)
    cb = wb.add_worksheet("codebook")
    cb.write_row(0, 0, ["codebook 框架", "code 代码", "type 类型", "zh 中文", "en English", "definition 定义"], head)
    for i, w in enumerate([18, 22, 12, 16, 30, 90]):
        cb.set_column(i, i, w)
    row = 1
    for b in books:
        first = row
        for code in b.code_ids:
            c = b.code(code) if code != NONE else None
            cb.write_row(
                row,
                0,
                [
                    b.id,
                    code,
                    b.type_of(code),
                    c.zh if c else "无政策工具",
                    c.en if c else "no instrument",
                    c.definition if c else "see docs/coding-rules.md §3",
                ],
                wrap,
            )
            row += 1
        col = cols.index(f"{b.id} code 编码")
        ws.data_validation(
            1,
            col,
            max(n, 1),
            col,
            {
                "validate": "list",
                "source": f"=codebook!$B${first + 1}:$B${row}",
                "error_title": "Not a code 不是本框架的代码",
                "error_message": f"Choose a code of {b.id} (sheet codebook).",
            },
        )
    about = wb.add_worksheet("about")
    about.set_column(0, 0, 16)
    about.set_column(1, 1, 100)
    for i, (k, v) in enumerate(
        [
            ("kind", "coder"),
            ("coder", coder),
            ("blind", "yes" if blind else "no"),
            ("units", str(n)),
            ("codebooks", " ".join(b.id for b in books)),
            (
                "how",
                "Choose a code in each codebook's `code` column (the drop-down lists the codebook); leave it empty "
                "for a unit not coded yet. Do not edit unit_id, text or check. Then run: compare code import FILE.",
            ),
            (
                "rules",
                "docs/coding-rules.md: the coding unit, what is `none`, choosing one code, the actor steps A1–A4.",
            ),
        ]
    ):
        about.write_string(i, 0, k, head)
        about.write_string(i, 1, v, wrap)
    wb.close()
    out = paths.coding / "sheets" / f"{coder}.xlsx"
    atomic_write_bytes(out, buf.getvalue())
    return out


# ---- importing a sheet


@dataclass
class Imported:
    kind: str  # coder or adjudication
    name: str
    codes: pd.DataFrame  # the record after the import: unit_id, framework, source, code
    coded: int  # units the imported file codes
    record: Path  # data/coding/NAME.codes.csv


def _read_workbook(path: Path):
    import zipfile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    if not path.is_file():
        raise CompareError(f"{path}: no such file. Give the coding sheet to import (data/coding/sheets/NAME.xlsx).")
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
        raise CompareError(
            f"{path}: not an Excel workbook compare can read ({type(e).__name__}). Save it as .xlsx "
            "in Excel or WPS and import it again."
        ) from None


def import_sheet(paths: Paths, path: Path, books: tuple[Codebook, ...]) -> Imported:
    """Read a coder's sheet or the adjudication sheet back; refuse it whole, naming the rows at fault,
    when it cannot be trusted; else write its codes (merged over the coder's earlier ones)."""
    wb = _read_workbook(path)
    if "about" not in wb.sheetnames or "units" not in wb.sheetnames:
        raise CompareError(
            f"{path}: not a compare coding sheet (it needs the sheets units and about). Export one "
            "with `compare code export --coder NAME`."
        )
    about = {str(r[0]): str(r[1]) for r in wb["about"].iter_rows(values_only=True) if r and r[0] is not None}
    kind, name = about.get("kind", ""), about.get("coder", "")
    if kind not in ("coder", ADJUDICATION):
        raise CompareError(f"{path}: its about sheet does not say what it is (kind coder or adjudication).")
    rows = list(wb["units"].iter_rows(values_only=True))
    header = [str(h or "") for h in rows[0]] if rows else []

    def column(key: str) -> int | None:  # headers read "unit_id 编码单元", "rothwell_zegveld code 编码" …
        return next((i for i, h in enumerate(header) if h == key or h.startswith(key + " ")), None)

    col = {k: column(k) for k in ("unit_id", "text", "check")}
    missing = [k for k, i in col.items() if i is None]
    if missing:
        raise CompareError(
            f"{path}: the units sheet lacks the column(s) {', '.join(missing)}; export a fresh sheet "
            "with `compare code export`."
        )
    frameworks = {b.id: column(f"{b.id} code") for b in books}
    frameworks = {k: v for k, v in frameworks.items() if v is not None}
    if not frameworks:
        raise CompareError(
            f"{path}: the units sheet has no `code` column of a codebook in use ({', '.join(b.id for b in books)})."
        )
    current = table("instrument_units", paths)
    current = current[current.excluded == ""].set_index("unit_id").text
    known = {b.id: set(b.code_ids) for b in books}
    problems, seen, out = [], {}, []
    for n, r in enumerate(rows[1:], start=2):
        if not r or all(v in (None, "") for v in r):
            continue
        uid = str(r[col["unit_id"]] or "").strip()
        if not uid:
            problems.append(f"row {n}: no unit_id")
            continue
        if uid in seen:
            problems.append(f"row {n}: unit {uid} is also on row {seen[uid]}")
            continue
        seen[uid] = n
        if uid not in current.index:
            problems.append(f"row {n}: unit {uid} is not a unit of the current build")
            continue
        if str(r[col["check"]] or "") != text_check(current[uid]):
            problems.append(f"row {n}: the text of unit {uid} changed since the export")
            continue
        for fw, c in frameworks.items():
            code = str(r[c] or "").strip()
            if not code:
                continue
            if code not in known[fw]:
                problems.append(f"row {n}: {code!r} is not a code of {fw}")
                continue
            out.append((uid, fw, code))
    exported = int(about.get("units", "0") or 0)
    if kind == "coder" and exported and len(seen) < exported:
        problems.append(f"{exported - len(seen)} unit row(s) of the exported sheet are missing")
    if problems:
        shown = "; ".join(problems[:8]) + (f"; and {len(problems) - 8} more" if len(problems) > 8 else "")
        raise CompareError(
            f"{path}: not imported — {shown}. Correct the sheet (or export a fresh one with "
            "`compare code export`) and import it again; the codes imported before are unchanged."
        )
    new = pd.DataFrame(out, columns=["unit_id", "framework", "code"])
    return write_codes(paths, kind, name, new)


def write_codes(paths: Paths, kind: str, name: str, new: pd.DataFrame) -> Imported:
    """Merge imported codes (unit_id, framework, code) over the coder's (or the adjudication's) record."""
    source = f"coder:{coder_name(name)}" if kind == "coder" else "adjudicated"
    new = new.assign(source=source)
    record = paths.coding / (f"{name}.codes.csv" if kind == "coder" else f"{ADJUDICATION}.codes.csv")
    merged = _merge(record, new)
    atomic_write_text(record, merged.to_csv(index=False, lineterminator="\n"))
    return Imported(kind, name, merged, int(new.unit_id.nunique()), record)


def _merge(record: Path, new: pd.DataFrame) -> pd.DataFrame:
    """The codes of `record` with `new` over them: a code once imported stays unless replaced."""
    cols = ["unit_id", "framework", "source", "code"]
    old = pd.read_csv(record, dtype=str, keep_default_na=False) if record.exists() else pd.DataFrame(columns=cols)
    both = pd.concat([old[cols], new[cols]], ignore_index=True)
    both = both.drop_duplicates(["unit_id", "framework"], keep="last")
    return both.sort_values(["unit_id", "framework"], kind="mergesort").reset_index(drop=True)


# ---- agreement


@dataclass
class Agreement:
    framework: str
    a: str
    b: str
    n: int
    percent: float
    kappa: float
    alpha: float
    per_code: pd.DataFrame  # code, n_a, n_b, agree, kappa
    confusion: pd.DataFrame  # a's codes × b's codes
    type_kappa: float | None = None  # on the types (supply / environment / demand / none)
    per_type: pd.DataFrame | None = None  # type, precision, recall (b as the reference)


def agreement(a: pd.Series, b: pd.Series, book: Codebook, name_a: str, name_b: str) -> Agreement:
    """How two codings (unit_id → code) of the units both coded agree."""
    import krippendorff
    from sklearn.metrics import cohen_kappa_score

    both = pd.concat([a.rename("a"), b.rename("b")], axis=1, join="inner").sort_index()
    if both.empty:
        raise CompareError(f"{book.id}: {name_a} and {name_b} have no unit coded in common.")
    codes = list(book.code_ids)
    index = {c: i for i, c in enumerate(codes)}
    kappa = float(cohen_kappa_score(both.a, both.b, labels=codes))
    data = [[index[c] for c in both.a], [index[c] for c in both.b]]
    alpha = (
        float(
            krippendorff.alpha(
                reliability_data=data, level_of_measurement="nominal", value_domain=list(range(len(codes)))
            )
        )
        if both.a.nunique() + both.b.nunique() > 2
        else 1.0
    )
    rows = []
    for c in codes:
        x, y = both.a == c, both.b == c
        if x.any() or y.any():
            k = float(cohen_kappa_score(x, y)) if (x != y).any() else 1.0
            rows.append((c, int(x.sum()), int(y.sum()), int((x & y).sum()), round(k, 3)))
    per_code = pd.DataFrame(rows, columns=["code", f"n_{name_a}", f"n_{name_b}", "agree", "kappa"])
    confusion = pd.crosstab(both.a.rename(name_a), both.b.rename(name_b))
    out = Agreement(
        book.id,
        name_a,
        name_b,
        len(both),
        round(float((both.a == both.b).mean()), 3),
        round(kappa, 3),
        round(alpha, 3),
        per_code,
        confusion,
    )
    if book.types:
        ta, tb = both.a.map(book.type_of), both.b.map(book.type_of)
        types = [t.id for t in book.types] + [NONE]
        out.type_kappa = round(float(cohen_kappa_score(ta, tb, labels=types)), 3)
        per = []
        for t in types:
            pred, ref = ta == t, tb == t
            precision = (pred & ref).sum() / pred.sum() if pred.any() else float("nan")
            recall = (pred & ref).sum() / ref.sum() if ref.any() else float("nan")
            per.append((t, int(pred.sum()), int(ref.sum()), round(float(precision), 3), round(float(recall), 3)))
        out.per_type = pd.DataFrame(per, columns=["type", f"n_{name_a}", f"n_{name_b}", "precision", "recall"])
    return out


def report(ag: Agreement) -> str:
    lines = [
        f"{ag.framework}: {ag.a} vs {ag.b}, {ag.n} units coded by both",
        f"  percent agreement {ag.percent:.3f}  Cohen's kappa {ag.kappa:.3f}  Krippendorff's alpha {ag.alpha:.3f}",
    ]
    if ag.type_kappa is not None:
        lines.append(f"  on the types: Cohen's kappa {ag.type_kappa:.3f}")
        lines += ["  " + line for line in ag.per_type.to_string(index=False).splitlines()]
    lines.append("  per code:")
    lines += ["  " + line for line in ag.per_code.to_string(index=False).splitlines()]
    lines.append("  confusion (rows: " + ag.a + ", columns: " + ag.b + "):")
    lines += ["  " + line for line in ag.confusion.to_string().splitlines()]
    return "\n".join(lines)


@dataclass
class AgreeResult:
    agreements: list[Agreement]
    sheet: Path | None  # the adjudication sheet, when two coders were compared
    disagreements: int


def coder_names(human: pd.DataFrame) -> list[str]:
    return sorted({s.split(":", 1)[1] for s in human.source if s.startswith("coder:")})


def agree(paths: Paths, books: tuple[Codebook, ...], coders: list[str] | None, gold: Path | None) -> AgreeResult:
    """Two codings' agreement per codebook: coders by name, `rule` (the pre-labels), `adjudicated`, or
    `gold` (the file `gold`); by default the two coders of the project, or rule against gold. Two
    coders' disagreements go to the adjudication sheet."""
    data = load_units(paths)
    names = coder_names(data.human)
    if not coders:
        if gold is not None:
            coders = ["rule", "gold"]
        elif len(names) == 2:
            coders = names
        else:
            raise CompareError(
                f"agreement needs two codings; the project has {len(names)} coder(s)"
                + (f" ({', '.join(names)})" if names else "")
                + ". Name them with --coders A B (coders, rule, adjudicated, or gold with --gold FILE)."
            )
    if "gold" in coders and gold is None:
        raise CompareError("--coders … gold needs the hand-coded file: --gold FILE (e.g. tests/gold/instruments.csv).")
    for c in coders:
        if c not in ("rule", "gold", ADJUDICATION, "adjudicated") and c not in names:
            raise CompareError(
                f"--coders: {c!r} has coded nothing in this project (coders: {', '.join(names) or 'none yet'}). "
                "Import their sheet with `compare code import FILE`."
            )
    coded = set(data.units.unit_id)
    rule = rule_codes(data.units, books) if "rule" in coders else {}
    gold_codes = read_gold(gold, books, coded) if gold is not None else None

    def coding(name: str, book: Codebook) -> pd.Series:
        if name == "rule":
            return pd.Series(rule[book.id], dtype=str)
        if name == "gold":
            rows = gold_codes[gold_codes.framework == book.id]
            return rows.set_index("unit_id").code
        source = "adjudicated" if name in (ADJUDICATION, "adjudicated") else f"coder:{name}"
        return codes_of(data.human, source, book.id)

    out = []
    for book in books:
        a, b = coding(coders[0], book), coding(coders[1], book)
        a, b = a[a.index.isin(coded)], b[b.index.isin(coded)]
        if a.index.intersection(b.index).empty:
            continue
        out.append(agreement(a, b, book, coders[0], coders[1]))
    if not out:
        raise CompareError(
            f"{coders[0]} and {coders[1]} have no unit coded in common in {', '.join(b.id for b in books)}."
        )
    sheet, n = None, 0
    if all(c in names for c in coders):
        sheet, n = adjudication_sheet(paths, books, (coders[0], coders[1]))
    return AgreeResult(out, sheet, n)


def read_gold(path: Path, books: tuple[Codebook, ...], units: set[str] | None = None) -> pd.DataFrame:
    """A hand-coded file (unit_id, text, a column per codebook it codes) as codes: unit_id, framework,
    code; `units`, when given, are the units of the current build it must name."""
    try:
        gold = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise CompareError(f"{path}: the gold file does not exist.") from None
    coded = [b for b in books if b.id in gold.columns]
    if "unit_id" not in gold.columns or not coded:
        raise CompareError(
            f"{path}: a gold file needs a unit_id column and a column per codebook it codes "
            f"({', '.join(b.id for b in books)}); see tests/gold/instruments.csv."
        )
    rows = []
    for n, g in enumerate(gold.to_dict("records"), start=2):
        if g.get("excluded"):
            continue  # the coder would not code this unit (a heading, apparatus …): no codes
        if units is not None and g["unit_id"] not in units:
            raise CompareError(
                f"{path} line {n}: unit {g['unit_id']} is not a coded unit of the current build "
                "(its document changed, or the id is mistyped); code the unit again under its new id."
            )
        for b in coded:
            code = g[b.id]
            if code not in b.code_ids:
                raise CompareError(f"{path} line {n}: {code!r} is not a code of {b.id} ({', '.join(b.code_ids)}).")
            rows.append((g["unit_id"], b.id, code))
    return pd.DataFrame(rows, columns=["unit_id", "framework", "code"])


def adjudication_sheet(paths: Paths, books: tuple[Codebook, ...], coders: tuple[str, str]) -> tuple[Path, int]:
    """data/coding/adjudication.xlsx: every unit the two coders code differently, with both codes and
    the rules' pre-label, and a `decision` drop-down whose choices become the adjudicated codes."""
    import xlsxwriter

    data = load_units(paths)
    texts = data.units.set_index("unit_id")
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(
        buf, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}
    )
    wb.set_properties({"title": "compare adjudication sheet", "author": "compare", "created": WORKBOOK_DATE})
    head = wb.add_format({"bold": True, "bg_color": "#F2F2F2", "text_wrap": True, "valign": "top"})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    ws = wb.add_worksheet("units")
    cols = ["unit_id 编码单元", "text 条款"]
    for b in books:
        cols += [f"{b.id} {coders[0]}", f"{b.id} {coders[1]}", f"{b.id} rule", f"{b.id} code 裁决"]
    cols += ["note 备注", "check 校验"]
    ws.write_row(0, 0, cols, head)
    ws.set_column(0, 0, 18)
    ws.set_column(1, 1, 60)
    ws.set_column(2, len(cols) - 1, 16)
    ws.freeze_panes(1, 2)
    rule = rule_codes(data.units, books)
    per = {b.id: [codes_of(data.human, f"coder:{c}", b.id) for c in coders] + [pd.Series(rule[b.id])] for b in books}
    disagree = sorted(
        {
            u
            for b in books
            for u in per[b.id][0].index
            if u in per[b.id][1].index and per[b.id][0][u] != per[b.id][1][u] and u in texts.index
        },
        key=lambda u: (texts.loc[u, "doc_id"], texts.loc[u, "char_start"]),
    )
    for r, uid in enumerate(disagree, start=1):
        values = [uid, texts.loc[uid, "text"]]
        for b in books:
            a, c, rule = (s.get(uid, "") for s in per[b.id])
            values += [a, c, rule, a if a == c else ""]
        values += ["", text_check(texts.loc[uid, "text"])]
        for c, v in enumerate(values):
            ws.write_string(r, c, str(v), wrap)
    cb = wb.add_worksheet("codebook")
    row = 0
    for b in books:
        first = row
        for code in b.code_ids:
            cb.write_row(row, 0, [b.id, code])
            row += 1
        col = cols.index(f"{b.id} code 裁决")
        ws.data_validation(
            1, col, max(len(disagree), 1), col, {"validate": "list", "source": f"=codebook!$B${first + 1}:$B${row}"}
        )
    about = wb.add_worksheet("about")
    for i, (k, v) in enumerate(
        [
            ("kind", ADJUDICATION),
            ("coder", "adjudicated"),
            ("coders", " ".join(coders)),
            ("units", str(len(disagree))),
            (
                "how",
                "Decide each disagreement in the `code` column, citing a rule of "
                "docs/coding-rules.md in the note; then run: compare code import FILE.",
            ),
        ]
    ):
        about.write_string(i, 0, k, head)
        about.write_string(i, 1, v, wrap)
    wb.close()
    out = paths.coding / f"{ADJUDICATION}.xlsx"
    atomic_write_bytes(out, buf.getvalue())
    return out, len(disagree)
