"""Sections → the tasks table: who is responsible for each task, and by when.

Input: a document's cleaned text and its sections. Output: :class:`Task` records, one per
assigned task, from three layouts: 责任单位 / 配合单位 / 完成时限 lines after a task (Zhongwei),
a closing “（责任单位：…）” (Qinhuangdao, Shangdang), and the rows of an attachment task list
(Qingyang 附件2, Wuwei 附件5). Responsible units are split into departments, with shared
prefixes and suffixes written out (“市发展改革委、财政局” → 市发展改革委, 市财政局;
“中宁、海原县人民政府” → 中宁县人民政府, 海原县人民政府), and matched to the department
catalogue (``data/departments.csv``) for cross-city charts.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from .config import PACKAGE_DATA
from .patterns import HAN, TASK_LABEL, TASK_LABELS
from .sections import Section

_LABEL_LINE_RE = re.compile(rf"^({TASK_LABEL})[:：](.*)$", re.M)
_CLOSING_RE = re.compile(r"（(责任单位|牵头单位)[:：]([^（）]*)）\s*$")
_SEPARATORS = re.compile(r"[、，,；;]")
_CONCATENATED = re.compile(r"(?<=[局委办部院府会心室厅行])(?=[市区县][^\s、，])")
_JURISDICTION = re.compile(r"^(?:自治区|市|区|县|省|各)")
_PLACE_LEVEL = re.compile(rf"^([{HAN}]{{2,4}}?)([市县区])")
_UNIT_END = re.compile(r"[局委办部院府会心室厅行校所站队团社]$")
_DEADLINE_RE = re.compile(r"(\d{4})\s*年\s*(?:(\d{1,2})\s*月|(底))?")
_ONGOING_RE = re.compile(r"长期|持续|常态")


@dataclass(frozen=True)
class Department:
    key: str
    zh: str
    en: str
    kind: str  # bureau (takes the jurisdiction of its neighbour), government or institution
    pattern: re.Pattern


@dataclass(slots=True)
class Task:
    section_id: str
    doc_id: str
    lead_units: list[str]
    support_units: list[str]
    deadline: str  # YYYY-MM, YYYY, ongoing, or "" when the document gives none
    deadline_text: str
    char_start: int  # span of the assignment (units and deadline) in the cleaned text
    char_end: int


@lru_cache(maxsize=1)
def departments() -> tuple[Department, ...]:
    with open(PACKAGE_DATA / "departments.csv", encoding="utf-8", newline="") as f:
        return tuple(
            Department(r["key"], r["zh"], r["en"], r["kind"], re.compile(r["pattern"])) for r in csv.DictReader(f)
        )


def department_of(unit: str) -> Department | None:
    """The catalogue department a responsible unit belongs to (None if the catalogue lacks it)."""
    candidates = [unit, _JURISDICTION.sub("", unit)]
    m = _PLACE_LEVEL.match(unit)
    if m:
        candidates.append(unit[m.end() :])
    for candidate in candidates:
        for dept in departments():
            if dept.pattern.match(candidate):
                return dept
    return None


def split_units(text: str) -> list[str]:
    """“市发展改革委、财政局，中宁、海原县人民政府” → the departments, written out in full."""
    text = re.sub(r"等$", "", text.strip().rstrip("。"))
    items: list[str] = []
    for part in _SEPARATORS.split(text):
        items.extend(p.strip() for p in _CONCATENATED.split(part) if p.strip())
    items = [re.sub(r"等$", "", i) for i in items]
    # “中宁、海原县人民政府” and “市、县人民政府教育督导室”: the first item shares the next one's ending.
    for i in range(len(items) - 1):
        item, nxt = items[i], items[i + 1]
        if item in ("市", "县", "区", "省") and nxt[:1] in "市县区省":
            items[i] = item + nxt[1:]
        elif not _UNIT_END.search(item) and len(item) <= 4:
            m = _PLACE_LEVEL.match(nxt)
            if m:
                items[i] = item + nxt[len(m.group(1)) :]
    # “市发展改革委、财政局”: a bare department takes the jurisdiction of the unit before it.
    for i in range(1, len(items)):
        item, level = items[i], items[i - 1][:1]
        if (
            level in ("市", "区", "县")
            and not _JURISDICTION.match(item)
            and any(d.kind == "bureau" and d.pattern.match(item) for d in departments())
        ):
            items[i] = level + item
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)


def parse_deadline(text: str) -> str:
    """完成时限 text → YYYY-MM, YYYY, ongoing, or "" (2021年7月前完成并长期坚持 → 2021-07)."""
    m = _DEADLINE_RE.search(text)
    if m:
        year, month, end_of_year = m.groups()
        if month:
            return f"{year}-{int(month):02d}"
        return f"{year}-12" if end_of_year else year
    return "ongoing" if _ONGOING_RE.search(text) else ""


def extract_tasks(cleaned: str, sections: list[Section]) -> list[Task]:
    tasks: list[Task] = []
    for sec in sections:
        if sec.kind == "task_row":
            fields: dict[str, list[str]] = {"lead": [], "support": [], "deadline": []}
            spans = []
            for header, (cell, start) in sec.cells.items():
                role = next((r for label, r in TASK_LABELS.items() if label[:2] in header), None)
                if role is None and re.search(r"部门|单位", header):
                    role = "lead"
                if role is None and re.search(r"时限|时间", header):
                    role = "deadline"
                if role:
                    fields[role].append(cell)
                    spans.append((start, start + len(cell)))
        elif sec.kind in ("body", "preamble"):
            body = sec.text(cleaned)
            fields = {"lead": [], "support": [], "deadline": []}
            spans = []
            for m in _LABEL_LINE_RE.finditer(body):
                fields[TASK_LABELS[m.group(1)]].append(m.group(2))
                spans.append((sec.char_start + m.start(), sec.char_start + m.end()))
            closing = _CLOSING_RE.search(body)
            if closing and not fields["lead"]:
                fields["lead"].append(closing.group(2))
                spans.append((sec.char_start + closing.start(), sec.char_start + closing.end()))
        else:
            continue
        if not fields["lead"]:
            continue
        deadline_text = "；".join(fields["deadline"])
        tasks.append(
            Task(
                section_id=sec.section_id,
                doc_id=sec.doc_id,
                lead_units=[u for text in fields["lead"] for u in split_units(text)],
                support_units=[u for text in fields["support"] for u in split_units(text)],
                deadline=parse_deadline(deadline_text) if deadline_text else "",
                deadline_text=deadline_text,
                char_start=min(s for s, _ in spans),
                char_end=max(e for _, e in spans),
            )
        )
    return tasks


def department_load(tasks: pd.DataFrame) -> pd.DataFrame:
    """Tasks per catalogue department (responsible and supporting), for a tasks table."""
    counts: dict[tuple[str, str, str], list[int]] = {}
    for row in tasks.itertuples():
        for role, units in ((0, row.lead_units), (1, row.support_units)):
            for unit in dict.fromkeys(department_of(u) or u for u in units):
                key = (
                    (unit.key, unit.zh, unit.en)
                    if isinstance(unit, Department)
                    else (unit, unit, "(not in the catalogue)")
                )
                counts.setdefault(key, [0, 0])[role] += 1
    rows = [(k, zh, en, lead, support) for (k, zh, en), (lead, support) in counts.items()]
    return pd.DataFrame(rows, columns=["department", "department_zh", "department_en", "lead", "support"])


def tasks_frame(docs) -> pd.DataFrame:
    """The tasks table's rows: `docs` are (city, tasks) per document."""
    from .schemas import TASKS

    rows = [
        {
            "section_id": t.section_id,
            "doc_id": t.doc_id,
            "city": city,
            "lead_units": t.lead_units,
            "support_units": t.support_units,
            "deadline": t.deadline,
            "deadline_text": t.deadline_text,
            "char_start": t.char_start,
            "char_end": t.char_end,
        }
        for city, tasks in docs
        for t in tasks
    ]
    return pd.DataFrame(rows, columns=TASKS.columns)
