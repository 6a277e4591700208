"""Outreach for a recall list on the workspace: channel, offer and products per customer.

IO for ``luopan customers recall``: reads the warehouse (orders, customers, events, products,
prices, inventory) and hands plain frames to ``engines.customers.outreach`` and
``engines.recommend``.
"""

from __future__ import annotations

import pandas as pd

from luopan.cli.recommend import workspace_lines, workspace_rules
from luopan.engines.customers.outreach import (
    CHANNELS,
    OFFERS,
    attach_products,
    contact_channel,
    coupon_offer,
)
from luopan.engines.customers.rfm import rfm_segments
from luopan.engines.recommend import recommend
from luopan.engines.recommend.discover import DiscoverRecommender
from luopan.engines.recommend.reorder import ReorderRecommender
from luopan.engines.recommend.result import reason_label
from luopan.engines.recommend.rules import margins_from_products
from luopan.i18n import language
from luopan.workspace import Workspace

__all__ = ["plan_outreach", "recall_headers", "workspace_profile"]


def workspace_profile(ws: Workspace, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per customer: last order channel, CRM membership, phone on file, acquisition channel and
    days since the last app event (when an events table exists) — the inputs of
    ``engines.customers.outreach.contact_channel``."""
    import ibis
    from ibis.common.exceptions import TableNotFound

    con = ibis.duckdb.connect(str(ws.warehouse_path), read_only=True)
    try:
        o = con.table("orders")
        known = o.filter(o.customer_id.notnull())
        last = (
            known.group_by("customer_id")
            .aggregate(last_channel=known.channel.argmax(known.ordered_at))
            .to_pandas()
            .set_index("customer_id")
        )
        c = con.table("customers")
        cols = {"customer_id": c.customer_id}
        for name in ("acquisition_channel", "member_level", "phone_hash"):
            if name in c.columns:
                cols[name] = c[name]
        people = c.select(**cols).to_pandas().drop_duplicates("customer_id")
        people = people.set_index("customer_id")
        app = None
        try:
            e = con.table("events")
            seen = e.filter((e.channel == "app") & e.user_id.notnull())
            app = seen.group_by("user_id").aggregate(last_app=seen.event_time.max()).to_pandas()
        except TableNotFound:
            pass
    finally:
        con.disconnect()
    profile = people.join(last, how="outer")
    profile["member"] = profile.get("member_level", pd.Series(index=profile.index)).notna()
    profile["has_phone"] = profile.get("phone_hash", pd.Series(index=profile.index)).notna()
    if app is not None:
        when = pd.to_datetime(app.set_index("user_id")["last_app"]).reindex(profile.index)
        profile["days_since_app"] = (as_of - when.dt.normalize()).dt.days
    return profile.drop(columns=[c for c in ("member_level", "phone_hash") if c in profile])


def plan_outreach(
    ws: Workspace,
    recall: pd.DataFrame,
    orders: pd.DataFrame,
    clv: pd.DataFrame,
    as_of: pd.Timestamp,
    *,
    max_margin_share: float = 0.5,
    products_per_customer: int = 3,
) -> pd.DataFrame:
    """Add channel, offer and recommended products (reorder + discover, with reasons) to a
    recall list (index customer). Labels follow the workspace language."""
    lang = language()
    ids = recall.index.astype(str)
    profile = workspace_profile(ws, as_of).reindex(ids)
    out = recall.copy()
    out["channel"] = contact_channel(profile).to_numpy()
    lines, customers, products = workspace_lines(ws)
    margins = pd.Series(margins_from_products(products), dtype=float)
    mine = lines[lines["customer_id"].astype(str).isin(ids)]
    weight = pd.to_numeric(mine["unit_price"], errors="coerce").fillna(0.0)
    rate = margins.reindex(mine["sku"].astype(str)).fillna(margins.mean()).to_numpy()
    per = pd.DataFrame({"c": mine["customer_id"].astype(str), "w": weight, "m": weight * rate})
    sums = per.groupby("c")[["w", "m"]].sum()
    margin_rate = (sums["m"] / sums["w"].where(sums["w"] > 0)).fillna(margins.mean())
    segments = rfm_segments(orders, customer_col="customer_id", date_col="day").customers
    spend = clv["expected_spend"] if "expected_spend" in clv else pd.Series(dtype=float)
    mean_spend = orders.groupby("customer_id")["amount"].mean()
    order_value = spend.reindex(ids).fillna(mean_spend.reindex(ids))
    basis = pd.DataFrame(
        {
            "order_value": order_value.to_numpy(),
            "segment": segments["segment"].reindex(ids).to_numpy(),
            "clv": out["clv"].to_numpy(),
        },
        index=ids,
    )
    offers = coupon_offer(
        basis, margin_rate=margin_rate.reindex(ids), max_margin_share=max_margin_share
    )
    out["segment"] = basis["segment"].to_numpy()
    for name in ("offer", "coupon", "threshold"):
        out[name] = offers[name].to_numpy()
    rules = workspace_rules(ws, products)
    contact = list(ids[(out["group"] != "holdout").to_numpy()])
    model = DiscoverRecommender(context_columns=("acquisition_channel", "region", "member_level"))
    n = products_per_customer
    reorder = recommend(
        lines,
        customers,
        kind="reorder",
        k=n,
        customer_ids=contact,
        rules=rules,
        model=ReorderRecommender(),
    )
    discover = recommend(
        lines, customers, kind="discover", k=n, customer_ids=contact, rules=rules, model=model
    )
    parts = [reorder.to_table().assign(kind="reorder"), discover.to_table().assign(kind="discover")]
    picked = attach_products(pd.concat(parts, ignore_index=True), n=products_per_customer)
    picked = picked.reindex(ids)
    names = products["name"] if "name" in products else pd.Series(dtype=str)
    for i in range(1, products_per_customer + 1):
        sku = picked[f"product_{i}"]
        out[f"product_{i}"] = sku.to_numpy()
        out[f"product_name_{i}"] = names.reindex(sku).to_numpy()
        because = picked[f"because_{i}"]
        out[f"reason_{i}"] = [
            None
            if pd.isna(code)
            else reason_label(code, lang, names.get(b, b) if isinstance(b, str) else None)
            for code, b in zip(picked[f"reason_{i}"], because, strict=True)
        ]
    i18n = 0 if lang == "zh" else 1
    out["channel_label"] = out["channel"].map(lambda c: CHANNELS[c][i18n])
    out["offer_label"] = [
        OFFERS[o][i18n].format(coupon=c, threshold=t)
        for o, c, t in zip(out["offer"], out["coupon"], out["threshold"], strict=True)
    ]
    first = ["clv", "p_churn", "expected_value", "group", "segment", "channel_label", "channel"]
    first += ["offer_label", "offer", "coupon", "threshold"]
    first = [c for c in first if c in out]
    return out[first + [c for c in out.columns if c not in first]]


def recall_headers(lang: str) -> dict[str, str]:
    """Column headers of the recall export in ``lang``."""
    from luopan.cli.clv import label

    heads = {
        "index": label("customer", lang),
        "customer": label("customer", lang),
        "customer_id": label("customer", lang),
        "clv": label("clv", lang),
        "p_churn": label("p_churn", lang),
        "expected_value": label("expected_value", lang),
        "group": label("group", lang),
        "segment": label("segment_key", lang),
        "channel": label("channel_to_reach", lang) + " (code)",
        "channel_label": label("channel_to_reach", lang),
        "offer": label("offer", lang) + " (code)",
        "offer_label": label("offer", lang),
        "coupon": label("coupon", lang),
        "threshold": label("threshold", lang),
    }
    for i in range(1, 4):
        heads[f"product_{i}"] = label("product", lang).format(i=i)
        heads[f"product_name_{i}"] = label("product_name", lang).format(i=i)
        heads[f"reason_{i}"] = label("reason", lang).format(i=i)
    return heads
