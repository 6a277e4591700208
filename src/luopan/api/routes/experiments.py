"""``/api/v1/experiments``: the experiment programme (every test, with programme-level FDR).

It runs ``luopan abtest programme``'s code path (``review_workspace``) on the current warehouse
snapshot. Experiments, assignments and events are not store, region or category data, so a
scoped user gets a 403 envelope rather than unscoped results.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from luopan.api.deps import Principal, Services, principal, services
from luopan.api.errors import ScopeError
from luopan.api.routes._common import safe

router = APIRouter(tags=["experiments"])


@router.get("/experiments", summary="Experiment programme / 实验项目总览")
def experiments(
    q: float = Query(0.1, gt=0, lt=1, description="programme false discovery rate / 项目级 FDR"),
    p: Principal = Depends(principal),
    svc: Services = Depends(services),
) -> dict[str, Any]:
    """Every experiment's result with the programme-level false discovery rate ``q``."""
    from luopan.cli.abtest import review_workspace

    if p.scoped:
        raise ScopeError(
            "experiments cannot be limited to your stores/regions/categories, so they are "
            "not shown",
            fix="ask an administrator for an unscoped account",
        )
    with svc.snapshots.lease() as snap:
        path, version = snap.path, snap.version
        review = svc.cached(("experiments", version, q), lambda: review_workspace(path, q=q))
    return safe(review.to_dict())
