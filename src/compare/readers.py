"""Raw file bytes → text, for the formats government websites hand out.

Input: a path under ``data/raw/``. Output: :class:`Decoded` (the text, the encoding that was
detected, and the format). Plain text is decoded as UTF-8 (with or without BOM), UTF-16
(with BOM) or GB18030/GBK, in that order and strictly: a file that is none of these is refused
with the byte offset where decoding failed. Saved web pages, .docx and PDFs with a text layer
are read with maintained libraries (BeautifulSoup, python-docx, pypdf).
"""

from __future__ import annotations

import codecs
import io
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import CompareError
from .patterns import HAN_RE

TEXT_SUFFIXES = {".txt", ".text", ".md"}
HTML_SUFFIXES = {".html", ".htm", ".shtml", ".xhtml"}
SUPPORTED = sorted(TEXT_SUFFIXES | HTML_SUFFIXES | {".docx", ".pdf"})
OLD_WORD = {".doc", ".wps", ".rtf", ".odt"}  # read through LibreOffice when it is installed
SPREADSHEETS = {".xls", ".xlsx", ".xlsm", ".et", ".ods", ".csv"}

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    format: str


def _refuse(path: Path, problem: str, fix: str) -> CompareError:
    return CompareError(f"{path}: {problem}. {fix}")


_GB_FAMILY = ("gb2312", "gbk", "x-gbk", "gb18030", "cp936")


def _declared_codec(declared: str) -> str:
    """The codec to read a declared charset with: GB18030 for the GB family (sites declare gb2312
    and then use GBK characters), '' for UTF-8, an unknown name or none (detect instead)."""
    declared = declared.lower()
    if declared in _GB_FAMILY:
        return "gb18030"
    try:
        name = codecs.lookup(declared).name if declared else ""
    except LookupError:
        return ""
    return "" if name.startswith("utf-8") else name


def decode_bytes(data: bytes, path: Path, declared: str = "") -> tuple[str, str]:
    """Decode a text file, detecting its encoding (or in the encoding a web page `declared`);
    refuse what is not text."""
    if not data.strip():
        raise _refuse(path, "the file is empty", "Check that the download or copy finished.")
    for bom, enc in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(enc), enc
            except UnicodeDecodeError as e:
                offset = e.start + (len(bom) if enc == "utf-8-sig" else 0)  # utf-8-sig counts after its BOM
                raise _refuse(
                    path,
                    f"it starts with a {enc} byte-order mark but byte {offset} of the file is not valid {enc}",
                    "Re-save it as UTF-8.",
                ) from None
    nul = data.find(b"\x00")
    if nul >= 0:
        raise _refuse(
            path,
            f"it looks binary (a NUL byte at offset {nul}), not text",
            f"Give compare the document itself: text, .html, .docx or a PDF with a text layer ({', '.join(SUPPORTED)}).",
        )
    codec = _declared_codec(declared)
    if codec:
        try:
            return data.decode(codec), codec
        except UnicodeDecodeError as e:
            raise _refuse(
                path, f"it declares {declared} but byte {e.start} is not valid {codec.upper()}", "Re-save it as UTF-8."
            ) from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as e:
        utf8_error = e
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as e:
        raise _refuse(
            path,
            f"it is neither UTF-8 (invalid byte at offset {utf8_error.start}) nor GB18030/GBK (invalid byte at offset {e.start})",
            "Open it in an editor and save it as UTF-8.",
        ) from None
    return text, "gb18030"


def _check_text(text: str, path: Path) -> str:
    bad = _CONTROL.search(text)
    if bad and len(_CONTROL.findall(text[:8192])) > 8:
        raise _refuse(
            path,
            f"it contains control characters (first at character {bad.start()}); it looks binary, not text",
            "Give compare the document's text, .html, .docx or PDF.",
        )
    text = _CONTROL.sub("", text)
    if not HAN_RE.search(text):
        raise _refuse(
            path,
            "it contains no Chinese text",
            "Check that this is the policy document and that its text is selectable.",
        )
    return text


