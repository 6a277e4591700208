"""Evaluate a metric rule over a series: breaches, consecutive periods, cool-down, firings.

Pure: a frame of periods in, firings out. The series has one row per period in order with
``period`` and ``value``, and where the condition needs them ``expected`` (the anomaly model's
expected value), ``target``; missing periods are absent rows. A missing period or a period
with no value breaks a streak: "3 consecutive weeks" means three weeks in a row, each observed.

The streak rule follows the alerting convention of Prometheus' ``for:`` clause (the condition
must hold at every evaluation over the window) with Nagios-style re-notification suppressed
for ``cooldown`` periods after a firing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from luopan.decisions.rules import Condition, Rule
from luopan.errors import DecisionError

__all__ = ["Firing", "breaches", "evaluate_rule"]

_OPS = {
    "lt": lambda x, v: x < v,
    "le": lambda x, v: x <= v,
    "gt": lambda x, v: x > v,
    "ge": lambda x, v: x >= v,
    "abs_gt": lambda x, v: abs(x) > v,
}
_STEP = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}
#: the same-weekday baseline: the latest 4 ordinary same weekdays within 8 weeks, at least 3
SAME_WEEKDAY_WEEKS, SAME_WEEKDAY_REACH, SAME_WEEKDAY_MIN = 4, 8, 3
_PASSES = 5  # passes after the first that exclude breaches from the baselines
#: a change beyond this many robust standard deviations is no baseline (Hampel's 3-MAD rule)
OUTLIER_Z = 3.0


@dataclass(frozen=True)
class Firing:
    """A rule firing at ``period`` after ``streak`` consecutive breaches."""

    rule: str
    period: pd.Period
    value: float
    reference: float | None  # the number the value was compared with
    measure: float  # what the op tested: value, change or ratio
    streak: int
    #: the periods the reference averaged (``same_weekday_4w``; empty for other baselines)
    baseline: tuple[pd.Period, ...] = ()


def _reference(series: pd.DataFrame, cond: Condition, known: pd.Series) -> pd.Series:
    value = series["value"].astype(float)
    usual = value.where(~known)  # known events never serve as a baseline
    if cond.kind == "change":
        if cond.baseline == "previous":
            return usual.shift(1).where(_consecutive(series.index.to_series(), 1))
        return _column(series, "expected")  # same_weekday_4w: see _breaches
    if cond.kind == "target":
        return _column(series, "target")
    return pd.Series(cond.value, index=series.index, dtype=float)


def _same_weekday(usual: pd.Series, periods: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Mean of the same weekday in the last ``SAME_WEEKDAY_WEEKS`` ordinary weeks, looking back
    at most ``SAME_WEEKDAY_REACH`` weeks; NaN with fewer than ``SAME_WEEKDAY_MIN`` of them.

    Known events and flagged incidents are skipped rather than shrinking the baseline: a
    16-day DAU drop right after the National Day week left its second week with two ordinary
    same weekdays of four, unjudged, so it stayed in the baselines of the next weeks and made
    the recovery look like a +18% jump (the demo world's false alarm of 2026-11-13). A lasting
    level shift is flagged until the reach runs out of ordinary weeks of the old level.

    Returns the reference and, per period, which of the weeks back 1..reach it averaged.
    """
    lags = np.column_stack(
        [
            usual.shift(7 * k).where(_consecutive(periods, 7 * k)).to_numpy(dtype=float)
            for k in range(1, SAME_WEEKDAY_REACH + 1)
        ]
    )
    present = ~np.isnan(lags)
    latest = present & (np.cumsum(present, axis=1) <= SAME_WEEKDAY_WEEKS)
    n = latest.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(latest, lags, 0.0).sum(axis=1) / n
    enough = n >= SAME_WEEKDAY_MIN
    reference = pd.Series(np.where(enough, mean, np.nan), index=usual.index)
    return reference, latest & enough[:, None]


def _noise(measure: pd.Series, unusual: pd.Series) -> pd.Series:
    """Robust scale of the past relative changes: 1.4826 × MAD over the previous 84 ordinary
    periods (at least 28), using only earlier periods (Hampel 1974; Rousseeuw & Croux 1993).
    NaN where the history is too short, so a min_z condition cannot hold there."""
    past = measure.where(~unusual).shift(1)
    med = past.rolling(84, min_periods=28).median()
    mad = (past - med).abs().rolling(84, min_periods=28).median()
    return 1.4826 * mad


def _column(series: pd.DataFrame, name: str) -> pd.Series:
    if name not in series:
        raise DecisionError(
            f"the rule compares with `{name}` but the series has no {name} column",
            fix=f"give the metric a {name} (targets in the catalog; expected from the "
            "anomaly model) or change the rule's condition",
        )
    return series[name].astype(float)


def _consecutive(periods: pd.Series, lag: int) -> pd.Series:
    """True where the row ``lag`` rows back is exactly ``lag`` periods earlier."""
    ordinal = periods.map(lambda p: p.ordinal).astype("int64")
    return (ordinal - ordinal.shift(lag)) == lag


def breaches(series: pd.DataFrame, cond: Condition, known: pd.Series | None = None) -> pd.DataFrame:
    """Per period: the reference, the tested measure and whether the condition holds.

    ``known`` marks periods of known events (public holidays, shopping festivals): a change
    there is expected, so it is never a breach of a change condition, and those periods are
    left out of every baseline.
    """
    return _settle(series, cond, known)[0]


