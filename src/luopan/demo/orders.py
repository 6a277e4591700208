"""Order headers: who buys when, where and for how much.

Member orders come from each customer's BG/NBD process run in the operational time of the
home channel (see ``calendar``); walk-in store orders from a Poisson process per store and day.
Planted on top: a churn wave in one segment and a recall action with a random holdout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from luopan.demo.calendar import CHANNELS, HOURS, Calendar
from luopan.demo.world import BTYD, World

HOME_SHARE = 0.8  # share of a member's orders placed on the home channel
CHURN_SEGMENT = {"region": "华南", "home_channel": "store"}
# The churn wave: every member of the segment with an order in the CHURN_ACTIVE_DAYS before the
# wave (the health index's active window) who would have bought again stops buying in it. Half
# of those active in the 60 days before (until 2026-11-30) only took the segment's health index
# to 68-71, above the shipped rule's 65, so the wave planted an incident no rule could report.
CHURN_SHARE = 1.0
CHURN_ACTIVE_DAYS = 90
RECALL_TREATED_RATE = 0.38
RECALL_HOLDOUT_RATE = 0.06
RECALL_HOLDOUT_SHARE = 0.2
# The recall answers the health rule (below 65 for 3 weeks), so it goes out after the weeks in
# which the rule is expected to fire: eight weeks after the wave. Two until 2026-11-30 (the
# returns lifted the index before it could stay below 65 for three weeks); six until
# 2026-12-01, when on the 50,000-member world the index first went below 65 four weeks after
# the wave, so the rule could fire only in the week the recall went out. The recall date is
# unchanged (the wave starts two weeks earlier instead: WAVE_BEFORE_END_DAYS 105 → 119).
RECALL_AFTER_WAVE_DAYS = 56
WAVE_BEFORE_END_DAYS = 119  # the wave starts this many days before the world's last day
ALERT_AFTER_WAVE_DAYS = 14  # the silence of about one usual gap before the index can show it


@dataclass
class OrderPlan:
    """All order headers (no lines yet), one row per order."""

    orders: (
        pd.DataFrame
    )  # cust (int, -1 walk-in), channel, store_id, day, ordered_at, spend, origin
    churn: dict = field(default_factory=dict)
    recall: dict = field(default_factory=dict)


def _times_of_day(rng: np.random.Generator, channels: np.ndarray) -> np.ndarray:
    """Seconds after midnight drawn from each channel's hourly profile."""
    secs = np.empty(channels.size, dtype=np.int64)
    for ch in CHANNELS:
        m = channels == ch
        k = int(m.sum())
        if k:
            hours = rng.choice(24, size=k, p=HOURS[ch])
            secs[m] = hours * 3600 + rng.integers(0, 3600, size=k)
    return secs


def _btyd_events(rng: np.random.Generator, world: World, cal: Calendar) -> pd.DataFrame:
    """Purchase days of every member (acquisition purchase + repeat purchases until dropout)."""
    cu = world.customers
    n = len(cu)
    birth = (cu["first_seen_at"].dt.normalize() - pd.Timestamp(cal.first)).dt.days.to_numpy()
    birth = np.clip(birth, 0, cal.n_days - 1)
    home = cu["home_channel"].to_numpy()
    lam = cu["lam"].to_numpy()
    p = cu["p_drop"].to_numpy()
    cust_parts, day_parts = [np.arange(n)], [birth]
    origin_parts = [np.full(n, "acq", dtype=object)]
    for ch in CHANNELS:
        idx = np.flatnonzero(home == ch)
        if idx.size == 0:
            continue
        inten = cal.intensity[ch]
        cum = np.concatenate([[0.0], np.cumsum(inten)])
        o_b = cum[birth[idx] + 1]  # repeat purchases start the day after acquisition
        length = np.maximum(cum[-1] - o_b, 0.0)
        big_n = rng.poisson(lam[idx] * length)
        j = rng.geometric(p[idx])
        m = np.minimum(big_n, j)
        total = int(m.sum())
        if total == 0:
            continue
        owner = np.repeat(np.arange(idx.size), m)
        e = rng.exponential(1.0, size=total)
        s = np.cumsum(e)
        mpos = m > 0
        start_pos = (np.cumsum(m) - m)[mpos]
        base = np.repeat(s[start_pos] - e[start_pos], m[mpos])
        s_k = s - base  # per-customer cumulative sums S_1..S_m
        ends = (np.cumsum(m) - 1)[mpos]
        rest = rng.gamma((big_n[mpos] - m[mpos] + 1).astype(float), 1.0)
        u = s_k / np.repeat(s_k[ends] + rest, m[mpos])
        op = np.repeat(o_b, m) + u * np.repeat(length, m)
        day = np.searchsorted(cum, op, side="right") - 1
        cust_parts.append(idx[owner])
        day_parts.append(np.clip(day, 0, cal.n_days - 1))
        origin_parts.append(np.full(total, "btyd", dtype=object))
    cust = np.concatenate(cust_parts)
    day = np.concatenate(day_parts)
    origin = np.concatenate(origin_parts)
    keep = day >= cal.index(cal.start)
    return pd.DataFrame({"cust": cust[keep], "day": day[keep], "origin": origin[keep]})


