"""Ingest: read each source file, map, parse, check, and load it as one atomic batch.

For each file: skip it when unchanged (same size and mtime, or the same content fingerprint
already loaded for the source; the fingerprint is hashed in a thread while DuckDB parses). A
clean CSV/TSV feeding one table is staged and checked in one pass (:mod:`luopan.ingest.fast`);
any other file is read into a raw text table, exact duplicate rows are dropped (counted once,
recorded) and every canonical table the source feeds is staged and checked. Then in ONE
transaction replace the rows of the file's previous version (when the file changed), upsert
the good rows by key with lineage, create customers for unknown platform buyers, record the
quarantined rows and the load history. A failure anywhere rolls the whole batch back.
"""

from __future__ import annotations

import datetime as dt
import glob
import json
import os
import tempfile
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from luopan.config import SourceConfig
from luopan.errors import LuopanError
from luopan.ingest.checks import check_stage
from luopan.ingest.fast import stage_fast

# The batch steps are looked up here at call time (the SIGKILL test and the benchmark wrap them).
from luopan.ingest.load import dedupe_raw as _dedupe_raw
from luopan.ingest.load import drop_stages as _drop_stages
from luopan.ingest.load import good_view as _good_view
from luopan.ingest.load import write_quarantine as _write_quarantine
from luopan.ingest.load import write_tables as _write_tables
from luopan.ingest.mapping import ResolvedOutput, resolve_output
from luopan.ingest.quarantine import quarantine_rows
from luopan.ingest.readers import RawFile, read_file, scan_file
from luopan.ingest.stage import Stage, build_stage
from luopan.tables import batch_number
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


FastHit = tuple[RawFile, Stage]  # what the one-pass tier returns for a clean file


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


def ingest_file(
    ws: Workspace, wh: Warehouse, source: SourceConfig, path: Path, *, workdir: Path
) -> FileResult:
    """Load one file of a source as one atomic batch. See the module docstring."""
    rel = str(path.relative_to(ws.root)) if path.is_relative_to(ws.root) else str(path)
    stat = path.stat()
    previous = wh.loaded(source.name).get(rel)
    if previous and previous.size == stat.st_size and previous.mtime_ns == stat.st_mtime_ns:
        return FileResult(source.name, rel, "unchanged", previous.batch_id)
    with ThreadPoolExecutor(1) as pool:  # hashing the bytes overlaps DuckDB's parse
        scan = pool.submit(scan_file, path)
        return _load_file(ws, wh, source, path, rel, stat, scan.result, workdir)


def _load_file(
    ws: Workspace,
    wh: Warehouse,
    source: SourceConfig,
    path: Path,
    rel: str,
    stat: os.stat_result,
    scan: Callable[[], tuple[str, int]],
    workdir: Path,
) -> FileResult:
    """Load a changed file: the one-pass tier when it is clean, else the exact path."""

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

    def fast(con: duckdb.DuckDBPyConnection, table: str, name: str) -> FastHit | None:
        if len(outputs := source.outputs()) != 1:
            return None
        ((out_table, spec),) = outputs.items()
        return stage_fast(
            path,
            con,
            table=table,
            name=name,
            resolve=lambda headers: resolve_output(out_table, spec, headers, where=rel),
            encoding=source.encoding,
            delimiter=source.delimiter,
            workdir=workdir,
            tz=ws.config.timezone,
            salt=ws.salt,
            now=now_local(ws),
            scan=scan,
        )

    return _load_batch(
        ws,
        wh,
        source,
        rel,
        read,
        fingerprint=lambda: scan()[0],
        size=stat.st_size,
        mtime_ns=stat.st_mtime_ns,
        fast=fast,
        once=True,
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

    return _load_batch(
        ws, wh, source, rel, read, fingerprint=lambda: fingerprint, size=None, mtime_ns=None
    )


def _load_batch(
    ws: Workspace,
    wh: Warehouse,
    source: SourceConfig,
    rel: str,
    read: Callable[[duckdb.DuckDBPyConnection, str], RawFile],
    *,
    fingerprint: Callable[[], str],
    size: int | None,
    mtime_ns: int | None,
    fast: Callable[[duckdb.DuckDBPyConnection, str, str], FastHit | None] | None = None,
    once: bool = False,
) -> FileResult:
    """Load one batch; with ``once``, content already loaded for the source is skipped."""
    con = wh.con
    previous = wh.loaded(source.name).get(rel)
    batch = uuid.uuid4().hex[:16]
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    # A clean file is staged and checked in one pass; anything else takes the exact path.
    hit = fast(con, f"raw_{batch}", f"stg_{batch}_0") if fast is not None else None
    digest = fingerprint()  # computed meanwhile
    if once and (seen := wh.fingerprint_seen(source.name, digest)) is not None:
        _drop_stages(con, [hit[1]] if hit is not None else [])
        return FileResult(source.name, rel, "unchanged", message=f"same content as {seen}")
    raw = hit[0] if hit is not None else read(con, f"raw_{batch}")
    stages: list[Stage] = [hit[1]] if hit is not None else []
    try:
        outputs = source.outputs()
        tz = ws.config.timezone
        now = now_local(ws)

        def stage_all() -> dict[str, str]:
            resolved = [
                resolve_output(t, outputs[t], raw.headers, where=rel)
                for t in sorted(outputs, key=TABLE_ORDER.index)
            ]
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

        dups: list[tuple[int, int]] = []
        if hit is not None:  # checked clean: keys unique, so no duplicate row either
            good = {s.table: _good_view(con, s) for s in stages}
        else:
            good = stage_all()
            # Identical rows give identical keys: when one output keyed on file columns has
            # no repeated key, the file has no exact duplicate row; skip the row-hash pass.
            if not any(s.keys_unique and _keyed_on_cells(s.output) for s in stages):
                dups = _dedupe_raw(con, raw)
                if dups:
                    good = stage_all()

        lineage = {
            **_params(stages),
            "source": source.name,
            "batch": batch_number(batch),
            "loaded": started,
        }
        result = FileResult(
            source.name, rel, "loaded", batch, rows_read=raw.rows + len(raw.rejects)
        )
        qrows = [] if hit is not None else quarantine_rows(con, raw, stages, dups)
        con.execute("BEGIN TRANSACTION")
        try:
            replaced = None if previous is None else batch_number(previous.batch_id)
            result.loaded, result.customers_created = _write_tables(
                con, stages, good, lineage, replaces=replaced, tables={*outputs, "customers"}
            )
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
                    digest,
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
            wh.loads_changed()
    finally:
        _drop_stages(con, stages)
        con.execute(f"DROP TABLE IF EXISTS {raw.table}")
    if qrows:
        result.quarantine_file = _write_quarantine(ws, source.name, batch, rel, qrows)
    return result


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
