"""The document registry: which raw files make up the corpus, and what we know about them.

Input: ``data/raw/registry.csv`` and the raw files it names. Output: validated
:class:`Document` records. A modified raw file (checksum mismatch), a missing file, an
incomplete or duplicate row stops the build with a message saying what to do; a raw file
that nobody registered is a warning.
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

REGISTRY_COLUMNS = [
    "doc_id", "city", "city_zh", "city_en", "province", "admin_level", "issuer", "title",
    "doc_number", "issued_date", "status", "file", "sha256",
]
REQUIRED = ("doc_id", "city", "city_zh", "admin_level", "status", "file", "sha256")
ADMIN_LEVELS = ("national", "province", "prefecture", "district")
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


def _row_problem(row: dict[str, str], where: str) -> str | None:
    for col in REQUIRED:
        if not row.get(col, "").strip():
            return (f"{where}: the field '{col}' is empty. Fill it in (the README's 'The registry' section "
                    f"lists what each field holds), or register the document again with `compare add`.")
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


def parse_registry(text: str, source: Path, allow_empty: bool = False) -> list[Document]:
    """Parse and validate the registry's text; raise CompareError naming the first problem."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in REGISTRY_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise CompareError(f"{source}: the header lacks the column(s) {', '.join(missing)}. "
                           f"The first line must be: {','.join(REGISTRY_COLUMNS)}")
    docs: list[Document] = []
    seen_ids: dict[str, int] = {}
    seen_files: dict[str, str] = {}
    for line_no, row in enumerate(reader, start=2):
        row = {k: (v or "").strip() for k, v in row.items() if k in REGISTRY_COLUMNS}
        where = f"{source} line {line_no} (doc_id {row.get('doc_id') or '?'!r})"
        problem = _row_problem(row, where)
        if problem:
            raise CompareError(problem)
        if row["doc_id"] in seen_ids:
            raise CompareError(f"{where}: the doc_id {row['doc_id']!r} is already used on line {seen_ids[row['doc_id']]}. "
                               "Give each document its own doc_id (for a second document of a city, e.g. "
                               f"'{row['city']}-2').")
        if row["file"] in seen_files:
            raise CompareError(f"{where}: the file {row['file']!r} is already registered as {seen_files[row['file']]!r}. "
                               "Remove one of the two rows.")
        seen_ids[row["doc_id"]] = line_no
        seen_files[row["file"]] = row["doc_id"]
        docs.append(Document(**{f.name: row.get(f.name, "") for f in fields(Document)}))
    if not docs and not allow_empty:
        raise CompareError(f"{source}: no documents are registered. Add one with `compare add FILE --city SLUG --name-zh 名称`.")
    return docs


def load_registry(paths: Paths, allow_empty: bool = False) -> list[Document]:
    if not paths.registry.exists():
        raise CompareError(f"{paths.registry}: the registry is missing. Restore it from git "
                           "(git checkout -- data/raw/registry.csv) or start one with `compare add`.")
    return parse_registry(paths.registry.read_text(encoding="utf-8-sig"), paths.registry, allow_empty)


def verify_files(paths: Paths, docs: list[Document]) -> list[str]:
    """Check every registered file exists and is unchanged; return warnings for the rest."""
    for doc in docs:
        path = paths.raw / doc.file
        if not path.exists():
            raise CompareError(f"{path}: registered as {doc.doc_id!r} in {paths.registry.name} but the file is missing. "
                               "Restore it (git checkout -- data/raw/), or delete its row from the registry.")
        actual = sha256_file(path)
        if actual != doc.sha256:
            raise CompareError(
                f"{path}: the file has changed since it was registered (sha256 {actual[:12]}…, registry says "
                f"{doc.sha256[:12]}…). Raw files are never edited: restore it with `git checkout -- {path.relative_to(paths.root)}`"
                " and make corrections in code. If this is a new version of the document, register it as a new "
                "document with `compare add`.")
    registered = {d.file for d in docs}
    return [
        f"{p}: not in the registry, so it is left out of every table. Register it with "
        f"`compare add {p.relative_to(paths.root)} --city SLUG --name-zh 名称`, or move it out of data/raw/."
        for p in sorted(paths.raw.iterdir())
        if p.is_file() and p.name not in registered and p.name not in IGNORED_RAW and not p.name.startswith(".")
    ]


