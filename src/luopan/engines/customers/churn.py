"""Churn risk h days ahead: P(no purchase in the next h days), BG/NBD + gradient boosting.

The label at a cutoff c is "no purchase in (c, c + h]" (45 days by default). Not 1 − P(alive):
every one-time buyer is "alive" under BG/NBD, which makes 1 − P(alive) rank worse than random on
CDNOW. The model:

1. at each cutoff, BG/NBD is fitted on the history up to the cutoff and gives per customer
   P(no purchase in h) = 1 − P(alive) + P(alive)·((α+T)/(α+T+h))^(r+x), P(alive) and
   E[purchases in h];
2. a histogram gradient-boosted classifier learns the label from those and from RFM features
   (recency, frequency, age, spend, purchases in the last 30/90/180 days, the trend of the last
   90 days against the 90 before, days since first purchase), plus any extra per-customer
   columns (category, channel, complaints, engagement) the caller joins in;
3. training stacks several cutoffs spaced ``step_days`` apart, all early enough for their label
   window to close before the scoring cutoff (a time split: nothing after it is seen), so the
   trees see customers of every age;
4. the trees are monotone where the direction is known (more recent purchases never raise the
   risk, a higher BG/NBD P(no purchase) never lowers it), which keeps them from over-fitting
   the shift between cutoffs;
5. the scores are calibrated by Platt scaling on out-of-fold scores, the folds being groups of
   cutoffs (ranking-preserving, unlike isotonic steps).

References:
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting Your Customers" the Easy Way.
    Marketing Science 24(2), 275–284.
    Friedman, J. H. (2001). Greedy function approximation: a gradient boosting machine. Annals of
    Statistics 29(5), 1189–1232; Ke, G. et al. (2017). LightGBM (histogram boosting), NeurIPS.
    Platt, J. (1999). Probabilistic outputs for support vector machines and comparisons to
    regularized likelihood methods. Advances in Large Margin Classifiers (sigmoid calibration).
    Naeini, M. P., Cooper, G. & Hauskrecht, M. (2015). Obtaining well calibrated probabilities
    using Bayesian binning. AAAI (expected calibration error).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import GroupKFold
from threadpoolctl import threadpool_limits

from luopan.engines.customers.bg_nbd import BetaGeoModel
from luopan.engines.customers.summary import summarize_transactions
from luopan.errors import DataContractError, EngineError, InsufficientDataError

__all__ = [
    "ChurnEvaluation",
    "ChurnModel",
    "churn_features",
    "evaluate_churn",
    "expected_calibration_error",
    "reliability_curve",
]

# +1: the churn probability never falls when the feature rises; -1: never rises
_MONOTONE = {
    "recency": 1,
    "frequency": -1,
    "n_30": -1,
    "n_90": -1,
    "n_180": -1,
    "p_no_purchase": 1,
    "expected_purchases": -1,
}

FEATURES = (
    "recency",
    "frequency",
    "age",
    "monetary",
    "n_30",
    "n_90",
    "n_180",
    "trend_90",
    "mean_gap",
    "overdue",
    "first_amount",
    "last_amount",
    "p_alive",
    "p_no_purchase",
    "expected_purchases",
)


def churn_features(
    occasions: pd.DataFrame, cutoff: str | pd.Timestamp, *, horizon_days: int = 45
) -> pd.DataFrame:
    """Features of every customer with a purchase on or before ``cutoff``, and the label.

    Args:
        occasions: one row per purchase, columns ``customer``, ``day`` and ``amount``.
        cutoff: last day of the known history.
        horizon_days: the label window (cutoff, cutoff + h].

    Returns:
        Index customer; the columns of ``FEATURES``, ``churned`` (1 = no purchase in the window,
        NaN when the window reaches past the data) and ``bg_nbd_converged``.
    """
    missing = {"customer", "day", "amount"} - set(occasions.columns)
    if missing:
        raise DataContractError(f"occasions lack column(s) {sorted(missing)}")
    cut = pd.Timestamp(cutoff).normalize()
    days = pd.to_datetime(occasions["day"]).dt.normalize()
    summary = summarize_transactions(
        occasions.assign(day=days),
        customer_col="customer",
        date_col="day",
        amount_col="amount",
        calibration_end=cut,
        time_unit="day",
    )
    s = summary.table
    bg = BetaGeoModel().fit(summary.frequency, summary.recency, summary.T)
    x, t_x, T = summary.frequency, summary.recency, summary.T
    out = pd.DataFrame(index=s.index)
    out["recency"] = T - t_x  # days since the last purchase
    out["frequency"] = x
    out["age"] = T
    out["monetary"] = s["monetary"].fillna(0.0)
    hist = occasions.assign(day=days)
    hist = hist[(hist["day"] <= cut) & (hist["amount"] >= 0)]
    hist = hist.assign(customer=hist["customer"].astype(str))
    for window in (30, 90, 180):
        recent = hist[hist["day"] > cut - pd.Timedelta(days=window)]
        counts = recent.groupby("customer")["day"].nunique()
        out[f"n_{window}"] = counts.reindex(out.index, fill_value=0).astype(float)
    before = hist[
        (hist["day"] <= cut - pd.Timedelta(days=90)) & (hist["day"] > cut - pd.Timedelta(days=180))
    ]
    n_before = before.groupby("customer")["day"].nunique().reindex(out.index, fill_value=0)
    out["trend_90"] = out["n_90"] - n_before.astype(float)
    gap = np.where(x > 0, t_x / np.maximum(x, 1.0), np.nan)  # mean days between purchases
    out["mean_gap"] = gap
    out["overdue"] = out["recency"] / gap  # > 1: later than this customer's usual rhythm
    last_amount = hist.sort_values("day").groupby("customer")["amount"].agg(["first", "last"])
    out["first_amount"] = last_amount["first"].reindex(out.index)
    out["last_amount"] = last_amount["last"].reindex(out.index)
    out["p_alive"] = bg.probability_alive(x, t_x, T)
    out["p_no_purchase"] = bg.probability_no_purchase(horizon_days, x, t_x, T)
    out["expected_purchases"] = bg.expected_purchases(horizon_days, x, t_x, T)
    end = cut + pd.Timedelta(days=horizon_days)
    future = occasions.assign(day=days)
    future = future[(future["day"] > cut) & (future["day"] <= end) & (future["amount"] >= 0)]
    bought = out.index.isin(future["customer"].astype(str).unique())
    out["churned"] = np.where(bought, 0.0, 1.0) if days.max() >= end else np.nan
    out["bg_nbd_converged"] = bg.converged_
    return out


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


class ChurnModel:
    """P(no purchase in the next ``horizon_days``): BG/NBD features + calibrated boosting.

    Args:
        horizon_days: the churn window.
        training_cutoffs: how many stacked training cutoffs.
        step_days: spacing of the training cutoffs.
        extra: per-customer columns to join to the features (index customer), optional.
        n_threads: OpenMP threads of the boosting (None = all cores); one by default, because
            histogram boosting on a machine shared with other work is many times slower with
            oversubscribed threads than with one.
        seed: random state of the boosting.

    Learned attributes: ``classifier_`` (calibrated), ``cutoffs_`` (training cutoffs),
    ``feature_names_``.
    """

    def __init__(
        self,
        *,
        horizon_days: int = 45,
        training_cutoffs: int = 12,
        step_days: int = 14,
        extra: pd.DataFrame | None = None,
        n_threads: int | None = 1,
        seed: int = 0,
    ) -> None:
        self.horizon_days = horizon_days
        self.training_cutoffs = training_cutoffs
        self.step_days = step_days
        self.extra = extra
        self.n_threads = n_threads
        self.seed = seed

    def _frame(self, occasions: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
        frame = churn_features(occasions, cutoff, horizon_days=self.horizon_days)
        if self.extra is not None:
            frame = frame.join(self.extra, how="left")
        return frame

    def fit(self, occasions: pd.DataFrame, cutoff: str | pd.Timestamp) -> ChurnModel:
        """Train on cutoffs whose label window closes on or before ``cutoff``.

        Raises:
            InsufficientDataError: a training cutoff has no history or a single class.
        """
        last = pd.Timestamp(cutoff).normalize() - pd.Timedelta(days=self.horizon_days)
        self.cutoffs_ = [
            last - pd.Timedelta(days=self.step_days * k) for k in range(self.training_cutoffs)
        ][::-1]
        frames = [self._frame(occasions, c).assign(_cutoff=i) for i, c in enumerate(self.cutoffs_)]
        data = pd.concat(frames)
        if data["churned"].isna().any() or data["churned"].nunique() < 2:
            raise InsufficientDataError(
                "the training cutoffs need closed label windows with both outcomes",
                fix="score later, or use fewer training cutoffs / a shorter horizon",
            )
        self.feature_names_ = [
            c for c in data.columns if c not in ("churned", "bg_nbd_converged", "_cutoff")
        ]
        X, y = data[self.feature_names_], data["churned"].astype(int).to_numpy()
        monotone = [_MONOTONE.get(name, 0) for name in self.feature_names_]
        trees = HistGradientBoostingClassifier(
            max_iter=200,
            learning_rate=0.05,
            max_leaf_nodes=7,
            min_samples_leaf=100,
            l2_regularization=1.0,
            monotonic_cst=monotone,
            early_stopping=False,
            random_state=self.seed,
        )
        # Platt scaling on out-of-fold scores, folds = groups of cutoffs (never a cutoff's own
        # rows), averaged over the folds' models
        folds = min(3, len(self.cutoffs_))
        splits = list(GroupKFold(n_splits=folds).split(X, y, groups=data["_cutoff"]))
        with threadpool_limits(limits=self.n_threads, user_api="openmp"):
            self.classifier_ = CalibratedClassifierCV(trees, method="sigmoid", cv=splits).fit(X, y)
        return self

    def predict_frame(self, occasions: pd.DataFrame, cutoff: str | pd.Timestamp) -> pd.DataFrame:
        """Features at ``cutoff`` with ``p_churn`` (calibrated) and the label."""
        if not hasattr(self, "classifier_"):
            raise EngineError("the churn model is not fitted", fix="call fit(...) first")
        frame = self._frame(occasions, pd.Timestamp(cutoff).normalize())
        with threadpool_limits(limits=self.n_threads, user_api="openmp"):
            frame["p_churn"] = self.classifier_.predict_proba(frame[self.feature_names_])[:, 1]
        return frame


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
    model: ChurnModel, occasions: pd.DataFrame, cutoff: str | pd.Timestamp
) -> ChurnEvaluation:
    """Score ``cutoff`` (a later one than the model was trained for) against its labels.

    Baselines in the same run: BG/NBD P(no purchase in h) alone, 1 − P(alive), and a
    recency-only rule (days since the last purchase as the score; AUC only).
    """
    frame = model.predict_frame(occasions, cutoff)
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
