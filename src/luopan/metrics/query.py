"""Run metrics: one metric per grain and group, with period-over-period comparisons.

Comparisons: ``pop`` (the previous period of the grain), ``yoy`` (the same period a year
earlier; 52 weeks earlier at the week grain, so weekdays line up), ``festival`` (each shopping
festival inside the range against the same festival a year earlier, e.g. 双11 2026 vs 双11
2025, whose dates move with the lunar calendar for 春节 and 年货节).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd

from luopan.errors import MetricError
from luopan.metrics.cache import cached_metric, execute
from luopan.metrics.catalog import Catalog
from luopan.metrics.grains import festival_windows, festivals_in, grain_start, shift
from luopan.metrics.spec import Condition

__all__ = ["COMPARISONS", "execute", "metric_value", "query_metric"]

COMPARISONS = ("pop", "yoy", "festival")


def _align(start: dt.date | None, end: dt.date | None, grain: str | None) -> tuple[Any, Any]:
    if grain is None:
        return start, end
    lo = None if start is None else grain_start(start, grain)
    hi = end
    if end is not None and grain_start(end, grain) != end:
        hi = shift(grain_start(end, grain), grain, 1)
    return lo, hi


def _shift_spec(grain: str, compare: str) -> tuple[str, int]:
    if compare == "pop":
        return grain, 1
    if grain == "week":
        return "week", 52
    return "year", 1


def query_metric(
    con: Any,
    catalog: Catalog,
    name: str,
    *,
    grain: str | None = "day",
    by: Sequence[str] = (),
    start: dt.date | None = None,
    end: dt.date | None = None,
    compare: str | None = None,
    where: Sequence[Condition] = (),
) -> pd.DataFrame:
    """Metric ``name`` as a frame: ``period``, the ``by`` columns, ``value``.

    With ``compare``, adds ``compare_value``, ``change`` (value − compare_value) and
    ``change_pct`` (change / |compare_value|). ``festival`` returns one row per festival
    inside [start, end) with a ``festival`` label instead of a period.

    Args:
        con: an Ibis backend holding the canonical tables (DuckDB or PySpark).
        catalog: from ``load_catalog``.
        grain: day, week, month, quarter or year (None: one value over the range).
        by: dimension references (``channel``, ``store__region``, ``product__category`` …).
        start, end: local dates; periods are widened to whole grains; end is exclusive.
        compare: None, ``pop``, ``yoy`` or ``festival``.
        where: extra structured filter conditions applied to every input.

    Raises:
        MetricError: unknown metric or dimension, grain not allowed, bad comparison.
    """
    if compare is not None and compare not in COMPARISONS:
        raise MetricError(f"unknown comparison {compare!r}", fix="use pop, yoy or festival")
    if compare == "festival":
        return _festival(con, catalog, name, by, start, end, where)
    if compare is not None and grain is None:
        raise MetricError(f"comparison {compare!r} needs a grain", fix="pass --grain")
    lo, hi = _align(start, end, grain)
    keys = (["period"] if grain else []) + list(by)
    if compare is None:
        frame = execute(
            cached_metric(con, catalog, name, grain=grain, by=by, start=lo, end=hi, where=where),
            con,
        )
        return _tidy(frame, keys)
    assert grain is not None
    unit, n = _shift_spec(grain, compare)
    reach = None if lo is None else shift(lo, unit, -n)
    frame = execute(
        cached_metric(con, catalog, name, grain=grain, by=by, start=reach, end=hi, where=where),
        con,
    )
    frame = _tidy(frame, keys)
    prior = frame.rename(columns={"value": "compare_value"})
    prior["period"] = [pd.Timestamp(shift(p.date(), unit, n)) for p in prior["period"]]
    if lo is not None:
        frame = frame[frame["period"] >= pd.Timestamp(lo)]
    out = frame.merge(prior, on=keys, how="left")
    return _changes(out)


def _changes(out: pd.DataFrame) -> pd.DataFrame:
    out = out.copy()
    out["change"] = out["value"] - out["compare_value"]
    out["change_pct"] = out["change"] / out["compare_value"].abs().where(out["compare_value"] != 0)
    return out.reset_index(drop=True)


def _tidy(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    frame = frame[[*keys, "value"]].copy()
    frame["value"] = frame["value"].astype("float64")
    if "period" in frame:
        frame["period"] = pd.to_datetime(frame["period"]).astype("datetime64[us]")
    return frame.sort_values(keys, na_position="last").reset_index(drop=True) if keys else frame


def metric_value(
    con: Any,
    catalog: Catalog,
    name: str,
    start: dt.date,
    end: dt.date,
    *,
    where: Sequence[Condition] = (),
) -> float:
    """One number: the metric over [start, end) (NaN when there is no data)."""
    frame = execute(
        cached_metric(con, catalog, name, grain=None, start=start, end=end, where=where), con
    )
    return (
        float("nan")
        if frame.empty or frame["value"].isna().all()
        else float(frame["value"].iloc[0])
    )


def _festival(
    con: Any,
    catalog: Catalog,
    name: str,
    by: Sequence[str],
    start: dt.date | None,
    end: dt.date | None,
    where: Sequence[Condition],
) -> pd.DataFrame:
    if start is None or end is None:
        raise MetricError(
            "a festival comparison needs --from and --to",
            fix="give a range holding the festival, e.g. 2026-11-01..2026-11-12",
        )

    def over(lo: dt.date, hi: dt.date) -> pd.DataFrame:
        expr = cached_metric(con, catalog, name, grain=None, by=by, start=lo, end=hi, where=where)
        return _tidy(execute(expr, con), list(by))

    rows = []
    for fest in festivals_in(start, end):
        last = next(f for f in festival_windows(fest.year - 1) if f.name == fest.name)
        now = over(fest.start, fest.end)
        before = over(last.start, last.end).rename(columns={"value": "compare_value"})
        both = (
            now.merge(before, on=list(by), how="left")
            if by
            else now.assign(
                compare_value=before["compare_value"].iloc[0] if len(before) else float("nan")
            )
        )
        both.insert(0, "festival", fest.label)
        both.insert(1, "start", pd.Timestamp(fest.start))
        both.insert(2, "compare_start", pd.Timestamp(last.start))
        rows.append(both)
    if not rows:
        raise MetricError(
            f"no festival lies wholly inside {start}..{end}",
            fix="widen the range to hold a whole festival (双11 is 11-01..11-11)",
        )
    return _changes(pd.concat(rows, ignore_index=True))
