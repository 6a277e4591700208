"""The health index formula (documented in luopan.engines.customers.health) on CDNOW customers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from luopan.engines.customers.health import WEIGHTS, health_index

CUTOFF = "1997-09-30"


@pytest.fixture(scope="module")
def occasions(cdnow_raw: pd.DataFrame) -> pd.DataFrame:
    occ = pd.DataFrame(
        {
            "customer": cdnow_raw["customer_id"],
            "day": cdnow_raw["date"],
            "amount": cdnow_raw["dollars"],
        }
    )
    # a steady customer: one $20 purchase every day for 200 days up to the cutoff
    days = pd.date_range(end=CUTOFF, periods=200, freq="D")
    steady = pd.DataFrame({"customer": "steady", "day": days, "amount": 20.0})
    return pd.concat([occ, steady], ignore_index=True)


def test_steady_customer_scores_80(occasions: pd.DataFrame) -> None:
    no_complaints = pd.DataFrame(
        {"customer": pd.Series(dtype=str), "day": pd.Series(dtype="datetime64[ns]")}
    )
    h = health_index(occasions, CUTOFF, complaints=no_complaints).customers
    row = h.loc["steady"]
    assert row["alive"] == pytest.approx(1.0, abs=1e-6)
    assert row["frequency_trend"] == pytest.approx(0.5)
    assert row["spend_trend"] == pytest.approx(0.5)
    assert row["health"] == pytest.approx(100 * (0.4 + 0.25 * 0.5 + 0.15 * 0.5 + 0.2))
    assert sum(WEIGHTS.values()) == pytest.approx(1.0)


def test_health_is_bounded_and_complaints_only_lower_it(occasions: pd.DataFrame) -> None:
    base = health_index(occasions, CUTOFF).customers
    assert base["health"].between(0, 100).all()
    assert len(base) == 2358
    # without complaints the weights are renormalised: steady = 100 × 0.6 / 0.8
    assert base.loc["steady", "health"] == pytest.approx(75.0)
    complaints = pd.DataFrame({"customer": ["steady", "steady", "0001"], "day": [CUTOFF] * 3})
    with_c = health_index(occasions, CUTOFF, complaints=complaints).customers
    assert with_c.loc["steady", "complaints"] == pytest.approx(1 / 3)
    assert with_c.loc["steady", "health"] == pytest.approx(100 * (0.6 + 0.2 / 3))
    # a lapsed customer: one purchase in January, none since -> far behind the rhythm
    lapsed = base[(base.index != "steady")].sort_values("health").iloc[0]
    assert lapsed["alive"] < 0.05 and lapsed["health"] < 30
    # customers without a complaint gain the complaint weight in full: 0.8 × base + 20
    clean = base.index.difference(["steady", "0001"])
    assert np.allclose(with_c.loc[clean, "health"], 0.8 * base.loc[clean, "health"] + 20)
    assert with_c.loc["0001", "health"] == pytest.approx(0.8 * base.loc["0001", "health"] + 10)


def test_recall_rule_below_65_for_3_weeks() -> None:
    from luopan.cli.customers import rule_fires

    assert rule_fires([70.0, 64.9, 60.0, 64.0])
    assert not rule_fires([64.0, 64.0, 65.0])  # 65 is not below 65
    assert not rule_fires([60.0, 60.0])  # fewer than 3 weeks
    assert not rule_fires([60.0, 60.0, 70.0, 60.0, 60.0])  # not consecutive at the end


def test_reusing_the_fit_between_refits_moves_the_weekly_index_by_less_than_a_point(
    occasions: pd.DataFrame,
) -> None:
    from luopan.engines.customers.health import health_by_segment

    occ = occasions[occasions["customer"] != "steady"]
    labels = pd.Series("all", index=occ["customer"].astype(str).unique())
    cutoffs = pd.date_range("1997-08-03", periods=4, freq="7D")
    every = health_by_segment(occ, labels, cutoffs, refit_days=0, min_customers=1)
    reused = health_by_segment(occ, labels, cutoffs, refit_days=28, min_customers=1)
    assert len(every) == len(reused) == 4
    assert every["customers"].tolist() == reused["customers"].tolist()
    gap = (every["health"] - reused["health"]).abs()
    assert gap.iloc[-1] == 0.0  # the latest cutoff has its own fit either way
    assert 0.0 < gap.max() < 1.0