def _settle(
    series: pd.DataFrame, cond: Condition, known: pd.Series | None
) -> tuple[pd.DataFrame, np.ndarray | None]:
    """``breaches`` and, for ``same_weekday_4w``, which weeks back each reference averaged."""
    known = (
        pd.Series(False, index=series.index)
        if known is None
        else known.reindex(series.index, fill_value=False).astype(bool)
    )
    out, weeks = _breaches(series, cond, known, known)
    if cond.kind != "change":
        return out.drop(columns="outlier"), weeks
    # Further passes keep breached periods out of the baselines too, so an incident does not
    # become the norm the following weeks are compared with, and so are outliers too small to
    # breach (more than OUTLIER_Z robust standard deviations from the usual change: a -14% day
    # of a -20% drop). A period judged only once its incident's first days left the baseline is
    # then left out in turn, until the set of unusual periods no longer changes.
    unusual = known | out["breach"] | out["outlier"]
    for _ in range(_PASSES):
        out, weeks = _breaches(series, cond, known, unusual)
        again = known | out["breach"] | out["outlier"]
        if again.equals(unusual):
            break
        unusual = again
    return out.drop(columns="outlier"), weeks
    # Further passes keep breached periods out of the baselines too, so an incident does not
    # become the norm the following weeks are compared with, and so are outliers too small to
    # breach (more than OUTLIER_Z robust standard deviations from the usual change: a -14% day
    # of a -20% drop). A period judged only once its incident's first days left the baseline is
    # then left out in turn, until the set of unusual periods no longer changes.
    unusual = known | out["breach"] | out["outlier"]
    for _ in range(_PASSES):
        out = _breaches(series, cond, known, unusual)
        again = known | out["breach"] | out["outlier"]
        if again.equals(unusual):
            break
        unusual = again
    return out.drop(columns="outlier")


def _breaches(
    series: pd.DataFrame, cond: Condition, known: pd.Series, unusual: pd.Series
) -> tuple[pd.DataFrame, np.ndarray | None]:
    value = series["value"].astype(float)
    weeks = None
    if cond.kind == "change" and cond.baseline == "same_weekday_4w":
        ref, weeks = _same_weekday(value.where(~unusual), series.index.to_series())
    else:
        ref = _reference(series, cond, unusual)
    if cond.kind == "change":
        measure = (value - ref) / ref.abs().where(ref != 0)
    elif cond.kind == "target":
        measure = value / ref.where(ref != 0)
    else:
        measure = value
    hold = [
        bool(
            not math.isnan(m)
            and _OPS[cond.op](m, cond.value if cond.kind != "target" else 1 + cond.value)
        )
        for m in measure.to_numpy(dtype=float, na_value=np.nan)
    ]
    outlier = np.zeros(len(series), dtype=bool)
    if cond.kind == "change":
        size = measure.abs().to_numpy(dtype=float, na_value=np.nan)
        noise = _noise(measure, unusual).to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            outlier = size > OUTLIER_Z * noise  # NaN (no history yet): False
        if cond.min_z > 0:
            hold = [h and m > cond.min_z * z for h, m, z in zip(hold, size, noise, strict=True)]
        hold = [h and not k for h, k in zip(hold, known.to_numpy(), strict=True)]
    out = pd.DataFrame(
        {"reference": ref, "measure": measure, "breach": hold, "outlier": outlier},
        index=series.index,
    )
    return out, weeks


def evaluate_rule(
    rule: Rule, series: pd.DataFrame, *, known: pd.Series | None = None
) -> list[Firing]:
    """Firings of ``rule`` over ``series`` (index: ``pd.Period`` of the rule's grain).

    ``known``: periods of known events (see :func:`breaches`).

    Raises:
        DecisionError: a freshness rule (evaluated on the sources), an index that is not a
            period index of the rule's grain, or a reference column the series lacks.
    """
    if rule.condition.kind == "freshness":
        raise DecisionError(
            f"rule {rule.name!r} watches sources, not a metric series",
            fix="evaluate it with the warehouse status",
        )
    if not isinstance(series.index, pd.PeriodIndex) or not series.index.freqstr.startswith(
        _STEP[rule.grain]
    ):
        raise DecisionError(
            f"rule {rule.name!r}: the series must be indexed by {rule.grain}s",
            fix=f"query the metric at grain {rule.grain}",
        )
    series = series.sort_index()
    b, weeks = _settle(series, rule.condition, known)  # weeks: same_weekday_4w's weeks back
    follows = _consecutive(series.index.to_series(), 1).to_numpy()
    values = series["value"].astype(float).to_numpy()
    firings: list[Firing] = []
    streak = 0
    last_fired: int | None = None
    for i, period in enumerate(series.index):
        observed = not math.isnan(values[i])
        if not (b["breach"].iat[i] and observed):
            streak = 0
            continue
        streak = streak + 1 if (streak and follows[i]) else 1
        if streak < rule.for_:
            continue
        if last_fired is not None and period.ordinal - last_fired < rule.cooldown:
            continue
        ref = b["reference"].iat[i]
        firings.append(
            Firing(
                rule.name,
                period,
                float(values[i]),
                None if math.isnan(ref) else float(ref),
                float(b["measure"].iat[i]),
                streak,
                ()
                if weeks is None
                else tuple(period - 7 * (k + 1) for k in np.flatnonzero(weeks[i])),
            )
        )
        last_fired = period.ordinal
    return firings
