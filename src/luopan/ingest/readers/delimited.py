"""CSV/TSV: decode to UTF-8 when needed, read with DuckDB, number every record's physical line."""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from luopan.errors import EncodingError, SourceError
from luopan.ingest.encoding import CHUNK_SIZE, detect_encoding, to_utf8
from luopan.ingest.readers.base import _REEXPORT, RawFile, Reject, _count, _fingerprint, _ident

_DELIMITERS = (",", "\t", ";", "|")


def _sniff_delimiter(first_line: str) -> str:
    unquoted = re.sub(r'"[^"]*"', "", first_line)
    counts = {d: unquoted.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_header(path: Path, delimiter: str | None) -> tuple[list[str], int, str]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        first = f.readline()
        if not first.strip():
            raise SourceError(
                f"{path}: the file is empty or its first line is blank",
                fix="put the column headers on line 1 and re-export",
            )
        delim = delimiter or _sniff_delimiter(first)
        f.seek(0)
        reader = csv.reader(f, delimiter=delim, quotechar='"', doublequote=True, strict=False)
        header = next(reader)
        return header, reader.line_num, delim


def _lines_at(path: Path, offsets: Sequence[int]) -> list[int]:
    """1-based line numbers of sorted byte ``offsets``, in one streaming pass."""
    result: list[int] = []
    line, pos, i = 1, 0, 0
    with path.open("rb") as f:
        while i < len(offsets):
            chunk = f.read(CHUNK_SIZE)
            while i < len(offsets) and (offsets[i] < pos + len(chunk) or not chunk):
                result.append(line + chunk.count(b"\n", 0, max(offsets[i] - pos, 0)))
                i += 1
            if not chunk:
                break
            line += chunk.count(b"\n")
            pos += len(chunk)
    return result


def _blank_lines(path: Path) -> list[int]:
    """Line numbers of empty lines (DuckDB skips them in multi-column files)."""
    found: list[int] = []
    line, prev = 1, b""
    with path.open("rb") as f:
        while chunk := f.read(CHUNK_SIZE):
            data = prev + chunk
            start_line = line - prev.count(b"\n")
            for m in re.finditer(rb"\n(?=\r?\n)", data):
                n = start_line + data.count(b"\n", 0, m.start()) + 1
                if not found or found[-1] != n:
                    found.append(n)
            line += chunk.count(b"\n")
            prev = chunk[-2:]
    return found


def _csv_reject(
    line: int, col: int | None, etype: str, raw: str | None, msg: str, n: int
) -> Reject:
    # DuckDB's csv_line may carry the line break before or after the record (seen with CRLF
    # files); it is not part of the record, and counting it would shift the lines after it.
    raw = raw.strip("\r\n") if raw is not None else None
    if etype in ("MISSING COLUMNS", "TOO MANY COLUMNS"):
        m = re.search(r"Found:\s*(\d+)", msg)
        found = m.group(1) if m else ("fewer" if etype == "MISSING COLUMNS" else "more")
        reason = f"line {line} has {found} fields, expected {n}: {_REEXPORT}"
        return Reject(line, None, reason, raw)
    if etype == "UNQUOTED VALUE":
        reason = (
            f"line {line}, field {col}: a quoted field is never closed (unterminated "
            f'quote "); {_REEXPORT}'
        )
        return Reject(line, col, reason, raw)
    return Reject(line, col, f"line {line}, field {col}: {msg}; re-export the file", raw)


def _utf8_source(path: Path, encoding: str | None, workdir: Path) -> tuple[str, Path, bool]:
    """``(encoding, UTF-8 file for DuckDB, optimistic)``; optimistic means only the head was
    checked and DuckDB's own UTF-8 validation must confirm the rest."""
    if encoding is not None:
        return encoding, to_utf8(path, encoding, workdir), False
    with path.open("rb") as f:
        head = f.read(1 << 20)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        try:
            return "gb18030", to_utf8(path, "gb18030", workdir), False
        except EncodingError:
            enc = detect_encoding(path)  # charset-normalizer, or the error naming the line
            return enc, to_utf8(path, enc, workdir), False
    return ("utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"), path, True


def _load_csv(
    con: duckdb.DuckDBPyConnection, src: Path, table: str, delimiter: str | None
) -> tuple[list[str], int, list[tuple[Any, ...]]]:
    """Stage ``src`` into ``{table}__s``; returns raw headers, header lines and reject rows."""
    raw_headers, header_lines, delim = _read_header(src, delimiter)
    if len(delim) != 1 or delim in '"\r\n':
        raise SourceError(f"{src}: invalid delimiter {delim!r}", fix="use one of , ; | or a tab")
    relation = csv_relation(table, len(raw_headers), header_lines)
    con.execute(
        f"CREATE TEMP TABLE {_ident(table + '__s')} AS SELECT * FROM {relation}",
        {"path": str(src), "delim": delim},
    )
    return raw_headers, header_lines, csv_rejects(con, table)


def csv_relation(table: str, n: int, header_lines: int) -> str:
    """``read_csv`` of ``n`` raw text columns ``c0..`` (binds ``$path``, ``$delim``); rejected
    lines go to the tables that :func:`csv_rejects` reads for ``table``."""
    rejects_t, scans_t = _ident(f"{table}__rj").strip('"'), _ident(f"{table}__rs").strip('"')
    cols = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(n)) + "}"
    return (
        f"read_csv($path, header=false, skip={int(header_lines)}, columns={cols}, delim=$delim, "
        f"quote='\"', escape='\"', auto_detect=false, store_rejects=true, "
        f"rejects_table='{rejects_t}', rejects_scan='{scans_t}', max_line_size=16777216, "
        "buffer_size=33554432)"
    )


