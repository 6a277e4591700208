"""The scoring core: trailing robust level + weekday profile, year-ago event twins, MAD scores.

For each series and day ``t`` (all series at once, as columns of a days × series matrix):

1. ``level_t`` = median of the last ``level_window`` (28) usable days before ``t``; usable
   means observed, outside known events and not masked as anomalous (a window counts
   usable days, so a long festival or incident does not leave it empty).
2. ``season_t`` = median of ``y − level`` over the last ``seasonal_weeks`` (8) usable days
   of the same weekday. Because the level trails, this also carries the trend's lag, so
   ``level + season`` tracks a linear trend without bias.
3. ``expected_t`` = ``level + season``; on a holiday/festival day with a year-ago twin
   (the same day of the same event last year) the twin's uplift over its own baseline is
   applied (as a ratio by default, ``event_effect="multiplicative"``, or as a difference),
   so 双11 is expected to look like last year's 双11 grown with the baseline. Event days
   without a twin are labelled but not judged.
4. ``σ_t`` = 1.4826 × median |residual| over the last ``scale_window`` (56) usable days
   (Hampel 1974; Rousseeuw & Croux 1993), ``score = (y − expected) / σ`` (on event days σ
   combines the day's and the twin's). A point is anomalous when ``|score| > threshold``
   (3.5, the modified z-score cut-off of Iglewicz & Hoaglin 1993). For counts
   (``counts=True``) σ is at least the Poisson σ √expected.
5. ``shift_score`` = the sum of the last ``shift_window`` (7) days' scores, each clipped at
   ±threshold (Huber 1964) so one spike cannot make a shift, over √(days): a moving-window
   test for a change in mean (Basseville & Nikiforov 1993, ch. 2). It catches a sustained
   shift too small to show on a single day (a 70 % drop of a slice of ~12 daily users, a
   25 % drop at a 12 % day-to-day spread); flagged above ``shift_threshold`` (4).
6. The whole pass runs twice; the second masks the first pass's anomalies (runs of at most
   ``max_masked_run`` days, after which a shift becomes the new normal) out of the level
   and profile, and its shifts out of the scale, so an incident does not drag the baseline
   along — STL's robustness iterations play the same role.

This is hand-written, not ``statsmodels.tsa.STL``, because STL is centred (it needs days
after ``t``, so the last — the one a monitor cares about — is judged with half a window),
fits one series at a time, and has no notion of known events. STL with robust weights
(Cleveland et al. 1990) is the benchmark's baseline; Twitter's S-H-ESD (Hochenbaum, Vallis &
Kejariwal 2017) is the nearest peer: STL seasonality, median instead of trend, MAD-based
generalized ESD.

References:
    Cleveland, R. B., Cleveland, W. S., McRae, J. E. & Terpenning, I. (1990). STL: a
    seasonal-trend decomposition procedure based on loess. J. Official Statistics 6, 3–73.
    Hampel, F. R. (1974). The influence curve and its role in robust estimation. JASA 69.
    Rousseeuw, P. J. & Croux, C. (1993). Alternatives to the median absolute deviation. JASA 88.
    Iglewicz, B. & Hoaglin, D. (1993). How to Detect and Handle Outliers. ASQC.
    Huber, P. J. (1964). Robust estimation of a location parameter. Ann. Math. Stat. 35.
    Basseville, M. & Nikiforov, I. V. (1993). Detection of Abrupt Changes. Prentice Hall.
    Hochenbaum, J., Vallis, O. S. & Kejariwal, A. (2017). Automatic anomaly detection in the
    cloud via statistical learning. arXiv:1704.07706.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from luopan.engines.anomaly.result import DetectorParams
from luopan.engines.anomaly.robust import (
    rolling_mean,
    run_position,
    trailing_median,
    trailing_scale,
    trailing_weekday_median,
)

__all__ = ["Scores", "score_matrix"]

_MIN_LEVEL_OBS = 7
_MIN_SEASON_WEEKS = 2
_MIN_SCALE_OBS = 7


@dataclass(frozen=True)
class Scores:
    """Days × series arrays of one scoring run (``status``: 0 scored, 1 warmup, 2 event
    without a twin, 3 missing; ``direction``: +1 up, −1 down, 0 none; ``kind``: 1 point,
    2 shift, 0 none)."""

    expected: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    score: np.ndarray
    shift_score: np.ndarray
    is_anomaly: np.ndarray
    direction: np.ndarray
    kind: np.ndarray
    status: np.ndarray
    level: np.ndarray
    season: np.ndarray
    sigma: np.ndarray


def _event_expectation(
    y: np.ndarray,
    base: np.ndarray,
    sigma: np.ndarray,
    rows: np.ndarray,
    twin: np.ndarray,
    effect: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Expected value and σ on event rows from their year-ago twins."""
    b, bt, st = base[rows], base[twin], sigma[twin]
    expected = b + (y[twin] - bt)
    sig = np.hypot(sigma[rows], st)
    if effect == "multiplicative":
        pos = (bt > 0) & (b > 0)
        safe = np.where(pos, bt, 1.0)
        ratio = y[twin] / safe
        expected = np.where(pos, b * ratio, expected)
        sig = np.where(pos, np.hypot(np.abs(ratio) * sigma[rows], b / safe * st), sig)
    return expected, sig


