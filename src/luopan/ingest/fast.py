"""The fast tier for clean delimited files: read, parse and stage in one DuckDB pass.

The exact path (:func:`luopan.ingest.readers.read_file` into a raw text table, then
:func:`luopan.ingest.stage.build_stage` and its repairs) materialises every row twice, so
that any row can be repaired or quarantined with its raw cells. Most large exports are clean,
and for them that copy is most of the cost. For a CSV/TSV source that feeds one canonical
table row by row, :func:`stage_fast` runs the fast-tier SELECT of
:func:`luopan.ingest.stage.stage_select` straight over ``read_csv`` (every column read as
text: DuckDB's own typed CSV casts are laxer than the exact rules, e.g. they read ``1.5`` as
the integer 2 and ``1_000`` as 1000, so typing stays in the vetted SQL of :mod:`parse`) and
keeps the result only when the file proves clean:

* no rejected record (malformed, truncated or badly encoded line);
* one physical line per record (no quoted newline, no blank line), so ``_line`` is the row
  position plus the header lines (the stage keeps no ``_line`` column: the good-row view of
  :func:`luopan.ingest.load.good_view` adds it from the row id);
* every present cell typed by the fast tier (no value needs the exact rules);
* no contract check failing and no key repeated (:func:`luopan.ingest.checks.count_failures`).

Otherwise it drops what it built and returns ``None``: the whole file then takes the exact
path, which gives every rejected row its reason, line and raw value. Both paths load the same
values for a clean file (tested).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import duckdb

from luopan.errors import LuopanError
from luopan.ingest.checks import count_failures
from luopan.ingest.mapping import ResolvedOutput
from luopan.ingest.readers import FORMATS, RawFile, scan_file
from luopan.ingest.readers import _ordered as ordered
from luopan.ingest.readers.base import _ident
from luopan.ingest.readers.delimited import _read_header, _utf8_source, csv_rejects, csv_relation
from luopan.ingest.stage import Stage, bind, stage_select

__all__ = ["stage_fast"]


def stage_fast(
    path: Path,
    con: duckdb.DuckDBPyConnection,
    *,
    table: str,
    name: str,
    resolve: Callable[[tuple[str, ...]], ResolvedOutput],
    encoding: str | None,
    delimiter: str | None,
    workdir: Path,
    tz: str,
    salt: str,
    now: dt.datetime,
    scan: Callable[[], tuple[str, int]] | None = None,
) -> tuple[RawFile, Stage] | None:
    """Stage a clean CSV/TSV file in one pass, or return ``None`` (see the module docstring).

    Args:
        table: name for the raw table (only reported in the returned ``RawFile``: the fast
            tier keeps no raw copy).
        name: name of the stage temp table to create.
        resolve: binds the source's one output mapping to the file's headers.
        now: local-time 'now' for the future-timestamp check.
        scan: the file's (fingerprint, physical lines), when already being computed.

    Returns:
        The file description and the checked stage, with no error column.
    """
    fmt = FORMATS.get(path.suffix.lower())
    if fmt not in ("csv", "tsv"):
        return None
    if delimiter is None and fmt == "tsv":
        delimiter = "\t"
    _ident(table)
    _ident(name)
    try:
        enc, src, _ = _utf8_source(path, encoding, workdir)
    except (LuopanError, UnicodeError):
        return None  # the exact path raises the error, naming the line
    try:
        raw_headers, header_lines, delim = _read_header(src, delimiter)
        headers = tuple(h.strip() for h in raw_headers)
        out = resolve(headers)
        if len(delim) != 1 or delim in '"\r\n' or out.spec.grouped or out.spec.derive:
            return None
        relation = csv_relation(table, len(raw_headers), header_lines)
        select, _, params = stage_select(out, relation, name=name, tz=tz, salt=salt, lines=False)
        sql = f"CREATE TEMP TABLE {name} AS {select}"
        with ordered(con):  # row order = file order: _line comes from it
            con.execute(sql, {**bind(sql, params), "path": str(src), "delim": delim})
        rejected = csv_rejects(con, table)
    except (LuopanError, duckdb.Error):
        con.execute(f"DROP TABLE IF EXISTS {name}")
        return None  # the exact path reports it
    finally:
        if src != path:
            src.unlink(missing_ok=True)
    fingerprint, physical = scan() if scan is not None else scan_file(path)
    found = con.execute(f"SELECT count(*), coalesce(bit_or(_r), 0) FROM {name}").fetchone()
    rows, untyped = (int(found[0]), int(found[1])) if found else (0, 0)
    if rejected or untyped or physical != header_lines + rows:
        con.execute(f"DROP TABLE {name}")
        return None
    stage = Stage(name, out, {}, params, line_offset=header_lines + 1)
    failing, unique = count_failures(con, stage, batch_tables={}, values={**params, "now": now})
    if any(failing.values()) or not unique:  # a repeated key hash, too: the exact path decides
        con.execute(f"DROP TABLE {name}")
        return None
    stage.keys_unique = True
    raw = RawFile(path, fmt, enc, headers, table, rows, (), fingerprint, tuple(raw_headers))
    return raw, stage
