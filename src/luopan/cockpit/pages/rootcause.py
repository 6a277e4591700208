"""Root cause (根因分析) of a metric's move between two periods, and its metric-tree attribution.

The leaves (one row per combination of the chosen dimensions, observed and baseline values;
numerator and denominator for a ratio metric) are read through ``Services.metric`` so the
principal's scope applies, exactly as ``luopan.decisions.diagnose.metric_leaves`` builds them
from the warehouse; the search is ``luopan.engines.rca.localize`` with the same small-table
fallback (``dominant_element``), explained by ``luopan.engines.rca.explain``. The tree is
``luopan.metrics.attribute_tree`` (LMDI) with the scope's conditions.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd
from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from luopan.cockpit.pages.explorer import DIM_LABELS, metric_dims
from luopan.cockpit.web import Page, cached, latest_day, page, render
from luopan.errors import InsufficientDataError, LuopanError, MetricError
from luopan.metrics.grains import parse_period, period_label, shift
from luopan.metrics.labels import format_value

router = APIRouter(include_in_schema=False)  # pages, not part of the JSON API

Span = tuple[dt.date, dt.date]


def _split(pg: Page, name: str, dims: list[str], span: Span, column: str) -> pd.DataFrame:
    where = pg.filters.conditions(pg.svc.catalog, name)
    frame = pg.svc.metric(pg.p, name, grain=None, by=dims, start=span[0], end=span[1], where=where)
    return frame.rename(columns={"value": column}).set_index(dims)


def leaves(pg: Page, name: str, now: Span, ref: Span, dims: list[str]) -> tuple[str, pd.DataFrame]:
    """``(kind, leaves)`` on the principal's rows (see the module docstring)."""
    m = pg.svc.catalog.metric(name)
    if m.type == "ratio" and m.numerator and m.denominator:
        parts = [
            _split(pg, m.numerator, dims, now, "real_a"),
            _split(pg, m.numerator, dims, ref, "predict_a"),
            _split(pg, m.denominator, dims, now, "real_b"),
            _split(pg, m.denominator, dims, ref, "predict_b"),
        ]
        kind = "ratio"
    else:
        parts = [_split(pg, name, dims, now, "real"), _split(pg, name, dims, ref, "predict")]
        kind = "additive"
    table = pd.concat(parts, axis=1).fillna(0.0).reset_index()
    for d in dims:
        table[d] = table[d].astype("string").fillna("(none)")
    return kind, table


def diagnose(pg: Page, name: str, now: Span, ref: Span, dims: list[str]) -> dict[str, Any]:
    from luopan.decisions.diagnose import dominant_element
    from luopan.engines.rca import explain, localize

    kind, table = leaves(pg, name, now, ref, dims)
    if table.empty:
        raise InsufficientDataError(
            f"{name}: no data in either period", fix="pick periods inside the data"
        )
    result = localize(table, kind=kind, dimensions=dims, max_causes=5)  # type: ignore[arg-type]
    if not result.causes and kind == "additive":
        result = dominant_element(table, dims, result)
    m = pg.svc.catalog.metric(name)
    labels = {d: DIM_LABELS.get(d, {}).get(pg.lang, d) for d in dims}
    text = explain(result, pg.lang, kpi=m.meta.label.get(pg.lang), labels=labels)
    causes = [
        {
            "element": " & ".join(f"{labels.get(d, d)}={v}" for d, v in c.conditions),
            "query": dict(c.conditions),
            "real": format_value(c.real, m) if kind == "additive" else f"{c.real:,.4g}",
            "expected": format_value(c.expected, m) if kind == "additive" else f"{c.expected:,.4g}",
            "contribution": c.contribution,
            "share": c.share,
            "confidence": c.confidence,
        }
        for c in result.causes
    ]
    return {
        "text": text,
        "causes": causes,
        "kind": kind,
        "leaves": result.leaves,
        "real": format_value(result.real, m),
        "expected": format_value(result.expected, m),
        "change_pct": result.relative_change,
        "residual": result.residual,
    }


def tree(pg: Page, name: str, period: str, baseline: str) -> dict[str, Any] | None:
    from luopan.metrics import attribute_tree, tree_for

    catalog = pg.svc.catalog
    spec = tree_for(catalog, name)
    if spec is None:
        return None
    where = [*pg.svc.metric_where(pg.p, spec.root), *pg.filters.conditions(catalog, spec.root)]
    with pg.svc.connection() as con:
        result = attribute_tree(con, catalog, name, period, baseline, lang=pg.lang, where=where)
    total = result.root.change
    nodes = []
    for depth, n in result.root.walk():
        base = catalog.metrics.get(n.metric.split("[")[0])

        def fmt(v: float, b: Any = base) -> str:
            return format_value(v, b) if b is not None else f"{v:,.2f}"

        share = n.contribution / total if total else math.nan
        nodes.append(
            {
                "depth": depth,
                "label": n.label,
                "metric": n.metric.split("[")[0],
                "baseline": fmt(n.baseline),
                "actual": fmt(n.actual),
                "contribution": n.contribution,
                "share": share,
                "bar": min(abs(share), 1.0) * 100 if not math.isnan(share) else 0.0,
            }
        )
    return {
        "label": spec.label.get(pg.lang) if spec.label else spec.name,
        "nodes": nodes,
        "residual": result.residual,
    }


@router.get("/cockpit/metrics/{name}/rca", response_class=HTMLResponse)
def rca_page(name: str, pg: Page = Depends(page)) -> HTMLResponse:
    catalog = pg.svc.catalog
    try:
        m = catalog.metric(name)
    except MetricError as exc:
        return render(pg, "message.html", title=name, nav="metrics", error=exc, status_code=404)
    latest = latest_day(pg)
    q = pg.request.query_params
    available = metric_dims(pg, name)
    chosen = (
        [d for d in q.getlist("dims") if d in available]
        or [d for d in ("channel", "customer__region") if d in available]
        or available[:2]
    )
    result: dict[str, Any] = {}
    try:
        grain = "week" if "week" in m.grains else m.grains[0]
        from luopan.cockpit.data import default_period, metric_tables

        period = q.get("period") or default_period(pg, grain, latest)
        g1, s1, e1 = parse_period(period)
        baseline = q.get("baseline") or period_label(shift(s1, g1, -1), g1)
        g2, s2, e2 = parse_period(baseline)
        if g1 != g2:
            raise MetricError(
                f"period {period} is a {g1} but baseline {baseline} is a {g2}",
                fix="compare periods of the same grain",
            )
        key = (name, period, baseline, tuple(chosen), tuple(sorted(pg.filters.dimensions.items())))
        result["diagnosis"] = cached(
            pg,
            "rca",
            (*key, pg.lang),
            lambda: _safe(diagnose, pg, name, (s1, e1), (s2, e2), chosen),
            tables=metric_tables(pg, name),
        )
        result["tree"] = cached(
            pg,
            "tree",
            (*key, pg.lang),
            lambda: _safe(tree, pg, name, period, baseline),
            tables=metric_tables(pg, name),
        )
    except LuopanError as exc:
        period, baseline = q.get("period", ""), q.get("baseline", "")
        result["error"] = exc
    return render(
        pg,
        "rca.html",
        title=f"{pg.t('root_cause')} · {m.meta.label.get(pg.lang)}",
        nav="metrics",
        latest=latest,
        m=m,
        name=name,
        period=period,
        baseline=baseline,
        available=[(d, DIM_LABELS[d][pg.lang]) for d in available],
        chosen=chosen,
        **result,
    )


def _safe(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except LuopanError as exc:
        return {"error": exc}
