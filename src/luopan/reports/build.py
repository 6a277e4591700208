"""Gather a report's figures and render the HTML (no business logic in the template)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from luopan.cockpit.labels import t
from luopan.errors import MetricError
from luopan.metrics import connect, load_catalog, query_metric, scorecard
from luopan.metrics.grains import grain_start, period_label, shift
from luopan.metrics.labels import format_value
from luopan.workspace import Workspace

__all__ = ["KINDS", "Report", "build_report", "svg_line"]

KINDS = ("daily", "weekly")
TITLES = {
    "daily": {"zh": "运营日报", "en": "Daily operations report"},
    "weekly": {"zh": "运营周报", "en": "Weekly operations report"},
}
_env = Environment(
    loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
    autoescape=select_autoescape(["html"]),
)


@dataclass(frozen=True)
class Report:
    """One rendered report."""

    kind: str
    lang: str
    period: str
    as_of: dt.date
    html: str
    title: str = ""
    # the key figures (label, value) a chat summary carries, in ``lang``
    figures: tuple[tuple[str, str], ...] = ()
    movers: tuple[str, ...] = ()  # "label: actual (change)" of the biggest movers

    @property
    def stem(self) -> str:
        return f"{self.kind}-{self.period}-{self.lang}"


def svg_line(
    values: list[float], *, width: int = 640, height: int = 150, target: float | None = None
) -> str:
    """Polyline points and an optional target line of a small inline SVG chart."""
    finite = [v for v in values if not math.isnan(v)]
    if len(finite) < 2:
        return ""
    lo = min(finite + ([target] if target is not None else []))
    hi = max(finite + ([target] if target is not None else []))
    span = (hi - lo) or 1.0
    step = (width - 20) / (len(values) - 1)

    def y(v: float) -> float:
        return height - 10 - (v - lo) / span * (height - 20)

    pts = " ".join(
        f"{10 + i * step:.1f},{y(v):.1f}" for i, v in enumerate(values) if not math.isnan(v)
    )
    out = f'<polyline class="line" points="{pts}"/>'
    if target is not None:
        out += f'<line class="target" x1="10" x2="{width - 10}" y1="{y(target):.1f}" y2="{y(target):.1f}"/>'
    return out


def _period(kind: str, latest: dt.date) -> tuple[str, str]:
    if kind == "daily":
        return "day", latest.isoformat()
    start = shift(grain_start(latest + dt.timedelta(days=1), "week"), "week", -1)
    return "week", period_label(start, "week")


def build_report(
    ws: Workspace, *, kind: str = "weekly", lang: str = "zh", as_of: dt.date | None = None
) -> Report:
    """The daily or weekly report of the workspace, in ``lang``.

    Raises:
        MetricError: unknown kind, or the warehouse holds no orders.
    """
    from luopan.decisions.store import DecisionLog
    from luopan.ingest.pipeline import now_local

    if kind not in KINDS:
        raise MetricError(f"unknown report {kind!r}", fix="use daily or weekly")
    catalog = load_catalog(ws)
    con = connect(ws)
    try:
        if as_of is None:
            latest = con.table("orders").ordered_at.max().to_pyarrow().as_py()
            if latest is None:
                raise MetricError("the warehouse holds no orders", fix="run `luopan ingest`")
            as_of = latest.date()
        grain, period = _period(kind, as_of)
        card = scorecard(con, catalog, period)
        ns = catalog.north_star
        trend: dict[str, Any] | None = None
        if ns is not None and grain in ns.grains:
            back = 28 if grain == "day" else 12 * 7
            end = shift(grain_start(as_of, grain), grain, 1)
            frame = query_metric(
                con, catalog, ns.name, grain=grain, start=end - dt.timedelta(days=back), end=end
            )
            values = [float(v) for v in frame["value"]]
            target = ns.meta.targets.get(grain)
            trend = {
                "label": ns.meta.label.get(lang),
                "svg": svg_line(values, target=target),
                "first": period_label(frame["period"].iloc[0].date(), grain),
                "last": period_label(frame["period"].iloc[-1].date(), grain),
                "value": format_value(values[-1], ns),
                "target": format_value(target, ns),
            }
    finally:
        con.disconnect()
    rows: list[dict[str, Any]] = []
    for r in card.rows:
        if r.error:
            continue
        m = catalog.metric(r.metric)
        rows.append(
            {
                "label": r.label_en if lang == "en" else r.label_zh,
                "perspective": r.perspective,
                "north_star": r.north_star,
                "actual": format_value(r.actual, m),
                "target": format_value(r.target, m),
                "previous": format_value(r.previous, m),
                "change_pct": r.change_pct,
                "status": r.status,
            }
        )
    movers = sorted(
        (r for r in rows if not math.isnan(r["change_pct"])), key=lambda r: -abs(r["change_pct"])
    )[:5]
    now = now_local(ws)
    with DecisionLog(ws.metadata_url) as log:
        incidents = [i for i in log.incidents() if i.status in ("open", "acknowledged")]
        actions = [a for a in log.actions() if a.status in ("proposed", "in_progress")]
    html = _env.get_template("report.html").render(
        lang=lang,
        t=lambda key: t(key, lang),
        title=TITLES[kind][lang],
        kind=kind,
        workspace=ws.config.name,
        period=period,
        as_of=as_of,
        rows=rows,
        movers=movers,
        counts={k: sum(1 for r in rows if r["status"] == k) for k in ("red", "amber", "green")},
        unavailable=len(card.rows) - len(rows),
        trend=trend,
        incidents=sorted(incidents, key=lambda i: i.opened_at, reverse=True)[:15],
        actions=actions[:15],
        now=now,
    )
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in ("red", "amber", "green")}
    figures: list[tuple[str, str]] = []
    if trend is not None:
        figures.append((f"{t('north_star', lang)} · {trend['label']}", str(trend["value"])))
    figures += [
        (
            f"{t('scorecard', lang)} · {t('red', lang)}/{t('amber', lang)}/{t('green', lang)}",
            f"{counts['red']}/{counts['amber']}/{counts['green']}",
        ),
        (t("open_incidents", lang), str(len(incidents))),
        (t("actions_due", lang), str(len(actions))),
    ]
    moved = tuple(
        f"{r['label']}: {r['actual']} ({r['change_pct'] * 100:+.1f}%)" for r in movers[:3]
    )
    return Report(
        kind, lang, period, as_of, html, f"{TITLES[kind][lang]} · {period}", tuple(figures), moved
    )
