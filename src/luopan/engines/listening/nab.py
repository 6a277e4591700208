"""Scoring a burst detector against labelled spikes (the NAB realTweets protocol used here).

Caught: a label with an alert within ±``tolerance`` minutes. False alarm: an alert outside every
labelled window, counted per week of time outside the windows. Delay: alert time − label time of
the first alert within tolerance (negative when the alert precedes the labelled point).

References:
    Lavin, A. and Ahmad, S. (2015). Evaluating real-time anomaly detection algorithms — the
    Numenta Anomaly Benchmark. IEEE ICMLA (data, labels and windows).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["SpikeScore", "score_alerts"]


@dataclass(frozen=True)
class SpikeScore:
    labels: int
    caught: int
    false_alarms: int
    quiet_weeks: float
    delays_min: tuple[float, ...]

    @property
    def recall(self) -> float:
        return self.caught / self.labels if self.labels else float("nan")

    @property
    def fa_per_week(self) -> float:
        return self.false_alarms / self.quiet_weeks if self.quiet_weeks else float("nan")

    @property
    def median_delay_min(self) -> float:
        return float(np.median(self.delays_min)) if self.delays_min else float("nan")

    def __add__(self, other: SpikeScore) -> SpikeScore:
        return SpikeScore(
            self.labels + other.labels,
            self.caught + other.caught,
            self.false_alarms + other.false_alarms,
            self.quiet_weeks + other.quiet_weeks,
            self.delays_min + other.delays_min,
        )


def score_alerts(
    times: pd.DatetimeIndex,
    alerts: Sequence[int],
    labels: Sequence[pd.Timestamp],
    windows: Sequence[tuple[pd.Timestamp, pd.Timestamp]],
    *,
    tolerance_min: float = 60.0,
) -> SpikeScore:
    """Score alert bins (indices into ``times``) against labels and their windows."""
    at = times[np.asarray(alerts, dtype=int)] if len(alerts) else pd.DatetimeIndex([])
    delays: list[float] = []
    caught = 0
    for lab in labels:
        d = (at - lab).total_seconds() / 60.0
        near = d[np.abs(d) <= tolerance_min]
        if len(near):
            caught += 1
            delays.append(float(near[0]))
    inside = np.zeros(len(at), bool)
    quiet = np.ones(len(times), bool)
    for a, b in windows:
        inside |= (at >= a) & (at <= b)
        quiet &= ~((times >= a) & (times <= b))
    step = (times[1] - times[0]).total_seconds() if len(times) > 1 else 300.0
    weeks = quiet.sum() * step / (7 * 86400)
    return SpikeScore(len(labels), caught, int((~inside).sum()), float(weeks), tuple(delays))
