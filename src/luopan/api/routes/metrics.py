"""``/api/v1/metrics``: the catalog, metric queries with comparisons, and the metric tree."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query

from luopan.api.deps import Principal, Services, principal, services
from luopan.api.errors import ApiError, ScopeError
from luopan.api.routes._common import Page, page, paginate, records, safe
from luopan.api.scope import metric_conditions
from luopan.api.snapshot import data_version
from luopan.errors import MetricError

router = APIRouter(prefix="/metrics", tags=["metrics"])

GrainParam = Literal["day", "week", "month", "quarter", "year", "total"]


def _known(svc: Services, name: str) -> None:
    if name not in svc.catalog.metrics:
        raise ApiError(404, "not_found", f"no metric {name!r}", fix="see GET /api/v1/metrics")


@router.get("", response_model=Page, summary="List the metric catalog / 指标目录")
def list_metrics(
    p: Principal = Depends(principal),
    svc: Services = Depends(services),
    paging: tuple[int, int] = Depends(page),
) -> Page:
    scope = svc.scope(p)
    items = []
    for name, m in svc.catalog.metrics.items():
        try:
            metric_conditions(svc.catalog, name, scope)
            available = True
        except ScopeError:
            available = False
        items.append(
            {
                "name": name,
                "type": m.type,
                "label": m.meta.label.get(p.lang),
                "label_zh": m.meta.label.zh,
                "label_en": m.meta.label.en,
                "description": m.meta.description.get(p.lang) if m.meta.description else None,
                "unit": m.meta.unit,
                "format": m.meta.format,
                "direction": m.meta.direction,
                "perspective": m.meta.perspective,
                "north_star": m.meta.north_star,
                "grains": list(m.grains),
                "targets": dict(m.meta.targets),
                "available": available,
            }
        )
    return paginate(items, paging)


@router.get("/{name}", summary="Query a metric / 查询指标")
def query(
    name: str,
    grain: GrainParam = "day",
    by: list[str] = Query([], description="dimensions, e.g. channel, store__region"),
    start: dt.date | None = None,
    end: dt.date | None = None,
    compare: Literal["pop", "yoy", "festival"] | None = None,
    p: Principal = Depends(principal),
    svc: Services = Depends(services),
    paging: tuple[int, int] = Depends(page),
) -> dict[str, Any]:
    """Rows of ``period``, the ``by`` columns and ``value`` (with ``compare``: compare_value,
    change, change_pct), limited to the caller's scope."""
    _known(svc, name)
    if len(by) > 3:
        raise ApiError(422, "invalid_request", "at most 3 by dimensions", fix="drop some")
    if start is not None and end is not None and end <= start:
        raise ApiError(422, "invalid_request", "end must be after start", fix="swap them")
    frame = svc.metric(
        p,
        name,
        grain=None if grain == "total" else grain,
        by=by,
        start=start,
        end=end,
        compare=compare,
    )
    out = paginate(frame, paging)
    m = svc.catalog.metric(name)
    return {
        "metric": name,
        "label": m.meta.label.get(p.lang),
        "unit": m.meta.unit,
        "format": m.meta.format,
        "grain": grain,
        **out.model_dump(),
    }


@router.get("/{name}/tree", summary="Metric tree attribution / 指标树归因")
def tree(
    name: str,
    period: str | None = Query(None, description="2026-W45, 2026-11 … (default: last month)"),
    baseline: str | None = Query(None, description="default: the period before"),
    p: Principal = Depends(principal),
    svc: Services = Depends(services),
) -> dict[str, Any]:
    """Split the change of a metric between two periods among its tree's drivers (LMDI)."""
    from luopan.metrics import attribute_tree, parse_period, period_label, tree_for
    from luopan.metrics.grains import shift

    _known(svc, name)
    spec = tree_for(svc.catalog, name)
    if spec is None:
        raise ApiError(
            404, "not_found", f"no tree decomposes {name!r}", fix="see GET /api/v1/metrics"
        )
    nodes, todo = {spec.root}, list(spec.drivers)
    while todo:
        n = todo.pop()
        if n in nodes or n not in svc.catalog.metrics:
            continue
        nodes.add(n)
        sub = tree_for(svc.catalog, n)
        if sub is not None:
            todo.extend(sub.drivers)
    where = metric_conditions(svc.catalog, sorted(nodes), svc.scope(p))
    with svc.connection() as con:
        try:
            period = period or svc.latest_period(con, "month")
            grain, start, _ = parse_period(period)
            baseline = baseline or period_label(shift(start, grain, -1), grain)
            parse_period(baseline)
        except (ValueError, OverflowError) as exc:  # 0001-01 has no period before it
            raise MetricError(str(exc), fix="write 2026-W45, 2026-11, 2026-Q3 or 2026") from None
        tables = {"orders"}.union(*(svc.catalog.tables(n) for n in nodes))
        key = ("tree", data_version(con, tables), name, period, baseline, p.lang, repr(where))
        result = svc.cached(
            key,
            lambda: attribute_tree(
                con, svc.catalog, name, period, baseline, lang=p.lang, where=where
            ),
        )
    return {
        "metric": result.metric,
        "period": result.period,
        "baseline": result.baseline,
        "residual": safe(result.residual),
        "nodes": records(result.to_table()),
    }
