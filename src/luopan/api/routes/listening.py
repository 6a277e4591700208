"""``/api/v1/listening`` and ``/api/v1/crises``: sentiment trend, complaint topics, and the crisis
board with the golden-3-hours playbook (舆情与危机).

- The sentiment trend is the catalog's mention metrics (``negative_mentions``,
  ``rated_mentions``, ``negative_mention_share``: a mention rated 2 or lower is negative)
  through ``Services.metric``.
- Topics are ``complaint_terms`` (log-odds with an informative Dirichlet prior, Monroe,
  Colaresi & Quinn 2008) of the negative rated mentions against the other rated ones over the
  last ``days`` days, with the workspace's ``crisis.yaml`` watchlist.
- Crises are the decision log's ``listening.crisis`` incidents with their playbook
  (``playbook_of``), as ``luopan crisis list|show`` prints them.

Mentions are not store or category data: a scoped principal gets the 403 envelope.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import pandas as pd
from fastapi import APIRouter, Depends, Path, Query

from luopan.api.deps import Principal, Services, principal, services
from luopan.api.errors import ApiError
from luopan.api.routes._common import Page, page, paginate, safe
from luopan.api.routes.incidents import _incident
from luopan.api.services_ops import latest_date, refuse_scoped, scoped_cached, table

router = APIRouter(tags=["listening"])

_REFUSED = ("mentions and crises", "舆情与危机")
_STATE = {
    "done": {"zh": "完成", "en": "done"},
    "overdue": {"zh": "已超时", "en": "overdue"},
    "open": {"zh": "进行中", "en": "open"},
}


@router.get("/listening/sentiment", summary="Sentiment trend / 舆情情感趋势")
def sentiment(
    grain: Literal["day", "week", "month"] = "day",
    start: dt.date | None = None,
    end: dt.date | None = None,
    p: Principal = Depends(principal),
    svc: Services = Depends(services),
    paging: tuple[int, int] = Depends(page),
) -> dict[str, Any]:
    """Per period: rated mentions, negative mentions (rated ≤ 2) and the negative share."""
    refuse_scoped(p, *_REFUSED)
    if start is not None and end is not None and end <= start:
        raise ApiError(422, "invalid_request", "end must be after start", fix="swap them")
    cols = {
        "rated_mentions": "rated",
        "negative_mentions": "negative",
        "negative_mention_share": "negative_share",
    }
    parts = []
    for metric, col in cols.items():
        f = svc.metric(p, metric, grain=grain, start=start, end=end)
        parts.append(f.set_index("period")["value"].rename(col))
    frame = pd.concat(parts, axis=1).sort_index()
    frame.loc[frame["rated"].notna(), "negative"] = frame["negative"].fillna(0.0)
    frame = frame.reset_index()
    out = paginate(frame, paging).model_dump()
    catalog = svc.catalog
    return {
        "grain": grain,
        "labels": {c: catalog.metric(m).meta.label.get(p.lang) for m, c in cols.items()},
        **out,
    }


@router.get("/listening/topics", response_model=Page, summary="Complaint topics / 投诉主题")
def topics(
    days: int = Query(28, ge=1, le=366, description="window before the latest mention / 天数"),
    top: int = Query(15, ge=1, le=100, description="terms / 主题词数"),
    p: Principal = Depends(principal),
    svc: Services = Depends(services),
    paging: tuple[int, int] = Depends(page),
) -> Page:
    """Terms over-represented in negative mentions (z of the log-odds ratio), with the
    watchlist category (food safety, …) of a watched term."""
    refuse_scoped(p, *_REFUSED)
    with svc.connection() as con:
        table(svc, p, con, "mentions")

    def build() -> list[dict[str, Any]]:
        from luopan.cli.crisis import crisis_config
        from luopan.engines.listening import complaint_terms
        from luopan.engines.listening.topics import CATEGORY_LABELS, Watchlist

        with svc.connection() as con:
            m = table(svc, p, con, "mentions")
            last = latest_date(m.published_at)
            if last is None:
                return []
            since = last - dt.timedelta(days=days - 1)
            rated = m.filter(m.rating.notnull() & (m.published_at.date() >= since))
            frame = rated.select("text", "rating").to_pyarrow().to_pandas()
        cfg = crisis_config(svc.workspace)
        wl = Watchlist.from_mapping(cfg.watchlist) if cfg.watchlist else Watchlist()
        neg = frame["rating"].astype(float) <= 2
        texts = frame["text"].fillna("").astype(str)
        terms = complaint_terms(texts[neg].tolist(), texts[~neg].tolist(), top=top, watchlist=wl)
        cats = {w: c for c, ws in wl.terms.items() for w in ws}
        return [
            {
                **safe(t.__dict__),
                "watchlist": cats.get(t.term),
                "watchlist_label_zh": CATEGORY_LABELS.get(cats.get(t.term) or "", {}).get("zh"),
                "watchlist_label_en": CATEGORY_LABELS.get(cats.get(t.term) or "", {}).get("en"),
            }
            for t in terms
        ]

    return paginate(
        scoped_cached(svc, None, "topics", (days, top), build, tables=("mentions",)), paging
    )


def _crisis(svc: Services, inc: Any, lang: str, now: dt.datetime) -> dict[str, Any]:
    from luopan.engines.listening.crisis import LEVEL_LABELS
    from luopan.engines.listening.response import playbook_of

    pb = playbook_of(svc.log, inc.id)
    begin = pd.Timestamp(str(inc.evidence.get("start", inc.opened_at))).to_pydatetime()
    deadline = begin + dt.timedelta(hours=3)
    level = int(inc.evidence.get("level", 0) or 0)
    tasks = []
    for t in pb.tasks:
        state = "done" if t.done_at is not None else ("overdue" if now > t.due else "open")
        tasks.append(
            {
                "task": t.key,
                "title": t.en if lang == "en" else t.zh,
                "owner": t.owner,
                "due": safe(t.due),
                "done_at": safe(t.done_at),
                "state": state,
                "state_label": _STATE[state][lang],
                "is_response": t.is_response,
            }
        )
    return {
        "incident": _incident(inc, lang),
        "level": level,
        "level_label": LEVEL_LABELS.get(level, {}).get(lang, str(level)),
        "start": safe(begin),
        "deadline": safe(deadline),
        "minutes_left": max((deadline - now).total_seconds() / 60, 0.0),
        "tasks_done": sum(t["state"] == "done" for t in tasks),
        "tasks_overdue": sum(t["state"] == "overdue" for t in tasks),
        "tasks": tasks,
    }


def _now(svc: Services) -> dt.datetime:
    from luopan.ingest.pipeline import now_local

    return now_local(svc.workspace)


@router.get("/crises", response_model=Page, summary="Crisis board / 舆情危机列表")
def list_crises(
    status: Literal["open", "acknowledged", "resolved", "dismissed"] | None = None,
    p: Principal = Depends(principal),
    svc: Services = Depends(services),
    paging: tuple[int, int] = Depends(page),
) -> Page:
    """Crisis incidents, newest first, with level, the golden-3-hours deadline and the
    playbook's progress."""
    from luopan.engines.listening.response import RULE

    refuse_scoped(p, *_REFUSED)
    now = _now(svc)
    found = [i for i in svc.incidents(p, status) if i.rule == RULE]
    found.sort(key=lambda i: (i.opened_at, i.id), reverse=True)
    limit, offset = paging
    items = [_crisis(svc, i, p.lang, now) for i in found[offset : offset + limit]]
    for item in items:
        item.pop("tasks")
    return Page(total=len(found), limit=limit, offset=offset, items=items)


@router.get("/crises/{incident_id}", summary="Crisis detail / 舆情危机详情")
def get_crisis(
    incident_id: int = Path(..., ge=1, le=2**31 - 1, description="record id / 编号"),
    p: Principal = Depends(principal),
    svc: Services = Depends(services),
) -> dict[str, Any]:
    """One crisis: playbook tasks with owners, deadlines and state, escalations, the clock."""
    from luopan.engines.listening.response import ESCALATION, RULE

    refuse_scoped(p, *_REFUSED)
    detail = svc.incident(p, incident_id)
    if detail.incident.rule != RULE:
        raise ApiError(
            404, "not_found", f"incident #{incident_id} is not a crisis", fix="see /api/v1/crises"
        )
    out = _crisis(svc, detail.incident, p.lang, _now(svc))
    out["escalations"] = [
        {"at": safe(g.created_at), "text": g.summary_en if p.lang == "en" else g.summary_zh}
        for g in detail.diagnoses
        if g.method == ESCALATION
    ]
    out["evidence"] = safe(detail.incident.evidence)
    return out
