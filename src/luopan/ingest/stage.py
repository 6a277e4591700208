"""Staging: turn a raw text table into typed canonical rows with per-row check results.

``build_stage`` creates one temp table with the raw cells it needs and every mapped column
parsed by its fast tier (see :mod:`parse`), then repairs, column by column, only the rows the
fast tier could not type, with the exact rules and their reasons. The contract checks of a
stage are in :mod:`luopan.ingest.checks`.
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
from luopan.ingest.parse import ParsePlan, exact_select, hash_expr, parse_plan, with_pre
from luopan.tables import duckdb_type

__all__ = ["Stage", "bind", "build_stage", "stage_select"]

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
    source = with_pre(source, tuple(dict(pre).items()))
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
