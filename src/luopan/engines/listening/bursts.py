"""Burst detection on binned mention counts: robust z, ratio to baseline and CUSUM.

All three look only at the past (an online detector): the baseline at bin ``t`` is built from
bins before ``t``. Counts are first summed over a short window (``window`` bins), which trades
a few minutes of delay for far fewer single-bin false alarms. An alert fires when the robust z
*and* the ratio to baseline both pass their thresholds (vendors' "spike vs rolling baseline" with
a sensitivity floor), or when the CUSUM of the robust z crosses ``cusum_h``; alerts closer than
``cooldown`` bins to the previous one are merged. An optional *novelty gate* (``peak_days``)
keeps only counts that reach ``peak_ratio`` × the largest count of the past ``peak_days`` days
(leaving out the last ``peak_gap`` bins, so a spike's own rise does not mask it): a stream that
bursts every day (NAB's UPS series after its March event) then alerts on a burst larger than
its recent ones, not on each repeat — the "compare with the previous day and week" check that
Meltwater describes for its spike alerts.

Two optional scales (off by default): a *short window* (``short_window`` bins, its own ratio
threshold ``short_ratio``) tested beside the main one, so a one-bin spike that a 30-minute sum
dilutes still alerts — the multiple-window-length idea of temporal scan statistics (Kulldorff
1997; Neill et al. 2005, expectation-based scan) reduced to two windows; and an *hour-of-day
ratio* (``seasonal_ratio_days``) whose denominator is the larger of the rolling mean and the
same-bin-of-day median, so a burst that recurs at the same hour each day is not new volume.
On NAB realTweets they caught every fit-series label but did not improve the held-out score
(14/20 either way; benchmarks/RESULTS.md, ``## listening``).

Why by hand: each statistic is a few lines of numpy/pandas; the packages that bundle them are
unmaintained or unlicensed (see the module docs of the listening engine).

References:
    Hampel, F. R. (1974). The influence curve and its role in robust estimation. JASA 69
    (median / MAD, the 1.4826 consistency factor).
    Page, E. S. (1954). Continuous inspection schemes. Biometrika 41(1/2), 100-115 (CUSUM).
    Kulldorff, M. (1997). A spatial scan statistic. Communications in Statistics — Theory and
    Methods 26(6) (scan over several window lengths).
    Neill, D. B. et al. (2005). Detecting significant multidimensional spatial clusters. NIPS 17
    (expectation-based scan: counts against a baseline expectation).
    Hutwagner, L. et al. (2003). The bioterrorism preparedness and response Early Aberration
    Reporting System (EARS). J. Urban Health 80 (ratio/threshold on a rolling baseline).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from luopan.errors import EngineError

__all__ = [
    "BurstParams",
    "BurstResult",
    "bin_mentions",
    "cusum",
    "detect_bursts",
    "robust_z",
    "seasonal_median",
]


@dataclass(frozen=True)
class BurstParams:
    """Detector parameters, in bins (NAB realTweets: 5-minute bins).

    Attributes:
        window: bins summed into the tested count.
        median_bins: past bins of the rolling median (the level).
        mad_bins: past bins of the rolling MAD (the spread).
        mean_bins: past bins of the rolling mean (the ratio's denominator).
        z: robust-z threshold.
        ratio: ratio-to-baseline threshold.
        cusum_k: CUSUM allowance (in z units); ``cusum_h`` its decision interval (0 = off).
        cooldown: minimum bins between two alerts.
        seasonal_days: if > 0, the level is the median of the same bin of day over that many
            past days (an hour-of-day baseline; ``bins_per_day`` bins a day) instead of the
            rolling median.
        bins_per_day: bins in a day (288 for 5-minute bins).
        peak_days: if > 0, the novelty gate's look-back in days (0 = off).
        peak_ratio: the gate: count ≥ peak_ratio × the past maximum.
        peak_gap: recent bins left out of the past maximum.
        short_window: if > 0, a second, shorter window tested beside ``window`` (0 = off); an
            alert fires when either scale passes.
        short_ratio: the ratio threshold of the short window (its z threshold is ``z``).
        seasonal_ratio_days: if > 0, the ratio's denominator is max(rolling mean, median of the
            same bin of day over that many past days) instead of the rolling mean.
    """

    window: int = 3
    median_bins: int = 288
    mad_bins: int = 2016
    mean_bins: int = 2016
    z: float = 10.0
    ratio: float = 4.0
    cusum_k: float = 1.0
    cusum_h: float = 0.0
    cooldown: int = 24
    seasonal_days: int = 0
    bins_per_day: int = 288
    peak_days: int = 0
    peak_ratio: float = 0.6
    peak_gap: int = 12
    short_window: int = 0
    short_ratio: float = 18.0
    seasonal_ratio_days: int = 0


@dataclass(frozen=True)
class BurstResult:
    """Per-bin statistics and the alert bins."""

    z: np.ndarray
    ratio: np.ndarray
    cusum: np.ndarray
    alerts: np.ndarray  # indices of alert bins

    def to_table(self) -> pd.DataFrame:
        flag = np.zeros(self.z.size, bool)
        flag[self.alerts] = True
        return pd.DataFrame({"z": self.z, "ratio": self.ratio, "cusum": self.cusum, "alert": flag})


def seasonal_median(x: np.ndarray, *, days: int, bins_per_day: int) -> np.ndarray:
    """Median of the same bin of day over the past ``days`` days (NaN without history)."""
    v = np.asarray(x, dtype=float)
    lag = np.full((days, v.size), np.nan)
    for k in range(1, days + 1):
        shift = k * bins_per_day
        if shift < v.size:
            lag[k - 1, shift:] = v[:-shift]
    out = np.full(v.size, np.nan)
    seen = (~np.isnan(lag)).any(axis=0)
    out[seen] = np.nanmedian(lag[:, seen], axis=0)
    return out


def robust_z(
    x: np.ndarray,
    *,
    median_bins: int,
    mad_bins: int,
    seasonal_days: int = 0,
    bins_per_day: int = 288,
) -> np.ndarray:
    """(x − baseline) / (1.4826 · rolling MAD), both from past bins only.

    The baseline is the rolling median, or with ``seasonal_days`` the same-bin-of-day median.
    The MAD is floored at the Poisson spread √(baseline + 1) so sparse streams are not divided
    by 0.
    """
    s = pd.Series(np.asarray(x, dtype=float))
    past = s.shift(1)
    med = past.rolling(median_bins, min_periods=max(12, median_bins // 4)).median()
    dev = (past - med).abs()
    mad = 1.4826 * dev.rolling(mad_bins, min_periods=max(12, median_bins // 4)).median()
    level = med.to_numpy()
    if seasonal_days > 0:
        level = seasonal_median(s.to_numpy(), days=seasonal_days, bins_per_day=bins_per_day)
    scale = np.maximum(mad.to_numpy(), np.sqrt(np.nan_to_num(level) + 1.0))
    return np.nan_to_num((s.to_numpy() - level) / scale, nan=0.0)


def cusum(z: np.ndarray, *, k: float) -> np.ndarray:
    """One-sided upper CUSUM S_t = max(0, S_{t−1} + z_t − k) (Page 1954)."""
    out = np.empty(len(z))
    acc = 0.0
    for i, v in enumerate(np.asarray(z, dtype=float)):
        acc = max(0.0, acc + min(v, 50.0) - k)  # cap a single bin's push
        out[i] = acc
    return out


def _scale(
    x: np.ndarray, p: BurstParams, window: int, ratio_min: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Robust z, ratio and alert flags of one window length."""
    summed = pd.Series(x).rolling(window, min_periods=1).sum().to_numpy()
    z = robust_z(
        summed,
        median_bins=p.median_bins,
        mad_bins=p.mad_bins,
        seasonal_days=p.seasonal_days,
        bins_per_day=p.bins_per_day,
    )
    mean = pd.Series(summed).shift(1).rolling(p.mean_bins, min_periods=12).mean().to_numpy()
    if p.seasonal_ratio_days > 0:
        same_bin = seasonal_median(summed, days=p.seasonal_ratio_days, bins_per_day=p.bins_per_day)
        mean = np.fmax(mean, same_bin)
    ratio = np.nan_to_num(summed / np.maximum(mean, 1.0), nan=0.0)
    hit = (z > p.z) & (ratio > ratio_min)
    if p.peak_days > 0:
        past = pd.Series(summed).shift(p.peak_gap)
        top = past.rolling(p.peak_days * p.bins_per_day, min_periods=p.bins_per_day // 2).max()
        hit &= summed >= p.peak_ratio * np.maximum(np.nan_to_num(top.to_numpy()), 1.0)
    return z, ratio, hit


def detect_bursts(counts: np.ndarray, params: BurstParams | None = None) -> BurstResult:
    """Alert bins of an upward burst in ``counts`` (one regular series, oldest first).

    The returned z, ratio and CUSUM are those of the main ``window``.

    Raises:
        EngineError: negative or non-finite counts.
    """
    p = params or BurstParams()
    x = np.asarray(counts, dtype=float)
    if x.ndim != 1 or not np.all(np.isfinite(x)) or (x < 0).any():
        raise EngineError("burst detection needs a 1-d series of finite, non-negative counts")
    z, ratio, hit = _scale(x, p, p.window, p.ratio)
    if p.short_window > 0:
        hit = hit | _scale(x, p, p.short_window, p.short_ratio)[2]
    cs = cusum(z, k=p.cusum_k)
    if p.cusum_h > 0:
        hit |= cs > p.cusum_h
    alerts: list[int] = []
    for i in np.flatnonzero(hit):
        if not alerts or i - alerts[-1] >= p.cooldown:
            alerts.append(int(i))
    return BurstResult(z=z, ratio=ratio, cusum=cs, alerts=np.asarray(alerts, dtype=int))


def bin_mentions(
    mentions: pd.DataFrame,
    *,
    freq: str = "5min",
    by: str | None = None,
    reach: bool = False,
    negative: np.ndarray | None = None,
) -> pd.DataFrame:
    """Regular series of mention volume (or reach-weighted volume) per bin, one column per group.

    Reach weighting counts a mention as log(1 + author_followers) + 1, so one large account
    weighs like several small ones without drowning the stream.

    Args:
        mentions: ``published_at`` and, for ``reach``, ``author_followers``; ``by`` column if given.
        by: a grouping column (platform, topic); None gives one column ``all``.
        negative: keep only the rows flagged True (e.g. negative sentiment).
    """
    df = mentions if negative is None else mentions[np.asarray(negative, bool)]
    t = pd.to_datetime(df["published_at"], errors="coerce")
    w = (
        np.log1p(pd.to_numeric(df["author_followers"], errors="coerce").fillna(0)) + 1.0
        if reach
        else pd.Series(1.0, index=df.index)
    )
    key = df[by].astype(str) if by else pd.Series("all", index=df.index)
    frame = pd.DataFrame({"t": t.dt.floor(freq), "g": key, "w": w}).dropna(subset=["t"])
    table = frame.pivot_table(index="t", columns="g", values="w", aggfunc="sum", fill_value=0.0)
    if table.empty:
        return table
    full = pd.date_range(table.index.min(), table.index.max(), freq=freq)
    return table.reindex(full, fill_value=0.0)
