"""The types the canonical model is declared in (the declaration itself is :mod:`luopan.tables`).

Column kinds and the DuckDB type that stores each, the :class:`Column`, :class:`Reference` and
:class:`Table` records with a table's DDL, and the lineage columns every warehouse table carries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "JOIN_KEY_PROBE",
    "LINEAGE_COLUMNS",
    "LINEAGE_COMPUTED",
    "Column",
    "Kind",
    "Reference",
    "Table",
    "batch_number",
    "duckdb_type",
    "join_key_sql",
]

Kind = Literal["id", "text", "int", "decimal", "float", "timestamp", "date", "bool", "json", "pii"]

_DUCKDB_TYPES: dict[str, str] = {
    "id": "VARCHAR",
    "text": "VARCHAR",
    "int": "BIGINT",
    "decimal": "DECIMAL(18,2)",
    "float": "DOUBLE",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "bool": "BOOLEAN",
    "json": "VARCHAR",
    "pii": "VARCHAR",
}


def duckdb_type(kind: Kind) -> str:
    """The DuckDB column type that stores a column kind."""
    return _DUCKDB_TYPES[kind]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    zh: str
    en: str
    required: bool = False
    min_value: float | None = None
    allowed: tuple[str, ...] | None = None
    #: DuckDB storage compression fixed for the column (``USING COMPRESSION``), or None to let
    #: DuckDB analyse each segment. Set where the analysis always ends in FSST (many distinct
    #: IDs): a 10M-row insert of order lines skips ~1 s of dictionary analysis, same file size.
    compression: str | None = None


@dataclass(frozen=True)
class Reference:
    columns: tuple[str, ...]
    table: str
    to_columns: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    name: str
    zh: str
    en: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    references: tuple[Reference, ...] = ()
    time_column: str | None = None
    core: bool = False
    #: (key column, ID column): a BIGINT stored beside an ID column, written at ingest from
    #: the ID (``join_key_sql``) and checked to be one-to-one with it; semantic models join
    #: and group on it instead of the text (see ``luopan.metrics.refs``)
    join_keys: tuple[tuple[str, str], ...] = ()
    #: (number column, ID column): an INTEGER numbering the table's distinct IDs 0, 1, 2, …
    #: (gaps allowed), one number per ID and one ID per number across the warehouse and
    #: across loads. Ingest gives a stored ID its stored number and a new ID the next free
    #: one (``luopan.ingest.load.number_ids``); a warehouse written before the column gets
    #: ``dense_rank`` by ID on open. The funnel engine packs it into one sortable integer
    #: per event (user, time, step), where a 63-bit join key would leave no room.
    dense_keys: tuple[tuple[str, str], ...] = ()
    _by_name: dict[str, Column] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_name.update({c.name: c for c in self.columns})

    def column(self, name: str) -> Column:
        return self._by_name[name]

    def has(self, name: str) -> bool:
        return name in self._by_name

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def join_key_names(self) -> tuple[str, ...]:
        return tuple(k for k, _ in self.join_keys)

    @property
    def dense_key_names(self) -> tuple[str, ...]:
        return tuple(k for k, _ in self.dense_keys)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def ddl(self, name: str | None = None) -> str:
        """CREATE TABLE statement for DuckDB, lineage columns included.

        Only identifiers from the canonical model's own declaration (:mod:`luopan.tables`)
        reach the SQL text.
        """
        cols = [
            f'"{c.name}" {duckdb_type(c.kind)}'
            + (f" USING COMPRESSION {c.compression}" if c.compression else "")
            for c in self.columns
        ]
        cols += [f'"{k}" BIGINT' for k, _ in self.join_keys]
        cols += [f'"{k}" INTEGER' for k, _ in self.dense_keys]
        cols += [
            f'"{n}" {t} AS ({LINEAGE_COMPUTED[n]}) VIRTUAL'
            if n in LINEAGE_COMPUTED
            else f'"{n}" {t}'
            for n, t, _, _ in LINEAGE_COLUMNS
        ]
        return f'CREATE TABLE IF NOT EXISTS "{name or self.name}" ({", ".join(cols)})'


# name, DuckDB type, zh, en
LINEAGE_COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("_source", "VARCHAR", "来源名称", "source name"),
    ("_batch", "BIGINT", "批次号的数值形式", "load batch id as a number"),
    ("_batch_id", "VARCHAR", "批次号", "load batch id"),
    ("_loaded_at", "TIMESTAMP", "入库时间 (UTC)", "loaded at (UTC)"),
    ("_line", "BIGINT", "来源文件行号", "line in the source file"),
)

#: lineage columns computed when read, from the stored ones (DuckDB virtual generated columns).
#: ``_batch_id`` is the 16-hex-digit batch id; the table stores it as the 64-bit ``_batch``
#: (two's complement), because a constant VARCHAR costs a 10M-row insert about 0.7 s and a
#: BIGINT next to nothing.
LINEAGE_COMPUTED: dict[str, str] = {"_batch_id": "printf('%016x', \"_batch\")"}


def join_key_sql(column: str, alias: str = "") -> str:
    """SQL of the join key of ID column ``column``: DuckDB's 64-bit ``hash`` of the text,
    shifted right by one bit to fit a BIGINT (Spark and Parquet have no unsigned 64-bit type);
    NULL where the ID is NULL. ``column`` (qualified by ``alias`` when given) comes from the
    canonical model's declaration only.

    ``hash`` costs about 10 ns an ID where MD5 costs 550 (10M order lines: 0.25 s CPU against
    5.6 s, a third of a whole load). Its values are not promised to stay the same across DuckDB
    releases, so the warehouse stores the key of a fixed probe text (``JOIN_KEY_PROBE``) and
    recomputes every key when the running engine gives another (``luopan.warehouse.store``).
    Two IDs of one warehouse sharing a key has a chance of about n² / 2⁶⁴ (3 × 10⁻⁶ for 10M
    IDs); ingest looks for one in every batch and refuses the batch if it finds one
    (``luopan.ingest.load.check_join_keys``).
    """
    ref = f'{alias}."{column}"' if alias else f'"{column}"'
    return f"CASE WHEN {ref} IS NOT NULL THEN CAST(hash({ref}) >> 1 AS BIGINT) END"


#: the text whose key the warehouse stores, to notice an engine whose ``hash`` changed
JOIN_KEY_PROBE = "luopan join key probe 关联键"


def batch_number(batch_id: str) -> int:
    """The ``_batch`` value stored for a 16-hex-digit batch id (its 64 bits as a signed integer)."""
    n = int(batch_id, 16)
    if not 0 <= n < 1 << 64:
        raise ValueError(f"batch id {batch_id!r} is not 16 hex digits")
    return n - (1 << 64) if n >= 1 << 63 else n
