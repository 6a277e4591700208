"""Outcome estimators: holdout (Newcombe), difference in differences (weekly blocks), forecast."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from luopan.decisions.verify import (
    Effect,
    did_effect,
    forecast_effect,
    holdout_effect,
    verdict,
)
from luopan.errors import InsufficientDataError

START = dt.date(2026, 6, 1)


def _arms(n_t: int, k_t: int, n_h: int, k_h: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    units = [f"T{i}" for i in range(n_t)] + [f"H{i}" for i in range(n_h)]
    assignments = pd.DataFrame(
        {"unit_id": units, "variant": ["treatment"] * n_t + ["holdout"] * n_h}
    )
    buyers = [f"T{i}" for i in range(k_t)] + [f"H{i}" for i in range(k_h)]
    purchases = pd.DataFrame(
        {"customer": buyers, "day": pd.Timestamp("2026-06-10"), "amount": 10.0}
    )
    # a purchase after the window and one before the start never count
    late = pd.DataFrame(
        {
            "customer": ["T99", "H5"],
            "day": [pd.Timestamp("2026-08-01"), pd.Timestamp("2026-05-20")],
            "amount": 5.0,
        }
    )
    return assignments, pd.concat([purchases, late], ignore_index=True)


def test_holdout_effect_reproduces_newcombe_1998() -> None:
    # Newcombe (1998), Table II, example (a): 56/70 vs 48/80, method 10 (hybrid score):
    # difference 0.2000, interval 0.0524 to 0.3339
    assignments, purchases = _arms(70, 56, 80, 48)
    e = holdout_effect(assignments, purchases, start=START, window_days=30)
    assert e.method == "holdout.newcombe"
    assert e.estimate == pytest.approx(0.2)
    assert (e.lower, e.upper) == pytest.approx((0.0524, 0.3339), abs=5e-5)
    assert e.detail["treated"]["successes"] == 56 and e.detail["holdout"]["successes"] == 48
    assert verdict(e) == "worked" and verdict(e, "down") == "harmful"


def test_swapping_the_arms_flips_the_sign() -> None:
    assignments, purchases = _arms(120, 30, 120, 50)
    e = holdout_effect(assignments, purchases, start=START, window_days=30)
    swapped = holdout_effect(
        assignments, purchases, start=START, window_days=30, treated="holdout", holdout="treatment"
    )
    assert swapped.estimate == pytest.approx(-e.estimate)
    assert (swapped.lower, swapped.upper) == pytest.approx((-e.upper, -e.lower))


def _daily(values: np.ndarray, first: str = "2026-03-01") -> pd.Series:
    return pd.Series(values, index=pd.date_range(first, periods=len(values), freq="D"))


def _did_world(seed: int) -> tuple[pd.Series, pd.Series]:
    """Two daily series with a weekly cycle and a trend in common (parallel trends); the
    treated one gains 8 from START on."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2026-03-01", periods=120, freq="D")
    common = 100 + 15 * np.sin(np.arange(120) * 2 * np.pi / 7) + np.linspace(0, 20, 120)
    post = days >= pd.Timestamp(START)
    treated = pd.Series(common + 8.0 * post + rng.normal(0, 3, 120), index=days)
    control = pd.Series(common - 10 + rng.normal(0, 3, 120), index=days)
    return treated, control


def test_difference_in_differences_covers_a_planted_effect() -> None:
    effects = [did_effect(*_did_world(seed), start=START, window_days=30) for seed in range(200)]
    covered = np.mean([e.lower < 8.0 < e.upper for e in effects])
    assert 0.9 <= covered <= 0.99  # nominal 95 %
    assert np.mean([e.estimate for e in effects]) == pytest.approx(8.0, abs=0.2)
    e = effects[0]
    assert e.method == "did.weekly_welch"
    assert (e.detail["pre_weeks"], e.detail["post_weeks"]) == (8, 4)
    assert np.mean([verdict(x) == "worked" for x in effects]) > 0.95
    treated, control = _did_world(0)
    flipped = did_effect(control, treated, start=START, window_days=30)
    assert flipped.estimate == pytest.approx(-e.estimate)
    assert (flipped.lower, flipped.upper) == pytest.approx((-e.upper, -e.lower))
    same = did_effect(control + 5.0, control, start=START, window_days=30)
    assert same.estimate == pytest.approx(0.0, abs=1e-9)


def test_did_needs_history_on_both_sides() -> None:
    s = _daily(np.ones(40), first="2026-05-25")
    with pytest.raises(InsufficientDataError, match="two whole weeks"):
        did_effect(s, s, start=START, window_days=30)


def test_forecast_counterfactual_covers_a_planted_level_shift() -> None:
    rng = np.random.default_rng(11)
    n = 150
    days = pd.date_range("2026-01-05", periods=n, freq="D")
    weekly = np.array([0, -5, -8, -3, 4, 12, 9], dtype=float)
    base = 200 + weekly[days.day_of_week] + rng.normal(0, 4, n)
    start = dt.date(2026, 5, 4)  # a Monday, far from the May Day holiday days
    shift = np.where(days >= pd.Timestamp(start), -20.0, 0.0)
    e = forecast_effect(pd.Series(base + shift, index=days), start=start, window_days=21)
    assert e.method == "forecast.anomaly_model"
    assert e.lower < -20.0 < e.upper and verdict(e) == "harmful"
    assert verdict(e, "down") == "worked"
    flat = forecast_effect(pd.Series(base, index=days), start=start, window_days=21)
    assert flat.lower < 0.0 < flat.upper and verdict(flat) == "no_effect"


def test_forecast_needs_four_weeks_of_history() -> None:
    s = _daily(np.full(40, 5.0), first="2026-05-15")
    with pytest.raises(InsufficientDataError, match="28 usable days"):
        forecast_effect(s, start=START, window_days=14)


@pytest.mark.parametrize(
    ("lower", "upper", "direction", "expected"),
    [
        (0.1, 0.3, "up", "worked"),
        (-0.3, -0.1, "up", "harmful"),
        (-0.1, 0.3, "up", "no_effect"),
        (-0.3, -0.1, "down", "worked"),
        (0.1, 0.3, "down", "harmful"),
        (0.0, 0.2, "up", "no_effect"),
    ],
)
def test_verdict_reads_the_interval(
    lower: float, upper: float, direction: str, expected: str
) -> None:
    e = Effect("m", (lower + upper) / 2, lower, upper, 0.95)
    assert verdict(e, direction) == expected  # type: ignore[arg-type]


def test_forecast_interval_coverage_over_many_worlds() -> None:
    # 200 worlds measured 91.5 % at a nominal 95 % (mean estimate −19.3 for −20); 40 here
    n, start = 150, dt.date(2026, 5, 4)
    days = pd.date_range("2026-01-05", periods=n, freq="D")
    weekly = np.array([0, -5, -8, -3, 4, 12, 9], dtype=float)
    shift = np.where(days >= pd.Timestamp(start), -20.0, 0.0)
    effects = []
    for seed in range(40):
        rng = np.random.default_rng(seed)
        y = 200 + weekly[days.day_of_week] + rng.normal(0, 4, n) + shift
        effects.append(forecast_effect(pd.Series(y, index=days), start=start, window_days=21))
    assert np.mean([e.lower < -20.0 < e.upper for e in effects]) >= 0.85
    assert np.mean([e.estimate for e in effects]) == pytest.approx(-20.0, abs=1.5)
