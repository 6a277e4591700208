"""Recall list ranking and the Wilson / Newcombe intervals of the recall outcome.

References: Wilson (1927); Newcombe (1998), Statistics in Medicine 17, 873–890, Table II: for
56/70 vs 48/80 the method-10 interval of the difference is 0.0524 to 0.3339; the Wilson
interval of 81/263 is 0.2553 to 0.3662 (Newcombe 1998, Table I).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from luopan.engines.customers.recall import recall_list, recall_outcome, wilson_interval


def test_wilson_interval_matches_newcombe_table_1() -> None:
    low, high = wilson_interval(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)


def test_effect_interval_matches_newcombe_table_2() -> None:
    treated = [f"t{i}" for i in range(70)]
    holdout = [f"h{i}" for i in range(80)]
    assignments = pd.DataFrame(
        {
            "unit_id": treated + holdout,
            "variant": ["treatment"] * 70 + ["holdout"] * 80,
        }
    )
    buyers = treated[:56] + holdout[:48]
    purchases = pd.DataFrame({"customer": buyers, "day": "2026-09-10", "amount": 10.0})
    out = recall_outcome(assignments, purchases, recall_date="2026-09-06", window_days=30)
    assert out.treated.rate == pytest.approx(0.8) and out.holdout.rate == pytest.approx(0.6)
    assert (round(out.effect_low, 4), round(out.effect_high, 4)) == (0.0524, 0.3339)
    assert out.incremental_revenue == pytest.approx((8.0 - 6.0) * 70)


def test_recall_list_ranks_by_expected_recovered_value() -> None:
    rng = np.random.default_rng(1)
    customers = pd.DataFrame(
        {"clv": rng.gamma(2.0, 100.0, 1000), "p_churn": rng.uniform(0, 1, 1000)},
        index=[f"c{i:04d}" for i in range(1000)],
    )
    out = recall_list(customers, p_respond=0.3, contact_cost=5.0, holdout_share=0.2, seed=7)
    expected = customers["clv"] * customers["p_churn"] * 0.3 - 5.0
    assert set(out.index) == set(expected[expected > 0].index)
    assert np.allclose(out["expected_value"], expected[out.index])
    assert out["expected_value"].is_monotonic_decreasing
    share = (out["group"] == "holdout").mean()
    assert 0.15 < share < 0.25
    again = recall_list(
        customers.sample(frac=1, random_state=3),
        p_respond=0.3,
        contact_cost=5.0,
        holdout_share=0.2,
        seed=7,
    )
    assert again["group"].sort_index().equals(out["group"].sort_index())  # order-independent
