"""The vectorised business rules and reasons give exactly what the per-row pandas code gave.

``reference_apply_rules`` and ``reference_because`` are the implementations that shipped before
the arrays version (pandas groupbys and sorts; one sparse lookup per customer), kept here as
the oracle.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import random_lines
from luopan.engines.recommend import (
    BusinessRules,
    DiscoverRecommender,
    ReorderRecommender,
    recommend,
)
from luopan.engines.recommend.result import COLUMNS, RULE_COLUMNS
from luopan.engines.recommend.rules import (
    ItemFlags,
    _sort_within,
    apply_rules,
    select_with_rules,
)


def reference_apply_rules(table: pd.DataFrame, rules: BusinessRules, k: int) -> pd.DataFrame:
    out = table[~table["sku"].astype(str).isin(rules.banned)].copy()
    if rules.consumables is not None and rules.recent_days > 0:
        recent = out["days_since_purchase"].astype(float) < rules.recent_days
        durable = ~out["sku"].astype(str).isin(rules.consumables)
        out = out[~(recent & durable)]
    sku = out["sku"].astype(str)
    out["on_promotion"] = sku.isin(rules.promoted).to_numpy()
    margin = sku.map(dict(rules.margin)) if rules.margin else pd.Series(0.0, index=sku.index)
    out["margin_rate"] = pd.to_numeric(margin, errors="coerce").fillna(0.0).to_numpy(dtype=float)
    if out.empty:
        return out
    score = out["score"].astype(float)
    group = out.groupby("customer_id", sort=False)["score"]
    low, high = group.transform("min").astype(float), group.transform("max").astype(float)
    span = (high - low).where(high > low, 1.0)
    relevance = ((score - low) / span).where(high > low, 1.0)
    out["priority"] = (
        relevance
        + rules.promo_weight * out["on_promotion"]
        + rules.margin_weight * out["margin_rate"]
    )
    out["_model_rank"] = out["rank"]
    out = out.sort_values(
        ["customer_id", "priority", "on_promotion", "margin_rate", "_model_rank"],
        ascending=[True, False, False, False, True],
        kind="stable",
    )
    out["rank"] = out.groupby("customer_id", sort=False).cumcount() + 1
    out = out[out["rank"] <= k]
    model_place = out.groupby("customer_id", sort=False)["_model_rank"].rank(method="first")
    lifted = out["on_promotion"] & (out["rank"] < model_place)
    out.loc[lifted, "reason"] = "on_promotion"
    return out.drop(columns=["priority", "_model_rank"]).reset_index(drop=True)


def reference_because(model: DiscoverRecommender, row: int, items: np.ndarray) -> np.ndarray:
    knn = model.knn_
    w = knn.user_weights(np.array([row]))
    if w.nnz == 0:
        return np.full(len(items), -1)
    own = w.indices
    contrib = knn.similarity_[own][:, items].toarray() * w.data[:, None]
    best = own[np.argmax(contrib, axis=0)]
    return np.where(contrib.max(axis=0) > 0, best, -1)


def random_rules(rng: np.random.Generator, skus: list[str], weights: bool) -> BusinessRules:
    def pick(share: float) -> frozenset[str]:
        return frozenset(s for s in skus if rng.random() < share)

    return BusinessRules(
        unavailable=pick(0.1),
        recalled=pick(0.05),
        consumables=None if rng.random() < 0.2 else pick(0.5),
        recent_days=int(rng.integers(0, 60)),
        promoted=pick(0.3),
        margin={s: float(rng.choice([0.1, 0.2, 0.3])) for s in pick(0.7)},
        promo_weight=float(rng.choice([0.0, 0.05, 0.5])) if weights else 0.0,
        margin_weight=float(rng.choice([0.0, 0.2])) if weights else 0.0,
    )


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 100_000), k=st.integers(1, 12), weights=st.booleans())
def test_apply_rules_matches_the_pandas_reference(seed: int, k: int, weights: bool) -> None:
    """Random ranked tables with many ties (scores on a coarse grid), customers out of order,
    ragged lists and NaN days: same rows, order, ranks, reasons and dtypes."""
    rng = np.random.default_rng(seed)
    skus = [f"s{i:02d}" for i in range(30)]
    parts = []
    for c in rng.permutation(12):
        n = int(rng.integers(1, 25)) if rng.random() < 0.9 else 60
        parts.append(
            pd.DataFrame(
                {
                    "customer_id": f"c{c:02d}",
                    "rank": np.arange(1, n + 1),
                    "sku": rng.choice(skus, n, replace=n > len(skus)),
                    "score": np.sort(np.round(rng.random(n), 1))[::-1],
                    "reason": "similar_customers",
                    "days_since_purchase": np.where(
                        rng.random(n) < 0.5, np.nan, rng.integers(0, 90, n)
                    ),
                }
            )
        )
    table = pd.concat(parts, ignore_index=True)
    rules = random_rules(rng, skus, weights)
    expected = reference_apply_rules(table, rules, k)
    got = apply_rules(table, rules, k)
    # re-ranking a few customers at a time (the memory bound) changes nothing
    item, skus_seen = pd.factorize(table["sku"])
    args = (
        pd.factorize(table["customer_id"], sort=True)[0],
        item,
        table["rank"].to_numpy(),
        table["score"].to_numpy(),
        table["days_since_purchase"].to_numpy(),
        ItemFlags.of(rules, skus_seen),
        rules,
        k,
    )
    for whole, blocks in zip(
        select_with_rules(*args), select_with_rules(*args, block=7), strict=True
    ):
        np.testing.assert_array_equal(whole, blocks)
    if expected.empty:
        assert got.empty and list(got.columns) == list(expected.columns)
    else:
        pd.testing.assert_frame_equal(got, expected, check_exact=True)


@settings(max_examples=8, deadline=None)
@given(
    seed=st.integers(0, 10_000), k=st.integers(1, 8), kind=st.sampled_from(["reorder", "discover"])
)
def test_recommend_with_rules_matches_the_reference_pipeline(
    seed: int, k: int, kind: Literal["reorder", "discover"]
) -> None:
    """recommend(rules=...) equals: rank rules.fetch(k) candidates without rules, add the days
    since purchase from the lines, then the pandas reference of the rules."""
    lines = random_lines(seed)
    skus = sorted(lines["sku"].unique())
    rules = random_rules(np.random.default_rng(seed), skus, weights=True)
    model = (
        DiscoverRecommender(factors=8, neighbours=20)
        if kind == "discover"
        else ReorderRecommender()
    ).fit(lines)
    ids = [*sorted(lines["customer_id"].unique(), reverse=True), "new-customer"]
    got = recommend(lines, kind=kind, k=k, rules=rules, model=model, customer_ids=ids)
    plain = recommend(
        lines,
        kind=kind,
        k=rules.fetch(k),
        model=model,
        customer_ids=ids,
        exclude_items=rules.banned,
    ).to_table()
    last = lines.groupby(["customer_id", "sku"])["ordered_at"].max()
    pairs = list(zip(plain["customer_id"], plain["sku"], strict=True))
    days = (lines["ordered_at"].max() - last.reindex(pairs)).dt.days.to_numpy(dtype=float)
    expected = reference_apply_rules(plain.assign(days_since_purchase=days), rules, k)
    pd.testing.assert_frame_equal(
        got.to_table(), expected[[*COLUMNS, *RULE_COLUMNS]], check_exact=True
    )


@pytest.mark.parametrize("dense_from", [0, 10**9])
def test_because_pairs_matches_the_per_customer_reference(dense_from: int) -> None:
    lines = random_lines(5, customers=40, items=30, lines=600)
    model = DiscoverRecommender(factors=8, neighbours=10).fit(lines)
    items, _ = model.recommend_rows(np.arange(len(model.data_.customers)), k=12)
    expected = np.concatenate(
        [reference_because(model, r, i) for r, i in enumerate(np.maximum(items, 0))]
    )
    got = model.knn_.because_pairs(
        np.repeat(np.arange(items.shape[0]), items.shape[1]),
        np.maximum(items, 0).ravel(),
        chunk=50,
        dense_from=dense_from,
    )
    assert (got >= 0).any() and (got == -1).any()
    np.testing.assert_array_equal(got, expected)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 100_000), ragged=st.booleans(), nan=st.booleans())
def test_sort_within_groups_equals_lexsort(seed: int, ragged: bool, nan: bool) -> None:
    """The padded-matrix sort (primary key, then all keys for tied groups) is np.lexsort."""
    rng = np.random.default_rng(seed)
    size = rng.integers(1, 8, 50)
    if ragged:
        size[0] = 500  # one long group: the flat fallback
    first = np.cumsum(size) - size
    n = int(size.sum())
    keys = [
        rng.integers(0, 3, n).astype(float),
        -np.round(rng.random(n), 1),
        rng.random(n) < 0.5,
        np.where(rng.random(n) < 0.1, np.inf, np.round(rng.random(n), 1)),
    ]
    if nan:
        keys[-1][rng.integers(0, n, 3)] = np.nan
    group = np.repeat(np.arange(size.size), size)
    np.testing.assert_array_equal(_sort_within(first, size, keys), np.lexsort((*keys, group)))
