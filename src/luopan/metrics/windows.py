"""Cumulative (rolling window, grain-to-date) and conversion (funnel) metrics.

Both look beyond one period's rows: a cumulative metric aggregates a window ending at each
period (a time spine joined to the rows), a conversion metric follows each entity from a base
event to a conversion event within a window (one sort per entity, no many-to-many join). When
the base rows are the conversion rows of [start, end) (retention: buyers converting to orders),
the conversion rows are sorted alone, half the rows of the general path.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import ibis

from luopan.errors import MetricError
from luopan.metrics.catalog import Catalog
from luopan.metrics.grains import IBIS_UNIT, grain_start, shift
from luopan.metrics.refs import aggregate, entity_ref
from luopan.metrics.rows import _TS, _V, _group, _interval, _period, _rows, _ts_literal
from luopan.metrics.spec import Condition, Metric, parse_window

__all__: list[str] = []


def _spine(
    con: Any,
    catalog: Catalog,
    inner: Metric,
    grain: str,
    start: dt.date | None,
    end: dt.date | None,
    where: Sequence[Condition],
) -> Any:
    """Every period of [start, end) (a time spine). An open bound is the input's first or last
    period, and every period between is on the spine, so a cumulative value carries through
    periods without rows of its input (a month in which no campaign started still has its
    budget to date)."""
    if start is None or end is None:
        rows = _rows(con, catalog, inner, (), start, end, where)
        p = _period(rows[_TS], grain)
        span = rows.aggregate(first=p.min(), last=p.max()).execute()
        if span.empty or span["first"].isna().iat[0]:
            return rows.select(period=p).distinct()  # no rows: an empty spine
        if start is None:
            start = span["first"].iat[0].date()
        if end is None:
            end = shift(span["last"].iat[0].date(), grain, 1)
    days, day = [], grain_start(start, grain)
    while day < end:
        days.append(dt.datetime.combine(day, dt.time()))
        day = shift(day, grain, 1)
    return ibis.memtable({"period": days}, schema={"period": "timestamp"})


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
    keyed = (
        entity_ref(catalog, base_m, spec.entity, con),
        entity_ref(catalog, conv_m, spec.entity, con),
    )
    if keyed[0] != key and keyed[1] != ckey:  # both sides hold the join key: match on it
        key, ckey = keyed
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
    keys = (["period"] if grain else []) + list(by)
    if not by and _same_rows(base_m, conv_m):
        base = _own_conversions(conv, ckey, end, n, unit)
    else:
        base = _next_conversions(
            _rows(con, catalog, base_m, by, start, end, where, extra=[key]),
            conv,
            key,
            ckey,
            by,
            n,
            unit,
        )
    if grain:
        base = base.mutate(period=_period(base.__ts, grain))
    merged = _group(base, keys + ["__k"], __hit=base.__hit.max())
    # one row per (period, group, entity) now, none with a NULL entity: a count is distinct
    out = _group(merged, keys, entered=merged.__k.count(), converted=merged.__hit.sum())
    value = out.converted.cast("float64")
    if spec.calculation == "conversion_rate":
        value = value / out.entered.cast("float64").nullif(0)
    return out.select(*keys, value=value.cast("float64"))


def _same_rows(base_m: Metric, conv_m: Metric) -> bool:
    """Whether the base rows are the conversion rows of the base range: the same model, time
    dimension and filter (the expressions may differ: they never drop a row)."""
    return (
        base_m.model == conv_m.model
        and base_m.agg_time_dimension == conv_m.agg_time_dimension
        and [c.model_dump_json() for c in base_m.filter]
        == [c.model_dump_json() for c in conv_m.filter]
    )


def _own_conversions(conv: Any, ckey: str, end: dt.date | None, n: int, unit: str) -> Any:
    """Base rows that are conversion rows: each entity's rows sorted once, the next one read.

    A base row at ``t`` converts when the entity's first conversion strictly after ``t`` comes
    before ``t`` + window. Sorted by time, the row after the last of the rows at ``t`` holds
    that conversion; an earlier row at ``t`` sees its twin (same time) and counts no hit, which
    the later maximum per (period, entity) cannot notice: its twin has the same period and the
    right answer. Rows at or after ``end`` are conversions only.
    """
    rows = conv.filter(conv[ckey].notnull())
    rows = rows.select(__k=rows[ckey], __ts=rows[_TS])
    rows = rows.mutate(
        __next=rows.__ts.lead().over(ibis.window(group_by=rows.__k, order_by=rows.__ts))
    )
    if end is not None:
        rows = rows.filter(rows.__ts < _ts_literal(end))
    nxt = rows.__next
    hit = nxt.notnull() & (nxt > rows.__ts) & (nxt < rows.__ts + _interval(n, unit))
    return rows.select("__k", "__ts", __hit=hit.cast("int64"))


def _next_conversions(
    base: Any, conv: Any, key: str, ckey: str, by: Sequence[str], n: int, unit: str
) -> Any:
    """Base rows with ``__hit``: whether the entity converts within the window after them."""
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
    return base.mutate(
        __hit=(base.__next.notnull() & (base.__next < base.__ts + _interval(n, unit))).cast("int64")
    )
