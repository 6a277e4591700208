"""Every scorecard metric of the default catalog against an independent pandas computation.

Each reference below is the metric's definition written out in pandas over the demo world's
tables (read straight from the warehouse, no luopan code involved), by calendar month from
2025-11 to 2026-10. The catalog's value must agree to 1e-9 relative.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from luopan.metrics import Catalog, query_metric

START, END = dt.date(2025, 11, 1), dt.date(2026, 11, 1)
PAID = ["paid", "shipped", "completed", "refunded"]
F = dict[str, pd.DataFrame]


def month(s: pd.Series) -> pd.Series:
    return s.dt.to_period("M").dt.start_time.astype("datetime64[us]")


def in_range(frame: pd.DataFrame, col: str) -> pd.DataFrame:
    ts = pd.to_datetime(frame[col])
    return frame[(ts >= pd.Timestamp(START)) & (ts < pd.Timestamp(END))].assign(
        m=month(ts[(ts >= pd.Timestamp(START)) & (ts < pd.Timestamp(END))])
    )


def paid(f: F) -> pd.DataFrame:
    o = f["orders"]
    return in_range(o[o.status.isin(PAID)], "ordered_at")


def gmv(f: F) -> pd.Series:
    return paid(f).groupby("m").paid_amount.sum()


def orders(f: F) -> pd.Series:
    return paid(f).groupby("m").size().astype(float)


def buyers(f: F) -> pd.Series:
    return paid(f).groupby("m").customer_id.nunique().astype(float)


def net_revenue(f: F) -> pd.Series:
    o = paid(f)
    return (o.paid_amount - o.refund_amount.fillna(0)).groupby(o.m).sum()


def lines(f: F) -> pd.DataFrame:
    o = f["orders"][["order_id", "status", "ordered_at", "store_id"]]
    joined = f["order_lines"].merge(o, on="order_id", how="left")
    joined = joined.merge(f["products"][["sku", "unit_cost"]], on="sku", how="left")
    return in_range(joined[joined.status.isin(PAID)], "ordered_at")


def gross_margin_pct(f: F) -> pd.Series:
    ln = lines(f)
    rev = ln.groupby("m").paid_amount.sum()
    cogs = (ln.quantity * ln.unit_cost).groupby(ln.m).sum()
    return (rev - cogs) / rev


def aov(f: F) -> pd.Series:
    return gmv(f) / orders(f)


def arpu(f: F) -> pd.Series:
    return net_revenue(f) / buyers(f)


def same_store_daily_sales(f: F) -> pd.Series:
    o = in_range(f["orders"], "ordered_at")
    store = o[o.channel == "store"]
    sales = store[store.status.isin(PAID)].groupby("m").paid_amount.sum()
    open_days = store[store.status != "closed"].assign(d=store.ordered_at.dt.date)
    return sales / open_days.groupby("m")[["store_id", "d"]].apply(
        lambda g: len(g.drop_duplicates())
    ).astype(float)


def spend(f: F) -> pd.Series:
    return in_range(f["marketing_spend"], "date").groupby("m").spend.sum()


def marketing_spend(f: F) -> pd.Series:
    return spend(f)


def promo_roi(f: F) -> pd.Series:
    o = paid(f)
    attributed = o[o.campaign_id.notna()].groupby("m").paid_amount.sum()
    ms = in_range(f["marketing_spend"], "date").merge(
        f["campaigns"][["campaign_id", "type"]], on="campaign_id", how="left"
    )
    promo = ms[ms.type.isin(["promotion", "recall"])].groupby("m").spend.sum()
    return attributed / promo


def budget_reserve_share(f: F) -> pd.Series:
    out = {}
    for m in pd.date_range(START, END, freq="MS", inclusive="left"):
        end = m + pd.offsets.MonthBegin(1)
        spent = f["marketing_spend"].loc[pd.to_datetime(f["marketing_spend"].date) < end].spend
        camp = f["campaigns"]
        budget = camp.loc[pd.to_datetime(camp.start_date) < end].budget
        out[m] = 1 - spent.sum() / budget.sum()
    return pd.Series(out)


def operating_cost_ratio(f: F) -> pd.Series:
    ln = lines(f)
    cogs = (ln.quantity * ln.unit_cost).groupby(ln.m).sum()
    return (cogs + spend(f)) / net_revenue(f)


def customer_seq(f: F) -> pd.DataFrame:
    """Paid member orders numbered 1, 2, … per customer over all time (by time, then id)."""
    o = f["orders"]
    o = o[o.status.isin(PAID) & o.customer_id.notna()].sort_values(
        ["customer_id", "ordered_at", "order_id"]
    )
    return o.assign(seq=o.groupby("customer_id").cumcount() + 1)


def repeat_purchase_rate(f: F) -> pd.Series:
    o = in_range(customer_seq(f), "ordered_at")
    return o[o.seq >= 2].groupby("m").customer_id.nunique() / buyers(f)


def new_customers(f: F) -> pd.Series:
    return in_range(f["customers"], "first_seen_at").groupby("m").size().astype(float)


def cac(f: F) -> pd.Series:
    return spend(f) / new_customers(f)


def retention(f: F, days: int) -> pd.Series:
    """Share of the month's buyers with a later paid order less than `days` after one."""
    o = f["orders"]
    o = o[o.status.isin(PAID) & o.customer_id.notna()][["customer_id", "ordered_at"]]
    o = o.drop_duplicates().sort_values(["customer_id", "ordered_at"])
    nxt = o.groupby("customer_id").ordered_at.shift(-1)  # next strictly later purchase
    o = o.assign(back=(nxt - o.ordered_at) < pd.Timedelta(days=days))
    o = in_range(o, "ordered_at")
    kept = o[o.back].groupby("m").customer_id.nunique()
    return (kept / o.groupby("m").customer_id.nunique()).fillna(0.0)


