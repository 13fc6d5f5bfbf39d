"""Synthetic corpora for measuring the pipeline at scale: N documents recombined from the real ones.

The corpora are built by recombining the top-level sections (with their subsections) of the five
real city plans, with a fixed seed, so the same arguments always give the same corpus:

- documents come in provinces of ten; each province has its own template (a real document,
  localised for that province); a section is copied verbatim from the province's template with
  probability COPIED (as cities copy their provincial plan), otherwise it is a section of any
  real document "localised": REWRITTEN of its Chinese characters are replaced by random ones,
  so it keeps numbers, numbering and structure but shares no passage with the others;
- `per_city` documents per city (three by default), so cities have several documents, as real ones do;
- every project also holds the real national plan, the parent of every synthetic document.

`make bench` measures time and memory on them; the cluster tests compare a Dask build with a local one.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

from .config import Paths

SEED = 20261123
COPIED = 0.3
REWRITTEN = 0.4
PROVINCE = 10
DOCS_PER_CITY = 3
# Made from these five city plans only, so that adding documents to the project does not change the
# synthetic corpora (the benchmark's figures stay comparable from run to run).
SOURCE_DOCUMENTS = ("qingyang", "zhongwei", "wuwei", "qinhuangdao", "shangdang")


def real_parts(paths: Paths) -> tuple[list[list[str]], list[str]]:
    """Per real document, its top-level sections as text (heading line to the end of the last
    subsection); and the Chinese characters of the whole corpus (to draw replacements from)."""
    from .pipeline import process_documents
    from .registry import load_registry

    parts, chars = [], []
    docs = [d for d in load_registry(paths) if d.doc_id in SOURCE_DOCUMENTS]
    for r in process_documents(docs, paths, workers=1):
        text = r.text
        top = [s for s in r.parsed.sections if s.level == 1 and s.kind == "body"]
        ends = {}
        for s in r.parsed.sections:
            root = "/".join(s.section_id.split("/")[:2])
            ends[root] = max(ends.get(root, 0), s.char_end)
        parts.append([text[text.rfind("\n", 0, s.char_start) + 1 : ends[s.section_id]].strip() for s in top])
        chars.extend(c for c in text if "\u4e00" <= c <= "\u9fff")
    return parts, chars


def localise(text: str, rng: random.Random, chars: list[str]) -> str:
    return "".join(rng.choice(chars) if "\u4e00" <= c <= "\u9fff" and rng.random() < REWRITTEN else c for c in text)


def synthetic_corpus(
    n: int, parts: list[list[str]], chars: list[str], seed: int = SEED, per_city: int = DOCS_PER_CITY
) -> list[tuple[str, str, str]]:
    """[(doc_id, city, text)] of n documents, `per_city` to a city, the same for the same arguments."""
    docs, templates = [], {}
    for i in range(n):
        rng = random.Random(f"{seed}/{i}")
        province = i // PROVINCE
        if province not in templates:
            p_rng = random.Random(f"{seed}/province/{province}")
            templates[province] = [localise(t, p_rng, chars) for t in parts[province % len(parts)]]
        template = templates[province]
        city = f"s{i // per_city:04d}"
        length, body = rng.randint(5_000, 12_000), []
        while sum(map(len, body)) < length:
            if rng.random() < COPIED:
                body.append(rng.choice(template))
            else:
                body.append(localise(rng.choice(rng.choice(parts)), rng, chars))
        title = f"{city}市关于推进职业教育改革的实施方案（第{i % per_city + 1}号）"
        docs.append((f"{city}-{i % per_city + 1}", city, title + "\n" + "\n".join(body) + "\n"))
    return docs


def write_project(directory: Path, docs: list[tuple[str, str, str]], source: Paths) -> Paths:
    """A project at `directory` (replaced) holding `docs` and `source`'s national plan, with its registry."""
    from .registry import Document, load_registry, sha256_file, write_registry

    if directory.exists():
        shutil.rmtree(directory)
    paths = Paths(directory)
    paths.raw.mkdir(parents=True)
    rows = []
    for i, (doc_id, city, text) in enumerate(docs):
        (paths.raw / f"{doc_id}.txt").write_text(text, encoding="utf-8")
        rows.append(
            Document(
                doc_id=doc_id,
                city=city,
                city_zh=f"{city}市",
                city_en=city.title(),
                province=f"p{i // PROVINCE:03d}省",
                admin_level="prefecture",
                issuer="",
                title=text.split("\n", 1)[0],
                doc_number="",
                issued_date="",
                status="final",
                file=f"{doc_id}.txt",
                sha256=sha256_file(paths.raw / f"{doc_id}.txt"),
            )
        )
    # Every corpus holds the real national plan, the parent every synthetic document implements
    # (lineage aligns each document with it).
    national = next(d for d in load_registry(source) if d.doc_id == "national")
    shutil.copy2(source.raw / national.file, paths.raw / national.file)
    rows.append(national)
    write_registry(paths, rows)
    return paths
