"""Pricing (定价): elasticities, price suggestions and the promotion simulator form.

The data are the API's (``luopan.api.routes.pricing``): the same history, fits and scope rules
(a store or region scope is refused, since prices and elasticities are national; a category
scope sees its own SKUs). The fits take seconds, so the panels are computed by the cache
warmer and show a placeholder meanwhile. The simulator form is a GET (it changes nothing),
validated by the API's ``PromotionRequest``; a bad value becomes a banner naming the field.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from luopan.cockpit import charts
from luopan.cockpit.web import Page, Pending, cached, latest_day, page, render
from luopan.errors import LuopanError

router = APIRouter(include_in_schema=False)
TOP = 25  # rows per table


def _elasticities(pg: Page) -> dict[str, Any]:
    from luopan.api.routes import pricing as api

    skus = api.allowed_skus(pg.svc, pg.p)
    t = api.elasticities(pg.svc, cross=True).table
    t = t if skus is None else t[t["unique_id"].isin(skus)]
    ok = t[t["status"] == "ok"].sort_values("units", ascending=False)
    top = ok.head(TOP)
    # the best-selling SKUs, estimated or not (a status and the category's value instead)
    listed = t.sort_values(["units", "unique_id"], ascending=[False, True]).head(TOP)
    chart = (
        charts.ci_chart(
            top["unique_id"].astype(str).tolist(),
            top["elasticity"].tolist(),
            top["lower"].tolist(),
            top["upper"].tolist(),
            height=max(200, 22 * len(top) + 60),
        )
        if len(top)
        else None
    )
    return {
        "rows": listed.to_dict(orient="records"),
        "chart": chart,
        "ok": len(ok),
        "total": len(t),
        "median": float(ok["elasticity"].median()) if len(ok) else float("nan"),
    }


def _suggestions(pg: Page) -> dict[str, Any]:
    from luopan.api.routes import pricing as api

    t = api.price_suggestions(pg.svc, pg.p, "profit")
    summary = api.suggestion_summary(t)
    moved = t[t["change"].abs() > 1e-9].copy()
    moved["gain"] = moved["profit"] - moved["profit_current"]
    return {"rows": moved.nlargest(TOP, "gain").to_dict(orient="records"), **summary}


def _panel(pg: Page, name: str, build: Any) -> dict[str, Any]:
    try:
        from luopan.api.services_ops import SALES_TABLES

        return dict(cached(pg, name, (pg.lang,), build, slow=True, tables=SALES_TABLES))
    except Pending:
        return {"pending": True}
    except LuopanError as exc:
        return {"error": exc}


def simulator_form(query: Any, latest: dt.date) -> dict[str, Any]:
    """The form's values (defaults: a week starting a week after the last sales day, 20% off)."""
    return {
        "category": (query.get("promo_category") or "").strip()[:64],
        "discount": (query.get("promo_discount") or "0.2").strip()[:16],
        "start": (query.get("promo_start") or str(latest + dt.timedelta(days=7))).strip()[:10],
        "days": (query.get("promo_days") or "7").strip()[:4],
    }


def _simulate(pg: Page, form: dict[str, Any]) -> dict[str, Any] | None:
    """The twin's totals for the form's plan (None when the form was not submitted)."""
    from luopan.api.errors import ApiError
    from luopan.api.routes import pricing as api

    if not form["category"]:
        return None
    try:
        start = dt.date.fromisoformat(form["start"])
        days = int(form["days"])
        if not 1 <= days <= 92:
            raise ValueError("days")
        plan = api.PromotionRequest(
            name="cockpit",
            start=start,
            end=start + dt.timedelta(days=days - 1),
            discount=float(form["discount"]),
            categories=[form["category"]],
        )
    except (ValueError, ValidationError, OverflowError) as exc:
        field = exc.errors()[0]["loc"][0] if isinstance(exc, ValidationError) else None
        en = pg.lang == "en"
        what = f" ({field})" if field else ""
        return {
            "error": LuopanError(
                f"the promotion plan is not valid{what}" if en else f"促销方案无效{what}",
                fix="start YYYY-MM-DD, 1–92 days, discount 0–0.9 (e.g. 0.2 = 20% off)"
                if en
                else "开始日期 YYYY-MM-DD，1–92 天，折扣 0–0.9（0.2 即 八折）",
            )
        }
    try:
        out = api.simulate_promotion(plan=plan, p=pg.p, svc=pg.svc)
    except (LuopanError, ApiError) as exc:
        return {"error": exc}
    return {"totals": out["totals"], "items": len(out["items"])}


def _categories(pg: Page) -> list[str]:
    from luopan.api.routes import pricing as api

    try:
        products = api.history(pg.svc).products
    except LuopanError:
        return []
    cats = sorted(products["category"].dropna().astype(str).unique())
    return cats if pg.p.categories is None else [c for c in cats if c in pg.p.categories]


@router.get("/cockpit/pricing", response_class=HTMLResponse)
def pricing_page(pg: Page = Depends(page)) -> HTMLResponse:
    from luopan.api.routes import pricing as api

    latest = latest_day(pg)
    try:  # a store or region scope is refused: prices and elasticities are national
        if pg.p.scoped:
            api.allowed_skus(pg.svc, pg.p)
    except LuopanError as exc:
        return render(pg, "message.html", title=pg.t("nav_pricing"), nav="pricing", error=exc)
    form = simulator_form(pg.request.query_params, latest)
    return render(
        pg,
        "pricing.html",
        title=pg.t("nav_pricing"),
        nav="pricing",
        latest=latest,
        elasticity=_panel(pg, "elasticities", lambda: _elasticities(pg)),
        suggestions=_panel(pg, "price_suggestions", lambda: _suggestions(pg)),
        form=form,
        categories=_categories(pg),
        sim=_simulate(pg, form),
        status_label=lambda s: api.status_label(s, pg.lang),
        isnan=lambda v: v is None or pd.isna(v),
    )
