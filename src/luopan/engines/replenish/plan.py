"""Purchase suggestions for one order date from forecasts and the current stock.

For each series the service level is either the given target or, when price, cost and salvage
are known (perishables), the newsvendor critical ratio. The order-up-to level is the demand
quantile over the protection interval L + R (see ``policies``); the inventory position counts
on-hand stock still sellable at arrival plus what is on order.

References:
    Silver, Pyke & Thomas (2017), ch. 6; Porteus (2002), ch. 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from luopan.engines.replenish.forecast import ForecastResult
from luopan.engines.replenish.policies import (
    critical_ratio,
    order_quantity,
    protection_quantile,
    quantile_at,
)
from luopan.errors import DataContractError, EngineError

__all__ = ["PurchasePlan", "plan_orders"]


@dataclass(frozen=True)
class PurchasePlan:
    """One row per series: ``unique_id, service_level, demand_mean, order_up_to, safety_stock,
    on_hand_usable, on_order, inventory_position, order_qty, reason`` (reason codes, not prose)."""

    orders: pd.DataFrame

    def to_table(self) -> pd.DataFrame:
        return self.orders.copy()

    def summary(self) -> dict[str, float]:
        o = self.orders
        return {
            "series": float(len(o)),
            "to_order": float((o["order_qty"] > 0).sum()),
            "units": float(o["order_qty"].sum()),
        }


def plan_orders(
    forecast: ForecastResult,
    stock: pd.DataFrame,
    *,
    start: pd.Timestamp | str | None = None,
    lead_time: int = 1,
    review_period: int = 1,
    service_level: float = 0.95,
    moq: float = 0.0,
    pack_size: float = 0.0,
) -> PurchasePlan:
    """Suggest order quantities for the protection interval starting at ``start``.

    Args:
        forecast: a ``ForecastResult`` covering at least L + R days from ``start``.
        stock: ``unique_id, on_hand`` and optional ``on_order``, ``expiring`` (on-hand units that
            will expire before the order arrives), ``price``, ``cost``, ``salvage``.
        start: first day covered (default: the first forecast day).
        lead_time, review_period: days.
        service_level: the quantile targeted when no price/cost is given.
        moq, pack_size: order rounding.
    """
    if not 0 < service_level < 1:
        raise EngineError(f"service_level {service_level} outside (0, 1)", fix="e.g. 0.95")
    if {"unique_id", "on_hand"} - set(stock.columns):
        raise DataContractError(
            "stock needs unique_id and on_hand", fix="pass the inventory snapshot per series"
        )
    fc = forecast.forecasts
    first = pd.Timestamp(start) if start is not None else fc["ds"].min()
    cover = lead_time + review_period
    window = fc[(fc["ds"] >= first) & (fc["ds"] < first + pd.Timedelta(days=cover))]
    ids = np.sort(window["unique_id"].unique())
    window = window.sort_values(["unique_id", "ds"])
    counts = window.groupby("unique_id").size()
    if len(ids) == 0 or (counts < cover).any():
        raise EngineError(
            f"forecast does not cover {cover} days from {first:%Y-%m-%d}",
            fix="forecast a longer horizon",
        )
    qs = list(forecast.quantiles)
    mean = window["mean"].to_numpy().reshape(len(ids), cover)
    qv = window[[f"q{q:g}" for q in qs]].to_numpy().reshape(len(ids), cover, len(qs))
    st = stock.assign(unique_id=stock["unique_id"].astype(str)).set_index("unique_id").reindex(ids)
    tau = np.full(len(ids), service_level)
    if {"price", "cost"} <= set(st.columns):
        known = st["price"].notna() & st["cost"].notna()
        salvage = (
            st["salvage"].fillna(0.0) if "salvage" in st.columns else pd.Series(0.0, index=st.index)
        )
        cr = critical_ratio(
            st["price"].where(known, 1.0), st["cost"].where(known, 0.0), salvage.where(known, 0.0)
        )
        tau = np.where(known.to_numpy(), cr, tau)
    daily_q = quantile_at(qs, qv, tau[:, None])
    s_level = protection_quantile(mean, daily_q)
    on_hand = st["on_hand"].fillna(0.0).to_numpy(dtype=float)
    expiring = st["expiring"].fillna(0.0).to_numpy(dtype=float) if "expiring" in st.columns else 0.0
    on_order = st["on_order"].fillna(0.0).to_numpy(dtype=float) if "on_order" in st.columns else 0.0
    usable = np.maximum(on_hand - expiring, 0.0)
    ip = usable + on_order
    qty = order_quantity(s_level, ip, moq=moq, pack_size=pack_size)
    reason = np.where(
        qty > 0, "below_order_up_to", np.where(ip > 2 * s_level, "overstock", "covered")
    )
    reason = np.where((qty > 0) & (np.asarray(expiring) > 0), "below_order_up_to_expiring", reason)
    orders = pd.DataFrame(
        {
            "unique_id": ids,
            "service_level": tau,
            "demand_mean": mean.sum(axis=1),
            "order_up_to": s_level,
            "safety_stock": s_level - mean.sum(axis=1),
            "on_hand_usable": usable,
            "on_order": np.broadcast_to(on_order, ids.shape),
            "inventory_position": ip,
            "order_qty": qty,
            "reason": reason,
        }
    )
    return PurchasePlan(orders=orders)
