"""Unit economics: CAC by acquisition channel and month, LTV of the customers acquired, LTV/CAC.

CAC = marketing spend of a channel in a month / customers first acquired through that channel
in that month. LTV = mean lifetime value of those customers (the caller chooses the value: e.g.
net spend to date plus the discounted CLV of the BG/NBD + Gamma-Gamma model). A channel-month is
healthy when LTV > 3 × CAC, the rule of thumb the issue quotes; a channel-month with
customers but no spend has no CAC (organic) and is not judged. Per-channel totals of a paid
channel cover only the months with spend on record.

References:
    Gupta, S., Lehmann, D. R. & Stuart, J. A. (2004). Valuing customers. Journal of Marketing
    Research 41(1), 7–18 (customer value against acquisition cost).
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: Using Iso-Value Curves for
    Customer Base Analysis. Journal of Marketing Research 42(4), 415–430 (the CLV used as LTV).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from luopan.errors import DataContractError

__all__ = ["CHANNEL_ALIASES", "UnitEconomics", "unit_economics"]

# acquisition-channel names seen in Chinese CRMs -> the channel names of marketing spend
CHANNEL_ALIASES: dict[str, str] = {
    "门店扫码": "store",
    "门店": "store",
    "小程序": "miniprogram",
    "抖音": "douyin",
    "天猫": "tmall",
    "京东": "jd",
    "美团": "meituan",
    "有赞": "youzan",
}


@dataclass(frozen=True)
class UnitEconomics:
    """Per channel × month and per channel: spend, new customers, CAC, LTV, LTV/CAC, healthy."""

    by_month: pd.DataFrame
    by_channel: pd.DataFrame
    threshold: float

    def to_table(self) -> pd.DataFrame:
        return self.by_channel


def _judge(frame: pd.DataFrame, threshold: float) -> pd.DataFrame:
    out = frame.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["cac"] = np.where(out["spend"] > 0, out["spend"] / out["new_customers"], np.nan)
        out["ltv"] = out["value"] / out["new_customers"]
        out["ltv_cac"] = out["ltv"] / out["cac"]
    out["healthy"] = np.where(out["cac"].notna(), out["ltv_cac"] > threshold, None)
    return out.drop(columns="value")


def unit_economics(
    customers: pd.DataFrame,
    spend: pd.DataFrame,
    value: pd.Series,
    *,
    aliases: dict[str, str] | None = None,
    threshold: float = 3.0,
) -> UnitEconomics:
    """CAC, LTV and LTV/CAC by acquisition channel and month.

    Args:
        customers: ``customer``, ``channel`` (acquisition channel), ``acquired_at``.
        spend: ``date``, ``channel``, ``spend`` (marketing spend).
        value: lifetime value per customer (index customer); missing customers count 0.
        aliases: acquisition-channel name -> spend channel name (default ``CHANNEL_ALIASES``).
        threshold: the healthy LTV/CAC ratio.
    """
    for name, frame, cols in (
        ("customers", customers, ("customer", "channel", "acquired_at")),
        ("spend", spend, ("date", "channel", "spend")),
    ):
        missing = set(cols) - set(frame.columns)
        if missing:
            raise DataContractError(f"{name} lack column(s) {sorted(missing)}")
    names = CHANNEL_ALIASES if aliases is None else aliases
    cu = pd.DataFrame(
        {
            "channel": customers["channel"].map(lambda c: names.get(c, c)),
            "month": pd.to_datetime(customers["acquired_at"]).dt.to_period("M"),
            "value": customers["customer"].astype(str).map(value.rename(index=str)).fillna(0.0),
        }
    )
    acquired = cu.groupby(["channel", "month"]).agg(
        new_customers=("value", "size"), value=("value", "sum")
    )
    sp = (
        pd.DataFrame(
            {
                "channel": spend["channel"],
                "month": pd.to_datetime(spend["date"]).dt.to_period("M"),
                "spend": pd.to_numeric(spend["spend"], errors="coerce").fillna(0.0),
            }
        )
        .groupby(["channel", "month"])["spend"]
        .sum()
    )
    months = acquired.join(sp, how="outer").fillna({"new_customers": 0, "value": 0.0, "spend": 0.0})
    by_month = _judge(months.reset_index(), threshold)
    # a paid channel's totals cover the months with spend data only (customers it acquired
    # before its spend is on record would make it look cheap); unpaid channels cover all
    paid = months.groupby("channel")["spend"].transform("sum") > 0
    covered = months[~paid | (months["spend"] > 0)]
    by_channel = _judge(
        covered.groupby("channel")[["new_customers", "value", "spend"]].sum().reset_index(),
        threshold,
    )
    return UnitEconomics(by_month=by_month, by_channel=by_channel, threshold=threshold)
