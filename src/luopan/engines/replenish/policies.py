"""Replenishment policies: periodic-review order-up-to and the newsvendor for perishables.

References:
    Silver, Pyke & Thomas (2017). Inventory and Production Management in Supply Chains, 4th ed.,
    ch. 6 (periodic review, order-up-to level over the protection interval L + R).
    Arrow, Harris & Marschak (1951); Porteus, E. (2002). Foundations of Stochastic Inventory
    Theory, ch. 1 (newsvendor critical ratio cu / (cu + co)).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from luopan.errors import EngineError

__all__ = ["critical_ratio", "order_quantity", "quantile_at", "protection_quantile"]


def critical_ratio(
    price: ArrayLike, cost: ArrayLike, salvage: ArrayLike = 0.0
) -> NDArray[np.float64]:
    """Newsvendor critical ratio cu / (cu + co), cu = price − cost, co = cost − salvage.

    Raises:
        EngineError: unless salvage ≤ cost ≤ price.
    """
    p, c, s = (np.asarray(v, dtype=float) for v in (price, cost, salvage))
    if np.any(c > p) or np.any(s > c) or np.any(c < 0):
        raise EngineError(
            "newsvendor needs 0 ≤ salvage ≤ cost ≤ price",
            fix="check unit_cost, list_price and salvage value",
        )
    cu, co = p - c, c - s
    total = cu + co
    return np.where(total > 0, cu / np.where(total > 0, total, 1.0), 0.5)


def quantile_at(levels: ArrayLike, values: ArrayLike, tau: ArrayLike) -> NDArray[np.float64]:
    """Interpolate quantile values (last axis = ``levels``, ascending) at probability ``tau``.

    Values are first made non-decreasing along the last axis, so the result is non-decreasing in
    ``tau``; ``tau`` outside the given levels is clamped to the extreme quantiles.
    """
    lv = np.asarray(levels, dtype=float)
    v = np.maximum.accumulate(np.asarray(values, dtype=float), axis=-1)
    t = np.clip(np.asarray(tau, dtype=float), lv[0], lv[-1])
    idx = np.clip(np.searchsorted(lv, t, side="right") - 1, 0, len(lv) - 2)
    w = (t - lv[idx]) / (lv[idx + 1] - lv[idx])
    lo = np.take_along_axis(v, np.broadcast_to(idx, v.shape[:-1])[..., None], axis=-1)[..., 0]
    hi = np.take_along_axis(v, np.broadcast_to(idx + 1, v.shape[:-1])[..., None], axis=-1)[..., 0]
    return np.asarray(lo + w * (hi - lo), dtype=float)


def protection_quantile(
    daily_mean: ArrayLike, daily_quantile: ArrayLike, *, correlated: bool = False
) -> NDArray[np.float64]:
    """Demand quantile over a protection interval from daily means and daily quantiles.

    The last axis holds the L + R days. Safety stock per day is ``quantile − mean``; days are
    combined as independent (square root of the sum of squares) or fully correlated (sum).
    """
    m = np.asarray(daily_mean, dtype=float)
    q = np.asarray(daily_quantile, dtype=float)
    excess = q - m
    if correlated:
        safety = excess.sum(axis=-1)
    else:
        safety = np.sign(excess.sum(axis=-1)) * np.sqrt((excess**2).sum(axis=-1))
    return np.asarray(np.maximum(m.sum(axis=-1) + safety, 0.0), dtype=float)


def order_quantity(
    order_up_to: ArrayLike,
    inventory_position: ArrayLike,
    *,
    moq: ArrayLike = 0.0,
    pack_size: ArrayLike = 0.0,
    capacity: ArrayLike = np.inf,
) -> NDArray[np.float64]:
    """Units to order: max(0, S − IP), rounded up to whole packs, at least the MOQ when ordering.

    ``capacity`` caps S (shelf space); the inventory position should count only stock still
    sellable when the order arrives (see ``simulate``). The result is ≥ 0 and non-decreasing in S.
    """
    s = np.minimum(np.asarray(order_up_to, dtype=float), np.asarray(capacity, dtype=float))
    need = np.maximum(s - np.asarray(inventory_position, dtype=float), 0.0)
    pack = np.asarray(pack_size, dtype=float)
    rounded = np.where(pack > 0, np.ceil(need / np.where(pack > 0, pack, 1.0) - 1e-9) * pack, need)
    moq_a = np.asarray(moq, dtype=float)
    return np.asarray(np.where(rounded > 0, np.maximum(rounded, moq_a), 0.0), dtype=float)
