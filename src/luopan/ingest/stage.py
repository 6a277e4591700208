"""Staging: turn a raw text table into typed canonical rows with per-row check results.

``build_stage`` writes one SELECT that parses every mapped column (see :mod:`parse`), applies
value maps, constants, hashing and derived line numbers, then ``check_stage`` marks rows that
break the contract (required values, allowed values, ranges, timestamps in the future, keys
repeated within the batch, references to rows that do not exist). Everything runs inside
DuckDB over whole tables. Only generated identifiers reach the SQL text; every value taken
from a preset or config (constants, value maps, salt, clock) is a bound parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb

from luopan.ingest.mapping import ResolvedOutput
from luopan.ingest.parse import hash_expr, parse_expr
from luopan.tables import TABLES, duckdb_type

__all__ = ["Stage", "build_stage", "check_stage"]


@dataclass
class Stage:
    """A staged output: temp table ``name`` with canonical columns, ``_line`` and ``_e_*``."""

    name: str
    output: ResolvedOutput
    error_columns: dict[str, str]  # check column -> canonical column it concerns (or "")
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def table(self) -> str:
        return self.output.table.name


class _Params:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.values: dict[str, Any] = {}

    def add(self, value: Any) -> str:
        name = f"{self.prefix}{len(self.values)}"
        self.values[name] = value
        return f"${name}"


def _column_sql(out: ResolvedOutput, column: str, p: _Params, tz: str) -> tuple[str, str | None]:
    """(value SQL, error SQL or None) for one canonical column."""
    table = out.table
    col = table.column(column)
    spec = out.spec
    if column in spec.constants:
        return f"CAST({p.add(spec.constants[column])} AS {duckdb_type(col.kind)})", None
    if column not in out.positions:
        return f"CAST(NULL AS {duckdb_type(col.kind)})", None
    raw = f'"c{out.positions[column]}"'
    cspec = spec.columns.get(column)
    if cspec is not None and cspec.hash_prefix is not None:
        parsed = parse_expr("text", raw, tz=tz)
        value = (
            f"CASE WHEN {parsed.value} IS NULL THEN NULL ELSE "
            f"{p.add(cspec.hash_prefix)} || substr(sha256($salt || {parsed.value}), 1, 20) END"
        )
        return value, None
    if col.kind == "pii":
        return hash_expr(raw), None
    if column in spec.values or col.allowed:
        parsed = parse_expr("text", raw, tz=tz)
        mapping = dict(spec.values.get(column, {}))
        for allowed in col.allowed or ():
            mapping.setdefault(allowed, allowed)
        cases = " ".join(f"WHEN {p.add(k)} THEN {p.add(v)}" for k, v in mapping.items())
        value = f"(CASE {parsed.value} {cases} ELSE NULL END)"
        error = (
            f"CASE WHEN {parsed.value} IS NOT NULL AND {value} IS NULL "
            "THEN 'unknown value / 未知取值' END"
        )
        return value, error
    parsed = parse_expr(col.kind, raw, tz=tz)
    return parsed.value, parsed.error


def build_stage(
    con: duckdb.DuckDBPyConnection,
    raw_table: str,
    out: ResolvedOutput,
    *,
    name: str,
    tz: str,
    salt: str,
) -> Stage:
    """Create temp table ``name``: typed canonical columns, ``_line`` and parse errors."""
    p = _Params(f"{name}_p")
    table = out.table
    selects: list[str] = []
    errors: dict[str, str] = {}
    exprs: dict[str, str] = {}
    for column in table.column_names:
        if column in out.spec.derive:
            continue
        value, error = _column_sql(out, column, p, tz)
        exprs[column] = value
        selects.append(f'{value} AS "{column}"')
        if error is not None:
            selects.append(f'{error} AS "_e_{column}"')
            errors[f"_e_{column}"] = column
    for column in out.spec.derive:  # only row_number today
        key = [exprs[k] for k in table.key if k in exprs]
        selects.append(
            f'CAST(row_number() OVER (PARTITION BY {", ".join(key)} ORDER BY _line) AS BIGINT) '
            f'AS "{column}"'
        )
    body = f"SELECT _line, {', '.join(selects)} FROM {raw_table}"
    if out.spec.grouped:
        body = _grouped(body, out, list(errors))
    params = dict(p.values)
    if "$salt" in body:
        params["salt"] = salt
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {body}", params)
    return Stage(name, out, errors, params)


def _grouped(body: str, out: ResolvedOutput, error_cols: list[str]) -> str:
    """Aggregate a line-level export to one row per key (orders from order-item rows)."""
    table = out.table
    parts = ["min(_line) AS _line"]
    for column in table.column_names:
        if column in table.key:
            parts.append(f'"{column}"')
            continue
        cspec = out.spec.columns.get(column)
        if cspec is not None and cspec.agg == "sum":
            parts.append(f'sum("{column}") AS "{column}"')
        else:
            parts.append(f'any_value("{column}" ORDER BY _line) AS "{column}"')
    parts += [f'any_value("{e}" ORDER BY _line) AS "{e}"' for e in error_cols]
    keys = ", ".join(f'"{k}"' for k in table.key)
    return f"SELECT {', '.join(parts)} FROM ({body}) GROUP BY {keys}"


def check_stage(
    con: duckdb.DuckDBPyConnection,
    stage: Stage,
    *,
    now: Any,
    batch_tables: dict[str, str],
) -> None:
    """Add check columns ``_c_*`` (reason text or NULL) to the staged table.

    Args:
        now: local-time 'now'; timestamps later than now + 1 hour are rejected.
        batch_tables: canonical table -> staged table of this batch with rows that passed, so
            references may point at rows loaded in the same batch (orders of a line-level file).
    """
    table = stage.output.table
    name = stage.name
    checks: list[tuple[str, str, str]] = []  # (check column, SQL, concerned column)
    for col in table.columns:
        if col.required and col.name not in stage.output.spec.derive:
            checks.append(
                (f"_c_req_{col.name}",
                 f"""CASE WHEN "{col.name}" IS NULL AND "_e_{col.name}" IS NULL
                     THEN 'required value is empty / 必填值为空' END"""
                 if f"_e_{col.name}" in stage.error_columns else
                 f"""CASE WHEN "{col.name}" IS NULL THEN 'required value is empty / 必填值为空' END""",
                 col.name)
            )
        if col.min_value is not None and col.kind in ("int", "decimal", "float"):
            checks.append(
                (f"_c_min_{col.name}",
                 f"""CASE WHEN "{col.name}" < {float(col.min_value)!r}
                     THEN 'below the minimum {col.min_value:g} / 小于最小值' END""",
                 col.name)
            )
        if col.kind == "timestamp":
            checks.append(
                (f"_c_future_{col.name}",
                 f"""CASE WHEN "{col.name}" > $now + INTERVAL 1 HOUR
                     THEN 'timestamp is in the future / 时间晚于当前时间' END""",
                 col.name)
            )
    if table.name == "order_lines":
        checks.append(
            ("_c_return",
             """CASE WHEN quantity < 0 AND NOT coalesce(paid_amount < 0, false)
                THEN 'negative quantity is only allowed on a return line (negative paid_amount)'
                     || ' / 负数量仅允许用于退货行（实付金额为负）' END""",
             "quantity")
        )
    for ref in table.references:
        if stage.output.spec.creates_customers and ref.table == "customers":
            continue
        if not all(c in stage.output.positions or c in stage.output.spec.constants
                   for c in ref.columns):
            continue
        on = " AND ".join(f'r."{t}" = s."{c}"' for c, t in zip(ref.columns, ref.to_columns, strict=True))
        sources = [f'SELECT {", ".join(f"{chr(34)}{t}{chr(34)}" for t in ref.to_columns)} FROM "{ref.table}"']
        if ref.table in batch_tables:
            sources.append(
                f'SELECT {", ".join(f"{chr(34)}{t}{chr(34)}" for t in ref.to_columns)} '
                f"FROM {batch_tables[ref.table]}"
            )
        present = " AND ".join(f's."{c}" IS NOT NULL' for c in ref.columns)
        checks.append(
            (f"_c_ref_{ref.table}",
             f"""CASE WHEN {present} AND NOT EXISTS (SELECT 1 FROM ({' UNION ALL '.join(sources)}) r
                 WHERE {on}) THEN 'not found in {ref.table} / 在 {TABLES[ref.table].zh} 中不存在' END""",
             ref.columns[0])
        )
    select = "".join(f", {sql} AS {c}" for c, sql, _ in checks)
    sql = f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT s.*{select} FROM {name} s"
    con.execute(sql, {"now": now} if "$now" in sql else {})
    for c, _, concerned in checks:
        stage.error_columns[c] = concerned
    _mark_duplicate_keys(con, stage)


def _mark_duplicate_keys(con: duckdb.DuckDBPyConnection, stage: Stage) -> None:
    """Mark repeated keys within the batch; the first occurrence (by line) wins."""
    keys = ", ".join(f'"{k}"' for k in stage.output.table.key)
    row = con.execute(
        f"SELECT count(*), count(DISTINCT ({keys})) FROM {stage.name}"
    ).fetchone()
    assert row is not None
    col = "_c_dupkey"
    if row[0] == row[1]:
        con.execute(f"ALTER TABLE {stage.name} ADD COLUMN {col} VARCHAR")
    else:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {stage.name} AS SELECT *,
            CASE WHEN row_number() OVER (PARTITION BY {keys} ORDER BY _line) > 1
                 THEN 'duplicate key with different values (first at line '
                      || min(_line) OVER (PARTITION BY {keys}) || ') / 主键重复且内容不同'
            END AS {col} FROM {stage.name}"""
        )
    stage.error_columns[col] = stage.output.table.key[0]
