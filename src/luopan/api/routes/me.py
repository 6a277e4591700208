"""``/api/v1/me`` (who am I) and ``/api/v1/audit`` (the audit log, admins only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from luopan.api.deps import Principal, Services, principal, require, services
from luopan.api.routes._common import Page, page, safe

router = APIRouter(tags=["system"])


@router.get("/me", summary="The logged-in user / 当前用户")
def me(p: Principal = Depends(principal)) -> dict[str, Any]:
    """User name, role, permissions, scope and language of the caller."""
    return {
        "username": p.username,
        "role": p.role,
        "permissions": sorted(x for x in ("read", "export", "act", "admin") if p.can(x)),
        "stores": sorted(p.stores) if p.stores is not None else None,
        "regions": sorted(p.regions) if p.regions is not None else None,
        "categories": sorted(p.categories) if p.categories is not None else None,
        "lang": p.lang,
    }


@router.get("/audit", response_model=Page, summary="Audit log / 审计日志")
def audit_log(
    p: Principal = Depends(require("admin")),
    svc: Services = Depends(services),
    paging: tuple[int, int] = Depends(page),
) -> Page:
    """Logins, exports and incident/action changes, newest first (permission ``admin``)."""
    limit, offset = paging
    total, items = svc.users.audit_log(limit=limit, offset=offset)
    return Page(total=total, limit=limit, offset=offset, items=[safe(i) for i in items])
