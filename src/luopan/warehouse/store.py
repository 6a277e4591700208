"""The embedded warehouse: one DuckDB file holding the canonical tables and the load history.

DuckDB is the default backend and the engine ingest runs on. A load is one transaction per
file (all or nothing: a process killed midway leaves the file exactly as before, because DuckDB
rolls back an uncommitted transaction from its write-ahead log on the next open). The load
history table records every batch with its fingerprint, which is what makes loads idempotent
and incremental. Only identifiers from :mod:`luopan.tables` reach SQL text; values are bound.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from luopan.errors import ReadOnlyQueryError, WarehouseError
from luopan.tables import JOIN_KEY_PROBE, TABLES, Table, join_key_sql

__all__ = ["LOADS_TABLE", "QUARANTINE_TABLE", "LoadRecord", "Warehouse", "run_read_only"]

LOADS_TABLE = "_loads"
QUARANTINE_TABLE = "_quarantine"

_LOADS_DDL = f"""
CREATE TABLE IF NOT EXISTS {LOADS_TABLE} (
    batch_id VARCHAR PRIMARY KEY,
    source VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    fingerprint VARCHAR NOT NULL,
    format VARCHAR,
    encoding VARCHAR,
    preset VARCHAR,
    size BIGINT,
    mtime_ns BIGINT,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    rows_read BIGINT NOT NULL,
    rows_loaded BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    duplicate_rows BIGINT NOT NULL,
    tables VARCHAR NOT NULL,
    replaces VARCHAR
)"""

_QUARANTINE_DDL = f"""
CREATE TABLE IF NOT EXISTS {QUARANTINE_TABLE} (
    batch_id VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    line BIGINT,
    table_name VARCHAR,
    column_name VARCHAR,
    header VARCHAR,
    value VARCHAR,
    kind VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    fix VARCHAR
)"""


@dataclass(frozen=True)
class LoadRecord:
    batch_id: str
    source: str
    file: str
    fingerprint: str
    size: int | None
    mtime_ns: int | None


#: latest load per source and file; first file per (source, fingerprint)
_History = tuple[dict[str, dict[str, LoadRecord]], dict[tuple[str, str], str]]


def _migrate_batch_column(con: duckdb.DuckDBPyConnection, table: Table, old: set[str]) -> bool:
    """Rebuild a table written before ``_batch_id`` was computed from the stored ``_batch``.

    Such a table stores ``_batch_id`` as text; its rows are copied, in the caller's
    transaction, into a table of the current declaration with each id turned into its number
    (the columns both declarations have; a column the old one lacks stays NULL). ``old``:
    the table's stored column names. Returns whether the table was rebuilt.
    """
    if "_batch" in old or "_batch_id" not in old:
        return False
    new = f"{table.name}__batch_migration"
    wanted = (*table.column_names, *table.dense_key_names, "_source", "_loaded_at", "_line")
    keep = ", ".join(f'"{c}"' for c in wanted if c in old)
    bad = con.execute(
        f'SELECT _batch_id FROM "{table.name}" '
        "WHERE NOT regexp_full_match(_batch_id, '[0-9a-f]{16}') LIMIT 1"
    ).fetchone()
    if bad is not None:
        raise WarehouseError(
            f"table {table.name}: the stored _batch_id {bad[0]!r} is not 16 hex digits, so the "
            "table cannot be brought to this version of luopan",
            fix="move the warehouse file aside and ingest the sources again",
        )
    h = "CAST(CAST('0x' || _batch_id AS UBIGINT) AS HUGEINT)"
    con.execute(table.ddl(new))
    con.execute(
        f'INSERT INTO "{new}" ({keep}, _batch) SELECT {keep}, '
        f"CAST(CASE WHEN {h} >= {1 << 63} THEN {h} - {1 << 64} ELSE {h} END AS BIGINT) "
        f'FROM "{table.name}"'
    )
    con.execute(f'DROP TABLE "{table.name}"')
    con.execute(f'ALTER TABLE "{new}" RENAME TO "{table.name}"')
    return True


def _add_keys(con: duckdb.DuckDBPyConnection, table: Table, old: set[str], again: bool) -> None:
    """Compute a table's join keys from its IDs, and number its IDs where it stores no
    numbers yet: for a table written before the keys or the numbers existed, and for every
    table with join keys when ``again`` (it was just copied into the current declaration
    with NULL keys, or the engine's ``hash`` changed: see ``_join_key_probe``).

    The rows are copied, in the caller's transaction, into a table of the current
    declaration (DuckDB refuses an ``ALTER TABLE … ADD COLUMN`` and an ``UPDATE`` of the
    same table in one transaction). Join keys are always computed; stored dense numbers
    (``Table.dense_keys``) are copied as they are (they do not depend on the hash), and a
    table without them gets ``dense_rank`` by ID, from 0 (NULL where the ID is NULL).
    ``old``: the stored column names before this open.
    """
    numbered = set(table.dense_key_names) <= old
    if numbered and (not table.join_keys or (not again and set(table.join_key_names) <= old)):
        return
    have = {
        name
        for (name,) in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "AND table_catalog = current_database() AND table_schema = 'main'",
            [table.name],
        ).fetchall()
    }
    wanted = (*table.column_names, "_source", "_batch", "_loaded_at", "_line")
    keep = [f'"{c}"' for c in wanted if c in have]
    keys = [f'"{k}"' for k in (*table.join_key_names, *table.dense_key_names)]
    values = [join_key_sql(c) for _, c in table.join_keys]
    values += [
        f'"{k}"'
        if k in old
        else f'CASE WHEN "{c}" IS NOT NULL THEN CAST(dense_rank() OVER (ORDER BY "{c}") - 1 '
        "AS INTEGER) END"
        for k, c in table.dense_keys
    ]
    new = f"{table.name}__key_migration"
    con.execute(table.ddl(new))
    con.execute(
        f'INSERT INTO "{new}" ({", ".join(keep + keys)}) '
        f'SELECT {", ".join(keep + values)} FROM "{table.name}"'
    )
    con.execute(f'DROP TABLE "{table.name}"')
    con.execute(f'ALTER TABLE "{new}" RENAME TO "{table.name}"')


def _join_key_probe(con: duckdb.DuckDBPyConnection, exists: bool) -> int | None:
    """The running engine's key of ``JOIN_KEY_PROBE`` when the warehouse stores another (or
    none: a new warehouse, or one written before the probe), else None. Not None means every
    stored join key must be computed again (see ``luopan.tables.join_key_sql``)."""
    row = con.execute(f"SELECT {join_key_sql('p')} FROM (SELECT ? AS p)", [JOIN_KEY_PROBE])
    current = int(row.fetchone()[0])  # type: ignore[index]
    if exists and con.execute("SELECT probe FROM _join_key_probe").fetchall() == [(current,)]:
        return None
    return current


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Warehouse:
    """A DuckDB warehouse file opened for writing (one writer at a time)."""

    def __init__(self, path: Path, *, memory_limit: str | None = None) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        config: dict[str, Any] = {"preserve_insertion_order": False}  # readers restore it
        if memory_limit:
            config["memory_limit"] = memory_limit
        try:
            self.con = duckdb.connect(str(path), config=config)
        except duckdb.IOException as exc:
            raise WarehouseError(
                f"{path}: the warehouse is in use by another luopan process ({exc})",
                fix="wait for the running ingest to finish, then retry",
            ) from None
        self._loads: _History | None = None  # the load history, read once: see ``loaded``
        try:
            self.ensure_schema()
        except BaseException:
            self.con.close()
            raise

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def ensure_schema(self) -> None:
        """Create the canonical tables and the bookkeeping tables if missing, in one transaction
        (a process killed while creating them leaves all of them or none)."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            for table in TABLES.values():
                self.con.execute(table.ddl())
            stored = dict(
                self.con.execute(
                    "SELECT table_name, list(column_name) FROM information_schema.columns "
                    "WHERE table_catalog = current_database() AND table_schema = 'main' "
                    "GROUP BY table_name"
                ).fetchall()
            )
            probe = _join_key_probe(self.con, "_join_key_probe" in stored)
            for table in TABLES.values():
                old = set(stored[table.name])
                rebuilt = _migrate_batch_column(self.con, table, old)
                _add_keys(self.con, table, old, rebuilt or probe is not None)
            if probe is not None:
                self.con.execute("CREATE OR REPLACE TABLE _join_key_probe (probe BIGINT)")
                self.con.execute("INSERT INTO _join_key_probe VALUES (?)", [probe])
            self.con.execute(_LOADS_DDL)
            self.con.execute(_QUARANTINE_DDL)
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def loaded(self, source: str) -> dict[str, LoadRecord]:
        """Latest load per file of a source.

        The whole load history is read in one query on first use and kept (a routine ingest
        asks for every file of every source: hundreds of queries, ~1 s on a 300-file
        workspace). The open warehouse is the only writer (DuckDB locks the file), and whoever
        writes ``_loads`` through it calls :meth:`loads_changed` after the commit or rollback.
        """
        return dict(self._history()[0].get(source, {}))

    def fingerprint_seen(self, source: str, fingerprint: str) -> str | None:
        """The file under which this exact content was first loaded for the source."""
        return self._history()[1].get((source, fingerprint))

    def loads_changed(self) -> None:
        """Forget the cached load history (``_loads`` was written)."""
        self._loads = None

    def _history(self) -> _History:
        if self._loads is None:
            rows = self.con.execute(
                f"SELECT batch_id, source, file, fingerprint, size, mtime_ns FROM {LOADS_TABLE} "
                "ORDER BY finished_at, batch_id"
            ).fetchall()
            latest: dict[str, dict[str, LoadRecord]] = {}
            first: dict[tuple[str, str], str] = {}
            for r in rows:
                latest.setdefault(r[1], {})[r[2]] = LoadRecord(*r)
                first.setdefault((r[1], r[3]), r[2])
            self._loads = (latest, first)
        return self._loads

    def row_counts(self) -> dict[str, int]:
        out = {}
        for name in TABLES:
            row = self.con.execute(f'SELECT count(*) FROM "{name}"').fetchone()
            out[name] = int(row[0]) if row else 0
        return out


