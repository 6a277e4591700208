"""Metric explorer (指标分析): the catalog, and one metric's trend with the anomaly detector's
expected band, period comparison (incl. festival vs festival) and breakdown by a dimension."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd
from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from luopan.cockpit import charts
from luopan.cockpit.data import default_period, filter_options, metric_tables
from luopan.cockpit.web import Page, cached, latest_day, page, render
from luopan.errors import LuopanError, MetricError
from luopan.metrics.catalog import resolvable
from luopan.metrics.grains import parse_period, period_label, shift
from luopan.metrics.labels import definition, format_value
from luopan.metrics.scorecard import PERSPECTIVES

router = APIRouter(include_in_schema=False)  # pages, not part of the JSON API

# dimensions offered for breakdowns and root-cause search (those the metric resolves)
BREAKDOWNS = ("channel", "store__region", "store_id", "customer__region", "product__category")
DIM_LABELS = {
    "channel": {"zh": "渠道", "en": "channel"},
    "store__region": {"zh": "门店大区", "en": "store region"},
    "store_id": {"zh": "门店", "en": "store"},
    "customer__region": {"zh": "客户大区", "en": "customer region"},
    "product__category": {"zh": "品类", "en": "category"},
}
HISTORY_DAYS = 120  # days before the range fed to the detector as context


def metric_dims(pg: Page, name: str) -> list[str]:
    """The breakdown dimensions that resolve on every model ``name`` is computed from."""
    from luopan.cockpit.filters import _leaf_models

    catalog = pg.svc.catalog
    models = [catalog.models[m] for m in _leaf_models(catalog, name)]
    return [d for d in BREAKDOWNS if all(resolvable(catalog, m, d) for m in models)]


@router.get("/cockpit/metrics", response_class=HTMLResponse)
def catalog_page(pg: Page = Depends(page)) -> HTMLResponse:
    groups: dict[str, list[dict[str, Any]]] = {p: [] for p in PERSPECTIVES}
    for name, m in pg.svc.catalog.metrics.items():
        groups[m.meta.perspective].append(
            {
                "name": name,
                "label": m.meta.label.get(pg.lang),
                "north_star": m.meta.north_star,
                "scorecard": m.meta.scorecard,
            }
        )
    return render(pg, "catalog.html", title=pg.t("metrics_title"), nav="metrics", groups=groups)


def _anomaly(pg: Page, name: str, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Daily values with the detector's expected band; the range plus history as context."""
    from luopan.engines.anomaly import detect_anomalies

    m = pg.svc.catalog.metric(name)
    if "day" not in m.grains:
        return {"error": MetricError(f"{name} has no daily grain", fix="see the weekly trend")}
    where = pg.filters.conditions(pg.svc.catalog, name)
    reach = start - dt.timedelta(days=HISTORY_DAYS)
    key = (name, start, end, tuple(sorted(pg.filters.dimensions.items())))  # + scope, snapshot

    def compute() -> pd.DataFrame:
        frame = pg.svc.metric(pg.p, name, grain="day", start=reach, end=end, where=where)
        days = pd.date_range(reach, end - dt.timedelta(days=1), freq="D")
        y = frame.set_index("period")["value"].reindex(days)
        if m.type == "simple":  # a sum or count with no row that day is 0, not missing
            y = y.fillna(0.0)
        points = detect_anomalies(y.rename("y"), on_short="skip").points
        return points[points["ds"] >= pd.Timestamp(start)].reset_index(drop=True)

    points = cached(pg, "anomaly", key, compute, tables=metric_tables(pg, name))
    if points.empty:
        return {"error": MetricError(f"{name}: too little history for the detector")}
    labels = {
        k: pg.t(k2)
        for k, k2 in (
            ("band", "expected_band"),
            ("expected", "expected"),
            ("value", "value"),
            ("anomaly", "anomaly"),
        )
    }
    found = points[points["is_anomaly"].astype(bool)]
    return {
        "chart": charts.band_chart(points, labels=labels),
        "anomalies": [
            {
                "day": r.ds.strftime("%Y-%m-%d"),
                "value": format_value(r.y, m),
                "expected": format_value(r.expected, m),
                "score": r.score,
                "kind": r.kind,
                "direction": r.direction,
                "event": r.event,
            }
            for r in found.itertuples()
        ][-15:],
    }


