"""Excel, Parquet, Arrow (database results) and JSON lines into raw text with line numbers."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from luopan.errors import SourceError
from luopan.ingest.encoding import CHUNK_SIZE, detect_encoding, to_utf8
from luopan.ingest.readers.base import _REEXPORT, RawFile, Reject, _count, _fingerprint, _ident

_NESTED = ("STRUCT", "MAP", "UNION")


def _cell_text(value: Any) -> str | None:
    """A cell as the user sees it; float cells with ≥16 digits keep their float form."""
    if type(value) is str:  # most cells: the common case first
        return value
    if value is None:
        return None
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
    rows: list[tuple[int, list[str | None]]] = []
    for i, r in enumerate(grid):
        cells = [_cell_text(v) for v in r]
        if any(cells):  # None and "" are the only false cells: a blank row is skipped
            rows.append((i + 1, cells))
    if not rows:
        raise SourceError(f"{path}: sheet {name!r} is empty", fix="check the sheet name")
    header_cells = rows[0][1]
    full = max(len(cells) for _, cells in rows)
    columns_of = [[cells[j] if j < len(cells) else None for _, cells in rows] for j in range(full)]
    width = max(j + 1 for j, col in enumerate(columns_of) if any(col))
    raw_headers = tuple(
        (header_cells[i] if i < len(header_cells) else None) or "" for i in range(width)
    )
    columns = {f"c{j}": pa.array(columns_of[j][1:], pa.string()) for j in range(width)}
    columns["_line"] = pa.array([n for n, _ in rows[1:]], pa.int64())
    data = rows[1:]
    _arrow_to_table(con, pa.table(columns), table)
    headers = tuple(h.strip() for h in raw_headers)
    return RawFile(path, "xlsx", None, headers, table, len(data), (), fingerprint, raw_headers)


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


_TEXT_SCHEMA = pa.schema([("line", pa.string()), ("_line", pa.int64())])


def _text_lines(path: Path) -> pa.RecordBatchReader:
    """The lines of a UTF-8 file with their 1-based numbers, streamed in chunks.

    Lines end at LF only; a trailing CR is dropped; after a final LF comes one empty line
    (as ``string_split`` gives). Splitting here is several times faster than DuckDB's
    single-threaded ``unnest(string_split(read_text(…)))`` and holds one chunk at a time.
    """

    def batches() -> Iterator[pa.RecordBatch]:
        first, rest = 1, b""
        with path.open("rb") as f:
            while True:
                chunk = f.read(CHUNK_SIZE)
                parts = (rest + chunk).split(b"\n")
                if chunk:
                    rest = parts.pop()  # the unfinished line continues in the next chunk
                if parts:
                    lines = [p.decode("utf-8").rstrip("\r") for p in parts]
                    numbers = pa.array(range(first, first + len(lines)), pa.int64())
                    yield pa.record_batch([pa.array(lines, pa.string()), numbers], _TEXT_SCHEMA)
                    first += len(lines)
                if not chunk:
                    return

    return pa.RecordBatchReader.from_batches(_TEXT_SCHEMA, batches())


def _read_jsonl(
    path: Path, con: duckdb.DuckDBPyConnection, table: str, encoding: str | None, workdir: Path
) -> RawFile:
    """JSON lines, read whole (use parquet for very large exports); objects only."""
    fingerprint = _fingerprint(path)[0]
    enc = encoding or detect_encoding(path)
    src = to_utf8(path, enc, workdir)
    lines_t = f"{table}__lines"
    view = f"{table}__text"
    try:
        con.register(view, _text_lines(src))
        con.execute(
            f"CREATE TEMP TABLE {_ident(lines_t)} AS SELECT line, _line, CASE WHEN "
            "json_valid(line) THEN json_type(line) = 'OBJECT' ELSE false END AS ok "
            f"FROM {_ident(view)}"
        )
    finally:
        con.unregister(view)
        if src != path:
            src.unlink(missing_ok=True)
    lt = _ident(lines_t)
    bad = con.execute(
        f"SELECT _line, line FROM {lt} WHERE NOT ok AND trim(line) <> '' ORDER BY _line"
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