def write_registry(paths: Paths, docs: list[Document]) -> None:
    from .output import atomic_write_text

    buf = io.StringIO()
    writer = csv.DictWriter(buf, REGISTRY_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for doc in docs:
        writer.writerow(doc.as_row())
    atomic_write_text(paths.registry, buf.getvalue())


# ---- adding a document

_DOC_TYPE = r"(?:意见|方案|计划|办法|通知|措施|规划|决定|细则|纲要|条例|规定|要点)"
_TITLE_RE = re.compile(rf"^(?:.*关于.*{_DOC_TYPE}|.*{_DOC_TYPE})(?:（(?:征求意见稿|草案|讨论稿|试行)）)?$")
_ISSUER_RE = re.compile(r"^(?:中共)?[\u4e00-\u9fff]{2,20}(?:人民政府|办公室|办公厅|委员会|教育局|教育厅)$")
_DATE_LINE_RE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")
_PAGE_DATE_RE = re.compile(r"(?:成文日期|发文日期)\s*[:：]\s*(\d{4}-\d{2}-\d{2})")
_PAGE_NUMBER_RE = re.compile(r"文件编号\s*[:：]\s*(\S+号)")


def detect_metadata(raw: str) -> dict[str, str]:
    """What a document says about itself: title, 文号, date of issue, issuer, status (empty when it does not say)."""
    from .clean import clean
    from .documents import DOC_NUMBER_RE

    lines = [line for line in clean(raw).text.split("\n") if line]
    head = lines[:12]
    found = {"title": "", "doc_number": "", "issued_date": "", "issuer": "", "status": "final"}
    m = _PAGE_NUMBER_RE.search(raw)
    if m:
        found["doc_number"] = m.group(1)
    for line in head[:6]:
        m = DOC_NUMBER_RE.fullmatch(line)
        if m and not found["doc_number"]:
            found["doc_number"] = m.group(0)
    for i, line in enumerate(head):
        candidate = line
        if line.startswith("关于") and i + 1 < len(head) and not _TITLE_RE.match(line):
            candidate = line + head[i + 1]  # a title a PDF or web page broke in two
        if _TITLE_RE.match(candidate) and len(candidate) <= 120 and "，" not in candidate:
            found["title"] = re.sub(r"（(?:征求意见稿|草案|讨论稿)）$", "", candidate)
            break
    if any(re.search(r"征求意见稿|草案|讨论稿", line) for line in head):
        found["status"] = "draft"
    m = _PAGE_DATE_RE.search(raw)
    dates = [(i, _DATE_LINE_RE.match(line)) for i, line in enumerate(lines)]
    dates = [(i, d) for i, d in dates if d]
    if m:
        found["issued_date"] = m.group(1)
    elif dates:
        y, mo, d = dates[0][1].groups()
        found["issued_date"] = f"{y}-{int(mo):02d}-{int(d):02d}"
    issuers = [line for line in head[:4] if _ISSUER_RE.match(line)]
    if not issuers and dates and dates[0][0] > 0 and _ISSUER_RE.match(lines[dates[0][0] - 1]):
        issuers = [lines[dates[0][0] - 1]]
    found["issuer"] = "；".join(issuers)
    return found


def add_document(paths: Paths, source: Path, city: str, city_zh: str, city_en: str = "", province: str = "",
                 admin_level: str = "prefecture", title: str = "", doc_number: str = "", issued_date: str = "",
                 status: str = "", doc_id: str = "", issuer: str = "") -> Document:
    """Copy `source` into data/raw/ and register it; fields not given are read from the document."""
    from .output import atomic_write_bytes
    from .readers import decode_document

    if not source.is_file():
        raise CompareError(f"{source}: no such file. Give the path of the document to add.")
    if not CITY_RE.match(city):
        raise CompareError(f"{source}: the city slug {city!r} is not valid; 'city' must be lowercase ASCII letters, "
                           "digits or _ (for example lanzhou), the same for all of a city's documents.")
    docs = load_registry(paths, allow_empty=True) if paths.registry.exists() else []
    data = source.read_bytes()  # read once: what is checked, hashed and copied is the same bytes
    decoded = decode_document(data, source)  # refuses empty, binary and undecodable files before anything is written
    digest = hashlib.sha256(data).hexdigest()
    for d in docs:
        if d.sha256 == digest:
            raise CompareError(f"{source}: this file is already registered as {d.doc_id!r} ({d.file}); "
                               "nothing was added.")
    taken = {d.doc_id for d in docs}
    if not doc_id:
        doc_id, n = city, 2
        while doc_id in taken:
            doc_id, n = f"{city}-{n}", n + 1
    detected = detect_metadata(decoded.text)
    name = f"{doc_id}{source.suffix.lower() or '.txt'}"
    row = {
        "doc_id": doc_id, "city": city, "city_zh": city_zh, "city_en": city_en or city.replace("_", " ").title(),
        "province": province, "admin_level": admin_level, "issuer": issuer or detected["issuer"],
        "title": title or detected["title"], "doc_number": doc_number or detected["doc_number"],
        "issued_date": issued_date or detected["issued_date"], "status": status or detected["status"],
        "file": name, "sha256": digest,
    }
    problem = _row_problem(row, f"{source} (as {doc_id!r})")
    if problem:
        raise CompareError(problem)
    if doc_id in taken:
        raise CompareError(f"{source}: the doc_id {doc_id!r} is already registered. Choose another with --doc-id.")
    target = paths.raw / name
    if target.exists():
        raise CompareError(f"{target}: a file of that name is already in data/raw/. Choose another --doc-id.")
    doc = Document(**row)
    atomic_write_bytes(target, data)
    try:
        write_registry(paths, [*docs, doc])
    except BaseException:
        target.unlink(missing_ok=True)  # nothing half-added
        raise
    return doc
