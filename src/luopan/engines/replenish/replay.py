"""Replay a store network's demand under an order-up-to policy, one shelf life per series.

Like ``simulate`` but for a whole assortment at once, with the timing of a store's day: at the
opening, units past their shelf life are wasted and the orders placed ``lead_time`` days earlier
arrive; customers take the oldest stock first (FIFO) and demand beyond stock is lost; at the end
of a review day (every ``review_period`` days from ``review_offset``, per series) an order brings
the inventory position up to the day's level, in whole packs. The position counts either all
stock on hand (``position="all"``, as many store systems do) or only the units still sellable
when the order lands (``"usable"``). Series whose shelf life outlasts the replay never spoil.
Written by hand for the same reason as ``simulate``: no maintained library replays age-tracked
perishable stock for thousands of series with per-series shelf lives and review cycles.

References:
    Nahmias, S. (1982). Perishable inventory theory: a review. Operations Research 30.
    Broekmeulen, R. & van Donselaar, K. (2009). A heuristic to manage perishable inventory with
    batch ordering, positive lead-times, and time-varying demand. Computers & OR 36.
    Silver, Pyke & Thomas (2017). Inventory and Production Management in Supply Chains, ch. 6.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from luopan.engines.replenish.policies import order_quantity
from luopan.engines.replenish.simulate import SimulationResult
from luopan.errors import EngineError

__all__ = ["replay"]


def replay(
    demand: ArrayLike,
    order_up_to: ArrayLike,
    *,
    shelf_life: ArrayLike,
    review_period: ArrayLike = 1,
    review_offset: ArrayLike = 0,
    lead_time: int = 1,
    position: Literal["all", "usable"] = "usable",
    pack_size: float = 1.0,
    initial_stock: ArrayLike | None = None,
    warmup: int = 0,
    unit_cost: ArrayLike = 1.0,
    holding_rate: float = 0.001,
) -> SimulationResult:
    """Replay ``demand`` (series × days) under order-up-to levels (series × days).

    Args:
        demand: units demanded per series and day (≥ 0).
        order_up_to: level S per series and day, used at the end of review days.
        shelf_life: days a unit can be sold from the day it arrives, per series (≥ 1).
        review_period, review_offset: per series; day t is a review day when
            (t + offset) % period == 0.
        lead_time: days from order (end of day t) to arrival (opening of day t + lead_time), ≥ 1.
        position: ``all`` counts every unit on hand, ``usable`` only units sellable at arrival.
        pack_size: orders are rounded up to whole packs (0 = fractional units).
        initial_stock: fresh units on hand at the first opening (default: first day's S).
        warmup: leading days simulated but left out of the KPIs.
        unit_cost, holding_rate: for waste and holding cost.

    Returns:
        SimulationResult with the KPIs pooled over series and the days after ``warmup``.
    """
    d = np.asarray(demand, dtype=float)
    if d.ndim != 2:
        raise EngineError("replay needs demand shaped (series, days)", fix="pass a 2-D array")
    n, days = d.shape
    s_levels = np.broadcast_to(np.asarray(order_up_to, dtype=float), d.shape)
    shelf = np.broadcast_to(np.asarray(shelf_life, dtype=np.int64), (n,))
    review = np.broadcast_to(np.asarray(review_period, dtype=np.int64), (n,))
    offset = np.broadcast_to(np.asarray(review_offset, dtype=np.int64), (n,))
    if (shelf < 1).any() or (review < 1).any() or lead_time < 1 or not 0 <= warmup < days:
        raise EngineError(
            "replay needs shelf_life ≥ 1, review_period ≥ 1, lead_time ≥ 1, 0 ≤ warmup < days",
            fix="check the product master and the replay window",
        )
    if position not in ("all", "usable"):
        raise EngineError(
            f"position {position!r} is not all or usable", fix="use 'all' or 'usable'"
        )
    # stock[:, k]: units sellable today and k more days (column 0 expires tonight)
    spoils = shelf <= days
    width = int(shelf[spoils].max()) if spoils.any() else 1
    fresh_col = np.minimum(shelf, width) - 1
    rows = np.arange(n)
    stock = np.zeros((n, width))
    start = s_levels[:, 0] if initial_stock is None else np.asarray(initial_stock, dtype=float)
    stock[rows, fresh_col] = np.broadcast_to(start, (n,))
    pipeline = np.zeros((n, lead_time))
    cost = np.broadcast_to(np.asarray(unit_cost, dtype=float), (n,))
    demand_sum = sold = wasted = ordered = onhand_sum = holding = waste_cost = 0.0
    short_days = 0
    for t in range(days):
        counted = t >= warmup
        stock[rows, fresh_col] += pipeline[:, 0]
        pipeline = np.concatenate([pipeline[:, 1:], np.zeros((n, 1))], axis=1)
        cum = np.cumsum(stock, axis=1)
        served = np.minimum(d[:, t], cum[:, -1])
        stock = np.clip(
            stock - np.clip(np.minimum(cum, served[:, None]) - (cum - stock), 0, None), 0, None
        )
        due = (t + offset) % review == 0
        if due.any():
            on_hand = (
                stock[:, lead_time:].sum(axis=1) if position == "usable" else stock.sum(axis=1)
            )
            ip = on_hand + pipeline.sum(axis=1)
            q = np.where(due, order_quantity(s_levels[:, t], ip, pack_size=pack_size), 0.0)
            pipeline[:, -1] += q
            ordered += float(q.sum()) if counted else 0.0
        end = stock.sum(axis=1)  # end-of-day count, tonight's expiring units included
        expired = np.where(spoils, stock[:, 0], 0.0)
        keep = np.where(spoils, 0.0, stock[:, 0])
        stock = np.concatenate([stock[:, 1:], np.zeros((n, 1))], axis=1)
        stock[:, -1] += keep
        if counted:
            demand_sum += float(d[:, t].sum())
            sold += float(served.sum())
            short_days += int((d[:, t] - served > 1e-9).sum())
            wasted += float(expired.sum())
            waste_cost += float((expired * cost).sum())
            onhand_sum += float(end.sum())
            holding += float((end * cost).sum()) * holding_rate
    span = days - warmup
    mean_sales = sold / span
    return SimulationResult(
        fill_rate=sold / demand_sum if demand_sum else 1.0,
        stockout_rate=short_days / (n * span),
        waste_rate=wasted / sold if sold else float("inf"),
        days_of_inventory=(onhand_sum / span) / mean_sales if mean_sales else float("inf"),
        demand=demand_sum,
        sold=sold,
        wasted=wasted,
        ordered=ordered,
        holding_cost=holding,
        waste_cost=waste_cost,
    )
