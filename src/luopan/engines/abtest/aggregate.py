"""From rows to sufficient statistics: in the warehouse (Ibis) or on a small frame (pandas).

Raw rows never leave the warehouse: one grouped query returns, per variant, the unit count and
per metric Σx, Σx² (and Σx·pre for CUPED). The Ibis expression runs unchanged on DuckDB and
Spark. Rows are first summed per unit (the randomisation unit is the analysis unit), then per
variant.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from luopan.engines.abtest.stats import (
    ArmStats,
    CupedStats,
    MeanStats,
    ProportionStats,
    RatioStats,
)
from luopan.errors import DataContractError

__all__ = [
    "arm_from_json",
    "arm_to_json",
    "stats_from_document",
    "ibis_daily_assignments",
    "ibis_event_conversion",
    "ibis_sufficient_stats",
    "stats_from_frame",
    "stats_from_sums",
]


def _is_binary(s: pd.Series) -> bool:
    vals = pd.unique(s.dropna())
    return len(vals) <= 2 and set(np.asarray(vals, dtype=float).tolist()) <= {0.0, 1.0}


def stats_from_sums(
    row: dict[str, Any], metric: str, *, binary: bool, pre: str | None = None
) -> ArmStats:
    """Build one arm's statistic from a row of sums named ``n``, ``{m}_sum``, ``{m}_sumsq``."""
    n = int(row["n"])
    if binary:
        post: MeanStats | ProportionStats = ProportionStats(n, float(row[f"{metric}_sum"]))
    else:
        post = MeanStats(n, float(row[f"{metric}_sum"]), float(row[f"{metric}_sumsq"]))
    if pre is None:
        return post
    pre_stats = MeanStats(n, float(row[f"{pre}_sum"]), float(row[f"{pre}_sumsq"]))
    return CupedStats(n, post, pre_stats, float(row[f"{metric}_x_{pre}"]))


def stats_from_frame(
    frame: pd.DataFrame,
    *,
    unit_col: str,
    variant_col: str,
    metric_col: str,
    pre_col: str | None = None,
) -> dict[str, ArmStats]:
    """Per-variant sufficient statistics of a unit-level (or event-level) frame.

    Boolean or 0/1 metrics become proportions; others means. Event rows are summed per unit.

    Raises:
        DataContractError: a named column is missing or a unit appears in two variants.
    """
    cols = [unit_col, variant_col, metric_col] + ([pre_col] if pre_col else [])
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise DataContractError(
            f"column(s) {missing} not found; the file has {list(frame.columns)}",
            fix="name the columns with --unit-col/--variant-col/--metric-col/--pre-col",
        )
    df = frame[cols].copy()
    df[metric_col] = pd.to_numeric(
        df[metric_col].replace({"TRUE": 1, "FALSE": 0, "true": 1, "false": 0})
    )
    if pre_col:
        df[pre_col] = pd.to_numeric(df[pre_col])
    both = df.groupby(unit_col)[variant_col].nunique()
    if (both > 1).any():
        bad = both[both > 1].index[:3].tolist()
        raise DataContractError(
            f"{int((both > 1).sum())} unit(s) appear in more than one variant, e.g. {bad}",
            fix="drop units exposed to several variants (multiple exposure) before analysing",
        )
    binary = _is_binary(df[metric_col])
    agg = {metric_col: "sum"} | ({pre_col: "sum"} if pre_col else {})
    units = df.groupby([variant_col, unit_col], sort=False).agg(agg).reset_index()
    if binary:
        units[metric_col] = (units[metric_col] > 0).astype(float)
    out: dict[str, ArmStats] = {}
    for variant, g in units.groupby(variant_col, sort=True):
        y = g[metric_col].to_numpy(dtype=float)
        if pre_col:
            x = g[pre_col].to_numpy(dtype=float)
            post = ProportionStats.from_values(y) if binary else MeanStats.from_values(y)
            out[str(variant)] = CupedStats(
                int(y.size), post, MeanStats.from_values(x), float((x * y).sum())
            )
        else:
            out[str(variant)] = (
                ProportionStats.from_values(y) if binary else MeanStats.from_values(y)
            )
    return out


def ibis_sufficient_stats(
    table: Any,
    *,
    variant_col: str,
    metrics: Sequence[str],
    unit_col: str | None = None,
    pre: dict[str, str] | None = None,
) -> Any:
    """An Ibis expression: per variant, n and Σx, Σx² (and Σx·pre) of each metric.

    ``table`` is an Ibis table; when ``unit_col`` is given, rows are summed per unit first.
    Column names come from the caller's schema, never from SQL text.
    """
    pre = pre or {}
    t = table
    value_cols = list(dict.fromkeys([*metrics, *pre.values()]))
    if unit_col is not None:
        t = t.group_by([variant_col, unit_col]).aggregate(
            **{c: t[c].cast("float64").sum() for c in value_cols}
        )
    aggs: dict[str, Any] = {"n": t.count()}
    for c in value_cols:
        x = t[c].cast("float64")
        aggs[f"{c}_sum"] = x.sum()
        aggs[f"{c}_sumsq"] = (x * x).sum()
    for m, p in pre.items():
        aggs[f"{m}_x_{p}"] = (t[m].cast("float64") * t[p].cast("float64")).sum()
    return t.group_by(variant_col).aggregate(**aggs).order_by(variant_col)


