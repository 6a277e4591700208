"""Demo world: business rules hold for every customer, and the planted segment with a known
category affinity (ground_truth.json ``category_affinity``) gets that category in its top 10."""

from __future__ import annotations

from typing import Any

import pytest

from luopan.cli.recommend import workspace_lines
from luopan.engines.recommend import DiscoverRecommender, recommend

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_lists(demo_world: tuple[Any, dict[str, Any]]) -> dict[str, Any]:
    ws, truth = demo_world
    lines, customers, products = workspace_lines(ws)
    popular = lines.groupby("sku")["customer_id"].nunique().nlargest(5).index.tolist()
    model = DiscoverRecommender(context_columns=("acquisition_channel", "region", "member_level"))
    discover = recommend(lines, customers, kind="discover", exclude_items=popular, model=model)
    reorder = recommend(lines, customers, kind="reorder", exclude_items=popular)
    return {
        "lines": lines,
        "customers": customers,
        "products": products,
        "truth": truth,
        "banned": popular,
        "discover": discover.to_table(),
        "reorder": reorder.to_table(),
    }


def test_business_rules_hold_for_every_customer(demo_lists: dict[str, Any]) -> None:
    lines, customers = demo_lists["lines"], demo_lists["customers"]
    bought = set(zip(lines["customer_id"], lines["sku"], strict=True))
    for kind in ("discover", "reorder"):
        table = demo_lists[kind]
        assert not table["sku"].isin(demo_lists["banned"]).any(), kind
        assert (table.groupby("customer_id").size() <= 10).all()
        pairs = list(zip(table["customer_id"], table["sku"], strict=True))
        if kind == "discover":
            assert not any(p in bought for p in pairs)
            # everyone in the customers table gets a list, with or without history
            assert set(table["customer_id"]) == set(customers.index.astype(str))
        else:
            assert all(p in bought for p in pairs)
    reasons = demo_lists["discover"]["reason"]
    assert {"bought_together", "popular_in_segment"} <= set(reasons)


def test_planted_category_affinity_is_in_the_top_10(demo_lists: dict[str, Any]) -> None:
    truth = demo_lists["truth"]["category_affinity"]
    ((column, value),) = truth["segment"].items()
    table = demo_lists["discover"].copy()
    table["category"] = demo_lists["products"]["category"].reindex(table["sku"]).to_numpy()
    has = table.groupby("customer_id")["category"].apply(
        lambda s: bool((s == truth["category"]).any())
    )
    planted = demo_lists["customers"][column].reindex(has.index) == value
    assert planted.sum() == truth["n_customers"]
    # measured: 95% of the 237 planted customers, 65% of the others
    assert has[planted].mean() >= 0.9
    assert has[planted].mean() - has[~planted].mean() >= 0.2
    share = table.groupby("customer_id")["category"].apply(
        lambda s: (s == truth["category"]).mean()
    )
    assert share[planted].mean() > 1.5 * share[~planted].mean()


def test_business_rules_from_the_warehouse_hold_for_every_customer(
    demo_world: tuple[Any, dict[str, Any]], demo_lists: dict[str, Any]
) -> None:
    from luopan.cli.recommend import workspace_rules
    from luopan.engines.recommend import REASONS, BusinessRules
    from luopan.engines.recommend.rules import consumables_from_products

    ws, _ = demo_world
    lines, customers, products = (demo_lists[k] for k in ("lines", "customers", "products"))
    shipped = workspace_rules(ws, products)
    # the demo sells food and household goods: every SKU has a shelf life (a consumable), the
    # latest price day has promotions, and margins come from list price and unit cost
    assert shipped.consumables == set(products.index.astype(str))
    assert shipped.promoted and len(shipped.margin) == len(products)
    # make the rules bite: the 5 most popular SKUs out of stock, one recalled, and only
    # short-life items (<= 30 days) counted as consumables
    rules = BusinessRules(
        unavailable=demo_lists["banned"],
        recalled=[products.index[0]],
        consumables=consumables_from_products(products, max_shelf_life_days=30),
        recent_days=30,
        promoted=shipped.promoted,
        margin=shipped.margin,
        promo_weight=0.05,
    )
    table = recommend(lines, customers, kind="reorder", rules=rules).to_table()
    assert not table["sku"].isin(rules.banned).any()
    durable = ~table["sku"].isin(rules.consumables or set())
    assert not (durable & (table["days_since_purchase"] < 30)).any()
    # the rule removed something: recent long-life items exist in the raw lists
    raw = recommend(lines, customers, kind="reorder", k=40).to_table()
    last = lines.groupby(["customer_id", "sku"])["ordered_at"].max()
    age = (lines["ordered_at"].max().normalize() - last.dt.normalize()).dt.days
    recent_durable = age[(age < 30) & ~age.index.get_level_values("sku").isin(rules.consumables)]
    assert (
        len(recent_durable) > 0
        and raw.set_index(["customer_id", "sku"]).index.isin(recent_durable.index).any()
    )
    per = table.groupby("customer_id")
    assert per["rank"].apply(lambda r: r.tolist() == list(range(1, len(r) + 1))).all()
    assert set(table["reason"]) <= set(REASONS)
    assert table.loc[table["reason"] == "on_promotion", "on_promotion"].all()
