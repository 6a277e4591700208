"""Compiled metric queries, remembered per backend: the same question is compiled once.

Building a metric's Ibis expression and compiling it to SQL costs 15-130 ms of Python per
query (an LTV/CAC query is a tree of a dozen inputs), as much as the warehouse spends running
many of them; the cockpit, the API and the rules ask the same questions over and over. An
expression depends only on the catalog and the arguments, never on the data, so it is kept per
backend object (like the table handles in ``refs``), keyed by the catalog object and
(metric, grain, by, start, end, where), in a small LRU. On DuckDB the SQL text of each kept
expression is kept too; other backends (Spark) compile as usual. Results are never cached.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import ibis.expr.operations as ops
import pandas as pd

from luopan.metrics.catalog import Catalog
from luopan.metrics.compiler import compile_metric
from luopan.metrics.spec import Condition

__all__ = ["cached_metric", "execute"]

_SIZE = 256


def _lru(con: Any, name: str) -> OrderedDict[Any, Any] | None:
    try:
        found: OrderedDict[Any, Any] = con.__dict__.setdefault(name, OrderedDict())
    except AttributeError:  # a backend without an instance dict: no cache
        return None
    return found


def _remember(lru: OrderedDict[Any, Any], key: Any, value: Any) -> Any:
    lru[key] = value
    if len(lru) > _SIZE:
        lru.popitem(last=False)
    return value


def cached_metric(
    con: Any,
    catalog: Catalog,
    name: str,
    *,
    grain: str | None,
    by: Sequence[str] = (),
    start: dt.date | None = None,
    end: dt.date | None = None,
    where: Sequence[Condition] = (),
) -> Any:
    """``compile_metric`` with the same arguments, built once per backend and catalog."""
    lru = _lru(con, "_luopan_metric_exprs")
    key = (
        id(catalog),
        name,
        grain,
        tuple(by),
        start,
        end,
        tuple(c.model_dump_json() for c in where),
    )
    if lru is not None and key in lru and lru[key][0] is catalog:
        lru.move_to_end(key)
        return lru[key][1]
    expr = compile_metric(con, catalog, name, grain=grain, by=by, start=start, end=end, where=where)
    if lru is not None:  # the catalog is kept with it, so its id cannot be reused meanwhile
        _remember(lru, key, (catalog, expr))
    return expr


def execute(expr: Any, con: Any = None) -> pd.DataFrame:
    """Materialize a small aggregated Ibis expression as pandas (through Arrow, exact).

    With the DuckDB backend ``con`` the expression's SQL is compiled once and kept; the
    result is converted to the expression's schema exactly as ``expr.to_pyarrow()`` does.
    """
    if con is None or getattr(con, "name", None) != "duckdb" or expr.op().find(ops.InMemoryTable):
        return expr.to_pyarrow().to_pandas()
    from ibis.backends.duckdb.converter import DuckDBPyArrowData

    lru = _lru(con, "_luopan_metric_sql")
    op = expr.op()
    if lru is not None and op in lru:
        lru.move_to_end(op)
        sql = lru[op]
    else:
        sql = con.compile(expr.as_table())
        if lru is not None:
            _remember(lru, op, sql)
    table = con.con.sql(sql).to_arrow_table()
    return expr.__pyarrow_result__(table, data_mapper=DuckDBPyArrowData).to_pandas()
