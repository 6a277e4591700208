"""Prices and basket contents: which SKUs each order holds, moved by price through elasticities.

Expected lines of SKU ``k`` in an order with basket size ``mu`` on day ``d`` are
``mu * w_k * (price[d, k] / list_price_k) ** elasticity_k`` (exact: the number of lines is
``1 + Poisson(mu * Z_d - 1)`` with ``Z_d`` the day's total price attractiveness, and lines pick
SKUs with probability proportional to ``w_k * (p/p0) ** e``). Quantity per line is
``1 + Poisson(0.35)``, independent of price.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from luopan.demo.calendar import Calendar

LINE_VALUE = 26.0  # yuan per line on average: basket size mu = spend / LINE_VALUE
QTY_EXTRA = 0.35
AFFINITY_SEGMENT = {"acquisition_channel": "小红书"}
AFFINITY_CATEGORY = "烘焙"
AFFINITY_MULTIPLIER = 3.0


@dataclass(frozen=True)
class PricePlan:
    price: np.ndarray  # day (export window) x sku
    promo: np.ndarray  # bool, same shape
    promotions: list[dict]  # sku, start, end, discount
    price_changes: list[dict]


def plan_prices(rng: np.random.Generator, products: pd.DataFrame, cal: Calendar) -> PricePlan:
    """Daily national price of every SKU: list price, permanent changes, promotions, noise."""
    n_days = (cal.end - cal.start).days + 1
    n = len(products)
    p0 = products["list_price"].to_numpy()
    level = np.ones((n_days, n))
    changes: list[dict] = []
    n_changes = rng.integers(0, 3, n)
    for k in np.flatnonzero(n_changes).tolist():
        for _ in range(int(n_changes[k])):
            d = int(rng.integers(30, max(n_days - 10, 31)))
            f = float(rng.choice([0.88, 0.92, 0.95, 1.05, 1.08, 1.12]))
            level[d:, k] *= f
            changes.append({"sku": products["sku"].iat[k], "date": cal.start + _td(d), "factor": f})
    disc = np.zeros((n_days, n))
    promos: list[dict] = []
    n_promo = rng.poisson(n_days / 55.0, n)
    for k in range(n):
        for _ in range(int(n_promo[k])):
            d = int(rng.integers(0, n_days))
            length = int(rng.integers(3, 11))
            x = float(np.round(rng.uniform(0.1, 0.35), 2))
            disc[d : d + length, k] = np.maximum(disc[d : d + length, k], x)
            promos.append(
                {
                    "sku": products["sku"].iat[k],
                    "start": cal.start + _td(d),
                    "end": cal.start + _td(min(d + length, n_days) - 1),
                    "discount": x,
                }
            )
    for fest in cal.festivals:
        if fest.name in ("年货节", "618大促", "双11大促", "双12"):
            a = max((fest.start - cal.start).days, 0)
            b = min((fest.end - cal.start).days, n_days - 1)
            if b < a:
                continue
            chosen = rng.random(n) < 0.3
            disc[a : b + 1, chosen] = np.maximum(disc[a : b + 1, chosen], 0.15)
    fresh = products["category"].isin(["蔬菜", "水果", "水产"]).to_numpy()
    weeks = n_days // 7 + 1
    noise = np.exp(rng.normal(0, 0.04, (weeks, n)))
    noise[:, ~fresh] = 1.0
    noise = np.repeat(noise, 7, axis=0)[:n_days]
    price = np.round(p0 * level * (1 - disc) * noise, 1)
    price = np.maximum(price, 0.5)
    return PricePlan(price, disc > 0, promos, changes)


def _td(days: int):
    from datetime import timedelta

    return timedelta(days=int(days))


def category_multipliers(products: pd.DataFrame, affinity: bool) -> np.ndarray:
    m = np.ones(len(products))
    if affinity:
        m[(products["category"] == AFFINITY_CATEGORY).to_numpy()] = AFFINITY_MULTIPLIER
    return m


def build_lines(
    rng: np.random.Generator,
    orders: pd.DataFrame,
    products: pd.DataFrame,
    prices: PricePlan,
    day0: int,
    affinity_mask: np.ndarray,
) -> pd.DataFrame:
    """Lines for ``orders`` (already restricted to some days): order row, sku index, qty, price.

    ``day0`` is the calendar index of the first exported day; ``affinity_mask`` flags orders of
    the category-affinity segment.
    """
    w = products["weight"].to_numpy()
    e = products["elasticity"].to_numpy()
    p0 = products["list_price"].to_numpy()
    days = orders["day"].to_numpy() - day0
    uniq = np.unique(days)
    rel = (prices.price[uniq] / p0) ** e  # day x sku
    out_row, out_sku = [], []
    for aff in (False, True):
        sel = np.flatnonzero(affinity_mask == aff)
        if sel.size == 0:
            continue
        wk = w * category_multipliers(products, aff)
        wk = wk / wk.sum()
        attract = rel * wk  # day x sku
        z = attract.sum(1)
        cdf = np.cumsum(attract / z[:, None], axis=1)
        cdf[:, -1] = 1.0
        di = np.searchsorted(uniq, days[sel])
        mu = orders["spend"].to_numpy()[sel] / LINE_VALUE
        n_lines = 1 + rng.poisson(np.maximum(mu * z[di] - 1.0, 0.0))
        rows = np.repeat(sel, n_lines)
        drow = np.repeat(di, n_lines)
        flat = (cdf + np.arange(uniq.size)[:, None]).ravel()
        u = rng.random(rows.size) + drow
        sku = np.minimum(np.searchsorted(flat, u, side="right") - drow * len(w), len(w) - 1)
        out_row.append(rows)
        out_sku.append(sku)
    row = np.concatenate(out_row)
    sku = np.concatenate(out_sku)
    # one line per (order, sku): merge repeats into the quantity
    key = row.astype(np.int64) * len(w) + sku
    key, counts = np.unique(key, return_counts=True)
    row, sku = key // len(w), key % len(w)
    qty = counts + rng.poisson(QTY_EXTRA, key.size)
    unit = prices.price[orders["day"].to_numpy()[row] - day0, sku]
    return pd.DataFrame({"row": row, "sku": sku, "qty": qty.astype(np.int64), "unit": unit})
