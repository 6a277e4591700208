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
from luopan.metrics.grains import shift
from luopan.metrics.refs import aggregate, fields, resolve_ref
from luopan.metrics.rows import _TS, _group, _interval, _period, _rows
from luopan.metrics.spec import Condition, Metric, parse_window
from luopan.metrics.windows import _conversion, _cumulative

__all__ = ["compile_metric", "fused_simple", "resolve_ref"]


def _fusable(catalog: Catalog, m: Metric) -> tuple[str, str] | None:
    """Key shared by simple metrics of one scan, and the key of the scan that computes them.

    A metric on a computed (window) column gets a scan of its own: fused, every row the
    window leaves out (walk-in orders) would flow through the union and each distinct count
    of its siblings. The split is invisible: see ``_combine``.
    """
    if m.type != "simple":
        return None
    model = catalog.models[str(m.model)]
    numbered = {c.name for c in model.computed}
    numbered |= {d.name for d in model.dimensions if d.column in numbered}
    used = {*fields(m.filter), *(expr_names(m.expr) if m.expr else ())}
    key = m.model_dump_json(include={"model", "agg_time_dimension"})
    return key, key + "|" + m.name if used & numbered else key


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
    """Simple metrics of one model, time and filter, aggregated in one pass (a column each).

    When every aggregate decomposes (sum, count, min, max, sum_boolean) and the grain is
    coarser than a day, rows are first aggregated per calendar day and the days then per
    period: a row's date is a cheap cast, while truncating each row's timestamp to its week or
    month costs DuckDB about 40–50 ns a row (2.8M order lines of a quarter: 0.15 s CPU of
    truncation against 0.03 s through the days). The days' partial sums are summed again, the
    counts summed, the minima and maxima taken again: the same values.
    """
    first = next(iter(metrics.values()))
    rows = _rows(con, catalog, first, by, start, end, where, values=metrics)
    keys = (["period"] if grain else []) + list(by)
    if grain in _DAYS_FIRST and all(m.agg in _AGAIN for m in metrics.values()):
        daily = _group(
            rows.mutate(__day=rows[_TS].date()),
            ["__day", *by],
            **{c: aggregate(m.agg, rows[c]) for c, m in metrics.items()},
        )
        daily = daily.mutate(period=_period(daily.__day.cast("timestamp"), grain))
        out = _group(daily, keys, **{c: _AGAIN[str(m.agg)](daily[c]) for c, m in metrics.items()})
        return out.mutate(**{c: out[c].cast("float64") for c in metrics})
    if grain:
        rows = rows.mutate(period=_period(rows[_TS], grain))
    out = _group(rows, keys, **{c: aggregate(m.agg, rows[c]) for c, m in metrics.items()})
    return out.mutate(**{c: out[c].cast("float64") for c in metrics})


#: grains whose periods are whole days, and how a day's partial aggregate is aggregated again
_DAYS_FIRST = ("week", "month", "quarter", "year")
_AGAIN: dict[str, Any] = {
    "sum": lambda v: v.sum(),
    "count": lambda v: v.sum(),
    "sum_boolean": lambda v: v.sum(),
    "min": lambda v: v.min(),
    "max": lambda v: v.max(),
}


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
    scans: dict[str, list[str]] = {}  # model scan → its scans, when split (see _fusable)
    for ref, metric in parts.items():
        key = None if offsets.get(ref) else _fusable(catalog, catalog.metric(metric))
        if key is not None:
            fused.setdefault(key[1], {})[ref] = catalog.metric(metric)
            known = scans.setdefault(key[0], [])
            if key[1] not in known:
                known.append(key[1])
    split = {s: f"__s{i}" for i, ks in enumerate(scans.values()) if len(ks) > 1 for s in ks}
    marks = sorted(set(split.values()))
    for scan, group in fused.items():
        f = _simple(con, catalog, group, grain, by, start, end, where)
        own = {m: (ibis.literal(1) if split.get(scan) == m else ibis.null("int64")) for m in marks}
        pieces.append(
            f.select(
                *keys,
                **{r: (f[r] if r in group else ibis.null("float64")) for r in parts},
                **own,
            )
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
            f.select(
                *keys,
                **{r: (f.value if r == ref else ibis.null("float64")) for r in parts},
                **{m: ibis.null("int64") for m in marks},
            )
        )
    union = pieces[0]
    for p in pieces[1:]:
        union = union.union(p)
    out = _group(
        union, keys, **{r: union[r].max() for r in parts}, **{m: union[m].max() for m in marks}
    )
    # a count over no rows is 0 where the model's one fused scan would have had the group
    zero = {
        r: ibis.ifelse(out[split[scan]].notnull(), out[r].coalesce(0.0), out[r])
        for scan, group in fused.items()
        if scan in split
        for r, m in group.items()
        if m.agg in ("count", "count_distinct")
    }
    return out.mutate(**zero).drop(*marks) if marks else out
