"""RFM quintile segments on UCI Online Retail against the survey's reference run.

Reference (/work/shared/reference/customers.md §5, the common open-source recipe: reference date
2011-12-10, frequency = invoices, cancellations and non-positive prices removed): segment counts
hibernating 1,071; loyal 819; champions 633; at risk 593; potential loyalists 484; about to
sleep 352; need attention 187; promising 94; can't lose 63; new 42. Revenue share champions
48.7 %, loyal 26.3 %. R cut edges in days 1 / 13.8 / 33 / 72 / 180 / 374.
"""

from __future__ import annotations

import pandas as pd
import pytest

from luopan.engines.customers.rfm import SEGMENTS, rfm_movement, rfm_segments, segment_names

REFERENCE_COUNTS = {
    "hibernating": 1071,
    "loyal_customers": 819,
    "champions": 633,
    "at_risk": 593,
    "potential_loyalists": 484,
    "about_to_sleep": 352,
    "need_attention": 187,
    "promising": 94,
    "cant_lose": 63,
    "new_customers": 42,
}


def purchases(online_retail: pd.DataFrame) -> pd.DataFrame:
    d = online_retail
    keep = (
        d["CustomerID"].notna()
        & ~d["InvoiceNo"].str.startswith("C")
        & (d["Quantity"] > 0)
        & (d["UnitPrice"] > 0)
    )
    return d[keep]


def test_online_retail_segments_match_the_reference(online_retail: pd.DataFrame) -> None:
    result = rfm_segments(
        purchases(online_retail),
        customer_col="CustomerID",
        date_col="InvoiceDate",
        amount_col="amount",
        order_col="InvoiceNo",
        reference_date="2011-12-10",
    )
    seg = result.segments.set_index("segment")
    assert seg["customers"].to_dict() == REFERENCE_COUNTS
    assert seg.loc["champions", "value_share"] == pytest.approx(0.487, abs=5e-4)
    assert seg.loc["loyal_customers", "value_share"] == pytest.approx(0.263, abs=5e-4)
    assert seg["customer_share"].sum() == pytest.approx(1.0)
    edges = pd.qcut(result.customers["recency_days"], 5, retbins=True)[1]
    assert edges.tolist() == pytest.approx([1, 13.8, 33, 72, 180, 374])
    assert seg.loc["champions", "name_zh"] == "重要价值客户"
    assert seg.loc["at_risk", "name_en"] == "At risk"


def test_movement_between_periods(online_retail: pd.DataFrame) -> None:
    d = purchases(online_retail)
    kw = dict(
        customer_col="CustomerID",
        date_col="InvoiceDate",
        amount_col="amount",
        order_col="InvoiceNo",
    )
    before = rfm_segments(d[d["InvoiceDate"] < "2011-09-01"], reference_date="2011-09-01", **kw)
    after = rfm_segments(d, reference_date="2011-12-10", **kw)
    move = rfm_movement(before, after)
    assert int(move.to_numpy().sum()) == len(after.customers)  # nobody disappears
    assert int(move.loc["new"].sum()) == len(after.customers) - len(before.customers)
    assert int(move["gone"].sum()) == 0
    # counts per segment after = column sums
    after_counts = after.segments.set_index("segment")["customers"]
    assert move.sum(axis=0)[list(SEGMENTS)].to_dict() == after_counts.to_dict()


def test_names_in_both_languages() -> None:
    zh, en = segment_names("zh"), segment_names("en")
    assert set(zh) == set(en) == set(SEGMENTS)
    assert all(zh[k] != en[k] for k in SEGMENTS)
