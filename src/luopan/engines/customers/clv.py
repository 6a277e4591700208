"""One call from a transaction log to fitted CLV models, per-customer predictions and a holdout report.

The pieces (``summary``, ``bg_nbd``, ``gamma_gamma``, ``holdout``) are usable alone; this module
strings them together for the CLI, the API and the workspace commands.

References:
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting Your Customers" the Easy Way.
    Marketing Science 24(2), 275–284.
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: Using Iso-Value Curves for
    Customer Base Analysis. Journal of Marketing Research 42(4), 415–430.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from luopan.engines.customers.bg_nbd import BetaGeoModel
from luopan.engines.customers.gamma_gamma import GammaGammaModel, customer_lifetime_value
from luopan.engines.customers.holdout import HoldoutReport, holdout_report
from luopan.engines.customers.summary import TIME_UNITS, CustomerSummary

__all__ = ["ClvResult", "fit_clv"]


@dataclass(frozen=True)
class ClvResult:
    """Fitted models, per-customer predictions and, when there is a holdout, its report."""

    summary: CustomerSummary
    purchases: BetaGeoModel
    spend: GammaGammaModel | None
    predictions: pd.DataFrame  # per customer: p_alive, expected_purchases, expected_spend, clv
    holdout: HoldoutReport | None
    horizon_days: float
    annual_discount_rate: float

    def to_table(self) -> pd.DataFrame:
        return self.predictions


def fit_clv(
    summary: CustomerSummary,
    *,
    horizon_days: float = 365.0,
    annual_discount_rate: float = 0.10,
    step_days: float = 30.0,
) -> ClvResult:
    """Fit BG/NBD (and Gamma-Gamma when amounts are present) and predict per customer.

    Args:
        summary: from :func:`summarize_transactions`; a holdout in it yields a holdout report.
        horizon_days: CLV and expected-purchase horizon.
        annual_discount_rate: converted to a rate per step, (1 + d)^(step/365) − 1.
        step_days: length of a discounting step (a month by default).
    """
    unit = TIME_UNITS[summary.time_unit]
    x, t_x, T = summary.frequency, summary.recency, summary.T
    purchases = BetaGeoModel().fit(x, t_x, T)
    horizon = horizon_days / unit
    predictions = pd.DataFrame(
        {
            "frequency": x,
            "recency": t_x,
            "T": T,
            "p_alive": purchases.probability_alive(x, t_x, T),
            "expected_purchases": purchases.expected_purchases(horizon, x, t_x, T),
        },
        index=summary.table.index,
    )
    spend = None
    monetary = summary.monetary
    has_amount = bool(np.isfinite(monetary).any())
    if has_amount:
        spend = GammaGammaModel().fit(x, monetary)
        rate = (1.0 + annual_discount_rate) ** (step_days / 365.0) - 1.0
        predictions["monetary"] = monetary
        predictions["expected_spend"] = spend.expected_spend(x, monetary)
        predictions["clv"] = customer_lifetime_value(
            purchases,
            spend,
            x,
            t_x,
            T,
            monetary,
            horizon=horizon,
            step=step_days / unit,
            discount_rate=rate,
        )
    report = None
    if summary.holdout_end is not None:
        length = (summary.holdout_end - summary.calibration_end) / pd.Timedelta(days=unit)
        report = holdout_report(
            purchases, x, t_x, T, summary.table["holdout_frequency"], holdout_length=length
        )
    return ClvResult(
        summary=summary,
        purchases=purchases,
        spend=spend,
        predictions=predictions,
        holdout=report,
        horizon_days=horizon_days,
        annual_discount_rate=annual_discount_rate,
    )
