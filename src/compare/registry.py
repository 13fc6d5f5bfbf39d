"""The document registry: which raw files make up the corpus, and what we know about them.

Input: ``data/raw/registry.csv`` and the raw files it names. The registry may have been opened and
saved in Excel or WPS: GBK/GB18030 or UTF-8 with or without a byte-order mark (detected as for
documents), CRLF line ends, semicolon or tab separators, empty rows, columns in any order, columns
of the researcher's own (kept), dates as Excel writes them (2021/3/2) — all are read. Output:
validated :class:`Document` records, and the registry written back in UTF-8 (by
:mod:`compare.intake`, only when a document is added). A modified raw file (checksum mismatch), a
missing file, an incomplete or duplicate row stops the build with a message naming the line and
the fix; a raw file that nobody registered is a warning.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import asdict, dataclass, fields
from datetime import date
from pathlib import Path

from .config import Paths
from .errors import CompareError
from .output import atomic_write_text

REGISTRY_COLUMNS = [
    "doc_id",
    "city",
    "city_zh",
    "city_en",
    "province",
    "admin_level",
    "issuer",
    "title",
    "doc_number",
    "issued_date",
    "status",
    "file",
    "sha256",
]
REQUIRED = ("doc_id", "city", "city_zh", "admin_level", "status", "file", "sha256")
ADMIN_LEVELS = ("national", "province", "prefecture", "district")
# Documents of these levels are the reference the cities are compared with, never one of the cities:
# charts draw them apart, clearly labelled, and city-by-city statistics leave them out.
REFERENCE_LEVELS = ("national",)
STATUSES = ("final", "draft")
SLUG_RE = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
CITY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")  # no hyphen: page names join two cities with one
IGNORED_RAW = {"registry.csv", "README.md", ".gitkeep"}


@dataclass(frozen=True)
class Document:
    doc_id: str
    city: str
    city_zh: str
    city_en: str
    province: str
    admin_level: str
    issuer: str
    title: str
    doc_number: str
    issued_date: str
    status: str
    file: str
    sha256: str

    def as_row(self) -> dict[str, str]:
        return asdict(self)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


_DATE_FORMS = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s+0{1,2}:0{2}(?::0{2})?)?$")


def normal_date(value: str) -> str:
    """A date as Excel or a person writes it (2021/3/2, 2021-3-2, 2021年3月2日, 2021/3/2 0:00) → 2021-03-02;
    anything else unchanged (and then refused by the check)."""
    m = _DATE_FORMS.match(value.strip())
    return f"{m.group(1)}-{int(m.group(2)):02d}-{int(m.group(3)):02d}" if m else value


def row_problem(row: dict[str, str], where: str) -> str | None:
    for col in REQUIRED:
        if not row.get(col, "").strip():
            return (
                f"{where}: the field '{col}' is empty. Fill it in (the README's 'The registry' section "
                f"lists what each field holds), or register the document again with `compare add`."
            )
    checks = [
        ("doc_id", SLUG_RE.match(row["doc_id"]), "a lowercase ASCII slug such as 'qingyang' or 'qingyang-2022'"),
        ("city", CITY_RE.match(row["city"]), "a lowercase ASCII slug such as 'qingyang' (letters, digits, _)"),
        ("admin_level", row["admin_level"] in ADMIN_LEVELS, "one of " + ", ".join(ADMIN_LEVELS)),
        ("status", row["status"] in STATUSES, "one of " + ", ".join(STATUSES)),
        ("sha256", re.fullmatch(r"[0-9a-f]{64}", row["sha256"]), "the file's SHA-256 (64 hex digits)"),
    ]
    for col, ok, expected in checks:
        if not ok:
            return f"{where}: '{col}' is {row[col]!r}; it must be {expected}."
    if row.get("issued_date"):
        try:
            date.fromisoformat(row["issued_date"])
        except ValueError:
            return f"{where}: 'issued_date' is {row['issued_date']!r}; write it as YYYY-MM-DD or leave it empty."
    if Path(row["file"]).name != row["file"]:
        return f"{where}: 'file' is {row['file']!r}; it must be a file name inside data/raw/, without folders."
    return None


def _rows(text: str) -> csv.DictReader:
    """A CSV reader for the registry as a spreadsheet program saved it: the separator (comma,
    semicolon or tab) read from the header line, header cells stripped."""
    header = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=header.count)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    if reader.fieldnames:
        reader.fieldnames = [(f or "").strip().lstrip("\ufeff") for f in reader.fieldnames]
    return reader


def parse_registry(text: str, source: Path, allow_empty: bool = False) -> list[Document]:
    """Parse and validate the registry's text; raise CompareError naming the first problem."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    reader = _rows(text)
    names = reader.fieldnames or []
    missing = [c for c in REGISTRY_COLUMNS if c not in names]
    if missing:
        raise CompareError(
            f"{source}: the header (line 1) lacks the column(s) {', '.join(missing)}. The registry's "
            f"first line must name these columns, in any order: {','.join(REGISTRY_COLUMNS)} "
            "(restore it with `git checkout -- data/raw/registry.csv` if a column was deleted)."
        )
    twice = sorted({n for n in names if n and names.count(n) > 1})
    if twice:
        raise CompareError(f"{source}: the header (line 1) names the column(s) {', '.join(twice)} twice; keep one.")
    docs: list[Document] = []
    seen_ids: dict[str, int] = {}
    seen_files: dict[str, str] = {}
    for row in reader:
        line_no = reader.line_num
        if None in row:
            raise CompareError(
                f"{source} line {line_no}: the row has more cells than the header has columns. Remove the "
                "extra cells, or quote a value that contains the separator."
            )
        row = {k: (v or "").strip() for k, v in row.items() if k in REGISTRY_COLUMNS}
        if not any(row.values()):
            continue  # an empty row, as spreadsheets leave at the end
        row["issued_date"] = normal_date(row.get("issued_date", ""))
        where = f"{source} line {line_no} (doc_id {row.get('doc_id') or '?'!r})"
        problem = row_problem(row, where)
        if problem:
            raise CompareError(problem)
        if row["doc_id"] in seen_ids:
            raise CompareError(
                f"{where}: the doc_id {row['doc_id']!r} is already used on line {seen_ids[row['doc_id']]}. "
                "Give each document its own doc_id (for a second document of a city, e.g. "
                f"'{row['city']}-2')."
            )
        if row["file"] in seen_files:
            raise CompareError(
                f"{where}: the file {row['file']!r} is already registered as {seen_files[row['file']]!r}. "
                "Remove one of the two rows."
            )
        seen_ids[row["doc_id"]] = line_no
        seen_files[row["file"]] = row["doc_id"]
        docs.append(Document(**{f.name: row.get(f.name, "") for f in fields(Document)}))
    if not docs and not allow_empty:
        raise CompareError(
            f"{source}: no documents are registered. Add one with `compare add FILE --city SLUG --name-zh 名称`."
        )
    return docs