def retention_30d(f: F) -> pd.Series:
    return retention(f, 30)


def churn_rate(f: F) -> pd.Series:
    return 1 - retention(f, 90)


def ltv_cac(f: F) -> pd.Series:
    ltv = arpu(f) * gross_margin_pct(f) / churn_rate(f)
    return ltv / cac(f)


def mau(f: F) -> pd.Series:
    """Users with an event in the 30 days up to each month's end (months with events)."""
    e = f["events"]
    out = {}
    for m in pd.date_range(START, END, freq="MS", inclusive="left"):
        end = m + pd.offsets.MonthBegin(1)
        window = e[(e.event_time >= end - pd.Timedelta(days=30)) & (e.event_time < end)]
        if len(window):  # a window without events has no row
            out[m] = float(window.user_id.nunique())
    return pd.Series(out)


def refund_rate(f: F) -> pd.Series:
    return paid(f).groupby("m").refund_amount.sum() / gmv(f)


def complaint_rate(f: F) -> pd.Series:
    return in_range(f["tickets"], "created_at").groupby("m").size() / orders(f)


def negative_mention_share(f: F) -> pd.Series:
    mn = in_range(f["mentions"], "published_at")
    rated = mn[mn.rating.notna()]
    return (rated.rating <= 2).groupby(rated.m).sum() / rated.groupby("m").size()


def conversion_rate(f: F) -> pd.Series:
    """Share of the month's viewers who pay less than a day after one of their views."""
    e = f["events"]
    views = e[e.event_name == "view"][["user_id", "event_time"]].sort_values("event_time")
    pays = e[e.event_name == "pay"][["user_id", "event_time"]].sort_values("event_time")
    nxt = pd.merge_asof(
        views,
        pays.rename(columns={"event_time": "pay_time"}),
        left_on="event_time",
        right_on="pay_time",
        by="user_id",
        direction="forward",
        allow_exact_matches=False,
    )
    nxt = in_range(
        nxt.assign(ok=(nxt.pay_time - nxt.event_time) < pd.Timedelta(days=1)), "event_time"
    )
    return nxt[nxt.ok].groupby("m").user_id.nunique() / nxt.groupby("m").user_id.nunique()


def store_units(f: F) -> pd.Series:
    ln = lines(f)
    return ln[ln.store_id.notna()].groupby("m").quantity.sum().astype(float)


def inventory_turnover_days(f: F) -> pd.Series:
    return in_range(f["inventory"], "date").groupby("m").on_hand.sum() / store_units(f)


def stock_out_rate(f: F) -> pd.Series:
    inv = in_range(f["inventory"], "date")
    return (inv.on_hand == 0).groupby(inv.m).sum() / inv.groupby("m").size()


def received(f: F) -> pd.Series:
    ie = in_range(f["inventory_events"], "occurred_at")
    return ie[ie.event_type == "receipt"].groupby("m").quantity.sum().astype(float)


