"""Burst detection: CUSUM golden case, planted spikes, and NAB realTweets held out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from luopan.engines.listening import BurstParams, cusum, detect_bursts
from luopan.engines.listening.bursts import bin_mentions, seasonal_median
from luopan.engines.listening.nab import score_alerts
from luopan.errors import EngineError

# parameters chosen on AAPL, CRM, FB, IBM, PFE (benchmarks/listening.py sweep), fixed here
NAB_PARAMS = BurstParams(z=10.0, ratio=6.0, window=6)
TRAIN = ("AAPL", "CRM", "FB", "IBM", "PFE")
TEST = ("AMZN", "CVS", "GOOG", "KO", "UPS")
# the same sweep with the hour-of-day (same bin of day, past 7 days) baseline
NAB_SEASONAL = BurstParams(z=8.0, ratio=6.0, window=6, seasonal_days=7)
# the same protocol with the novelty gate (30-min sum ≥ 0.6 × the past 3 days' largest): swept on
# TRAIN (window 3/6, z 5–10, ratio 2.5–6, look-back 1/3/7 days, gate 0.6–1.5, cool-down 2/6 h),
# chosen as the most catches at ≤ 0.8 FA/week and median delay ≤ 10 min, then fixed
NAB_NOVELTY = BurstParams(z=5.0, ratio=6.0, window=6, peak_days=3, peak_ratio=0.6)
# two window lengths (5 and 30 min) and the hour-of-day ratio, 2026-12-01: grid on TRAIN only
# (short window 1 bin, z 5/8/10, ratio 3–8, short-window ratio 1/2/3 × ratio, gate off/0.6/1.0
# over 3/7 days, ratio denominator rolling mean or max(mean, 7-day same-bin median)); rule fixed
# before any held-out run: most catches at ≤ 0.8 FA/week and median delay ≤ 10 min, then fewest
# FA. Leave-one-fit-series-out with that rule: 13/15 at 0.65 FA/week.
NAB_MULTISCALE = BurstParams(
    z=5.0,
    ratio=6.0,
    window=6,
    peak_days=3,
    peak_ratio=0.6,
    short_window=1,
    short_ratio=18.0,
    seasonal_ratio_days=7,
)


def test_cusum_golden() -> None:
    # Page (1954) upper CUSUM with k = 1: S = max(0, S + z - 1), by hand
    assert cusum(np.array([0.0, 2.0, 3.0, -5.0, 4.0]), k=1.0).tolist() == [0, 1, 3, 0, 3]


def test_planted_spike_is_caught_once() -> None:
    rng = np.random.default_rng(1)
    x = rng.poisson(20, 4000).astype(float)
    x[3000:3006] += 400
    r = detect_bursts(x, BurstParams(window=3, z=10, ratio=3))
    assert r.alerts.tolist() == [3000]


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 50))
def test_stationary_poisson_rarely_alerts(seed: int, lam: int) -> None:
    x = np.random.default_rng(seed).poisson(lam, 2500).astype(float)
    assert len(detect_bursts(x, NAB_PARAMS).alerts) == 0
    assert len(detect_bursts(x, NAB_MULTISCALE).alerts) == 0


def test_rejects_negative_counts() -> None:
    with pytest.raises(EngineError):
        detect_bursts(np.array([1.0, -1.0]))


def _nab(root: Path, names: tuple[str, ...], params: BurstParams = NAB_PARAMS):  # noqa: ANN202
    labels = json.loads((root / "combined_labels.json").read_text())
    windows = json.loads((root / "combined_windows.json").read_text())
    total = None
    for n in names:
        key = f"realTweets/Twitter_volume_{n}.csv"
        df = pd.read_csv(root / f"Twitter_volume_{n}.csv", parse_dates=["timestamp"])
        res = detect_bursts(df["value"].to_numpy(float), params)
        s = score_alerts(
            pd.DatetimeIndex(df["timestamp"]),
            res.alerts,
            [pd.Timestamp(x) for x in labels[key]],
            [(pd.Timestamp(a), pd.Timestamp(b)) for a, b in windows[key]],
        )
        total = s if total is None else total + s
    return total


def test_nab_held_out(shared_data: Path) -> None:
    root = shared_data / "listening" / "nab_realTweets"
    fit, held = _nab(root, TRAIN), _nab(root, TEST)
    # measured 2026-11-30: fit 13/15 at 0.76 FA/week; held-out 14/20 (70%) at 1.9 FA/week,
    # median delay 0 min. The target (≥ 80% at ≤ 1 FA/week) is NOT met held out.
    assert (fit.caught, fit.labels) == (13, 15) and fit.fa_per_week <= 1.0
    assert (held.caught, held.labels) == (14, 20)
    assert 1.5 < held.fa_per_week < 2.5 and held.median_delay_min <= 10


def test_nab_held_out_with_the_novelty_gate(shared_data: Path) -> None:
    root = shared_data / "listening" / "nab_realTweets"
    fit, held = _nab(root, TRAIN, NAB_NOVELTY), _nab(root, TEST, NAB_NOVELTY)
    # measured 2026-11-30: fit 14/15 at 0.76 FA/week; held-out 14/20 (70%) at 1.69 FA/week
    # (was 1.89 without the gate), median delay 0 min. Still NOT the target held out.
    assert (fit.caught, fit.labels) == (14, 15) and fit.fa_per_week <= 0.8
    assert (held.caught, held.labels) == (14, 20)
    assert 1.6 < held.fa_per_week < 1.8 and held.median_delay_min <= 10


def test_nab_held_out_with_two_scales(shared_data: Path) -> None:
    root = shared_data / "listening" / "nab_realTweets"
    fit, held = _nab(root, TRAIN, NAB_MULTISCALE), _nab(root, TEST, NAB_MULTISCALE)
    # measured 2026-12-01: fit 15/15 at 0.71 FA/week; held-out 14/20 (70%) at 1.80 FA/week,
    # median delay 0 min: no better held out than the novelty gate alone. NOT the target.
    assert (fit.caught, fit.labels) == (15, 15) and fit.fa_per_week <= 0.8
    assert (held.caught, held.labels) == (14, 20)
    assert 1.7 < held.fa_per_week < 1.9 and held.median_delay_min <= 10


def test_short_window_catches_a_one_bin_spike() -> None:
    rng = np.random.default_rng(2)
    x = rng.poisson(20, 4000).astype(float)
    x[3000] += 300  # 30-min sum ≈ 420 vs ≈ 120 (ratio 3.5); the 5-min bin ≈ 16 × its mean
    plain = BurstParams(window=6, z=5, ratio=6)
    assert detect_bursts(x, plain).alerts.size == 0
    both = BurstParams(window=6, z=5, ratio=6, short_window=1, short_ratio=10)
    assert detect_bursts(x, both).alerts.tolist() == [3000]


def test_hour_of_day_ratio_ignores_a_burst_that_recurs_daily() -> None:
    x = np.full(288 * 9, 2.0)
    for day in range(1, 9):  # the same lunch-hour burst every day from day 1
        x[day * 288 + 144 : day * 288 + 156] += 60
    x[8 * 288 + 60 : 8 * 288 + 72] += 200  # and a new one at 05:00 of day 8
    p = BurstParams(window=6, z=5, ratio=4, mean_bins=288)
    plain = detect_bursts(x, p)
    hod = detect_bursts(
        x, BurstParams(window=6, z=5, ratio=4, mean_bins=288, seasonal_ratio_days=7)
    )
    assert [int(i) // 288 for i in plain.alerts] == [1, 2, 3, 4, 5, 6, 7, 8, 8]
    assert [int(i) // 288 for i in hod.alerts] == [1, 8]
    assert int(hod.alerts[-1]) == 8 * 288 + 60


def test_novelty_gate_drops_bursts_smaller_than_recent_ones() -> None:
    x = np.full(288 * 6, 2.0)
    x[288 + 144 : 288 + 156] += 60  # a one-hour burst at noon of day 1
    for day in range(2, 5):  # then daily aftershocks a third of its size
        x[day * 288 + 144 : day * 288 + 156] += 20
    x[5 * 288 + 144 : 5 * 288 + 156] += 300  # then a much larger burst
    plain = detect_bursts(x, BurstParams(window=6, z=5, ratio=4, mean_bins=288))
    gated = detect_bursts(x, BurstParams(window=6, z=5, ratio=4, mean_bins=288, peak_days=3))
    assert [int(i) // 288 for i in plain.alerts] == [1, 2, 3, 4, 5]
    assert [int(i) // 288 for i in gated.alerts] == [1, 5]


def test_seasonal_median_golden() -> None:
    # 4 bins a day; bin 9 (day 2, bin 1) sees bins 5 and 1 of the two days before
    x = np.arange(12, dtype=float)
    med = seasonal_median(x, days=2, bins_per_day=4)
    assert np.isnan(med[:4]).all() and med[5] == 1.0 and med[9] == 3.0  # median(5, 1)


def test_seasonal_baseline_ignores_a_daily_peak() -> None:
    # a lunch peak every day is the baseline, not a burst; a spike at night is one
    rng = np.random.default_rng(3)
    day = np.r_[np.full(20, 5.0), np.full(8, 200.0), np.full(20, 5.0)]  # 48 bins a day
    x = rng.poisson(np.tile(day, 20)).astype(float)
    x[48 * 15 + 40 : 48 * 15 + 43] += 300
    p = BurstParams(
        window=1,
        median_bins=48,
        mad_bins=336,
        mean_bins=336,
        z=8,
        ratio=1.5,
        seasonal_days=7,
        bins_per_day=48,
        cooldown=12,
    )
    assert detect_bursts(x, p).alerts.tolist() == [48 * 15 + 40]


def test_bin_mentions_reach_weighted_per_platform() -> None:
    m = pd.DataFrame(
        {
            "published_at": ["2026-03-01 10:01", "2026-03-01 10:03", "2026-03-01 10:12"],
            "platform": ["微博", "抖音", "微博"],
            "author_followers": [0, np.e - 1, 0],
        }
    )
    counts = bin_mentions(m, by="platform")
    assert counts.shape == (3, 2) and counts["微博"].tolist() == [1.0, 0.0, 1.0]
    reach = bin_mentions(m, by="platform", reach=True)
    assert reach["抖音"].iloc[0] == pytest.approx(2.0)  # log(1 + (e − 1)) + 1
    neg = bin_mentions(m, negative=np.array([True, False, False]))
    assert neg["all"].tolist() == [1.0]
