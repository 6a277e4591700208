"""What every reader returns, and the helpers they share (names, counts, file scans)."""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np

from luopan.ingest.encoding import CHUNK_SIZE

_NEWLINE = ord("\n")

__all__ = ["RawFile", "Reject", "scan_file"]

_TABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_REEXPORT = "the file looks truncated or a field has an unescaped delimiter; re-export the file"


@dataclass(frozen=True)
class Reject:
    """A physical line (or record) that could not be read; ``column`` is 1-based when known."""

    line: int
    column: int | None
    reason: str
    raw: str | None


@dataclass(frozen=True)
class RawFile:
    """A source read into temp table ``table`` (``c0..c{n-1}`` VARCHAR plus ``_line``)."""

    path: Path | str
    format: str
    encoding: str | None
    headers: tuple[str, ...]
    table: str
    rows: int
    rejects: tuple[Reject, ...]
    fingerprint: str
    raw_headers: tuple[str, ...] = ()


def _ident(name: str) -> str:
    if not _TABLE.fullmatch(name):
        raise ValueError(f"not a generated table name: {name!r}")
    return f'"{name}"'


def _fingerprint(path: Path) -> tuple[str, int]:
    """sha256 hex of the file's bytes and its number of physical lines, in one chunked pass.

    Remembered per (path, size, mtime), so the pipeline's unchanged-file check and the reader
    share one pass over the bytes.
    """
    stat = path.stat()
    return _scan(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _scan(path: str, size: int, mtime_ns: int) -> tuple[str, int]:
    digest = hashlib.sha256()
    lines, last = 0, b"\n"
    buffer = bytearray(CHUNK_SIZE)
    view = memoryview(buffer)
    with open(path, "rb") as f:
        while n := f.readinto(buffer):
            chunk = view[:n]
            digest.update(chunk)
            # numpy's vectorised compare counts newlines about twice as fast as bytes.count
            lines += int(np.count_nonzero(np.frombuffer(chunk, np.uint8) == _NEWLINE))
            last = bytes(chunk[-1:])
    return digest.hexdigest(), lines + (last != b"\n")


scan_file = _fingerprint


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {_ident(table)}").fetchone()
    return int(row[0]) if row else 0


scan_file = _fingerprint