def _member_orders(
    rng: np.random.Generator, world: World, ev: pd.DataFrame, *, home_share: float = HOME_SHARE
) -> pd.DataFrame:
    cu = world.customers
    c = ev["cust"].to_numpy()
    home = cu["home_channel"].to_numpy()[c]
    second = cu["second_channel"].to_numpy()[c]
    channel = np.where(rng.random(c.size) < home_share, home, second)
    store_ids = world.stores["store_id"].to_numpy()
    store = cu["home_store"].to_numpy()[c].copy()
    roam = rng.random(c.size) < 0.08
    store[roam] = store_ids[rng.integers(0, store_ids.size, int(roam.sum()))]
    store = np.where(np.isin(channel, ["store", "meituan"]), store, None)
    nu = cu["nu"].to_numpy()[c]
    spend = rng.gamma(BTYD["p_gg"], 1.0 / nu)
    return pd.DataFrame(
        {
            "cust": c,
            "channel": channel,
            "store_id": store,
            "day": ev["day"].to_numpy(),
            "spend": spend,
            "origin": ev["origin"].to_numpy(),
        }
    )


def _walk_ins(
    rng: np.random.Generator, world: World, cal: Calendar, customers: int
) -> pd.DataFrame:
    st = world.stores
    size = st["size"].to_numpy()
    per_store_day = customers * 0.009 * size / size.sum()
    d0 = cal.index(cal.start)
    inten = cal.intensity["store"][d0:]
    lam = np.outer(inten, per_store_day)  # day x store
    counts = rng.poisson(lam).ravel()
    day = np.repeat(np.repeat(np.arange(inten.size) + d0, size.size), counts)
    store = np.repeat(np.tile(st["store_id"].to_numpy(), inten.size), counts)
    return pd.DataFrame(
        {
            "cust": -1,
            "channel": "store",
            "store_id": store,
            "day": day,
            "spend": rng.gamma(2.5, 18.0, size=day.size),
            "origin": "walkin",
        }
    )


def alert_periods(first_end: date, recall_date: date) -> list[str]:
    """Weeks (Monday-Sunday, labelled as the decision log labels them) ending on or after
    ``first_end`` and before ``recall_date``: where the health rule should fire on the wave."""
    weeks = pd.period_range(first_end, recall_date, freq="W-SUN")
    return [str(w) for w in weeks if w.end_time.date() < recall_date]