def _one_pass(
    y: np.ndarray,
    fit: np.ndarray,
    weekday: np.ndarray,
    event: np.ndarray,
    twin: np.ndarray,
    hist: np.ndarray,
    p: DetectorParams,
    scale_fit: np.ndarray,
) -> Scores:
    x = np.where(fit, y, np.nan)
    level = trailing_median(x, p.level_window, _MIN_LEVEL_OBS)
    season = trailing_weekday_median(x - level, weekday, p.seasonal_weeks, _MIN_SEASON_WEEKS)
    base = level + season
    resid = y - base
    sigma = trailing_scale(np.where(scale_fit, resid, np.nan), p.scale_window, _MIN_SCALE_OBS)
    sigma = np.maximum(sigma, 1e-9 * np.abs(level))
    expected, sig = base.copy(), sigma.copy()
    rows = np.flatnonzero(event & (twin >= 0))
    if rows.size:
        expected[rows], sig[rows] = _event_expectation(
            y, base, sigma, rows, twin[rows], p.event_effect
        )
    if p.counts:
        sig = np.maximum(sig, np.sqrt(np.maximum(expected, 1.0)))
    ev = event[:, None]
    missing = np.isnan(y)
    has_twin = (twin >= 0)[:, None] & np.isfinite(expected) & np.isfinite(sig)
    warm = (hist < p.min_history) | ~np.isfinite(base) | ~np.isfinite(sigma)
    no_twin = ev & ~has_twin & ~warm
    status = np.select([missing, warm, no_twin], [3, 1, 2], default=0)
    scored = status == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(scored, (y - expected) / sig, np.nan)
        exact = np.where(y == expected, 0.0, np.sign(y - expected) * np.inf)
        score = np.where(scored & (sig == 0), exact, score)
        # Huber-clipped scores of the normal days, summed over the window, over √count
        clipped = np.where(scored & ~ev, np.clip(score, -p.threshold, p.threshold), np.nan)
        least = p.shift_window // 2 + 1
        mean = rolling_mean(clipped, p.shift_window, least)
        count = rolling_mean(np.isfinite(clipped).astype(float), p.shift_window, 1)
        shift_score = np.where(scored & ~ev, mean * np.sqrt(count * p.shift_window), np.nan)
    point = scored & (np.abs(np.nan_to_num(score)) > p.threshold)
    shift = scored & ~ev & (np.abs(np.nan_to_num(shift_score)) > p.shift_threshold)
    flag = point | shift
    direction = np.where(
        point, np.sign(np.nan_to_num(score)), np.where(shift, np.sign(shift_score), 0)
    ).astype(np.int8)
    kind = np.select([point, shift], [1, 2], default=0).astype(np.int8)
    half = np.where(scored, p.threshold * sig, np.inf)
    return Scores(
        expected=expected,
        lower=expected - half,
        upper=expected + half,
        score=score,
        shift_score=shift_score,
        is_anomaly=flag,
        direction=direction,
        kind=kind,
        status=status.astype(np.int8),
        level=level,
        season=season,
        sigma=sigma,
    )


def score_matrix(
    y: np.ndarray,
    days: pd.DatetimeIndex,
    event: np.ndarray,
    twin: np.ndarray,
    params: DetectorParams,
) -> Scores:
    """Score a days × series matrix (NaN = missing) whose rows are the consecutive ``days``.

    Args:
        y: the values.
        days: one row label per day, consecutive.
        event: bool per day, a known holiday or festival.
        twin: per day, the row of its year-ago twin (−1 for none).
        params: the detector's settings.
    """
    weekday = days.day_of_week.to_numpy()
    usable = ~np.isnan(y) & ~event[:, None]
    hist = np.cumsum(usable, axis=0) - usable
    first = _one_pass(y, usable, weekday, event, twin, hist, params, usable)
    # second pass: anomalous runs leave the baseline (at most max_masked_run days each) …
    masked = _capped(first.is_anomaly, params.max_masked_run)
    # … and a shift flagged on day t began within the window before it
    shift = _capped(first.kind == 2, params.max_masked_run)
    starts = shift & ~np.vstack([np.zeros((1, shift.shape[1]), dtype=bool), shift[:-1]])
    for lag in range(1, params.shift_window):
        masked[:-lag] |= starts[lag:]
        shift[:-lag] |= starts[lag:]
    # the scale drops shifts only: MAD shrugs off single outliers, and dropping them too
    # would bias σ low
    return _one_pass(y, usable & ~masked, weekday, event, twin, hist, params, usable & ~shift)


def _capped(flags: np.ndarray, cap: int) -> np.ndarray:
    """The first ``cap`` days of each run of flags."""
    pos = run_position(flags)
    return (pos >= 0) & (pos < cap)
