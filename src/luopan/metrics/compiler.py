"""Compile catalog metrics to Ibis expressions, so one definition runs on DuckDB and Spark.

``compile_metric`` returns an Ibis table with ``period`` (timestamp at the grain's start,
absent when ``grain`` is None), one column per ``by`` reference and ``value`` (float64).
References resolve like MetricFlow's: a column or dimension of the model, ``entity__column``
through a foreign entity to the model whose primary entity it is (left join, chains allowed),
or a bare name found on one joined model (first foreign entity in declaration order wins).
Ratio and derived metrics combine their inputs by a null-safe union-and-regroup on the keys
rather than a join, so a NULL dimension value (e.g. the region of an online order) is a group
like any other. No SQL text is ever assembled.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import ibis

from luopan.errors import MetricError
from luopan.metrics.catalog import Catalog
from luopan.metrics.expr import compile_expr, expr_names
from luopan.metrics.grains import IBIS_UNIT, grain_start, shift
from luopan.metrics.refs import (
    aggregate,
    condition,
    entity_ref,
    fields,
    resolve_ref,
    with_refs,
)
from luopan.metrics.spec import Condition, Metric, parse_window

__all__ = ["compile_metric", "fused_simple", "resolve_ref"]

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
    names = [n for v in values.values() if v.expr for n in expr_names(v.expr)]
    refs = fields([*where, *(c for v in values.values() for c in v.filter)])
    try:
        t = with_refs(con, catalog, model, {time_ref, *by, *names, *refs, *extra})
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
        value = compile_expr(v.expr, lambda n: t[n]) if v.expr else ibis.literal(1)
        if not shared and v.filter:
            value = ibis.ifelse(holds(v.filter), value, ibis.null(value.type()))
        cols[col] = value
    return t.select(
        **{_TS: t[time_ref].cast("timestamp")}, **cols, **{r: t[r] for r in {*by, *extra}}
    )


def _fusable(m: Metric) -> str | None:
    """Key shared by simple metrics that one scan can compute together."""
    if m.type != "simple":
        return None
    return m.model_dump_json(include={"model", "agg_time_dimension"})


def _simple(
    con: Any,
    catalog: Catalog,
    metrics: dict[str, Metric],
    grain: str | None,
    by: Sequence[str],
    start: dt.date | None,
    end: dt.date | None,
    where: Sequence[Condition],
) -> Any:
    """Simple metrics of one model, time and filter, aggregated in one pass (a column each)."""
    first = next(iter(metrics.values()))
    rows = _rows(con, catalog, first, by, start, end, where, values=metrics)
    keys = (["period"] if grain else []) + list(by)
    if grain:
        rows = rows.mutate(period=_period(rows[_TS], grain))
    out = _group(rows, keys, **{c: aggregate(m.agg, rows[c]) for c, m in metrics.items()})
    return out.mutate(**{c: out[c].cast("float64") for c in metrics})


def fused_simple(
    con: Any,
    catalog: Catalog,
    metrics: dict[str, Metric],
    grain: str | None,
    start: dt.date | None,
    end: dt.date | None,
    where: Sequence[Condition] = (),
) -> Any:
    """Simple metrics of one model and time dimension in one scan: a column per key."""
    return _simple(con, catalog, metrics, grain, (), start, end, where)


def _group(t: Any, keys: list[str], **aggs: Any) -> Any:
    return t.group_by(keys).aggregate(**aggs) if keys else t.aggregate(**aggs)


def _period(ts: Any, grain: str) -> Any:
    return ts.truncate(IBIS_UNIT[grain]).cast("timestamp")


def _interval(n: int, unit: str) -> Any:
    if unit == "quarter":
        n, unit = 3 * n, "month"
    return ibis.interval(**{f"{unit}s": n})


def compile_metric(
    con: Any,
    catalog: Catalog,
    name: str,
    *,
    grain: str | None = "day",
    by: Sequence[str] = (),
    start: dt.date | None = None,
    end: dt.date | None = None,
    where: Sequence[Condition] = (),
) -> Any:
    """The Ibis expression computing metric ``name`` per period of ``grain`` and ``by`` group.

    Args:
        con: an Ibis backend (DuckDB or PySpark) holding the canonical tables.
        catalog: the catalog defining the metric.
        grain: day, week, month, quarter, year; None for one value over [start, end).
        by: dimension references to group by (``channel``, ``store__region`` …).
        start, end: the local dates bounding the periods (end exclusive); None is unbounded.
        where: extra structured conditions on every simple input (e.g. row-level scopes).

    Raises:
        MetricError: unknown metric or reference, grain not allowed, offset without a grain.
    """
    m = catalog.metric(name)
    if grain is not None and grain not in m.grains:
        raise MetricError(
            f"metric {name!r} ({catalog.where(name)}) is not defined at grain {grain!r}",
            fix=f"use one of: {', '.join(m.grains)}",
        )
    keys = (["period"] if grain else []) + list(by)
    if m.type == "simple":
        return _simple(con, catalog, {"value": m}, grain, by, start, end, where)
    if m.type == "ratio":
        parts = {"num": str(m.numerator), "den": str(m.denominator)}
        merged = _combine(con, catalog, parts, {}, grain, by, start, end, where)
        return merged.select(*keys, value=merged.num.cast("float64") / merged.den.nullif(0))
    if m.type == "derived":
        parts = {i.ref: i.name for i in m.input_metrics}
        offsets: dict[str, str | None] = {
            i.ref: i.offset_window for i in m.input_metrics if i.offset_window
        }
        if offsets and grain is None:
            raise MetricError(
                f"metric {name!r} uses offsets and needs a grain",
                fix="pass grain=day|week|month|quarter|year",
            )
        merged = _combine(con, catalog, parts, offsets, grain, by, start, end, where)
        value = compile_expr(str(m.expr), lambda n: merged[n].cast("float64"))
        return merged.select(*keys, value=value.cast("float64"))
    if m.type == "cumulative":
        return _cumulative(con, catalog, m, grain, by, start, end, where)
    return _conversion(con, catalog, m, grain, by, start, end, where)


def _combine(
    con: Any,
    catalog: Catalog,
    parts: dict[str, str],
    offsets: dict[str, str | None],
    grain: str | None,
    by: Sequence[str],
    start: dt.date | None,
    end: dt.date | None,
    where: Sequence[Condition],
) -> Any:
    keys = (["period"] if grain else []) + list(by)
    pieces = []
    fused: dict[str, dict[str, Metric]] = {}
    for ref, metric in parts.items():
        key = None if offsets.get(ref) else _fusable(catalog.metric(metric))
        if key is not None:
            fused.setdefault(key, {})[ref] = catalog.metric(metric)
    for group in fused.values():
        f = _simple(con, catalog, group, grain, by, start, end, where)
        pieces.append(
            f.select(*keys, **{r: (f[r] if r in group else ibis.null("float64")) for r in parts})
        )
    if len(pieces) == 1 and len(fused) == 1 and len(next(iter(fused.values()))) == len(parts):
        return pieces[0]  # one scan computed every input: nothing to combine
    done = {r for group in fused.values() for r in group}
    for ref, metric in parts.items():
        if ref in done:
            continue
        lo, hi, n, unit = start, end, 0, "day"
        if offsets.get(ref) and grain:
            n, unit = parse_window(str(offsets[ref]))
            if grain == "week" and unit in ("month", "quarter", "year"):
                n, unit = n * {"month": 4, "quarter": 13, "year": 52}[unit], "week"
            lo = None if start is None else shift(start, unit, -n)
            hi = None if end is None else shift(end, unit, -n)
        f = compile_metric(con, catalog, metric, grain=grain, by=by, start=lo, end=hi, where=where)
        if n:
            f = f.mutate(period=(f.period + _interval(n, unit)).cast("timestamp"))
        pieces.append(
            f.select(*keys, **{r: (f.value if r == ref else ibis.null("float64")) for r in parts})
        )
    union = pieces[0]
    for p in pieces[1:]:
        union = union.union(p)
    return _group(union, keys, **{r: union[r].max() for r in parts})


def _spine(
    con: Any,
    catalog: Catalog,
    inner: Metric,
    grain: str,
    start: dt.date | None,
    end: dt.date | None,
    where: Sequence[Condition],
) -> Any:
    """Every period of [start, end) (a time spine), or the input's own periods if unbounded."""
    if start is not None and end is not None:
        days, day = [], grain_start(start, grain)
        while day < end:
            days.append(dt.datetime.combine(day, dt.time()))
            day = shift(day, grain, 1)
        return ibis.memtable({"period": days}, schema={"period": "timestamp"})
    rows = _rows(con, catalog, inner, (), start, end, where)
    return rows.select(period=_period(rows[_TS], grain)).distinct()