def _comparison(pg: Page, name: str, compare: str, start: dt.date, end: dt.date) -> dict[str, Any]:
    m = pg.svc.catalog.metric(name)
    where = pg.filters.conditions(pg.svc.catalog, name)
    grain = "week" if "week" in m.grains else m.grains[0]
    if compare == "festival":
        lo = start if (end - start).days >= 365 else end - dt.timedelta(days=365)
        frame = pg.svc.metric(
            pg.p, name, grain=None, start=lo, end=end, compare="festival", where=where
        )
        labels = [str(f) for f in frame["festival"]]
    else:
        frame = pg.svc.metric(
            pg.p, name, grain=grain, start=start, end=end, compare=compare, where=where
        )
        labels = [period_label(p.date(), grain) for p in frame["period"]]
    names = (pg.t("value"), pg.t("compare_value"))
    rows = [
        {
            "label": lab,
            "value": format_value(r.value, m),
            "compare": format_value(r.compare_value, m),
            "change_pct": r.change_pct,
            "raw": r.value,
        }
        for lab, r in zip(labels, frame.itertuples(), strict=True)
    ]
    chart = charts.comparison_chart(
        labels,
        frame["value"].fillna(0).tolist(),
        frame["compare_value"].fillna(0).tolist(),
        names=names,
    )
    return {"rows": rows, "chart": chart, "grain": grain}


def _breakdown(pg: Page, name: str, by: str, period: str) -> dict[str, Any]:
    m = pg.svc.catalog.metric(name)
    grain, start, end = parse_period(period)
    b_start = shift(start, grain, -1)
    where = pg.filters.conditions(pg.svc.catalog, name)
    now = pg.svc.metric(pg.p, name, grain=None, by=[by], start=start, end=end, where=where)
    before = pg.svc.metric(pg.p, name, grain=None, by=[by], start=b_start, end=start, where=where)
    both = now.merge(before.rename(columns={"value": "before"}), on=by, how="outer")
    both = both.sort_values("value", ascending=False, na_position="last")
    keys = [
        "—" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in both[by]
    ]
    rows = [
        {
            "key": k,
            "value": format_value(r.value, m),
            "before": format_value(r.before, m),
            "change_pct": (r.value - r.before) / abs(r.before)
            if r.before and not math.isnan(r.before)
            else math.nan,
        }
        for k, r in zip(keys, both.itertuples(), strict=True)
    ]
    chart = charts.bar_chart(
        keys,
        both["value"].fillna(0).tolist(),
        name=period,
        compare=both["before"].fillna(0).tolist(),
        compare_name=period_label(b_start, grain),
        horizontal=True,
        height=max(200, 26 * len(keys) + 60),
    )
    return {"rows": rows, "chart": chart, "baseline": period_label(b_start, grain)}


def _section(fn: Any, *args: Any) -> dict[str, Any]:
    try:
        return fn(*args)
    except LuopanError as exc:
        return {"error": exc}


@router.get("/cockpit/metrics/{name}", response_class=HTMLResponse)
def metric_page(name: str, pg: Page = Depends(page)) -> HTMLResponse:
    catalog = pg.svc.catalog
    try:
        m = catalog.metric(name)
    except MetricError as exc:
        return render(pg, "message.html", title=name, nav="metrics", error=exc, status_code=404)
    latest = latest_day(pg)
    end = pg.filters.end or latest + dt.timedelta(days=1)
    start = pg.filters.start or end - dt.timedelta(days=120)
    q = pg.request.query_params
    compare = q.get("compare") if q.get("compare") in ("pop", "yoy", "festival") else "yoy"
    dims = metric_dims(pg, name)
    fdims = tuple(sorted(pg.filters.dimensions.items()))
    by = q.get("by") if q.get("by") in dims else (dims[0] if dims else None)
    grain = "week" if "week" in m.grains else m.grains[0]
    period = q.get("period") or default_period(pg, grain, latest)
    try:
        p_grain, p_start, _ = parse_period(period)
        baseline = period_label(shift(p_start, p_grain, -1), p_grain)
    except MetricError as exc:
        pg.error, period, baseline = exc, default_period(pg, grain, latest), ""
    return render(
        pg,
        "metric.html",
        title=m.meta.label.get(pg.lang),
        nav="metrics",
        latest=latest,
        m=m,
        name=name,
        definition=definition(m),
        description=m.meta.description.get(pg.lang) if m.meta.description else "",
        targets=", ".join(
            f"{pg.t(g) if g in ('day', 'week', 'month', 'quarter', 'year') else g}: "
            f"{format_value(v, m)}"
            for g, v in m.meta.targets.items()
        ),
        options=filter_options(pg),
        start=start,
        to=end - dt.timedelta(days=1),
        compare=compare,
        by=by,
        dims=[(d, DIM_LABELS[d][pg.lang]) for d in dims],
        period=period,
        baseline=baseline,
        anomaly=_section(_anomaly, pg, name, start, end),
        comparison=cached(
            pg,
            "comparison",
            (name, compare, start, end, fdims, pg.lang),
            lambda: _section(_comparison, pg, name, compare, start, end),
            tables=metric_tables(pg, name),
        ),
        breakdown=cached(
            pg,
            "breakdown",
            (name, by, period, fdims, pg.lang),
            lambda: _section(_breakdown, pg, name, by, period),
            tables=metric_tables(pg, name),
        )
        if by
        else None,
    )
