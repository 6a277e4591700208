"""``/api/v1/replenishment/suggestions?exog=true``: the forecast given the warehouse calendar
(prices, promotion flags, campaigns) equals the engine run on inputs built here."""

from __future__ import annotations

from typing import Any

import pandas as pd

from conftest import STORE_A, store_sales


def test_suggestions_with_exog_equal_the_engine_given_the_warehouse_calendar(
    client_for: Any, api_world: dict[str, Any]
) -> None:
    from luopan.cli._replenish_data import read_calendar, series_keys
    from luopan.engines.replenish import DemandForecaster
    from luopan.engines.replenish.exog import exog_gbm, join_exog

    sales = store_sales(api_world, STORE_A)
    latest = sales["ds"].max()
    cal = read_calendar(
        api_world["root"],
        series_keys(sales["unique_id"]),
        start=sales["ds"].min(),
        end=latest + pd.Timedelta(days=60),
    )
    assert list(cal.columns) == ["unique_id", "ds", "price", "discount", "promo", "activity_flag"]
    frame, future = join_exog(sales, cal, 60)
    model = DemandForecaster(gbm=exog_gbm()).fit(frame)
    assert "GlobalGBM" in model.models_
    expected = model.predict(60, future=future).forecasts
    # the first day's forecast per series is the plan's demand over a one-day cover
    first = expected[expected["ds"] == latest + pd.Timedelta(days=1)].set_index("unique_id")
    client = client_for("admin")  # "analyst" is locked out for 5 minutes by test_auth
    params = {"store": STORE_A, "lead_time": 0, "review": 1, "limit": 10000}
    on = client.get("/api/v1/replenishment/suggestions", params={**params, "exog": True})
    off = client.get("/api/v1/replenishment/suggestions", params=params)
    assert on.status_code == 200 and off.status_code == 200, on.text
    got = pd.DataFrame(on.json()["items"]).set_index("unique_id")
    plain = pd.DataFrame(off.json()["items"]).set_index("unique_id")
    assert set(got.index) == set(first.index) and len(got) > 100
    pd.testing.assert_series_equal(
        got["demand_mean"].astype(float),
        first.loc[got.index, "mean"].astype(float),
        check_names=False,
    )
    # the calendar changes the forecast of the series whose 3 best models include the GBM
    # (47% of this store's series)
    diff = (got["demand_mean"] - plain.loc[got.index, "demand_mean"]).abs() > 1e-9
    assert diff.mean() > 0.3
