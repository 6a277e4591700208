"""Diagnose a metric move on the warehouse: which dimension-value combinations explain it.

The metric is queried through the catalog (Ibis, so DuckDB or Spark) for the period and for its
reference, split by the chosen dimensions, and the leaf table goes to the root-cause search of
``luopan.engines.rca``. A ratio metric (conversion, AOV, repeat rate …) is searched through its
numerator and denominator, as a ratio KPI; every other metric as a summed KPI.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from luopan.errors import InsufficientDataError, MetricError

__all__ = ["Diagnosis", "diagnose_metric", "dominant_element", "metric_leaves"]

DEFAULT_DIMS = ("channel", "customer__region")


@dataclass(frozen=True)
class Diagnosis:
    """The localisation of one metric move, with both explanations."""

    metric: str
    period: str
    baseline: str
    dimensions: tuple[str, ...]
    kind: str  # additive | ratio
    result: Any  # luopan.engines.rca.Localization
    summary_zh: str
    summary_en: str


def _split(
    con: Any,
    catalog: Any,
    name: str,
    dims: Sequence[str],
    span: tuple[dt.date, dt.date],
    column: str,
) -> pd.DataFrame:
    from luopan.metrics import query_metric

    frame = query_metric(con, catalog, name, grain=None, by=list(dims), start=span[0], end=span[1])
    return frame.rename(columns={"value": column}).set_index(list(dims))


def metric_leaves(
    con: Any, catalog: Any, metric: str, period: str, baseline: str, dims: Sequence[str]
) -> tuple[str, pd.DataFrame]:
    """``(kind, leaves)``: one row per combination of ``dims`` with the observed (period) and
    expected (baseline) values; a ratio metric gives numerator and denominator columns.

    Raises:
        MetricError: unknown metric, period label or dimension; periods of different grains.
    """
    from luopan.metrics import parse_period

    m = catalog.metric(metric)
    g1, *now = parse_period(period)
    g2, *ref = parse_period(baseline)
    if g1 != g2:
        raise MetricError(
            f"period {period} is a {g1} but baseline {baseline} is a {g2}",
            fix="compare periods of the same grain, e.g. 2026-W45 with 2026-W44",
        )
    spans = {"real": (now[0], now[1]), "predict": (ref[0], ref[1])}
    if m.type == "ratio" and m.numerator and m.denominator:
        parts = [
            _split(con, catalog, m.numerator, dims, spans["real"], "real_a"),
            _split(con, catalog, m.numerator, dims, spans["predict"], "predict_a"),
            _split(con, catalog, m.denominator, dims, spans["real"], "real_b"),
            _split(con, catalog, m.denominator, dims, spans["predict"], "predict_b"),
        ]
        kind = "ratio"
    else:
        parts = [_split(con, catalog, metric, dims, spans[c], c) for c in ("real", "predict")]
        kind = "additive"
    leaves = pd.concat(parts, axis=1).fillna(0.0).reset_index()
    for d in dims:
        leaves[d] = leaves[d].astype("string").fillna("(none)")
    return kind, leaves


def dominant_element(leaves: pd.DataFrame, dims: list[str], result: Any) -> Any:
    """A fallback for small leaf tables (a few channels × regions), where the search's noise
    gates, calibrated on tables of thousands of leaves, see too few leaves to trust any one.

    The single element (one dimension value, or one leaf) that carries most of the change is
    reported when it holds at least half of it and moved at least twice as much, relatively,
    as the total — the "surprise" and "explanatory power" tests of Adtributor (Bhagwan et al.,
    NSDI 2014) with fixed thresholds; among those, the largest share × relative change wins.
    Its confidence is reported as 0: indicative only.
    """
    import dataclasses
    import itertools

    from luopan.engines.rca import Cause

    total = float(leaves["real"].sum() - leaves["predict"].sum())
    base = float(leaves["predict"].sum())
    if total == 0 or base == 0:
        return result
    best: tuple[float, Cause] | None = None
    for r in range(1, len(dims) + 1):
        for combo in itertools.combinations(dims, r):
            grouped = leaves.groupby(list(combo), dropna=False)[["real", "predict"]].sum()
            counts = leaves.groupby(list(combo), dropna=False).size()
            for key, row in grouped.iterrows():
                change = float(row["real"] - row["predict"])
                share = change / total
                if row["predict"] == 0 or share < 0.5:
                    continue
                if abs(change / row["predict"]) < 2 * abs(total / base):
                    continue
                values = key if isinstance(key, tuple) else (key,)
                cause = Cause(
                    tuple(zip(combo, map(str, values), strict=True)),
                    float(row["real"]),
                    float(row["predict"]),
                    change,
                    share,
                    0.0,
                    int(counts[key]),
                )
                # explanatory power × surprise: a whole region that moved less loses to the
                # one channel in it that carried the move
                score = share * abs(change / row["predict"])
                if best is None or score > best[0]:
                    best = (score, cause)
    if best is None:
        return result
    cause = best[1]
    return dataclasses.replace(result, causes=(cause,), residual=total - cause.contribution)


def diagnose_metric(
    con: Any,
    catalog: Any,
    metric: str,
    period: str,
    baseline: str,
    *,
    dims: Sequence[str] = DEFAULT_DIMS,
    max_causes: int | None = 5,
) -> Diagnosis:
    """Localise the move of ``metric`` from ``baseline`` to ``period`` over ``dims``.

    Raises:
        MetricError: see :func:`metric_leaves`.
        InsufficientDataError: nothing recorded in either period.
    """
    from luopan.engines.rca import explain, localize

    kind, leaves = metric_leaves(con, catalog, metric, period, baseline, dims)
    if leaves.empty:
        raise InsufficientDataError(
            f"{metric}: no data in {period} or {baseline}",
            fix="pick periods inside the data (see `luopan status`)",
        )
    result = localize(
        leaves,
        kind=kind,  # type: ignore[arg-type]
        dimensions=list(dims),
        max_causes=max_causes,
    )
    if not result.causes and kind == "additive":
        result = dominant_element(leaves, list(dims), result)
    meta = catalog.metric(metric).meta
    label = getattr(meta, "label", None)
    zh = getattr(label, "zh", metric) if label else metric
    en = getattr(label, "en", metric) if label else metric
    return Diagnosis(
        metric,
        period,
        baseline,
        tuple(dims),
        kind,
        result,
        explain(result, "zh", kpi=zh),
        explain(result, "en", kpi=en),
    )
