"""Censored demand: recovery on a known censored process, invariants, and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from luopan.engines.replenish import unconstrain_demand
from luopan.errors import DataContractError


def censored_panel(seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Demand N(20, 5) per day; stock is sometimes short; customers arrive evenly over 24 h,
    so a day that sells out after a share f of its demand is out of stock for (1 − f)·24 h."""
    rng = np.random.default_rng(seed)
    n, days = 40, 120
    demand = np.maximum(rng.normal(20, 5, (n, days)), 0)
    stock = np.where(rng.random((n, days)) < 0.3, rng.uniform(8, 22, (n, days)), np.inf)
    sold = np.minimum(demand, stock)
    hours = np.where(demand > stock, 24 * (1 - stock / np.maximum(demand, 1e-9)), 0.0)
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat([f"s{i}" for i in range(n)], days),
            "ds": np.tile(pd.date_range("2024-01-01", periods=days), n),
            "y": sold.ravel(),
            "stockout_hours": hours.ravel(),
        }
    )
    return frame, demand.ravel()


def test_recovers_most_of_the_lost_demand() -> None:
    frame, demand = censored_panel()
    out = unconstrain_demand(frame)
    cens = out["censored"].to_numpy()
    lost = (demand - frame["y"].to_numpy())[cens].sum()
    recovered = (out["y"] - out["y_observed"]).to_numpy()[cens].sum()
    assert 0.85 < recovered / lost < 1.1  # 95% recovered with this seed
    err_obs = np.abs(frame["y"].to_numpy() - demand)[cens].mean()
    err_imp = np.abs(out["y"].to_numpy() - demand)[cens].mean()
    assert err_imp < 0.6 * err_obs


def test_never_below_sales_and_uncensored_days_unchanged() -> None:
    frame, _ = censored_panel(1)
    out = unconstrain_demand(frame, threshold_hours=0.5)
    assert (out["y"] >= out["y_observed"] - 1e-12).all()
    free = ~out["censored"]
    assert np.array_equal(out.loc[free, "y"].to_numpy(), frame.loc[free, "y"].to_numpy())
    assert out["censored"].sum() == (frame["stockout_hours"] > 0.5).sum()


def test_bad_input_raises_with_a_fix() -> None:
    frame, _ = censored_panel()
    with pytest.raises(DataContractError) as err:
        unconstrain_demand(frame.drop(columns="stockout_hours"))
    assert err.value.fix and "stockout_hours" in err.value.message
    with pytest.raises(DataContractError):
        unconstrain_demand(frame.assign(stockout_hours=30.0))
