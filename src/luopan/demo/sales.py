"""Turn planned orders of one month into final orders and lines.

Store-fulfilled lines (store and Meituan channels) are censored by the inventory simulation;
then amounts, coupons, statuses and payment times are settled.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from luopan.demo.inventory import InventorySim

STORE_FULFILLED = ("store", "meituan")


def censor(
    orders: pd.DataFrame,
    lines: pd.DataFrame,
    sim: InventorySim,
    store_index: dict[str, int],
    n_sku: int,
    days: np.ndarray,
    keep_days: int,
) -> tuple[pd.DataFrame, list[dict]]:
    """Apply stock limits day by day; returns kept lines and inventory flows of late days.

    Lines later in the day lose out when the shelf is empty (partial lines keep what was left).
    """
    ch = orders["channel"].to_numpy()[lines["row"].to_numpy()]
    fulfil = np.isin(ch, STORE_FULFILLED)
    sid = orders["store_id"].to_numpy()[lines["row"].to_numpy()]
    series = np.full(len(lines), -1, dtype=np.int64)
    series[fulfil] = (
        np.array([store_index[s] for s in sid[fulfil]], dtype=np.int64) * n_sku
        + lines["sku"].to_numpy()[fulfil]
    )
    day = orders["day"].to_numpy()[lines["row"].to_numpy()]
    when = orders["ordered_at"].to_numpy()[lines["row"].to_numpy()]
    qty = lines["qty"].to_numpy().copy()
    n_series = sim.target.size
    flows_out: list[dict] = []
    sel = np.flatnonzero(fulfil)
    order = sel[np.lexsort((when[sel], series[sel], day[sel]))]
    for d in days:
        idx = order[day[order] == d]
        demand = np.bincount(series[idx], weights=qty[idx], minlength=n_series).astype(np.int64)
        sold, flows = sim.step(int(d), demand)
        short = demand > sold
        if short.any() and idx.size:
            s = series[idx]
            q = qty[idx]
            cum = np.cumsum(q)
            start = np.r_[0, np.flatnonzero(np.diff(s)) + 1]
            group_base = np.repeat(cum[start] - q[start], np.diff(np.r_[start, idx.size]))
            before = cum - q - group_base
            qty[idx] = np.clip(sold[s] - before, 0, q)
        if d >= keep_days:
            flows["day"] = np.asarray(int(d))
            flows["sold"] = sold
            flows["demand"] = demand
            flows_out.append(flows)
    lines = lines.assign(qty=qty)
    return lines[lines["qty"] > 0].reset_index(drop=True), flows_out


def settle(
    rng: np.random.Generator, orders: pd.DataFrame, lines: pd.DataFrame, end_ts: pd.Timestamp
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Amounts, coupons, statuses, payment times; drops orders left without lines."""
    has = np.zeros(len(orders), dtype=bool)
    has[lines["row"].to_numpy()] = True
    remap = np.cumsum(has) - 1
    orders = orders[has].reset_index(drop=True)
    lines = lines.assign(row=remap[lines["row"].to_numpy()])
    lines = lines.sort_values(["row", "sku"], kind="stable", ignore_index=True)
    lines["line_no"] = lines.groupby("row").cumcount() + 1
    gross_l = np.round(lines["qty"].to_numpy() * lines["unit"].to_numpy(), 2)
    row = lines["row"].to_numpy()
    n = len(orders)
    gross = np.round(np.bincount(row, weights=gross_l, minlength=n), 2)
    online = orders["channel"].to_numpy() != "store"
    coupon = rng.random(n) < np.where(online, 0.25, 0.12)
    disc = np.where(coupon, np.minimum(gross * rng.uniform(0.05, 0.15, n), 30.0), 0.0)
    disc = np.floor(np.minimum(disc, gross * 0.5)) * 1.0
    status = np.full(n, "completed", dtype=object)
    u = rng.random(n)
    status[online & (u < 0.01)] = "closed"
    status[(u >= 0.01) & (u < 0.025)] = "refunded"
    age = (end_ts - orders["ordered_at"]).dt.total_seconds().to_numpy()
    recent = online & (status == "completed") & (age < 2 * 86400)
    status[recent] = "shipped"
    status[online & (status == "shipped") & (age < 6 * 3600)] = "paid"
    closed = status == "closed"
    disc[closed] = 0.0
    # allocate the coupon to lines in proportion to their value; last line takes the rest
    share = gross_l / np.maximum(gross[row], 0.01)
    disc_l = np.round(share * disc[row], 2)
    last = np.r_[np.flatnonzero(np.diff(row)), len(row) - 1]
    alloc = np.bincount(row, weights=disc_l, minlength=n)
    disc_l[last] = np.round(disc_l[last] + (disc[row[last]] - alloc[row[last]]), 2)
    paid_l = np.round(gross_l - disc_l, 2)
    paid_l[closed[row]] = 0.0
    paid = np.round(np.bincount(row, weights=paid_l, minlength=n), 2)
    refund = np.where(status == "refunded", paid, 0.0)
    delay = np.where(online, rng.integers(5, 600, n), 0)
    paid_at = orders["ordered_at"] + pd.to_timedelta(delay, "s")
    paid_at = paid_at.where(~closed, pd.NaT)
    orders = orders.assign(
        gross=gross,
        discount=disc,
        paid=paid,
        refund=refund,
        status=status,
        paid_at=paid_at,
        n_items=np.bincount(row, minlength=n),
    )
    lines = lines.assign(gross=gross_l, discount=disc_l, paid=paid_l)
    return orders, lines
