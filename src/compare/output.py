"""Writing outputs atomically and byte-reproducibly.

Input: DataFrames and texts produced by the stages. Output: files under a staging folder
that replaces ``data/processed/`` in one step when the whole build succeeded, so a failed
build leaves the previous outputs exactly as they were. Files whose bytes did not change keep
their old modification time, so ``make`` reruns only the reports whose inputs changed.
"""

from __future__ import annotations

import filecmp
import os
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the table writers import them when they run: atomic writes stay cheap to import
    import pandas as pd
    import pyarrow as pa

LIST_SEP = "|"


@lru_cache(maxsize=1)
def _umask() -> int:
    """The process's umask (read once: reading it means setting it for an instant)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs are ordinary readable files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def arrow_table(df: pd.DataFrame, list_columns: tuple[str, ...] = ()) -> pa.Table:
    """The table as Arrow, list columns typed as lists of strings even when every list is empty."""
    import pyarrow as pa

    table = pa.Table.from_pandas(df, preserve_index=False)
    for col in list_columns:
        i = table.schema.get_field_index(col)
        table = table.set_column(i, col, table.column(col).cast(pa.list_(pa.string())))
    return table


def csv_bytes(table: pa.Table, list_columns: tuple[str, ...] = ()) -> bytes:
    """CSV by Arrow's writer: header, LF endings, strings always quoted (so an empty string "" and
    a missing value differ), lists joined by '|', floats in their shortest exact form (scores are
    rounded and magnitudes such as 2.3亿 multiplied in decimal, so no noise digits), booleans as
    true/false."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyarrow import csv

    for col in list_columns:
        i = table.schema.get_field_index(col)
        table = table.set_column(i, col, pc.binary_join(table.column(col), LIST_SEP))
    sink = pa.BufferOutputStream()
    csv.write_csv(table, sink, csv.WriteOptions(quoting_style="needed"))
    return sink.getvalue().to_pybytes()


def parquet_bytes(table: pa.Table) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", write_statistics=False)
    return sink.getvalue().to_pybytes()


def write_table(df: pd.DataFrame, directory: Path, name: str, list_columns: tuple[str, ...] = ()) -> None:
    table = arrow_table(df, list_columns)
    atomic_write_bytes(directory / f"{name}.csv", csv_bytes(table, list_columns))
    atomic_write_bytes(directory / f"{name}.parquet", parquet_bytes(table))


def _keep_unchanged_mtimes(new: Path, old: Path) -> None:
    for f in new.rglob("*"):
        if not f.is_file():
            continue
        previous = old / f.relative_to(new)
        if previous.is_file() and filecmp.cmp(previous, f, shallow=False):
            st = previous.stat()
            os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))


class StagedDirectory:
    """Build a directory's new contents aside and swap them in only on success.

    >>> with StagedDirectory(paths.processed) as tmp:   # doctest: +SKIP
    ...     write_table(df, tmp, "sections")
    """

    def __init__(self, target: Path):
        self.target = target
        self.tmp = target.with_name(f".{target.name}.staging")
        self.old = target.with_name(f".{target.name}.previous")

    def recover(self) -> None:
        """Undo a swap that a crash interrupted between its two renames."""
        if not self.target.exists() and self.old.exists():
            os.rename(self.old, self.target)
        shutil.rmtree(self.old, ignore_errors=True)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> Path:
        self.recover()
        self.tmp.mkdir(parents=True)
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return False
        if self.target.exists():
            _keep_unchanged_mtimes(self.tmp, self.target)
            os.rename(self.target, self.old)
        os.rename(self.tmp, self.target)
        shutil.rmtree(self.old, ignore_errors=True)
        return False