def waste_rate(f: F) -> pd.Series:
    ie = in_range(f["inventory_events"], "occurred_at")
    waste = ie[ie.event_type.isin(["waste", "loss"])].quantity.abs().groupby(ie.m).sum()
    return waste / received(f)


def sell_through(f: F) -> pd.Series:
    return store_units(f) / received(f)


def community_activity_rate(f: F) -> pd.Series:
    c = in_range(f["communities"], "date")
    return c.groupby("m").active_members.sum() / c.groupby("m").members.sum()


def natural_traffic_share(f: F) -> pd.Series:
    c = in_range(f["content"], "published_at")
    return c.groupby("m").natural_views.sum() / c.groupby("m").views.sum()


REFERENCES: dict[str, Callable[[F], pd.Series]] = {
    f.__name__: f
    for f in (
        gmv,
        net_revenue,
        gross_margin_pct,
        aov,
        arpu,
        same_store_daily_sales,
        marketing_spend,
        promo_roi,
        budget_reserve_share,
        operating_cost_ratio,
        ltv_cac,
        orders,
        buyers,
        repeat_purchase_rate,
        new_customers,
        cac,
        retention_30d,
        churn_rate,
        mau,
        refund_rate,
        complaint_rate,
        negative_mention_share,
        conversion_rate,
        inventory_turnover_days,
        stock_out_rate,
        waste_rate,
        sell_through,
        community_activity_rate,
        natural_traffic_share,
    )
}


def assert_series_equal(got: pd.Series, want: pd.Series, rel: float = 1e-9) -> None:
    got = got.replace([np.inf, -np.inf], np.nan).dropna().sort_index()
    want = want.replace([np.inf, -np.inf], np.nan).dropna()
    want = want[want.index.map(lambda p: START <= p.date() < END)].sort_index()
    assert list(got.index) == list(want.index)
    assert len(got) > 0
    for k in got.index:
        assert math.isclose(got[k], want[k], rel_tol=rel, abs_tol=1e-12), (k, got[k], want[k])


def monthly(con: Any, catalog: Catalog, name: str, **kw: Any) -> pd.Series:
    frame = query_metric(con, catalog, name, grain="month", start=START, end=END, **kw)
    return frame.set_index("period")["value"]


@pytest.mark.parametrize("name", REFERENCES)
def test_metric_matches_pandas(name: str, con: Any, catalog: Catalog, frames: F) -> None:
    assert_series_equal(monthly(con, catalog, name), REFERENCES[name](frames))


def test_every_scorecard_metric_has_a_reference(catalog: Catalog) -> None:
    on_card = {n for n, m in catalog.metrics.items() if m.meta.scorecard}
    # DAU and WAU have their own daily/weekly tests below
    assert on_card - set(REFERENCES) == {"dau", "wau"}
    assert len(on_card) >= 28


def test_dau_and_wau_by_day(con: Any, catalog: Catalog, frames: F) -> None:
    lo, hi = dt.date(2026, 9, 1), dt.date(2026, 10, 1)
    e = frames["events"]
    days = pd.date_range(lo, hi, freq="D", inclusive="left")
    dau = pd.Series({d: float(e[e.event_time.dt.normalize() == d].user_id.nunique()) for d in days})
    wau = pd.Series(
        {
            d: float(
                e[
                    (e.event_time >= d - pd.Timedelta(days=6))
                    & (e.event_time < d + pd.Timedelta(days=1))
                ].user_id.nunique()
            )
            for d in days
        }
    )
    for name, want in (("dau", dau), ("wau", wau)):
        got = query_metric(con, catalog, name, grain="day", start=lo, end=hi)
        got = got.set_index("period")["value"]
        assert list(got.index) == list(want.index)
        assert np.array_equal(got.to_numpy(), want.to_numpy()), name
    assert dau.max() < wau.min()  # the window really is wider


def test_wau_at_week_grain_is_the_weeks_active_users(con: Any, catalog: Catalog, frames: F) -> None:
    lo, hi = dt.date(2026, 9, 7), dt.date(2026, 10, 5)  # four Monday-start weeks
    got = query_metric(con, catalog, "wau", grain="week", start=lo, end=hi)
    e = frames["events"]
    e = e[(e.event_time >= pd.Timestamp(lo)) & (e.event_time < pd.Timestamp(hi))]
    want = e.groupby(e.event_time.dt.to_period("W-SUN").dt.start_time).user_id.nunique()
    assert got.value.tolist() == want.astype(float).tolist()
    assert [p.weekday() for p in got.period] == [0, 0, 0, 0]
