"""``/api/v1/scorecard``: the balanced scorecard with RAG status against targets."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query

from luopan.api.deps import Principal, Services, principal, services
from luopan.api.routes._common import safe

router = APIRouter(tags=["scorecard"])


@router.get("/scorecard", summary="Balanced scorecard / 平衡计分卡")
def get_scorecard(
    grain: Literal["week", "month", "quarter", "year"] = "month",
    period: str | None = Query(None, description="2026-W45, 2026-11 … (default: last complete)"),
    p: Principal = Depends(principal),
    svc: Services = Depends(services),
) -> dict[str, Any]:
    """Every scorecard metric for the period, limited to the caller's scope: actual,
    previous, target, status (green/amber/red/none), trend. A metric that cannot be limited
    to the scope has status ``none`` and the reason in ``error``."""
    card = svc.scorecard(p, grain=grain, period=period)
    rows = []
    for r in card.rows:
        rows.append(
            {
                "metric": r.metric,
                "label": r.label_en if p.lang == "en" else r.label_zh,
                "label_zh": r.label_zh,
                "label_en": r.label_en,
                "perspective": r.perspective,
                "unit": r.unit,
                "format": r.format,
                "direction": r.direction,
                "north_star": r.north_star,
                "actual": safe(r.actual),
                "previous": safe(r.previous),
                "change_pct": safe(r.change_pct),
                "target": safe(r.target),
                "status": r.status,
                "trend": [safe(v) for v in r.trend],
                "error": r.error,
            }
        )
    return {
        "period": card.period,
        "grain": card.grain,
        "start": card.start.isoformat(),
        "end": card.end.isoformat(),
        "summary": card.summary(),
        "rows": rows,
    }
