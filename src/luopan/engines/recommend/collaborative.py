"""Collaborative filtering from the ``implicit`` library: implicit ALS and BM25 item-kNN.

luopan does not re-implement these: ``implicit`` (benfred/implicit) is well kept, fast on two
cores and ships wheels. This module adapts its models to the luopan contract (fit on purchase
lines, dense scores for a block of customers) so they can be blended with context.

* ``AlsRecommender`` — weighted matrix factorisation for implicit feedback, confidence
  ``1 + alpha · r`` (Hu, Koren & Volinsky 2008), solved by conjugate gradient (Takács, Pilászy &
  Tikk 2011). Score = user factors · item factors.
* ``ItemKnnRecommender`` — item-item cosine neighbours (K per item) on BM25-weighted
  interactions (Robertson & Zaragoza 2009; implicit's ``BM25Recommender``); score of item j
  for a customer = Σ over the customer's items i of weight(i) · sim(i, j) (Sarwar et al. 2001;
  Deshpande & Karypis 2004). Explainable: the largest term names "bought together with X".

References:
    Hu, Koren & Volinsky (2008). Collaborative filtering for implicit feedback datasets. ICDM.
    Takács, Pilászy & Tikk (2011). Applications of the conjugate gradient method for implicit
    feedback collaborative filtering. RecSys.
    Robertson & Zaragoza (2009). The probabilistic relevance framework: BM25 and beyond.
    Deshpande & Karypis (2004). Item-based top-N recommendation algorithms. ACM TOIS 22(1).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from luopan.engines.recommend.base import Recommender
from luopan.engines.recommend.interactions import Interactions
from luopan.errors import OptionalDependencyError

__all__ = ["AlsRecommender", "ItemKnnRecommender", "import_implicit"]


def import_implicit() -> Any:
    try:
        import implicit  # noqa: F401
        import implicit.cpu.als
        import implicit.nearest_neighbours
    except ImportError:  # pragma: no cover - depends on the environment
        raise OptionalDependencyError(
            "recommendation (implicit ALS / item-kNN)", "recommend"
        ) from None
    return implicit


class AlsRecommender(Recommender):
    """Implicit-feedback ALS on distinct-basket counts (Hu, Koren & Volinsky 2008)."""

    reason = "similar_customers"

    def __init__(
        self,
        *,
        factors: int = 64,
        regularization: float = 0.1,
        alpha: float = 1.0,
        iterations: int = 15,
        seed: int = 42,
        exclude_seen: bool = True,
        threads: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.factors, self.regularization, self.alpha = factors, regularization, alpha
        self.iterations, self.seed, self.threads = iterations, seed, threads
        self.exclude_seen = exclude_seen

    def _fit(self, data: Interactions, customers: pd.DataFrame | None, lines: pd.DataFrame) -> None:
        implicit = import_implicit()
        from threadpoolctl import threadpool_limits

        # implicit parallelises itself; a multi-threaded BLAS underneath oversubscribes the cores
        with threadpool_limits(1, "blas"):
            model = implicit.cpu.als.AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                random_state=self.seed,
                num_threads=self.threads,
            )
            model.fit(data.counts, show_progress=False)
        self.user_factors_ = np.asarray(model.user_factors)
        self.item_factors_ = np.asarray(model.item_factors)

    def score(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(self.user_factors_[rows] @ self.item_factors_.T, dtype=np.float32)


class ItemKnnRecommender(Recommender):
    """BM25-weighted item-item neighbours (implicit's ``BM25Recommender``)."""

    reason = "bought_together"

    def __init__(
        self,
        *,
        neighbours: int = 400,
        k1: float = 1.2,
        b: float = 0.75,
        exclude_seen: bool = True,
        decay: bool = False,
        threads: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.neighbours, self.k1, self.b, self.decay = neighbours, k1, b, decay
        self.exclude_seen, self.threads = exclude_seen, threads

    def _fit(self, data: Interactions, customers: pd.DataFrame | None, lines: pd.DataFrame) -> None:
        implicit = import_implicit()
        nn = implicit.nearest_neighbours
        # what implicit's BM25Recommender.fit does, with the weighted matrix handed over as CSR
        weighted = nn.bm25_weight(data.counts.T.tocsr(), self.k1, self.b).T.tocsr()
        model = nn.ItemItemRecommender(K=self.neighbours, num_threads=self.threads)
        model.fit(weighted, show_progress=False)
        self.similarity_: sp.csr_matrix = model.similarity.tocsr()
        # with a few thousand items a dense copy makes scoring a sparse × dense product (fast)
        n = self.similarity_.shape[0]
        self.dense_: np.ndarray | None = (
            self.similarity_.toarray().astype(np.float32) if n <= 20_000 else None
        )

    def user_weights(self, rows: np.ndarray) -> sp.csr_matrix:
        data = self.data_
        return data.decayed[rows] if self.decay else data.counts[rows]

    def score(self, rows: np.ndarray) -> np.ndarray:
        weights = self.user_weights(rows)
        if self.dense_ is not None:
            return np.asarray(weights @ self.dense_)
        return np.asarray((weights @ self.similarity_).todense(), dtype=np.float32)

    def because(self, row: int, items: np.ndarray) -> np.ndarray:
        """For one customer, the index of their item that contributes most to each of ``items``."""
        items = np.asarray(items)
        return self.because_pairs(np.full(items.shape, row), items)

    def because_pairs(
        self,
        rows: np.ndarray,
        items: np.ndarray,
        *,
        chunk: int = 1_000_000,
        dense_from: int = 100_000,
    ) -> np.ndarray:
        """For each (customer row, item) pair, the customer's own item with the largest term
        weight(i) · sim(i, item) in the kNN score (the first such item on ties), or −1 when
        no own item is similar to it. Vectorised over all pairs, ``chunk`` pairs at a time;
        from ``dense_from`` pairs on the similarities are read from a dense copy (small
        catalogues only).
        """
        rows, items = np.asarray(rows).ravel(), np.asarray(items).ravel()
        out = np.full(rows.size, -1, dtype=np.int64)
        sim = self.similarity_
        # the exact similarity values, gathered from a transient dense copy for many pairs
        small = sim.shape[0] * sim.shape[1] <= 60_000_000
        dense = sim.toarray() if small and rows.size >= dense_from else None
        for start in range(0, rows.size, chunk):
            r, j = rows[start : start + chunk], items[start : start + chunk]
            w = self.user_weights(r)
            count = np.diff(w.indptr)
            if w.nnz == 0:
                continue
            own = w.indices
            target = np.repeat(j, count)
            value = dense[own, target] if dense is not None else np.asarray(sim[own, target])
            contrib = np.asarray(value).ravel() * w.data
            has = np.flatnonzero(count > 0)
            first = w.indptr[has]
            top = np.maximum.reduceat(contrib, first)
            best = np.repeat(top, count[has])
            where = np.where(contrib == best, np.arange(contrib.size), contrib.size)
            pick = np.minimum.reduceat(where, first)
            out[start + has] = np.where(top > 0, own[pick], -1)
        return out
