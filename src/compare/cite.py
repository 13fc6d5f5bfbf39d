"""How to cite a result of compare: the package version, the data (which documents, issued when),
and — for a paper — the commit of the checkout that built it.

Input: the ``documents`` table, the package version, and the git checkout when there is one. Output:
the line every site page ends with (version, documents and their dates, a fingerprint of exactly
which raw files: the same line for the same data, so the committed site stays reproducible) and the
full citation ``compare cite`` prints (with the commit, which a committed page cannot carry: the page
would have to name the commit it is part of).
"""

from __future__ import annotations

import hashlib
import html
import subprocess
from dataclasses import dataclass

from . import __version__
from .config import Paths
from .tables import table

REPOSITORY = "compare (research software for comparing Chinese vocational-education policy documents)"


@dataclass(frozen=True)
class DataVersion:
    documents: int
    first_issued: str
    last_issued: str
    fingerprint: str  # the raw files' SHA-256s, hashed in doc_id order: which exact documents


def data_version(paths: Paths | None = None) -> DataVersion:
    """The documents a build holds (read once per version of the documents table: every page's
    footer asks)."""
    path = (paths or Paths()).table("documents", "parquet")
    st = path.stat() if path.exists() else None
    key = (str(path), st.st_mtime_ns, st.st_size) if st else None
    if key not in _VERSIONS:
        _VERSIONS.clear()
        _VERSIONS[key] = _data_version(paths)
    return _VERSIONS[key]


_VERSIONS: dict = {}


def _data_version(paths: Paths | None) -> DataVersion:
    docs = table("documents", paths).sort_values("doc_id")
    dates = sorted(d for d in docs.issued_date if d)
    digest = hashlib.sha256("\n".join(f"{d.doc_id} {d.sha256}" for d in docs.itertuples()).encode()).hexdigest()
    return DataVersion(len(docs), dates[0] if dates else "", dates[-1] if dates else "", digest[:12])


def footer_html(paths: Paths | None = None) -> str:
    """The line under every page: what to cite."""
    v = data_version(paths)
    issued = f", issued {v.first_issued} to {v.last_issued}" if v.first_issued else ""
    return (
        f'<footer class="compare-cite">引用 How to cite: compare {html.escape(__version__)}; data: {v.documents} '
        f"documents{html.escape(issued)} (data fingerprint {v.fingerprint}). Run <code>compare cite</code> in the "
        "checkout for the full reference with its commit; see CITATION.cff.</footer>"
    )


def commit(paths: Paths) -> str:
    """The checkout's commit, marked when files differ from it; '' outside a git checkout."""
    try:
        head = subprocess.run(
            ["git", "-C", str(paths.root), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(paths.root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""
    return head + (" (with uncommitted changes)" if dirty else "")


def citation(paths: Paths) -> str:
    """The reference to put in a paper: plain text and BibTeX."""
    v = data_version(paths)
    c = commit(paths)
    issued = f", issued {v.first_issued} to {v.last_issued}" if v.first_issued else ""
    text = (
        f"compare, version {__version__}"
        + (f", commit {c}" if c else "")
        + f". Data: {v.documents} documents{issued}; data fingerprint {v.fingerprint}."
    )
    bib = (
        "@software{compare,\n"
        f"  title = {{{REPOSITORY}}},\n"
        f"  version = {{{__version__}}},\n"
        + (f"  note = {{commit {c}; data fingerprint {v.fingerprint}, {v.documents} documents}},\n" if c else "")
        + "}"
    )
    return f"{text}\n\n{bib}"
