"""``recommend``: one call from purchase lines to reorder or discover lists with reasons.

Business rules: ``exclude_items`` never appear; a discover list never repeats an item the
customer bought; a reorder list holds only items the customer bought. With ``rules``
(:class:`~luopan.engines.recommend.rules.BusinessRules`) the model ranks ``rules.fetch(k)``
candidates and the rules then drop out-of-stock and recalled items and non-consumables bought
in the last N days, and order by promotion and margin priority (see ``rules``). Customers
without history get the cold-start list (popular in their segment and region) from the same
fitted model — nothing is retrained.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import numpy as np
import pandas as pd

from luopan.engines.recommend.discover import DiscoverRecommender
from luopan.engines.recommend.interactions import Columns
from luopan.engines.recommend.reorder import ReorderRecommender
from luopan.engines.recommend.result import COLUMNS, RULE_COLUMNS, Recommendations
from luopan.engines.recommend.rules import BusinessRules, apply_rules
from luopan.errors import EngineError

__all__ = ["recommend"]

Kind = Literal["reorder", "discover"]


def recommend(
    transactions: pd.DataFrame,
    customers: pd.DataFrame | None = None,
    *,
    k: int = 10,
    kind: Kind = "discover",
    customer_ids: Iterable[object] | None = None,
    exclude_items: Iterable[object] = (),
    columns: Columns | None = None,
    model: ReorderRecommender | DiscoverRecommender | None = None,
    explain: bool = True,
    rules: BusinessRules | None = None,
) -> Recommendations:
    """Top-k reorder or discover lists per customer.

    Args:
        transactions: purchase lines (customer_id, sku, ordered_at, order_id by default).
        customers: context indexed by customer id (``segment``, ``region`` columns are used).
        k: list length.
        kind: "reorder" (own history, due items) or "discover" (items new to the customer).
        customer_ids: whom to list (default: every customer in ``customers`` or with history).
        exclude_items: SKUs that must never be recommended (out of stock, recalled).
        model: an unfitted or fitted recommender to use instead of the default one.
        explain: add "bought together with X" reasons (one small lookup per customer).
        rules: business rules applied after ranking (availability, recency of non-consumables,
            promotion and margin priorities); the table then also has ``on_promotion`` and
            ``margin_rate``.

    Returns:
        Recommendations with one row per customer and rank.

    Raises:
        EngineError: unknown ``kind``; DataContractError for missing columns.
    """
    if kind not in ("reorder", "discover"):
        raise EngineError(f"unknown kind {kind!r}", fix="use kind='reorder' or kind='discover'")
    if model is None:
        model = (
            ReorderRecommender(columns=columns)
            if kind == "reorder"
            else DiscoverRecommender(columns=columns)
        )
    if getattr(model, "data_", None) is None:
        model.fit(transactions, customers)
    data = model.data_
    if customer_ids is None:
        ids = (
            data.customers
            if customers is None
            else data.customers.union(customers.index.astype(str))
        )
    else:
        ids = pd.Index([str(c) for c in customer_ids])
    excluded = {str(s) for s in exclude_items} | (set(rules.banned) if rules else set())
    banned = data.items.get_indexer(pd.Index(sorted(excluded)))
    banned = banned[banned >= 0]
    rows = data.customers.get_indexer(ids)
    fetch = k if rules is None else rules.fetch(k)
    known = np.flatnonzero(rows >= 0)
    parts: list[pd.DataFrame] = []
    if known.size:
        idx, score = model.recommend_rows(rows[known], k=fetch, exclude_items=banned)
        parts.append(_frame(model, ids[known], rows[known], idx, score, explain))
    cold = np.flatnonzero(rows < 0)
    if cold.size and isinstance(model, DiscoverRecommender):
        context = (customers if customers is not None else pd.DataFrame(index=ids)).copy()
        context.index = context.index.astype(str)
        context = context.reindex(ids[cold])
        scores = model.cold_start(context)
        scores[:, banned] = -np.inf
        order = np.argsort(-scores, axis=1, kind="stable")[:, :fetch]
        top = np.take_along_axis(scores, order, axis=1)
        n, kk = order.shape
        parts.append(
            pd.DataFrame(
                {
                    "customer_id": np.repeat(ids[cold].to_numpy(), kk),
                    "rank": np.tile(np.arange(1, kk + 1), n),
                    "sku": data.items.to_numpy()[order.ravel()],
                    "score": top.ravel(),
                    "reason": "popular_in_segment",
                    "because_sku": None,
                    "due_in_days": np.nan,
                    "days_since_purchase": np.nan,
                    "cold_start": True,
                }
            )
        )
    empty = pd.DataFrame(columns=[*COLUMNS, "days_since_purchase"])
    table = pd.concat(parts, ignore_index=True) if parts else empty
    table = table[np.isfinite(table["score"].astype(float))].reset_index(drop=True)
    if rules is None:
        return Recommendations(kind, k, table[COLUMNS])
    return Recommendations(kind, k, apply_rules(table, rules, k)[[*COLUMNS, *RULE_COLUMNS]])


def _frame(
    model: ReorderRecommender | DiscoverRecommender,
    ids: pd.Index,
    rows: np.ndarray,
    idx: np.ndarray,
    score: np.ndarray,
    explain: bool,
) -> pd.DataFrame:
    n, kk = idx.shape
    flat_rows = np.repeat(rows, kk)
    flat_items = np.maximum(idx.ravel(), 0)  # -1 pads short lists; their rows are dropped later
    items = model.data_.items.to_numpy()
    frame = pd.DataFrame(
        {
            "customer_id": np.repeat(ids.to_numpy(), kk),
            "rank": np.tile(np.arange(1, kk + 1), n),
            "sku": items[flat_items],
            "score": score.ravel(),
            "because_sku": None,
            "due_in_days": np.nan,
            "cold_start": False,
        }
    )
    last = np.asarray(model.data_.last[flat_rows, flat_items], dtype=np.float64).ravel()
    frame["days_since_purchase"] = np.where(last > 0, model.data_.end_day - (last - 1.0), np.nan)
    if isinstance(model, ReorderRecommender):
        due = model.due_in_days(flat_rows, flat_items)
        frame["due_in_days"] = np.round(due, 1)
        frame["reason"] = np.where(due <= 0, "due_for_reorder", "bought_before")
        return frame
    frame["reason"] = "similar_customers"
    if explain and model.knn_weight:
        because = np.concatenate(
            [model.knn_.because(int(r), i) for r, i in zip(rows, idx, strict=True)]
        )
        has = because >= 0
        frame.loc[has, "reason"] = "bought_together"
        frame.loc[has, "because_sku"] = items[because[has]]
    if model.priors_:
        groups = {c: v[flat_rows] for c, v in model.groups_.items()}
        lift = np.zeros(len(flat_rows))
        for prior in model.priors_:
            if prior.column in groups:
                lift += prior.lift[prior.codes(groups[prior.column]), flat_items]
        frame.loc[(lift > np.log(2.0)) & frame["because_sku"].isna(), "reason"] = (
            "popular_in_segment"
        )
    return frame
