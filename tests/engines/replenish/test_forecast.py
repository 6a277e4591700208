"""DemandForecaster: estimator contract, a known demand process, and FreshRetailNet accuracy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from replenish_data import load_fresh, poisson_panel, split

from luopan.engines.replenish import DemandForecaster, coverage, mase, wape
from luopan.errors import DataContractError, EngineError, InsufficientDataError


def test_init_stores_parameters_and_fit_returns_self() -> None:
    f = DemandForecaster(combine=2)
    assert not [k for k in vars(f) if k.endswith("_")]
    df = poisson_panel(3, 70)
    assert f.fit(df) is f
    assert {"weights_", "chosen_", "cv_mae_", "error_quantiles_", "history_"} <= set(vars(f))
    assert all(len(v.split("+")) == 2 for v in f.chosen_.values())
    assert np.allclose(f.weights_.sum(axis=1), 1.0)


def test_bad_input_and_settings_raise_with_a_fix() -> None:
    with pytest.raises(EngineError) as err:
        DemandForecaster().predict(7)
    assert err.value.fix and "fit" in err.value.fix
    with pytest.raises(DataContractError):
        DemandForecaster().fit(poisson_panel(2, 70).drop(columns="y"))
    with pytest.raises(DataContractError):
        DemandForecaster().fit(poisson_panel(2, 70).assign(y=-1.0))
    with pytest.raises(InsufficientDataError):
        DemandForecaster().fit(poisson_panel(2, 30))
    with pytest.raises(EngineError):
        DemandForecaster(combine=9).fit(poisson_panel(2, 70))
    with pytest.raises(EngineError):
        DemandForecaster(models=("Prophet",)).fit(poisson_panel(2, 70))
    with pytest.raises(EngineError, match="scale"):
        DemandForecaster(scale="cv").fit(poisson_panel(2, 70))
    assert DemandForecaster(bins=3).get_params()["bins"] == 3


def test_known_poisson_process_mean_and_interval_coverage() -> None:
    history = poisson_panel(60, 90, level=6.0, seed=1)
    future = poisson_panel(60, 118, level=6.0, seed=2)
    future = future[future["ds"] > history["ds"].max()]
    res = DemandForecaster().fit(history).predict(28)
    m = future.merge(res.forecasts, on=["unique_id", "ds"])
    assert len(m) == 60 * 28
    assert m["mean"].mean() == pytest.approx(6.0, abs=0.3)
    lo80, hi80 = res.interval(80)
    lo95, hi95 = res.interval(95)
    assert coverage(m["y"], m[lo80], m[hi80]) == pytest.approx(0.80, abs=0.04)
    assert coverage(m["y"], m[lo95], m[hi95]) == pytest.approx(0.95, abs=0.03)


def test_quantiles_are_nested_and_non_negative() -> None:
    res = DemandForecaster().fit(poisson_panel(10, 80, level=0.7, seed=3)).predict(14)
    q = res.forecasts[[f"q{t:g}" for t in res.quantiles]].to_numpy()
    assert (q >= 0).all()
    assert (np.diff(q, axis=1) >= 0).all()
    assert (res.forecasts["mean"] >= 0).all()


def window_average(train: pd.DataFrame, test: pd.DataFrame) -> pd.DataFrame:
    last7 = train.sort_values("ds").groupby("unique_id")["y"].apply(lambda s: s.iloc[-7:].mean())
    return test.assign(wa7=test["unique_id"].map(last7))


def test_freshretailnet_beats_window_average_with_calibrated_intervals(shared_data: Path) -> None:
    # Reference run (shared/reference/inventory_pricing.md): WindowAverage(7) WAPE 0.389, MASE 0.978
    train, test = split(load_fresh(shared_data))
    train = train[["unique_id", "ds", "y"]]
    res = DemandForecaster().fit(train).predict(28)
    m = window_average(train, test[["unique_id", "ds", "y"]]).merge(
        res.forecasts, on=["unique_id", "ds"]
    )
    assert m["unique_id"].nunique() == 1333
    assert wape(m["y"], m["wa7"]) == pytest.approx(0.389, abs=0.001)
    assert mase(m, train, "wa7") == pytest.approx(0.978, abs=0.001)
    assert wape(m["y"], m["mean"]) == pytest.approx(0.3837, abs=0.0005)
    assert mase(m, train, "mean") == pytest.approx(0.9650, abs=0.0005)
    assert coverage(m["y"], m["q0.1"], m["q0.9"]) == pytest.approx(0.80, abs=0.03)
    assert coverage(m["y"], m["q0.025"], m["q0.975"]) == pytest.approx(0.95, abs=0.03)


@pytest.mark.slow
def test_freshretailnet_beats_autoets(shared_data: Path) -> None:
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    train, test = split(load_fresh(shared_data))
    train = train[["unique_id", "ds", "y"]]
    ets = StatsForecast(models=[AutoETS(season_length=7)], freq="D").forecast(df=train, h=28)
    res = DemandForecaster().fit(train).predict(28)
    m = test.merge(ets, on=["unique_id", "ds"]).merge(res.forecasts, on=["unique_id", "ds"])
    m["ets"] = m["AutoETS"].clip(lower=0)
    assert wape(m["y"], m["ets"]) == pytest.approx(0.422, abs=0.003)  # reference run: 0.422
    assert wape(m["y"], m["mean"]) < wape(m["y"], m["ets"]) - 0.03
    assert mase(m, train, "mean") < mase(m, train, "ets") - 0.05