def csv_rejects(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[Any, ...]]:
    """One row per rejected record of the last :func:`csv_relation` read (then dropped):
    byte position of its line, column, error type, line text, message."""
    rejects_t, scans_t = _ident(f"{table}__rj"), _ident(f"{table}__rs")
    bad = con.execute(
        "SELECT line_byte_position, first(column_idx ORDER BY byte_position), "
        "first(error_type ORDER BY byte_position), first(csv_line), "
        f"first(error_message ORDER BY byte_position) FROM {rejects_t} "
        "GROUP BY line_byte_position ORDER BY line_byte_position"
    ).fetchall()
    con.execute(f"DROP TABLE IF EXISTS {rejects_t}")
    con.execute(f"DROP TABLE IF EXISTS {scans_t}")
    return bad


def _read_csv(
    path: Path,
    con: duckdb.DuckDBPyConnection,
    table: str,
    encoding: str | None,
    delimiter: str | None,
    workdir: Path,
    fmt: str,
) -> RawFile:
    if delimiter is None and fmt == "tsv":
        delimiter = "\t"
    with ThreadPoolExecutor(1) as pool:  # hashing overlaps with DuckDB's parse
        scan = pool.submit(_fingerprint, path)
        enc, src, optimistic = _utf8_source(path, encoding, workdir)
        try:
            raw_headers, header_lines, bad = _load_csv(con, src, table, delimiter)
            if optimistic and any(b[2] == "INVALID ENCODING" for b in bad):
                con.execute(f"DROP TABLE {_ident(table + '__s')}")
                enc = detect_encoding(path)
                src = to_utf8(path, enc, workdir)
                raw_headers, header_lines, bad = _load_csv(con, src, table, delimiter)
            n = len(raw_headers)
            lines = _lines_at(src, [int(b[0]) for b in bad])
            rejects = tuple(
                _csv_reject(line, b[1], b[2], b[3], b[4], n)
                for line, b in zip(lines, bad, strict=True)
            )
            fingerprint, physical = scan.result()
            staged = _count(con, table + "__s")
            gaps = [(r.line, 1 + (r.raw or "").count("\n")) for r in rejects]
            accounted = header_lines + staged + sum(span for _, span in gaps)
            # Extra physical lines come from quoted newlines or blank lines: find the blanks.
            blanks = _blank_lines(src) if physical > accounted and n > 1 else []
            _number_lines(
                con,
                table + "__s",
                table,
                n,
                header_lines + 1,
                gaps,
                blanks,
                may_span=physical != accounted,
            )
        finally:
            if src != path:
                src.unlink(missing_ok=True)
    headers = tuple(h.strip() for h in raw_headers)
    return RawFile(path, fmt, enc, headers, table, staged, rejects, fingerprint, tuple(raw_headers))


