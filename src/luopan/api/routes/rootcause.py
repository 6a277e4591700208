"""``/api/v1/metrics/{name}/rootcause``: multi-dimensional root cause of a metric's move.

The leaves (one row per combination of the chosen dimensions with the observed value of the
period and the baseline period as expectation; numerator and denominator for a ratio metric)
are read through ``Services.metric``, so the caller's scope applies, as
``luopan.decisions.diagnose.metric_leaves`` builds them; the search is
``luopan.engines.rca.localize`` with the small-table fallback ``dominant_element`` and the
zh/en explanation ``luopan.engines.rca.explain`` (the method and its references are in
``luopan.engines.rca.search``). This route only assembles the scoped leaves and renders.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from fastapi import APIRouter, Depends, Query

from luopan.api.deps import Principal, Services, principal, services
from luopan.api.errors import ApiError
from luopan.api.routes._common import records, safe
from luopan.api.scope import leaf_models
from luopan.errors import InsufficientDataError, MetricError

router = APIRouter(prefix="/metrics", tags=["metrics"])

DIMENSIONS = ("channel", "store__region", "store_id", "customer__region", "product__category")
DIM_LABELS = {
    "channel": {"zh": "渠道", "en": "channel"},
    "store__region": {"zh": "门店大区", "en": "store region"},
    "store_id": {"zh": "门店", "en": "store"},
    "customer__region": {"zh": "客户大区", "en": "customer region"},
    "product__category": {"zh": "品类", "en": "category"},
}


def metric_dims(svc: Services, name: str) -> list[str]:
    """The dimensions that resolve on every model ``name`` is computed from."""
    from luopan.metrics.catalog import resolvable

    models = [svc.catalog.models[m] for m in leaf_models(svc.catalog, name)]
    return [d for d in DIMENSIONS if all(resolvable(svc.catalog, m, d) for m in models)]


def _span(period: str) -> tuple[str, dt.date, dt.date]:
    from luopan.metrics import parse_period

    try:
        return parse_period(period)
    except (ValueError, OverflowError) as exc:
        raise MetricError(str(exc), fix="write 2026-W45, 2026-11, 2026-Q3 or 2026") from None


def leaves(
    svc: Services,
    p: Principal,
    name: str,
    now: tuple[dt.date, dt.date],
    ref: tuple[dt.date, dt.date],
    dims: list[str],
) -> tuple[str, pd.DataFrame]:
    """``(kind, leaves)`` on the caller's rows."""

    def split(metric: str, span: tuple[dt.date, dt.date], column: str) -> pd.DataFrame:
        f = svc.metric(p, metric, grain=None, by=dims, start=span[0], end=span[1])
        return f.rename(columns={"value": column}).set_index(dims)[[column]]

    m = svc.catalog.metric(name)
    if m.type == "ratio" and m.numerator and m.denominator:
        parts = [
            split(m.numerator, now, "real_a"),
            split(m.numerator, ref, "predict_a"),
            split(m.denominator, now, "real_b"),
            split(m.denominator, ref, "predict_b"),
        ]
        kind = "ratio"
    else:
        parts = [split(name, now, "real"), split(name, ref, "predict")]
        kind = "additive"
    table = pd.concat(parts, axis=1).fillna(0.0).reset_index()
    for d in dims:
        table[d] = table[d].astype("string").fillna("(none)").astype(str)
    return kind, table


@router.get("/{name}/rootcause", summary="Root cause of a metric change / 指标根因分析")
def rootcause(
    name: str,
    period: str | None = Query(None, max_length=16, description="2026-W45, 2026-11 …"),
    baseline: str | None = Query(None, max_length=16, description="default: the period before"),
    dims: list[str] = Query([], max_length=3, description="dimensions / 维度 (≤ 3)"),
    p: Principal = Depends(principal),
    svc: Services = Depends(services),
) -> dict[str, Any]:
    """The elements (dimension values and their combinations) that explain the change of the
    metric from ``baseline`` to ``period``, with contributions, shares and an explanation."""
    from luopan.decisions.diagnose import dominant_element
    from luopan.engines.rca import explain, localize
    from luopan.metrics import period_label
    from luopan.metrics.grains import shift

    if name not in svc.catalog.metrics:
        raise ApiError(404, "not_found", f"no metric {name!r}", fix="see GET /api/v1/metrics")
    m = svc.catalog.metric(name)
    available = metric_dims(svc, name)
    bad = [d for d in dims if d not in available]
    if bad or len(set(dims)) != len(dims):
        raise ApiError(
            422,
            "invalid_request",
            f"dimensions {bad or dims} not usable for {name!r}",
            fix=f"choose distinct ones of {available}",
        )
    chosen = dims or [d for d in ("channel", "customer__region") if d in available] or available[:2]
    if not chosen:
        raise MetricError(f"{name!r} has no breakdown dimension", fix="pick another metric")
    svc.metric_where(p, name)  # 403 for a metric the scope cannot take
    if period is None:
        grain = "week" if "week" in m.grains else "month"
        with svc.connection() as con:
            period = svc.latest_period(con, grain)
    g1, s1, e1 = _span(period)
    try:
        baseline = baseline or period_label(shift(s1, g1, -1), g1)
    except (ValueError, OverflowError) as exc:  # before year 1
        raise MetricError(str(exc), fix="pick a later period") from None
    g2, s2, e2 = _span(baseline)
    if g1 != g2:
        raise MetricError(
            f"period {period} is a {g1} but baseline {baseline} is a {g2}",
            fix="compare periods of the same grain",
        )
    kind, table = leaves(svc, p, name, (s1, e1), (s2, e2), chosen)
    if table.empty:
        raise InsufficientDataError(
            f"{name}: no data in either period", fix="pick periods inside the data"
        )
    result = localize(table, kind=kind, dimensions=chosen, max_causes=5)  # type: ignore[arg-type]
    if not result.causes and kind == "additive":
        result = dominant_element(table, chosen, result)
    labels = {d: DIM_LABELS[d][p.lang] for d in chosen}
    text = explain(result, p.lang, kpi=m.meta.label.get(p.lang), labels=labels)
    return {
        "metric": name,
        "label": m.meta.label.get(p.lang),
        "period": period,
        "baseline": baseline,
        "dimensions": chosen,
        "dimension_labels": labels,
        "kind": kind,
        "explanation": text,
        "real": safe(result.real),
        "expected": safe(result.expected),
        "change_pct": safe(result.relative_change),
        "residual": safe(result.residual),
        "causes": [
            {
                "conditions": dict(c.conditions),
                "element": " & ".join(f"{labels.get(d, d)}={v}" for d, v in c.conditions),
                "real": safe(c.real),
                "expected": safe(c.expected),
                "contribution": safe(c.contribution),
                "share": safe(c.share),
                "confidence": safe(c.confidence),
            }
            for c in result.causes
        ],
        "leaves": records(table),
    }
