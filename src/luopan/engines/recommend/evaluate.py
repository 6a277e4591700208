"""Leak-free evaluation: one global time cut, top-k metrics, coverage and popularity bias.

Protocol (the project's measured baselines use it): train on lines before ``cut``, test on
lines on or after it. A test customer must have bought before the cut; a test item must exist in
the training catalogue (cold users and items are dropped). With ``repeats=False`` the relevant
set is the items *new to the customer* and models must not return items already bought; with
``repeats=True`` every item bought after the cut is relevant. Customers left with no relevant
item are dropped. A global cut, unlike a per-user chronological split, never trains on the
future of another customer (Meng, McCreadie, Macdonald & Ounis 2020; recommenders #1675).

Metrics per customer, averaged: P@k = hits / k; R@k = hits / |relevant|; NDCG@k with binary
gains and the ideal DCG over min(k, |relevant|) (Järvelin & Kekäläinen 2002). Coverage = share
of the catalogue that appears in any list; popularity bias = mean share of training customers
who bought a recommended item (average recommendation popularity, Abdollahpouri et al. 2019).

References:
    Järvelin & Kekäläinen (2002). Cumulated gain-based evaluation of IR techniques. ACM TOIS.
    Meng, McCreadie, Macdonald & Ounis (2020). Exploring data splitting strategies for the
    evaluation of recommendation models. RecSys '20.
    Abdollahpouri, Burke & Mobasher (2019). Managing popularity bias in recommender systems
    with personalized re-ranking. FLAIRS-32.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from luopan.engines.recommend.base import Recommender
from luopan.engines.recommend.interactions import Columns, build_interactions
from luopan.errors import InsufficientDataError

__all__ = ["EvaluationReport", "ModelScore", "ranking_metrics", "evaluate_models", "time_split"]


@dataclass(frozen=True)
class ModelScore:
    """One model's figures on one protocol."""

    model: str
    precision: float
    recall: float
    ndcg: float
    coverage: float
    popularity_bias: float
    customers: int


@dataclass(frozen=True)
class EvaluationReport:
    """All models of one run, the protocol and its size."""

    cut: pd.Timestamp
    k: int
    repeats: bool
    scores: tuple[ModelScore, ...]
    customers: int
    items: int

    def to_table(self) -> pd.DataFrame:
        return pd.DataFrame([s.__dict__ for s in self.scores]).set_index("model")

    def best(self, metric: str = "precision") -> str:
        return str(self.to_table()[metric].idxmax())


def time_split(
    transactions: pd.DataFrame, cut: str | pd.Timestamp, *, columns: Columns | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Lines before ``cut`` and lines on or after it."""
    cols = columns or Columns()
    t = pd.to_datetime(transactions[cols.time])
    before = (t < pd.Timestamp(cut)).to_numpy()
    return transactions[before], transactions[~before]


def ranking_metrics(
    recommended: np.ndarray, relevant: sp.csr_matrix, popularity: np.ndarray, k: int
) -> tuple[float, float, float, float, float]:
    """P@k, R@k, NDCG@k, coverage and popularity bias of ranked item indices (rows aligned)."""
    rec = recommended[:, :k]
    valid = rec >= 0  # -1 pads a list shorter than k
    hits = np.zeros(rec.shape, dtype=bool)
    for r in range(rec.shape[0]):
        lo, hi = relevant.indptr[r], relevant.indptr[r + 1]
        hits[r] = np.isin(rec[r], relevant.indices[lo:hi]) & valid[r]
    n_rel = np.diff(relevant.indptr).astype(float)
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (hits * discount[: rec.shape[1]]).sum(1)
    idcg = np.cumsum(discount)[np.minimum(n_rel, k).astype(int) - 1]
    precision = float((hits.sum(1) / k).mean())
    recall = float((hits.sum(1) / n_rel).mean())
    ndcg = float((dcg / idcg).mean())
    coverage = float(np.unique(rec[valid]).size / relevant.shape[1])
    bias = float(popularity[rec[valid]].mean()) if valid.any() else 0.0
    return precision, recall, ndcg, coverage, bias


def evaluate_models(
    models: Mapping[str, Callable[[], Recommender]],
    transactions: pd.DataFrame,
    *,
    cut: str | pd.Timestamp,
    k: int = 10,
    repeats: bool = False,
    customers: pd.DataFrame | None = None,
    columns: Columns | None = None,
) -> EvaluationReport:
    """Fit every model on the lines before ``cut`` and score its top-k on the lines after.

    Args:
        models: name -> a factory returning an unfitted recommender.
        transactions: purchase lines (the long-table contract).
        cut: the time cut.
        repeats: whether items bought before the cut count as relevant.
        customers: context per customer (passed to ``fit``).

    Raises:
        InsufficientDataError: nobody bought anything both before and after the cut.
    """
    cols = columns or Columns()
    train, test = time_split(transactions, cut, columns=cols)
    if train.empty or test.empty:
        raise InsufficientDataError(f"no purchase lines on one side of the cut {cut}")
    seen = build_interactions(train, columns=cols)
    future = build_interactions(test, columns=cols, items=seen.items)
    rows = seen.customers.get_indexer(future.customers)
    known = rows >= 0
    relevant = (future.counts[np.flatnonzero(known)] > 0).astype(np.float32)
    if not repeats:
        past = (seen.counts[rows[known]] > 0).astype(np.float32)
        relevant = relevant - relevant.multiply(past)
        relevant.eliminate_zeros()
    relevant = sp.csr_matrix(relevant)
    keep = np.diff(relevant.indptr) > 0
    if not keep.any():
        raise InsufficientDataError(f"no customer bought a known item on both sides of {cut}")
    test_rows = rows[known][keep]
    relevant = relevant[np.flatnonzero(keep)]
    relevant.sort_indices()
    popularity = np.asarray((seen.counts > 0).sum(0)).ravel() / len(seen.customers)
    scores = []
    for name, factory in models.items():
        model = factory()
        model.exclude_seen = not repeats
        model.fit(train, customers, items=seen.items)
        rec, _ = model.recommend_rows(test_rows, k=k)
        p, r, n, cov, bias = ranking_metrics(rec, relevant, popularity, k)
        scores.append(ModelScore(name, p, r, n, cov, bias, int(len(test_rows))))
    return EvaluationReport(
        pd.Timestamp(cut), k, repeats, tuple(scores), int(len(test_rows)), len(seen.items)
    )
