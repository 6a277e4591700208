"""The balanced scorecard: every metric for one period, against its target, with RAG status.

Status (red/amber/green) compares the actual with the target of the period's grain in the
metric's direction: green when the target is met, amber when within ``amber_within`` (10% by
default, relative) of it, red otherwise; ``none`` without a target or a value.

References:
    Kaplan, R. S. & Norton, D. P. (1992). The Balanced Scorecard — Measures that Drive
    Performance. Harvard Business Review 70(1), 71-79.
    Kaplan, R. S. & Norton, D. P. (1996). The Balanced Scorecard: Translating Strategy into
    Action. Harvard Business School Press (perspectives and strategy maps).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from luopan.errors import LuopanError
from luopan.metrics.catalog import Catalog
from luopan.metrics.evaluate import evaluate_metrics
from luopan.metrics.grains import parse_period, period_label, shift
from luopan.metrics.spec import Condition, Meta

__all__ = ["PERSPECTIVES", "ScoreRow", "Scorecard", "rag_status", "score_row", "scorecard"]

PERSPECTIVES = ("financial", "customer", "internal_process", "learning_growth")


def rag_status(actual: float, meta: Meta, grain: str) -> str:
    """``green``, ``amber``, ``red`` or ``none`` for ``actual`` against the grain's target."""
    target = meta.targets.get(grain)  # type: ignore[call-overload]
    if target is None or actual is None or math.isnan(actual):
        return "none"
    slack = abs(target) * meta.amber_within
    if meta.direction == "higher":
        return "green" if actual >= target else "amber" if actual >= target - slack else "red"
    return "green" if actual <= target else "amber" if actual <= target + slack else "red"


@dataclass(frozen=True)
class ScoreRow:
    """One metric on the scorecard."""

    metric: str
    label_zh: str
    label_en: str
    perspective: str
    unit: str
    format: str
    direction: str
    north_star: bool
    actual: float
    previous: float
    target: float | None
    status: str
    trend: tuple[float, ...]
    error: str | None = None

    @property
    def change_pct(self) -> float:
        if math.isnan(self.previous) or self.previous == 0:
            return float("nan")
        return (self.actual - self.previous) / abs(self.previous)


def score_row(
    name: str, meta: Meta, grain: str, series: Sequence[float], error: str | None = None
) -> ScoreRow:
    """The scorecard row of metric ``name``: its last value against the one before, the
    target of ``grain`` and the status they give; no values (NaN) when ``series`` is empty."""
    actual = series[-1] if series else float("nan")
    previous = series[-2] if len(series) > 1 else float("nan")
    return ScoreRow(
        metric=name,
        label_zh=meta.label.zh,
        label_en=meta.label.en,
        perspective=meta.perspective,
        unit=meta.unit,
        format=meta.format,
        direction=meta.direction,
        north_star=meta.north_star,
        actual=actual,
        previous=previous,
        target=meta.targets.get(grain),  # type: ignore[call-overload]
        status=rag_status(actual, meta, grain),
        trend=tuple(series),
        error=error,
    )


@dataclass(frozen=True)
class Scorecard:
    """The scorecard of one period (``2025-W46``, ``2025-11`` …)."""

    period: str
    grain: str
    start: dt.date
    end: dt.date
    rows: tuple[ScoreRow, ...]

    def to_table(self) -> pd.DataFrame:
        """One row per metric, in perspective order."""
        return pd.DataFrame(
            [
                {
                    **{k: getattr(r, k) for k in ScoreRow.__dataclass_fields__},
                    "change_pct": r.change_pct,
                }
                for r in self.rows
            ]
        )

    def summary(self) -> dict[str, dict[str, int]]:
        """Count of statuses per perspective."""
        out: dict[str, dict[str, int]] = {p: {} for p in PERSPECTIVES}
        for r in self.rows:
            out[r.perspective][r.status] = out[r.perspective].get(r.status, 0) + 1
        return out


def scorecard(
    con: Any,
    catalog: Catalog,
    period: str,
    *,
    trend_periods: int = 8,
    metrics: Sequence[str] | None = None,
    where: Sequence[Condition] = (),
) -> Scorecard:
    """Every scorecard metric (or ``metrics``) for ``period``, with previous value, target, status, trend.

    A metric that cannot be computed (its table is missing or empty, the grain is not allowed)
    stays on the card with status ``none`` and the reason in ``error``.
    """
    grain, start, end = parse_period(period)
    first = shift(start, grain, -(trend_periods - 1))
    rows = []
    names = (
        list(metrics)
        if metrics is not None
        else [n for n, m in catalog.metrics.items() if m.meta.scorecard]
    )
    order = {p: i for i, p in enumerate(PERSPECTIVES)}
    names.sort(
        key=lambda n: (
            not catalog.metric(n).meta.north_star,
            order[catalog.metric(n).meta.perspective],
        )
    )
    results = evaluate_metrics(con, catalog, names, grain=grain, start=first, end=end, where=where)
    for name in names:
        m = catalog.metric(name)
        series: list[float] = []
        error = None
        got = results[name]
        if isinstance(got, LuopanError):
            error = got.message
        elif isinstance(got, Exception):  # a missing table surfaces as the backend's own error
            error = f"{type(got).__name__}: {str(got).splitlines()[0][:200]}"
        else:
            values = {pd.Timestamp(p).date(): float(v) for p, v in got.items()}
            series = [
                values.get(shift(first, grain, i), float("nan")) for i in range(trend_periods)
            ]
        rows.append(score_row(name, m.meta, grain, series, error))
    return Scorecard(period_label(start, grain), grain, start, end, tuple(rows))
