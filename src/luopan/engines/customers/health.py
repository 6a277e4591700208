"""User health index 0–100 per customer, and its mean per segment and week.

Formula, per customer with a purchase on or before the cutoff (all components in [0, 1]):

- **rhythm** (weight 0.4): ``exp(−max(0, recency − g) / g)``, with g = (α + T) / (r + x) the
  customer's expected time between purchases (the inverse of the BG/NBD posterior mean purchase
  rate, fitted at the cutoff). 1 while the customer is within their usual rhythm, 0.37 one
  extra gap late, 0.14 two gaps late.
- **frequency trend** (0.25): ``(n₁ + 1) / (n₁ + n₀ + 2)`` with n₁, n₀ the purchase days in the
  last ``window_days`` and the window before (0.5 = steady, toward 1 rising, toward 0 falling).
- **spend trend** (0.15): the same on spend, ``(s₁ + c) / (s₁ + s₀ + 2c)``, c = the customer's
  mean spend per purchase (a Laplace-style prior of one average purchase on each side).
- **complaints** (0.2): ``1 / (1 + k)``, k = complaints in the last ``window_days``; when no
  complaint table is given the weight is spread over the other components.

health = 100 × Σ weight × component / Σ weights. A steady customer scores 80 (1·0.4 + 0.5·0.25
+ 0.5·0.15 + 1·0.2); one who stopped two gaps ago with no recent purchase scores ~30.

References:
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting Your Customers" the Easy Way.
    Marketing Science 24(2), 275–284 (posterior mean purchase rate E[λ | x, T] = (r+x)/(α+T)
    in the no-dropout part of the model).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from luopan.engines.customers.bg_nbd import BetaGeoModel
from luopan.engines.customers.summary import summarize_transactions

__all__ = ["WEIGHTS", "HealthIndex", "health_index", "health_by_segment"]

WEIGHTS = {"rhythm": 0.4, "frequency_trend": 0.25, "spend_trend": 0.15, "complaints": 0.2}


@dataclass(frozen=True)
class HealthIndex:
    """Per-customer health and its components at one cutoff."""

    cutoff: pd.Timestamp
    customers: pd.DataFrame  # health, rhythm, frequency_trend, spend_trend[, complaints]

    def to_table(self) -> pd.DataFrame:
        return self.customers


def health_index(
    occasions: pd.DataFrame,
    cutoff: str | pd.Timestamp,
    *,
    complaints: pd.DataFrame | None = None,
    window_days: int = 90,
) -> HealthIndex:
    """Health 0–100 of every customer with a purchase on or before ``cutoff``.

    Args:
        occasions: ``customer``, ``day``, ``amount`` per purchase.
        complaints: ``customer``, ``day`` per complaint (tickets), optional.
        window_days: the recent window of the trend and complaint components.
    """
    cut = pd.Timestamp(cutoff).normalize()
    days = pd.to_datetime(occasions["day"]).dt.normalize()
    occ = occasions.assign(day=days, customer=occasions["customer"].astype(str))
    s = summarize_transactions(
        occ,
        customer_col="customer",
        date_col="day",
        amount_col="amount",
        calibration_end=cut,
        time_unit="day",
    )
    p = BetaGeoModel().fit(s.frequency, s.recency, s.T).params_
    gap = (p.alpha + s.T) / (p.r + s.frequency)
    late = np.maximum(0.0, (s.T - s.recency) - gap)
    out = pd.DataFrame({"rhythm": np.exp(-late / gap)}, index=s.table.index)
    w = pd.Timedelta(days=window_days)
    hist = occ[(occ["day"] <= cut) & (occ["amount"] >= 0)]
    now = hist[hist["day"] > cut - w].groupby("customer")
    before = hist[(hist["day"] > cut - 2 * w) & (hist["day"] <= cut - w)].groupby("customer")
    n1 = now["day"].nunique().reindex(out.index, fill_value=0)
    n0 = before["day"].nunique().reindex(out.index, fill_value=0)
    s1 = now["amount"].sum().reindex(out.index, fill_value=0.0)
    s0 = before["amount"].sum().reindex(out.index, fill_value=0.0)
    mean_spend = hist.groupby("customer")["amount"].mean().reindex(out.index).clip(lower=1e-9)
    out["frequency_trend"] = (n1 + 1) / (n1 + n0 + 2)
    out["spend_trend"] = (s1 + mean_spend) / (s1 + s0 + 2 * mean_spend)
    weights = dict(WEIGHTS)
    if complaints is not None:
        c_day = pd.to_datetime(complaints["day"]).dt.normalize()
        recent = complaints[(c_day > cut - w) & (c_day <= cut)]
        k = recent.groupby(recent["customer"].astype(str)).size()
        out["complaints"] = 1.0 / (1.0 + k.reindex(out.index, fill_value=0))
    else:
        weights.pop("complaints")
    total = sum(weights.values())
    out["health"] = 100.0 * sum(out[name] * wt for name, wt in weights.items()) / total
    return HealthIndex(cutoff=cut, customers=out)


def health_by_segment(
    occasions: pd.DataFrame,
    segment_of: pd.Series,
    cutoffs: Sequence[str | pd.Timestamp],
    *,
    complaints: pd.DataFrame | None = None,
    active_days: int = 90,
    min_customers: int = 30,
) -> pd.DataFrame:
    """Mean health per segment at each cutoff (e.g. weekly), over customers active in
    the last ``active_days``; segments with fewer active customers are left out.

    Returns a frame: cutoff, segment, customers, health.
    """
    labels = segment_of.copy()
    labels.index = labels.index.astype(str)
    rows = []
    for cutoff in cutoffs:
        h = health_index(occasions, cutoff, complaints=complaints).customers
        cut = pd.Timestamp(cutoff).normalize()
        last = pd.to_datetime(occasions["day"]).dt.normalize()
        recent = occasions.loc[(last > cut - pd.Timedelta(days=active_days)) & (last <= cut)]
        active = h.index.isin(recent["customer"].astype(str).unique())
        frame = pd.DataFrame({"health": h["health"][active]})
        frame["segment"] = labels.reindex(frame.index)
        agg = frame.dropna().groupby("segment")["health"].agg(["size", "mean"]).reset_index()
        agg = agg[agg["size"] >= min_customers].rename(
            columns={"size": "customers", "mean": "health"}
        )
        agg.insert(0, "cutoff", cut)
        rows.append(agg)
    return pd.concat(rows, ignore_index=True)
