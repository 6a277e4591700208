"""Scores of a binary sentiment model against labels: accuracy, macro-F1, ROC-AUC, the
negative class's recall and precision, and the macro-F1-best threshold of a labelled sample."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score

from luopan.errors import EngineError, InsufficientDataError

__all__ = ["SentimentReport", "best_threshold", "evaluate"]


@dataclass(frozen=True)
class SentimentReport:
    """Binary sentiment scores against labels (1 positive, 0 negative)."""

    n: int
    accuracy: float
    macro_f1: float
    auc: float
    negative_recall: float
    negative_precision: float
    threshold: float

    def to_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.__dict__.items()}


def evaluate(labels: ArrayLike, scores: ArrayLike, *, threshold: float = 0.5) -> SentimentReport:
    """Accuracy, macro-F1, ROC-AUC and negative-class recall/precision at ``threshold``.

    ``scores`` are probabilities of the positive class; a text is positive when score ≥ threshold.
    """
    y = np.asarray(labels, dtype=int)
    s = np.asarray(scores, dtype=float)
    if y.size == 0 or y.size != s.size:
        raise EngineError("labels and scores must be non-empty and of equal length")
    pred = (s >= threshold).astype(int)
    both = len(np.unique(y)) == 2
    return SentimentReport(
        n=int(y.size),
        accuracy=float((pred == y).mean()),
        macro_f1=float(f1_score(y, pred, average="macro", zero_division=0)),
        auc=float(roc_auc_score(y, s)) if both else float("nan"),
        negative_recall=float(recall_score(y, pred, pos_label=0, zero_division=0)),
        negative_precision=float(precision_score(y, pred, pos_label=0, zero_division=0)),
        threshold=float(threshold),
    )


def best_threshold(labels: ArrayLike, scores: ArrayLike) -> float:
    """The threshold that maximises macro-F1 on a labelled sample (midpoints of sorted scores)."""
    y = np.asarray(labels, dtype=int)
    s = np.asarray(scores, dtype=float)
    if len(np.unique(y)) < 2:
        raise InsufficientDataError(
            "threshold calibration needs both positive and negative examples",
            fix="label at least 10 of each (≤ 200 in all is enough)",
        )
    u = np.unique(s)
    cands = np.r_[u[0] - 1e-9, (u[:-1] + u[1:]) / 2, u[-1] + 1e-9]
    f1 = [f1_score(y, (s >= c).astype(int), average="macro", zero_division=0) for c in cands]
    best = np.flatnonzero(np.isclose(f1, np.max(f1)))
    return float(np.median(cands[best]))  # the middle of the best plateau
