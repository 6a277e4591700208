"""One raw value through the parsing rules of :mod:`luopan.ingest.parse`, on a private DuckDB
connection: what ingest would store for a cell, for tests, the CLI and error messages."""

from __future__ import annotations

import threading
from typing import Any

import duckdb

from luopan.ingest.parse import exact_select, parse_plan

__all__ = ["exact_value", "parse_value"]

_LOCK = threading.Lock()
_CON: duckdb.DuckDBPyConnection | None = None


def parse_value(
    kind: str, text: str | None, *, tz: str = "Asia/Shanghai"
) -> tuple[Any, str | None]:
    """Parse one raw value as ingest does (fast tier, then the exact rules); ``(value, error)``."""
    global _CON
    plan = parse_plan(kind, '"c0"', tz=tz)
    with _LOCK:
        if _CON is None:
            _CON = duckdb.connect()
        raw = plan.fast_from('(SELECT CAST($v AS VARCHAR) AS "c0")')
        fast = _CON.execute(f"SELECT {plan.fast} FROM {raw}", {"v": text}).fetchone()
        assert fast is not None
        if fast[0] is not None or text is None or plan.exact_only:
            return fast[0], None
        sql = exact_select(plan.steps, "SELECT 0 AS _line, CAST($v AS VARCHAR) AS _c")
        row = _CON.execute(f"SELECT _v, _e FROM ({sql})", {"v": text}).fetchone()
    assert row is not None
    return row[0], row[1]


def exact_value(
    kind: str, text: str | None, *, tz: str = "Asia/Shanghai"
) -> tuple[Any, str | None]:
    """Parse one raw value with the exact rules only (tests compare the fast tier with it)."""
    global _CON
    plan = parse_plan(kind, '"c0"', tz=tz)
    with _LOCK:
        if _CON is None:
            _CON = duckdb.connect()
        if plan.exact_only:
            raw = plan.fast_from('(SELECT CAST($v AS VARCHAR) AS "c0")')
            sql = f"SELECT {plan.fast}, NULL FROM {raw}"
        else:
            inner = exact_select(plan.steps, "SELECT 0 AS _line, CAST($v AS VARCHAR) AS _c")
            sql = f"SELECT _v, _e FROM ({inner})"
        row = _CON.execute(sql, {"v": text}).fetchone()
    assert row is not None
    return row[0], row[1]
