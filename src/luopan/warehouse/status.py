"""What the warehouse holds: row counts, freshness per source, quarantine, recent loads.

Pure reads; rendering is the CLI's (and later the cockpit's) job.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from luopan.config import WorkspaceConfig
from luopan.tables import TABLES
from luopan.warehouse.store import LOADS_TABLE, QUARANTINE_TABLE

__all__ = ["MASTER_TABLES", "SourceFreshness", "WarehouseStatus", "read_status"]

# master data and experiment logs: their newest row says nothing about a late export (a member
# file whose newest member registered two weeks ago is on time; an ended experiment logs no new
# assignments), so a source feeding only these is judged late only when it sets
# ``late_after_hours`` itself. Found by benchmarks/loop_alarms.py: crm_members and assignments
# were the source_late rule's only false alarms on the make-demo world.
MASTER_TABLES = frozenset(
    {"customers", "products", "stores", "campaigns", "experiments", "assignments"}
)


@dataclass(frozen=True)
class SourceFreshness:
    source: str
    table: str | None
    latest: dt.datetime | None
    age_hours: float | None
    late_after_hours: float
    late: bool


@dataclass(frozen=True)
class WarehouseStatus:
    now: dt.datetime
    row_counts: dict[str, int]
    freshness: list[SourceFreshness]
    quarantine: dict[tuple[str, str], int]  # (source, kind) -> rows
    loads: list[dict[str, object]]

    @property
    def late_sources(self) -> list[str]:
        return [f.source for f in self.freshness if f.late]


def read_status(
    con: duckdb.DuckDBPyConnection, config: WorkspaceConfig, *, now: dt.datetime, last: int = 10
) -> WarehouseStatus:
    """Summarise a warehouse. ``now`` is local time (the workspace clock)."""
    counts = {}
    for name in TABLES:
        row = con.execute(f'SELECT count(*) FROM "{name}"').fetchone()
        counts[name] = int(row[0]) if row else 0
    fresh: list[SourceFreshness] = []
    for source in config.sources:
        latest: dt.datetime | None = None
        latest_table = None
        for table_name in source.outputs():
            table = TABLES[table_name]
            if table.time_column is None:
                continue
            row = con.execute(
                f'SELECT max("{table.time_column}") FROM "{table_name}" WHERE _source = ?',
                [source.name],
            ).fetchone()
            value = row[0] if row else None
            if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
                value = dt.datetime.combine(value, dt.time(23, 59, 59))
            if value is not None and (latest is None or value > latest):
                latest, latest_table = value, table_name
        if latest_table is None and not any(TABLES[t].time_column for t in source.outputs()):
            continue
        age = None if latest is None else (now - latest).total_seconds() / 3600
        checked = "late_after_hours" in source.model_fields_set or not (
            set(source.outputs()) <= MASTER_TABLES
        )
        late = checked and (latest is None or (age is not None and age > source.late_after_hours))
        fresh.append(
            SourceFreshness(source.name, latest_table, latest, age, source.late_after_hours, late)
        )
    quarantine = {
        (str(s), str(k)): int(n)
        for s, k, n in con.execute(
            f"SELECT source, kind, count(*) FROM {QUARANTINE_TABLE} GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    }
    cur = con.execute(
        f"""SELECT source, file, finished_at, rows_read, rows_loaded, rows_quarantined,
                   duplicate_rows FROM {LOADS_TABLE} ORDER BY finished_at DESC LIMIT ?""",
        [last],
    )
    names = [d[0] for d in cur.description]
    loads = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    return WarehouseStatus(now, counts, fresh, quarantine, loads)