def _read_html(data: bytes, path: Path) -> tuple[str, str]:
    from bs4 import BeautifulSoup

    m = re.search(rb"""charset\s*=\s*["']?([A-Za-z0-9_-]+)""", data[:4096], re.I)
    markup, encoding = decode_bytes(data, path, declared=m.group(1).decode("ascii") if m else "")
    soup = BeautifulSoup(markup, "lxml")
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe", "template"]):
        tag.decompose()
    for tag in soup.find_all(
        attrs={
            "class": re.compile(
                r"(?:^|[-_ ])(?:nav|menu|breadcrumb|crumb|footer|header|sidebar|share)(?:$|[-_ ])", re.I
            )
        }
    ):
        tag.decompose()
    # The main text is the block element holding the most Chinese text.
    body = soup.body or soup
    best, best_score = body, 0
    for el in body.find_all(["article", "main", "div", "section", "td"]):
        text = el.get_text("\n")
        score = len(HAN_RE.findall(text))
        # Prefer the innermost block that still holds most of the page's text.
        if score > best_score * 1.0 and score > 0:
            best, best_score = el, score
    candidates = [
        el
        for el in body.find_all(["article", "main", "div", "section", "td"])
        if len(HAN_RE.findall(el.get_text())) >= 0.8 * best_score
    ]
    if candidates:
        best = min(candidates, key=lambda el: len(el.get_text()))
    for br in best.find_all("br"):
        br.replace_with("\n")
    blocks = []
    for el in best.find_all(["p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "tr"]):
        if el.find(["p", "li", "tr"]):
            continue
        cells = [c.get_text(" ", strip=True) for c in el.find_all(["td", "th"])] if el.name == "tr" else []
        blocks.append("\t".join(cells) if cells else el.get_text("", strip=True))
    text = "\n".join(b for b in blocks if b) if blocks else best.get_text("\n")
    return text, encoding


def _read_docx(data: bytes, path: Path) -> str:
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as e:  # python-docx raises several types for a damaged package
        raise _refuse(
            path,
            f"it is not a readable .docx file ({e.__class__.__name__}: {e})",
            "Open it in Word or LibreOffice and save it again as .docx.",
        ) from None
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append("\t".join(cell.text.strip() for cell in row.cells))
    return "\n".join(lines)


def _unspace(page: str) -> str:
    """Undo the space some PDF text layers put between every two characters (“到 2 0 2 5 年”)."""
    lines = []
    for line in page.splitlines():
        chars = len(re.findall(r"\S", line))
        if chars and len(re.findall(r"(?<=\S) (?=\S)", line)) > 0.4 * chars:
            line = re.sub(r"(?<=\S) (?=\S)", "", line)
        lines.append(line)
    return "\n".join(lines)


def _read_pdf(data: bytes, path: Path) -> str:
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    # pypdf logs what it repairs (“EOF marker not found”); a damaged file gets our one message instead.
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError) as e:
        raise _refuse(
            path, f"it is not a readable PDF ({e})", "Check the download, or save the document as text."
        ) from None
    # Text layers often carry NULs and per-character spaces from their font encodings.
    text = "\n\n".join(_unspace(page.replace("\x00", "")) for page in pages)
    if not HAN_RE.search(text):
        raise _refuse(
            path,
            "the PDF has no text layer (it is a scan)",
            "Run OCR on it first (for example ocrmypdf -l chi_sim) or give compare a text version.",
        )
    return text


def _via_libreoffice(data: bytes, path: Path) -> bytes:
    """An old Word or WPS file converted to .docx by LibreOffice (headless), when it is installed."""
    import shutil
    import subprocess
    import tempfile

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        raise _refuse(
            path,
            f"'{path.suffix}' files (old Word or WPS) can only be read through LibreOffice, which is not installed",
            f'Convert it with `soffice --headless --convert-to docx "{path}"` (LibreOffice; or save it as .docx in '
            "Word or WPS) and add the .docx, or install LibreOffice (Debian/Ubuntu: apt install libreoffice-writer) "
            "and run the command again.",
        )
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / f"document{path.suffix.lower()}"
        source.write_bytes(data)
        done = subprocess.run(
            [soffice, "--headless", "--convert-to", "docx", "--outdir", tmp, str(source)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        converted = Path(tmp) / "document.docx"
        if done.returncode != 0 or not converted.exists():
            raise _refuse(
                path,
                f"LibreOffice could not convert it ({(done.stderr or done.stdout).strip()[:200] or 'no output'})",
                "Open it in Word, WPS or LibreOffice and save it as .docx, then add the .docx.",
            )
        return converted.read_bytes()


def read_document(path: Path) -> Decoded:
    """Read one raw document, whatever its format."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise _refuse(
            path, "the file does not exist", "Restore it, or remove its row from data/raw/registry.csv."
        ) from None
    return decode_document(data, path)


def decode_document(data: bytes, path: Path) -> Decoded:
    """The text of a document's bytes; `path` gives the format (its suffix) and names it in errors."""
    suffix = path.suffix.lower()
    if suffix in HTML_SUFFIXES:
        if not data.strip():
            raise _refuse(path, "the file is empty", "Check that the download finished.")
        text, encoding = _read_html(data, path)
        fmt = "html"
    elif suffix == ".docx":
        text, encoding, fmt = _read_docx(data, path), "docx", "docx"
    elif suffix == ".pdf":
        text, encoding, fmt = _read_pdf(data, path), "pdf", "pdf"
    elif suffix in OLD_WORD:
        text, encoding, fmt = _read_docx(_via_libreoffice(data, path), path), suffix[1:], suffix[1:]
    elif suffix in SPREADSHEETS:
        raise _refuse(
            path,
            f"this is a spreadsheet ('{suffix}'), not a policy document",
            "To add many documents listed in a spreadsheet, use `compare add --manifest FILE`; to add a "
            f"document, give its text, .html, .docx or .pdf ({', '.join(SUPPORTED)}).",
        )
    elif suffix in TEXT_SUFFIXES or suffix == "":
        text, encoding = decode_bytes(data, path)
        fmt = "text"
    else:
        raise _refuse(path, f"compare cannot read '{suffix}' files", f"Convert it to one of {', '.join(SUPPORTED)}.")
    return Decoded(_check_text(text, path), encoding, fmt)
