"""Serve reads from a private copy of the warehouse so a running refresh never blocks a user.

DuckDB lets one process write a database file and, while it does, no other process may open
it (read-only opens fail with "Could not set lock"). ``luopan run`` and ``luopan ingest`` write
the warehouse in place (see ``luopan.warehouse.store``): changes go to ``<file>.wal`` and reach
the main file at a checkpoint. The server therefore never opens the live file. It copies it
into ``.luopan/snapshots/`` when the file has changed *and* is quiescent — no ``.wal`` beside
it and the same (inode, size, mtime) before and after the copy, which holds only when no writer
checkpointed meanwhile — and opens the copy read-only. A copy whose content version (load
history and row counts) equals the current one is dropped, so a refresh that loaded nothing
new keeps the snapshot and every cache keyed on it. Until a new copy succeeds, requests keep
using the previous snapshot; a snapshot retired while queries still run on it is closed and
deleted when its last user returns it. The copy never takes a lock on the live file, so it
cannot make a writer fail either.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from luopan.errors import WarehouseError

__all__ = ["Snapshot", "Snapshots", "data_version"]

Signature = tuple[int, int, int]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signature(path: Path) -> Signature | None:
    """(inode, size, mtime_ns) of a quiescent warehouse file, None while a writer has a WAL."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    if Path(f"{path}.wal").exists():
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _versions(con: duckdb.DuckDBPyConnection) -> tuple[str, dict[str, str]]:
    """Fingerprints of the warehouse content: one for the whole file, one per table.

    A table's fingerprint is its row count, size and column count with the loads that wrote it
    (``_loads``: every write to a canonical table is a load naming its tables, a replacement
    also names the batch it replaced). A refresh that loaded nothing new (``luopan run`` with
    unchanged exports) keeps every version, so results cached on them stay valid; one that
    loaded only events keeps the versions of every other table (see ``data_version``).
    """
    rows = con.execute(
        "SELECT table_name, estimated_size, column_count FROM duckdb_tables() ORDER BY 1"
    ).fetchall()
    names = {r[0] for r in rows}
    touched: dict[str, list[str]] = {}
    if "_loads" in names:
        loads = con.execute(
            "SELECT batch_id, CAST(finished_at AS VARCHAR), tables, replaces FROM _loads"
        ).fetchall()
        wrote = {batch: _load_tables(tables) for batch, _, tables, _ in loads}
        for batch, finished, _, replaces in sorted(loads, key=lambda r: (r[1], r[0])):
            for table in wrote[batch] | wrote.get(replaces, set()):
                touched.setdefault(table, []).append(f"{batch}@{finished}")
    tables: dict[str, str] = {}
    for name, size, columns in rows:
        count = 0
        if name.isidentifier():  # names come from the catalog of the file, quoted anyway
            got = con.execute(f'SELECT count(*) FROM "{name}"').fetchone()
            count = got[0] if got else 0
        part = f"{name}|{size}|{columns}|{count}|{','.join(touched.get(name, []))}"
        tables[name] = hashlib.sha256(part.encode()).hexdigest()[:16]
    whole = hashlib.sha256(repr(sorted(tables.items())).encode()).hexdigest()[:16]
    return whole, tables


def _load_tables(text: str | None) -> set[str]:
    """The tables a load wrote, from its ``tables`` JSON (``customers_created``: customers)."""
    import json

    try:
        counts = json.loads(text or "{}")
    except ValueError:
        return set()
    out = {str(k) for k in counts if not str(k).endswith("_created")}
    if counts.get("customers_created"):
        out.add("customers")
    return out


@dataclass
class Snapshot:
    """One read-only copy of the warehouse."""

    id: int
    path: Path
    signature: Signature
    con: duckdb.DuckDBPyConnection
    version: str = ""
    tables: dict[str, str] = field(default_factory=dict)  # table -> its content version
    users: int = 0
    retired: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def release(self) -> None:
        try:
            self.con.close()
        finally:
            self.path.unlink(missing_ok=True)