def ibis_event_conversion(
    assignments: Any,
    events: Any,
    experiments: Any,
    *,
    event_name: str = "pay",
) -> Any:
    """Per experiment and variant: assigned units and units with ``event_name`` in the window.

    A unit converts when it has at least one such event on a day between the experiment's
    start and end dates (inclusive), the demo world's definition of pay conversion.
    """
    a = assignments.join(experiments, "experiment_id").select(
        "experiment_id", "unit_id", "variant", "start_date", "end_date"
    )
    ev = events.filter(events.event_name == event_name)
    ev = ev.select(user_id=ev.user_id, day=ev.event_time.date())
    hits = (
        a.join(ev, [a.unit_id == ev.user_id, ev.day >= a.start_date, ev.day <= a.end_date])
        .select("experiment_id", "unit_id")
        .distinct()
        .mutate(hit=1)
    )
    units = a.left_join(hits, ["experiment_id", "unit_id"]).select(
        "experiment_id", "variant", hit=lambda t: t.hit.fill_null(0)
    )
    return (
        units.group_by(["experiment_id", "variant"])
        .aggregate(n=units.count(), conversions=units.hit.sum())
        .order_by(["experiment_id", "variant"])
    )


def ibis_daily_assignments(assignments: Any) -> Any:
    """Per experiment, day and variant: units assigned (for the sequential SRM check)."""
    t = assignments.mutate(day=assignments.assigned_at.date())
    return (
        t.group_by(["experiment_id", "day", "variant"])
        .aggregate(n=t.count())
        .order_by(["experiment_id", "day", "variant"])
    )


def arm_from_json(name: str, d: dict[str, Any]) -> ArmStats:
    """One arm's statistics from JSON: proportion, mean, ratio or CUPED (see the CLI docs)."""
    try:
        if "post" in d:
            return CupedStats(
                int(d["n"]),
                arm_from_json(name, d["post"] | {"n": d["n"]}),  # type: ignore[arg-type]
                MeanStats(int(d["n"]), float(d["pre"]["sum"]), float(d["pre"]["sum_squares"])),
                float(d["sum_products"]),
            )
        if "numerator" in d:
            num, den = d["numerator"], d["denominator"]
            return RatioStats(
                int(d["n"]),
                MeanStats(int(d["n"]), num["sum"], num["sum_squares"]),
                MeanStats(int(d["n"]), den["sum"], den["sum_squares"]),
                float(d["sum_products"]),
            )
        if "conversions" in d:
            return ProportionStats(int(d["n"]), float(d["conversions"]))
        return MeanStats(int(d["n"]), float(d["sum"]), float(d["sum_squares"]))
    except KeyError as exc:
        raise DataContractError(
            f"variant {name!r} lacks the key {exc}",
            fix='give {"n", "conversions"} or {"n", "sum", "sum_squares"} (ratio: numerator/'
            "denominator/sum_products; CUPED: post/pre/sum_products)",
        ) from None


def arm_to_json(arm: ArmStats) -> dict[str, Any]:
    """The JSON form read by :func:`arm_from_json` (so a stored result can be recomputed)."""
    if isinstance(arm, ProportionStats):
        return {"n": arm.n, "conversions": arm.successes}
    if isinstance(arm, MeanStats):
        return {"n": arm.n, "sum": arm.sum, "sum_squares": arm.sum_squares}
    if isinstance(arm, RatioStats):
        return {
            "n": arm.n,
            "numerator": arm_to_json(arm.numerator),
            "denominator": arm_to_json(arm.denominator),
            "sum_products": arm.sum_products,
        }
    if isinstance(arm, CupedStats):
        return {
            "n": arm.n,
            "post": arm_to_json(arm.post),
            "pre": arm_to_json(arm.pre),
            "sum_products": arm.sum_products,
        }
    raise DataContractError(
        f"{type(arm).__name__} has no JSON form", fix="store quantile inputs separately"
    )


def stats_from_document(
    doc: Any, where: str = "statistics"
) -> tuple[dict[str, ArmStats], str | None, list[float] | None]:
    """Arms, control and split of ``{"control": "A", "split": [..], "variants": {...}}``."""
    variants = doc.get("variants") if isinstance(doc, dict) else None
    if not isinstance(variants, dict) or len(variants) < 2:
        raise DataContractError(
            f"{where}: 'variants' must map 2+ variant names to statistics",
            fix='e.g. {"variants": {"A": {"n": 5000, "conversions": 160}, '
            '"B": {"n": 5000, "conversions": 485}}}',
        )
    arms = {str(k): arm_from_json(str(k), v) for k, v in variants.items()}
    return arms, doc.get("control"), doc.get("split")
