"""Store traffic as a control: sharper elasticities, and festival multipliers that keep the surge."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pricing_data import price_panel

from luopan.engines.pricing import estimate_elasticities


def _with_traffic(seed: int) -> tuple[pd.DataFrame, pd.Series, float]:
    """Prices of ``price_panel``; Poisson units ``8·(p/median p)^e·traffic/1000`` with a store's
    daily traffic: day-to-day noise (sd 0.25 in logs) and a 双11 surge of ×1.8 on 2025-11-10/11,
    the same for every SKU of the store."""
    frame, truth = price_panel(n=30, days=400, seed=seed, base=8.0)
    rng = np.random.default_rng(seed + 100)
    dates = pd.DatetimeIndex(np.sort(frame["ds"].unique()))
    big = dates.isin(pd.to_datetime(["2025-11-10", "2025-11-11"]))  # the calendar's 双11大促
    log_tr = rng.normal(0.0, 0.25, dates.size) + np.where(big, np.log(1.8), 0)
    traffic = pd.Series(1000 * np.exp(log_tr), index=dates)
    tr = frame["ds"].map(traffic).to_numpy()
    ref = frame.groupby("unique_id")["price"].transform("median")
    e = frame["unique_id"].map(truth).to_numpy()
    frame["y"] = rng.poisson(8.0 * (frame["price"] / ref) ** e * tr / 1000.0)
    frame["traffic"] = tr
    return frame, truth, float(np.log(1.8))


def test_traffic_control_recovers_elasticities_and_keeps_the_festival_surge() -> None:
    frame, truth, surge = _with_traffic(3)
    with_tr = estimate_elasticities(frame, cross=False, max_se=10.0)
    without = estimate_elasticities(frame.drop(columns="traffic"), cross=False, max_se=10.0)
    a = with_tr.table.set_index("unique_id")["raw_elasticity"]
    b = without.table.set_index("unique_id")["raw_elasticity"]
    err_a = (a - truth.reindex(a.index)).abs().mean()
    err_b = (b - truth.reindex(b.index)).abs().mean()
    # the traffic noise is absorbed, not left in the residuals
    assert err_a < err_b
    assert "log_traffic_series" in with_tr.controls
    sa = with_tr.table["raw_se"].median()
    sb = without.table["raw_se"].median()
    assert sa < sb
    # the 双11 multiplier (shrunk, per SKU) is the total effect, traffic surge included
    cal = with_tr.calendar["event_双11大促"]
    cal_no = without.calendar["event_双11大促"]
    assert abs(cal.median() - surge) < 0.25
    assert abs(cal.median() - cal_no.median()) < 0.1


def test_days_without_traffic_are_left_out() -> None:
    """A store closed on promotion days (no orders, no sales) says nothing about price."""
    frame, truth, _ = _with_traffic(4)
    closed = (frame["price"] < frame.groupby("unique_id")["price"].transform("median")) & (
        frame["ds"].dt.day % 3 == 0
    )
    frame.loc[closed, "y"] = 0
    frame.loc[closed, "traffic"] = np.nan
    t = estimate_elasticities(frame, cross=False, max_se=10.0).table.set_index("unique_id")
    err = (t["raw_elasticity"] - truth.reindex(t.index)).mean()
    assert abs(err) < 0.15  # measured -0.05; read as zero demand at average traffic: +1.17
    assert (t["n_obs"] < frame.groupby("unique_id").size().reindex(t.index)).all()
