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
