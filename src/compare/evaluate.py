"""Extracted targets vs a hand-coded gold file: precision, recall, year and comparator accuracy.

Input: the targets and target_mentions tables, the cleaned texts, and a gold CSV coded by
reading the documents (columns and rules: ``tests/gold/CODEBOOK.md``). Output: an
:class:`Evaluation` listing every match, miss and disagreement. A gold row matches an
extracted target of the same document with the same value, range and unit when one of the
gold quotes (first mention or a restatement) covers one of the target's mentions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .clean import fold, normalise_line
from .errors import CompareError

GOLD_COLUMNS = ["doc_id", "quote", "value", "value_max", "unit", "comparator", "year", "year_source", "restated"]


@dataclass
class Evaluation:
    n_gold: int
    n_extracted: int
    matches: list[tuple[dict, dict]] = field(default_factory=list)  # (gold row, target row)
    missed: list[dict] = field(default_factory=list)
    spurious: list[dict] = field(default_factory=list)
    unlocated: list[dict] = field(default_factory=list)  # gold quotes not found in the cleaned text

    @property
    def precision(self) -> float:
        return len(self.matches) / self.n_extracted if self.n_extracted else 1.0

    @property
    def recall(self) -> float:
        return len(self.matches) / self.n_gold if self.n_gold else 1.0

    def _agreement(self, gold_col: str, target_col: str) -> tuple[float, list[tuple[dict, dict]]]:
        wrong = [(g, t) for g, t in self.matches if _norm(g[gold_col]) != _norm(t[target_col])]
        return (1 - len(wrong) / len(self.matches) if self.matches else 1.0), wrong

    @property
    def year_accuracy(self) -> float:
        return self._agreement("year", "year")[0]

    @property
    def comparator_accuracy(self) -> float:
        return self._agreement("comparator", "comparator")[0]

    def _metric_wrong(self) -> list[tuple[dict, dict]]:
        def agrees(g: dict, t: dict) -> bool:
            want = _norm(g.get("metric"))
            return t["metric"] == want if want else t["metric"].startswith("label:")

        return [(g, t) for g, t in self.matches if "metric" in g and not agrees(g, t)]

    @property
    def metric_accuracy(self) -> float | None:
        scored = [g for g, _ in self.matches if "metric" in g]
        return 1 - len(self._metric_wrong()) / len(scored) if scored else None

    def report(self) -> str:
        lines = [
            f"gold targets {self.n_gold}, extracted {self.n_extracted}, matched {len(self.matches)}",
            f"precision {self.precision:.3f}  recall {self.recall:.3f}  "
            f"year accuracy {self.year_accuracy:.3f}  comparator accuracy {self.comparator_accuracy:.3f}"
            + (f"  metric accuracy {self.metric_accuracy:.3f}" if self.metric_accuracy is not None else ""),
        ]
        if self.unlocated:
            lines.append(f"\ngold quotes not found in the cleaned text ({len(self.unlocated)}): fix the gold file")
            lines += [f"  {g['doc_id']}: {g['quote']}" for g in self.unlocated]
        if self.missed:
            lines.append(f"\nmissed (in the gold file, not extracted) ({len(self.missed)}):")
            lines += [f"  {g['doc_id']}: {g['quote']}  [{_fmt(g)}]" for g in self.missed]
        if self.spurious:
            lines.append(f"\nspurious (extracted, not in the gold file) ({len(self.spurious)}):")
            lines += [
                f"  {t['target_id']}: {t['value_text']} {t['label']}  [{_fmt(t)}]  — {t['source_text'][:60]}"
                for t in self.spurious
            ]
        for name, (_, wrong) in (
            ("year", self._agreement("year", "year")),
            ("comparator", self._agreement("comparator", "comparator")),
        ):
            if wrong:
                lines.append(f"\n{name} disagreements ({len(wrong)}):")
                lines += [
                    f"  {g['doc_id']}: {g['quote']}  gold {_norm(g[name]) or '—'} ({g.get('year_source', '')}), "
                    f"extracted {_norm(t[name]) or '—'} ({t.get('year_source', '')})"
                    for g, t in wrong
                ]
        wrong = self._metric_wrong()
        if wrong:
            lines.append(f"\nmetric disagreements ({len(wrong)}):")
            lines += [
                f"  {g['doc_id']}: {g['quote']}  gold {_norm(g['metric']) or '(unmapped)'}, extracted {t['metric']}"
                for g, t in wrong
            ]
        return "\n".join(lines)


def _norm(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _num(v) -> float | None:
    s = _norm(v)
    return float(s) if s else None


def _fmt(row: dict) -> str:
    vmax = _norm(row.get("value_max"))
    return f"{_norm(row['value'])}{'-' + vmax if vmax else ''} {row['unit']} {row['comparator']} {_norm(row['year']) or 'no year'}"


def load_gold(path: Path) -> pd.DataFrame:
    try:
        gold = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise CompareError(
            f"{path}: the gold file does not exist. Pass --gold FILE (format: tests/gold/CODEBOOK.md)."
        ) from None
    missing = [c for c in GOLD_COLUMNS if c not in gold.columns]
    if missing:
        raise CompareError(
            f"{path}: the gold file lacks the column(s) {', '.join(missing)} (format: tests/gold/CODEBOOK.md)."
        )
    for i, row in gold.iterrows():
        try:
            float(row["value"])
        except ValueError:
            raise CompareError(f"{path} line {i + 2}: value {row['value']!r} is not a number.") from None
    return gold


def _positions(text: str, quote: str) -> list[tuple[int, int]]:
    q = fold(normalise_line(quote))
    out, start = [], text.find(q)
    while q and start >= 0:
        out.append((start, start + len(q)))
        start = text.find(q, start + 1)
    return out


def evaluate(targets: pd.DataFrame, mentions: pd.DataFrame, texts: dict[str, str], gold: pd.DataFrame) -> Evaluation:
    docs = sorted(set(gold.doc_id))
    targets = targets[targets.doc_id.isin(docs)]
    folded = {d: fold(texts[d]) for d in docs if d in texts}
    spans_of: dict[str, list[tuple[int, int]]] = {}
    for m in mentions[mentions.doc_id.isin(docs)].itertuples():
        spans_of.setdefault(m.target_id, []).append((m.value_start, m.value_end))
    ev = Evaluation(n_gold=len(gold), n_extracted=len(targets))
    free = {t["target_id"]: t for t in targets.to_dict("records")}
    for g in gold.to_dict("records"):
        text = folded.get(g["doc_id"], "")
        quotes = [g["quote"]] + [q.strip() for q in str(g.get("restated") or "").split(" | ") if q.strip()]
        places = [p for q in quotes for p in _positions(text, q)]
        if not places:
            ev.unlocated.append(g)
        value, vmax = float(g["value"]), _num(g.get("value_max"))
        found = None
        for tid, t in free.items():
            if t["doc_id"] != g["doc_id"] or t["unit"] != g["unit"]:
                continue
            if not math.isclose(float(t["value"]), value, rel_tol=1e-3) or _num(t["value_max"]) != vmax:
                continue
            if any(s < qe and e > qs for s, e in spans_of.get(tid, []) for qs, qe in places):
                found = tid
                break
        if found:
            ev.matches.append((g, free.pop(found)))
        else:
            ev.missed.append(g)
    ev.spurious = list(free.values())
    return ev
