"""Ingest: read each source file, map, parse, check, and load it as one atomic batch.

For each file: skip it when unchanged (same size and mtime, or the same content fingerprint
already loaded for the source); read it into a raw text table; drop exact duplicate rows
(counted once, recorded); stage and check every canonical table the source feeds; then in ONE
transaction replace the rows of the file's previous version (when the file changed), upsert
the good rows by key with lineage, create customers for unknown platform buyers, record the
quarantined rows and the load history. A failure anywhere rolls the whole batch back.
"""

from __future__ import annotations

import csv
import datetime as dt
import glob
import json
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from luopan.config import SourceConfig
from luopan.errors import LuopanError
from luopan.ingest.mapping import ResolvedOutput, resolve_output
from luopan.ingest.quarantine import QuarantineRow, quarantine_rows
from luopan.ingest.readers import RawFile, read_file, scan_file
from luopan.ingest.stage import Stage, bind, build_stage, check_stage
from luopan.warehouse.store import LOADS_TABLE, QUARANTINE_TABLE, Warehouse
from luopan.workspace import Workspace

__all__ = [
    "FileResult",
    "TABLE_ORDER",
    "ingest_database",
    "ingest_file",
    "ingest_paths",
    "ingest_workspace",
    "now_local",
    "source_files",
]

# Load order so references resolve: a table comes after the tables it points at.
TABLE_ORDER = (
    "stores",
    "products",
    "customers",
    "campaigns",
    "experiments",
    "orders",
    "order_lines",
    "prices",
    "inventory",
    "inventory_events",
    "marketing_spend",
    "assignments",
    "events",
    "mentions",
    "communities",
    "content",
    "tickets",
)


@dataclass
class FileResult:
    """What happened to one file."""

    source: str
    file: str
    status: str  # loaded | unchanged | failed
    batch_id: str | None = None
    rows_read: int = 0
    loaded: dict[str, int] = field(default_factory=dict)
    quarantined: int = 0
    duplicates: int = 0
    customers_created: int = 0
    message: str | None = None
    quarantine_file: Path | None = None


def _order_key(source: SourceConfig) -> int:
    return min(TABLE_ORDER.index(t) for t in source.outputs())


def source_files(ws: Workspace, source: SourceConfig) -> list[Path]:
    """Files matched by a source's path glob, sorted by name."""
    assert source.path is not None
    pattern = source.path if Path(source.path).is_absolute() else str(ws.root / source.path)
    return [Path(p) for p in sorted(glob.glob(pattern)) if Path(p).is_file()]


def now_local(ws: Workspace) -> dt.datetime:
    if ws.config.as_of is not None:
        return ws.config.as_of.replace(tzinfo=None)
    return dt.datetime.now(ZoneInfo(ws.config.timezone)).replace(tzinfo=None)


