"""Reorder list: items from the customer's own history that are due for repurchase.

Rank = distinct baskets with the item × (item's repurchase propensity)^γ, where the propensity
is the Beta(1, 1)-smoothed share of the item's buyers who bought it more than once (Laplace's
rule of succession). Each item's repurchase cycle is the median gap between purchases over
customers who bought it at least twice; a customer's own cycle is shrunk towards it
(``n − 1`` own gaps against ``prior_gaps`` pseudo-gaps, an empirical-Bayes mean), and the list
carries ``due_in_days`` = last purchase + cycle − now, so outreach can wait for the due date.

Measured on UCI Online Retail (cut 2011-09-01, repeats allowed): P@10 0.342 against the
own-most-bought baseline's 0.341 (NDCG@10 0.392 vs 0.390 — a tie
within noise, not a clear win). Timing terms (multiplying by the probability of a renewal in
the next 90 days, or penalising lapsed items) *lowered* P@10 there (0.306–0.319), so timing
informs ``due_in_days`` and the reason, not the rank.

References:
    Bhagat, Muralidharan, Lobzhanidze & Vishwanath (2018). Buy it again: modeling repeat
    purchase recommendations. KDD '18 (repeat-consumption propensity and cycles per item).
    Efron & Morris (1975). Data analysis using Stein's estimator and its generalizations. JASA.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from luopan.engines.recommend.base import Recommender
from luopan.engines.recommend.interactions import Columns, Interactions

__all__ = ["ReorderRecommender"]


class ReorderRecommender(Recommender):
    """Own-history items ranked by frequency × repurchase propensity; cycles give due dates."""

    exclude_seen = False
    reason = "due_for_reorder"

    def __init__(
        self,
        *,
        propensity_power: float = 0.5,
        prior_gaps: float = 2.0,
        default_cycle_days: float = 30.0,
        columns: Columns | None = None,
        half_life_days: float = 90.0,
    ) -> None:
        super().__init__(columns=columns, half_life_days=half_life_days)
        self.propensity_power = propensity_power
        self.prior_gaps = prior_gaps
        self.default_cycle_days = default_cycle_days

    def _fit(self, data: Interactions, customers: pd.DataFrame | None, lines: pd.DataFrame) -> None:
        counts = data.counts
        buyers = np.diff(counts.tocsc().indptr).astype(float)
        repeaters = np.asarray((counts > 1).sum(0)).ravel().astype(float)
        self.propensity_ = (repeaters + 1.0) / (buyers + 2.0)
        n, item = counts.data, counts.indices
        gaps = (data.last.data - data.first.data) / np.maximum(n - 1, 1)
        many = n > 1
        median = pd.Series(gaps[many]).groupby(item[many]).median()
        fallback = float(median.median()) if len(median) else self.default_cycle_days
        self.cycle_days_ = median.reindex(range(data.shape[1])).fillna(fallback).to_numpy()
        # large enough to survive float32 scoring, small against a basket's weight (≥ 0.07)
        self.tiebreak_ = 1e-4 * buyers / max(float(buyers.max()), 1.0)

    def score(self, rows: np.ndarray) -> np.ndarray:
        sub = self.data_.counts[rows]
        weight = self.propensity_[sub.indices] ** self.propensity_power
        out = np.full(sub.shape, -np.inf)
        r = np.repeat(np.arange(sub.shape[0]), np.diff(sub.indptr))
        out[r, sub.indices] = sub.data * weight + self.tiebreak_[sub.indices]
        return out

    def recommend_rows(
        self,
        rows: np.ndarray,
        *,
        k: int = 10,
        exclude_items: np.ndarray | None = None,
        chunk: int = 0,
        threads: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k own items per row, ranked on the sparse history (no dense score matrix).

        Rows with fewer than k items are padded with item ``-1`` and score ``-inf``.
        """
        data = self._check_fitted()
        sub = data.counts[rows]
        row = np.repeat(np.arange(len(rows)), np.diff(sub.indptr))
        item = sub.indices
        score = sub.data * self.propensity_[item] ** self.propensity_power + self.tiebreak_[item]
        if exclude_items is not None and len(exclude_items):
            keep = ~np.isin(item, exclude_items)
            row, item, score = row[keep], item[keep], score[keep]
        order = np.lexsort((-score, row))
        row, item, score = row[order], item[order], score[order]
        rank = np.arange(row.size) - np.searchsorted(row, row)
        top = rank < k
        out_i = np.full((len(rows), k), -1, dtype=np.int64)
        out_s = np.full((len(rows), k), -np.inf, dtype=np.float32)
        out_i[row[top], rank[top]] = item[top]
        out_s[row[top], rank[top]] = score[top]
        return out_i, out_s

    def due_in_days(self, rows: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Days until each (customer row, item) pair is due: last + shrunk cycle − the fit's end."""
        data = self.data_

        def pick(matrix: object) -> np.ndarray:
            return np.asarray(matrix[rows, items], dtype=np.float64).ravel()  # type: ignore[index]

        n = pick(data.counts)
        first, last = pick(data.first) - 1.0, pick(data.last) - 1.0
        own = (last - first) / np.maximum(n - 1, 1)
        prior = self.cycle_days_[items]
        cycle = ((n - 1) * own + self.prior_gaps * prior) / (np.maximum(n - 1, 0) + self.prior_gaps)
        due = last + cycle - data.end_day
        return np.where(n > 0, due, np.nan)
