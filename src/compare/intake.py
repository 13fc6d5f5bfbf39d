"""A raw file → a registered document: what it says about itself, copied into data/raw/ and
added to the registry.

Input: the path of a document a researcher downloaded, and what they know about it (city, names,
level …). Output: the file copied byte for byte into ``data/raw/``, its row appended to
``data/raw/registry.csv``, and the :class:`~compare.registry.Document`. The title, 文号, date of
issue, issuer and draft status are read from the document when it states them. A file that cannot
be read, or is already registered, is refused before anything is written.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from .clean import clean
from .config import Paths
from .errors import CompareError
from .output import atomic_write_bytes
from .patterns import DOC_NUMBER_RE, DOC_TYPE, DRAFT_MARKS, HAN
from .readers import decode_document
from .registry import CITY_RE, Document, load_registry, row_problem, write_registry

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


def add_document(
    paths: Paths,
    source: Path,
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
) -> Document:
    """Copy `source` into data/raw/ and register it; fields not given are read from the document."""
    if not source.is_file():
        raise CompareError(f"{source}: no such file. Give the path of the document to add.")
    if not CITY_RE.match(city):
        raise CompareError(
            f"{source}: the city slug {city!r} is not valid; 'city' must be lowercase ASCII letters, "
            "digits or _ (for example lanzhou), the same for all of a city's documents."
        )
    docs = load_registry(paths, allow_empty=True) if paths.registry.exists() else []
    data = source.read_bytes()  # read once: what is checked, hashed and copied is the same bytes
    decoded = decode_document(data, source)  # refuses empty, binary and undecodable files before anything is written
    digest = hashlib.sha256(data).hexdigest()
    for d in docs:
        if d.sha256 == digest:
            raise CompareError(
                f"{source}: this file is already registered as {d.doc_id!r} ({d.file}); nothing was added."
            )
    taken = {d.doc_id for d in docs}
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
        "issued_date": issued_date or detected["issued_date"],
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