def _spine_bounds(spine: Any, m: Metric, grain: str) -> Any:
    hi = (spine.period + _interval(1, grain)).cast("timestamp")
    if m.window is not None:
        n, unit = parse_window(m.window)
        lo = (hi - _interval(n, unit)).cast("timestamp")
    elif m.grain_to_date is not None:
        lo = spine.period.truncate(IBIS_UNIT[str(m.grain_to_date)]).cast("timestamp")
    else:  # cumulative since the beginning
        lo = ibis.literal(dt.datetime(1900, 1, 1), type="timestamp")
    return spine.mutate(__lo=lo, __hi=hi)


def _cumulative(
    con: Any,
    catalog: Catalog,
    m: Metric,
    grain: str | None,
    by: Sequence[str],
    start: dt.date | None,
    end: dt.date | None,
    where: Sequence[Condition],
) -> Any:
    inner = catalog.metric(str(m.input_metric))
    if inner.type != "simple":
        raise MetricError(f"cumulative metric {m.name!r}: input {inner.name!r} must be simple")
    if grain is None:
        if end is None:
            raise MetricError(f"cumulative metric {m.name!r} over a whole range needs an end")
        lo: dt.date | None = None
        if m.window is not None:
            n, unit = parse_window(m.window)
            lo = shift(end, unit, -n)
        elif m.grain_to_date is not None:
            lo = grain_start(end - dt.timedelta(days=1), str(m.grain_to_date))
        rows = _rows(con, catalog, inner, by, lo, end, where)
        out = _group(rows, list(by), value=aggregate(inner.agg, rows[_V]))
        return out.mutate(value=out.value.cast("float64"))
    reach = start
    if start is not None and m.window is not None:
        n, unit = parse_window(m.window)
        reach = shift(grain_start(start, unit), unit, -n)
    elif start is not None and m.grain_to_date is not None:
        reach = grain_start(start, str(m.grain_to_date))
    elif start is not None:
        reach = None
    rows = _rows(con, catalog, inner, by, reach, end, where)
    spine = _spine_bounds(_spine(con, catalog, inner, grain, start, end, where), m, grain)
    joined = spine.join(rows, [rows[_TS] >= spine.__lo, rows[_TS] < spine.__hi])
    out = _group(joined, ["period", *by], value=aggregate(inner.agg, joined[_V]))
    return out.mutate(value=out.value.cast("float64"))