class Snapshots:
    """The current warehouse snapshot of one server process (thread-safe).

    Args:
        source: the live warehouse file.
        directory: where the copies go (private to this process).
        min_interval: seconds between two checks of the live file.
        first_wait: seconds to wait for a quiescent file when there is no snapshot yet.
    """

    def __init__(
        self,
        source: Path,
        directory: Path,
        *,
        min_interval: float = 0.5,
        first_wait: float = 30.0,
    ) -> None:
        self.source = source
        self.directory = directory
        self.min_interval = min_interval
        self.first_wait = first_wait
        self._current: Snapshot | None = None
        self._checked = 0.0
        self._refresh_lock = threading.Lock()
        self._state = threading.Lock()
        self._ids = itertools.count(1)
        self._local = threading.local()
        # copies are named pid-instance-n: several instances in one process (an app per
        # test, a worker's reload) never share or delete each other's files
        self._prefix = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*-*.duckdb*"):  # left by servers no longer running
            pid = stale.name.split("-", 1)[0]
            if pid.isdigit() and not _alive(int(pid)):
                stale.unlink(missing_ok=True)

    # ---- refresh ----------------------------------------------------------------------
    def _copy(self, signature: Signature) -> Snapshot | None:
        sid = next(self._ids)
        target = self.directory / f"{self._prefix}-{sid}.duckdb"
        tmp = target.with_suffix(".tmp")
        try:
            shutil.copyfile(self.source, tmp)
        except FileNotFoundError:
            return None
        if _signature(self.source) != signature:  # a writer checkpointed during the copy
            tmp.unlink(missing_ok=True)
            return None
        tmp.replace(target)
        try:
            con = duckdb.connect(str(target), read_only=True)
            version, tables = _versions(con)
        except duckdb.Error:
            target.unlink(missing_ok=True)
            return None
        return Snapshot(sid, target, signature, con, version, tables)

    def refresh(self, *, wait: bool = False) -> Snapshot | None:
        """Take a new snapshot if the live file changed and is quiescent; the current one."""
        deadline = time.monotonic() + (self.first_wait if wait else 0.0)
        while True:
            signature = _signature(self.source)
            current = self._current
            if signature is not None and (current is None or current.signature != signature):
                fresh = self._copy(signature)
                if fresh is not None and current is not None and fresh.version == current.version:
                    fresh.release()  # rewritten but the same content: keep the snapshot (and
                    current.signature = signature  # every cache keyed on it) as it is
                    return current
                if fresh is not None:
                    self._swap(fresh)
                    return fresh
            if self._current is not None or time.monotonic() >= deadline:
                return self._current
            time.sleep(0.1)

    def _swap(self, fresh: Snapshot) -> None:
        with self._state:
            old, self._current = self._current, fresh
            if old is not None:
                old.retired = True
                done = old.users == 0
        if old is not None and done:
            old.release()

    def current(self) -> Snapshot:
        """The snapshot to read from now (checks the live file at most every min_interval).

        Raises:
            WarehouseError: there is no warehouse, or none could be copied in time.
        """
        now = time.monotonic()
        if self._current is None or now - self._checked >= self.min_interval:
            first = self._current is None
            if self._refresh_lock.acquire(blocking=first):
                try:
                    self._checked = time.monotonic()
                    self.refresh(wait=self._current is None)
                finally:
                    self._refresh_lock.release()
        snap = self._current
        if snap is None:
            if not self.source.exists():
                raise WarehouseError(
                    f"{self.source}: no warehouse yet", fix="run `luopan ingest` first"
                )
            raise WarehouseError(
                "the warehouse is being refreshed and no earlier copy exists yet",
                fix="retry in a few seconds",
            )
        return snap

    # ---- use --------------------------------------------------------------------------
    @contextmanager
    def lease(self) -> Iterator[Snapshot]:
        """Hold the current snapshot for the duration of the block."""
        while True:
            snap = self.current()
            with self._state:
                if not snap.retired:
                    snap.users += 1
                    break
        try:
            yield snap
        finally:
            with self._state:
                snap.users -= 1
                done = snap.retired and snap.users == 0
            if done:
                snap.release()

    @contextmanager
    def connection(self) -> Iterator[Any]:
        """An Ibis DuckDB backend on the current snapshot (one cursor per thread).

        ``data_version(backend)`` is the content version it reads (for cache keys)."""
        import ibis

        with self.lease() as snap:
            cache: dict[int, Any] = self._local.__dict__.setdefault("backends", {})
            backend = cache.get(snap.id)
            if backend is None:
                for key in list(cache):  # backends of retired snapshots
                    del cache[key]
                backend = ibis.duckdb.from_connection(snap.con.cursor())
                backend.__dict__["_luopan_snapshot_version"] = snap.version
                backend.__dict__["_luopan_table_versions"] = snap.tables
                cache[snap.id] = backend
            yield backend

    def close(self) -> None:
        with self._state:
            snap, self._current = self._current, None
        if snap is not None:
            snap.retired = True
            if snap.users == 0:
                snap.release()


def data_version(backend: Any, tables: Iterable[str] | None = None) -> str:
    """The content version of the snapshot an Ibis backend from ``connection()`` reads.

    With ``tables``, the version of just those tables: a result computed from them alone stays
    valid across a refresh that changed other tables only. A table the snapshot lacks has the
    version ``absent`` (so its arrival changes the version too).
    """
    if tables is None:
        return str(backend.__dict__["_luopan_snapshot_version"])
    known: dict[str, str] = backend.__dict__["_luopan_table_versions"]
    parts = sorted(f"{t}={known.get(t, 'absent')}" for t in set(tables))
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]
