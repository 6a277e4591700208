"""Campaigns, order attribution and marketing spend, with one campaign planted below benchmark.

Spend is set from the revenue each campaign's attributed orders actually landed with, so the
true ROI per period (calendar month) is known exactly: ``ROI = attributed paid / spend``.
``CP-MD`` (门店会员日, a store promotion whose orders carry its campaign_id in the POS export)
earns above the benchmark until its last two full months, where it falls below it. Platform
exports carry no campaign id, so only store campaigns can be evaluated from the data alone.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from luopan.demo.calendar import Calendar

BENCHMARK_ROI = 3.0
LOW_ROI = (1.8, 1.5)
LOW_CAMPAIGN = "CP-MD"
CHANNEL_ZH = {
    "tmall": "天猫",
    "jd": "京东",
    "douyin": "抖音",
    "miniprogram": "小程序",
    "meituan": "美团",
    "store": "门店",
}
CPM = {
    "tmall": 28.0,
    "jd": 25.0,
    "douyin": 18.0,
    "miniprogram": 12.0,
    "meituan": 20.0,
    "store": 8.0,
}


def plan_campaigns(cal: Calendar) -> pd.DataFrame:
    rows = []
    for f in cal.festivals:
        if f.name not in ("年货节", "38节", "618大促", "双11大促", "双12"):
            continue
        s, e = max(f.start, cal.start), min(f.end, cal.end)
        if e < s:
            continue
        for ch in ("tmall", "jd", "douyin", "miniprogram"):
            rows.append(
                {
                    "campaign_id": f"CP{s:%Y%m%d}{ch[:2].upper()}",
                    "name": f"{s.year}{f.name}·{CHANNEL_ZH[ch]}",
                    "type": "festival",
                    "channel": ch,
                    "start_date": s,
                    "end_date": e,
                    "share": 0.5,
                    "roi": None,
                }
            )
    for cid, name, typ, ch, share in (
        ("CP-DY-LIVE", "抖音达人直播常态投放", "livestream", "douyin", 0.3),
        ("CP-TM-ZTC", "天猫直通车常态投放", "search_ads", "tmall", 0.2),
        ("CP-MT-MJ", "美团外卖满减", "discount", "meituan", 0.35),
        ("CP-WX-TUAN", "社群团购", "community", "miniprogram", 0.2),
        ("CP-MD", "门店会员日促销", "promotion", "store", 0.12),
    ):
        rows.append(
            {
                "campaign_id": cid,
                "name": name,
                "type": typ,
                "channel": ch,
                "start_date": cal.start,
                "end_date": cal.end,
                "share": share,
                "roi": None,
            }
        )
    rows.append(
        {
            "campaign_id": "CP-RECALL",
            "name": "流失会员召回(华南门店)",
            "type": "recall",
            "channel": "store",
            "start_date": cal.start,
            "end_date": cal.end,
            "share": 0.0,
            "roi": None,
        }
    )
    return pd.DataFrame(rows)


def attribute(
    rng: np.random.Generator,
    orders: pd.DataFrame,
    campaigns: pd.DataFrame,
    cal: Calendar,
    recall_treated: set[int],
) -> np.ndarray:
    """campaign_id per order (None when unattributed); festival campaigns win over always-on."""
    out = np.full(len(orders), None, dtype=object)
    day = orders["day"].to_numpy()
    ch = orders["channel"].to_numpy()
    u = rng.random(len(orders))
    ordered = campaigns.sort_values("type", key=lambda s: s != "festival", kind="stable")
    for c in ordered.itertuples():
        if c.share <= 0:
            continue
        a, b = cal.index(c.start_date), cal.index(c.end_date)
        m = (ch == c.channel) & (day >= a) & (day <= b) & (u < c.share) & (out == None)  # noqa: E711
        out[m] = c.campaign_id
    rec = (orders["origin"].to_numpy() == "recall") & np.isin(
        orders["cust"].to_numpy(), np.fromiter(recall_treated, dtype=np.int64)
    )
    out[rec] = "CP-RECALL"
    return out


def _months(start: date, end: date) -> list[tuple[date, date]]:
    out, cur = [], date(start.year, start.month, 1)
    while cur <= end:
        nxt = date(cur.year + (cur.month == 12), cur.month % 12 + 1, 1)
        out.append((max(cur, start), min(nxt - timedelta(days=1), end)))
        cur = nxt
    return out


def spend(
    rng: np.random.Generator, campaigns: pd.DataFrame, landed: pd.DataFrame, cal: Calendar
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Daily spend rows, campaigns with budgets, and the planted low-ROI truth."""
    landed = landed[landed["campaign_id"].notna()]
    rev = landed.groupby(["campaign_id", "day"])["paid"].sum()
    rows, budgets, periods = [], {}, []
    months = _months(cal.start, cal.end)
    full = [m for m in months if m[0].day == 1 and (m[1] + timedelta(days=1)).day == 1]
    low_months = [m[0] for m in full[-2:]] if len(full) >= 3 else []
    for c in campaigns.itertuples():
        total = 0.0
        for ms, me in months:
            if me < c.start_date or ms > c.end_date:
                continue
            a, b = cal.index(max(ms, c.start_date)), cal.index(min(me, c.end_date))
            days = np.arange(a, b + 1)
            r = np.array([rev.get((c.campaign_id, int(d)), 0.0) for d in days])
            if c.campaign_id == LOW_CAMPAIGN and ms in low_months:
                roi = LOW_ROI[low_months.index(ms)]
            elif c.type == "recall":
                roi = float(rng.uniform(6, 9))
            else:
                roi = float(rng.uniform(3.4, 5.5))
            if r.sum() <= 0:
                continue
            weights = (r + r.mean() * 0.2) * rng.uniform(0.9, 1.1, r.size)
            daily = np.round(r.sum() / roi * weights / weights.sum(), 2)
            total += daily.sum()
            for d, s in zip(days, daily, strict=True):
                imp = int(s / CPM[c.channel] * 1000)
                rows.append(
                    {
                        "date": cal.day(int(d)),
                        "channel": c.channel,
                        "campaign_id": c.campaign_id,
                        "spend": float(s),
                        "impressions": imp,
                        "clicks": int(imp * rng.uniform(0.008, 0.03)),
                    }
                )
            if c.campaign_id == LOW_CAMPAIGN:
                periods.append(
                    {
                        "period": f"{ms:%Y-%m}",
                        "revenue": round(float(r.sum()), 2),
                        "spend": round(float(daily.sum()), 2),
                        "roi": round(float(r.sum() / daily.sum()), 4),
                    }
                )
        budgets[c.campaign_id] = round(total * 1.1, -2) if total else 10000.0
    camp = campaigns.drop(columns=["share", "roi"]).assign(
        budget=campaigns["campaign_id"].map(budgets)
    )
    truth = {
        "campaign_id": LOW_CAMPAIGN,
        "channel": "store",
        "benchmark_roi": BENCHMARK_ROI,
        "period": "month",
        "low_periods": [f"{m:%Y-%m}" for m in low_months],
        "roi_by_period": periods,
    }
    return pd.DataFrame(rows), camp, truth