def _plant_churn_and_recall(
    rng: np.random.Generator, world: World, cal: Calendar, orders: pd.DataFrame
) -> tuple[pd.DataFrame, dict, dict]:
    cu = world.customers
    n_days = cal.n_days
    wave_start = max(n_days - WAVE_BEFORE_END_DAYS, 0)  # a short world: at its start
    wave_end = wave_start + 20  # three weeks
    seg = np.flatnonzero(
        (cu["region"].to_numpy() == CHURN_SEGMENT["region"])
        & (cu["home_channel"].to_numpy() == CHURN_SEGMENT["home_channel"])
    )
    member = orders["cust"].to_numpy()
    day = orders["day"].to_numpy()
    active_before = np.unique(member[(day >= wave_start - CHURN_ACTIVE_DAYS) & (day < wave_start)])
    later = np.unique(member[day >= wave_start])
    cand = np.intersect1d(np.intersect1d(seg, active_before), later)
    churned = cand[rng.random(cand.size) < CHURN_SHARE]
    churn_day = np.full(len(cu), n_days + 1)
    churn_day[churned] = rng.integers(wave_start, wave_end + 1, churned.size)
    keep = (member < 0) | (day < churn_day[np.maximum(member, 0)])
    dropped = int((~keep).sum())
    orders = orders[keep]
    # recall: every churned member, 80% treated, 20% random holdout. Complete randomization
    # (a random subset of fixed size; Imbens & Rubin 2015, ch. 4) and a fixed number of random
    # responders per arm, so the planted rates are what the world holds: with independent coin
    # flips a 66-member wave drew a holdout of 5 (2026-11-30), and a 437-member one 12 returns
    # among 83 held out at a planted 6% (a 3-sigma draw).
    recall_day = wave_end + RECALL_AFTER_WAVE_DAYS
    holdout = np.zeros(churned.size, dtype=bool)
    holdout[rng.permutation(churned.size)[: round(RECALL_HOLDOUT_SHARE * churned.size)]] = True
    responded = np.zeros(churned.size, dtype=bool)
    for arm, rate in ((holdout, RECALL_HOLDOUT_RATE), (~holdout, RECALL_TREATED_RATE)):
        members = np.flatnonzero(arm)
        responded[rng.choice(members, round(rate * members.size), replace=False)] = True
    resp = churned[responded]
    k = 1 + rng.poisson(0.8, resp.size)
    rc = np.repeat(resp, k)
    first = np.cumsum(k) - k  # each responder's first order (none: an empty index)
    offs = rng.integers(1, 30, rc.size)
    offs[first] = rng.integers(1, 14, resp.size)  # first return order within two weeks
    ev = pd.DataFrame(
        {"cust": rc, "day": np.minimum(recall_day + offs, n_days - 1), "origin": "recall"}
    )
    recall_orders = _member_orders(rng, world, ev, home_share=1.0)
    orders = pd.concat([orders, recall_orders], ignore_index=True)
    ids = cu["customer_id"].to_numpy()
    churn = {
        "segment": dict(CHURN_SEGMENT),
        "wave_start": cal.day(wave_start),
        "wave_end": cal.day(wave_end),
        "active_days": CHURN_ACTIVE_DAYS,
        "share_churned": CHURN_SHARE,
        "period": "week",
        "alert_periods": alert_periods(
            cal.day(wave_end) + timedelta(days=ALERT_AFTER_WAVE_DAYS), cal.day(recall_day)
        ),
        "n_segment": int(seg.size),
        "n_active_at_wave": int(cand.size),
        "n_churned": int(churned.size),
        "orders_removed": dropped,
        "churned_ids": ids[churned].tolist(),
    }
    recall = {
        "recall_date": cal.day(recall_day),
        "n_treated": int((~holdout).sum()),
        "n_holdout": int(holdout.sum()),
        "treated_ids": ids[churned[~holdout]].tolist(),
        "holdout_ids": ids[churned[holdout]].tolist(),
        "true_response_treated": RECALL_TREATED_RATE,
        "true_response_holdout": RECALL_HOLDOUT_RATE,
        "realized_response_treated": float(responded[~holdout].mean()) if (~holdout).any() else 0.0,
        "realized_response_holdout": float(responded[holdout].mean()) if holdout.any() else 0.0,
        "responders": ids[resp].tolist(),
    }
    return orders, churn, recall


def plan_orders(rng: np.random.Generator, world: World, cal: Calendar) -> OrderPlan:
    """Every order header of the export window, sorted by time."""
    ev = _btyd_events(rng, world, cal)
    members = _member_orders(rng, world, ev)
    walk = _walk_ins(rng, world, cal, len(world.customers))
    orders = pd.concat([members, walk], ignore_index=True)
    orders, churn, recall = _plant_churn_and_recall(rng, world, cal, orders)
    # acquisition day: the first purchase happens at the recorded first_seen time
    ch = orders["channel"].to_numpy()
    secs = _times_of_day(rng, ch)
    acq = (orders["origin"] == "acq").to_numpy()
    fs = world.customers["first_seen_at"].to_numpy()[orders["cust"].to_numpy()[acq]]
    secs[acq] = (fs - fs.astype("datetime64[D]")).astype("timedelta64[s]").astype(np.int64)
    ts = pd.Timestamp(cal.first) + pd.to_timedelta(orders["day"].to_numpy(), "D")
    ts = ts + pd.to_timedelta(secs, "s")
    orders["ordered_at"] = ts
    orders = orders.sort_values(["ordered_at", "cust"], kind="stable", ignore_index=True)
    orders["day"] = orders["day"].astype(np.int64)
    for col in ("channel", "store_id", "origin"):  # keeps 1M-customer worlds in memory
        orders[col] = orders[col].astype("category")
    return OrderPlan(orders, churn, recall)