def _dedupe_raw(con: duckdb.DuckDBPyConnection, raw: RawFile) -> list[tuple[int, int]]:
    """Drop exact duplicate data rows; returns (line, first line) for each dropped row."""
    cols = ", ".join(f'"c{i}"' for i in range(len(raw.headers)))
    row = con.execute(  # GROUP BY runs in parallel; count(DISTINCT) does not
        f"SELECT count(*), (SELECT count(*) FROM (SELECT hash({cols}) AS h FROM {raw.table} "
        f"GROUP BY h)) FROM {raw.table}"
    ).fetchone()
    assert row is not None
    if row[0] == row[1]:
        return []
    dups = con.execute(
        f"""SELECT _line, first_line FROM (
              SELECT _line, min(_line) OVER (PARTITION BY {cols}) AS first_line FROM {raw.table})
            WHERE _line <> first_line ORDER BY _line"""
    ).fetchall()
    if dups:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {raw.table} AS SELECT * FROM {raw.table}
                QUALIFY row_number() OVER (PARTITION BY {cols} ORDER BY _line) = 1
                ORDER BY _line"""
        )
    return [(int(a), int(b)) for a, b in dups]


def _params(stages: list[Stage]) -> dict[str, Any]:
    """Bound values of every stage of the batch (names are unique per stage)."""
    return {k: v for s in stages for k, v in s.params.items()}


def _keyed_on_cells(out: ResolvedOutput) -> bool:
    """True when every key column of the output is parsed from a cell of the row."""
    spec = out.spec
    return not spec.grouped and all(
        k in out.positions and k not in spec.derive and k not in spec.constants
        for k in out.table.key
    )


def _drop_stages(con: duckdb.DuckDBPyConnection, stages: list[Stage]) -> None:
    for stage in stages:
        con.execute(f"DROP VIEW IF EXISTS {stage.name}_good")
        con.execute(f"DROP TABLE IF EXISTS {stage.name}")


def _good_view(con: duckdb.DuckDBPyConnection, stage: Stage) -> str:
    name = f"{stage.name}_good"
    cond = " AND ".join(f'"{c}" IS NULL' for c in stage.error_columns) or "TRUE"
    con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM {stage.name} WHERE {cond}")
    return name


def _upsert(
    con: duckdb.DuckDBPyConnection, stage: Stage, good: str, lineage: dict[str, Any]
) -> int:
    table = stage.output.table
    cols = ", ".join(f'"{c}"' for c in table.column_names)
    keys = " AND ".join(f't."{k}" = g."{k}"' for k in table.key)
    if con.execute(f'SELECT EXISTS (SELECT 1 FROM "{table.name}")').fetchone() == (True,):
        sql = f'DELETE FROM "{table.name}" t WHERE EXISTS (SELECT 1 FROM {good} g WHERE {keys})'
        con.execute(sql, bind(sql, lineage))
    sql = (
        f'INSERT INTO "{table.name}" ({cols}, _source, _batch_id, _loaded_at, _line) '
        f"SELECT {cols}, $source, $batch, $loaded, _line FROM {good}"
    )
    n = con.execute(sql, bind(sql, lineage)).fetchone()
    return int(n[0]) if n else 0


def _create_customers(con: duckdb.DuckDBPyConnection, good: str, lineage: dict[str, Any]) -> int:
    sql = f"""INSERT INTO customers (customer_id, first_seen_at, acquisition_channel,
                                   _source, _batch_id, _loaded_at, _line)
            SELECT customer_id, min(ordered_at), arg_min(channel, ordered_at),
                   $source, $batch, $loaded, min(_line)
            FROM {good} g
            WHERE customer_id IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.customer_id = g.customer_id)
            GROUP BY customer_id"""
    n = con.execute(sql, bind(sql, lineage)).fetchone()
    return int(n[0]) if n else 0


def ingest_file(
    ws: Workspace, wh: Warehouse, source: SourceConfig, path: Path, *, workdir: Path
) -> FileResult:
    """Load one file of a source as one atomic batch. See the module docstring."""
    rel = str(path.relative_to(ws.root)) if path.is_relative_to(ws.root) else str(path)
    stat = path.stat()
    previous = wh.loaded(source.name).get(rel)
    if previous and previous.size == stat.st_size and previous.mtime_ns == stat.st_mtime_ns:
        return FileResult(source.name, rel, "unchanged", previous.batch_id)
    fingerprint = scan_file(path)[0]
    seen = wh.fingerprint_seen(source.name, fingerprint)
    if seen is not None:
        return FileResult(source.name, rel, "unchanged", message=f"same content as {seen}")

    def read(con: duckdb.DuckDBPyConnection, table: str) -> RawFile:
        return read_file(
            path,
            con,
            table=table,
            encoding=source.encoding,
            sheet=source.sheet,
            delimiter=source.delimiter,
            workdir=workdir,
        )

    return _load_batch(
        ws,
        wh,
        source,
        rel,
        read,
        fingerprint=fingerprint,
        size=stat.st_size,
        mtime_ns=stat.st_mtime_ns,
    )


def ingest_database(ws: Workspace, wh: Warehouse, source: SourceConfig) -> FileResult:
    """Load a database table or query as a snapshot: it replaces the previous snapshot."""
    from luopan.ingest.databases import database_fingerprint, read_database
    from luopan.ingest.readers import read_arrow

    assert source.url is not None
    rel = f"{source.name} (database)"
    tbl = read_database(source.url, query=source.query, table=source.db_table)
    fingerprint = database_fingerprint(tbl)
    previous = wh.loaded(source.name).get(rel)
    if previous is not None and previous.fingerprint == fingerprint:
        return FileResult(source.name, rel, "unchanged", previous.batch_id)

    def read(con: duckdb.DuckDBPyConnection, table: str) -> RawFile:
        return read_arrow(tbl, con, table_name=table, name_for_messages=rel)

    return _load_batch(ws, wh, source, rel, read, fingerprint=fingerprint, size=None, mtime_ns=None)


def _load_batch(
    ws: Workspace,
    wh: Warehouse,
    source: SourceConfig,
    rel: str,
    read: Callable[[duckdb.DuckDBPyConnection, str], RawFile],
    *,
    fingerprint: str,
    size: int | None,
    mtime_ns: int | None,
) -> FileResult:
    con = wh.con
    previous = wh.loaded(source.name).get(rel)
    batch = uuid.uuid4().hex[:16]
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    raw = read(con, f"raw_{batch}")
    stages: list[Stage] = []
    try:
        outputs = source.outputs()
        resolved: list[ResolvedOutput] = [
            resolve_output(t, outputs[t], raw.headers, where=rel)
            for t in sorted(outputs, key=TABLE_ORDER.index)
        ]
        tz = ws.config.timezone
        now = now_local(ws)

        def stage_all() -> dict[str, str]:
            _drop_stages(con, stages)
            stages.clear()
            good: dict[str, str] = {}
            for i, out in enumerate(resolved):
                stage = build_stage(
                    con, raw.table, out, name=f"stg_{batch}_{i}", tz=tz, salt=ws.salt
                )
                stages.append(stage)
                check_stage(con, stage, now=now, batch_tables=good, params=_params(stages))
                good[out.table.name] = _good_view(con, stage)
            return good

        good = stage_all()
        dups: list[tuple[int, int]] = []
        # Identical rows give identical keys: when one output keyed on file columns has no
        # repeated key, the file has no exact duplicate row and the row-hash pass is skipped.
        if not any(s.keys_unique and _keyed_on_cells(s.output) for s in stages):
            dups = _dedupe_raw(con, raw)
            if dups:
                good = stage_all()

        lineage = {**_params(stages), "source": source.name, "batch": batch, "loaded": started}
        result = FileResult(
            source.name, rel, "loaded", batch, rows_read=raw.rows + len(raw.rejects)
        )
        qrows = quarantine_rows(con, raw, stages, dups)
        con.execute("BEGIN TRANSACTION")
        try:
            if previous is not None:
                for table in {*outputs, "customers"}:
                    con.execute(f'DELETE FROM "{table}" WHERE _batch_id = ?', [previous.batch_id])
            for stage in stages:
                g = good[stage.table]
                result.loaded[stage.table] = _upsert(con, stage, g, lineage)
                if stage.output.spec.creates_customers and stage.table == "orders":
                    result.customers_created = _create_customers(con, g, lineage)
            if qrows:
                con.executemany(
                    f"INSERT INTO {QUARANTINE_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [[batch, source.name, rel, *q.as_row()] for q in qrows],
                )
            result.quarantined = len({q.line for q in qrows if q.kind != "duplicate_row"})
            result.duplicates = len(dups)
            con.execute(
                f"INSERT INTO {LOADS_TABLE} VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    batch,
                    source.name,
                    rel,
                    fingerprint,
                    raw.format,
                    raw.encoding,
                    source.preset,
                    size,
                    mtime_ns,
                    started,
                    dt.datetime.now(dt.UTC).replace(tzinfo=None),
                    result.rows_read,
                    sum(result.loaded.values()),
                    result.quarantined,
                    result.duplicates,
                    json.dumps({**result.loaded, "customers_created": result.customers_created}),
                    previous.batch_id if previous else None,
                ],
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        _drop_stages(con, stages)
        con.execute(f"DROP TABLE IF EXISTS {raw.table}")
    if qrows:
        result.quarantine_file = _write_quarantine(ws, source.name, batch, rel, qrows)
    return result


def _write_quarantine(
    ws: Workspace, source: str, batch: str, rel: str, qrows: list[QuarantineRow]
) -> Path:
    folder = ws.quarantine_dir / source
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{batch}.csv"
    with out.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "line", "table", "column", "header", "value", "kind", "reason", "fix"])
        for q in qrows:
            w.writerow([rel, q.line, q.table, q.column, q.header, q.value, q.kind, q.reason, q.fix])
    return out


def ingest_workspace(
    ws: Workspace,
    *,
    sources: list[str] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[FileResult]:
    """Ingest the configured sources (all, or the named ones) in reference order."""
    chosen = [ws.config.source(n) for n in sources] if sources else list(ws.config.sources)
    return ingest_paths(ws, chosen, progress=progress)


def ingest_paths(
    ws: Workspace,
    chosen: list[SourceConfig],
    *,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[FileResult]:
    """Ingest the given sources (file globs and databases) in reference order."""
    chosen = sorted(chosen, key=_order_key)
    plan: list[tuple[SourceConfig, Path | None]] = []
    results: list[FileResult] = []
    for s in chosen:
        if s.url is not None:
            plan.append((s, None))
            continue
        files = source_files(ws, s)
        if not files:
            results.append(
                FileResult(s.name, str(s.path), "failed", message=f"no file matches {s.path}")
            )
        plan += [(s, f) for f in files]
    with Warehouse(ws.warehouse_path) as wh, tempfile.TemporaryDirectory() as tmp:
        for n, (source, path) in enumerate(plan):
            if progress:
                progress(f"{source.name}: {path.name if path else 'database'}", n, len(plan))
            results.append(_safe(ws, wh, source, path, Path(tmp)))
        if progress:
            progress("", len(plan), len(plan))
    return results


def _safe(
    ws: Workspace, wh: Warehouse, source: SourceConfig, path: Path | None, tmp: Path
) -> FileResult:
    try:
        if path is None:
            return ingest_database(ws, wh, source)
        return ingest_file(ws, wh, source, path, workdir=tmp)
    except (LuopanError, duckdb.Error, OSError, UnicodeError) as exc:
        if path is None:
            rel = f"{source.name} (database)"
        else:
            rel = str(path.relative_to(ws.root)) if path.is_relative_to(ws.root) else str(path)
        msg = str(exc) if isinstance(exc, LuopanError) else f"{rel}: {exc}"
        return FileResult(source.name, rel, "failed", message=msg)
