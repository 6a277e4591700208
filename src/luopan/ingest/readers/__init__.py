"""Read a source file (CSV/TSV, xlsx, parquet, JSON lines) or an Arrow table into raw text.

Every reader fills a DuckDB temp table with columns ``c0..c{n-1}`` (VARCHAR, as the user sees the
cells) plus ``_line``, the physical line or sheet row each record came from, so validation can point
at it. Malformed lines become ``Reject`` records instead of failing the load. Headers are read in
Python and never enter SQL; file paths and keys are bound as parameters.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import duckdb

from luopan.errors import SourceError
from luopan.ingest.readers.base import RawFile, Reject, _ident, scan_file
from luopan.ingest.readers.delimited import _read_csv
from luopan.ingest.readers.tabular import _read_jsonl, _read_parquet, _read_xlsx, read_arrow

__all__ = ["FORMATS", "RawFile", "Reject", "read_arrow", "read_file", "scan_file"]

FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".parquet": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}


def read_file(
    path: str | Path,
    con: duckdb.DuckDBPyConnection,
    *,
    table: str,
    encoding: str | None = None,
    sheet: str | int | None = None,
    delimiter: str | None = None,
    workdir: Path,
) -> RawFile:
    """Read ``path`` into a new temp table ``table`` of raw text; see the module docstring.

    Raises:
        SourceError: missing file, unsupported extension, empty file or unknown sheet.
        EncodingError: a text file that is neither UTF-8 nor GB18030.
    """
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"{path}: file not found", fix="check the path in luopan.yaml")
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        supported = ", ".join(sorted(FORMATS))
        raise SourceError(
            f"{path}: unsupported file type {path.suffix or '(none)'!r}",
            fix=f"export the data as one of {supported}",
        )
    _ident(table)
    with _ordered(con):
        if fmt in ("csv", "tsv"):
            return _read_csv(path, con, table, encoding, delimiter, Path(workdir), fmt)
        if fmt == "xlsx":
            return _read_xlsx(path, con, table, sheet)
        if fmt == "parquet":
            return _read_parquet(path, con, table)
        return _read_jsonl(path, con, table, encoding, Path(workdir))


@contextlib.contextmanager
def _ordered(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Keep file order while reading (line numbers come from row order), then restore.

    Everything after the read carries ``_line`` explicitly, so the warehouse connection runs
    without insertion order otherwise: DuckDB then writes large inserts in parallel, straight
    to the file.
    """
    row = con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()
    before = bool(row[0]) if row else True
    con.execute("SET preserve_insertion_order = true")
    try:
        yield
    finally:
        if not before:
            con.execute("SET preserve_insertion_order = false")
