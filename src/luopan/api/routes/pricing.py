"""``/api/v1/pricing``: elasticities, price suggestions (with export) and the promotion twin.

The workflows are ``luopan pricing elasticity|suggest`` and ``luopan promo simulate``
(``luopan.cli._pricing_data``: ``history_from``, ``elasticities``, ``suggestions``,
``simulate``; imported from the CLI layer, where they live) run on the current warehouse
snapshot's connection. The history and the elasticity fits are
cached once per snapshot version for everyone (they do not depend on the caller); each
caller then sees the rows of their scope.

Scope: the price list is national and a SKU's estimate pools its sales over every store and
the online shops, so a store or region scope is refused (403). A category scope sees the SKUs
of its categories — each SKU's elasticity is fitted on that SKU's own sales and shrunk toward
its own category — and may simulate promotions of its categories only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import pandas as pd
from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from luopan.api.deps import Principal, Services, principal, require, services, verify_csrf
from luopan.api.errors import ApiError, ScopeError
from luopan.api.routes._common import Page, page, paginate, records, safe
from luopan.api.services_ops import SALES_TABLES, XLSX, export_file, scoped_cached

router = APIRouter(prefix="/pricing", tags=["pricing"])

STATUS_LABELS = {
    "ok": {"zh": "已估计", "en": "estimated"},
    "insufficient_variation": {"zh": "价格变动不足", "en": "not enough price variation"},
    "insufficient_data": {"zh": "数据不足", "en": "not enough data"},
    "kept_no_elasticity": {"zh": "无弹性，保持", "en": "no elasticity, kept"},
    "infeasible": {"zh": "约束无解，保持", "en": "rules infeasible, kept"},
}
METRIC_LABELS = {
    "incremental_units": {"zh": "增量销量", "en": "incremental units"},
    "incremental_revenue": {"zh": "增量销售额", "en": "incremental revenue"},
    "incremental_margin": {"zh": "增量毛利", "en": "incremental gross margin"},
    "net_profit": {"zh": "扣除费用后利润", "en": "net of budget"},
    "roi": {"zh": "ROI", "en": "ROI"},
    "stockout_skus": {"zh": "缺货商品数", "en": "SKUs running out"},
    "lost_units": {"zh": "缺货损失件数", "en": "units lost to stock-outs"},
}


def status_label(status: Any, lang: str) -> str:
    return STATUS_LABELS.get(str(status), {}).get(lang, str(status))


def allowed_skus(svc: Services, p: Principal) -> set[str] | None:
    """The SKUs the caller may see (None: all); 403 for a store or region scope."""
    if p.stores is not None or p.regions is not None:
        raise ScopeError(
            "prices and elasticities are national (pooled over every store and the online "
            "shops) and cannot be limited to your stores/regions, so they are not shown "
            "(价格与弹性为全国口径，无法按门店/区域限定)",
            fix="ask for a category-scoped or unscoped account",
        )
    if p.categories is None:
        return None
    prods = history(svc).products
    return set(prods.index[prods["category"].isin(p.categories)])


def history(svc: Services) -> Any:
    """The pricing history (``history_from``) of the current snapshot, shared by everyone."""
    from luopan.cli import _pricing_data as data

    def build() -> Any:
        with svc.connection() as con:
            return data.history_from(con)

    return scoped_cached(svc, None, "pricing_history", (), build, tables=SALES_TABLES)


def elasticities(svc: Services, *, cross: bool) -> Any:
    from luopan.cli import _pricing_data as data

    h = history(svc)
    return scoped_cached(
        svc,
        None,
        "pricing_elasticities",
        (cross,),
        lambda: data.elasticities(h, cross=cross),
        tables=SALES_TABLES,
    )


def _visible(frame: pd.DataFrame, col: str, skus: set[str] | None) -> pd.DataFrame:
    return frame if skus is None else frame[frame[col].isin(skus)]


@router.get("/elasticities", response_model=Page, summary="Price elasticities / 价格弹性")
def get_elasticities(
    sku: str | None = Query(None, max_length=64, description="one SKU / 单个商品"),
    category: str | None = Query(None, max_length=64, description="one category / 品类"),
    status: Literal["ok", "insufficient_variation", "insufficient_data"] | None = None,
    p: Principal = Depends(principal),
    svc: Services = Depends(services),
    paging: tuple[int, int] = Depends(page),
) -> Page:
    """Own-price elasticity per SKU with its 90% interval (shrunk toward the category), the
    category's, promotion multipliers and the cross-price elasticity where supported."""
    skus = allowed_skus(svc, p)
    t = _visible(elasticities(svc, cross=True).table, "unique_id", skus)
    if sku is not None:
        t = t[t["unique_id"] == sku]
    if category is not None:
        t = t[t["group"] == category]
    if status is not None:
        t = t[t["status"] == status]
    out = paginate(t.rename(columns={"unique_id": "sku", "group": "category"}), paging)
    for item in out.items:
        item["status_label"] = status_label(item["status"], p.lang)
    return out


def price_suggestions(svc: Services, p: Principal, objective: str) -> pd.DataFrame:
    """``luopan pricing suggest`` (default rules) limited to the caller's SKUs."""
    from luopan.cli import _pricing_data as data
    from luopan.engines.pricing import PriceRulesFile

    skus = allowed_skus(svc, p)
    h = history(svc)
    est = elasticities(svc, cross=False)

    def build() -> pd.DataFrame:
        res = data.suggestions(h, est, PriceRulesFile(), objective=objective)
        return res.table.merge(
            h.products[["name", "category"]], left_on="sku", right_index=True, how="left"
        )

    table = scoped_cached(svc, None, "price_suggestions", (objective,), build, tables=SALES_TABLES)
    return _visible(table, "sku", skus).reset_index(drop=True)


