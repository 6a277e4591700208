"""Incidents and decisions (事件与决策): list, and the timeline of one incident (diagnosis,
actions with owners and due times, outcomes with realised impact), with status forms.

Reads go through ``Services.incidents``/``incident`` (an incident outside the principal's
scope is a 404); changes need the ``act`` permission and a valid CSRF token, and are audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from luopan.api.deps import audit, verify_csrf
from luopan.cockpit.web import Page, page, render
from luopan.decisions.store import ACTION_STATUSES, INCIDENT_STATUSES
from luopan.errors import LuopanError

router = APIRouter(include_in_schema=False)  # pages, not part of the JSON API


def _now(pg: Page) -> dt.datetime:
    from luopan.ingest.pipeline import now_local

    return now_local(pg.svc.workspace)


@router.get("/cockpit/incidents", response_class=HTMLResponse)
def incidents_page(pg: Page = Depends(page)) -> HTMLResponse:
    status = pg.request.query_params.get("status") or "open"
    if status not in (*INCIDENT_STATUSES, "all"):
        status = "open"
    found = pg.svc.incidents(pg.p, None if status == "all" else status)
    found.sort(key=lambda i: i.opened_at, reverse=True)
    counts = {s: 0 for s in INCIDENT_STATUSES}
    for i in pg.svc.incidents(pg.p):
        counts[i.status] = counts.get(i.status, 0) + 1
    return render(
        pg,
        "incidents.html",
        title=pg.t("incidents"),
        nav="incidents",
        incidents=found,
        status=status,
        counts=counts,
        statuses=INCIDENT_STATUSES,
    )


def _timeline(detail: Any, lang: str) -> list[dict[str, Any]]:
    """Incident, diagnoses, actions and outcomes in time order."""
    inc = detail.incident
    items: list[dict[str, Any]] = [{"when": inc.opened_at, "kind": "open", "obj": inc}]
    items += [{"when": d.created_at, "kind": "diag", "obj": d} for d in detail.diagnoses]
    by_action = {a.id: a for a in detail.actions}
    items += [{"when": a.created_at, "kind": "act", "obj": a} for a in detail.actions]
    items += [
        {"when": o.measured_at, "kind": "out", "obj": o, "action": by_action.get(o.action_id)}
        for o in detail.outcomes
    ]
    if inc.closed_at is not None:
        items.append({"when": inc.closed_at, "kind": "close", "obj": inc})
    order = {"open": 0, "diag": 1, "act": 2, "out": 3, "close": 4}
    return sorted(items, key=lambda x: (x["when"], order[x["kind"]]))


@router.get("/cockpit/incidents/{incident_id}", response_class=HTMLResponse)
def incident_page(incident_id: int, pg: Page = Depends(page)) -> HTMLResponse:
    try:
        detail = pg.svc.incident(pg.p, incident_id)
    except Exception as exc:  # noqa: BLE001 (ApiError 404: missing or out of scope)
        message = getattr(exc, "message", str(exc))
        return render(
            pg,
            "message.html",
            title=f"#{incident_id}",
            nav="incidents",
            error=LuopanError(message, fix="/cockpit/incidents"),
            status_code=404,
        )
    saved = pg.request.query_params.get("saved") == "1"
    return render(
        pg,
        "incident.html",
        title=f"#{incident_id} {detail.incident.title(pg.lang)}",
        nav="incidents",
        d=detail,
        i=detail.incident,
        timeline=_timeline(detail, pg.lang),
        now=_now(pg),
        can_act=pg.p.can("act"),
        saved=saved,
        incident_statuses=INCIDENT_STATUSES,
        action_statuses=ACTION_STATUSES,
    )


def _forbidden(pg: Page) -> HTMLResponse:
    return render(
        pg,
        "message.html",
        title=pg.t("incident"),
        nav="incidents",
        error=LuopanError(pg.t("no_permission")),
        status_code=403,
    )


@router.post("/cockpit/incidents/{incident_id}/status", dependencies=[Depends(verify_csrf)])
async def incident_status(incident_id: int, request: Request, pg: Page = Depends(page)) -> Response:
    if not pg.p.can("act"):
        return _forbidden(pg)
    form = await request.form()
    status = str(form.get("status") or "")
    try:
        pg.svc.incident(pg.p, incident_id)  # 404 when out of scope
        pg.svc.log.set_incident_status(incident_id, status, now=_now(pg))
    except LuopanError as exc:
        return render(
            pg, "message.html", title=f"#{incident_id}", nav="incidents", error=exc, status_code=400
        )
    audit(
        request,
        pg.p,
        "incident_status",
        {"incident": incident_id, "status": status, "via": "cockpit"},
    )
    return RedirectResponse(f"/cockpit/incidents/{incident_id}?saved=1", status_code=303)


@router.post("/cockpit/actions/{action_id}/status", dependencies=[Depends(verify_csrf)])
async def action_status(action_id: int, request: Request, pg: Page = Depends(page)) -> Response:
    if not pg.p.can("act"):
        return _forbidden(pg)
    form = await request.form()
    status = str(form.get("status") or "")
    note = str(form.get("note") or "")[:2000] or None
    action = next((a for a in pg.svc.log.actions() if a.id == action_id), None)
    visible = {i.id for i in pg.svc.incidents(pg.p)}
    if action is None or not (
        action.incident_id in visible or (action.incident_id is None and not pg.p.scoped)
    ):
        return render(
            pg,
            "message.html",
            title=f"#{action_id}",
            nav="incidents",
            error=LuopanError(f"no action #{action_id}"),
            status_code=404,
        )
    try:
        pg.svc.log.set_action_status(action_id, status, now=_now(pg), note=note)
    except LuopanError as exc:
        return render(
            pg, "message.html", title=f"#{action_id}", nav="incidents", error=exc, status_code=400
        )
    audit(
        request,
        pg.p,
        "action_status",
        {"action": action_id, "status": status, "note": note, "via": "cockpit"},
    )
    target = f"/cockpit/incidents/{action.incident_id}?saved=1" if action.incident_id else "/"
    return RedirectResponse(target, status_code=303)
