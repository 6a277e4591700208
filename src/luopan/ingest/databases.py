"""Read a table or a query of an ERP/CRM database (PostgreSQL, MySQL, MariaDB) as a source.

Every column comes back as text, exactly as a user would read it (``1234.50``, 19-digit IDs,
``2025-11-11 00:00:00``), so the ingest mapping parses databases and CSV exports alike. Rows
stream through a server-side cursor and become Arrow record batches chunk by chunk; queries
run inside a read-only transaction; secrets come only from ``${ENV_VAR}`` references.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import pyarrow as pa

from luopan.config import expand_env
from luopan.errors import OptionalDependencyError, SourceError

__all__ = ["database_fingerprint", "read_database"]

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# scheme → (SQLAlchemy driver name, module that provides the driver)
_DRIVERS: dict[str, tuple[str, str]] = {
    "postgresql": ("postgresql+psycopg", "psycopg"),
    "postgres": ("postgresql+psycopg", "psycopg"),
    "postgresql+psycopg": ("postgresql+psycopg", "psycopg"),
    "mysql": ("mysql+pymysql", "pymysql"),
    "mariadb": ("mysql+pymysql", "pymysql"),
    "mysql+pymysql": ("mysql+pymysql", "pymysql"),
    "mariadb+pymysql": ("mysql+pymysql", "pymysql"),
}
_WHAT = {"psycopg": "reading PostgreSQL sources", "pymysql": "reading MySQL/MariaDB sources"}
# A source query must be one read: DDL in MySQL/MariaDB commits implicitly and would escape
# the read-only transaction, so only statements that start like a query are run.
_QUERY_START = re.compile(r"^\s*(\(\s*)*(select|with|values|table)\b", re.IGNORECASE)
_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/|#[^\n]*", re.DOTALL)
_CONNECT_FIX = (
    "check host, port, database, user and password of the source URL and that the server "
    "accepts connections from this machine; put secrets in environment variables and "
    "reference them as ${DB_PASSWORD}"
)


def read_database(
    url: str,
    *,
    query: str | None = None,
    table: str | None = None,
    schema: str | None = None,
    batch_rows: int = 100_000,
) -> pa.Table:
    """Read one table or one query of a database, every column as text.

    Args:
        url: ``postgresql://user:${PG_PASSWORD}@host:5432/erp``, ``mysql://…`` or
            ``mariadb://…``. ``${NAME}`` is replaced by the environment variable ``NAME``.
        query: the user's own read-only SQL, run as written inside a read-only transaction.
        table: a table or view name, quoted as an identifier (never formatted into SQL).
        schema: the table's schema (PostgreSQL) or database (MySQL/MariaDB).
        batch_rows: rows fetched from the server-side cursor per Arrow record batch.

    Returns:
        A ``pyarrow.Table`` whose columns are all ``string``: integers without ``.0``,
        decimals with their exact scale, timestamps as ``YYYY-MM-DD HH:MM:SS[.ffffff]``
        (with ``+HH:MM`` when the column has a time zone), dates as ``YYYY-MM-DD``, bytes
        as lowercase hex, NULL as null.

    Raises:
        SourceError: a variable is missing, the URL is unsupported, the server cannot be
            reached, the table does not exist or the query fails (password masked).
        OptionalDependencyError: the database driver (extra ``db``) is not installed.
    """
    if (query is None) == (table is None):
        raise SourceError(
            "a database source needs exactly one of 'query' and 'table'",
            fix="give either `table: orders` or `query: SELECT …` for this source",
        )
    if schema is not None and table is None:
        raise SourceError("'schema' applies to a table source only", fix="drop 'schema'")
    if batch_rows < 1:
        raise ValueError(f"batch_rows must be at least 1, got {batch_rows}")
    if query is not None and not _QUERY_START.match(_COMMENTS.sub(" ", query)):
        raise SourceError(
            f"a source query must be a single SELECT (or WITH … SELECT): {_head(query)!r}",
            fix="write a query that only reads; the source database is never changed",
        )

    import sqlalchemy as sa

    sa_url, masked = _parse_url(url)
    password = sa_url.password
    engine = _engine(sa_url)
    try:
        try:
            conn = engine.connect()
        except sa.exc.DBAPIError as exc:
            raise SourceError(
                f"cannot connect to {masked}: {_reason(exc, password)}", fix=_CONNECT_FIX
            ) from None
        with conn:
            try:
                return _read(conn, query=query, table=table, schema=schema, rows=batch_rows)
            except (sa.exc.DBAPIError, conn.dialect.loaded_dbapi.Error) as exc:
                raise _query_error(exc, masked, password, query is not None) from None
    finally:
        engine.dispose()


def database_fingerprint(tbl: pa.Table) -> str:
    """SHA-256 of the table's Arrow IPC stream, so an unchanged source reloads idempotently.

    Chunks are combined first, so the fingerprint does not depend on ``batch_rows``. Row
    order counts: give a source query an ``ORDER BY`` if its database may return rows in a
    different order from one read to the next.
    """
    sink = pa.BufferOutputStream()
    combined = tbl.combine_chunks()
    with pa.ipc.new_stream(sink, combined.schema) as writer:
        for batch in combined.to_batches():
            writer.write_batch(batch)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


# --- URL -------------------------------------------------------------------------------------


def _expand(text: str) -> str:
    return expand_env(text, what="the source URL")


def _parse_url(url: str) -> tuple[Any, str]:
    """Expand ``${VAR}`` references and pick the driver.

    Returns the SQLAlchemy URL and the user's URL with the password shown as ``***``.
    """
    import sqlalchemy as sa

    missing = sorted({n for n in _ENV_REF.findall(url) if n not in os.environ})
    if missing:
        raise SourceError(
            f"the source URL refers to environment variable {', '.join(missing)}, which is not set",
            fix=f"set it before running luopan, e.g. export {missing[0]}=…",
        )
    try:
        # Expand inside the parsed parts, so a password holding '@', '/' or ':' stays whole.
        parsed = sa.engine.make_url(url)
        parsed = parsed.set(
            username=_expand(parsed.username) if parsed.username else parsed.username,
            password=_expand(parsed.password) if parsed.password else parsed.password,
            host=_expand(parsed.host) if parsed.host else parsed.host,
            database=_expand(parsed.database) if parsed.database else parsed.database,
            query={k: _expand(v) if isinstance(v, str) else v for k, v in parsed.query.items()},
        )
    except (sa.exc.ArgumentError, ValueError):
        try:  # e.g. a port given as ${DB_PORT}
            parsed = sa.engine.make_url(_expand(url))
        except (sa.exc.ArgumentError, ValueError):
            raise SourceError(
                f"cannot parse the database URL {_mask_text(url)!r}",
                fix="write it as postgresql://user:${DB_PASSWORD}@host:5432/database "
                "or mysql://user:${DB_PASSWORD}@host:3306/database",
            ) from None
    driver = _DRIVERS.get(parsed.drivername)
    if driver is None:
        raise SourceError(
            f"unsupported database URL scheme {parsed.drivername!r}",
            fix="use postgresql://, mysql:// or mariadb://",
        )
    masked = parsed.render_as_string(hide_password=True)
    parsed = parsed.set(drivername=driver[0])
    if driver[1] == "pymysql" and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed, masked


def _engine(sa_url: Any) -> Any:
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    module = _DRIVERS[sa_url.drivername][1]
    try:
        __import__(module)
    except ImportError:
        raise OptionalDependencyError(_WHAT[module], "db") from None
    # JSON stays as the server's text; NullPool: a source read holds no idle connection.
    return sa.create_engine(sa_url, poolclass=NullPool, json_deserializer=_identity)


def _identity(value: Any) -> Any:
    return value.decode() if isinstance(value, bytes | bytearray) else value


def _mask_text(url: str) -> str:
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


# --- reading ---------------------------------------------------------------------------------


def _read(conn: Any, *, query: str | None, table: str | None, schema: str | None, rows: int):
    """Fetch through the driver's own server-side cursor (psycopg named cursor, PyMySQL
    SSCursor); SQLAlchemy only connects, reflects and quotes. Skipping its Row objects
    makes the read about twice as fast."""
    import sqlalchemy as sa

    postgres = conn.dialect.name == "postgresql"
    conn.exec_driver_sql("SET TRANSACTION READ ONLY" if postgres else "START TRANSACTION READ ONLY")
    try:
        if table is not None:
            inspector = sa.inspect(conn)
            if not (
                inspector.has_table(table, schema=schema) or table in _views(inspector, schema)
            ):
                raise _missing_table(inspector, table, schema)
            stmt = sa.select(sa.text("*")).select_from(sa.table(table, schema=schema))
            sql = str(stmt.compile(dialect=conn.dialect))
        else:
            assert query is not None
            sql = query
        raw = conn.connection.driver_connection
        if postgres:
            cursor = raw.cursor(name=f"luopan_{uuid.uuid4().hex}")
            cursor.itersize = rows
        else:
            import pymysql.cursors

            cursor = raw.cursor(pymysql.cursors.SSCursor)
        with contextlib.closing(cursor):
            cursor.execute(sql)  # no parameters: a '%' in the user's SQL stays a '%'
            names = [d[0] for d in cursor.description or ()]
            duplicated = sorted({n for n in names if names.count(n) > 1})
            if duplicated:
                raise SourceError(
                    f"the query returns column {', '.join(duplicated)} more than once",
                    fix="give each output column its own name with AS",
                )
            schema_ = pa.schema([pa.field(n, pa.string()) for n in names])
            batches = list(_batches(_chunks(cursor, rows), schema_))
        return pa.Table.from_batches(batches, schema=schema_)
    finally:
        with contextlib.suppress(sa.exc.DBAPIError, conn.dialect.loaded_dbapi.Error):
            conn.rollback()  # ends the read-only transaction; a lost connection keeps its error


def _chunks(cursor: Any, rows: int) -> Iterator[Sequence[Any]]:
    while chunk := cursor.fetchmany(rows):  # psycopg ends with [], PyMySQL with ()
        yield chunk


def _views(inspector: Any, schema: str | None) -> list[str]:
    return list(inspector.get_view_names(schema=schema))


def _missing_table(inspector: Any, table: str, schema: str | None) -> SourceError:
    known = sorted(inspector.get_table_names(schema=schema) + _views(inspector, schema))
    where = f" in schema {schema!r}" if schema else ""
    shown = ", ".join(known[:30]) + (" …" if len(known) > 30 else "")
    return SourceError(
        f"table {table!r} does not exist{where}",
        fix=f"use one of: {shown}" if known else "check the schema and the user's privileges",
    )


def _batches(parts: Iterator[Sequence[Any]], schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    width = len(schema)
    for part in parts:
        columns = list(zip(*part, strict=True)) if part else [()] * width
        yield pa.RecordBatch.from_arrays([_column(col) for col in columns], schema=schema)


def _column(values: Sequence[Any]) -> pa.Array:
    """One column of a chunk as Arrow strings; the converter is chosen once per column."""
    kind = next((type(v) for v in values if v is not None), str)
    try:
        if kind is str:
            return pa.array(values, type=pa.string())
        if kind is int:  # Arrow writes integers exactly, and far faster than str()
            return pa.array(values, type=pa.int64()).cast(pa.string())
    except (pa.ArrowException, OverflowError, TypeError):
        pass  # mixed types, or an unsigned BIGINT above 2**63 - 1: value by value below
    convert = _CONVERTERS.get(kind)
    if convert is None or kind in (str, int):
        return pa.array([_text(v) for v in values], type=pa.string())
    return pa.array(
        [None if v is None else convert(v) if type(v) is kind else _text(v) for v in values],
        type=pa.string(),
    )


# --- values as text --------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    if value is None:
        return None
    convert = _CONVERTERS.get(type(value))
    return convert(value) if convert is not None else _fallback(value)


def _timedelta(value: dt.timedelta) -> str:
    """MySQL TIME arrives as a timedelta: show it as ``[-]HH:MM:SS[.ffffff]``."""
    sign = "-" if value < dt.timedelta(0) else ""
    micros = abs(value) // dt.timedelta(microseconds=1)
    seconds, micro = divmod(micros, 1_000_000)
    minutes, sec = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    frac = f".{micro:06d}" if micro else ""
    return f"{sign}{hours:02d}:{minute:02d}:{sec:02d}{frac}"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=_text)


def _fallback(value: Any) -> str:
    for kind, convert in _CONVERTERS.items():
        if isinstance(value, kind):
            return convert(value)
    return str(value)


_CONVERTERS: dict[type, Callable[[Any], str]] = {
    str: lambda v: v,
    bool: lambda v: "true" if v else "false",
    int: str,
    float: repr,
    Decimal: lambda v: format(v, "f"),
    dt.datetime: lambda v: v.isoformat(sep=" "),
    dt.date: lambda v: v.isoformat(),
    dt.time: lambda v: v.isoformat(),
    dt.timedelta: _timedelta,
    bytes: lambda v: v.hex(),
    bytearray: lambda v: v.hex(),
    memoryview: lambda v: v.hex(),
    uuid.UUID: str,
    list: _json,
    dict: _json,
}


# --- errors ----------------------------------------------------------------------------------


def _reason(exc: Any, password: str | None) -> str:
    """The driver's own message, first lines only, with the password scrubbed out."""
    text = str(getattr(exc, "orig", None) or exc).strip()  # SQLAlchemy wraps, drivers don't
    lines = [ln for ln in text.splitlines() if ln.strip()][:3]
    text = " ".join(ln.strip() for ln in lines)
    if password:
        text = text.replace(password, "***")
    return text


def _query_error(exc: Any, masked: str, password: str | None, is_query: bool) -> SourceError:
    reason = _reason(exc, password)
    orig = getattr(exc, "orig", exc)
    sqlstate = getattr(orig, "sqlstate", None)
    code = orig.args[0] if orig is not None and orig.args else None
    if sqlstate == "25006" or code == 1792:  # a write inside the read-only transaction
        return SourceError(
            f"the source query on {masked} tried to change data: {reason}",
            fix="source queries run read-only; keep only the SELECT",
        )
    what = "the source query" if is_query else "reading the table"
    return SourceError(
        f"{what} failed on {masked}: {reason}",
        fix="run the same SQL in a SQL client against this database to see where it fails"
        if is_query
        else "check that the user may SELECT from this table",
    )


def _head(text: str, n: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= n else flat[: n - 1] + "…"
