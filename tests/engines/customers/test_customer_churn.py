"""Churn 45 days ahead on a time split: CDNOW sample and UCI Online Retail.

Reference figures (/work/shared/reference/customers.md §4, measured with lifetimes and
scikit-learn on the same cutoffs): CDNOW 45 d, scoring cutoff 1997-09-30: churn rate 0.890;
BG/NBD P(no purchase in 45 d) AUC 0.794, ECE 0.016; 1 − P(alive) AUC 0.346; recency-only AUC
0.784; logistic regression on RFM 0.796. Online Retail 45 d, cutoff 2011-08-31: churn rate
0.625; recency-only 0.678; logistic regression on RFM 0.738 (the best reference model).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from luopan.engines.customers.churn import (
    BASKET,
    ChurnModel,
    churn_features,
    evaluate_churn,
    expected_calibration_error,
    reliability_curve,
)
from luopan.errors import DataContractError


def cdnow_occasions(transactions: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer": transactions["customer_id"],
            "day": transactions["date"],
            "amount": transactions["dollars"],
        }
    )


def test_calibration_error_definition() -> None:
    # two bins: [0.1 x4, y 1 of 4] -> |0.25-0.1| ; [0.9 x4, y 4 of 4] -> |1-0.9|
    y = np.array([1, 0, 0, 0, 1, 1, 1, 1])
    p = np.array([0.1] * 4 + [0.9] * 4)
    assert expected_calibration_error(y, p) == pytest.approx(0.5 * 0.15 + 0.5 * 0.1)
    curve = reliability_curve(y, p)
    assert curve["count"].tolist() == [4, 4]
    assert curve["observed"].tolist() == [0.25, 1.0]


def test_cdnow_churn_45_days(cdnow_raw: pd.DataFrame) -> None:
    occasions = cdnow_occasions(cdnow_raw)
    model = ChurnModel(horizon_days=45).fit(occasions, "1997-09-30")
    assert model.cutoffs_[-1] == pd.Timestamp("1997-08-16")  # label window closes by the cutoff
    result = evaluate_churn(model, occasions, "1997-09-30")
    s = result.scores
    assert result.customers == 2357
    assert result.churn_rate == pytest.approx(0.890, abs=5e-4)
    # the baselines reproduce the reference run
    assert s.loc["bg_nbd_p_no_purchase", "auc"] == pytest.approx(0.794, abs=5e-4)
    assert s.loc["bg_nbd_p_no_purchase", "ece"] == pytest.approx(0.016, abs=5e-4)
    assert s.loc["one_minus_p_alive", "auc"] == pytest.approx(0.346, abs=5e-4)
    assert s.loc["recency_only", "auc"] == pytest.approx(0.784, abs=5e-4)
    # the model (additive spline logistic model, the default): measured 0.8029 / ECE 0.0106
    # (the previous boosting model: 0.7918 / 0.0204); the target AUC >= 0.80 with
    # ECE <= 0.02 is met, and it beats every baseline of the same run
    assert model.model == "spline"
    assert s.loc["model", "auc"] >= 0.80
    assert s.loc["model", "auc"] > s.loc["bg_nbd_p_no_purchase", "auc"]
    assert s.loc["model", "ece"] <= 0.02
    assert s.loc["model", "brier"] < s.loc["bg_nbd_p_no_purchase", "brier"]
    assert not set(BASKET) & set(model.feature_names_)  # the basket features are opt-in
    assert model.mix_ is None  # no item column: no product mix, the model of before


def test_cdnow_basket_features_do_not_help(cdnow_raw: pd.DataFrame) -> None:
    # units (CDs) per line, unit price and weekend share, chosen on the validation cutoff
    # 1997-08-16 (AUC 0.7713 -> 0.7764), measured once at the scoring cutoff: 0.7941 / ECE
    # 0.0118, below the default's 0.8029 and the 0.80, hence basket=False by default
    occasions = cdnow_occasions(cdnow_raw).assign(quantity=cdnow_raw["cds"])
    model = ChurnModel(horizon_days=45, basket=True).fit(occasions, "1997-09-30")
    assert {"units_per_line", "unit_price", "weekend_share"} <= set(model.feature_names_)
    assert "order_hour" not in model.feature_names_  # dates only: constant, dropped
    s = evaluate_churn(model, occasions, "1997-09-30").scores
    assert s.loc["model", "auc"] == pytest.approx(0.7941, abs=1e-3)
    assert s.loc["model", "ece"] <= 0.02


def test_basket_features_definition() -> None:
    # customer a: two orders (Mon 2024-01-01 09:00, Sat 2024-01-06 15:30) and one return
    lines = pd.DataFrame(
        {
            "customer": ["a", "a", "a", "a", "b"],
            "day": pd.to_datetime(
                [
                    "2024-01-01 09:00",
                    "2024-01-01 09:00",
                    "2024-01-06 15:30",
                    "2024-01-08 10:00",
                    "2024-01-02 20:00",
                ]
            ),
            "amount": [10.0, 30.0, 60.0, -20.0, 5.0],
            "quantity": [1, 3, 12, -2, 1],
        }
    )
    f = churn_features(lines, "2024-01-31")
    a, b = f.loc["a"], f.loc["b"]
    assert a["units_per_line"] == 3.0  # median of 1, 3, 12
    assert a["unit_price"] == pytest.approx(100.0 / 16.0)
    assert a["returned_share"] == pytest.approx(0.2)  # 20 returned of 100 bought
    assert a["order_hour"] == pytest.approx((9.0 + 15.5) / 2)
    assert a["weekend_share"] == 0.5
    assert b["order_hour"] == 20.0 and b["returned_share"] == 0.0
    # without quantities and times of day the size and hour features are 0 for everyone
    dates = churn_features(
        lines.assign(day=lines["day"].dt.normalize()).drop(columns="quantity"), "2024-01-31"
    )
    assert (dates[["units_per_line", "unit_price", "order_hour"]] == 0.0).all().all()
    assert dates.loc["a", "weekend_share"] == 0.5


def test_features_use_nothing_after_the_cutoff(cdnow_raw: pd.DataFrame) -> None:
    occasions = cdnow_occasions(cdnow_raw).assign(quantity=cdnow_raw["cds"])
    cutoff = pd.Timestamp("1997-06-30")
    full = churn_features(occasions, cutoff)
    past = churn_features(occasions[occasions["day"] <= cutoff], cutoff)
    features = [c for c in full.columns if c not in ("churned", "bg_nbd_converged")]
    pd.testing.assert_frame_equal(full[features], past[features])
    assert full["churned"].notna().all() and past["churned"].isna().all()
    # a customer's own rhythm: gaps between purchase days
    one = occasions[(occasions["customer"] == full.index[0]) & (occasions["day"] <= cutoff)]
    days = one["day"].drop_duplicates().sort_values()
    gaps = days.diff().dt.days.dropna()
    row = full.iloc[0]
    if len(gaps):
        assert row["gap_last"] == gaps.iloc[-1] and row["gap_median"] == gaps.median()
    else:
        assert np.isnan(row["gap_last"])
    assert row["breadth"] == 0.0  # no item column
    with pytest.raises(DataContractError, match="unknown churn model"):
        ChurnModel(model="forest").fit(occasions, "1997-09-30")


@pytest.mark.slow
def test_online_retail_churn_45_days(online_retail: pd.DataFrame) -> None:
    lines = online_retail[online_retail["CustomerID"].notna()]
    occasions = pd.DataFrame(
        {
            "customer": lines["CustomerID"],
            "day": lines["InvoiceDate"],
            "amount": lines["amount"],
            "item": lines["StockCode"],
        }
    )
    model = ChurnModel(horizon_days=45).fit(occasions, "2011-08-31")
    result = evaluate_churn(model, occasions, "2011-08-31")
    s = result.scores
    assert result.churn_rate == pytest.approx(0.625, abs=5e-4)
    assert s.loc["recency_only", "auc"] == pytest.approx(0.678, abs=5e-4)
    # measured 0.7533 / ECE 0.0255 with the product mix read from the stock codes (mix=3, the
    # default since 2026-12-02; without it 0.7491 / 0.0260, the boosting model of before 0.7466):
    # above the reference's best (logistic regression on RFM, 0.738) and above BG/NBD alone in
    # the same run; the target of 0.76 is not reached
    assert model.mix_ is not None and model.mix_.dims == 3
    assert s.loc["model", "auc"] == pytest.approx(0.7533, abs=1e-3)
    assert s.loc["model", "auc"] > s.loc["bg_nbd_p_no_purchase", "auc"]
    assert s.loc["model", "ece"] < s.loc["bg_nbd_p_no_purchase", "ece"]