def _number_lines(
    con: duckdb.DuckDBPyConnection,
    staging: str,
    table: str,
    n: int,
    first_line: int,
    gaps: list[tuple[int, int]],
    blanks: list[int],
    *,
    may_span: bool = True,
) -> None:
    """Add ``_line`` to the staged rows (insertion order = file order) and rename to ``table``.

    Row i starts at ``first_line + i + (newlines inside earlier rows) + (gap lines before it)``,
    where gaps are rejected records and blank lines. A blank line inside a quoted field is not
    a gap: such blanks are found from the computed row spans and dropped, then lines recomputed.
    """
    s, t = _ident(staging), _ident(table)
    newlines = " + ".join(
        f"coalesce(length(c{i}) - length(replace(c{i}, chr(10), '')), 0)" for i in range(n)
    )
    has_nl = " OR ".join(f"contains(c{i}, chr(10))" for i in range(n))
    found = (
        con.execute(f"SELECT coalesce(bool_or({has_nl}), false) FROM {s}").fetchone()
        if may_span
        else None
    )
    multiline = bool(found and found[0])
    if not gaps and not blanks and not multiline:
        con.execute(f"ALTER TABLE {s} ADD COLUMN _line BIGINT")
        con.execute(f"UPDATE {s} SET _line = rowid + {first_line}")
        con.execute(f"ALTER TABLE {s} RENAME TO {t}")
        return
    while True:
        _shift_by_gaps(con, s, t, n, first_line, newlines, gaps + [(b, 1) for b in blanks])
        if not (blanks and multiline):
            break
        view = f"{table}__blanks"
        con.register(view, pa.table({"b": pa.array(blanks, pa.int64())}))
        try:
            inside = {
                int(b)
                for (b,) in con.execute(
                    f"SELECT DISTINCT x.b FROM {_ident(view)} x JOIN {t} r "
                    f"ON x.b > r._line AND x.b <= r._line + {newlines}"
                ).fetchall()
            }
        finally:
            con.unregister(view)
        if not inside:
            break
        con.execute(f"DROP TABLE {t}")
        blanks = [b for b in blanks if b not in inside]
    con.execute(f"DROP TABLE {s}")


def _shift_by_gaps(
    con: duckdb.DuckDBPyConnection,
    s: str,
    t: str,
    n: int,
    first_line: int,
    newlines: str,
    gaps: list[tuple[int, int]],
) -> None:
    """Create ``t`` from staged ``s`` with ``_line`` = naive line + gap lines before the row."""
    merged: list[list[int]] = []
    for start, span in sorted(gaps):
        if merged and start <= merged[-1][0] + merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], start + span - merged[-1][0])
        else:
            merged.append([start, span])
    before, pos, cum = 0, [], []
    for start, span in merged:
        pos.append(start - before)  # where the gap sits if earlier gaps were removed
        before += span
        cum.append(before)
    gap_view = t.strip('"') + "__gaps"
    con.register(
        gap_view, pa.table({"p": pa.array(pos, pa.int64()), "w": pa.array(cum, pa.int64())})
    )
    cols = ", ".join(f"r.c{i}" for i in range(n))
    naive = (
        f"{first_line} + rowid + coalesce(sum({newlines}) OVER (ORDER BY rowid ROWS "
        "BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)"
    )
    try:
        con.execute(
            f"CREATE TEMP TABLE {t} AS SELECT {cols}, r._n + coalesce(g.w, 0) AS _line "
            f"FROM (SELECT *, {naive} AS _n FROM {s}) r ASOF LEFT JOIN {_ident(gap_view)} g "
            "ON r._n >= g.p ORDER BY r._n"
        )
    finally:
        con.unregister(gap_view)