def _conversion(
    con: Any,
    catalog: Catalog,
    m: Metric,
    grain: str | None,
    by: Sequence[str],
    start: dt.date | None,
    end: dt.date | None,
    where: Sequence[Condition],
) -> Any:
    spec = m.conversion
    assert spec is not None
    base_m, conv_m = catalog.metric(spec.base_metric), catalog.metric(spec.conversion_metric)
    for part in (base_m, conv_m):
        if part.type != "simple":
            raise MetricError(f"conversion metric {m.name!r}: {part.name!r} must be simple")
    n, unit = parse_window(spec.window)
    key = entity_ref(catalog, base_m, spec.entity)
    ckey = entity_ref(catalog, conv_m, spec.entity)
    base = _rows(con, catalog, base_m, by, start, end, where, extra=[key])
    conv = _rows(
        con,
        catalog,
        conv_m,
        (),
        start,
        None if end is None else shift(end, unit, n),
        where,
        extra=[ckey],
    )
    # one sort per entity instead of a many-to-many join: for every base row, the first
    # conversion strictly after it (conversions sort before base rows at the same instant)
    both = base.select(
        __k=base[key],
        __ts=base[_TS],
        __kind=ibis.literal(1),
        __cts=ibis.null("timestamp"),
        **{b: base[b] for b in by},
    ).union(
        conv.select(
            __k=conv[ckey],
            __ts=conv[_TS],
            __kind=ibis.literal(0),
            __cts=conv[_TS],
            **{b: ibis.null(base[b].type()) for b in by},
        )
    )
    both = both.filter(both.__k.notnull())
    after = ibis.window(group_by=both.__k, order_by=[both.__ts, both.__kind], rows=(1, None))
    both = both.mutate(__next=both.__cts.min().over(after))
    base = both.filter(both.__kind == 1)
    base = base.mutate(
        __hit=(base.__next.notnull() & (base.__next < base.__ts + _interval(n, unit))).cast("int64")
    )
    keys = (["period"] if grain else []) + list(by)
    if grain:
        base = base.mutate(period=_period(base.__ts, grain))
    merged = _group(base, keys + ["__k"], __hit=base.__hit.max())
    out = _group(merged, keys, entered=merged.__k.nunique(), converted=merged.__hit.sum())
    value = out.converted.cast("float64")
    if spec.calculation == "conversion_rate":
        value = value / out.entered.cast("float64").nullif(0)
    return out.select(*keys, value=value.cast("float64"))
