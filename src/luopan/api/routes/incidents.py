"""``/api/v1/incidents`` and ``/api/v1/actions``: the decision log, limited to the scope."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Request

from luopan.api.deps import Principal, Services, audit, principal, require, services, verify_csrf
from luopan.api.errors import ApiError
from luopan.api.routes._common import Page, page, paginate, safe
from luopan.decisions.store import Action, Incident

router = APIRouter(tags=["incidents"])

IdPath = Path(..., ge=1, le=2**31 - 1, description="record id / 编号")
# FastAPI binds a Path() object to the first parameter name it serves: one per name
ActionIdPath = Path(..., ge=1, le=2**31 - 1, description="action id / 行动编号")
IncidentStatus = Literal["open", "acknowledged", "resolved", "dismissed"]
ActionStatus = Literal["proposed", "in_progress", "done", "cancelled"]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _incident(i: Incident, lang: str) -> dict[str, Any]:
    out = safe(dataclasses.asdict(i))
    out.pop("dedup_key", None)
    out["title"] = i.title(lang)
    return out


def _action(a: Action, lang: str) -> dict[str, Any]:
    out = safe(dataclasses.asdict(a))
    out["title"] = a.title_en if lang == "en" else a.title_zh
    out["overdue"] = a.overdue(_now())
    return out


@router.get("/incidents", response_model=Page, summary="List incidents / 事件列表")
def list_incidents(
    status: IncidentStatus | None = None,
    p: Principal = Depends(principal),
    svc: Services = Depends(services),
    paging: tuple[int, int] = Depends(page),
) -> Page:
    """Incidents whose slice lies in the caller's scope, newest first."""
    found = sorted(svc.incidents(p, status), key=lambda i: (i.opened_at, i.id), reverse=True)
    return paginate([_incident(i, p.lang) for i in found], paging)


@router.get("/incidents/{incident_id}", summary="Incident detail / 事件详情")
def get_incident(
    incident_id: int = IdPath,
    p: Principal = Depends(principal),
    svc: Services = Depends(services),
) -> dict[str, Any]:
    """The incident with its diagnoses, actions and measured outcomes."""
    d = svc.incident(p, incident_id)
    diagnoses = []
    for g in d.diagnoses:
        item = safe(dataclasses.asdict(g))
        item["summary"] = g.summary_en if p.lang == "en" else g.summary_zh
        diagnoses.append(item)
    return {
        "incident": _incident(d.incident, p.lang),
        "diagnoses": diagnoses,
        "actions": [_action(a, p.lang) for a in d.actions],
        "outcomes": [safe(dataclasses.asdict(o)) for o in d.outcomes],
    }


@router.post(
    "/incidents/{incident_id}/status",
    summary="Change an incident's status / 关闭或确认事件",
    dependencies=[Depends(verify_csrf)],
)
def set_incident_status(
    request: Request,
    incident_id: int = IdPath,
    status: IncidentStatus = Body(..., embed=True),
    p: Principal = Depends(require("act")),
    svc: Services = Depends(services),
) -> dict[str, Any]:
    """Acknowledge, resolve or dismiss an incident (permission ``act``; audited)."""
    svc.incident(p, incident_id)  # 404 when out of scope
    svc.log.set_incident_status(incident_id, status, now=_now())
    audit(request, p, "incident_status", {"incident": incident_id, "status": status})
    return {"incident": _incident(svc.incident(p, incident_id).incident, p.lang)}


@router.post(
    "/incidents/{incident_id}/close",
    summary="Close (resolve) an incident / 关闭事件",
    dependencies=[Depends(verify_csrf)],
)
def close_incident(
    request: Request,
    incident_id: int = IdPath,
    p: Principal = Depends(require("act")),
    svc: Services = Depends(services),
) -> dict[str, Any]:
    """Mark the incident resolved (permission ``act``; audited)."""
    svc.incident(p, incident_id)
    svc.log.set_incident_status(incident_id, "resolved", now=_now())
    audit(request, p, "incident_status", {"incident": incident_id, "status": "resolved"})
    return {"incident": _incident(svc.incident(p, incident_id).incident, p.lang)}


def _visible_actions(svc: Services, p: Principal) -> list[Action]:
    visible = {i.id for i in svc.incidents(p)}
    unscoped = not p.scoped
    return [
        a
        for a in svc.log.actions()
        if a.incident_id in visible or (unscoped and a.incident_id is None)
    ]


@router.get("/actions", response_model=Page, summary="List actions / 行动列表")
def list_actions(
    status: ActionStatus | None = None,
    p: Principal = Depends(principal),
    svc: Services = Depends(services),
    paging: tuple[int, int] = Depends(page),
) -> Page:
    """Actions of the incidents in the caller's scope, by due time."""
    found = [a for a in _visible_actions(svc, p) if status is None or a.status == status]
    return paginate([_action(a, p.lang) for a in found], paging)


@router.post(
    "/actions/{action_id}/status",
    summary="Update an action's status / 更新行动状态",
    dependencies=[Depends(verify_csrf)],
)
def set_action_status(
    request: Request,
    action_id: int = ActionIdPath,
    status: ActionStatus = Body(..., embed=True),
    note: str | None = Body(None, embed=True, max_length=2000),
    p: Principal = Depends(require("act")),
    svc: Services = Depends(services),
) -> dict[str, Any]:
    """Move an action to in_progress, done or cancelled (permission ``act``; audited)."""
    if action_id not in {a.id for a in _visible_actions(svc, p)}:
        raise ApiError(404, "not_found", f"no action #{action_id}", fix="see GET /api/v1/actions")
    svc.log.set_action_status(action_id, status, now=_now(), note=note)
    audit(request, p, "action_status", {"action": action_id, "status": status, "note": note})
    action = next(a for a in svc.log.actions() if a.id == action_id)
    return {"action": _action(action, p.lang)}
