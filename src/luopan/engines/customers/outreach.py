"""What a recall list needs to be sent: the channel to reach each customer, an offer, products.

**Channel** (first rule that applies, from the customer's own history):

1. ``app_push`` — the customer used the app in the last ``active_days`` (a push is free and
   lands where they already are);
2. ``wecom`` — a CRM member whose last purchase was in the brand's own WeChat ecosystem or
   store (mini-program, Youzan, store): the private-domain contact (企业微信 / 导购);
3. ``community`` — acquired by referral or through a community group: reach them in the group;
4. ``sms`` — the brand holds the customer's (hashed, contactable) phone number;
5. ``platform`` — a marketplace buyer the brand can only reach through the platform's own
   customer messaging (Tmall, JD, Douyin, Meituan), never by a phone number it does not hold.

**Offer**: a coupon "spend X, save Y" (满 X 减 Y) on the customer's expected order value v
(Gamma-Gamma E[M], else their mean spend). The depth comes from the RFM segment — deeper for
valuable customers slipping away (can't lose 20 %, at risk 15 %), shallow for those still
close (about to sleep, need attention 10 %; others 5 %) — plus 5 points for the top fifth of
the list by CLV. The coupon is bounded by margin: Y ≤ ``max_margin_share`` × margin rate × v,
so a recovered order still earns at least the rest of its gross margin; Y is rounded down to a
whole unit and X = v rounded up to 10. A coupon under one unit is not worth sending: the offer
is then a reminder with the recommended products only.

**Products**: the top of the customer's reorder list (items due from their own history) and
discover list (items new to them), interleaved (reorder 1, discover 1, reorder 2, …), distinct,
each with its reason from the recommendation engine.

References:
    Blattberg, R. C., Kim, B.-D. & Neslin, S. A. (2008). Database Marketing: Analyzing and
    Managing Customers. Springer, ch. 24–25 (churn management: targeting by value at risk,
    incentive cost against margin) and ch. 28 (contact channel by customer).
    Hughes, A. M. (1994). Strategic Database Marketing. Probus (RFM segments and offers).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from luopan.errors import DataContractError

__all__ = [
    "CHANNELS",
    "DEPTH",
    "OFFERS",
    "attach_products",
    "coupon_offer",
    "contact_channel",
]

#: channel code -> (zh-CN, en)
CHANNELS: dict[str, tuple[str, str]] = {
    "app_push": ("App 推送", "app push"),
    "wecom": ("企业微信", "WeCom"),
    "community": ("社群", "community group"),
    "sms": ("短信", "SMS"),
    "platform": ("平台消息", "platform message"),
}

#: offer code -> (zh-CN, en) templates
OFFERS: dict[str, tuple[str, str]] = {
    "coupon": ("满{threshold:,.0f}减{coupon:,.0f}", "save {coupon:,.0f} on {threshold:,.0f}+"),
    "reminder": ("商品提醒（不发券）", "product reminder (no coupon)"),
}

#: coupon depth (share of the expected order value) by RFM segment; others get DEFAULT_DEPTH
DEPTH: dict[str, float] = {
    "cant_lose": 0.20,
    "at_risk": 0.15,
    "about_to_sleep": 0.10,
    "need_attention": 0.10,
    "hibernating": 0.10,
}
DEFAULT_DEPTH = 0.05
TOP_CLV_BONUS = 0.05

#: last-order channels of the brand's own ecosystem (reachable on WeCom when a member)
OWN_CHANNELS = ("store", "miniprogram", "youzan")
#: acquisition channels that mean "came through a person or a group"
COMMUNITY_SOURCES = ("community", "referral", "社群", "朋友推荐", "老带新", "wecom", "企业微信")


def contact_channel(profile: pd.DataFrame, *, app_days: int = 30) -> pd.Series:
    """The channel code per customer (index) from their history.

    Args:
        profile: index customer; optional columns ``days_since_app`` (days since the last app
            event, NaN = never), ``last_channel`` (order channel of the last purchase),
            ``member`` (bool: in the CRM), ``acquisition_channel``, ``has_phone`` (bool).
        app_days: how recent an app visit must be for a push.
    """

    def col(name: str, default: object) -> pd.Series:
        if name in profile:
            return profile[name]
        return pd.Series(default, index=profile.index)

    app = pd.to_numeric(col("days_since_app", np.nan), errors="coerce") <= app_days
    member = col("member", False).fillna(False).astype(bool)
    own = col("last_channel", "").fillna("").astype(str).isin(OWN_CHANNELS) & member
    source = col("acquisition_channel", "").fillna("").astype(str).str.lower()
    community = source.isin([s.lower() for s in COMMUNITY_SOURCES])
    phone = col("has_phone", False).fillna(False).astype(bool)
    choice = np.select(
        [app.to_numpy(), own.to_numpy(), community.to_numpy(), phone.to_numpy()],
        ["app_push", "wecom", "community", "sms"],
        default="platform",
    )
    return pd.Series(choice, index=profile.index, name="channel")


def coupon_offer(
    customers: pd.DataFrame,
    *,
    margin_rate: float | pd.Series = 0.3,
    max_margin_share: float = 0.5,
) -> pd.DataFrame:
    """Offer per customer: coupon value and threshold, bounded by the order's margin.

    Args:
        customers: index customer; ``order_value`` (expected spend per order), ``segment``
            (RFM key) and ``clv``.
        margin_rate: gross margin rate of the customer's orders (scalar or per customer).
        max_margin_share: the largest share of the order's gross margin a coupon may take.

    Returns:
        Columns ``offer`` (``coupon`` or ``reminder``), ``depth``, ``coupon``, ``threshold``.

    Raises:
        DataContractError: missing columns or a share outside (0, 1].
    """
    missing = {"order_value", "segment", "clv"} - set(customers.columns)
    if missing:
        raise DataContractError(f"customers lack column(s) {sorted(missing)}")
    if not 0 < max_margin_share <= 1:
        raise DataContractError(
            f"max_margin_share={max_margin_share}", fix="give a share in (0, 1], e.g. 0.5"
        )
    value = pd.to_numeric(customers["order_value"], errors="coerce").fillna(0.0).clip(lower=0)
    depth = customers["segment"].map(DEPTH).fillna(DEFAULT_DEPTH).astype(float)
    clv = pd.to_numeric(customers["clv"], errors="coerce").fillna(0.0)
    if len(clv) >= 5:
        depth = depth + np.where(clv >= clv.quantile(0.8), TOP_CLV_BONUS, 0.0)
    rate = margin_rate if isinstance(margin_rate, pd.Series) else pd.Series(margin_rate, clv.index)
    cap = max_margin_share * rate.reindex(customers.index).fillna(0.0).clip(lower=0) * value
    coupon = np.floor(np.minimum(depth * value, cap))
    threshold = np.ceil(value / 10.0) * 10.0
    offer = np.where(coupon >= 1.0, "coupon", "reminder")
    return pd.DataFrame(
        {
            "offer": offer,
            "depth": depth,
            "coupon": np.where(offer == "coupon", coupon, 0.0),
            "threshold": np.where(offer == "coupon", threshold, 0.0),
        },
        index=customers.index,
    )


def attach_products(recommendations: pd.DataFrame, *, n: int = 3) -> pd.DataFrame:
    """Up to ``n`` distinct products per customer, reorder and discover interleaved.

    Args:
        recommendations: ``customer_id``, ``kind`` (reorder / discover), ``rank``, ``sku``,
            ``reason`` and optionally ``because_sku``.

    Returns:
        Index customer; columns ``product_1``…, ``reason_1``…, ``because_1``….
    """
    missing = {"customer_id", "kind", "rank", "sku", "reason"} - set(recommendations.columns)
    if missing:
        raise DataContractError(f"recommendations lack column(s) {sorted(missing)}")
    recs = recommendations.copy()
    if "because_sku" not in recs:
        recs["because_sku"] = None
    recs["customer_id"] = recs["customer_id"].astype(str)
    kind_order = recs["kind"].map({"reorder": 0, "discover": 1}).fillna(2)
    recs = recs.assign(_k=kind_order).sort_values(["customer_id", "rank", "_k"], kind="stable")
    recs = recs.drop_duplicates(["customer_id", "sku"])
    recs["slot"] = recs.groupby("customer_id").cumcount() + 1
    recs = recs[recs["slot"] <= n]
    wide = recs.pivot(index="customer_id", columns="slot", values=["sku", "reason", "because_sku"])
    out = pd.DataFrame(index=wide.index)
    for i in range(1, n + 1):
        for src, dst in (("sku", "product"), ("reason", "reason"), ("because_sku", "because")):
            out[f"{dst}_{i}"] = wide[(src, i)] if (src, i) in wide.columns else None
    return out