def suggestion_summary(t: pd.DataFrame) -> dict[str, Any]:
    base = float(t["profit_current"].sum()) if len(t) else 0.0
    new = float(t["profit"].sum()) if len(t) else 0.0
    return {
        "skus": len(t),
        "changed": int((t["change"].abs() > 1e-9).sum()),
        "profit_current": base,
        "profit": new,
        "profit_change": (new - base) / base if base else None,
    }


Objective = Query("profit", description="profit | revenue (with margin floor) / 目标")


@router.get("/suggestions", summary="Price suggestions / 调价建议")
def get_suggestions(
    objective: Literal["profit", "revenue"] = Objective,
    changed: bool = Query(False, description="only changed prices / 仅调价商品"),
    p: Principal = Depends(principal),
    svc: Services = Depends(services),
    paging: tuple[int, int] = Depends(page),
) -> dict[str, Any]:
    """Suggested price per SKU under the default rules (step ≤ 15%, price endings, margin
    floor) with expected units, revenue and profit (28 days) and their intervals."""
    t = price_suggestions(svc, p, objective)
    summary = suggestion_summary(t)
    if changed:
        t = t[t["change"].abs() > 1e-9]
    out = paginate(t, paging)
    for item in out.items:
        item["status_label"] = status_label(item["status"], p.lang)
    return {"objective": objective, "summary": safe(summary), **out.model_dump()}


@router.get(
    "/suggestions/export",
    summary="Export price suggestions / 导出调价建议",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, XLSX: {}}}},
)
def export_suggestions(
    request: Request,
    format: Literal["csv", "xlsx"] = "csv",
    objective: Literal["profit", "revenue"] = Objective,
    p: Principal = Depends(require("export")),
    svc: Services = Depends(services),
) -> Response:
    """Every suggestion as CSV (UTF-8 with BOM) or .xlsx (permission ``export``; audited)."""
    t = price_suggestions(svc, p, objective)
    return export_file(
        request, p, t, what="price_suggestions", fmt=format, detail={"objective": objective}
    )


class PromotionRequest(BaseModel):
    """A promotion plan to rehearse (the fields of a ``luopan promo simulate`` plan file)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field("plan", min_length=1, max_length=100)
    start: dt.date
    end: dt.date
    mechanic: Literal["tpr", "feature", "display", "feature_display"] = "tpr"
    discount: float = Field(ge=0.0, lt=0.9)
    skus: list[str] = Field(default_factory=list, max_length=500)
    categories: list[str] = Field(default_factory=list, max_length=50)
    budget: float = Field(default=0.0, ge=0.0, le=1e12)
    vendor_funding: float = Field(default=0.0, ge=0.0, le=1.0)
    post_days: int = Field(default=7, ge=0, le=60)
    stock_check: bool = True
    seed: int = Field(default=0, ge=0, le=2**31 - 1)

    @model_validator(mode="after")
    def _check(self) -> PromotionRequest:
        if not dt.date(2000, 1, 1) <= self.start <= dt.date(2100, 12, 31):
            raise ValueError("start must be between 2000-01-01 and 2100-12-31")
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        if (self.end - self.start).days >= 92:
            raise ValueError("a promotion lasts at most 92 days")
        if not self.skus and not self.categories:
            raise ValueError("give the promoted `skus` or `categories`")
        for v in (*self.skus, *self.categories):
            if not 1 <= len(v) <= 64:
                raise ValueError("each sku/category has 1 to 64 characters")
        return self


@router.post(
    "/promotions/simulate",
    summary="Simulate a promotion / 促销预演",
    dependencies=[Depends(verify_csrf)],
)
def simulate_promotion(
    plan: PromotionRequest = Body(...),
    p: Principal = Depends(principal),
    svc: Services = Depends(services),
) -> dict[str, Any]:
    """The promotion digital twin: incremental units, revenue, margin, ROI with 90% intervals,
    stock-outs, and the per-SKU forecast (promoted SKUs and the rest of their categories)."""
    from luopan.cli import _pricing_data as data
    from luopan.engines.pricing import PromoPlan

    skus = allowed_skus(svc, p)
    h = history(svc)
    if p.categories is not None:
        cats = set(plan.categories) | set(
            h.products["category"].reindex(plan.skus).dropna().astype(str)
        )
        if not cats <= set(p.categories):
            raise ScopeError(
                f"the plan promotes categories outside your scope: {sorted(cats - p.categories)}",
                fix="promote SKUs and categories of your own categories only",
            )
    known = set(h.products["category"].astype(str))
    unknown = sorted(set(plan.categories) - known)
    if unknown:
        raise ApiError(
            422, "invalid_request", f"unknown categories {unknown[:5]}", fix="use `products` ones"
        )
    spec = PromoPlan(**plan.model_dump(exclude={"seed"}))
    est = elasticities(svc, cross=True)

    def build() -> Any:
        return data.simulate(h, est, spec, seed=plan.seed)

    twin = scoped_cached(
        svc, None, "promo_twin", plan.model_dump_json(), build, tables=SALES_TABLES
    )
    items = _visible(twin.items, "unique_id", skus).rename(columns={"unique_id": "sku"})
    totals = [
        {
            "metric": str(metric),
            "label": METRIC_LABELS.get(str(metric), {}).get(p.lang, str(metric)),
            **{k: safe(row[k]) for k in ("mean", "lower", "upper")},
        }
        for metric, row in twin.totals.iterrows()
    ]
    return {
        "name": twin.name,
        "plan": plan.model_dump(mode="json"),
        "totals": totals,
        "items": records(items),
    }
