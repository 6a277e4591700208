"""``AnomalyDetector``: the scikit-learn-style estimator around the scoring core."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import Any, Literal

import numpy as np
import pandas as pd

from luopan.engines.anomaly.calendar import EventWindow, china_events, event_days
from luopan.engines.anomaly.frame import to_long, to_wide
from luopan.engines.anomaly.result import POINT_COLUMNS, AnomalyResult, DetectorParams
from luopan.engines.anomaly.score import Scores, score_matrix
from luopan.errors import EngineError, InsufficientDataError

__all__ = ["AnomalyDetector", "detect_anomalies"]

_STATUS = np.array(["scored", "warmup", "event_no_baseline", "missing"], dtype=object)
_KIND = np.array([None, "point", "shift"], dtype=object)
_DIRECTION = {-1: "down", 0: None, 1: "up"}


class AnomalyDetector:
    """Robust seasonal anomaly detector for daily metric series, one or many slices at once.

    ``__init__`` only stores the settings; ``fit(history)`` validates the history, checks the
    minimum-history rule and learns each series' current level, weekday profile and scale;
    ``detect(data)`` scores every row of ``data`` with the fitted history as context and
    returns an ``AnomalyResult``. The method is described in ``luopan.engines.anomaly.score``.

    A day is judged on the days before it only (trailing windows), so ``fit(history)`` then
    ``detect(new_days)`` gives what ``fit_detect`` over both gives for the new days. One
    exception: when a sustained shift is flagged, its onset (up to ``shift_window`` − 1 days
    before the first flag) is taken out of the baseline, which moves the expected values of
    those few days.

    Args:
        threshold: |robust score| above which a day is anomalous (3.5; Iglewicz & Hoaglin).
        shift_threshold: |shift score| above which a sustained shift is anomalous (4.0).
        level_window: days in the trailing median level (28).
        seasonal_weeks: weeks in the trailing median weekday profile (8).
        scale_window: days of residuals in the trailing MAD scale (56).
        shift_window: days of clipped scores summed into the shift score (7).
        min_history: usable days (observed, outside events) a series needs before its first
            judged day, and in total to be fitted (28 = 4 weeks of weekly seasonality).
        max_masked_run: the longest run of anomalous days kept out of the baseline (21).
        event_effect: how last year's event uplift carries over: ``multiplicative`` (the
            default: this year's baseline × last year's ratio to its baseline, so growth
            carries into 双11; additive where the twin's baseline is not positive) or
            ``additive`` (baseline + last year's difference; then expected values move
            exactly with constant shifts of the series on event days too).
        counts: the series are counts (users, orders): σ is at least the Poisson σ
            √max(expected, 1), which keeps slices of a few users a day from alarming on
            ±3 users. Off by default, because it ties σ to the unit (no scale invariance).
        events: the known event windows; None = Chinese public holidays and shopping
            festivals (``china_events``); ``()`` = none.
        on_short: ``raise`` (InsufficientDataError) or ``skip`` a series with too short a
            history; skipped ids are in ``skipped_`` and ``AnomalyResult.skipped``.
        id_col, time_col, target_col: column names of a long input table.

    Attributes (after ``fit``):
        history_: the fitted long table (unique_id, ds, y).
        unique_ids_: the fitted series ids.
        skipped_: ids left out for too short a history.
        events_: the event windows used.
        level_, weekly_profile_, scale_: per series, the level, weekday offsets (Mon..Sun)
            and robust σ at the end of the history.
    """

    def __init__(
        self,
        *,
        threshold: float = 3.5,
        shift_threshold: float = 4.0,
        level_window: int = 28,
        seasonal_weeks: int = 8,
        scale_window: int = 56,
        shift_window: int = 7,
        min_history: int = 28,
        max_masked_run: int = 21,
        event_effect: Literal["additive", "multiplicative"] = "multiplicative",
        counts: bool = False,
        events: Sequence[EventWindow] | None = None,
        on_short: Literal["raise", "skip"] = "raise",
        id_col: str = "unique_id",
        time_col: str = "ds",
        target_col: str = "y",
    ) -> None:
        self.threshold = threshold
        self.shift_threshold = shift_threshold
        self.level_window = level_window
        self.seasonal_weeks = seasonal_weeks
        self.scale_window = scale_window
        self.shift_window = shift_window
        self.min_history = min_history
        self.max_masked_run = max_masked_run
        self.event_effect = event_effect
        self.counts = counts
        self.events = events
        self.on_short = on_short
        self.id_col = id_col
        self.time_col = time_col
        self.target_col = target_col

    # -- scikit-learn protocol -------------------------------------------------------------
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        names = [f.name for f in fields(DetectorParams)]
        names += ["events", "on_short", "id_col", "time_col", "target_col"]
        return {n: getattr(self, n) for n in names}

    def set_params(self, **params: Any) -> AnomalyDetector:
        for k, v in params.items():
            if k not in self.get_params():
                raise EngineError(f"unknown parameter {k!r}", fix="see AnomalyDetector's Args")
            setattr(self, k, v)
        return self

    def _params(self) -> DetectorParams:
        p = DetectorParams(**{f.name: getattr(self, f.name) for f in fields(DetectorParams)})
        problems = []
        if not (p.threshold > 0 and p.shift_threshold > 0):
            problems.append("threshold and shift_threshold must be > 0")
        if p.min_history < 14:
            problems.append(f"min_history={p.min_history} is below 14 (two weeks)")
        if min(p.level_window, p.seasonal_weeks, p.scale_window, p.shift_window) < 2:
            problems.append("windows must be at least 2")
        if p.event_effect not in ("additive", "multiplicative"):
            problems.append(f"event_effect={p.event_effect!r}")
        if self.on_short not in ("raise", "skip"):
            problems.append(f"on_short={self.on_short!r}")
        if problems:
            raise EngineError(
                "invalid anomaly detector settings: " + "; ".join(problems),
                fix="see AnomalyDetector's Args for the allowed values",
            )
        return p

    def _long(self, data: pd.Series | pd.DataFrame) -> pd.DataFrame:
        return to_long(data, id_col=self.id_col, time_col=self.time_col, target_col=self.target_col)

    def _events(self, days: pd.DatetimeIndex) -> tuple[EventWindow, ...]:
        if self.events is not None:
            return tuple(self.events)
        if len(days) == 0:
            return ()
        return china_events(days[0].date(), days[-1].date())

    def _run(self, long: pd.DataFrame) -> tuple[pd.DatetimeIndex, list[str], Scores, np.ndarray]:
        days, ids, y = to_wide(long)
        labels, twin = event_days(days, self._events(days))
        event = np.array([lab is not None for lab in labels], dtype=bool)
        return days, ids, score_matrix(y, days, event, twin, self._params()), labels

    def _screen(self, long: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
        """Apply the minimum-history rule per series (raise, or drop and report)."""
        if long.empty:
            raise InsufficientDataError(
                "no data to detect anomalies on", fix="pass at least 4 weeks of daily values"
            )
        days, ids, y = to_wide(long)
        labels, _ = event_days(days, self._events(days))
        event = np.array([lab is not None for lab in labels], dtype=bool)
        usable = (~np.isnan(y) & ~event[:, None]).sum(axis=0)
        short = [(i, int(n)) for i, n in zip(ids, usable, strict=True) if n <= self.min_history]
        if short and self.on_short == "raise":
            uid, n = short[0]
            more = f" (and {len(short) - 1} more series)" if len(short) > 1 else ""
            raise InsufficientDataError(
                f"series {uid!r} has {n} usable days (observed, outside holidays and "
                f"festivals){more}; weekly seasonality needs more than {self.min_history} "
                "before the first day it can judge",
                fix=f"pass at least {self.min_history + 7} days of history, or "
                "on_short='skip' to leave short slices out",
            )
        skipped = tuple(uid for uid, _ in short)
        return long[~long["unique_id"].isin(skipped)].reset_index(drop=True), skipped

    def fit(self, data: pd.Series | pd.DataFrame) -> AnomalyDetector:
        """Validate ``data`` (the history), apply the minimum-history rule, learn the state.

        Raises:
            DataContractError: malformed input (see ``frame.to_long``).
            InsufficientDataError: a series has ``min_history`` usable days or fewer and
                ``on_short="raise"``; or no series is left.
        """
        self._fit(self._long(data))
        return self

    def _fit(self, data: pd.DataFrame) -> tuple[pd.DatetimeIndex, list[str], Scores, np.ndarray]:
        self._params()
        long, skipped = self._screen(data)
        if long.empty:
            raise InsufficientDataError(
                f"every series was skipped for a history of {self.min_history} days or less",
                fix=f"pass at least {self.min_history + 7} days per series",
            )
        days, ids, scores, labels = self._run(long)
        self.history_ = long
        self.unique_ids_ = tuple(ids)
        self.skipped_ = skipped
        self.events_ = self._events(days)
        self.level_ = pd.Series(scores.level[-1], index=ids, name="level")
        self.scale_ = pd.Series(scores.sigma[-1], index=ids, name="scale")
        last_week = np.arange(len(days) - 7, len(days)) if len(days) >= 7 else np.arange(0)
        profile = pd.DataFrame(scores.season[last_week].T, index=ids)
        profile.columns = [int(d) for d in days[last_week].day_of_week]
        self.weekly_profile_ = profile.reindex(columns=range(7))
        return days, ids, scores, labels

    def detect(self, data: pd.Series | pd.DataFrame) -> AnomalyResult:
        """Score every row of ``data``, using the fitted history as context.

        Rows of ``data`` replace history rows of the same series and day. A series absent
        from the history must bring its own minimum history.

        Returns:
            AnomalyResult with one row per row of ``data`` (of the series not skipped).
        """
        if not hasattr(self, "history_"):
            raise EngineError(
                "this AnomalyDetector is not fitted yet",
                fix="call fit(history) first, or fit_detect(data)",
            )
        new = self._long(data)
        hist = self.history_
        key = ["unique_id", "ds"]
        keep = ~hist.set_index(key).index.isin(new.set_index(key).index)
        combined = pd.concat([hist[keep], new], ignore_index=True).sort_values(key)
        combined, skipped = self._screen(combined)
        skipped = tuple(sorted(set(skipped) | set(self.skipped_)))
        new = new[~new["unique_id"].isin(skipped)].reset_index(drop=True)
        days, ids, scores, labels = self._run(combined)
        return AnomalyResult(self._points(new, days, ids, scores, labels), self._params(), skipped)

    def fit_detect(self, data: pd.Series | pd.DataFrame) -> AnomalyResult:
        """``fit(data).detect(data)`` in one scoring run: judge every day against its past."""
        days, ids, scores, labels = self._fit(self._long(data))
        points = self._points(self.history_, days, ids, scores, labels)
        return AnomalyResult(points, self._params(), self.skipped_)

    @staticmethod
    def _points(
        new: pd.DataFrame,
        days: pd.DatetimeIndex,
        ids: list[str],
        s: Scores,
        labels: np.ndarray,
    ) -> pd.DataFrame:
        t = ((new["ds"] - days[0]) // pd.Timedelta(days=1)).to_numpy(dtype=np.int64)
        col = pd.Index(ids).get_indexer(new["unique_id"])
        out = pd.DataFrame(
            {
                "unique_id": new["unique_id"].to_numpy(),
                "ds": new["ds"].to_numpy(),
                "y": new["y"].to_numpy(),
                "expected": s.expected[t, col],
                "lower": s.lower[t, col],
                "upper": s.upper[t, col],
                "score": s.score[t, col],
                "shift_score": s.shift_score[t, col],
                "is_anomaly": s.is_anomaly[t, col],
                "direction": [_DIRECTION[int(d)] for d in s.direction[t, col]],
                "kind": _KIND[s.kind[t, col]],
                "event": labels[t],
                "status": _STATUS[s.status[t, col]],
            }
        )
        for c in ("unique_id", "direction", "kind", "event", "status"):
            out[c] = pd.Series(out[c].to_numpy(dtype=object), dtype="str")
        return out[list(POINT_COLUMNS)].sort_values(["unique_id", "ds"]).reset_index(drop=True)


def detect_anomalies(data: pd.Series | pd.DataFrame, **params: Any) -> AnomalyResult:
    """One call: ``AnomalyDetector(**params).fit_detect(data)``."""
    return AnomalyDetector(**params).fit_detect(data)
