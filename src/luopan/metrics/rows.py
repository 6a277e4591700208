"""The rows a simple metric aggregates, and the small helpers every metric type shares.

``_rows`` resolves a simple metric's references (joins, computed columns), applies its
filter, the ``where`` conditions and the time range, and returns ``__ts``, the value column(s)
and the ``by`` references. Private to the compiler modules (``compiler``, ``windows``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import ibis

from luopan.errors import MetricError
from luopan.metrics.catalog import Catalog
from luopan.metrics.expr import compile_expr, expr_names
from luopan.metrics.grains import IBIS_UNIT
from luopan.metrics.refs import (
    condition,
    fields,
    first_only,
    keyed_ids,
    resolve_ref,
    with_refs,
)
from luopan.metrics.spec import Condition, Metric, SemanticModel

__all__: list[str] = []

_TS = "__ts"
_V = "__v"


def _ts_literal(day: dt.date) -> Any:
    return ibis.literal(dt.datetime.combine(day, dt.time()), type="timestamp")


def _rows(
    con: Any,
    catalog: Catalog,
    m: Metric,
    by: Sequence[str],
    lo: dt.date | None,
    hi: dt.date | None,
    where: Sequence[Condition],
    extra: Sequence[str] = (),
    values: dict[str, Metric] | None = None,
) -> Any:
    """Rows of a simple metric: ``__ts``, ``__v`` (its expr), the ``by`` and extra refs.

    ``values`` computes several simple metrics of one model and time dimension in one scan:
    one column per key instead of ``__v``. When their filters differ, each column is its
    expr where its own filter holds and NULL elsewhere (every aggregation skips NULLs), and
    the scan keeps the rows that pass at least one filter.
    """
    model = catalog.models[str(m.model)]
    time_ref = m.agg_time_dimension or model.agg_time_dimension
    if time_ref is None:
        raise MetricError(f"metric {m.name!r}: model {model.name!r} has no agg_time_dimension")
    values = values or {_V: m}
    filters = {v.model_dump_json(include={"filter"}) for v in values.values()}
    shared = m.filter if len(filters) == 1 else ()
    exprs = {col: _distinct_key(con, model, v) or v.expr for col, v in values.items()}
    names = [n for e in exprs.values() if e for n in expr_names(e)]
    conds = [*where, *(c for v in values.values() for c in v.filter)]
    refs = fields(conds)
    # a row number compared only with 1 or 2 needs no window (see with_refs)
    firsts = first_only(conds) - {time_ref, *by, *names, *extra}
    try:
        span = within = None  # tells with_refs that only the rows of [lo, hi) are kept
        hops, time_col = resolve_ref(catalog, model, time_ref)
        if lo is not None or hi is not None:
            lo_ts = None if lo is None else _ts_literal(lo)
            hi_ts = None if hi is None else _ts_literal(hi)
            if hops:  # a time through an entity: its rows of the range, joined first
                within = (time_ref, lo_ts, hi_ts)
            else:  # a computed column numbers only the range's rows
                span = (time_col, lo_ts, hi_ts)
        t = with_refs(
            con,
            catalog,
            model,
            {time_ref, *by, *names, *refs, *extra},
            span=span,
            within=within,
            first_only=firsts,
        )
    except MetricError as exc:
        raise MetricError(
            f"metric {m.name!r} ({catalog.where(m.name)}): {exc.message}", fix=exc.fix
        ) from None

    def holds(conds: Sequence[Condition]) -> Any:
        return ibis.and_(*(condition(c, lambda f: t[f]) for c in conds))

    if shared or where:
        t = t.filter(holds((*shared, *where)))
    if not shared and all(v.filter for v in values.values()):
        t = t.filter(ibis.or_(*(holds(v.filter) for v in values.values())))
    ts = t[time_ref].cast("timestamp")
    if lo is not None:
        t = t.filter(ts >= _ts_literal(lo))
    if hi is not None:
        t = t.filter(ts < _ts_literal(hi))
    cols = {}
    for col, v in values.items():
        e = exprs[col]
        value = compile_expr(e, lambda n: t[n]) if e else ibis.literal(1)
        if not shared and v.filter:
            value = ibis.ifelse(holds(v.filter), value, ibis.null(value.type()))
        cols[col] = value
    return t.select(
        **{_TS: t[time_ref].cast("timestamp")}, **cols, **{r: t[r] for r in {*by, *extra}}
    )


def _distinct_key(con: Any, model: SemanticModel, m: Metric) -> str | None:
    """The stored join key to count instead of ``m``'s expr, when ``m`` counts the distinct
    values of an entity's ID that has one (``refs.keyed_ids``: the same count; an integer
    hashes faster than the text)."""
    if m.agg != "count_distinct" or not m.expr:
        return None
    return keyed_ids(con, model).get(m.expr.strip())


def _group(t: Any, keys: list[str], **aggs: Any) -> Any:
    return t.group_by(keys).aggregate(**aggs) if keys else t.aggregate(**aggs)


def _period(ts: Any, grain: str) -> Any:
    return ts.truncate(IBIS_UNIT[grain]).cast("timestamp")


def _interval(n: int, unit: str) -> Any:
    if unit == "quarter":
        n, unit = 3 * n, "month"
    return ibis.interval(**{f"{unit}s": n})
