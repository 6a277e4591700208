"""Dynamic pricing and the promotion digital twin (动态定价 / 促销预演).

Elasticities per series with empirical-Bayes shrinkage toward the category
(:func:`estimate_elasticities`), price suggestions under business rules
(:func:`suggest_prices`), perishable markdown schedules (:func:`markdown_schedule`), the
promotion twin (:func:`simulate_promotion`) and its backtest (:func:`backtest_promotions`).
Engines are pure: frames in, typed results out.
"""

from __future__ import annotations

from luopan.engines.pricing.backtest import PromoBacktest, backtest_promotions
from luopan.engines.pricing.baseline import calendar_factor, current_baseline
from luopan.engines.pricing.elasticity import ElasticityResult, estimate_elasticities
from luopan.engines.pricing.markdown import MarkdownPlan, markdown_schedule, stock_lots
from luopan.engines.pricing.optimize import (
    PriceRules,
    PriceSuggestions,
    expected_units,
    suggest_prices,
)
from luopan.engines.pricing.plan import ItemRule, PriceRulesFile, PromoPlan
from luopan.engines.pricing.stockfloor import censor_at_stock_floor
from luopan.engines.pricing.twin import TwinResult, promo_multiplier, simulate_promotion

__all__ = [
    "ElasticityResult",
    "ItemRule",
    "MarkdownPlan",
    "PriceRules",
    "PriceRulesFile",
    "PriceSuggestions",
    "PromoBacktest",
    "PromoPlan",
    "TwinResult",
    "backtest_promotions",
    "calendar_factor",
    "censor_at_stock_floor",
    "current_baseline",
    "estimate_elasticities",
    "expected_units",
    "markdown_schedule",
    "promo_multiplier",
    "simulate_promotion",
    "stock_lots",
    "suggest_prices",
]
