"""Price suggestions: the textbook optimum, rules always respected, ladders, infeasibility."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from luopan.engines.pricing import PriceRules, suggest_prices
from luopan.engines.pricing.candidates import price_scale
from luopan.errors import DataContractError


def _items(n: int = 3, **cols: object) -> pd.DataFrame:
    base = {
        "item_id": [f"i{k}" for k in range(n)],
        "current_price": 10.0,
        "unit_cost": 6.0,
        "base_units": 5.0,
        "elasticity": -2.5,
        "elasticity_se": 0.0,
    }
    base.update(cols)
    return pd.DataFrame(base)


def test_unconstrained_optimum_is_cost_times_e_over_one_plus_e() -> None:
    # p* = c·e/(1+e): e = −2.5, c = 6 → 10.0; e = −3, c = 6 → 9.0; e = −1.8, c = 6 → 13.5
    items = _items(3, elasticity=[-2.5, -3.0, -1.8])
    rules = PriceRules(max_step=0.6, endings=None, price_unit=0.01)
    res = suggest_prices(items, rules=rules)
    np.testing.assert_allclose(res.table["price"], [10.0, 9.0, 13.5], atol=0.2)
    assert res.summary()["profit_change"] >= 0


def test_uncertain_elasticity_and_no_elasticity() -> None:
    items = _items(2, elasticity=[-1.8, np.nan], elasticity_se=[0.0, np.nan])
    t = suggest_prices(items, rules=PriceRules(max_step=0.2)).table
    assert t.loc[1, "status"] == "kept_no_elasticity"
    assert t.loc[1, "price"] == 10.0
    assert t.loc[0, "price"] > 10.0
    assert t.loc[0, "profit_change_lower"] <= t.loc[0, "profit_change"]
    assert t.loc[0, "profit_change"] <= t.loc[0, "profit_change_upper"]


def test_ladder_keeps_good_better_best_order() -> None:
    # alone, the "best" tier would be priced under the "better" one
    items = _items(
        3,
        current_price=[10.0, 12.0, 12.5],
        unit_cost=[5.0, 6.0, 4.0],
        elasticity=[-2.0, -2.0, -3.5],
        ladder="L",
        tier=[0, 1, 2],
    )
    alone = suggest_prices(items.drop(columns=["ladder", "tier"]), rules=PriceRules(max_step=0.3))
    p_alone = alone.table["price"].to_numpy()
    assert p_alone[2] < p_alone[1] * 1.05
    res = suggest_prices(items, rules=PriceRules(max_step=0.3, ladder_gap=0.05))
    p = res.table["price"].to_numpy()
    assert p[1] >= p[0] * 1.05 - 1e-9 and p[2] >= p[1] * 1.05 - 1e-9
    assert (res.table["status"] == "ok").all()


def test_infeasible_rules_keep_the_price_and_say_so() -> None:
    items = _items(1, min_price=20.0)  # min price above the +10% step
    t = suggest_prices(items, rules=PriceRules(max_step=0.1)).table
    assert t.loc[0, "status"] == "infeasible"
    assert t.loc[0, "price"] == 10.0


def test_missing_columns_raise_with_a_fix() -> None:
    with pytest.raises(DataContractError, match="base_units"):
        suggest_prices(_items(1).drop(columns="base_units"))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0.5, 2000),
            st.floats(0.2, 0.95),
            st.floats(-4.5, -0.6),
            st.one_of(st.none(), st.floats(0.5, 2500)),
        ),
        min_size=1,
        max_size=12,
    ),
    st.floats(0.02, 0.5),
    st.sampled_from([None, (9,), (9, 8)]),
    st.floats(0.0, 0.4),
)
def test_suggested_prices_always_obey_the_rules(rows, step, endings, margin) -> None:
    cur = np.round([r[0] for r in rows], 1) + 0.1
    items = pd.DataFrame(
        {
            "item_id": [f"i{k}" for k in range(len(rows))],
            "current_price": cur,
            "unit_cost": cur * np.array([r[1] for r in rows]),
            "base_units": 3.0,
            "elasticity": [r[2] for r in rows],
            "elasticity_se": 0.2,
            "competitor_price": [np.nan if r[3] is None else r[3] for r in rows],
        }
    )
    rules = PriceRules(max_step=step, endings=endings, min_margin=margin)
    t = suggest_prices(items, rules=rules).table
    ok = t["status"] == "ok"
    p, c = t["price"].to_numpy(), items["current_price"].to_numpy()
    cost, comp = items["unit_cost"].to_numpy(), items["competitor_price"].to_numpy()
    tol = 1e-6 * np.maximum(c, 1)
    assert np.all(p[ok] >= c[ok] * (1 - step) - tol[ok])
    assert np.all(p[ok] <= c[ok] * (1 + step) + tol[ok])
    assert np.all(p[ok] >= cost[ok] / (1 - margin) - tol[ok])
    has = ok & np.isfinite(comp)
    assert np.all(p[has] <= comp[has] * 1.05 + tol[has])
    assert np.all(p[has] >= comp[has] * 0.80 - tol[has])
    assert np.all(t.loc[~ok, "price"].to_numpy() == c[~ok])  # infeasible: unchanged
    if endings:
        changed = ok & (np.abs(p - c) > 1e-9)
        unit = price_scale(c, 0.1)
        digit = np.round(p / unit).astype(np.int64) % 10
        assert np.isin(digit[changed], endings).all()
