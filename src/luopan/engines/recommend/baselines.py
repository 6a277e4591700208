"""Honest baselines that every evaluation reports beside the models.

* ``PopularityRecommender`` — items ranked by how many customers bought them (the same list
  for everyone). The floor any personalised list must clear.
* ``OwnHistoryRecommender`` — each customer's own most-bought items (distinct baskets, ties by
  popularity). On real retail data with repeats allowed it beats implicit ALS (UCI Online
  Retail, cut 2011-09-01: P@10 0.329 vs 0.295), so a reorder list is measured against it.

References:
    Cremonesi, Koren & Turrin (2010). Performance of recommender algorithms on top-N
    recommendation tasks. RecSys '10 (popularity as the baseline to beat).
    Dacrema, Cremonesi & Jannach (2019). Are we really making much progress? RecSys '19
    (simple, well-tuned baselines in every comparison).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from luopan.engines.recommend.base import Recommender
from luopan.engines.recommend.interactions import Columns, Interactions

__all__ = ["OwnHistoryRecommender", "PopularityRecommender"]


class PopularityRecommender(Recommender):
    """The most popular items (distinct buyers); unseen items only by default."""

    reason = "popular"

    def __init__(
        self,
        *,
        exclude_seen: bool = True,
        columns: Columns | None = None,
        half_life_days: float = 90.0,
    ) -> None:
        super().__init__(columns=columns, half_life_days=half_life_days)
        self.exclude_seen = exclude_seen

    def _fit(self, data: Interactions, customers: pd.DataFrame | None, lines: pd.DataFrame) -> None:
        buyers = np.asarray((data.counts > 0).sum(axis=0)).ravel().astype(float)
        self.popularity_ = buyers / max(len(data.customers), 1)

    def score(self, rows: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.popularity_, (len(rows), self.popularity_.size)).copy()


class OwnHistoryRecommender(Recommender):
    """Each customer's own most-bought items (personal frequency); repeats are the point."""

    exclude_seen = False
    reason = "bought_before"

    def _fit(self, data: Interactions, customers: pd.DataFrame | None, lines: pd.DataFrame) -> None:
        buyers = np.asarray((data.counts > 0).sum(axis=0)).ravel().astype(float)
        # counts are whole numbers: a fraction < 1 breaks ties by popularity, exact in float32
        self.tiebreak_ = 0.5 * buyers / max(float(buyers.max()), 1.0)

    def score(self, rows: np.ndarray) -> np.ndarray:
        return self.data_.counts[rows].toarray() + self.tiebreak_
