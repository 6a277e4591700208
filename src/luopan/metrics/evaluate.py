"""Evaluate many metrics at once, computing every shared input a single time.

The scorecard asks for some thirty metrics whose inputs overlap (GMV feeds AOV, refund rate,
price per unit …). Here simple metrics of one model and time dimension are computed together
in one warehouse scan per model (each with its own filter, as a conditional aggregate),
cumulative and conversion metrics run as their own queries, and ratio and derived metrics are
combined from those small per-period results with the same semantics as ``compile_metric``
(NULL where an input is missing, x / 0 is NULL, offsets shift periods).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd

from luopan.errors import MetricError
from luopan.metrics.cache import cached_metric, execute
from luopan.metrics.catalog import Catalog
from luopan.metrics.compiler import fused_simple
from luopan.metrics.expr import evaluate_expr
from luopan.metrics.grains import shift
from luopan.metrics.spec import Condition, Metric, parse_window

__all__ = ["evaluate_metrics"]

Span = tuple[dt.date, dt.date]


def _offset(grain: str, window: str) -> tuple[str, int]:
    n, unit = parse_window(window)
    if grain == "week" and unit in ("month", "quarter", "year"):
        return "week", n * {"month": 4, "quarter": 13, "year": 52}[unit]
    return unit, n


def evaluate_metrics(
    con: Any,
    catalog: Catalog,
    names: Sequence[str],
    *,
    grain: str,
    start: dt.date,
    end: dt.date,
    where: Sequence[Condition] = (),
) -> dict[str, pd.Series | Exception]:
    """Each metric as a Series of values by period start (or the error that stopped it)."""
    leaves: dict[tuple[str, str, Span], dict[str, Metric]] = {}
    others: set[tuple[str, Span]] = set()

    def walk(name: str, span: Span) -> None:
        m = catalog.metric(name)
        if m.type == "simple":
            key = m.model_dump_json(include={"model", "agg_time_dimension"})
            leaves.setdefault((str(m.model), key, span), {})[name] = m
        elif m.type in ("cumulative", "conversion"):
            others.add((name, span))
        elif m.type == "ratio":
            walk(str(m.numerator), span)
            walk(str(m.denominator), span)
        else:
            for i in m.input_metrics:
                if i.offset_window:
                    unit, n = _offset(grain, i.offset_window)
                    walk(i.name, (shift(span[0], unit, -n), shift(span[1], unit, -n)))
                else:
                    walk(i.name, span)

    todo = [n for n in names if grain in catalog.metric(n).grains]
    for name in todo:
        walk(name, (start, end))
    memo: dict[tuple[str, Span], pd.Series | Exception] = {}
    for (_, _, span), group in leaves.items():
        cols = {f"m{i}": m for i, m in enumerate(group.values())}
        try:
            frame = execute(fused_simple(con, catalog, cols, grain, span[0], span[1], where), con)
            frame = frame.set_index(pd.to_datetime(frame["period"]))
            for col, m in cols.items():
                memo[(m.name, span)] = frame[col].astype("float64")
        except Exception as exc:  # noqa: BLE001 (kept per metric, reported on the card)
            for m in cols.values():
                memo[(m.name, span)] = exc
    for name, span in others:
        try:
            frame = execute(
                cached_metric(
                    con, catalog, name, grain=grain, start=span[0], end=span[1], where=where
                ),
                con,
            )
            memo[(name, span)] = frame.set_index(pd.to_datetime(frame["period"]))["value"].astype(
                "float64"
            )
        except Exception as exc:  # noqa: BLE001
            memo[(name, span)] = exc

    def value(name: str, span: Span) -> pd.Series:
        if (name, span) not in memo:
            memo[(name, span)] = _combine(name, span)
        got = memo[(name, span)]
        if isinstance(got, Exception):
            raise got
        return got

    def _combine(name: str, span: Span) -> pd.Series:
        m = catalog.metric(name)
        if m.type == "ratio":
            both = pd.concat(
                [value(str(m.numerator), span), value(str(m.denominator), span)],
                axis=1,
                keys=["n", "d"],
                sort=True,
            )
            return both["n"] / both["d"].where(both["d"] != 0)
        parts = {}
        for i in m.input_metrics:
            if i.offset_window:
                unit, n = _offset(grain, i.offset_window)
                s = value(i.name, (shift(span[0], unit, -n), shift(span[1], unit, -n)))
                s.index = pd.to_datetime([shift(p.date(), unit, n) for p in s.index])
                parts[i.ref] = s
            else:
                parts[i.ref] = value(i.name, span)
        frame = pd.concat(parts, axis=1, sort=True)
        return pd.Series(
            evaluate_expr(str(m.expr), lambda n: frame[n]), index=frame.index, dtype="float64"
        )

    out: dict[str, pd.Series | Exception] = {}
    for name in names:
        if name not in todo:
            m = catalog.metric(name)
            out[name] = MetricError(
                f"metric {name!r} ({catalog.where(name)}) is not defined at grain {grain!r}",
                fix=f"use one of: {', '.join(m.grains)}",
            )
            continue
        try:
            out[name] = value(name, (start, end)).sort_index()
        except Exception as exc:  # noqa: BLE001
            out[name] = exc
    return out
