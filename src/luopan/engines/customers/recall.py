"""Recall lists ranked by expected recovered value, and their outcome against a random holdout.

``recall_list`` ranks at-risk customers by expected recovered value = CLV × P(churn) ×
P(respond) − contact cost, keeps those worth contacting, and sets a seeded random holdout
aside (never contacted) so that the recall's success rate and incremental revenue are measured,
not assumed. A recall contacts at-risk customers and keeps a random holdout uncontacted. Success = at least
one purchase within ``window_days`` after the recall date. The success rate of each arm gets a
Wilson score interval; the effect (treated − holdout) a Newcombe hybrid score interval; the
incremental revenue is the difference in revenue per customer times the treated count.

References:
    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
    JASA 22(158), 209–212.
    Newcombe, R. G. (1998). Interval estimation for the difference between independent
    proportions: comparison of eleven methods. Statistics in Medicine 17(8), 873–890 (method 10).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from luopan.errors import DataContractError, InsufficientDataError

__all__ = ["ArmOutcome", "RecallOutcome", "recall_list", "recall_outcome", "wilson_interval"]


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion."""
    if n <= 0:
        raise InsufficientDataError("an arm without customers has no success rate")
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


@dataclass(frozen=True)
class ArmOutcome:
    customers: int
    successes: int
    rate: float
    low: float
    high: float
    revenue_per_customer: float


@dataclass(frozen=True)
class RecallOutcome:
    """Both arms, the effect on the success rate with its interval, and incremental revenue."""

    treated: ArmOutcome
    holdout: ArmOutcome
    effect: float
    effect_low: float
    effect_high: float
    incremental_revenue: float
    window_days: int

    def to_table(self) -> pd.DataFrame:
        return pd.DataFrame(
            [self.treated.__dict__, self.holdout.__dict__], index=["treated", "holdout"]
        )


def recall_outcome(
    assignments: pd.DataFrame,
    purchases: pd.DataFrame,
    *,
    recall_date: str | pd.Timestamp,
    window_days: int = 30,
    treated: str = "treatment",
    holdout: str = "holdout",
    confidence: float = 0.95,
) -> RecallOutcome:
    """Measure a recall: who bought within the window after it, per arm.

    Args:
        assignments: ``unit_id`` (customer) and ``variant`` per targeted customer.
        purchases: ``customer``, ``day`` (or timestamp) and ``amount`` per purchase.
        recall_date: the day of the contact; the window is (recall_date, recall_date + window].
    """
    for name, frame, cols in (
        ("assignments", assignments, ("unit_id", "variant")),
        ("purchases", purchases, ("customer", "day", "amount")),
    ):
        missing = set(cols) - set(frame.columns)
        if missing:
            raise DataContractError(f"{name} lack column(s) {sorted(missing)}")
    start = pd.Timestamp(recall_date)
    end = start.normalize() + pd.Timedelta(days=window_days + 1)
    day = pd.to_datetime(purchases["day"])
    window = purchases[(day > start) & (day < end)]
    bought = window.groupby(window["customer"].astype(str))["amount"].sum()
    arms = {}
    for arm in (treated, holdout):
        units = assignments.loc[assignments["variant"] == arm, "unit_id"].astype(str).unique()
        n = len(units)
        k = int(np.isin(units, bought.index).sum())
        low, high = wilson_interval(k, n, confidence)
        revenue = float(bought.reindex(units, fill_value=0.0).sum())
        arms[arm] = ArmOutcome(n, k, k / n, low, high, revenue / n)
    t, h = arms[treated], arms[holdout]
    effect = t.rate - h.rate
    # Newcombe (1998) method 10: combine the two Wilson intervals
    lower = effect - np.sqrt((t.rate - t.low) ** 2 + (h.high - h.rate) ** 2)
    upper = effect + np.sqrt((t.high - t.rate) ** 2 + (h.rate - h.low) ** 2)
    return RecallOutcome(
        treated=t,
        holdout=h,
        effect=effect,
        effect_low=float(lower),
        effect_high=float(upper),
        incremental_revenue=(t.revenue_per_customer - h.revenue_per_customer) * t.customers,
        window_days=window_days,
    )


def recall_list(
    customers: pd.DataFrame,
    *,
    p_respond: float = 0.2,
    contact_cost: float = 0.0,
    holdout_share: float = 0.2,
    seed: int = 0,
) -> pd.DataFrame:
    """Customers worth recalling, best first, with a random holdout marked.

    Args:
        customers: index customer; columns ``clv`` and ``p_churn`` (and ``p_respond`` or
            ``contact_cost`` per customer to override the scalars, e.g. by channel).
        p_respond: probability that a contacted churning customer comes back.
        contact_cost: cost of one contact, in the unit of ``clv``.
        holdout_share: share of the list kept out of the contact, at random.
        seed: the holdout draw; the same list and seed give the same holdout.

    Returns:
        The customers with a positive expected recovered value, sorted by it, with columns
        ``expected_value`` and ``group`` (``contact`` or ``holdout``).
    """
    missing = {"clv", "p_churn"} - set(customers.columns)
    if missing:
        raise DataContractError(f"customers lack column(s) {sorted(missing)}")
    if not 0 <= holdout_share < 1:
        raise DataContractError("holdout_share must be in [0, 1)")
    respond = customers["p_respond"] if "p_respond" in customers else p_respond
    cost = customers["contact_cost"] if "contact_cost" in customers else contact_cost
    out = customers.assign(expected_value=customers["clv"] * customers["p_churn"] * respond - cost)
    out = out[out["expected_value"] > 0].sort_index()
    draw = np.random.default_rng(seed).random(len(out))
    out = out.assign(group=np.where(draw < holdout_share, "holdout", "contact"))
    return out.sort_values("expected_value", ascending=False, kind="stable")
