"""Replenishment (智能补货): demand forecasts, censored demand, policies, simulation, backtest, plans.

Engines are pure: frames in, typed results out.
"""

from __future__ import annotations

from luopan.engines.replenish.accuracy import coverage, mase, wape
from luopan.engines.replenish.backtest import BacktestResult, backtest, compare_at_fill
from luopan.engines.replenish.censoring import unconstrain_demand
from luopan.engines.replenish.forecast import (
    MODEL_NAMES,
    DemandForecaster,
    ForecastResult,
    build_models,
)
from luopan.engines.replenish.plan import PurchasePlan, plan_orders
from luopan.engines.replenish.policies import (
    critical_ratio,
    order_quantity,
    protection_quantile,
    quantile_at,
)
from luopan.engines.replenish.simulate import SimulationResult, simulate

__all__ = [
    "MODEL_NAMES",
    "BacktestResult",
    "DemandForecaster",
    "ForecastResult",
    "PurchasePlan",
    "SimulationResult",
    "backtest",
    "build_models",
    "compare_at_fill",
    "coverage",
    "critical_ratio",
    "mase",
    "order_quantity",
    "plan_orders",
    "protection_quantile",
    "quantile_at",
    "simulate",
    "unconstrain_demand",
    "wape",
]
