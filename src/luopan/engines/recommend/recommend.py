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
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from luopan.engines.recommend.discover import DiscoverRecommender
from luopan.engines.recommend.interactions import Columns
from luopan.engines.recommend.reorder import ReorderRecommender
from luopan.engines.recommend.result import COLUMNS, RULE_COLUMNS, Recommendations
from luopan.engines.recommend.rules import (
    BusinessRules,
    ItemFlags,
    apply_rules,
    select_with_rules,
)
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
        explain: add "bought together with X" reasons (vectorised over the listed rows).
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
    # the ranked candidates as flat arrays: position in ids, model rank, item, score
    pos: list[np.ndarray] = []
    rank: list[np.ndarray] = []
    item: list[np.ndarray] = []
    score: list[np.ndarray] = []
    known = np.flatnonzero(rows >= 0)
    if known.size:
        idx, top = model.recommend_rows(rows[known], k=fetch, exclude_items=banned)
        _append(pos, rank, item, score, known, idx, top)
    cold = np.flatnonzero(rows < 0)
    if cold.size and isinstance(model, DiscoverRecommender):
        context = (customers if customers is not None else pd.DataFrame(index=ids)).copy()
        context.index = context.index.astype(str)
        context = context.reindex(ids[cold])
        scores = model.cold_start(context)
        scores[:, banned] = -np.inf
        order = np.argsort(-scores, axis=1, kind="stable")[:, :fetch]
        _append(pos, rank, item, score, cold, order, np.take_along_axis(scores, order, axis=1))
    if not pos:
        empty = pd.DataFrame(columns=[*COLUMNS, "days_since_purchase"])
        if rules is None:
            return Recommendations(kind, k, empty[COLUMNS])
        return Recommendations(kind, k, apply_rules(empty, rules, k)[[*COLUMNS, *RULE_COLUMNS]])
    c = Candidates(*(np.concatenate(part) for part in (pos, rank, item, score)))
    c = c.take(np.flatnonzero(np.isfinite(c.score)))  # -inf: excluded or padding
    fitted_row = rows[c.pos].astype(np.int32)
    lifted = None
    if rules is not None:
        flags = ItemFlags.of(rules, data.items)
        order_of_id, _ = pd.factorize(ids, sort=True)  # the output is sorted by customer id
        days = None if model.exclude_seen else _days_since(model, fitted_row, c.item)
        keep, new_rank, lifted = select_with_rules(
            order_of_id[c.pos], c.item, c.rank, c.score, days, flags, rules, k
        )
        c = c.take(keep)
        c.rank = new_rank
        fitted_row = fitted_row[keep]
    table = _frame(model, ids, c, fitted_row, explain, lifted)
    if rules is None:
        return Recommendations(kind, k, table[COLUMNS])
    table["on_promotion"] = flags.promoted[c.item]
    table["margin_rate"] = flags.margin[c.item]
    return Recommendations(kind, k, table[[*COLUMNS, *RULE_COLUMNS]])


@dataclass
class Candidates:
    """Ranked candidates as flat arrays (one element per customer × rank)."""

    pos: np.ndarray  # position of the customer in the requested ids
    rank: np.ndarray  # the model's rank, 1..fetch
    item: np.ndarray  # item index in the fitted catalogue
    score: np.ndarray

    def take(self, keep: np.ndarray) -> Candidates:
        return Candidates(self.pos[keep], self.rank[keep], self.item[keep], self.score[keep])


def _append(
    pos: list[np.ndarray],
    rank: list[np.ndarray],
    item: list[np.ndarray],
    score: list[np.ndarray],
    at: np.ndarray,
    idx: np.ndarray,
    top: np.ndarray,
) -> None:
    n, kk = idx.shape
    pos.append(np.repeat(at.astype(np.int32), kk))  # 32-bit: 1M customers × 40 candidates
    rank.append(np.tile(np.arange(1, kk + 1, dtype=np.int32), n))
    item.append(np.maximum(idx.ravel(), 0).astype(np.int32))  # -1 pads: score -inf
    score.append(top.ravel())


def _days_since(
    model: ReorderRecommender | DiscoverRecommender, rows: np.ndarray, items: np.ndarray
) -> np.ndarray:
    """Days since each customer (fitted row, −1 = none) last bought each item; NaN if never."""
    out = np.full(rows.size, np.nan)
    has = np.flatnonzero(rows >= 0)
    if not has.size:
        return out
    data = model.data_
    last = np.asarray(data.last[rows[has], items[has]], dtype=np.float64).ravel()
    out[has] = np.where(last > 0, data.end_day - (last - 1.0), np.nan)
    return out


def _frame(
    model: ReorderRecommender | DiscoverRecommender,
    ids: pd.Index,
    c: Candidates,
    fitted_row: np.ndarray,
    explain: bool,
    lifted: np.ndarray | None = None,
) -> pd.DataFrame:
    """The table of the kept candidates, with reasons, due dates and days since purchase;
    ``lifted`` rows (moved up by the promotion priority) get the reason ``on_promotion``."""
    items = model.data_.items.to_numpy()
    known = np.flatnonzero(fitted_row >= 0)
    flat_rows, flat_items = fitted_row[known], c.item[known]
    reason = np.full(c.item.size, "popular_in_segment", dtype=object)  # cold start
    because_sku = np.full(c.item.size, None, dtype=object)
    due_in_days = np.full(c.item.size, np.nan)
    if isinstance(model, ReorderRecommender):
        due = model.due_in_days(flat_rows, flat_items) if known.size else np.zeros(0)
        due_in_days[known] = np.round(due, 1)
        reason[known] = np.where(due <= 0, "due_for_reorder", "bought_before")
    else:
        reason[known] = "similar_customers"
        because = np.full(known.size, -1, dtype=np.int64)
        if explain and model.knn_weight and known.size:
            because = model.knn_.because_pairs(flat_rows, flat_items)
            has = because >= 0
            reason[known[has]] = "bought_together"
            because_sku[known[has]] = items[because[has]]
        if model.priors_ and known.size:
            lift = np.zeros(known.size)
            for prior in model.priors_:
                if prior.column in model.groups_:
                    group = model.groups_[prior.column][flat_rows]
                    lift += prior.lift[prior.codes(group), flat_items]
            reason[known[(lift > np.log(2.0)) & (because < 0)]] = "popular_in_segment"
    if lifted is not None:
        reason[lifted] = "on_promotion"
    days = np.full(c.item.size, np.nan)
    if known.size:
        days[known] = (
            np.nan
            if model.exclude_seen  # seen items were scored -inf and are gone
            else _days_since(model, flat_rows, flat_items)
        )
    return pd.DataFrame(
        {
            "customer_id": ids.take(c.pos),
            "rank": c.rank.astype(np.int64),
            "sku": model.data_.items.take(c.item),
            "score": c.score,
            "reason": pd.Series(reason, dtype=str),
            "because_sku": pd.Series(because_sku, dtype=object),  # None, not NaN
            "due_in_days": due_in_days,
            "cold_start": fitted_row < 0,
            "days_since_purchase": days,
        }
    )
