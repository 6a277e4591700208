"""RFM scores (quantiles) and named segments in zh/en, with sizes, value share and movement.

Scores: R = quantile bin of recency in days, most recent scoring highest; F = quantile bin of
frequency after ranking with ties broken by order of appearance (F has heavy ties); M =
quantile bin of monetary value. Segments come from the two-digit R-F score through the
widely used ten-entry map (hibernating ``[1-2][1-2]``, at risk ``[1-2][3-4]``, can't lose
``[1-2]5``, about to sleep ``3[1-2]``, need attention ``33``, loyal ``[3-4][4-5]``, promising
``41``, new ``51``, potential loyalists ``[4-5][2-3]``, champions ``5[4-5]``) defined for
quintiles; with another number of bins the scores are rescaled to 1..5 first.

References:
    Hughes, A. M. (1994). Strategic Database Marketing. Probus (RFM scoring by quintiles).
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: Using Iso-Value Curves for
    Customer Base Analysis. Journal of Marketing Research 42(4), 415–430.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from luopan.errors import DataContractError, InsufficientDataError

__all__ = ["SEGMENTS", "RfmResult", "rfm_movement", "rfm_segments", "segment_names"]

# key: (regex on the RF score, zh, en); order = display order, best first
SEGMENTS: dict[str, tuple[str, str, str]] = {
    "champions": (r"5[4-5]", "重要价值客户", "Champions"),
    "loyal_customers": (r"[3-4][4-5]", "忠诚客户", "Loyal customers"),
    "potential_loyalists": (r"[4-5][2-3]", "潜力客户", "Potential loyalists"),
    "new_customers": (r"51", "新客户", "New customers"),
    "promising": (r"41", "有望客户", "Promising"),
    "need_attention": (r"33", "需关注客户", "Need attention"),
    "about_to_sleep": (r"3[1-2]", "即将沉睡客户", "About to sleep"),
    "cant_lose": (r"[1-2]5", "不能流失客户", "Can't lose them"),
    "at_risk": (r"[1-2][3-4]", "重要挽留客户", "At risk"),
    "hibernating": (r"[1-2][1-2]", "沉睡客户", "Hibernating"),
}


@dataclass(frozen=True)
class RfmResult:
    """Per-customer scores and segment, and the per-segment summary."""

    customers: pd.DataFrame  # recency_days, frequency, monetary, r, f, m, segment
    segments: pd.DataFrame  # segment, name_zh, name_en, customers, customer_share, value_share
    reference_date: pd.Timestamp

    def to_table(self) -> pd.DataFrame:
        return self.segments


def _scores(values: pd.Series, bins: int, *, reverse: bool) -> pd.Series:
    labels = list(range(bins, 0, -1)) if reverse else list(range(1, bins + 1))
    return pd.qcut(values, bins, labels=labels).astype(int)


def _segment(r: pd.Series, f: pd.Series, bins: int) -> pd.Series:
    def to5(s: pd.Series) -> pd.Series:
        return s if bins == 5 else (1 + np.floor((s - 1) * 5 / bins)).astype(int)

    rf = to5(r).astype(str) + to5(f).astype(str)
    out = pd.Series("", index=rf.index, dtype=object)
    for key, (pattern, _, _) in SEGMENTS.items():
        hit = rf.str.fullmatch(pattern) & (out == "")
        out[hit] = key
    return out


def rfm_segments(
    transactions: pd.DataFrame,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
    order_col: str | None = None,
    reference_date: str | pd.Timestamp | None = None,
    bins: int = 5,
) -> RfmResult:
    """Score every customer on recency, frequency and monetary value and name the segment.

    Args:
        transactions: one row per order or order line.
        order_col: frequency counts distinct orders when given, distinct days otherwise.
        reference_date: the "today" of recency; default the day after the last transaction.
        bins: quantile bins per score (5 = quintiles).

    Raises:
        DataContractError: missing columns or bins outside 2..10.
        InsufficientDataError: fewer customers than bins.
    """
    needed = [customer_col, date_col, amount_col] + ([order_col] if order_col else [])
    missing = [c for c in needed if c not in transactions.columns]
    if missing:
        raise DataContractError(f"transactions have no column {', '.join(map(repr, missing))}")
    if not 2 <= bins <= 10:
        raise DataContractError(f"bins={bins}", fix="use between 2 and 10 bins (5 = quintiles)")
    frame = pd.DataFrame(
        {
            "customer": transactions[customer_col].astype(str),
            "date": pd.to_datetime(transactions[date_col]),
            "amount": pd.to_numeric(transactions[amount_col], errors="coerce").fillna(0.0),
            "occasion": transactions[order_col].astype(str)
            if order_col
            else pd.to_datetime(transactions[date_col]).dt.normalize(),
        }
    )
    ref = (
        frame["date"].max().normalize() + pd.Timedelta(days=1)
        if reference_date is None
        else pd.Timestamp(reference_date)
    )
    g = frame.groupby("customer", sort=True)
    table = pd.DataFrame(
        {
            "recency_days": (ref - g["date"].max().dt.normalize()).dt.days,
            "frequency": g["occasion"].nunique(),
            "monetary": g["amount"].sum(),
        }
    )
    if len(table) < bins:
        raise InsufficientDataError(f"{len(table)} customers for {bins} bins")
    table["r"] = _scores(table["recency_days"], bins, reverse=True)
    table["f"] = _scores(table["frequency"].rank(method="first"), bins, reverse=False)
    table["m"] = _scores(table["monetary"], bins, reverse=False)
    table["segment"] = _segment(table["r"], table["f"], bins)
    total_value = table["monetary"].clip(lower=0).sum()
    rows = []
    for key, (_, zh, en) in SEGMENTS.items():
        members = table[table["segment"] == key]
        value = members["monetary"].clip(lower=0).sum()
        rows.append(
            {
                "segment": key,
                "name_zh": zh,
                "name_en": en,
                "customers": len(members),
                "customer_share": len(members) / len(table),
                "value_share": value / total_value if total_value > 0 else 0.0,
            }
        )
    return RfmResult(customers=table, segments=pd.DataFrame(rows), reference_date=ref)


def rfm_movement(before: RfmResult, after: RfmResult) -> pd.DataFrame:
    """Customers moving from each segment (rows) to each segment (columns) between two periods.

    Customers present only in ``after`` appear under the row ``new``; only in ``before``
    under the column ``gone``.
    """
    order = list(SEGMENTS)
    joined = (
        before.customers[["segment"]]
        .rename(columns={"segment": "segment_before"})
        .join(
            after.customers[["segment"]].rename(columns={"segment": "segment_after"}), how="outer"
        )
    )
    joined = joined.fillna({"segment_before": "new", "segment_after": "gone"})
    table = pd.crosstab(joined["segment_before"], joined["segment_after"])
    return table.reindex(index=[*order, "new"], columns=[*order, "gone"], fill_value=0)


def segment_names(lang: str) -> dict[str, str]:
    """segment key → display name in zh or en."""
    i = 1 if lang == "zh" else 2
    return {k: v[i] for k, v in SEGMENTS.items()}
