"""The estimator contract, the input contract, the minimum-history rule and causality."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from anomaly_synth import make_series

from luopan.engines.anomaly import AnomalyDetector, AnomalyPoint, detect_anomalies
from luopan.errors import DataContractError, EngineError, InsufficientDataError


def test_init_stores_parameters_only_and_fit_returns_self() -> None:
    det = AnomalyDetector(threshold=4.0, on_short="skip")
    assert not [k for k in vars(det) if k.endswith("_")]
    assert det.get_params()["threshold"] == 4.0
    assert det.set_params(threshold=3.0).threshold == 3.0
    y = make_series(end=pd.Timestamp("2025-03-31").date())
    assert det.fit(y) is det
    learned = {k for k in vars(det) if k.endswith("_")}
    assert {"history_", "unique_ids_", "level_", "scale_", "weekly_profile_"} <= learned
    assert det.unique_ids_ == ("series",)
    # the weekday profile is Saturday-high like the series (WEEKLY[5] = 1.2)
    profile = det.weekly_profile_.loc["series"]
    assert profile.idxmax() == 5 and profile[5] > 10
    with pytest.raises(EngineError, match="unknown parameter"):
        det.set_params(nope=1)


def test_detect_before_fit_and_bad_settings_raise_with_a_fix() -> None:
    with pytest.raises(EngineError) as err:
        AnomalyDetector().detect(make_series())
    assert err.value.fix and "fit" in err.value.fix
    with pytest.raises(EngineError, match="min_history"):
        AnomalyDetector(min_history=7).fit(make_series())
    with pytest.raises(EngineError, match="event_effect"):
        AnomalyDetector(event_effect="linear").fit(make_series())  # type: ignore[arg-type]


def test_fit_on_history_then_detect_new_days_equals_scoring_everything() -> None:
    y = make_series(seed=5)
    y[pd.Timestamp("2026-11-18")] += 60
    cut = pd.Timestamp("2026-11-14")
    det = AnomalyDetector().fit(y[y.index <= cut])
    new = det.detect(y[y.index > cut]).points
    full = detect_anomalies(y).points
    full = full[full["ds"] > cut].reset_index(drop=True)
    pd.testing.assert_frame_equal(new, full)
    assert new.set_index("ds").loc["2026-11-18", "is_anomaly"]


def test_expected_values_do_not_look_ahead() -> None:
    y = make_series(seed=6, events=False, end=pd.Timestamp("2025-06-30").date())
    base = detect_anomalies(y, events=()).points
    y2 = y.copy()
    y2.iloc[-1] += 500.0
    moved = detect_anomalies(y2, events=()).points
    np.testing.assert_array_equal(base["expected"][:-1], moved["expected"][:-1])
    assert moved["is_anomaly"].iloc[-1] and not base["is_anomaly"].iloc[-1]


def test_too_short_a_history_raises_or_is_skipped() -> None:
    short = make_series(events=False).iloc[:20]
    with pytest.raises(InsufficientDataError) as err:
        detect_anomalies(short, events=())
    assert "20 usable days" in err.value.message and "on_short='skip'" in (err.value.fix or "")
    long = pd.concat(
        [
            pd.DataFrame({"unique_id": "short", "ds": short.index, "y": short.to_numpy()}),
            make_series(seed=7).rename_axis("ds").reset_index().assign(unique_id="long"),
        ]
    )
    res = detect_anomalies(long, on_short="skip")
    assert res.skipped == ("short",)
    assert set(res.points["unique_id"]) == {"long"}
    with pytest.raises(InsufficientDataError):
        detect_anomalies(long[long["unique_id"] == "short"], on_short="skip")


def test_every_point_has_an_expected_value_an_interval_and_a_status() -> None:
    y = make_series(seed=8, end=pd.Timestamp("2025-04-30").date())
    y.iloc[40] = np.nan
    res = detect_anomalies(y)
    p = res.points
    assert len(p) == len(y)
    assert p["expected"].notna().all()
    assert (p["lower"] <= p["expected"]).all() and (p["expected"] <= p["upper"]).all()
    assert p.loc[40, "status"] == "missing" and not p.loc[40, "is_anomaly"]
    assert (p.loc[:27, "status"] != "scored").all(), "no day is judged before 4 weeks"
    outside = (p["y"] < p["lower"]) | (p["y"] > p["upper"])
    np.testing.assert_array_equal(outside, p["kind"] == "point")
    rec = res.records()[50]
    assert isinstance(rec, AnomalyPoint) and rec.ds == p.loc[50, "ds"]


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"ds": ["2026-01-01"], "value": [1.0]}), "column 'y' is missing"),
        (pd.DataFrame({"ds": ["2026-01-01 10:00"], "y": [1.0]}), "times of day"),
        (pd.DataFrame({"ds": ["2026-01-01"] * 2, "y": [1.0, 2.0]}), "repeated day"),
        (pd.DataFrame({"ds": ["2026-01-01"], "y": ["many"]}), "not numeric"),
        (pd.DataFrame({"ds": ["2026-01-01"], "y": [np.inf]}), "infinite"),
    ],
)
def test_malformed_input_is_rejected_with_a_fix(frame: pd.DataFrame, message: str) -> None:
    with pytest.raises(DataContractError, match=message) as err:
        detect_anomalies(frame)
    assert err.value.fix


def test_column_names_are_overridable() -> None:
    y = make_series(seed=9, end=pd.Timestamp("2025-03-31").date())
    frame = pd.DataFrame({"门店": "S01", "日期": y.index, "销售额": y.to_numpy()})
    res = detect_anomalies(frame, id_col="门店", time_col="日期", target_col="销售额")
    assert set(res.points["unique_id"]) == {"S01"} and len(res.points) == len(y)


def test_counts_floor_the_scale_at_the_poisson_sigma() -> None:
    days = pd.date_range("2026-01-05", periods=120, freq="D")
    rng = np.random.default_rng(11)
    y = pd.Series(rng.poisson(2.0, len(days)).astype(float), index=days)
    y.iloc[100] = 7.0  # +5 users on a slice of ~2: Poisson P(y ≥ 7) ≈ 0.5 %
    plain = detect_anomalies(y, events=()).points.iloc[100]
    counted = detect_anomalies(y, events=(), counts=True).points.iloc[100]
    assert counted["upper"] - counted["expected"] >= 3.5 * np.sqrt(counted["expected"]) - 1e-9
    assert abs(counted["score"]) <= abs(plain["score"])


def test_incidents_and_summary_count_runs() -> None:
    y = make_series(seed=12, events=False, end=pd.Timestamp("2025-06-30").date())
    y[pd.Timestamp("2025-03-04")] += 60
    y[pd.date_range("2025-05-05", "2025-05-25")] -= 40
    res = detect_anomalies(y, events=())
    inc = res.incidents()
    spike = inc[inc["start"] == pd.Timestamp("2025-03-04")].iloc[0]
    assert spike["days"] == 1 and spike["direction"] == "up" and spike["peak_score"] > 10
    drop = inc[(inc["direction"] == "down") & (inc["start"] >= pd.Timestamp("2025-05-05"))]
    assert drop["start"].min() <= pd.Timestamp("2025-05-07")
    assert drop["days"].sum() >= 18 and (drop["peak_score"] < -5).all()
    summary = res.summary().iloc[0]
    assert summary["anomalies"] == res.points["is_anomaly"].sum()
    assert summary["incidents"] == len(inc)
