"""Price suggestions per item (SKU × store or channel) under business rules.

For every item the expected objective of each candidate price (:mod:`.candidates`) is computed
exactly under the elasticity's normal posterior: with ``x = log(p / p0)`` and ``e ~ N(m, s²)``,
``E[units] = b·E[exp(e·x)] = b·exp(m·x + s²x²/2)`` (the log-normal mean), so an uncertain
elasticity is priced cautiously. Gross profit is ``(p − cost)·units``; revenue is ``p·units``
with the margin floor as a bound. The best candidate is taken per item (grid search is exact
on the allowed prices), and items of one good/better/best ladder are chosen jointly by dynamic
programming over the tiers so each tier is at least ``ladder_gap`` dearer than the one below.
Effects come with intervals from elasticity draws and Poisson demand noise.

References:
    Phillips, R.L. (2021). Pricing and Revenue Optimization, 2nd ed., ch. 3-5 (constant
    elasticity price response, optimal price p* = c·e/(1+e), price ladders). Stanford Univ. Press.
    Bijmolt, van Heerde & Pieters (2005), JMR 42(2) (mean elasticity −2.62).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from luopan.engines.pricing.candidates import candidate_grid, price_bounds
from luopan.errors import DataContractError

__all__ = ["PriceRules", "PriceSuggestions", "expected_units", "suggest_prices"]

Objective = Literal["profit", "revenue"]
NEED = ("item_id", "current_price", "unit_cost", "base_units", "elasticity", "elasticity_se")


@dataclass(frozen=True)
class PriceRules:
    """Business rules every suggested price obeys.

    Attributes:
        max_step: largest relative change from the current price per step (0.10 = ±10%).
        endings: allowed last digits of a changed price (None: any multiple of the unit).
        price_unit: smallest price unit (0.1 = 1 角).
        min_margin: gross-margin floor (price ≥ cost / (1 − min_margin)).
        max_above_competitor / max_below_competitor: band around a given competitor price.
        ladder_gap: each ladder tier at least this much dearer than the tier below.
    """

    max_step: float = 0.10
    endings: tuple[int, ...] | None = (9, 8)
    price_unit: float = 0.1
    min_margin: float = 0.0
    max_above_competitor: float = 0.05
    max_below_competitor: float = 0.20
    ladder_gap: float = 0.05


@dataclass(frozen=True)
class PriceSuggestions:
    """One row per item: the suggestion, its bounds, status and expected effect."""

    table: pd.DataFrame
    objective: str
    level: float

    def summary(self) -> dict[str, float | int]:
        t = self.table
        cur = float(t["profit_current"].sum())
        new = float(t["profit"].sum())
        return {
            "items": len(t),
            "changed": int((t["price"] != t["current_price"]).sum()),
            "infeasible": int((t["status"] == "infeasible").sum()),
            "profit_current": cur,
            "profit": new,
            "profit_change": (new - cur) / cur if cur else float("nan"),
            "revenue_change": float(t["revenue"].sum() / t["revenue_current"].sum() - 1),
        }

    def to_table(self) -> pd.DataFrame:
        return self.table.copy()


def expected_units(
    base: np.ndarray | float, ratio: np.ndarray, e: np.ndarray, s: np.ndarray
) -> np.ndarray:
    """E[b·ratio**e] for e ~ N(m, s²) (broadcasting)."""
    x = np.log(ratio)
    return base * np.exp(e * x + 0.5 * s**2 * x**2)


def _value(p, cur, cost, base, e, s, objective: Objective):
    units = expected_units(base, p / cur, e, s)
    return (p - cost) * units if objective == "profit" else p * units


def _ladder_choice(values: np.ndarray, prices: np.ndarray, gap: float) -> np.ndarray | None:
    """Indices of the best candidate per tier with p[k] ≥ p[k−1]·(1+gap); None if infeasible."""
    k, g = values.shape
    best = np.where(np.isfinite(prices[0]), values[0], -np.inf)
    back = []
    for t in range(1, k):
        ok = prices[t][:, None] >= prices[t - 1][None, :] * (1 + gap) - 1e-9
        ok &= np.isfinite(prices[t])[:, None] & np.isfinite(prices[t - 1])[None, :]
        cand = np.where(ok, best[None, :], -np.inf)
        arg = cand.argmax(1)
        prev = cand[np.arange(g), arg]
        best = np.where(np.isfinite(prev), values[t] + prev, -np.inf)
        back.append(arg)
    if not np.isfinite(best.max()):
        return None
    idx = [int(best.argmax())]
    for arg in reversed(back):
        idx.append(int(arg[idx[-1]]))
    return np.asarray(idx[::-1])


def suggest_prices(
    items: pd.DataFrame,
    *,
    rules: PriceRules | None = None,
    objective: Objective = "profit",
    horizon: float = 28.0,
    level: float = 0.90,
    draws: int = 400,
    seed: int = 0,
) -> PriceSuggestions:
    """Suggest a price per item.

    Args:
        items: ``item_id, current_price, unit_cost, base_units`` (expected units per period at
            the current price), ``elasticity, elasticity_se`` (NaN: the item keeps its price),
            optional ``min_price, max_price, competitor_price`` and ``ladder, tier`` (items of one
            ladder ordered by ascending tier).
        rules: :class:`PriceRules`.
        objective: ``profit`` (gross profit) or ``revenue`` (under the margin floor).
        horizon: periods the effect is summed over.
        level, draws, seed: intervals of the effects.

    Raises:
        DataContractError: a required column is missing.
    """
    rules = rules or PriceRules()
    missing = [c for c in NEED if c not in items.columns]
    if missing:
        raise DataContractError(
            f"price items are missing column(s) {missing}",
            fix=f"give {', '.join(NEED)} per item",
        )
    df = items.reset_index(drop=True)
    cur = df["current_price"].to_numpy(np.float64)
    cost = df["unit_cost"].to_numpy(np.float64)
    base = np.nan_to_num(df["base_units"].to_numpy(np.float64))
    e = df["elasticity"].to_numpy(np.float64)
    s = np.nan_to_num(df["elasticity_se"].to_numpy(np.float64))

    def col(name: str) -> np.ndarray:
        return df[name].to_numpy(np.float64) if name in df else np.full(len(df), np.nan)

    bounds = price_bounds(
        cur,
        cost,
        min_price=col("min_price"),
        max_price=col("max_price"),
        competitor=col("competitor_price"),
        max_step=rules.max_step,
        min_margin=rules.min_margin,
        max_above_competitor=rules.max_above_competitor,
        max_below_competitor=rules.max_below_competitor,
    )
    grid = candidate_grid(cur, bounds, endings=rules.endings, price_unit=rules.price_unit)
    known = np.isfinite(e)
    grid[~known, :-1] = np.nan  # without an elasticity only "no change" is on the table
    val = _value(
        grid, cur[:, None], cost[:, None], base[:, None], e[:, None], s[:, None], objective
    )
    val = np.where(np.isfinite(grid) & np.isfinite(val), val, -np.inf)
    val[~known, -1] = np.where(np.isfinite(grid[~known, -1]), 0.0, -np.inf)
    feasible = np.isfinite(grid).any(1)
    choice = np.where(feasible, val.argmax(1), grid.shape[1] - 1)
    status = np.where(known, "ok", "kept_no_elasticity").astype(object)
    if "ladder" in df and "tier" in df:
        lad = df["ladder"]
        for _, sub in df[lad.notna()].groupby(lad[lad.notna()], sort=False):
            rows = sub.sort_values("tier").index.to_numpy()
            pick = _ladder_choice(val[rows], grid[rows], rules.ladder_gap)
            if pick is None:
                feasible[rows] = False
            else:
                choice[rows] = pick
    price = grid[np.arange(len(df)), choice]
    bad = ~feasible | ~np.isfinite(price)
    status[bad] = "infeasible"
    price = np.where(bad, cur, price)
    out = df[[c for c in df.columns if c in ("item_id", "sku", "store_id", "channel")]].copy()
    out["current_price"] = cur
    out["price"] = price
    out["change"] = price / cur - 1
    out["lower_bound"] = bounds.lower
    out["upper_bound"] = bounds.upper
    out["status"] = status
    out = pd.concat(
        [out, _effects(cur, price, cost, base, e, s, horizon, level, draws, seed)], axis=1
    )
    return PriceSuggestions(out, objective, level)


def _effects(cur, price, cost, base, e, s, horizon, level, draws, seed) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ee = np.where(np.isfinite(e), e, 0.0)
    ed = ee[:, None] + s[:, None] * rng.standard_normal((cur.size, draws))
    lam0 = base * horizon
    lam = lam0[:, None] * (price / cur)[:, None] ** ed
    u = rng.poisson(np.minimum(lam, 1e9))
    q = ((1 - level) / 2, (1 + level) / 2)
    units = lam0 * expected_units(1.0, price / cur, ee, s)
    d_profit = (price - cost)[:, None] * lam - ((cur - cost) * lam0)[:, None]
    return pd.DataFrame(
        {
            "units_current": lam0,
            "units": units,
            "units_lower": np.quantile(u, q[0], axis=1),
            "units_upper": np.quantile(u, q[1], axis=1),
            "revenue_current": cur * lam0,
            "revenue": price * units,
            "revenue_lower": price * np.quantile(u, q[0], axis=1),
            "revenue_upper": price * np.quantile(u, q[1], axis=1),
            "profit_current": (cur - cost) * lam0,
            "profit": (price - cost) * units,
            "profit_lower": (price - cost) * np.quantile(u, q[0], axis=1),
            "profit_upper": (price - cost) * np.quantile(u, q[1], axis=1),
            "profit_change": (price - cost) * units - (cur - cost) * lam0,
            "profit_change_lower": np.quantile(d_profit, q[0], axis=1),
            "profit_change_upper": np.quantile(d_profit, q[1], axis=1),
        }
    )
