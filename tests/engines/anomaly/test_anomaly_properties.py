"""Invariants: intervals contain the expected value; expected values are scale- and
shift-equivariant (scores invariant); the calendar matches the demo world's festivals."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from luopan.demo.calendar import festivals_between
from luopan.engines.anomaly import china_events, detect_anomalies, shopping_festivals
from luopan.engines.anomaly.calendar import event_days


@st.composite
def series(draw: st.DrawFn) -> pd.Series:
    n = draw(st.integers(80, 140))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    weekly = rng.uniform(0.7, 1.3, 7)
    start = pd.Timestamp("2026-01-05") + pd.Timedelta(days=draw(st.integers(0, 300)))
    days = pd.date_range(start, periods=n, freq="D")
    level = draw(st.floats(1.0, 1e4))
    y = level * weekly[days.day_of_week] + rng.standard_t(3, n) * level * 0.05
    if draw(st.booleans()):
        y[rng.integers(30, n)] += level * draw(st.floats(-2.0, 2.0))
    return pd.Series(y, index=days)


def _close(a: pd.Series, b: pd.Series, scale: float) -> None:
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=1e-9, atol=1e-9 * scale)


@settings(max_examples=25, deadline=None)
@given(series(), st.floats(0.001, 1000.0))
def test_scaling_scales_expected_values_and_keeps_scores(y: pd.Series, c: float) -> None:
    a, b = detect_anomalies(y).points, detect_anomalies(y * c).points
    scale = float(np.abs(y).max()) * max(c, 1.0)
    _close(a["expected"] * c, b["expected"], scale)
    _close(
        a["upper"].where(np.isfinite(a["upper"]), 0) * c,
        b["upper"].where(np.isfinite(b["upper"]), 0),
        scale,
    )
    ok = a["score"].notna()
    np.testing.assert_allclose(a.loc[ok, "score"], b.loc[ok, "score"], rtol=1e-6, atol=1e-6)


@settings(max_examples=25, deadline=None)
@given(series(), st.floats(-1e4, 1e4))
def test_shifting_shifts_expected_values_and_keeps_scores(y: pd.Series, k: float) -> None:
    a, b = detect_anomalies(y, events=()).points, detect_anomalies(y + k, events=()).points
    scale = float(np.abs(y).max()) + abs(k)
    _close(a["expected"] + k, b["expected"], scale)
    ok = a["score"].notna() & (a["score"].abs() < 1e6)
    np.testing.assert_allclose(a.loc[ok, "score"], b.loc[ok, "score"], rtol=1e-6, atol=1e-5)


@settings(max_examples=25, deadline=None)
@given(series())
def test_intervals_contain_the_expected_value_and_flags_match_them(y: pd.Series) -> None:
    p = detect_anomalies(y).points
    assert (p["lower"] <= p["expected"]).all() and (p["expected"] <= p["upper"]).all()
    assert (p.loc[p["is_anomaly"], "status"] == "scored").all()
    outside = (p["y"] < p["lower"]) | (p["y"] > p["upper"])
    np.testing.assert_array_equal(outside.to_numpy(), (p["kind"] == "point").to_numpy())
    signs = np.sign(p.loc[p["kind"] == "point", "score"])
    expected_dir = np.where(signs > 0, "up", "down")
    np.testing.assert_array_equal(p.loc[p["kind"] == "point", "direction"], expected_dir)


def test_festival_windows_are_the_demo_worlds() -> None:
    demo = {
        (f.name, f.start, f.end) for f in festivals_between(date(2025, 1, 1), date(2026, 12, 31))
    }
    ours = {(w.name, w.start, w.end) for w in shopping_festivals([2024, 2025, 2026, 2027])}
    assert demo <= ours
    assert ("双11大促", date(2026, 11, 10), date(2026, 11, 11)) in ours
    assert ("春节", date(2026, 2, 16), date(2026, 2, 22)) in ours  # eve .. day 5


def test_public_holidays_and_year_ago_twins() -> None:
    events = china_events(date(2025, 9, 1), date(2026, 11, 30))
    national = [w for w in events if w.name == "国庆节" and w.start.year == 2026]
    assert [(w.start, w.end) for w in national] == [(date(2026, 10, 1), date(2026, 10, 7))]
    days = pd.date_range("2025-10-01", "2026-11-30", freq="D")
    labels, twin = event_days(days, events)
    i = days.get_loc(pd.Timestamp("2026-11-11"))
    assert labels[i] == "双11大促" and days[twin[i]] == pd.Timestamp("2025-11-11")
    j = days.get_loc(pd.Timestamp("2026-10-07"))
    assert labels[j] == "国庆节" and days[twin[j]] == pd.Timestamp("2025-10-07")
    k = days.get_loc(pd.Timestamp("2026-03-18"))
    assert labels[k] is None and twin[k] == -1
