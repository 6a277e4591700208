"""The JSON API routers, mounted under /api/v1 by ``create_app`` (one module per resource)."""

from __future__ import annotations

from luopan.api.routes import (
    customers,
    decisions,
    experiments,
    funnels,
    incidents,
    listening,
    me,
    metrics,
    pricing,
    replenishment,
    rootcause,
    scorecard,
)

ROUTERS = (
    me.router,
    metrics.router,
    scorecard.router,
    incidents.router,
    customers.router,
    experiments.router,
    rootcause.router,
    decisions.router,
    replenishment.router,
    pricing.router,
    listening.router,
    funnels.router,
)

__all__ = ["ROUTERS"]
