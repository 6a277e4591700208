"""Invariants of the recommenders and metrics on random baskets (hypothesis) and tiny cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import random_lines
from luopan.engines.recommend import (
    DiscoverRecommender,
    OwnHistoryRecommender,
    PopularityRecommender,
    ReorderRecommender,
    build_interactions,
    recommend,
    top_k,
)
from luopan.engines.recommend.evaluate import ranking_metrics
from luopan.errors import DataContractError, EngineError

FAST = {"factors": 8, "neighbours": 20}


def owned(lines: pd.DataFrame) -> dict[str, set[str]]:
    return lines.groupby("customer_id")["sku"].apply(set).to_dict()


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 12))
def test_discover_never_repeats_or_breaks_exclusions(seed: int, k: int) -> None:
    lines = random_lines(seed)
    banned = ["s000", "s003"]
    result = recommend(
        lines, k=k, kind="discover", exclude_items=banned, model=DiscoverRecommender(**FAST)
    )  # type: ignore[arg-type]
    table = result.to_table()
    own = owned(lines)
    assert not table["sku"].isin(banned).any()
    assert not any(sku in own[c] for c, sku in zip(table["customer_id"], table["sku"], strict=True))
    per = table.groupby("customer_id")
    assert (per.size() <= k).all()
    assert per["sku"].apply(lambda s: s.is_unique).all()
    assert per["score"].apply(lambda s: s.is_monotonic_decreasing).all()


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_reorder_lists_only_own_items_most_bought_first(seed: int) -> None:
    lines = random_lines(seed)
    result = recommend(lines, k=5, kind="reorder")
    table = result.to_table()
    own = owned(lines)
    assert all(sku in own[c] for c, sku in zip(table["customer_id"], table["sku"], strict=True))
    # a customer with 3 distinct items gets exactly 3, never padding from elsewhere
    sizes = table.groupby("customer_id").size()
    assert (sizes == pd.Series({c: min(5, len(s)) for c, s in own.items()})).all()
    assert set(table["reason"]) <= {"due_for_reorder", "bought_before"}
    assert (table["due_in_days"].notna()).all()


def test_reorder_ranks_by_baskets_times_propensity() -> None:
    # a and b: item x in 3 baskets, y in 1; a's first item must be x
    rows = [("a", "x", d, f"a{d}") for d in (1, 20, 40)] + [("a", "y", 40, "a40")]
    rows += [("b", "x", d, f"b{d}") for d in (5, 35)] + [("b", "z", 5, "b5")]
    lines = pd.DataFrame(rows, columns=["customer_id", "sku", "day", "order_id"])
    lines["ordered_at"] = pd.Timestamp("2026-01-01") + pd.to_timedelta(lines["day"], unit="D")
    model = ReorderRecommender().fit(lines)
    # propensity of x = (2 repeaters + 1) / (2 buyers + 2) = 0.75; y and z: 1/3
    assert model.propensity_ == pytest.approx([0.75, 1 / 3, 1 / 3])
    # x's cycle: a's gaps 19.5 d, b's 30 d -> median 24.75
    assert model.cycle_days_[0] == pytest.approx(24.75)
    idx, score = model.recommend_rows(np.array([0]), k=3)
    assert list(idx[0][:2]) == [0, 1] and score[0][0] == pytest.approx(3 * 0.75**0.5, abs=2e-4)
    # a: last x on day 40, own gap 19.5 (2 gaps) shrunk with 2 prior gaps of 24.75 -> 22.125
    due = model.due_in_days(np.array([0]), np.array([0]))
    assert due[0] == pytest.approx(40 + 22.125 - 40)


def test_cold_start_is_popular_in_segment_without_refit() -> None:
    rows = []
    for c in range(20):
        seg = "north" if c < 10 else "south"
        fav = "n1" if seg == "north" else "s1"
        rows += [(f"c{c}", fav, 1, f"o{c}"), (f"c{c}", "common", 2, f"p{c}")]
    lines = pd.DataFrame(rows, columns=["customer_id", "sku", "day", "order_id"])
    lines["ordered_at"] = pd.Timestamp("2026-01-01") + pd.to_timedelta(lines["day"], unit="D")
    customers = pd.DataFrame(
        {"region": ["north"] * 10 + ["south"] * 10 + ["south", "north"]},
        index=[f"c{c}" for c in range(20)] + ["new-s", "new-n"],
    )
    model = DiscoverRecommender(**FAST).fit(lines, customers.iloc[:20])
    ids = ["new-s", "new-n"]
    result = recommend(lines, customers, kind="discover", k=2, customer_ids=ids, model=model)
    table = result.to_table()
    assert table["cold_start"].all() and (table["reason"] == "popular_in_segment").all()
    assert set(result.for_customer("new-s")["sku"]) == {"s1", "common"}
    assert set(result.for_customer("new-n")["sku"]) == {"n1", "common"}


def test_top_k_and_metrics_on_a_hand_computed_case() -> None:
    scores = np.array([[0.1, 0.9, 0.5, -np.inf], [1.0, 2.0, 3.0, 4.0]])
    assert top_k(scores, 2).tolist() == [[1, 2], [3, 2]]
    relevant = sp.csr_matrix(np.array([[0, 1, 0, 1], [1, 0, 0, 0]], dtype=float))
    rec = np.array([[1, 2], [3, 2]])
    p, r, n, cov, bias = ranking_metrics(rec, relevant, np.array([0.1, 0.2, 0.3, 0.4]), 2)
    assert p == pytest.approx(0.25) and r == pytest.approx(0.25)
    assert n == pytest.approx(0.5 * 1 / (1 + 1 / np.log2(3)))
    assert cov == pytest.approx(0.75) and bias == pytest.approx((0.2 + 0.3 + 0.4 + 0.3) / 4)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_metrics_are_bounded_and_perfect_lists_score_one(seed: int) -> None:
    rng = np.random.default_rng(seed)
    dense = (rng.random((6, 15)) < 0.3).astype(float)
    dense[:, 0] = 1.0
    relevant = sp.csr_matrix(dense)
    rec = np.argsort(-dense - 1e-3 * rng.random(dense.shape), axis=1)[:, :10]
    p, r, n, cov, bias = ranking_metrics(rec, relevant, np.full(15, 0.5), 10)
    assert n == pytest.approx(1.0)
    assert r == pytest.approx(float(np.mean(np.minimum(dense.sum(1), 10) / dense.sum(1))))
    assert 0 <= p <= 1 and 0 <= cov <= 1 and bias == pytest.approx(0.5)


def test_baselines_and_interactions_count_distinct_baskets() -> None:
    lines = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b"],
            "sku": ["x", "x", "y", "y"],
            "ordered_at": pd.to_datetime(["2026-01-01", "2026-01-01", "2026-02-01", "2026-02-01"]),
            "order_id": ["1", "1", "2", "3"],  # a buys x twice in one basket: counts once
        }
    )
    data = build_interactions(lines)
    assert data.counts.toarray().tolist() == [[1.0, 1.0], [0.0, 1.0]]
    pop = PopularityRecommender().fit(lines)
    assert pop.popularity_.tolist() == [0.5, 1.0]
    own = OwnHistoryRecommender().fit(lines)
    assert own.recommend_rows(np.array([0]), k=1)[0].tolist() == [[1]]  # tie -> more popular


def test_errors_say_what_and_how_to_fix() -> None:
    with pytest.raises(DataContractError, match="order_id") as info:
        build_interactions(pd.DataFrame({"customer_id": [], "sku": [], "ordered_at": []}))
    assert info.value.fix and "Columns" in info.value.fix
    with pytest.raises(EngineError, match="kind"):
        recommend(random_lines(0), kind="upsell")  # type: ignore[arg-type]
    with pytest.raises(EngineError, match="not fitted"):
        ReorderRecommender().recommend_rows(np.array([0]))
