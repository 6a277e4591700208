"""Markdown schedules for perishable stock nearing expiry, and the FIFO age of stock on hand.

For each item (store × SKU lot) with ``on_hand`` units that expire after ``days_left`` days,
every non-decreasing discount schedule over those days (from ``levels``) is evaluated exactly:
daily demand is Poisson with mean ``base_units·(1 − d)^e`` (constant elasticity in the
discount), sales are ``min(stock, demand)``, and the distribution of the remaining stock is
propagated day by day. The schedule maximising expected recovered revenue minus ``waste_cost``
per expired unit is chosen (an open-loop policy; markdowns are not taken back). Exhaustive
enumeration is exact and small: 5 levels over 7 days are 330 schedules.

References:
    Atan, Z., Honhon, D. & Pan, W. (2024). Inventory and markdown management for perishables:
    display, discounting and waste. Management Science (simulation of expiry markdowns).
    Gallego, G. & van Ryzin, G. (1994). Optimal dynamic pricing of inventories with stochastic
    demand over finite horizons. Management Science 40(8), 999-1020.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations_with_replacement

import numpy as np
import pandas as pd
from scipy import stats

from luopan.errors import DataContractError

__all__ = ["MarkdownPlan", "markdown_schedule", "stock_lots"]

NEED = ("item_id", "on_hand", "days_left", "price", "base_units", "elasticity")


@dataclass(frozen=True)
class MarkdownPlan:
    """One row per item: the schedule (discount per day) and its value vs no markdown."""

    table: pd.DataFrame

    def summary(self) -> dict[str, float]:
        t = self.table
        return {
            "items": len(t),
            "marked_down": int((t["discount_today"] > 0).sum()),
            "revenue": float(t["revenue"].sum()),
            "revenue_no_markdown": float(t["revenue_no_markdown"].sum()),
            "waste_units": float(t["waste_units"].sum()),
            "waste_units_no_markdown": float(t["waste_units_no_markdown"].sum()),
        }

    def to_table(self) -> pd.DataFrame:
        return self.table.copy()


def _transitions(lam: np.ndarray, s_max: int) -> tuple[np.ndarray, np.ndarray]:
    """Stock transition matrices T[item, s, r] and expected sales E[min(s, N)] per stock s."""
    s = np.arange(s_max + 1)
    diff = s[:, None] - s[None, :]  # s - r = units sold
    pmf = stats.poisson.pmf(np.maximum(diff, 0)[None], lam[:, None, None])
    t = np.where((diff >= 0)[None] & (s[None, None, :] >= 1), pmf, 0.0)
    t[:, :, 0] = stats.poisson.sf(s[None, :] - 1, lam[:, None])  # P(N ≥ s): sold out
    sf = stats.poisson.sf(s[None, :], lam[:, None])  # P(N > k)
    emin = np.concatenate([np.zeros((lam.size, 1)), np.cumsum(sf, axis=1)[:, :-1]], axis=1)
    return t, emin


def markdown_schedule(
    items: pd.DataFrame,
    *,
    levels: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3, 0.5),
    waste_cost: float = 0.0,
    max_days: int = 7,
    max_stock: int = 400,
) -> MarkdownPlan:
    """Best non-decreasing markdown schedule per item (see module docstring).

    Args:
        items: ``item_id, on_hand, days_left`` (days the stock can still be sold), ``price``,
            ``base_units`` (expected daily units at full price), ``elasticity`` (≤ 0), optional
            ``waste_cost`` per item (overrides the argument).
        levels: allowed discounts, the first one 0.
        waste_cost: cost per expired unit (disposal; the purchase cost is sunk).
        max_days: schedules longer than this keep the last day's discount.
        max_stock: stock above this is evaluated as this many units.

    Raises:
        DataContractError: a required column is missing or a level is outside [0, 1).
    """
    missing = [c for c in NEED if c not in items.columns]
    if missing:
        raise DataContractError(
            f"markdown items are missing column(s) {missing}", fix=f"give {', '.join(NEED)}"
        )
    if not levels or levels[0] != 0 or any(not 0 <= lv < 1 for lv in levels):
        raise DataContractError(
            f"markdown levels {levels} must start at 0 and lie in [0, 1)", fix="e.g. 0,0.1,0.3"
        )
    df = items.reset_index(drop=True)
    lv = np.asarray(levels, dtype=np.float64)
    days = np.clip(df["days_left"].to_numpy(np.int64), 1, max_days)
    stock = np.clip(np.nan_to_num(df["on_hand"].to_numpy(np.float64)), 0, max_stock).astype(int)
    wc = (
        df["waste_cost"].to_numpy(np.float64)
        if "waste_cost" in df
        else np.full(len(df), waste_cost)
    )
    out = []
    for d in np.unique(days):
        rows = np.flatnonzero(days == d)
        scheds = np.asarray(list(combinations_with_replacement(range(lv.size), int(d))))
        sub = df.iloc[rows]
        s_max = int(stock[rows].max())
        n = rows.size
        dist = np.zeros((n, len(scheds), s_max + 1))
        dist[np.arange(n), :, stock[rows]] = 1.0
        rev = np.zeros((n, len(scheds)))
        base = np.nan_to_num(sub["base_units"].to_numpy(np.float64))
        e = np.minimum(np.nan_to_num(sub["elasticity"].to_numpy(np.float64)), 0.0)
        price = sub["price"].to_numpy(np.float64)
        mats = [_transitions(base * (1 - lk) ** e, s_max) for lk in lv]
        for day in range(int(d)):
            for k in range(lv.size):
                sel = scheds[:, day] == k
                if not sel.any():
                    continue
                t, emin = mats[k]
                rev[:, sel] += (
                    price[:, None] * (1 - lv[k]) * np.einsum("nqs,ns->nq", dist[:, sel], emin)
                )
                dist[:, sel] = np.einsum("nqs,nsr->nqr", dist[:, sel], t)
        waste = dist @ np.arange(s_max + 1)
        value = rev - wc[rows, None] * waste
        best = value.argmax(1)
        pick = np.arange(n)
        for j, i in enumerate(rows):
            out.append(
                {
                    "row": i,
                    "schedule": [float(lv[k]) for k in scheds[best[j]]],
                    "discount_today": float(lv[scheds[best[j], 0]]),
                    "revenue": rev[j, best[j]],
                    "waste_units": waste[j, best[j]],
                    "value": value[j, best[j]],
                    "revenue_no_markdown": rev[j, 0],
                    "waste_units_no_markdown": waste[j, 0],
                    "value_no_markdown": value[j, 0],
                }
            )
        del pick
    res = pd.DataFrame(out).set_index("row").sort_index()
    keep = [c for c in ("item_id", "store_id", "sku", "on_hand", "days_left", "price") if c in df]
    return MarkdownPlan(pd.concat([df[keep], res], axis=1))


def stock_lots(
    on_hand: pd.DataFrame, receipts: pd.DataFrame, shelf_life: pd.Series, *, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Split stock on hand into lots by receipt date, FIFO (the newest receipts remain).

    Args:
        on_hand: ``store_id, sku, on_hand`` at the end of ``as_of``.
        receipts: ``store_id, sku, date, quantity`` of past receipts.
        shelf_life: ``sku`` → shelf life in days.

    Returns:
        ``store_id, sku, received, quantity, age_days, days_left`` (days_left ≥ 0 sellable
        days after ``as_of``); stock not explained by receipts is one lot of unknown age
        (received NaT, days_left = shelf life).
    """
    rc = receipts[receipts["date"] <= as_of].sort_values("date", ascending=False).copy()
    rc = rc.merge(on_hand[["store_id", "sku", "on_hand"]], on=["store_id", "sku"])
    rc["cum"] = rc.groupby(["store_id", "sku"])["quantity"].cumsum()
    rc["lot"] = np.clip(rc["on_hand"] - (rc["cum"] - rc["quantity"]), 0, rc["quantity"])
    lots = rc[rc["lot"] > 0]
    covered = lots.groupby(["store_id", "sku"])["lot"].sum()
    rest = on_hand.set_index(["store_id", "sku"])["on_hand"].sub(covered, fill_value=0)
    rest = rest[rest > 0].rename("lot").reset_index()
    rest["date"] = pd.NaT
    lots = pd.concat([lots[["store_id", "sku", "date", "lot"]], rest], ignore_index=True)
    life = shelf_life.rename(index=str).reindex(lots["sku"].astype(str)).to_numpy(np.float64)
    age = (as_of - pd.to_datetime(lots["date"])).dt.days.to_numpy(np.float64)
    left = np.where(np.isfinite(age), life - age, life)
    return pd.DataFrame(
        {
            "store_id": lots["store_id"].to_numpy(),
            "sku": lots["sku"].to_numpy(),
            "received": lots["date"].to_numpy(),
            "quantity": lots["lot"].to_numpy(),
            "age_days": age,
            "days_left": np.maximum(left, 0),
        }
    )
