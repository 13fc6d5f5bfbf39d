"""A raw file → a registered document: what it says about itself, copied into data/raw/ and
added to the registry.

Input: the path of a document a researcher downloaded, and what they know about it (city, names,
level …). Output: the file copied byte for byte into ``data/raw/``, its row appended to
``data/raw/registry.csv``, and the :class:`~compare.registry.Document`. The title, 文号, date of
issue, issuer and draft status are read from the document when it states them. A file that cannot
be read, or is already registered, is refused before anything is written.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

from .clean import clean
from .config import Paths
from .errors import CompareError
from .output import atomic_write_bytes
from .patterns import DOC_NUMBER_RE, DOC_TYPE, DRAFT_MARKS, HAN
from .readers import decode_document
from .registry import ADMIN_LEVELS, CITY_RE, Document, load_registry, normal_date, row_problem, write_registry

_DRAFT = "|".join(DRAFT_MARKS)
_TITLE_RE = re.compile(rf"^(?:.*关于.*{DOC_TYPE}|.*{DOC_TYPE})(?:（(?:{_DRAFT}|试行)）)?$")
_ISSUER_RE = re.compile(rf"^(?:中共)?[{HAN}]{{2,20}}(?:人民政府|办公室|办公厅|委员会|教育局|教育厅)$")
_DATE_LINE_RE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")
_PAGE_DATE_RE = re.compile(r"(?:成文日期|发文日期)\s*[:：]\s*(\d{4}-\d{2}-\d{2})")
_PAGE_NUMBER_RE = re.compile(r"文件编号\s*[:：]\s*(\S+号)")


def detect_metadata(raw: str) -> dict[str, str]:
    """What a document says about itself: title, 文号, date of issue, issuer, status (empty when it does not say)."""
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
            found["title"] = re.sub(rf"（(?:{_DRAFT})）$", "", candidate)
            break
    if any(re.search(_DRAFT, line) for line in head):
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


@dataclass(frozen=True)
class Prepared:
    doc: Document
    data: bytes  # the bytes checked and hashed: what is copied


def prepare_document(
    paths: Paths,
    source: Path,
    registered: list[Document],
    city: str,
    city_zh: str,
    city_en: str = "",
    province: str = "",
    admin_level: str = "prefecture",
    title: str = "",
    doc_number: str = "",
    issued_date: str = "",
    status: str = "",
    doc_id: str = "",
    issuer: str = "",
) -> Prepared:
    """Everything `compare add` checks about one document, before anything is written: the file is
    readable, not registered yet (nor in `registered`), its fields valid, its doc_id and file name free."""
    if not source.is_file():
        raise CompareError(f"{source}: no such file. Give the path of the document to add.")
    if not CITY_RE.match(city):
        raise CompareError(
            f"{source}: the city slug {city!r} is not valid; 'city' must be lowercase ASCII letters, "
            "digits or _ (for example lanzhou), the same for all of a city's documents."
        )
    if admin_level not in ADMIN_LEVELS:
        raise CompareError(f"{source}: the level {admin_level!r} is not one of {', '.join(ADMIN_LEVELS)}.")
    data = source.read_bytes()  # read once: what is checked, hashed and copied is the same bytes
    decoded = decode_document(data, source)  # refuses empty, binary and undecodable files before anything is written
    digest = hashlib.sha256(data).hexdigest()
    for d in registered:
        if d.sha256 == digest:
            raise CompareError(
                f"{source}: this file is already registered as {d.doc_id!r} ({d.file}); nothing was added."
            )
    taken = {d.doc_id for d in registered}
    if not doc_id:
        doc_id, n = city, 2
        while doc_id in taken:
            doc_id, n = f"{city}-{n}", n + 1
    detected = detect_metadata(decoded.text)
    name = f"{doc_id}{source.suffix.lower() or '.txt'}"
    row = {
        "doc_id": doc_id,
        "city": city,
        "city_zh": city_zh,
        "city_en": city_en or city.replace("_", " ").title(),
        "province": province,
        "admin_level": admin_level,
        "issuer": issuer or detected["issuer"],
        "title": title or detected["title"],
        "doc_number": doc_number or detected["doc_number"],
        "issued_date": normal_date(issued_date) or detected["issued_date"],
        "status": status or detected["status"],
        "file": name,
        "sha256": digest,
    }
    problem = row_problem(row, f"{source} (as {doc_id!r})")
    if problem:
        raise CompareError(problem)
    if doc_id in taken:
        raise CompareError(f"{source}: the doc_id {doc_id!r} is already registered. Choose another with --doc-id.")
    target = paths.raw / name
    if target.exists() or any(d.file == name for d in registered):
        raise CompareError(f"{target}: a file of that name is already in data/raw/. Choose another --doc-id.")
    return Prepared(Document(**row), data)


def commit_documents(paths: Paths, registered: list[Document], prepared: list[Prepared]) -> None:
    """Copy the prepared files into data/raw/ and register them in one write; on any failure the
    copies are removed, so nothing is half-added."""
    copied: list[Path] = []
    try:
        for p in prepared:
            target = paths.raw / p.doc.file
            atomic_write_bytes(target, p.data)
            copied.append(target)
        write_registry(paths, [*registered, *(p.doc for p in prepared)])
    except BaseException:
        for target in copied:
            target.unlink(missing_ok=True)
        raise


def add_document(paths: Paths, source: Path, city: str, city_zh: str, **fields) -> Document:
    """Copy `source` into data/raw/ and register it; fields not given are read from the document."""
    registered = load_registry(paths, allow_empty=True) if paths.registry.exists() else []
    prepared = prepare_document(paths, source, registered, city, city_zh, **fields)
    commit_documents(paths, registered, [prepared])
    return prepared.doc


# ---- many documents at once

MANIFEST_COLUMNS = {  # manifest column → prepare_document's argument (the columns are named after the flags)
    "path": "path",
    "city": "city",
    "name_zh": "city_zh",
    "name_en": "city_en",
    "province": "province",
    "level": "admin_level",
    "title": "title",
    "doc_number": "doc_number",
    "issued": "issued_date",
    "status": "status",
    "issuer": "issuer",
    "doc_id": "doc_id",
}
MANIFEST_REQUIRED = ("path", "city", "name_zh")


def read_manifest(path: Path) -> list[tuple[int, dict[str, str]]]:
    """A manifest's rows as (row number as the spreadsheet shows it, {column: value}): .xlsx (the first
    sheet) or .csv (any encoding Excel saves); columns named after the flags (name_zh or name-zh)."""
    if not path.is_file():
        raise CompareError(f"{path}: no such manifest. Give a .csv or .xlsx file with one row per document.")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        import openpyxl

        try:
            sheet = openpyxl.load_workbook(path, read_only=True, data_only=True).worksheets[0]
        except Exception as e:  # openpyxl raises several types for a file that is not a workbook
            raise CompareError(
                f"{path}: not an Excel workbook compare can read ({type(e).__name__}); save it as .xlsx."
            ) from None
        raw = [["" if v is None else str(v).strip() for v in r] for r in sheet.iter_rows(values_only=True)]
    elif path.suffix.lower() in (".csv", ".txt", ".tsv"):
        from .readers import decode_bytes

        text = decode_bytes(path.read_bytes(), path)[0].replace("\r\n", "\n").replace("\r", "\n")
        delimiter = max(",;\t", key=text.split("\n", 1)[0].count)
        raw = [[v.strip() for v in r] for r in csv.reader(io.StringIO(text), delimiter=delimiter)]
    else:
        raise CompareError(f"{path}: a manifest is a .csv or .xlsx file (one row per document, a header row first).")
    if not raw:
        raise CompareError(
            f"{path}: the manifest is empty; its first row names the columns ({', '.join(MANIFEST_COLUMNS)})."
        )
    header = [h.strip().lstrip("\ufeff").lower().replace("-", "_").replace(" ", "_") for h in raw[0]]
    unknown = [h for h in header if h and h not in MANIFEST_COLUMNS]
    missing = [c for c in MANIFEST_REQUIRED if c not in header]
    if missing or unknown:
        raise CompareError(
            f"{path}: the header row "
            + (f"lacks {', '.join(missing)}" if missing else "")
            + ("; " if missing and unknown else "")
            + (f"has column(s) compare does not know: {', '.join(unknown)}" if unknown else "")
            + f". The columns are named after the flags of `compare add`: {', '.join(MANIFEST_COLUMNS)} "
            "(only path, city and name_zh are required)."
        )
    rows = []
    for n, values in enumerate(raw[1:], start=2):
        row = {h: v for h, v in zip(header, values, strict=False) if h}
        if any(row.values()):
            rows.append((n, row))
    if not rows:
        raise CompareError(f"{path}: the manifest lists no document (only its header row).")
    return rows


def add_manifest(paths: Paths, manifest: Path, log=print) -> list[Document]:
    """Add every document a manifest lists, or none: every row is checked first, and all the rows
    that cannot be added are reported together; nothing is copied or registered until all are good."""
    registered = load_registry(paths, allow_empty=True) if paths.registry.exists() else []
    rows = read_manifest(manifest)
    prepared: list[Prepared] = []
    problems: list[str] = []
    for i, (n, row) in enumerate(rows, start=1):
        missing = [c for c in MANIFEST_REQUIRED if not row.get(c)]
        if missing:
            problems.append(f"row {n}: {', '.join(missing)} is empty")
            continue
        source = Path(row["path"]).expanduser()
        source = source if source.is_absolute() else manifest.parent / source
        fields = {MANIFEST_COLUMNS[k]: v for k, v in row.items() if k != "path" and v}
        log(f"  [{i}/{len(rows)}] checking {source.name}")
        try:
            prepared.append(prepare_document(paths, source, [*registered, *(p.doc for p in prepared)], **fields))
        except CompareError as e:
            problems.append(f"row {n}: {str(e).replace(str(source), source.name, 1)}")
    if problems:
        shown = " ".join(f"({k}) {p}" for k, p in enumerate(problems[:20], start=1))
        more = f" … and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise CompareError(
            f"{manifest}: nothing was added; {len(problems)} of {len(rows)} row(s) cannot be added: {shown}{more} "
            "Correct those rows and run the command again."
        )
    commit_documents(paths, registered, prepared)
    return [p.doc for p in prepared]
