"""Overview (总览): health index, north-star metric, balanced scorecard, incidents, actions due."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from luopan.cockpit import charts
from luopan.cockpit.data import default_period, filter_options, health_table, scorecard_for
from luopan.cockpit.web import Page, Pending, latest_day, page, render
from luopan.errors import LuopanError
from luopan.metrics.grains import grain_start, parse_period
from luopan.metrics.labels import format_value

router = APIRouter(include_in_schema=False)  # pages, not part of the JSON API

RAG_ORDER = ("red", "amber", "green", "none")


def _scorecard(pg: Page, latest: dt.date) -> dict[str, Any]:
    grain = pg.filters.grain if pg.filters.grain in ("week", "month") else "week"
    period = pg.request.query_params.get("period") or default_period(pg, grain, latest)
    try:
        parse_period(period)
        card = scorecard_for(pg, period)
    except Pending:
        return {"pending": True, "period": period, "grain": grain}
    except LuopanError as exc:
        return {"error": exc, "period": period, "grain": grain}
    catalog = pg.svc.catalog
    rows = []
    for r in card.rows:
        m = catalog.metric(r.metric)
        rows.append(
            {
                "metric": r.metric,
                "label": r.label_en if pg.lang == "en" else r.label_zh,
                "perspective": r.perspective,
                "north_star": r.north_star,
                "actual": format_value(r.actual, m) if not r.error else None,
                "target": format_value(r.target, m),
                "previous": format_value(r.previous, m),
                "change_pct": r.change_pct,
                "status": r.status if not r.error else "none",
                "error": r.error,
                "trend": [None if math.isnan(v) else v for v in r.trend],
                "unit": r.unit,
            }
        )
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in RAG_ORDER}
    return {
        "rows": rows,
        "period": card.period,
        "grain": card.grain,
        "counts": counts,
        "start": card.start,
        "end": card.end,
    }


def _north_star(pg: Page, latest: dt.date) -> dict[str, Any] | None:
    ns = pg.svc.catalog.north_star
    if ns is None:
        return None
    end = grain_start(latest + dt.timedelta(days=1), "week")  # complete weeks only
    start = pg.filters.start or (end - dt.timedelta(weeks=26))
    stop = pg.filters.end or end
    try:
        where = pg.filters.conditions(pg.svc.catalog, ns.name)
        frame = pg.svc.metric(pg.p, ns.name, grain="week", start=start, end=stop, where=where)
    except LuopanError as exc:
        return {"name": ns.name, "label": ns.meta.label.get(pg.lang), "error": exc}
    x = [p.strftime("%Y-%m-%d") for p in frame["period"]]
    target = ns.meta.targets.get("week")
    chart = charts.line_chart(
        x,
        {ns.meta.label.get(pg.lang): frame["value"].tolist()},
        target=None if pg.p.scoped or pg.filters.dimensions else target,
        target_label=pg.t("target_line"),
        height=240,
    )
    last = float(frame["value"].iloc[-1]) if len(frame) else float("nan")
    prev = float(frame["value"].iloc[-2]) if len(frame) > 1 else float("nan")
    return {
        "name": ns.name,
        "label": ns.meta.label.get(pg.lang),
        "goal": ns.meta.strategic_goal.get(pg.lang) if ns.meta.strategic_goal else "",
        "value": format_value(last, ns),
        "week": x[-1] if x else "",
        "change_pct": (last - prev) / abs(prev) if prev and not math.isnan(prev) else math.nan,
        "chart": chart,
    }


def _health(pg: Page, latest: dt.date) -> dict[str, Any]:
    try:
        table = health_table(pg, latest)
    except Pending:
        return {"pending": True}
    except LuopanError as exc:
        return {"error": exc}
    if table.empty:
        return {"value": None, "regions": [], "weeks": []}
    last = table["cutoff"].max()
    now = table[table["cutoff"] == last]
    value = float((now["health"] * now["customers"]).sum() / now["customers"].sum())
    wide = table[table["customers"] >= 30].pivot(index="segment", columns="cutoff", values="health")
    regions = []
    for seg, row in wide.iterrows():
        values = [None if math.isnan(v) else round(float(v), 1) for v in row]
        recent = [v for v in values if v is not None][-3:]
        fired = len(recent) == 3 and all(v < 65 for v in recent)
        regions.append({"segment": seg, "values": values, "fired": fired})
    return {
        "value": value,
        "customers": int(now["customers"].sum()),
        "cutoff": last,
        "weeks": [c.strftime("%m-%d") for c in wide.columns],
        "regions": regions,
        "fired": [r["segment"] for r in regions if r["fired"]],
    }


def _incidents_and_actions(pg: Page) -> tuple[list[Any], list[dict[str, Any]]]:
    open_ = [i for i in pg.svc.incidents(pg.p) if i.status in ("open", "acknowledged")]
    visible = {i.id: i for i in open_}
    from luopan.ingest.pipeline import now_local

    now = now_local(pg.svc.workspace)
    due = []
    for a in pg.svc.log.actions():
        if a.status not in ("proposed", "in_progress"):
            continue
        if a.incident_id is None and pg.p.scoped:
            continue  # an action on no incident is not store data: unscoped users only
        if a.incident_id is not None and a.incident_id not in visible:
            continue
        due.append({"action": a, "overdue": a.overdue(now)})
    open_.sort(key=lambda i: ({"critical": 0, "warning": 1}.get(i.severity, 2), -i.id))
    return open_, due[:12]


@router.get("/", response_class=HTMLResponse)
def overview(pg: Page = Depends(page)) -> HTMLResponse:
    latest = latest_day(pg)
    incidents, actions = _incidents_and_actions(pg)
    return render(
        pg,
        "overview.html",
        title=pg.t("nav_overview"),
        nav="overview",
        latest=latest,
        options=filter_options(pg),
        card=_scorecard(pg, latest),
        north_star=_north_star(pg, latest),
        health=_health(pg, latest),
        incidents=incidents,
        actions=actions,
    )
