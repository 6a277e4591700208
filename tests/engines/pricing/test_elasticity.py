"""Elasticities: a reference GLM, a known demand process, currency invariance, no-variation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pricing_data import price_panel

from luopan.engines.pricing import estimate_elasticities
from luopan.engines.pricing.glm import fit_poisson
from luopan.engines.pricing.shrink import group_prior, shrink
from luopan.errors import DataContractError


def test_batched_glm_matches_statsmodels() -> None:
    import statsmodels.api as sm

    rng = np.random.default_rng(3)
    x = np.column_stack([np.ones(200), rng.normal(size=200), rng.integers(0, 2, 200)])
    y = rng.poisson(np.exp(1.0 - 2.0 * x[:, 1] + 0.5 * x[:, 2]))
    ref = sm.GLM(y, x, family=sm.families.Poisson()).fit(scale="X2")
    fit = fit_poisson(x[None], y[None].astype(float), np.ones((1, 200)), ridge=0.0)
    np.testing.assert_allclose(fit.coef[0], ref.params, atol=1e-6)
    # quasi-Poisson SE (dispersion floored at 1)
    phi = max(ref.scale, 1.0)
    np.testing.assert_allclose(
        np.sqrt(np.diag(fit.cov[0])), ref.bse / np.sqrt(ref.scale) * np.sqrt(phi), rtol=1e-5
    )


def test_dersimonian_laird_matches_statsmodels() -> None:
    from statsmodels.stats.meta_analysis import combine_effects

    b = np.array([-2.1, -2.9, -1.7, -3.2, -2.4, -2.6])
    v = np.array([0.04, 0.09, 0.05, 0.2, 0.03, 0.07])
    ref = combine_effects(b, v, method_re="dl")
    prior = group_prior(b, v)
    assert prior.tau2 == pytest.approx(ref.tau2, rel=1e-8)
    assert prior.mean == pytest.approx(ref.mean_effect_re, rel=1e-8)
    mean, var, _ = shrink(b, v, np.zeros(6), prior_df=0.0)
    # posterior means lie between the estimate and the prior mean, variances shrink
    assert np.all((mean - b) * (prior.mean - b) >= 0)
    assert np.all(var <= v)


def test_known_elasticities_are_recovered_with_calibrated_intervals() -> None:
    frame, truth = price_panel(n=60, days=300, seed=1)
    res = estimate_elasticities(frame, calendar="none", cross=False)
    t = res.table.set_index("unique_id")
    ok = t[t["status"] == "ok"]
    assert len(ok) >= 50
    err = ok["elasticity"] - truth.reindex(ok.index)
    assert err.abs().mean() < 0.12
    assert abs(err.mean()) < 0.06
    covered = (ok["lower"] <= truth.reindex(ok.index)) & (truth.reindex(ok.index) <= ok["upper"])
    assert covered.mean() >= 0.8
    assert res.summary()["share_negative"] == 1.0


def test_a_constant_price_gives_no_number() -> None:
    frame, _ = price_panel(n=8, days=120, seed=2)
    flat = frame["unique_id"] == "S000"
    frame.loc[flat, "price"] = 9.9
    frame.loc[flat, "promo"] = 0
    res = estimate_elasticities(frame, calendar="none")
    row = res.table.set_index("unique_id").loc["S000"]
    assert row["status"] == "insufficient_variation"
    assert np.isnan(row["elasticity"])
    assert np.isfinite(row["category_elasticity"])


def test_cross_price_effect_within_a_market() -> None:
    rng = np.random.default_rng(5)
    days = 400
    dates = pd.date_range("2025-01-01", periods=days)
    p1 = 10 * np.where(rng.random(days) < 0.2, 0.75, 1.0)
    p2 = 12 * np.where(rng.random(days) < 0.2, 0.75, 1.0)
    y1 = rng.poisson(40 * (p1 / 10) ** -2.0 * (p2 / 12) ** 0.8)
    y2 = rng.poisson(40 * (p2 / 12) ** -2.0 * (p1 / 10) ** 0.8)
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat(["a", "b"], days),
            "ds": np.tile(dates, 2),
            "y": np.r_[y1, y2],
            "price": np.r_[p1, p2],
        }
    )
    t = estimate_elasticities(frame, calendar="none").table.set_index("unique_id")
    assert (t["cross_status"] == "ok").all()
    assert t["cross_elasticity"].to_numpy() == pytest.approx([0.8, 0.8], abs=0.25)
    assert t["raw_elasticity"].to_numpy() == pytest.approx([-2.0, -2.0], abs=0.25)


@settings(max_examples=12, deadline=None)
@given(factor=st.floats(min_value=0.01, max_value=100.0))
def test_elasticity_is_unchanged_by_a_currency_rescale(factor: float) -> None:
    frame, _ = price_panel(n=4, days=90, seed=4)
    a = estimate_elasticities(frame, calendar="none", cross=False).table
    scaled = frame.assign(price=frame["price"] * factor)
    b = estimate_elasticities(scaled, calendar="none", cross=False).table
    np.testing.assert_allclose(a["raw_elasticity"], b["raw_elasticity"], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(a["raw_se"], b["raw_se"], rtol=1e-6)
    assert (a["status"] == b["status"]).all()


def test_bad_input_names_the_row_and_the_fix() -> None:
    frame, _ = price_panel(n=2, days=30, seed=0)
    with pytest.raises(DataContractError, match="missing column"):
        estimate_elasticities(frame.drop(columns="price"))
    frame.loc[5, "price"] = 0.0
    with pytest.raises(DataContractError, match="row 5"):
        estimate_elasticities(frame)
