"""Churn risk by customer segment over time: which segment's risk is rising, week by week.

At each cutoff BG/NBD is refitted on the history to date and every recently active customer
(a purchase in the last ``active_days``) gets P(no purchase in the next ``horizon_days``). A
segment's risk is the mean over its active customers; its *rise* is that mean minus the
segment's own mean over the first ``baseline`` cutoffs, which removes the level differences
between segments (a store segment and an app segment have different normal rhythms) and
leaves what changed. Segments are ranked by rise at each cutoff.

References:
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting Your Customers" the Easy Way.
    Marketing Science 24(2), 275–284 (P(alive) and the Poisson silence probability).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from luopan.engines.customers.bg_nbd import BetaGeoModel
from luopan.engines.customers.summary import summarize_transactions
from luopan.errors import DataContractError, InsufficientDataError

__all__ = ["SegmentRisk", "segment_risk"]


@dataclass(frozen=True)
class SegmentRisk:
    """Per cutoff × segment: active customers, mean risk, baseline, rise and rank by rise."""

    table: pd.DataFrame  # cutoff, segment, customers, risk, baseline, rise, rank
    horizon_days: int

    def to_table(self) -> pd.DataFrame:
        return self.table

    def top_segment(self, cutoff: str | pd.Timestamp) -> str:
        """The segment whose risk rose most at ``cutoff``."""
        rows = self.table[self.table["cutoff"] == pd.Timestamp(cutoff)]
        if rows.empty:
            raise DataContractError(f"no cutoff {cutoff} in the result")
        return str(rows.sort_values("rise", ascending=False)["segment"].iloc[0])


def segment_risk(
    occasions: pd.DataFrame,
    segment_of: pd.Series,
    cutoffs: Sequence[str | pd.Timestamp],
    *,
    horizon_days: int = 45,
    active_days: int = 90,
    baseline: int = 4,
    min_customers: int = 30,
) -> SegmentRisk:
    """Mean BG/NBD P(no purchase in ``horizon_days``) of active customers per segment and cutoff.

    Args:
        occasions: one row per purchase: ``customer``, ``day``, ``amount``.
        segment_of: segment label per customer (index customer id).
        cutoffs: ascending cutoffs; the first ``baseline`` of them define each segment's normal.
        min_customers: segments with fewer active customers at a cutoff are left out there.

    Raises:
        InsufficientDataError: fewer cutoffs than ``baseline`` + 1.
    """
    cuts = [pd.Timestamp(c).normalize() for c in cutoffs]
    if len(cuts) <= baseline:
        raise InsufficientDataError(
            f"{len(cuts)} cutoffs for a baseline of {baseline}",
            fix="give more cutoffs or a shorter baseline",
        )
    labels = segment_of.copy()
    labels.index = labels.index.astype(str)
    rows = []
    for cut in cuts:
        s = summarize_transactions(
            occasions,
            customer_col="customer",
            date_col="day",
            amount_col="amount",
            calibration_end=cut,
            time_unit="day",
        )
        model = BetaGeoModel().fit(s.frequency, s.recency, s.T)
        risk = pd.Series(
            model.probability_no_purchase(horizon_days, s.frequency, s.recency, s.T),
            index=s.table.index,
        )
        active = (s.T - s.recency) <= active_days
        frame = pd.DataFrame({"risk": risk[active], "segment": labels.reindex(risk.index[active])})
        agg = frame.dropna().groupby("segment")["risk"].agg(["size", "mean"]).reset_index()
        agg = agg[agg["size"] >= min_customers]
        agg.insert(0, "cutoff", cut)
        rows.append(agg.rename(columns={"size": "customers", "mean": "risk"}))
    table = pd.concat(rows, ignore_index=True)
    base = table[table["cutoff"].isin(cuts[:baseline])].groupby("segment")["risk"].mean()
    table["baseline"] = table["segment"].map(base)
    table["rise"] = table["risk"] - table["baseline"]
    table["rank"] = table.groupby("cutoff")["rise"].rank(ascending=False, method="min")
    return SegmentRisk(table=table, horizon_days=horizon_days)
