"""Candidate prices per item: the bounds every rule allows, then the prices with allowed endings.

A price ending rule (…9, …8) applies to the last digit at the item's price scale: 0.1 yuan for
prices under 100, 1 yuan from 100, 10 yuan from 1,000 (so 12.9, 12.8, 239, 1,998), never finer
than ``price_unit``. The current price is always a candidate when the bounds allow it, so
"no change" is always possible.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Bounds", "candidate_grid", "price_bounds", "price_scale"]


@dataclass(frozen=True)
class Bounds:
    lower: np.ndarray
    upper: np.ndarray


def price_bounds(
    current: np.ndarray,
    cost: np.ndarray,
    *,
    min_price: np.ndarray,
    max_price: np.ndarray,
    competitor: np.ndarray,
    max_step: float,
    min_margin: float,
    max_above_competitor: float,
    max_below_competitor: float,
) -> Bounds:
    """Intersect every rule into one interval per item (NaN rule values are ignored)."""
    lo = np.fmax(np.nan_to_num(min_price, nan=0.0), current * (1 - max_step))
    hi = np.fmin(np.nan_to_num(max_price, nan=np.inf), current * (1 + max_step))
    floor = cost / (1 - min_margin) if min_margin < 1 else np.full_like(cost, np.inf)
    lo = np.fmax(lo, np.nan_to_num(floor, nan=0.0))
    has_comp = np.isfinite(competitor)
    lo = np.where(has_comp, np.fmax(lo, competitor * (1 - max_below_competitor)), lo)
    hi = np.where(has_comp, np.fmin(hi, competitor * (1 + max_above_competitor)), hi)
    return Bounds(lo, hi)


def price_scale(current: np.ndarray, price_unit: float) -> np.ndarray:
    """The unit of the last price digit for each item."""
    mag = np.floor(np.log10(np.maximum(current, 1e-9))) - 2
    return np.maximum(10.0**mag, price_unit)


def candidate_grid(
    current: np.ndarray,
    bounds: Bounds,
    *,
    endings: tuple[int, ...] | None,
    price_unit: float = 0.1,
    steps: int = 41,
    max_decades: int = 60,
) -> np.ndarray:
    """Candidate prices, shape (items, k), NaN-padded; every finite entry is inside the bounds.

    Args:
        endings: allowed last digits (e.g. ``(9, 8)``), or None for any multiple of the unit.
        steps: grid size without an ending rule.
        max_decades: cap on ending decades per item (wider ranges take every n-th decade).
    """
    lo, hi = bounds.lower, bounds.upper
    n = current.size
    unit = price_scale(current, price_unit)
    eps = 1e-9 * np.maximum(current, 1.0)
    if endings:
        dec = 10 * unit
        first = np.floor(lo / dec)
        count = np.floor(hi / dec) - first + 1
        count = np.where(np.isfinite(count) & (count > 0), count, 0)
        stride = np.maximum(np.ceil(count / max_decades), 1)
        k = np.arange(max_decades)[None, :, None]
        d = np.asarray(sorted(endings), dtype=np.float64)[None, None, :]
        grid = ((first[:, None, None] + k * stride[:, None, None]) * 10 + d) * unit[:, None, None]
        grid = grid.reshape(n, -1)
    else:
        t = np.linspace(0, 1, steps)[None, :]
        grid = lo[:, None] + (hi - lo)[:, None] * t
        grid = np.round(grid / unit[:, None]) * unit[:, None]
    grid = np.round(grid, 6)
    grid = np.concatenate([grid, current[:, None]], axis=1)
    inside = (grid >= lo[:, None] - eps[:, None]) & (grid <= hi[:, None] + eps[:, None])
    inside &= np.isfinite(grid) & (grid > 0)
    return np.where(inside, grid, np.nan)
