"""Typed, frozen parameters and results of anomaly detection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

__all__ = ["POINT_COLUMNS", "AnomalyPoint", "AnomalyResult", "DetectorParams"]

Status = Literal["scored", "warmup", "event_no_baseline", "missing"]

POINT_COLUMNS = (
    "unique_id",
    "ds",
    "y",
    "expected",
    "lower",
    "upper",
    "score",
    "shift_score",
    "is_anomaly",
    "direction",
    "kind",
    "event",
    "status",
)


_FLOATS = ("y", "expected", "lower", "upper", "score", "shift_score")


@dataclass(frozen=True)
class DetectorParams:
    """The detector's settings (see ``AnomalyDetector`` for their meaning)."""

    threshold: float = 3.5
    shift_threshold: float = 4.0
    level_window: int = 28
    seasonal_weeks: int = 8
    scale_window: int = 56
    shift_window: int = 7
    min_history: int = 28
    max_masked_run: int = 21
    event_effect: Literal["additive", "multiplicative"] = "multiplicative"
    counts: bool = False


@dataclass(frozen=True)
class AnomalyPoint:
    """One scored point (a row of ``AnomalyResult.points``)."""

    unique_id: str
    ds: pd.Timestamp
    y: float
    expected: float
    lower: float
    upper: float
    score: float
    shift_score: float
    is_anomaly: bool
    direction: str | None
    kind: str | None
    event: str | None
    status: str


@dataclass(frozen=True)
class AnomalyResult:
    """Expected value, interval, robust scores and verdict for every input point.

    ``points`` has one row per input row, sorted by ``unique_id, ds``:

    - ``expected``: the baseline (trailing level + weekday profile; on a known-event day
      plus last year's uplift for the same event day);
    - ``lower``/``upper``: ``expected ∓ threshold × σ``; ±inf where the point is not scored;
    - ``score``: ``(y − expected) / σ``, σ the trailing robust scale of the residuals;
    - ``shift_score``: the last 7 days' scores, clipped at ±threshold, summed over √days
      (a sustained shift that single days do not show); NaN on event days;
    - ``is_anomaly``: ``|score| > threshold`` (then y is outside [lower, upper]) or
      ``|shift_score| > shift_threshold``; ``kind`` ``point`` or ``shift`` and ``direction``
      ``up``/``down`` say which; never on unscored points;
    - ``event``: the holiday or festival label of the day, if any;
    - ``status``: ``scored``, ``warmup`` (not enough history yet), ``event_no_baseline``
      (an event day without a year-ago twin: expected as a normal day, not judged) or
      ``missing`` (y is NaN).

    ``skipped`` lists the series left out for too short a history (``on_short="skip"``).
    """

    points: pd.DataFrame
    params: DetectorParams
    skipped: tuple[str, ...] = ()

    def to_table(self) -> pd.DataFrame:
        """A copy of the per-point table."""
        return self.points.copy()

    def anomalies(self) -> pd.DataFrame:
        """The anomalous points only."""
        return self.points[self.points["is_anomaly"]].reset_index(drop=True)

    def records(self) -> list[AnomalyPoint]:
        """The points as typed records."""
        frame = self.points[list(POINT_COLUMNS)].astype(object)
        frame = frame.where(frame.notna() | frame.columns.isin(_FLOATS), None)
        return [AnomalyPoint(*row) for row in frame.itertuples(index=False)]

    def incidents(self) -> pd.DataFrame:
        """Runs of consecutive anomalous days per series and direction.

        Returns:
            unique_id, start, end, days, direction, peak_score (the largest |score| or
            |shift_score| in the run, signed).
        """
        a = self.anomalies()
        cols = ["unique_id", "start", "end", "days", "direction", "peak_score"]
        if a.empty:
            return pd.DataFrame(columns=cols)
        a = a.sort_values(["unique_id", "ds"])
        gap = a["ds"].diff().dt.days.ne(1)
        new = (
            gap
            | a["unique_id"].ne(a["unique_id"].shift())
            | a["direction"].ne(a["direction"].shift())
        )
        a = a.assign(run=new.cumsum())
        peak = np.where(
            a["score"].abs().fillna(0) >= a["shift_score"].abs().fillna(0),
            a["score"],
            a["shift_score"],
        )
        a = a.assign(peak=peak, apeak=np.abs(peak))
        g = a.groupby("run", sort=True)
        out = pd.DataFrame(
            {
                "unique_id": g["unique_id"].first(),
                "start": g["ds"].min(),
                "end": g["ds"].max(),
                "days": g["ds"].size(),
                "direction": g["direction"].first(),
                "peak_score": a.loc[g["apeak"].idxmax(), "peak"].to_numpy(),
            }
        )
        return out.reset_index(drop=True)

    def summary(self) -> pd.DataFrame:
        """Per series: points, scored points, anomalies, incidents."""
        p = self.points
        g = p.groupby("unique_id", sort=True)
        inc = self.incidents()
        n_inc = inc.groupby("unique_id").size() if not inc.empty else pd.Series(dtype=int)
        out = pd.DataFrame(
            {
                "points": g.size(),
                "scored": g["status"].apply(lambda s: int((s == "scored").sum())),
                "anomalies": g["is_anomaly"].sum().astype(int),
            }
        )
        out["incidents"] = n_inc.reindex(out.index).fillna(0).astype(int)
        return out.reset_index()
