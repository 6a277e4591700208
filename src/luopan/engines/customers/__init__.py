"""Customer intelligence: CLV (BG/NBD + Gamma-Gamma), churn, RFM, health, recall, LTV/CAC.

Pure functions and scikit-learn-style models: frames and arrays in, typed results out.

The names below are imported on first use (PEP 562 ``__getattr__``), so importing one module
of the package — the health index in every ``luopan run``, say — does not import scikit-learn
and SciPy for the others (measured: 3–9 s on a shared 2-core machine).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_WHERE = {
    "bg_nbd": ("BetaGeoModel", "BgNbdParams", "bg_nbd_log_likelihood"),
    "churn": ("ChurnModel",),
    "churn_eval": ("ChurnEvaluation", "evaluate_churn"),
    "clv": ("ClvResult", "fit_clv"),
    "economics": ("UnitEconomics", "unit_economics"),
    "gamma_gamma": ("GammaGammaModel", "GammaGammaParams", "customer_lifetime_value"),
    "health": ("HealthIndex", "health_by_segment", "health_index"),
    "holdout": ("HoldoutReport", "holdout_report"),
    "outreach": ("attach_products", "contact_channel", "coupon_offer"),
    "pareto_nbd": ("ParetoNbdModel", "ParetoNbdParams"),
    "recall": ("RecallOutcome", "recall_list", "recall_outcome"),
    "rfm": ("SEGMENTS", "RfmResult", "rfm_movement", "rfm_segments"),
    "segments": ("SegmentRisk", "segment_risk"),
    "simulate": ("simulate_bg_nbd",),
    "summary": ("CustomerSummary", "summarize_transactions"),
}
_MODULE = {name: module for module, names in _WHERE.items() for name in names}

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


def __getattr__(name: str) -> Any:
    module = _MODULE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


if TYPE_CHECKING:
    from luopan.engines.customers.bg_nbd import (
        BetaGeoModel,
        BgNbdParams,
        bg_nbd_log_likelihood,
    )
    from luopan.engines.customers.churn import ChurnModel
    from luopan.engines.customers.churn_eval import ChurnEvaluation, evaluate_churn
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
