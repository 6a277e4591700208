"""Forecast accuracy: pooled WAPE, MASE (seasonal-naive scaled), interval coverage.

References:
    Hyndman, R.J. & Koehler, A.B. (2006). Another look at measures of forecast accuracy. IJF 22.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["coverage", "mase", "wape"]


def wape(y: np.ndarray, yhat: np.ndarray) -> float:
    """Σ|y − ŷ| / Σ|y| over all series and days."""
    return float(np.abs(np.asarray(y) - np.asarray(yhat)).sum() / np.abs(np.asarray(y)).sum())


def mase(test: pd.DataFrame, train: pd.DataFrame, column: str, *, season_length: int = 7) -> float:
    """Mean over series of MAE / in-sample seasonal-naive MAE (m = ``season_length``)."""
    scale = train.groupby("unique_id")["y"].apply(
        lambda s: (
            float(np.mean(np.abs(np.diff(s.to_numpy(), n=1)[0:0])))
            if len(s) <= season_length
            else float(
                np.mean(np.abs(s.to_numpy()[season_length:] - s.to_numpy()[:-season_length]))
            )
        )
    )
    mae = (test["y"] - test[column]).abs().groupby(test["unique_id"]).mean()
    ratio = mae / scale.reindex(mae.index)
    return float(ratio.replace([np.inf, -np.inf], np.nan).mean())


def coverage(y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    """Share of observations inside [lo, hi]."""
    y = np.asarray(y)
    return float(np.mean((y >= np.asarray(lo)) & (y <= np.asarray(hi))))
