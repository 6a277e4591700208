"""The JSON API routers, mounted under /api/v1 by ``create_app`` (one module per resource)."""

from __future__ import annotations

from luopan.api.routes import customers, experiments, incidents, me, metrics, scorecard

ROUTERS = (
    me.router,
    metrics.router,
    scorecard.router,
    incidents.router,
    customers.router,
    experiments.router,
)

__all__ = ["ROUTERS"]
