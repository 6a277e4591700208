"""Read a source file (CSV/TSV, xlsx, parquet, JSON lines) or an Arrow table into raw text.

Every reader fills a DuckDB temp table with columns ``c0..c{n-1}`` (VARCHAR, as the user sees the
cells) plus ``_line``, the physical line or sheet row each record came from, so validation can point
at it. Malformed lines become ``Reject`` records instead of failing the load. Headers are read in
Python and never enter SQL; file paths and keys are bound as parameters.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import functools
import hashlib
import re
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from luopan.errors import EncodingError, SourceError
from luopan.ingest.encoding import CHUNK_SIZE, detect_encoding, to_utf8

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
_DELIMITERS = (",", "\t", ";", "|")
_TABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_REEXPORT = "the file looks truncated or a field has an unescaped delimiter; re-export the file"
_NESTED = ("STRUCT", "MAP", "UNION")


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
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_SIZE):
            digest.update(chunk)
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return digest.hexdigest(), lines + (last != b"\n")


scan_file = _fingerprint


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


# ---- CSV / TSV ----------------------------------------------------------------------------


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
    rejects_t, scans_t = f"{table}__rj", f"{table}__rs"
    cols = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(raw_headers))) + "}"
    con.execute(
        f"CREATE TEMP TABLE {_ident(table + '__s')} AS SELECT * FROM read_csv($path, "
        f"header=false, skip={header_lines}, columns={cols}, delim=$delim, quote='\"', "
        f"escape='\"', auto_detect=false, store_rejects=true, rejects_table='{rejects_t}', "
        f"rejects_scan='{scans_t}', max_line_size=16777216, buffer_size=33554432)",
        {"path": str(src), "delim": delim},
    )
    bad = con.execute(
        "SELECT line_byte_position, first(column_idx ORDER BY byte_position), "
        "first(error_type ORDER BY byte_position), first(csv_line), "
        f"first(error_message ORDER BY byte_position) FROM {_ident(rejects_t)} "
        "GROUP BY line_byte_position ORDER BY line_byte_position"
    ).fetchall()
    con.execute(f"DROP TABLE IF EXISTS {_ident(rejects_t)}")
    con.execute(f"DROP TABLE IF EXISTS {_ident(scans_t)}")
    return raw_headers, header_lines, bad


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


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {_ident(table)}").fetchone()
    return int(row[0]) if row else 0


# ---- xlsx ---------------------------------------------------------------------------------


def _cell_text(value: Any) -> str | None:
    """A cell as the user sees it; float cells with ≥16 digits keep their float form."""
    if value is None or value == "":
        return None if value is None else ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        if value.is_integer():
            return repr(value)  # '5.118234567890124e+18': digits already lost, id parser rejects
        return f"{value:.15g}"
    if isinstance(value, dt.datetime):
        if value.microsecond >= 500_000:
            value += dt.timedelta(microseconds=1_000_000 - value.microsecond)
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S")
    return str(value)


def _read_xlsx(
    path: Path, con: duckdb.DuckDBPyConnection, table: str, sheet: str | int | None
) -> RawFile:
    from python_calamine import CalamineWorkbook

    fingerprint = _fingerprint(path)[0]
    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types
        raise SourceError(
            f"{path}: not a readable xlsx workbook ({exc})",
            fix="open it in Excel/WPS and save it again as .xlsx",
        ) from None
    names = list(book.sheet_names)
    key = 0 if sheet is None else sheet
    missing = key not in names if isinstance(key, str) else not 0 <= key < len(names)
    if missing:
        raise SourceError(
            f"{path}: no sheet {key!r}; the workbook has {names}",
            fix="set `sheet:` for this source to one of those names",
        )
    name = names[key] if isinstance(key, int) else key
    grid = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    rows = [(i + 1, [_cell_text(v) for v in r]) for i, r in enumerate(grid)]
    rows = [(n, cells) for n, cells in rows if any(c not in (None, "") for c in cells)]
    if not rows:
        raise SourceError(f"{path}: sheet {name!r} is empty", fix="check the sheet name")
    header_cells = rows[0][1]
    width = max(i + 1 for r in rows for i, c in enumerate(r[1]) if c not in (None, ""))
    raw_headers = tuple(
        (header_cells[i] if i < len(header_cells) else None) or "" for i in range(width)
    )
    data = rows[1:]
    columns = {
        f"c{i}": pa.array([cells[i] if i < len(cells) else None for _, cells in data], pa.string())
        for i in range(width)
    }
    columns["_line"] = pa.array([n for n, _ in data], pa.int64())
    _arrow_to_table(con, pa.table(columns), table)
    headers = tuple(h.strip() for h in raw_headers)
    return RawFile(path, "xlsx", None, headers, table, len(data), (), fingerprint, raw_headers)


# ---- parquet, Arrow -----------------------------------------------------------------------


def _as_text_sql(
    con: duckdb.DuckDBPyConnection, source: str, params: dict[str, Any]
) -> tuple[list[str], str]:
    """Column names of ``source`` and a positional SELECT list casting each column to text."""
    described = con.execute(f"DESCRIBE SELECT * FROM {source}", params).fetchall()
    exprs = []
    for i, (_name, ctype, *_rest) in enumerate(described, start=1):
        nested = ctype.upper().startswith(_NESTED) or ctype.endswith("]")
        exprs.append(
            f"CAST(to_json(#{i}) AS VARCHAR) AS c{i - 1}"
            if nested
            else f"CAST(#{i} AS VARCHAR) AS c{i - 1}"
        )
    return [str(d[0]) for d in described], ", ".join(exprs)


def _read_parquet(path: Path, con: duckdb.DuckDBPyConnection, table: str) -> RawFile:
    fingerprint = _fingerprint(path)[0]
    params = {"path": str(path)}
    try:
        names, select = _as_text_sql(con, "read_parquet($path)", params)
    except duckdb.Error as exc:
        raise SourceError(
            f"{path}: not a readable parquet file ({exc})", fix="re-export the file"
        ) from None
    n = len(names)
    outer = ", ".join(f"c{i}" for i in range(n))
    con.execute(
        f"CREATE TEMP TABLE {_ident(table)} AS SELECT {outer}, _line FROM (SELECT {select}, "
        f"file_row_number + 2 AS _line FROM read_parquet($path, file_row_number=true)) "
        "ORDER BY _line",
        params,
    )
    headers = tuple(h.strip() for h in names)
    return RawFile(
        path, "parquet", None, headers, table, _count(con, table), (), fingerprint, tuple(names)
    )


def _arrow_to_table(con: duckdb.DuckDBPyConnection, data: pa.Table, table: str) -> None:
    view = f"{table}__arrow"
    con.register(view, data)
    try:
        con.execute(f"CREATE TEMP TABLE {_ident(table)} AS SELECT * FROM {_ident(view)}")
    finally:
        con.unregister(view)


def read_arrow(
    data: pa.Table, con: duckdb.DuckDBPyConnection, *, table_name: str, name_for_messages: str
) -> RawFile:
    """Read an Arrow table (e.g. from a database source) into raw text like ``read_file``.

    ``_line`` is the 1-based row number + 1; the fingerprint is sha256 of the Arrow IPC stream.
    """
    _ident(table_name)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, data.schema) as writer:
        writer.write_table(data)
    fingerprint = hashlib.sha256(sink.getvalue()).hexdigest()
    plain = data.rename_columns([f"a{i}" for i in range(data.num_columns)])
    plain = plain.append_column("_rn", pa.array(range(data.num_rows), pa.int64()))
    view = f"{table_name}__arrow"
    con.register(view, plain)
    try:
        names, select = _as_text_sql(con, _ident(view), {})
        select = select.rsplit(", ", 1)[0]  # the last column is _rn
        outer = ", ".join(f"c{i}" for i in range(data.num_columns))
        con.execute(
            f"CREATE TEMP TABLE {_ident(table_name)} AS SELECT {outer}, _line FROM "
            f"(SELECT {select}, _rn + 2 AS _line FROM {_ident(view)}) ORDER BY _line"
        )
    finally:
        con.unregister(view)
    headers = tuple(str(c) for c in data.column_names)
    return RawFile(
        name_for_messages,
        "arrow",
        None,
        tuple(h.strip() for h in headers),
        table_name,
        data.num_rows,
        (),
        fingerprint,
        headers,
    )


# ---- JSON lines ---------------------------------------------------------------------------


def _read_jsonl(
    path: Path, con: duckdb.DuckDBPyConnection, table: str, encoding: str | None, workdir: Path
) -> RawFile:
    """JSON lines, read whole (use parquet for very large exports); objects only."""
    fingerprint = _fingerprint(path)[0]
    enc = encoding or detect_encoding(path)
    src = to_utf8(path, enc, workdir)
    lines_t = f"{table}__lines"
    try:
        con.execute(
            f"CREATE TEMP TABLE {_ident(lines_t)} AS SELECT line, _line, CASE WHEN "
            "json_valid(line) THEN json_type(line) = 'OBJECT' ELSE false END AS ok FROM ("
            "SELECT rtrim(t.line, chr(13)) AS line, t.n AS _line FROM (SELECT "
            "string_split(content, chr(10)) AS l FROM read_text($path)) s, "
            "unnest(s.l) WITH ORDINALITY t(line, n)) u",
            {"path": str(src)},
        )
    finally:
        if src != path:
            src.unlink(missing_ok=True)
    lt = _ident(lines_t)
    bad = con.execute(
        f"SELECT _line, line FROM {lt} WHERE trim(line) <> '' AND NOT ok ORDER BY _line"
    ).fetchall()
    rejects = tuple(
        Reject(int(n), None, f"line {n} is not a JSON object: {_REEXPORT}", raw) for n, raw in bad
    )
    keys = [
        k
        for (k,) in con.execute(
            f"SELECT k FROM (SELECT unnest(json_keys(line)) AS k, _line, "
            f"generate_subscripts(json_keys(line), 1) AS pos FROM {lt} "
            "WHERE ok) GROUP BY k "
            "ORDER BY min(_line), min(pos)"
        ).fetchall()
    ]
    exprs = [
        f"CASE WHEN json_type(m[$k{i}]) IN ('OBJECT', 'ARRAY') THEN CAST(m[$k{i}] AS VARCHAR) "
        f"ELSE m[$k{i}] ->> '$' END AS c{i}"
        for i in range(len(keys))
    ]
    select = ", ".join([*exprs, "_line"])
    con.execute(
        f"CREATE TEMP TABLE {_ident(table)} AS SELECT {select} FROM (SELECT "
        f"CAST(json(line) AS MAP(VARCHAR, JSON)) AS m, _line FROM {lt} WHERE ok) ORDER BY _line",
        {f"k{i}": k for i, k in enumerate(keys)},
    )
    con.execute(f"DROP TABLE {lt}")
    headers = tuple(keys)
    return RawFile(
        path,
        "jsonl",
        enc,
        tuple(h.strip() for h in headers),
        table,
        _count(con, table),
        rejects,
        fingerprint,
        headers,
    )
