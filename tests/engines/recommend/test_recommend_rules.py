"""Business rules after ranking (issue 7, point 3): availability, recency, promotion, margin."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import random_lines
from luopan.engines.recommend import BusinessRules, DiscoverRecommender, recommend
from luopan.engines.recommend.rules import (
    apply_rules,
    consumables_from_products,
    margins_from_products,
    promoted_from_prices,
    unavailable_from_inventory,
)
from luopan.errors import DataContractError

END = pd.Timestamp("2026-04-10")


def history() -> pd.DataFrame:
    """Customer a: sofa 10 days ago, milk 30/20/10 days ago, lamp 60 days ago, rice 50 days
    ago (twice). Customer b sets 'now' (END) and gives each item a second buyer."""
    rows = [
        ("a", "sofa", 10),
        ("a", "milk", 30),
        ("a", "milk", 20),
        ("a", "milk", 10),
        ("a", "lamp", 60),
        ("a", "rice", 80),
        ("a", "rice", 50),
        ("b", "sofa", 0),
        ("b", "milk", 5),
        ("b", "lamp", 3),
        ("b", "rice", 2),
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "sku", "ago"])
    frame["ordered_at"] = END - pd.to_timedelta(frame["ago"], unit="D")
    frame["order_id"] = frame["customer_id"] + frame["ago"].astype(str)
    return frame


def reorder_of(rules: BusinessRules | None, k: int = 10) -> pd.DataFrame:
    table = recommend(history(), kind="reorder", k=k, customer_ids=["a"], rules=rules).to_table()
    return table.set_index("sku")


def test_recent_non_consumable_is_excluded_and_consumables_stay() -> None:
    rules = BusinessRules(consumables={"milk", "rice"}, recent_days=30)
    plain = reorder_of(None)
    assert set(plain.index) == {"sofa", "milk", "lamp", "rice"}
    out = reorder_of(rules)
    # the sofa (durable) bought 10 days ago goes; milk bought 10 days ago stays; the lamp
    # (durable) bought 60 days ago is past the window and stays
    assert set(out.index) == {"milk", "rice", "lamp"}
    assert out.loc["milk", "days_since_purchase"] == pytest.approx(10.0)
    assert out.loc["lamp", "days_since_purchase"] == pytest.approx(60.0)
    # milk: own gaps 10 d, item cycle (median over repeaters a: 10, rice-free) -> due now
    assert out.loc["milk", "due_in_days"] == pytest.approx(0.0)
    assert out.loc["milk", "reason"] == "due_for_reorder"
    assert out["rank"].sort_values().tolist() == [1, 2, 3]
    # a 5-day window keeps the sofa; a 0-day window turns the rule off
    assert "sofa" in reorder_of(BusinessRules(consumables={"milk"}, recent_days=5)).index
    assert "sofa" in reorder_of(BusinessRules(consumables=set(), recent_days=0)).index


def test_out_of_stock_and_recalled_items_never_appear() -> None:
    inventory = pd.DataFrame(
        {
            "date": ["2026-04-09", "2026-04-10", "2026-04-10", "2026-04-10", "2026-04-10"],
            "store_id": ["s1", "s1", "s2", "s1", "s2"],
            "sku": ["lamp", "milk", "milk", "lamp", "lamp"],
            "on_hand": [0, 0, 0, 0, 4],
        }
    )
    # milk: 0 in both stores on the latest day; lamp: 4 in s2; rice: not in the snapshot
    assert unavailable_from_inventory(inventory) == {"milk"}
    assert unavailable_from_inventory(inventory.iloc[:0]) == frozenset()
    rules = BusinessRules(unavailable=unavailable_from_inventory(inventory), recalled={"rice"})
    out = reorder_of(rules)
    assert set(out.index) == {"sofa", "lamp"}
    # without inventory evidence nothing is excluded
    assert set(reorder_of(BusinessRules()).index) == set(reorder_of(None).index)


def test_promotion_priority_reorders_ties_and_margin_breaks_the_rest() -> None:
    table = pd.DataFrame(
        {
            "customer_id": ["a"] * 4,
            "rank": [1, 2, 3, 4],
            "sku": ["p", "q", "r", "s"],
            "score": [0.9, 0.5, 0.5, 0.1],
            "reason": ["similar_customers"] * 4,
            "days_since_purchase": [float("nan")] * 4,
        }
    )
    # q and r tie: r is promoted -> r before q; everything else keeps the model's order
    out = apply_rules(table, BusinessRules(promoted={"r"}), k=4)
    assert out["sku"].tolist() == ["p", "r", "q", "s"]
    assert out["rank"].tolist() == [1, 2, 3, 4]
    assert out.set_index("sku").loc["r", "reason"] == "on_promotion"
    assert out.set_index("sku").loc["q", "reason"] == "similar_customers"
    # no promotion: the tie goes to the higher margin
    out = apply_rules(table, BusinessRules(margin={"q": 0.2, "r": 0.4}), k=4)
    assert out["sku"].tolist() == ["p", "r", "q", "s"]
    assert out["margin_rate"].tolist() == [0.0, 0.4, 0.2, 0.0]
    # a promotion weight of 0.5 (relevance scale 0–1: p 1, q/r 0.5, s 0) lifts s (0 + 0.5)
    # level with q (0.5) but not above; 0.6 lifts s above q and r, not above p
    out = apply_rules(table, BusinessRules(promoted={"s"}, promo_weight=0.5), k=4)
    assert out["sku"].tolist() == ["p", "s", "q", "r"]  # tie at 0.5 -> the promoted one first
    out = apply_rules(table, BusinessRules(promoted={"s"}, promo_weight=0.6), k=2)
    assert out["sku"].tolist() == ["p", "s"]


def test_product_and_price_helpers() -> None:
    products = pd.DataFrame(
        {
            "shelf_life_days": [3, 365, None, 1000],
            "list_price": [10.0, 50.0, 800.0, 0.0],
            "unit_cost": [6.0, 20.0, 600.0, 1.0],
        },
        index=["bread", "shampoo", "sofa", "gift"],
    )
    assert consumables_from_products(products) == {"bread", "shampoo"}
    assert consumables_from_products(products, max_shelf_life_days=30) == {"bread"}
    assert margins_from_products(products) == pytest.approx(
        {"bread": 0.4, "shampoo": 0.6, "sofa": 0.25}
    )
    prices = pd.DataFrame(
        {
            "date": ["2026-04-09", "2026-04-10", "2026-04-10"],
            "sku": ["sofa", "bread", "shampoo"],
            "is_promo": [True, True, False],
        }
    )
    assert promoted_from_prices(prices) == {"bread"}  # the sofa's promotion ended
    with pytest.raises(DataContractError, match="shelf_life_days") as info:
        consumables_from_products(products.drop(columns="shelf_life_days"))
    assert info.value.fix
    with pytest.raises(DataContractError, match="recent_days"):
        BusinessRules(recent_days=-1)


@settings(max_examples=10, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    k=st.integers(1, 8),
    recent=st.integers(0, 120),
    kind=st.sampled_from(["reorder", "discover"]),
)
def test_rules_hold_on_random_baskets(seed: int, k: int, recent: int, kind: str) -> None:
    lines = random_lines(seed)
    items = sorted(lines["sku"].unique())
    rules = BusinessRules(
        unavailable=items[:2],
        recalled=items[2:3],
        consumables=items[3::2],
        recent_days=recent,
        promoted=items[4::3],
        margin={s: (i % 5) / 10 for i, s in enumerate(items)},
    )
    model = DiscoverRecommender(factors=8, neighbours=20) if kind == "discover" else None
    table = recommend(lines, kind=kind, k=k, rules=rules, model=model).to_table()  # type: ignore[arg-type]
    assert not table["sku"].isin(rules.banned).any()
    durable = ~table["sku"].isin(rules.consumables or set())
    assert not (durable & (table["days_since_purchase"] < recent)).any()
    per = table.groupby("customer_id")
    assert (per.size() <= k).all()
    assert per["rank"].apply(lambda r: r.tolist() == list(range(1, len(r) + 1))).all()
    assert per["sku"].apply(lambda s: s.is_unique).all()
    last = lines.groupby(["customer_id", "sku"])["ordered_at"].max()
    end = lines["ordered_at"].max()
    bought = table[table["days_since_purchase"].notna()]
    expected = end - last.reindex(list(zip(bought["customer_id"], bought["sku"], strict=True)))
    assert (bought["days_since_purchase"].to_numpy() == expected.dt.days.to_numpy()).all()
