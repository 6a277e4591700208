"""How good a churn model is at one scoring cutoff: AUC, Brier score, expected calibration
error (ECE) and the reliability curve, against the baselines in the same run.

ECE follows Naeini, Cooper & Hauskrecht (2015): Σ_b (n_b / n) |observed rate_b − mean
predicted_b| over equal-width probability bins; the reliability curve is the same bins' pairs
(DeGroot & Fienberg 1983).

References:
    Naeini, M. P., Cooper, G. & Hauskrecht, M. (2015). Obtaining well calibrated probabilities
    using Bayesian binning. AAAI 2015, 2901–2907.
    DeGroot, M. H. & Fienberg, S. E. (1983). The comparison and evaluation of forecasters.
    The Statistician 32(1/2), 12–22.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, roc_auc_score

from luopan.errors import InsufficientDataError

if TYPE_CHECKING:
    from luopan.engines.customers.churn import ChurnModel

__all__ = ["ChurnEvaluation", "evaluate_churn", "expected_calibration_error", "reliability_curve"]


def expected_calibration_error(y: np.ndarray, p: np.ndarray, *, bins: int = 10) -> float:
    """ECE: Σ_b (n_b / n) |mean(y_b) − mean(p_b)| over equal-width probability bins."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    idx = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        sel = idx == b
        if sel.any():
            total += sel.sum() / len(p) * abs(y[sel].mean() - p[sel].mean())
    return float(total)


def reliability_curve(y: np.ndarray, p: np.ndarray, *, bins: int = 10) -> pd.DataFrame:
    """Per equal-width bin: mean predicted probability, observed rate and count."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    idx = np.minimum((p * bins).astype(int), bins - 1)
    frame = pd.DataFrame({"bin": idx, "predicted": p, "observed": y})
    return (
        frame.groupby("bin")
        .agg(
            predicted=("predicted", "mean"),
            observed=("observed", "mean"),
            count=("observed", "size"),
        )
        .reset_index()
    )


@dataclass(frozen=True)
class ChurnEvaluation:
    """AUC, Brier score and ECE of the model and of the baselines on one scoring cutoff."""

    cutoff: pd.Timestamp
    customers: int
    churn_rate: float
    scores: pd.DataFrame  # index method; auc, brier, ece
    reliability: pd.DataFrame  # the model's reliability curve

    def to_table(self) -> pd.DataFrame:
        return self.scores


def evaluate_churn(
    model: ChurnModel,
    occasions: pd.DataFrame,
    cutoff: str | pd.Timestamp,
    lines: pd.DataFrame | None = None,
) -> ChurnEvaluation:
    """Score ``cutoff`` (a later one than the model was trained for) against its labels.

    Baselines in the same run: BG/NBD P(no purchase in h) alone, 1 − P(alive), and a
    recency-only rule (days since the last purchase as the score; AUC only). ``lines``: the
    items bought, as given to the model's ``fit``.
    """
    frame = model.predict_frame(occasions, cutoff, lines)
    if frame["churned"].isna().any():
        raise InsufficientDataError("the label window of the scoring cutoff is not closed yet")
    y = frame["churned"].to_numpy()
    rows = {}
    for name, p in (
        ("model", frame["p_churn"].to_numpy()),
        ("bg_nbd_p_no_purchase", frame["p_no_purchase"].to_numpy()),
        ("one_minus_p_alive", 1.0 - frame["p_alive"].to_numpy()),
    ):
        rows[name] = {
            "auc": roc_auc_score(y, p),
            "brier": brier_score_loss(y, p),
            "ece": expected_calibration_error(y, p),
        }
    rows["recency_only"] = {
        "auc": roc_auc_score(y, frame["recency"]),
        "brier": np.nan,
        "ece": np.nan,
    }
    return ChurnEvaluation(
        cutoff=pd.Timestamp(cutoff),
        customers=len(frame),
        churn_rate=float(y.mean()),
        scores=pd.DataFrame(rows).T,
        reliability=reliability_curve(y, frame["p_churn"].to_numpy()),
    )
