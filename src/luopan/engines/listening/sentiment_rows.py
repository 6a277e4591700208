"""Input handling of the sentiment model: texts cleaned of missing values, split into
clauses, checked against their labels, and the hashed training rows of texts and clauses.

Clauses (``clauses=``, on by default): a review is split at punctuation into clauses; training
adds every clause as an extra example carrying its review's label, weighted ``1 / (clauses in
the review)`` so that a review's clauses together weigh as much as the review; a text's log-odds
is the average of its whole-text log-odds and the mean of its clauses' log-odds. Reviews mix
praise and complaint ("味道不错，就是送得太慢"); clause-level evidence transfers across domains
better than whole-review n-gram sets: on food-delivery reviews (never trained on) the default
model's ROC-AUC rises from 0.873 to 0.892 with no in-domain label. The clause mean alone ranks a
little better after adaptation (macro-F1 with 200 labels 0.850 vs 0.843, 10 draws, in-sample
thresholds) but leaves texts of unseen vocabulary near 0.5, where the untuned 0.5 cut of the
default model is fragile; the whole-text half keeps them decisive. This is multiple-instance learning with a
mean bag score (Dietterich et al. 1997), each instance trained on its bag's label as in Ray &
Craven (2005).

References:
    Dietterich, T., Lathrop, R. & Lozano-Pérez, T. (1997). Solving the multiple instance problem
    with axis-parallel rectangles. Artificial Intelligence 89 (bags of instances).
    Ray, S. & Craven, M. (2005). Supervised versus multiple instance learning: an empirical
    comparison. ICML (instances trained on their bag's label).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import sparse

from luopan.errors import EngineError, InsufficientDataError

__all__ = ["Rows", "check_labels", "clean_texts", "split_clauses"]

# clause boundaries: Chinese and ASCII sentence / clause punctuation, ellipses, tildes, spaces
_CLAUSE_SPLIT = re.compile(r"[，,。.！!？?；;~～\s…、]+")


def clean_texts(texts: Sequence[object]) -> list[str]:
    return [t if isinstance(t, str) else "" if _missing(t) else str(t) for t in texts]


def split_clauses(texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Clauses of each text (split at punctuation and spaces) and the index of their text.

    A text with no clause (empty, or punctuation only) keeps itself as its one clause, so every
    text has at least one.
    """
    out: list[str] = []
    owner: list[int] = []
    for i, t in enumerate(texts):
        parts = [c for c in _CLAUSE_SPLIT.split(t) if c] or [t]
        out += parts
        owner += [i] * len(parts)
    return out, np.asarray(owner, dtype=np.intp)


def _missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # array-likes
        return False


def check_labels(texts: Sequence[object], labels: ArrayLike) -> np.ndarray:
    y = np.asarray(labels, dtype=int)
    if len(texts) != y.size:
        raise EngineError(f"{len(texts)} texts but {y.size} labels")
    if y.size < 10 or len(np.unique(y)) < 2:
        raise InsufficientDataError(
            "training needs at least 10 labelled texts of both classes",
            fix="label more mentions (1 positive, 0 negative)",
        )
    if not set(np.unique(y)) <= {0, 1}:
        raise EngineError("labels must be 0 (negative) or 1 (positive)")
    return y


@dataclass(frozen=True)
class Rows:
    """Hashed rows of labelled texts (``X``, ``y``, ``w``) and of their clauses (``Xc``, the
    owning text of each clause row, the clause weights ``wc``)."""

    X: sparse.csr_matrix
    y: np.ndarray
    w: np.ndarray
    Xc: sparse.csr_matrix | None = None
    owner: np.ndarray | None = None
    wc: np.ndarray | None = None

    def subset(self, keep: np.ndarray) -> Rows:
        """The rows of texts ``keep`` (sorted indices) and of their clauses."""
        if self.Xc is None or self.owner is None or self.wc is None:
            return Rows(self.X[keep], self.y[keep], self.w[keep])
        mask = np.isin(self.owner, keep)
        remap = np.full(self.y.size, -1, dtype=np.intp)
        remap[keep] = np.arange(keep.size)
        return Rows(
            self.X[keep],
            self.y[keep],
            self.w[keep],
            self.Xc[mask],
            remap[self.owner[mask]],
            self.wc[mask],
        )
