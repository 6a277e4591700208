"""Funnels & cohorts (漏斗与留存) and listening (舆情: negative-mention trend and the crisis
board with the golden-3-hours clock), over scoped tables and the decision log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from luopan.cockpit import charts
from luopan.cockpit.pages.modules import guarded
from luopan.cockpit.web import Page, latest_day, page, render

router = APIRouter(include_in_schema=False)  # pages, not part of the JSON API
FUNNEL_STEPS = ("view", "add_to_cart", "checkout", "pay")


def _funnel_data(pg: Page, steps: tuple[str, ...], by: str | None) -> dict[str, Any]:
    from luopan.engines.funnels.funnel import funnel
    from luopan.engines.funnels.retention import retention

    with pg.svc.connection() as con:
        events = pg.svc.table(pg.p, "events", con)
        result = funnel(events, list(steps), window="14d", by=by)
        cohorts = retention(events, period="week", kind="first_time", periods=8)
    return {"steps": result.steps, "matrix": cohorts.matrix().tail(12)}


def _funnel_charts(pg: Page, data: dict[str, Any], by: str | None) -> dict[str, Any]:
    if "error" in data:
        return data
    table, matrix = data["steps"], data["matrix"]
    overall = table[table["breakdown"] == table["breakdown"].iloc[0]] if by else table
    chart = charts.bar_chart(
        [f"{r.step_index}. {r.step}" for r in overall.itertuples()],
        [float(r.users) for r in overall.itertuples()],
        name=pg.t("users"),
    )
    heat = charts.heatmap(
        [[None if v != v else round(float(v) * 100, 1) for v in row] for row in matrix.to_numpy()],
        [str(c) for c in matrix.columns],
        [c.strftime("%Y-%m-%d") for c in matrix.index],
        x_title=pg.t("period"),
        y_title=pg.t("cohort"),
        height=360,
    )
    return {"steps": table.to_dict(orient="records"), "chart": chart, "heat": heat}


@router.get("/cockpit/funnels", response_class=HTMLResponse)
def funnels_page(pg: Page = Depends(page)) -> HTMLResponse:
    q = pg.request.query_params
    steps = tuple(s for s in (q.get("steps") or ",".join(FUNNEL_STEPS)).split(",") if s)[:8]
    by = q.get("by") if q.get("by") in ("channel",) else None
    data = guarded(pg, "funnels", (steps, by), lambda: _funnel_data(pg, steps, by))
    return render(
        pg,
        "funnels.html",
        title=pg.t("nav_funnels"),
        nav="funnels",
        latest=latest_day(pg),
        data=_funnel_charts(pg, data, by),
        steps=",".join(steps),
        by=by,
    )


def _listening(pg: Page, latest: dt.date) -> dict[str, Any]:
    from luopan.engines.listening.crisis import LEVEL_LABELS
    from luopan.engines.listening.response import RULE, playbook_of
    from luopan.ingest.pipeline import now_local

    start = latest - dt.timedelta(days=90)
    end = latest + dt.timedelta(days=1)
    share = pg.svc.metric(pg.p, "negative_mention_share", grain="day", start=start, end=end)
    volume = pg.svc.metric(pg.p, "negative_mentions", grain="day", start=start, end=end)
    x = [p.strftime("%Y-%m-%d") for p in volume["period"]]
    trend = charts.line_chart(x, {pg.t("negative"): volume["value"].tolist()}, height=220)
    share_x = [p.strftime("%Y-%m-%d") for p in share["period"]]
    share_chart = charts.line_chart(
        share_x, {pg.t("negative"): share["value"].tolist()}, height=220
    )
    now = now_local(pg.svc.workspace)
    board: list[dict[str, Any]] = []
    for inc in pg.svc.incidents(pg.p):
        if inc.rule != RULE:
            continue
        pb = playbook_of(pg.svc.log, inc.id)
        begin = dt.datetime.fromisoformat(str(inc.evidence.get("start", inc.opened_at)))
        deadline = begin + dt.timedelta(hours=3)
        level = int(inc.evidence.get("level", 0) or 0)
        board.append(
            {
                "incident": inc,
                "level": level,
                "label": LEVEL_LABELS.get(level, {}).get(pg.lang, str(level)),
                "start": begin,
                "deadline": deadline,
                "left": max(deadline - now, dt.timedelta(0)),
                "tasks": [
                    {
                        "text": t.en if pg.lang == "en" else t.zh,
                        "owner": t.owner,
                        "due": t.due,
                        "done": t.done_at,
                        "late": t.done_at is None and t.due < now,
                    }
                    for t in pb.tasks
                ],
            }
        )
    board.sort(key=lambda b: b["start"], reverse=True)
    return {
        "trend": trend,
        "share": share_chart,
        "board": board[:6],
        "now": now,
        "total": float(volume["value"].sum()),
    }


@router.get("/cockpit/listening", response_class=HTMLResponse)
def listening_page(pg: Page = Depends(page)) -> HTMLResponse:
    latest = latest_day(pg)
    data = guarded(pg, "listening", (latest, pg.lang), lambda: _listening(pg, latest))
    return render(
        pg, "listening.html", title=pg.t("nav_listening"), nav="listening", latest=latest, data=data
    )