def registry_text(paths: Paths) -> str:
    """The registry's text, whatever encoding a spreadsheet program saved it in."""
    from .readers import decode_bytes

    data = paths.registry.read_bytes()
    if not data.strip():
        return ""
    try:
        return decode_bytes(data, paths.registry)[0]
    except CompareError as e:
        raise CompareError(
            f"{paths.registry}: cannot be read as a table of text ({str(e).split(': ', 1)[-1].split('. ')[0]}). "
            "Save it from Excel or WPS as CSV (UTF-8 or GBK), or restore it with "
            "`git checkout -- data/raw/registry.csv`."
        ) from None


def load_registry(paths: Paths, allow_empty: bool = False) -> list[Document]:
    if not paths.registry.exists():
        raise CompareError(
            f"{paths.registry}: the registry is missing. Restore it from git "
            "(git checkout -- data/raw/registry.csv) or start one with `compare add`."
        )
    return parse_registry(registry_text(paths), paths.registry, allow_empty)


def verify_files(paths: Paths, docs: list[Document]) -> list[str]:
    """Check every registered file exists and is unchanged; return warnings for the rest."""
    for doc in docs:
        path = paths.raw / doc.file
        if not path.exists():
            raise CompareError(
                f"{path}: registered as {doc.doc_id!r} in {paths.registry.name} but the file is missing. "
                "Restore it (git checkout -- data/raw/), or delete its row from the registry."
            )
        actual = sha256_file(path)
        if actual != doc.sha256:
            raise CompareError(
                f"{path}: the file has changed since it was registered (sha256 {actual[:12]}…, registry says "
                f"{doc.sha256[:12]}…). Raw files are never edited: restore it with `git checkout -- {path.relative_to(paths.root)}`"
                " and make corrections in code. If this is a new version of the document, register it as a new "
                "document with `compare add`."
            )
    registered = {d.file for d in docs}
    return [
        f"{p}: not in the registry, so it is left out of every table. Register it with "
        f"`compare add {p.relative_to(paths.root)} --city SLUG --name-zh 名称`, or move it out of data/raw/."
        for p in sorted(paths.raw.iterdir())
        if p.is_file() and p.name not in registered and p.name not in IGNORED_RAW and not p.name.startswith(".")
    ]


def write_registry(paths: Paths, docs: list[Document]) -> None:
    """The registry in UTF-8 with the standard columns first; a column of the researcher's own (added
    in Excel) is kept, with its values, after them."""
    extra: list[str] = []
    values: dict[str, dict[str, str]] = {}
    if paths.registry.exists():
        reader = _rows(registry_text(paths).replace("\r\n", "\n"))
        extra = [f for f in reader.fieldnames or [] if f and f not in REGISTRY_COLUMNS]
        if extra:
            values = {r.get("doc_id", ""): {k: r.get(k) or "" for k in extra} for r in reader}
    buf = io.StringIO()
    writer = csv.DictWriter(buf, REGISTRY_COLUMNS + extra, lineterminator="\n")
    writer.writeheader()
    for doc in docs:
        writer.writerow({**doc.as_row(), **values.get(doc.doc_id, {})})
    atomic_write_text(paths.registry, buf.getvalue())
