"""Writing outputs atomically and byte-reproducibly.

Input: DataFrames and texts produced by the stages. Output: files under a staging folder
that replaces ``data/processed/`` in one step when the whole build succeeded, so a failed
build leaves the previous outputs exactly as they were. Files whose bytes did not change keep
their old modification time, so ``make`` reruns only the reports whose inputs changed.
"""

from __future__ import annotations

import filecmp
import json
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
    if list_columns:  # pandas calls a list column of only empty lists "list[empty]": say what it holds, always
        meta = json.loads(table.schema.metadata[b"pandas"])
        for c in meta["columns"]:
            if c["name"] in list_columns:
                c["pandas_type"] = "list[unicode]"
        table = table.replace_schema_metadata({**table.schema.metadata, b"pandas": json.dumps(meta).encode()})
    return table


CSV_OPTIONS = {"quoting_style": "needed"}
PARQUET_OPTIONS = {"compression": "zstd", "write_statistics": False}
ROW_GROUP = 1 << 17  # rows per Parquet row group (pinned so pieces make the same file): what the writer buffers


def _csv_ready(table: pa.Table, list_columns: tuple[str, ...]) -> pa.Table:
    import pyarrow.compute as pc

    for col in list_columns:
        i = table.schema.get_field_index(col)
        table = table.set_column(i, col, pc.binary_join(table.column(col), LIST_SEP))
    return table


def csv_bytes(table: pa.Table, list_columns: tuple[str, ...] = ()) -> bytes:
    """CSV by Arrow's writer: header, LF endings, strings always quoted (so an empty string "" and
    a missing value differ), lists joined by '|', floats in their shortest exact form (scores are
    rounded and magnitudes such as 2.3亿 multiplied in decimal, so no noise digits), booleans as
    true/false."""
    import pyarrow as pa
    from pyarrow import csv

    sink = pa.BufferOutputStream()
    csv.write_csv(_csv_ready(table, list_columns), sink, csv.WriteOptions(**CSV_OPTIONS))
    return sink.getvalue().to_pybytes()


def parquet_bytes(table: pa.Table) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, row_group_size=ROW_GROUP, **PARQUET_OPTIONS)
    return sink.getvalue().to_pybytes()


class TableWriter:
    """A table written as it comes, piece by piece (the rows in the order of the pieces), to
    ``NAME.csv`` and ``NAME.parquet`` — streamed to temporary files renamed into place by
    :meth:`close`, so neither the whole table nor its encoded bytes are ever held. The files are
    the bytes :func:`csv_bytes` and :func:`parquet_bytes` give for the whole table: Arrow's CSV
    writer writes the header once, and Parquet row groups are cut every ROW_GROUP rows whatever
    the pieces. Every piece must have the first one's columns and types."""

    def __init__(self, directory: Path, name: str, list_columns: tuple[str, ...] = ()):
        self.paths = [directory / f"{name}.csv", directory / f"{name}.parquet"]
        self.list_columns = list_columns
        self.rows = 0
        self._tmp: list[Path] = []
        self._csv = self._parquet = self._schema = None
        self._pending: list[pa.Table] = []
        self._pending_rows = 0

    def write(self, piece: pd.DataFrame | pa.Table) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq
        from pyarrow import csv

        table = piece if isinstance(piece, pa.Table) else arrow_table(piece, self.list_columns)
        if self._schema is None:
            self._schema = table.schema
            for path in self.paths:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
                os.close(fd)
                self._tmp.append(Path(tmp))
            self._csv = csv.CSVWriter(
                str(self._tmp[0]),
                _csv_ready(table.slice(0, 0), self.list_columns).schema,
                write_options=csv.WriteOptions(**CSV_OPTIONS),
            )
            self._parquet = pq.ParquetWriter(str(self._tmp[1]), self._schema, **PARQUET_OPTIONS)
        elif not table.schema.equals(self._schema, check_metadata=True):  # types, and pandas' metadata
            raise ValueError(f"{self.paths[0].stem}: a piece's columns differ from the first's:\n{table.schema}")
        self._csv.write_table(_csv_ready(table, self.list_columns))
        self.rows += len(table)
        self._pending.append(table)
        self._pending_rows += len(table)
        while self._pending_rows >= ROW_GROUP:
            self._flush(ROW_GROUP)

    def _flush(self, n: int) -> None:
        import pyarrow as pa

        whole = pa.concat_tables(self._pending)
        self._parquet.write_table(whole.slice(0, n).combine_chunks(), row_group_size=ROW_GROUP)
        rest = whole.slice(n)
        self._pending, self._pending_rows = ([rest] if len(rest) else []), len(rest)

    def close(self) -> None:
        """Write what is left and put both files in place."""
        if self._schema is None:
            raise ValueError(f"{self.paths[0].stem}: no piece was written (write an empty table for no rows)")
        if self._pending_rows or not self.rows:
            self._flush(self._pending_rows)
        self._csv.close()
        self._parquet.close()
        for tmp, path in zip(self._tmp, self.paths, strict=True):
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, path)
        self._tmp = []

    def abort(self) -> None:
        for w in (self._csv, self._parquet):
            if w is not None:
                try:
                    w.close()
                except Exception:  # noqa: BLE001 — already failing; the temporary files go below
                    pass
        for tmp in self._tmp:
            tmp.unlink(missing_ok=True)

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self.close()
        else:
            self.abort()
        return False


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
    ...     with TableWriter(tmp, "sections") as w:
    ...         w.write(df)
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
