"""Recall outreach: channel rules, margin-bounded coupons and interleaved products."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from luopan.engines.customers.outreach import attach_products, contact_channel, coupon_offer
from luopan.errors import DataContractError


def test_channel_follows_the_first_rule_that_applies() -> None:
    profile = pd.DataFrame(
        {
            "days_since_app": [3, 45, np.nan, np.nan, np.nan, np.nan],
            "last_channel": ["tmall", "miniprogram", "store", "tmall", "jd", "douyin"],
            "member": [False, True, False, False, True, False],
            "acquisition_channel": ["天猫", "小程序", "朋友推荐", "天猫", "京东", "douyin"],
            "has_phone": [False, True, True, True, True, False],
        },
        index=["app", "wx", "friend", "phone", "jd-member", "market"],
    )
    got = contact_channel(profile)
    assert got.to_dict() == {
        "app": "app_push",  # app visit 3 days ago
        "wx": "wecom",  # app visit too old; member whose last order was on the mini-program
        "friend": "community",  # came by referral
        "phone": "sms",  # phone on file, no own-channel membership
        "jd-member": "sms",  # member, but the last order was on JD
        "market": "platform",  # nothing the brand can reach directly
    }
    assert contact_channel(profile, app_days=60)["wx"] == "app_push"
    # no history columns at all: everyone is a platform contact
    assert set(contact_channel(pd.DataFrame(index=["a", "b"]))) == {"platform"}


def test_coupon_depth_by_segment_bounded_by_margin() -> None:
    customers = pd.DataFrame(
        {
            "order_value": [120.0, 80.0, 80.0, 5.0, 200.0],
            "segment": ["cant_lose", "at_risk", "at_risk", "champions", "about_to_sleep"],
            "clv": [100.0, 90.0, 80.0, 70.0, 1000.0],
        },
        index=["a", "b", "c", "d", "e"],
    )
    margin = pd.Series([0.35, 0.40, 0.20, 0.40, 0.50], index=customers.index)
    out = coupon_offer(customers, margin_rate=margin, max_margin_share=0.5)
    # a: 20% of 120 = 24 > half the margin 0.5·0.35·120 = 21 -> 21, threshold 120
    assert out.loc["a", ["coupon", "threshold"]].tolist() == [21.0, 120.0]
    # b: 15% of 80 = 12 <= 0.5·0.4·80 = 16 -> 12; c: capped at 0.5·0.2·80 = 8
    assert out.loc["b", "coupon"] == 12.0 and out.loc["c", "coupon"] == 8.0
    # d: 5% of 5 = 0.25 -> not worth a coupon, a reminder
    assert out.loc["d", "offer"] == "reminder" and out.loc["d", "coupon"] == 0.0
    # e: top fifth by CLV -> 10% + 5% of 200 = 30 <= 50 -> 30, threshold 200
    assert out.loc["e", "depth"] == pytest.approx(0.15)
    assert out.loc["e", ["coupon", "threshold"]].tolist() == [30.0, 200.0]
    # never more than the allowed share of the margin, for any margin
    assert (out["coupon"] <= 0.5 * margin * customers["order_value"] + 1e-9).all()
    with pytest.raises(DataContractError, match="max_margin_share"):
        coupon_offer(customers, max_margin_share=0.0)
    with pytest.raises(DataContractError, match="order_value"):
        coupon_offer(customers.drop(columns="order_value"))


def test_products_interleave_reorder_and_discover_without_repeats() -> None:
    recs = pd.DataFrame(
        {
            "customer_id": ["a"] * 5 + ["b"],
            "kind": ["reorder", "reorder", "discover", "discover", "discover", "discover"],
            "rank": [1, 2, 1, 2, 3, 1],
            "sku": ["milk", "eggs", "cheese", "milk", "bread", "tea"],
            "reason": ["due_for_reorder", "bought_before", "bought_together"] * 2,
            "because_sku": [None, None, "milk", None, None, None],
        }
    )
    out = attach_products(recs, n=3)
    assert out.loc["a", ["product_1", "product_2", "product_3"]].tolist() == [
        "milk",
        "cheese",
        "eggs",
    ]
    assert out.loc["a", ["reason_1", "reason_2"]].tolist() == ["due_for_reorder", "bought_together"]
    assert out.loc["a", "because_2"] == "milk"
    assert out.loc["b", "product_1"] == "tea" and pd.isna(out.loc["b", "product_2"])
