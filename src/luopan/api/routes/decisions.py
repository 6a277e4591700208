"""``/api/v1/actions/{id}`` and ``/api/v1/outcomes``: decision-log actions with their verified
outcomes (realised impact against a counterfactual, ``luopan.decisions.verify``), as
``luopan decisions show`` prints them.

Visibility is the incidents route's: an action is visible when its incident lies in the
caller's scope; actions without an incident (e.g. a recorded promotion plan) and their
outcomes only to unscoped users.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query

from luopan.api.deps import Principal, Services, principal, services
from luopan.api.errors import ApiError
from luopan.api.routes._common import Page, page, paginate, safe
from luopan.api.routes.incidents import _action, _visible_actions
from luopan.decisions.store import Action, Outcome

router = APIRouter(tags=["incidents"])

Verdict = Literal["worked", "no_effect", "harmful"]


def _outcome(o: Outcome, action: Action, lang: str) -> dict[str, Any]:
    from luopan.decisions.verify import VERDICT_LABELS

    out = safe(dataclasses.asdict(o))
    out["verdict"] = o.verdict
    label = VERDICT_LABELS.get(o.verdict or "")
    out["verdict_label"] = label[lang] if label else None
    out["action_title"] = action.title_en if lang == "en" else action.title_zh
    out["incident_id"] = action.incident_id
    return out


@router.get("/actions/{action_id}", summary="Action with its outcomes / 行动及结果验证")
def get_action(
    action_id: int = Path(..., ge=1, le=2**31 - 1, description="record id / 编号"),
    p: Principal = Depends(principal),
    svc: Services = Depends(services),
) -> dict[str, Any]:
    """One action (owner, due time, expected impact, holdout) and its measured outcomes
    (estimate with interval, method, verdict); 404 when missing or out of scope."""
    found = next((a for a in _visible_actions(svc, p) if a.id == action_id), None)
    if found is None:
        raise ApiError(404, "not_found", f"no action #{action_id}", fix="see GET /api/v1/actions")
    outcomes = svc.log.outcomes(action_id=action_id)
    return {
        "action": _action(found, p.lang),
        "outcomes": [_outcome(o, found, p.lang) for o in outcomes],
    }


@router.get("/outcomes", response_model=Page, summary="Verified outcomes / 结果验证")
def list_outcomes(
    verdict: Verdict | None = Query(None, description="worked / no_effect / harmful / 结论"),
    p: Principal = Depends(principal),
    svc: Services = Depends(services),
    paging: tuple[int, int] = Depends(page),
) -> Page:
    """Measured outcomes of the actions in the caller's scope, newest first."""
    actions = {a.id: a for a in _visible_actions(svc, p)}
    found = [
        _outcome(o, actions[o.action_id], p.lang)
        for o in reversed(svc.log.outcomes())
        if o.action_id in actions and (verdict is None or o.verdict == verdict)
    ]
    return paginate(found, paging)
