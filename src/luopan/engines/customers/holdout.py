"""Calibration / holdout report: predicted against actual repeat purchases by frequency bucket.

For each calibration frequency x (the last bucket pooling x >= ``top``), the mean number of
holdout purchases actually made and the mean conditional expectation E[Y(t) | x, t_x, T],
with t the length of the holdout; plus the totals. This is the paper's Figure 4 and the
"Σ conditional expectation" total.

References:
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting Your Customers" the Easy Way.
    Marketing Science 24(2), 275–284, Figure 4 (conditional expectations by frequency).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from luopan.engines.customers.bg_nbd import BetaGeoModel
from luopan.errors import DataContractError

__all__ = ["HoldoutReport", "holdout_report"]


@dataclass(frozen=True)
class HoldoutBucket:
    frequency: str  # "0", "1", ..., "7+"
    customers: int
    actual_mean: float
    predicted_mean: float


@dataclass(frozen=True)
class HoldoutReport:
    """Predicted vs actual holdout repeat purchases, by calibration frequency and in total."""

    holdout_length: float
    buckets: tuple[HoldoutBucket, ...]
    actual_total: float
    predicted_total: float

    def to_table(self) -> pd.DataFrame:
        return pd.DataFrame([b.__dict__ for b in self.buckets])


def holdout_report(
    model: BetaGeoModel,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    holdout_frequency: ArrayLike,
    *,
    holdout_length: float,
    top: int = 7,
) -> HoldoutReport:
    """Compare the model's conditional expectations with what customers did in the holdout.

    Args:
        model: a fitted :class:`BetaGeoModel`.
        frequency, recency, T: the calibration summary.
        holdout_frequency: purchases each customer made in the holdout period.
        holdout_length: length of the holdout in the model's time unit.
        top: frequencies at or above it share the last bucket.
    """
    x = np.asarray(frequency, dtype=float)
    actual = np.asarray(holdout_frequency, dtype=float)
    if actual.shape != x.shape:
        raise DataContractError("holdout_frequency must have one value per customer")
    predicted = model.expected_purchases(holdout_length, x, recency, T)
    bucket = np.minimum(x, top).astype(int)
    rows = []
    for k in range(top + 1):
        sel = bucket == k
        if sel.any():
            rows.append(
                HoldoutBucket(
                    frequency=f"{k}+" if k == top else str(k),
                    customers=int(sel.sum()),
                    actual_mean=float(actual[sel].mean()),
                    predicted_mean=float(predicted[sel].mean()),
                )
            )
    return HoldoutReport(
        holdout_length=float(holdout_length),
        buckets=tuple(rows),
        actual_total=float(actual.sum()),
        predicted_total=float(predicted.sum()),
    )
