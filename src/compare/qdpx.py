"""REFI-QDA exchange: the coding as a project NVivo, MAXQDA, ATLAS.ti and QualCoder open (.qdpx) and
the codebooks alone (.qdc); a .qdpx coded in one of them read back as a coder's codes.

Input: the processed ``documents`` and ``instrument_units`` tables, the cleaned texts, the codebooks
and the codes imported so far (``data/coding/*.codes.csv``). Output: ``data/coding/compare.qdpx`` (a
zip: ``project.qde`` in the REFI-QDA Project schema, ``urn:QDA-XML:project:1.0``, and each document's
cleaned text in ``Sources/``) and ``data/coding/codebook.qdc`` (``urn:QDA-XML:codebook:1.0``).

In the project every codebook is a top-level code, its types (supply, environment, demand) codes
under it and its codes under those; each document is a text source, each coded unit a selection
at its character offsets, and each code given to it a coding by its user: ``compare rules`` for the
pre-labels, one user per coder, ``adjudicated``. Every GUID is derived from what it names, so the
same build writes the same bytes and a code keeps its GUID from one export to the next — which is
how a project coded elsewhere is read back: its codings' codes are found by GUID (or by name), its
selections matched to the units they cover.
"""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

import pandas as pd

from .codebooks import NONE, Codebook
from .coding import ADJUDICATION, Imported, coder_name, load_units, rule_codes, write_codes
from .config import Paths
from .errors import CompareError
from .output import atomic_write_bytes
from .tables import table

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/compare/refi-qda")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed member dates: the same build gives the same bytes
RULE_USER = "compare rules"
TYPE_COLOURS = {"supply": "#4C72B0", "environment": "#55A868", "demand": "#C44E52", NONE: "#999999"}
COVERS = 0.5  # share of a unit's characters a selection must cover to code the unit


def guid(*parts: str) -> str:
    """A stable GUID for the thing `parts` name (a code, a document, a unit's selection …)."""
    return str(uuid.uuid5(NAMESPACE, "\x1f".join(parts)))


# ---- the codebook tree


def _code_element(tag: str, g: str, name: str, codable: bool, description: str, colour: str = "") -> ET.Element:
    el = ET.Element(tag, {"guid": g, "name": name, "isCodable": "true" if codable else "false"})
    if colour:
        el.set("color", colour)
    if description:
        ET.SubElement(el, "Description").text = description
    return el


def _codes(parent: ET.Element, books: tuple[Codebook, ...], ns: str) -> None:
    """Each codebook → its types → its codes, `none` last, under `parent` (a Codes element)."""
    tag = f"{{{ns}}}Code"
    for book in books:
        top = _code_element(tag, guid("codebook", book.id), f"{book.id} {book.zh}", False, book.description)
        parent.append(top)
        groups: dict[str, ET.Element] = {}
        for t in book.types:
            groups[t.id] = _code_element(
                tag, guid("type", book.id, t.id), f"{t.id} {t.zh}", False, t.definition, TYPE_COLOURS.get(t.id, "")
            )
            top.append(groups[t.id])
        for code in book.codes:
            under = groups.get(code.type, top)
            under.append(
                _code_element(
                    tag,
                    guid("code", book.id, code.id),
                    f"{code.id} {code.zh}",
                    True,
                    f"{code.en}. {code.definition}",
                    TYPE_COLOURS.get(code.type, ""),
                )
            )
        top.append(
            _code_element(
                tag,
                guid("code", book.id, NONE),
                f"{NONE} 无",
                True,
                "No instrument in the unit (docs/coding-rules.md §3).",
                TYPE_COLOURS[NONE],
            )
        )
        # description elements must come before child codes: move them first
        for el in top.iter(tag):
            desc = el.find("Description")
            if desc is not None:
                el.remove(desc)
                desc.tag = f"{{{ns}}}Description"
                el.insert(0, desc)


def _xml(root: ET.Element) -> bytes:
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def codebook_xml(books: tuple[Codebook, ...]) -> bytes:
    """The codebooks as a REFI-QDA codebook (.qdc)."""
    ET.register_namespace("", CODEBOOK_NS)
    root = ET.Element(f"{{{CODEBOOK_NS}}}CodeBook", {"origin": "compare"})
    _codes(ET.SubElement(root, f"{{{CODEBOOK_NS}}}Codes"), books, CODEBOOK_NS)
    return _xml(root)


