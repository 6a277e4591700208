"""Planted incidents on synthetic series: found on the right day, in the right direction;
festival spikes and holiday dips that repeat last year's are not anomalies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from anomaly_synth import make_series

from luopan.engines.anomaly import AnomalyResult, detect_anomalies

SPIKE, DIP = pd.Timestamp("2026-03-18"), pd.Timestamp("2026-05-13")
SHIFT = pd.date_range("2026-08-03", "2026-08-23")  # three weeks at −25 %


def planted() -> pd.Series:
    y = make_series(seed=1)
    y[SPIKE] += 45.0
    y[DIP] -= 40.0
    y[SHIFT] *= 0.75
    return y


@pytest.fixture(scope="module")
def result() -> AnomalyResult:
    return detect_anomalies(planted())


def at(result: AnomalyResult, day: pd.Timestamp) -> pd.Series:
    p = result.points
    return p[p["ds"] == day].iloc[0]


def test_spike_and_dip_are_found_on_their_day(result: AnomalyResult) -> None:
    spike, dip = at(result, SPIKE), at(result, DIP)
    assert spike["is_anomaly"] and spike["direction"] == "up" and spike["kind"] == "point"
    assert spike["score"] > 8 and spike["y"] > spike["upper"]
    assert dip["is_anomaly"] and dip["direction"] == "down" and dip["kind"] == "point"
    assert dip["score"] < -8 and dip["y"] < dip["lower"]
    # the expected value on those days is the clean series' level, not dragged by the spike
    clean = make_series(seed=1)
    assert spike["expected"] == pytest.approx(clean[SPIKE], abs=10)


def test_level_shift_is_flagged_from_its_first_days_to_its_end(result: AnomalyResult) -> None:
    p = result.points.set_index("ds")
    flagged = p.loc[SHIFT, "is_anomaly"]
    assert flagged.iloc[:3].any(), "the shift is seen within its first three days"
    assert flagged.mean() >= 0.8
    assert (p.loc[SHIFT[flagged.to_numpy()], "direction"] == "down").all()
    # the baseline does not follow the shift down: expected stays at the pre-shift level
    assert (p.loc[SHIFT, "expected"] > p.loc[SHIFT, "y"]).mean() > 0.9


def test_festival_spikes_and_the_spring_festival_dip_are_expected(result: AnomalyResult) -> None:
    p = result.points
    year2 = p[(p["ds"] >= "2025-11-15") & p["event"].notna()]
    assert {"双11大促", "618大促", "春节", "国庆节"} <= set(year2["event"])
    # every year-2 event has a year-ago twin, except 中秋节 2026: in 2025 it fell inside
    # the 国庆节 break, so it has no twin of its own and is labelled but not judged
    twinless = year2[year2["status"] != "scored"]
    assert set(twinless["event"]) == {"中秋节"}
    assert (twinless["status"] == "event_no_baseline").all()
    # the festivals' big days are expected; across all 78 event days flags are as rare as
    # the noise's own 3.5-sigma tail (this seed draws one such day, 国庆节 2026-10-04)
    big = year2[year2["event"].isin(["双11", "双11大促", "618大促", "年货节", "春节", "双12"])]
    assert len(big) > 40 and not big["is_anomaly"].any()
    assert year2["is_anomaly"].sum() <= 1
    normal = p[(p["ds"] >= "2026-10-12") & (p["ds"] <= "2026-10-31")]["y"].median()
    peak = year2[year2["ds"] == "2026-11-11"].iloc[0]
    assert peak["y"] > 2.2 * normal  # a 2.6x day …
    assert peak["expected"] == pytest.approx(peak["y"], rel=0.12)  # … expected as such
    spring = year2[(year2["event"] == "春节") & (year2["ds"] <= "2026-02-22")]
    winter = p[(p["ds"] >= "2025-12-15") & (p["ds"] <= "2026-01-15")]["y"].median()
    assert (spring["y"] < 0.7 * winter).all()  # a holiday dip …
    assert np.abs(spring["score"]).max() < 3.5  # … that is expected


def test_first_year_events_are_labelled_but_not_judged(result: AnomalyResult) -> None:
    p = result.points
    spring25 = p[(p["event"] == "春节") & (p["ds"] < "2025-06-01")]
    assert len(spring25) == 8  # the festival's eve..day 5, and the break's last day 2-4
    assert (spring25["status"] == "event_no_baseline").all()
    assert not spring25["is_anomaly"].any()
    assert np.isinf(spring25["upper"]).all() and np.isnan(spring25["score"]).all()


def test_a_failed_festival_is_an_anomaly() -> None:
    """双11 2026 without its uplift (last year's was 2.6x) is flagged down."""
    y = make_series(seed=2)
    peak = pd.date_range("2026-11-10", "2026-11-11")
    y[peak] /= 2.6
    row = detect_anomalies(y).points.set_index("ds").loc[peak]
    assert row["is_anomaly"].all() and (row["direction"] == "down").all()
    assert (row["event"] == "双11大促").all()


def test_false_alarms_on_the_clean_series_are_rare(result: AnomalyResult) -> None:
    inc = result.incidents()
    planted_days = {SPIKE, DIP} | set(SHIFT)
    spans = zip(inc["start"], inc["end"], strict=True)
    false = inc[[not (set(pd.date_range(a, b)) & planted_days) for a, b in spans]]
    quarters = (result.points["status"] == "scored").sum() / 91
    assert len(false) / quarters <= 1.0


def test_slices_are_scored_independently_and_like_single_series() -> None:
    a, b = make_series(seed=3), make_series(seed=4, level=20.0, noise=1.0)
    b[SPIKE] += 15.0
    long = pd.concat(
        [
            pd.DataFrame({"unique_id": "华东", "ds": a.index, "y": a.to_numpy()}),
            pd.DataFrame({"unique_id": "华南", "ds": b.index, "y": b.to_numpy()}),
        ]
    )
    both = detect_anomalies(long).points
    alone = detect_anomalies(b).points
    south = both[both["unique_id"] == "华南"].reset_index(drop=True)
    np.testing.assert_allclose(south["expected"], alone["expected"])
    np.testing.assert_array_equal(south["is_anomaly"], alone["is_anomaly"])
    assert south.set_index("ds").loc[SPIKE, "is_anomaly"]
    assert not both[(both["unique_id"] == "华东") & (both["ds"] == SPIKE)]["is_anomaly"].any()
