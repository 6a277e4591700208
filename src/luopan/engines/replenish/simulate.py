"""Day-by-day simulation of a perishable periodic-review system, vectorized over series.

Each day: the order placed ``lead_time`` days ago arrives fresh; customers take stock FIFO
(oldest first, the store rotates) or LIFO (freshest first, shoppers pick); unmet demand is lost;
units reaching the end of their shelf life are wasted; on review days an order brings the
*usable* inventory position (stock that will still be sellable when the order lands, plus the
pipeline) up to the day's order-up-to level. Written by hand: no maintained Python library
simulates age-tracked perishable stock for thousands of series at once.

References:
    Nahmias, S. (1982). Perishable inventory theory: a review. Operations Research 30.
    Broekmeulen, R. & van Donselaar, K. (2009). A heuristic to manage perishable inventory with
    batch ordering, positive lead-times, and time-varying demand. Computers & OR 36.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from luopan.engines.replenish.policies import order_quantity
from luopan.errors import EngineError

__all__ = ["SimulationResult", "simulate"]


@dataclass(frozen=True)
class SimulationResult:
    """KPIs of one simulated run (definitions fixed project-wide).

    fill_rate = units sold / units demanded; stockout_rate = share of series-days with unmet
    demand; waste_rate = expired units / units sold; days_of_inventory = mean end-of-day on hand /
    mean daily sales; holding_cost and waste_cost in money when unit costs are given.
    """

    fill_rate: float
    stockout_rate: float
    waste_rate: float
    days_of_inventory: float
    demand: float
    sold: float
    wasted: float
    ordered: float
    holding_cost: float
    waste_cost: float

    def summary(self) -> dict[str, float]:
        return dict(self.__dict__)


def simulate(
    demand: ArrayLike,
    order_up_to: ArrayLike,
    *,
    shelf_life: int,
    lead_time: int = 1,
    review_period: int = 1,
    issuing: Literal["fifo", "lifo"] = "fifo",
    initial_stock: ArrayLike | None = None,
    moq: ArrayLike = 0.0,
    pack_size: ArrayLike = 0.0,
    unit_cost: ArrayLike = 1.0,
    holding_rate: float = 0.001,
) -> SimulationResult:
    """Simulate ``demand`` (series × days) under order-up-to levels (series × days).

    Args:
        demand: demand per series and day (≥ 0).
        order_up_to: the order-up-to level S per series and day (used on review days).
        shelf_life: days a unit can be sold after arrival (≥ 1).
        lead_time: days between order and arrival (≥ 0; 0 = arrives the same morning).
        review_period: order every this many days.
        issuing: ``fifo`` or ``lifo``.
        initial_stock: fresh stock at the start per series (default: first day's S).
        moq, pack_size: order rounding (see ``order_quantity``).
        unit_cost: per series, for waste and holding cost; holding_rate per unit-day of value.

    Returns:
        SimulationResult with the pooled KPIs.
    """
    d = np.asarray(demand, dtype=float)
    s_levels = np.broadcast_to(np.asarray(order_up_to, dtype=float), d.shape)
    if d.ndim != 2 or shelf_life < 1 or lead_time < 0 or review_period < 1:
        raise EngineError(
            "simulate needs 2-D demand, shelf_life ≥ 1, lead_time ≥ 0, review_period ≥ 1",
            fix="pass arrays shaped (series, days) and positive horizons",
        )
    if issuing not in ("fifo", "lifo"):
        raise EngineError(f"issuing {issuing!r} is not fifo or lifo", fix="use 'fifo' or 'lifo'")
    n, days = d.shape
    # stock[:, k] = units with k+1 days of life left (k = 0 expires tonight)
    stock = np.zeros((n, shelf_life))
    start = s_levels[:, 0] if initial_stock is None else np.asarray(initial_stock, dtype=float)
    stock[:, -1] = np.broadcast_to(start, (n,))
    pipeline = np.zeros((n, lead_time + 1))
    cost = np.broadcast_to(np.asarray(unit_cost, dtype=float), (n,))
    sold = wasted = ordered = onhand_sum = holding = waste_cost = 0.0
    short_days = 0
    order_cols = range(shelf_life) if issuing == "fifo" else range(shelf_life - 1, -1, -1)
    for t in range(days):
        if t % review_period == 0:
            usable = stock[:, lead_time:].sum(axis=1) if lead_time < shelf_life else np.zeros(n)
            ip = usable + pipeline[:, 1:].sum(axis=1) + pipeline[:, 0]
            q = order_quantity(s_levels[:, t], ip, moq=moq, pack_size=pack_size)
            pipeline[:, lead_time] += q
            ordered += float(q.sum())
        stock[:, -1] += pipeline[:, 0]
        pipeline = np.concatenate([pipeline[:, 1:], np.zeros((n, 1))], axis=1)
        need = d[:, t].copy()
        for k in order_cols:
            take = np.minimum(stock[:, k], need)
            stock[:, k] -= take
            need -= take
        sold += float(d[:, t].sum() - need.sum())
        short_days += int((need > 1e-9).sum())
        expired = stock[:, 0]
        wasted += float(expired.sum())
        waste_cost += float((expired * cost).sum())
        stock = np.concatenate([stock[:, 1:], np.zeros((n, 1))], axis=1)
        end = stock.sum(axis=1)
        onhand_sum += float(end.sum())
        holding += float((end * cost).sum()) * holding_rate
    total = float(d.sum())
    mean_sales = sold / days if days else 0.0
    return SimulationResult(
        fill_rate=sold / total if total else 1.0,
        stockout_rate=short_days / (n * days) if n * days else 0.0,
        waste_rate=wasted / sold if sold else float("inf"),
        days_of_inventory=(onhand_sum / days) / mean_sales if mean_sales else float("inf"),
        demand=total,
        sold=sold,
        wasted=wasted,
        ordered=ordered,
        holding_cost=holding,
        waste_cost=waste_cost,
    )