# ---- the project


def _users(human: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """source → (GUID, name) of the users who coded: the rules, each coder, the adjudication."""
    users = {"rule": (guid("user", "rule"), RULE_USER)}
    for source in sorted(set(human.source)):
        name = source.split(":", 1)[1] if source.startswith("coder:") else ADJUDICATION
        users[source] = (guid("user", source), name)
    return users


def project_xml(paths: Paths, books: tuple[Codebook, ...]) -> tuple[bytes, dict[str, bytes]]:
    """project.qde and the source texts (Sources/GUID.txt → bytes)."""
    P = f"{{{PROJECT_NS}}}"
    ET.register_namespace("", PROJECT_NS)
    documents = table("documents", paths)
    data = load_units(paths)
    rules = rule_codes(data.units, books)
    human = data.human[data.human.framework.isin([b.id for b in books])]
    users = _users(human)
    root = ET.Element(f"{P}Project", {"name": "compare: policy-instrument coding", "origin": "compare"})
    el = ET.SubElement(root, f"{P}Users")
    for g, name in users.values():
        ET.SubElement(el, f"{P}User", {"guid": g, "name": name})
    _codes(ET.SubElement(ET.SubElement(root, f"{P}CodeBook"), f"{P}Codes"), books, PROJECT_NS)
    variables = ET.SubElement(root, f"{P}Variables")
    fields = [("city", "城市"), ("admin_level", "行政级别"), ("issued_date", "发布日期"), ("doc_number", "文号")]
    for key, zh in fields:
        ET.SubElement(
            variables, f"{P}Variable", {"guid": guid("variable", key), "name": f"{key} {zh}", "typeOfVariable": "Text"}
        )

    def variable_values(parent: ET.Element, doc) -> None:
        for key, _ in fields:
            value = str(getattr(doc, key) or "")
            if value:
                vv = ET.SubElement(parent, f"{P}VariableValue")
                ET.SubElement(vv, f"{P}VariableRef", {"targetGUID": guid("variable", key)})
                ET.SubElement(vv, f"{P}TextValue").text = value

    cases = ET.SubElement(root, f"{P}Cases")
    for city, docs in documents.groupby("city", sort=True):
        case = ET.SubElement(cases, f"{P}Case", {"guid": guid("case", city), "name": str(docs.iloc[0].city_zh)})
        for doc in docs.itertuples():
            ET.SubElement(case, f"{P}SourceRef", {"targetGUID": guid("source", doc.doc_id)})
    sources = ET.SubElement(root, f"{P}Sources")
    files: dict[str, bytes] = {}
    codings = {b.id: rules[b.id] for b in books}
    by_unit: dict[str, list[tuple[str, str, str]]] = {}  # unit → (source, framework, code)
    for b in books:
        for unit, code in codings[b.id].items():
            by_unit.setdefault(unit, []).append(("rule", b.id, code))
    for h in human.itertuples():
        by_unit.setdefault(h.unit_id, []).append((h.source, h.framework, h.code))
    units = data.units.sort_values(["doc_id", "char_start"])
    known = {b.id: set(b.code_ids) for b in books}
    for doc in documents.sort_values("doc_id").itertuples():
        text = (paths.text / f"{doc.doc_id}.txt").read_text(encoding="utf-8")
        source_guid = guid("source", doc.doc_id)
        files[f"{source_guid}.txt"] = text.encode("utf-8")
        src = ET.SubElement(
            sources,
            f"{P}TextSource",
            {
                "guid": source_guid,
                "name": f"{doc.doc_id} {doc.title}",
                "plainTextPath": f"internal://{source_guid}.txt",
            },
        )
        ET.SubElement(src, f"{P}Description").text = f"{doc.city_zh} {doc.doc_number} {doc.issued_date}".strip()
        for u in units[units.doc_id == doc.doc_id].itertuples():
            given = [(s, f, c) for s, f, c in by_unit.get(u.unit_id, []) if c in known[f]]
            if not given:
                continue
            sel = ET.SubElement(
                src,
                f"{P}PlainTextSelection",
                {
                    "guid": guid("selection", u.unit_id),
                    "name": u.unit_id,
                    "startPosition": str(u.char_start),
                    "endPosition": str(u.char_end),
                },
            )
            for source, framework, code in sorted(given):
                coding = ET.SubElement(
                    sel,
                    f"{P}Coding",
                    {"guid": guid("coding", u.unit_id, framework, source), "creatingUser": users[source][0]},
                )
                ET.SubElement(coding, f"{P}CodeRef", {"targetGUID": guid("code", framework, code)})
        variable_values(src, doc)
    return _xml(root), files


def export_project(paths: Paths, books: tuple[Codebook, ...]) -> tuple[Path, Path]:
    """data/coding/compare.qdpx and data/coding/codebook.qdc."""
    project, files = project_xml(paths, books)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in [("project.qde", project), *((f"Sources/{k}", v) for k, v in sorted(files.items()))]:
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    out, qdc = paths.coding / "compare.qdpx", paths.coding / "codebook.qdc"
    atomic_write_bytes(out, buf.getvalue())
    atomic_write_bytes(qdc, codebook_xml(books))
    return out, qdc


# ---- reading a project back


@dataclass(frozen=True)
class _Selection:
    source: str  # the source's GUID
    start: int
    end: int
    user: str  # the creating user's GUID
    code: str  # the code's GUID


def _read_project(path: Path) -> tuple[ET.Element, zipfile.ZipFile]:
    try:
        z = zipfile.ZipFile(path)
        root = ET.fromstring(z.read("project.qde"))
    except FileNotFoundError:
        raise CompareError(f"{path}: no such file.") from None
    except (zipfile.BadZipFile, KeyError, ET.ParseError) as e:
        raise CompareError(
            f"{path}: not a REFI-QDA project ({type(e).__name__}: a .qdpx is a zip holding project.qde). "
            "Export it again from NVivo, MAXQDA or ATLAS.ti with File → Export → REFI-QDA project."
        ) from None
    if root.tag != f"{{{PROJECT_NS}}}Project":
        raise CompareError(f"{path}: project.qde is not a REFI-QDA project (root {root.tag}).")
    return root, z


def _slug(name: str) -> str:
    """A QDA program's user name as a coder name: Wang Li → Wang_Li."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name.strip()).strip("_.-")[:40]


def _codes_in(root: ET.Element, books: tuple[Codebook, ...]) -> dict[str, tuple[str, str]]:
    """code GUID → (codebook, code) for the project's codes: by the GUIDs compare gives them, else by
    name (`code_id …` under a top-level code named `codebook_id …`), so codes recreated by hand count."""
    P = f"{{{PROJECT_NS}}}"
    out = {guid("code", b.id, c): (b.id, c) for b in books for c in b.code_ids}
    ids = {b.id: set(b.code_ids) for b in books}
    codes = root.find(f"{P}CodeBook/{P}Codes")
    for top in codes.findall(f"{P}Code") if codes is not None else []:
        book = top.get("name", "").split(" ")[0]
        if book not in ids:
            continue
        for el in top.iter(f"{P}Code"):
            code = el.get("name", "").split(" ")[0]
            if code in ids[book]:
                out.setdefault(el.get("guid", ""), (book, code))
    return out


def import_project(paths: Paths, path: Path, books: tuple[Codebook, ...], coder: str | None = None) -> list[Imported]:
    """A .qdpx coded elsewhere → each of its users' codes on the units (the rules' user and unknown
    codes are refused or left out as stated); `coder` renames a single user. A selection codes the
    units it covers at least half of; a unit two codes of one codebook reach from one user is refused."""
    P = f"{{{PROJECT_NS}}}"
    root, z = _read_project(path)
    users = {u.get("guid"): u.get("name") or u.get("id") or "" for u in root.iter(f"{P}User")}
    code_of = _codes_in(root, books)
    documents = table("documents", paths)
    source_doc: dict[str, str] = {}
    problems: list[str] = []
    selections: list[_Selection] = []
    for src in root.iter(f"{P}TextSource"):
        g, name = src.get("guid", ""), src.get("name", "")
        doc_id = next((d for d in documents.doc_id if g == guid("source", d)), None)
        if doc_id is None:
            doc_id = next((d for d in documents.doc_id if name.split(" ")[0] == d), None)
        if doc_id is None:
            problems.append(f"source {name!r} is not a document of this project")
            continue
        text = (paths.text / f"{doc_id}.txt").read_text(encoding="utf-8")
        plain = src.get("plainTextPath", "")
        content = src.findtext(f"{P}PlainTextContent")
        if plain.startswith("internal://"):
            member = "Sources/" + plain.removeprefix("internal://")
            try:
                content = z.read(member).decode("utf-8-sig")
            except KeyError:
                problems.append(f"source {name!r}: {member} is missing from the project")
                continue
        if content is not None and content.replace("\r\n", "\n") != text:
            problems.append(
                f"source {name!r}: its text differs from data/processed/text/{doc_id}.txt (the document was "
                "edited in the QDA program, or the build changed since the export); offsets cannot be trusted"
            )
            continue
        source_doc[g] = doc_id
        for sel in src.iter(f"{P}PlainTextSelection"):
            for coding in sel.iter(f"{P}Coding"):
                ref = coding.find(f"{P}CodeRef")
                selections.append(
                    _Selection(
                        g,
                        int(sel.get("startPosition", "0")),
                        int(sel.get("endPosition", "0")),
                        coding.get("creatingUser") or sel.get("creatingUser") or "",
                        ref.get("targetGUID", "") if ref is not None else "",
                    )
                )
    code_names = {c.get("guid"): c.get("name", "") for c in root.iter(f"{P}Code")}
    units = load_units(paths).units
    per_user: dict[str, dict[tuple[str, str], str]] = {}
    for s in selections:
        name = users.get(s.user, "")
        if name == RULE_USER:
            continue  # the rules' pre-labels exported with the project are not a coder's codes
        found = code_of.get(s.code)
        if found is None:
            label = code_names.get(s.code, s.code)
            problems.append(
                f"code {label!r} (used by {name or 'an unnamed user'}) is not a code of {', '.join(b.id for b in books)}"
            )
            continue
        doc_units = units[units.doc_id == source_doc[s.source]]
        overlap = (doc_units.char_end.clip(upper=s.end) - doc_units.char_start.clip(lower=s.start)).clip(lower=0)
        covered = doc_units[overlap >= COVERS * (doc_units.char_end - doc_units.char_start)]
        if covered.empty:
            problems.append(f"a selection at {s.start}–{s.end} of {source_doc[s.source]} covers no coding unit")
            continue
        mine = per_user.setdefault(name, {})
        for uid in covered.unit_id:
            key = (uid, found[0])
            if key in mine and mine[key] != found[1]:
                problems.append(f"unit {uid}: {name} gave it both {mine[key]} and {found[1]} in {found[0]}")
            mine[key] = found[1]
    if coder and len(per_user) > 1:
        problems.append(
            f"--coder {coder}: the project holds the codes of {len(per_user)} users ({', '.join(sorted(per_user))})"
        )
    if problems:
        shown = "; ".join(problems[:8]) + (f"; and {len(problems) - 8} more" if len(problems) > 8 else "")
        raise CompareError(
            f"{path}: not imported — {shown}. Nothing was imported; the codes imported before are unchanged."
        )
    if not per_user:
        raise CompareError(f"{path}: holds no coder's codes (only the rules' pre-labels, or none).")
    out = []
    for name, codes in sorted(per_user.items()):
        who = coder or _slug(name)
        kind = ADJUDICATION if who == ADJUDICATION else "coder"
        if kind == "coder":
            try:
                coder_name(who)
            except CompareError:
                raise CompareError(
                    f"{path}: the user {name!r} makes no coder name; import with --coder NAME."
                ) from None
        frame = pd.DataFrame(
            [(u, f, c) for (u, f), c in sorted(codes.items())], columns=["unit_id", "framework", "code"]
        )
        out.append(write_codes(paths, kind, who, frame))
    return out
