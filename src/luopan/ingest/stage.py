"""Staging: turn a raw text table into typed canonical rows with per-row check results.

``build_stage`` creates one temp table with the raw cells it needs and every mapped column
parsed by its fast tier (see :mod:`parse`), then repairs, column by column, only the rows the
fast tier could not type, with the exact rules and their reasons. ``check_stage`` then marks
rows that break the contract (required values, ranges, timestamps in the future, keys repeated
within the batch, references to rows that do not exist): a few whole-table scans count every
check, and only checks that fail somewhere get a column, filled for the failing rows alone.
:func:`stage_select` is also the SELECT of the one-pass tier (:mod:`luopan.ingest.fast`).
Everything runs inside DuckDB over whole tables. Only generated identifiers reach the SQL
text; every value taken from a preset or config (constants, value maps, salt, clock) is a bound
parameter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import duckdb

from luopan.ingest.mapping import ResolvedOutput
from luopan.ingest.parse import ParsePlan, exact_select, hash_expr, parse_plan
from luopan.ingest.readers import _ordered as ordered
from luopan.tables import TABLES, duckdb_type

__all__ = [
    "Stage",
    "bind",
    "build_stage",
    "check_stage",
    "count_failures",
    "keys_increase",
    "stage_select",
]

_WS = "' ' || chr(9) || chr(10) || chr(13) || chr(12288) || chr(160)"
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass
class Stage:
    """A staged output: temp table ``name`` with canonical columns, ``_line``, ``_r`` (repair
    flags) and the check columns listed in ``error_columns`` (reason text or NULL).

    A stage of the one-pass tier (:mod:`luopan.ingest.fast`) has no ``_line`` column: its rows
    are in file order, so the line is ``rowid + line_offset`` (added by the good-row view)."""

    name: str
    output: ResolvedOutput
    error_columns: dict[str, str]  # check column -> canonical column it concerns (or "")
    params: dict[str, Any] = field(default_factory=dict)
    keys_unique: bool = False  # set by check_stage: no key repeats within the batch
    line_offset: int | None = None  # fast tier: no _line column; _line = rowid + this

    @property
    def table(self) -> str:
        return self.output.table.name


def bind(sql: str, params: dict[str, Any]) -> dict[str, Any]:
    """The named parameters ``sql`` uses, taken from ``params`` (DuckDB rejects extras)."""
    return {n: params[n] for n in _PARAM.findall(sql) if n in params}


class _Params:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.values: dict[str, Any] = {}

    def add(self, value: Any) -> str:
        name = f"{self.prefix}{len(self.values)}"
        self.values[name] = value
        return f"${name}"

    def used_by(self, sql: str) -> dict[str, Any]:
        return {n: self.values[n] for n in _PARAM.findall(sql) if n in self.values}


def _value_map(raw: str, mapping: dict[Any, Any], p: _Params) -> ParsePlan:
    """Exact raw matches map directly; trimmed matches and unknown values take the rules."""
    cases = " ".join(f"WHEN {p.add(k)} THEN {p.add(v)}" for k, v in mapping.items())
    return ParsePlan(
        f"(CASE {raw} {cases} ELSE NULL END)",
        (
            ("_n", f"nullif(trim(_c, {_WS}), '')"),
            ("_v", f"CASE _n {cases} ELSE NULL END"),
            ("_e", "CASE WHEN _n IS NOT NULL AND _v IS NULL THEN 'unknown value / 未知取值' END"),
        ),
    )


def _column_plan(out: ResolvedOutput, column: str, p: _Params, tz: str) -> ParsePlan:
    """Fast SQL and exact steps for one canonical column (steps empty: fast is exact)."""
    col = out.table.column(column)
    spec = out.spec
    if column in spec.constants:
        return ParsePlan(f"CAST({p.add(spec.constants[column])} AS {duckdb_type(col.kind)})", ())
    if column not in out.positions:
        return ParsePlan(f"CAST(NULL AS {duckdb_type(col.kind)})", ())
    raw = f'"c{out.positions[column]}"'
    cspec = spec.columns.get(column)
    if cspec is not None and cspec.hash_prefix is not None:
        text = f"nullif(trim({raw}, {_WS}), '')"
        return ParsePlan(
            f"CASE WHEN {text} IS NULL THEN NULL ELSE "
            f"{p.add(cspec.hash_prefix)} || substr(sha256($salt || {text}), 1, 20) END",
            (),
        )
    if col.kind == "pii":
        return ParsePlan(hash_expr(raw), ())
    if column in spec.values or col.allowed:
        mapping = dict(spec.values.get(column, {}))
        for allowed in col.allowed or ():
            mapping.setdefault(allowed, allowed)
        return _value_map(raw, mapping, p)
    return parse_plan(col.kind, raw, tz=tz)


def stage_select(
    out: ResolvedOutput, source: str, *, name: str, tz: str, salt: str, lines: bool
) -> tuple[str, dict[str, ParsePlan], dict[str, Any]]:
    """The fast-tier SELECT over ``source``, a relation of raw cells (a FROM item).

    It yields the typed canonical columns (no derived ones) and ``_r``, one bit per parsed
    column whose present cell the fast tier left untyped; ``_line`` is passed through when
    ``lines``. Also returns the columns with exact rules, in bit order, and the values the
    SELECT binds (parameter names are prefixed by the stage ``name``).
    """
    p = _Params(f"{name}_p")
    p.values["salt"] = salt
    inner = ["_line"] if lines else []
    outer = ["_line"] if lines else []
    repairs: dict[str, ParsePlan] = {}
    flags: list[str] = []
    pre: list[tuple[str, str]] = []
    for column in out.table.column_names:
        if column in out.spec.derive:
            continue
        plan = _column_plan(out, column, p, tz)
        pre += plan.pre
        inner.append(f'{plan.fast} AS "{column}"')
        outer.append(f'"{column}"')
        if not plan.exact_only:
            raw = f'"c{out.positions[column]}"'
            inner.append(f'{raw} IS NOT NULL AS "_p_{column}"')
            flags.append(
                f'CASE WHEN "_p_{column}" AND "{column}" IS NULL THEN {1 << len(repairs)} ELSE 0 END'
            )
            repairs[column] = plan
    if len(repairs) > 62:
        raise ValueError("more than 62 parsed columns in one output")
    outer.append(f"CAST({' + '.join(flags) or '0'} AS BIGINT) AS _r")
    # two columns read from one raw cell share its pre columns (same name, same SQL)
    source = ParsePlan("", (), tuple(dict(pre).items())).fast_from(source)
    select = f"SELECT {', '.join(outer)} FROM (SELECT {', '.join(inner)} FROM {source})"
    return select, repairs, p.values


def build_stage(
    con: duckdb.DuckDBPyConnection,
    raw_table: str,
    out: ResolvedOutput,
    *,
    name: str,
    tz: str,
    salt: str,
) -> Stage:
    """Create temp table ``name``: typed canonical columns, ``_line``, raw cells, parse errors."""
    select, repairs, params = stage_select(out, raw_table, name=name, tz=tz, salt=salt, lines=True)
    # The parse is the costly part (a second pass would cost more than this one copy), so
    # the typed rows are materialized once and everything after reads the temp table.
    sql = f"CREATE OR REPLACE TEMP TABLE {name} AS {select}"
    con.execute(sql, bind(sql, params))
    stage = Stage(name, out, {}, params)
    stage.error_columns.update(_repair(con, name, raw_table, out, repairs, params))
    for column in out.spec.derive:  # only row_number today
        key = ", ".join(f'"{k}"' for k in out.table.key if k != column)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT *, CAST(row_number() OVER "
            f'(PARTITION BY {key} ORDER BY _line) AS BIGINT) AS "{column}" FROM {name}'
        )
    if out.spec.grouped:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {name} AS "
            f"{_grouped(name, out, list(stage.error_columns))}"
        )
    return stage


def _repair(
    con: duckdb.DuckDBPyConnection,
    name: str,
    raw_table: str,
    out: ResolvedOutput,
    repairs: dict[str, ParsePlan],
    params: dict[str, Any],
) -> dict[str, str]:
    """Apply the exact rules where the fast tier left a present cell untyped (bit set in _r).

    Returns the error columns created (``_e_<column>``), only for columns with such a row.
    """
    if not repairs:
        return {}
    found = con.execute(f"SELECT bit_or(_r) FROM {name}").fetchone()
    mask = int(found[0] or 0) if found else 0
    errors: dict[str, str] = {}
    for bit, (column, plan) in enumerate(repairs.items()):
        if not mask & (1 << bit):
            continue
        raw = f'"c{out.positions[column]}"'
        source = (
            f"SELECT r._line, r.{raw} AS _c FROM {raw_table} r WHERE r._line IN "
            f"(SELECT _line FROM {name} WHERE (_r & {1 << bit}) <> 0)"
        )
        err = f"_e_{column}"
        con.execute(f'ALTER TABLE {name} ADD COLUMN "{err}" VARCHAR')
        sql = (
            f'UPDATE {name} SET "{column}" = x._v, "{err}" = x._e '
            f"FROM ({exact_select(plan.steps, source)}) x WHERE {name}._line = x._line"
        )
        con.execute(sql, bind(sql, params))
        errors[err] = column
    return errors


def _grouped(name: str, out: ResolvedOutput, error_cols: list[str]) -> str:
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
    return f"SELECT {', '.join(parts)} FROM {name} GROUP BY {keys}"


def _checks(
    stage: Stage, batch_tables: dict[str, str]
) -> tuple[list[tuple[str, str, str]], dict[str, str]]:
    """(check column, SQL condition of a failing row, concerned column) list, and for the
    reference checks the query counting their failing rows (an anti join)."""
    table = stage.output.table
    out = stage.output
    checks: list[tuple[str, str, str]] = []
    anti: dict[str, str] = {}
    for col in table.columns:
        if col.required and col.name not in out.spec.derive:
            cond = f'"{col.name}" IS NULL'
            if f"_e_{col.name}" in stage.error_columns:
                cond += f' AND "_e_{col.name}" IS NULL'
            checks.append((f"_c_req_{col.name}", cond, col.name))
        if col.min_value is not None and col.kind in ("int", "decimal", "float"):
            checks.append(
                (f"_c_min_{col.name}", f'"{col.name}" < {float(col.min_value)!r}', col.name)
            )
        if col.kind == "timestamp":
            checks.append(
                (f"_c_future_{col.name}", f'"{col.name}" > $now + INTERVAL 1 HOUR', col.name)
            )
    if table.name == "order_lines":
        checks.append(
            ("_c_return", "quantity < 0 AND NOT coalesce(paid_amount < 0, false)", "quantity")
        )
    for ref in table.references:
        if out.spec.creates_customers and ref.table == "customers":
            continue
        if not all(c in out.positions or c in out.spec.constants for c in ref.columns):
            continue
        on = " AND ".join(
            f'r."{t}" = s."{c}"' for c, t in zip(ref.columns, ref.to_columns, strict=True)
        )
        cols = ", ".join(f'"{t}"' for t in ref.to_columns)
        sources = [f'SELECT {cols} FROM "{ref.table}"']
        if ref.table in batch_tables:
            sources.append(f"SELECT {cols} FROM {batch_tables[ref.table]}")
        present = " AND ".join(f's."{c}" IS NOT NULL' for c in ref.columns)
        union = " UNION ALL ".join(sources)
        checks.append(
            (
                f"_c_ref_{ref.table}",
                f"{present} AND NOT EXISTS (SELECT 1 FROM ({union}) r WHERE {on})",
                ref.columns[0],
            )
        )
        # counted apart with a plain anti join: cheaper than the correlated NOT EXISTS
        anti[f"_c_ref_{ref.table}"] = (
            f"SELECT count(*) FROM {stage.name} s ANTI JOIN ({union}) r ON {on} WHERE {present}"
        )
    return checks, anti


def _reason(check: str, stage: Stage) -> str:
    table = stage.output.table
    if check.startswith("_c_req_"):
        return "required value is empty / 必填值为空"
    if check.startswith("_c_min_"):
        col = table.column(check.removeprefix("_c_min_"))
        return f"below the minimum {col.min_value:g} / 小于最小值"
    if check.startswith("_c_future_"):
        return "timestamp is in the future / 时间晚于当前时间"
    if check == "_c_return":
        return (
            "negative quantity is only allowed on a return line (negative paid_amount)"
            " / 负数量仅允许用于退货行（实付金额为负）"
        )
    ref = check.removeprefix("_c_ref_")
    return f"not found in {ref} / 在 {TABLES[ref].zh} 中不存在"


def check_stage(
    con: duckdb.DuckDBPyConnection,
    stage: Stage,
    *,
    now: Any,
    batch_tables: dict[str, str],
    params: dict[str, Any] | None = None,
) -> None:
    """Add a check column ``_c_*`` (reason text) for every check some row fails.

    A plain scan counts the row checks, an anti join each reference check and a grouping on
    the key hash the repeated keys; only checks some row fails get a column, filled for those
    rows alone.

    Args:
        now: local-time 'now'; timestamps later than now + 1 hour are rejected.
        batch_tables: canonical table -> view of this batch's rows that passed, so
            references may point at rows loaded in the same batch (orders of a line-level file).
        params: bound values those views need, if any.
    """
    checks, _ = _checks(stage, batch_tables)
    values = {**(params or {}), **stage.params, "now": now}
    failing, hashes_unique = count_failures(con, stage, batch_tables=batch_tables, values=values)
    name = stage.name
    for check, cond, concerned in checks:
        n = failing[check]
        if not n:
            continue
        con.execute(f"ALTER TABLE {name} ADD COLUMN {check} VARCHAR")
        sql = f"UPDATE {name} s SET {check} = $reason WHERE {cond}"
        con.execute(sql, bind(sql, {**values, "reason": _reason(check, stage)}))
        stage.error_columns[check] = concerned
    stage.keys_unique = hashes_unique
    if not stage.keys_unique:  # equal key hashes: some key may repeat (exact check below)
        stage.keys_unique = not _mark_duplicate_keys(con, stage)


def count_failures(
    con: duckdb.DuckDBPyConnection,
    stage: Stage,
    *,
    batch_tables: dict[str, str],
    values: dict[str, Any],
) -> tuple[dict[str, int], bool]:
    """Rows failing each check of ``stage``, and whether no two rows share a key hash.

    The row checks are counted in one plain scan, repeated keys by grouping on the key hash
    (parallel; the number of groups is the number of distinct keys unless two keys share a
    hash, which only sends the caller to the exact check), each reference check by an anti
    join. Two scans cost less than one that also keeps every check's count in each of
    millions of groups. Nothing is written.
    """
    checks, anti = _checks(stage, batch_tables)
    row_checks = [c for c in checks if c[0] not in anti]
    keys = ", ".join(f'"{k}"' for k in stage.output.table.key)
    counts_sql = "SELECT count(*)" + "".join(f", count_if({cond})" for _, cond, _ in row_checks)
    counts_sql += f" FROM {stage.name} s"
    counts = con.execute(counts_sql, bind(counts_sql, values)).fetchone()
    assert counts is not None
    unique = keys_increase(con, stage.name, stage.output.table.key)
    if not unique:
        groups = con.execute(
            f"SELECT count(*) FROM (SELECT hash({keys}) AS _h FROM {stage.name} GROUP BY _h)"
        ).fetchone()
        assert groups is not None
        unique = counts[0] == groups[0]
    failing = dict(zip((c[0] for c in row_checks), counts[1:], strict=True))
    for check, sql in anti.items():
        found = con.execute(sql, bind(sql, values)).fetchone()
        failing[check] = found[0] if found else 0
    return failing, unique


_PROBE_ROWS = 10_000


def keys_increase(con: duckdb.DuckDBPyConnection, table: str, key: tuple[str, ...]) -> bool:
    """Whether ``key`` strictly increases from row to row of ``table`` in stored order.

    Then no key repeats, proven by one streaming pass with ``lag`` instead of a hash
    aggregation with a group per row (exports sorted by order number and line, or by ID, are
    common; about half the cost at 10M rows). A NULL key part counts as not increasing, so a
    table with one falls back to the grouping. The first rows are probed first, so an unsorted
    table costs only that probe. Only generated identifiers reach the SQL.
    """
    prev = ", ".join(f'lag("{k}") OVER () AS "_p_{i}"' for i, k in enumerate(key))
    cond = "false"
    for i, k in reversed(list(enumerate(key))):  # lexicographic: k0 > p0 OR (k0 = p0 AND …)
        cond = f'("{k}" > "_p_{i}" OR ("{k}" = "_p_{i}" AND {cond}))'
    cols = ", ".join(f'"{k}"' for k in key)
    with ordered(con):  # scan in stored order
        for source in (f"(SELECT {cols} FROM {table} LIMIT {_PROBE_ROWS})", table):
            found = con.execute(
                f"SELECT count(*) FILTER (WHERE NOT coalesce({cond}, false)) "
                f"FROM (SELECT {cols}, {prev} FROM {source})"
            ).fetchone()
            if found is None or found[0] > 1:  # the first row has no predecessor
                return False
    return True


def _mark_duplicate_keys(con: duckdb.DuckDBPyConnection, stage: Stage) -> bool:
    """Mark repeated keys within the batch; the first occurrence (by line) wins.

    Returns whether some key repeats (False: the equal hashes were a collision)."""
    keys = ", ".join(f'"{k}"' for k in stage.output.table.key)
    col = "_c_dupkey"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {stage.name} AS SELECT *,
        CASE WHEN row_number() OVER (PARTITION BY {keys} ORDER BY _line) > 1
             THEN 'duplicate key with different values (first at line '
                  || min(_line) OVER (PARTITION BY {keys}) || ') / 主键重复且内容不同'
        END AS {col} FROM {stage.name}"""
    )
    found = con.execute(f"SELECT count({col}) FROM {stage.name}").fetchone()
    if found and found[0]:
        stage.error_columns[col] = stage.output.table.key[0]
        return True
    con.execute(f"ALTER TABLE {stage.name} DROP COLUMN {col}")  # a hash collision
    return False
