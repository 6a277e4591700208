"""Replenishment (智能补货): demand forecasts, censored demand, policies, simulation, backtest, plans.

Engines are pure: frames in, typed results out.
"""

from __future__ import annotations

from luopan.engines.replenish.accuracy import coverage, mase, wape
from luopan.engines.replenish.backtest import BacktestResult, backtest, compare_at_fill
from luopan.engines.replenish.censoring import unconstrain_demand
from luopan.engines.replenish.comparison import (
    PolicyComparison,
    policy_comparison,
    recorded_kpis,
    stuttering_quantile,
)
from luopan.engines.replenish.demand_replay import DemandReplay, reconstruct_demand
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
from luopan.engines.replenish.promo_interval import ProtectionForecast, rolling_protection
from luopan.engines.replenish.promo_weekly import PromoWeeklyForecaster, WeeklyPanel, weekly_panel
from luopan.engines.replenish.replay import replay
from luopan.engines.replenish.simulate import SimulationResult, simulate
from luopan.engines.replenish.weekly_backtest import (
    WeeklyBacktest,
    enough_history,
    weekly_backtest,
)

__all__ = [
    "MODEL_NAMES",
    "BacktestResult",
    "DemandForecaster",
    "DemandReplay",
    "ForecastResult",
    "PolicyComparison",
    "PromoWeeklyForecaster",
    "ProtectionForecast",
    "PurchasePlan",
    "SimulationResult",
    "WeeklyBacktest",
    "WeeklyPanel",
    "backtest",
    "build_models",
    "compare_at_fill",
    "coverage",
    "critical_ratio",
    "enough_history",
    "mase",
    "order_quantity",
    "plan_orders",
    "policy_comparison",
    "protection_quantile",
    "quantile_at",
    "reconstruct_demand",
    "recorded_kpis",
    "replay",
    "rolling_protection",
    "simulate",
    "stuttering_quantile",
    "unconstrain_demand",
    "wape",
    "weekly_backtest",
    "weekly_panel",
]