def run_read_only(path: Path, sql: str, params: list[Any] | None = None) -> duckdb.DuckDBPyRelation:
    """Run one read-only query on the warehouse file.

    The connection is opened read-only with external access disabled (no file reads or writes,
    no ATTACH, no extension installs), and only a single SELECT-like statement is accepted.

    Raises:
        ReadOnlyQueryError: the text is not exactly one read-only query.
        WarehouseError: the warehouse file is missing or cannot be opened.
    """
    if not path.exists():
        raise WarehouseError(f"{path}: no warehouse yet", fix="run `luopan ingest` first")
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise ReadOnlyQueryError(
            f"query failed: {str(exc).splitlines()[0]}",
            fix="check the SQL near the position shown; quote names that are SQL keywords",
        ) from None
    if len(statements) != 1:
        raise ReadOnlyQueryError(
            f"expected exactly one statement, got {len(statements)}",
            fix="pass a single SELECT query",
        )
    allowed = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
    if statements[0].type not in allowed:
        raise ReadOnlyQueryError(
            f"only read-only queries are allowed here, not {statements[0].type.name}",
            fix="write a SELECT (or WITH … SELECT) query; data changes go through `luopan ingest`",
        )
    try:
        con = duckdb.connect(str(path), read_only=True, config={"enable_external_access": False})
    except duckdb.IOException as exc:
        raise WarehouseError(
            f"{path}: cannot open the warehouse read-only ({exc})",
            fix="an ingest is writing right now; retry when it finishes",
        ) from None
    try:
        return con.sql(sql, params=params)
    except duckdb.Error as exc:
        msg = str(exc).splitlines()[0]
        raise ReadOnlyQueryError(f"query failed: {msg}") from None
