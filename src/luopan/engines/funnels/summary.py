"""The funnel's per-step table from chosen paths: users, conversions, drop-off, median and
mean time to each step, and the time-to-convert histogram of full conversions.

``aggregate`` computes the per-step aggregate in the warehouse from a paths table (the list and
window plans); ``packed.PackedPaths.summary`` computes the same columns in NumPy; ``shape``
turns either into ``FunnelResult``'s two tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ibis.expr.types as ir
import pandas as pd

__all__ = ["TTC_BUCKETS", "aggregate", "shape"]

# upper bounds (seconds, inclusive) and zh/en labels of the time-to-convert histogram
TTC_BUCKETS: tuple[tuple[float, str, str], ...] = (
    (60, "≤1分钟", "≤1 min"),
    (600, "≤10分钟", "≤10 min"),
    (3600, "≤1小时", "≤1 h"),
    (86400, "≤1天", "≤1 day"),
    (3 * 86400, "≤3天", "≤3 days"),
    (7 * 86400, "≤7天", "≤7 days"),
    (float("inf"), ">7天", ">7 days"),
)


def _seconds(ts: ir.TimestampValue) -> ir.IntegerValue:
    """Whole epoch seconds on every engine (DuckDB's EPOCH keeps fractions, Spark's does not)."""
    return ts.truncate("s").epoch_seconds()


def aggregate(paths: ir.Table, n: int, group: list[str]) -> pd.DataFrame:
    aggs: dict[str, Any] = {}
    for k in range(1, n + 1):
        secs = _seconds(paths[f"t{k}"]) - _seconds(paths.t1)
        aggs[f"users_{k}"] = (paths.reached >= k).cast("int64").sum()
        aggs[f"median_{k}"] = secs.median()  # NULL past the step reached
        aggs[f"mean_{k}"] = secs.mean()
    total = _seconds(paths[f"t{n}"]) - _seconds(paths.t1)
    lower = -1.0
    for i, (upper, _, _) in enumerate(TTC_BUCKETS):
        hit = (paths.reached == n) & (total > lower)
        if upper != float("inf"):
            hit = hit & (total <= upper)
        aggs[f"ttc_{i}"] = hit.cast("int64").sum()
        lower = upper
    if group:
        return paths.group_by(group).aggregate(**aggs).to_pandas()
    return paths.aggregate(**aggs).to_pandas()


def shape(
    raw: pd.DataFrame, steps: Sequence[str], keys: pd.Series
) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows, ttc = [], []
    for i, rec in enumerate(raw.to_dict(orient="records")):
        b = str(keys.iloc[i])
        entered = int(rec["users_1"] or 0)
        prev = entered
        for k, name in enumerate(steps, 1):
            users = int(rec[f"users_{k}"] or 0)
            step_conv = users / prev if prev else float("nan")
            rows.append(
                {
                    "breakdown": b,
                    "step_index": k,
                    "step": name,
                    "users": users,
                    "overall_conversion": users / entered if entered else float("nan"),
                    "step_conversion": step_conv if k > 1 else (1.0 if entered else float("nan")),
                    "drop_off": 1 - step_conv if k > 1 else 0.0,
                    "median_seconds": _num(rec[f"median_{k}"]),
                    "mean_seconds": _num(rec[f"mean_{k}"]),
                }
            )
            prev = users
        for j, (_, zh, en) in enumerate(TTC_BUCKETS):
            ttc.append(
                {
                    "breakdown": b,
                    "bucket": j,
                    "label_zh": zh,
                    "label_en": en,
                    "users": int(rec[f"ttc_{j}"] or 0),
                }
            )
    return pd.DataFrame(rows), pd.DataFrame(ttc)


def _num(v: Any) -> float:
    return float("nan") if v is None or pd.isna(v) else float(v)
