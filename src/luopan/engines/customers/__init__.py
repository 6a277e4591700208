"""Customer intelligence: CLV (BG/NBD + Gamma-Gamma), churn, RFM, health, recall, LTV/CAC.

Pure functions and scikit-learn-style models: frames and arrays in, typed results out.
"""

from luopan.engines.customers.bg_nbd import BetaGeoModel, BgNbdParams, bg_nbd_log_likelihood
from luopan.engines.customers.churn import ChurnEvaluation, ChurnModel, evaluate_churn
from luopan.engines.customers.clv import ClvResult, fit_clv
from luopan.engines.customers.economics import UnitEconomics, unit_economics
from luopan.engines.customers.gamma_gamma import (
    GammaGammaModel,
    GammaGammaParams,
    customer_lifetime_value,
)
from luopan.engines.customers.health import HealthIndex, health_by_segment, health_index
from luopan.engines.customers.holdout import HoldoutReport, holdout_report
from luopan.engines.customers.outreach import attach_products, contact_channel, coupon_offer
from luopan.engines.customers.pareto_nbd import ParetoNbdModel, ParetoNbdParams
from luopan.engines.customers.recall import RecallOutcome, recall_list, recall_outcome
from luopan.engines.customers.rfm import SEGMENTS, RfmResult, rfm_movement, rfm_segments
from luopan.engines.customers.segments import SegmentRisk, segment_risk
from luopan.engines.customers.simulate import simulate_bg_nbd
from luopan.engines.customers.summary import CustomerSummary, summarize_transactions

__all__ = [
    "SEGMENTS",
    "BetaGeoModel",
    "BgNbdParams",
    "ChurnEvaluation",
    "ChurnModel",
    "ClvResult",
    "CustomerSummary",
    "GammaGammaModel",
    "GammaGammaParams",
    "HealthIndex",
    "HoldoutReport",
    "ParetoNbdModel",
    "ParetoNbdParams",
    "RecallOutcome",
    "RfmResult",
    "SegmentRisk",
    "UnitEconomics",
    "attach_products",
    "bg_nbd_log_likelihood",
    "contact_channel",
    "coupon_offer",
    "customer_lifetime_value",
    "evaluate_churn",
    "fit_clv",
    "health_by_segment",
    "health_index",
    "holdout_report",
    "recall_list",
    "recall_outcome",
    "rfm_movement",
    "rfm_segments",
    "segment_risk",
    "simulate_bg_nbd",
    "summarize_transactions",
    "unit_economics",
]
