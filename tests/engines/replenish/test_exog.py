"""The warehouse calendar as exogenous columns, as known at an origin, and what it does to the
forecasts (``engines.replenish.exog``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from luopan.engines.replenish import DemandForecaster
from luopan.engines.replenish.backtest import QUANTILES, _rolling_forecasts
from luopan.engines.replenish.exog import calendar_exog, join_exog, known_at

DAYS = pd.date_range("2026-03-01", periods=5)
KEYS = pd.DataFrame(
    {
        "unique_id": ["S1_A", "S1_B", "S2_A", "S2_B"],
        "store_id": ["S1", "S1", "S2", "S2"],
        "sku": ["A", "B", "A", "B"],
    }
)


def tiny_calendar() -> pd.DataFrame:
    """National prices (A 10, B 20 at list), S2's own price of A on day 3 (5), B on promotion
    at 15 on days 4–5; a store campaign on days 2–3 and a Tmall one on every day."""
    rows = [
        {"date": d, "sku": k, "store_id": "ALL", "price": p, "is_promo": False}
        for d in DAYS
        for k, p in (("A", 10.0), ("B", 20.0))
    ]
    for r in rows:
        if r["sku"] == "B" and r["date"] >= DAYS[3]:
            r.update(price=15.0, is_promo=True)
    rows.append({"date": DAYS[2], "sku": "A", "store_id": "S2", "price": 5.0, "is_promo": True})
    campaigns = pd.DataFrame(
        {
            "start_date": [DAYS[1].date(), DAYS[0].date()],
            "end_date": [DAYS[2].date(), DAYS[4].date()],
            "channel": ["store", "tmall"],
        }
    )
    return calendar_exog(
        KEYS,
        start=DAYS[0],
        end=DAYS[-1],
        prices=pd.DataFrame(rows),
        products=pd.DataFrame({"sku": ["A", "B"], "list_price": [10.0, 20.0]}),
        campaigns=campaigns,
        channels=["store", "meituan"],
    )


def test_calendar_exog_columns_rows_and_values() -> None:
    cal = tiny_calendar()
    assert list(cal.columns) == ["unique_id", "ds", "price", "discount", "promo", "activity_flag"]
    assert len(cal) == 4 * 5
    at = cal.set_index(["unique_id", "ds"])
    # the store's own row wins over the national list
    assert at.loc[("S2_A", DAYS[2]), ["price", "discount", "promo"]].tolist() == [5.0, 0.5, 1.0]
    assert at.loc[("S1_A", DAYS[2]), ["price", "discount", "promo"]].tolist() == [10.0, 0.0, 0.0]
    b = at.loc["S1_B"]
    assert b["promo"].tolist() == [0, 0, 0, 1, 1]
    assert b["discount"].tolist() == pytest.approx([0, 0, 0, 0.25, 0.25])
    # only the store-channel campaign counts
    assert b["activity_flag"].tolist() == [0, 1, 1, 0, 0]


def test_known_at_keeps_the_calendar_known_ahead_only() -> None:
    cal = tiny_calendar()
    b = lambda f: f[f["unique_id"] == "S1_B"].set_index("ds")  # noqa: E731
    # origin day 2, promotions known one day ahead: day 3 as planned; days 4-5 unknown, so
    # the last regular price (20) and no promotion, no campaign
    seen = b(known_at(cal, DAYS[1], known_ahead=1))
    assert seen["price"].tolist() == [20, 20, 20, 20, 20]
    assert seen["promo"].tolist() == [0, 0, 0, 0, 0]
    assert seen["activity_flag"].tolist() == [0, 1, 1, 0, 0]
    # known three days ahead: the planned promotion is there
    assert b(known_at(cal, DAYS[1], known_ahead=3))["promo"].tolist() == [0, 0, 0, 1, 1]
    # origin on a promotion day, nothing known ahead: the regular price, not the promotion's
    late = b(known_at(cal, DAYS[3], known_ahead=0))
    assert late["price"].tolist() == [20, 20, 20, 15, 20]
    assert late["promo"].tolist() == [0, 0, 0, 1, 0]
    assert late["discount"].tolist() == pytest.approx([0, 0, 0, 0.25, 0])


def test_join_exog_puts_a_planned_promotion_into_the_future_rows() -> None:
    cal = tiny_calendar()
    hist = pd.DataFrame(
        {"unique_id": np.repeat(KEYS["unique_id"], 3), "ds": np.tile(DAYS[:3], 4), "y": 1.0}
    )
    frame, future = join_exog(hist, cal, 2)
    assert list(frame.columns) == [
        "unique_id",
        "ds",
        "y",
        "price",
        "discount",
        "promo",
        "activity_flag",
    ]
    assert len(frame) == 12 and len(future) == 8
    fb = future[future["unique_id"] == "S2_B"]
    assert fb["ds"].tolist() == [DAYS[3], DAYS[4]]
    assert fb["promo"].tolist() == [1.0, 1.0] and fb["price"].tolist() == [15.0, 15.0]
    assert future.loc[future["unique_id"] == "S2_A", "promo"].tolist() == [0.0, 0.0]


def promo_world(n: int = 30, days: int = 100, lift: float = 3.0, seed: int = 3):
    """Poisson demand around 4 a day, × ``lift`` on promotion days (a random tenth of days,
    in runs of two), and its calendar (``promo`` only)."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2026-01-01", periods=days)
    promo = np.zeros((n, days))
    for i in range(n):
        for s in rng.choice(days - 1, size=days // 20, replace=False):
            promo[i, s : s + 2] = 1.0
    level = rng.uniform(2.0, 6.0, n)[:, None]
    y = rng.poisson(level * np.where(promo > 0, lift, 1.0))
    ids = [f"S{i % 3}_K{i}" for i in range(n)]
    hist = pd.DataFrame(
        {"unique_id": np.repeat(ids, days), "ds": np.tile(ds, n), "y": y.ravel().astype(float)}
    )
    cal = pd.DataFrame(
        {"unique_id": np.repeat(ids, days), "ds": np.tile(ds, n), "promo": promo.ravel()}
    )
    return hist, cal


def test_the_gbm_joins_the_candidates_and_lifts_the_forecast_on_planned_promo_days() -> None:
    hist, cal = promo_world()
    origin = hist["ds"].max() - pd.Timedelta(days=7)
    past = hist[hist["ds"] <= origin]
    frame, future = join_exog(past, cal, 7)
    with_exog = DemandForecaster()
    res = with_exog.fit(frame).predict(7, future=future)
    assert "GlobalGBM" in with_exog.models_
    assert with_exog.exog_ == ("promo",)
    assert any("GlobalGBM" in m for m in res.chosen.values())
    plain = DemandForecaster()
    base = plain.fit(past).predict(7)
    assert "GlobalGBM" not in plain.models_
    on = future.set_index(["unique_id", "ds"])["promo"]
    key = lambda f: pd.MultiIndex.from_frame(f[["unique_id", "ds"]])  # noqa: E731
    fc = res.forecasts.set_index(key(res.forecasts))["mean"]
    b = base.forecasts.set_index(key(base.forecasts))["mean"]
    promo_days = on[on > 0].index
    quiet = on[on == 0].index
    assert len(promo_days) > 5
    # on promotion days the calendar raises the forecast well above the one without it …
    assert fc[promo_days].sum() > 1.3 * b[promo_days].sum()
    # … and on the other days it stays near it
    assert fc[quiet].sum() == pytest.approx(b[quiet].sum(), rel=0.25)


def test_rolling_forecasts_see_a_promotion_only_when_known_ahead() -> None:
    hist, cal = promo_world(n=24, days=90)
    dates = pd.date_range(hist["ds"].max() - pd.Timedelta(days=5), hist["ds"].max())
    fc = DemandForecaster(("WindowAverage", "GlobalGBM"), combine=1, quantiles=QUANTILES)
    args = (hist, dates, 2, 3, fc, cal)
    known, _ = _rolling_forecasts(*args, known_ahead=14)
    blind, _ = _rolling_forecasts(*args, known_ahead=0)
    ids = np.sort(hist["unique_id"].unique())
    on = cal.pivot(index="unique_id", columns="ds", values="promo").loc[ids, dates].to_numpy()
    # the first day of each cover: promotion days forecast higher when the calendar is known
    first_on = on > 0
    assert first_on.sum() > 3
    assert known[:, :, 0][first_on].sum() > 1.3 * blind[:, :, 0][first_on].sum()


def test_the_demo_rolling_forecast_uses_the_calendar_with_the_rate_models() -> None:
    from luopan.engines.replenish.demo_backtest import rolling_mean_forecast

    hist, cal = promo_world(n=24, days=90, seed=4)
    ids = sorted(hist["unique_id"].unique())
    dates = pd.date_range(hist["ds"].max() - pd.Timedelta(days=13), hist["ds"].max())
    with_cal = rolling_mean_forecast(hist, dates, ids=ids, exog=cal)
    without = rolling_mean_forecast(hist, dates, ids=ids)
    on = cal.pivot(index="unique_id", columns="ds", values="promo").loc[ids, dates].to_numpy() > 0
    assert on.sum() > 5
    # the rate models alone forecast the same level on promotion days; with the GBM averaged in
    # the promotion days get more
    assert with_cal[on].sum() > 1.2 * without[on].sum()
    assert with_cal[~on].sum() == pytest.approx(without[~on].sum(), rel=0.2)
