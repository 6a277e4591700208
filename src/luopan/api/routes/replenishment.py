"""``/api/v1/replenishment``: purchase suggestions (with CSV/Excel export) and stock health.

Suggestions are ``luopan replenish plan`` on the warehouse instead of a sales file: daily units
per store × SKU over the last 56 days (``HISTORY_DAYS``) of the caller's scoped order lines
(zero-filled, as ``cli._replenish_sales.read_sales`` gives them), the ``DemandForecaster``
fitted on them, and
``plan_orders`` against the last inventory snapshot (on hand + on order) for the order date
after the latest sale. The forecast (60 days, of which a plan uses the first lead time + review
days: each day's forecast does not depend on the horizon) is cached per snapshot version, scope
and store; the plan is cheap, recomputed per parameter set. Reason labels are the CLI's
(``luopan.cli.replenish.label``).

``exog=true`` gives the forecaster the warehouse calendar of those series
(``luopan.cli._replenish_data.calendar_from``: prices, promotion flags, campaigns, read
through the caller's scope; rows dated after the latest sale are the planned calendar) and
so adds ``GlobalGBM`` to its candidates; off by default, because the GBM refits at every CV
origin and makes the first (uncached) request slower. A scope that cannot see the
campaigns forecasts without them; a store scope sees its own stores' price rows only.

Stock health: for each store × SKU on the last inventory day, days of cover = on hand / mean
daily units over the last 28 days, and a status: ``out`` (nothing on hand), ``low`` (cover
below ``low_days``), ``dead`` (stock but no sale in 28 days), ``overstock`` (cover beyond the
shelf life of a perishable, or 60 days), else ``ok``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import numpy as np
import pandas as pd
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from luopan.api.deps import Principal, Services, principal, require, services
from luopan.api.errors import ApiError
from luopan.api.routes._common import page, paginate
from luopan.api.services_ops import (
    SALES_TABLES,
    XLSX,
    export_file,
    latest_date,
    no_data,
    scoped_cached,
    store_lines,
    table,
)

router = APIRouter(prefix="/replenishment", tags=["replenishment"])

STORE = Query(None, max_length=64, description="one store / 门店")
HISTORY_DAYS = 56  # days of sales history the forecaster is fitted on (as the cockpit page)
MAX_COVER = 60  # days forecast once; a plan uses its first lead_time + review days
HEALTH_WINDOW = 28  # days of sales behind the daily rate of stock health
OVERSTOCK_DAYS = 60.0  # cover beyond which non-perishable stock counts as overstock
HEALTH_LABELS = {
    "out": {"zh": "缺货", "en": "out of stock"},
    "low": {"zh": "库存偏低", "en": "low"},
    "dead": {"zh": "滞销", "en": "no sales"},
    "overstock": {"zh": "库存过多", "en": "overstock"},
    "ok": {"zh": "正常", "en": "ok"},
}


def daily_sales(svc: Services, p: Principal, *, days: int, store: str | None) -> pd.DataFrame:
    """``unique_id (store_sku), ds, y``: units per store × SKU and day over the last ``days``
    days before the latest sale in scope, zero-filled; ``attrs["latest"]`` is that day."""
    with svc.connection() as con:
        j = store_lines(svc, p, con)
        if store is not None:
            j = j.filter(j.store_id == store)
        latest = latest_date(j.ordered_at)
        if latest is None:
            raise no_data("sales", "销量")
        start = latest - dt.timedelta(days=days - 1)
        j = j.filter(j.ordered_at.date() >= start)
        expr = j.group_by(store_id=j.store_id, sku=j.sku, ds=j.ordered_at.date()).aggregate(
            y=j.quantity.sum()
        )
        frame = expr.to_pyarrow().to_pandas()
    frame["unique_id"] = frame["store_id"].astype(str) + "_" + frame["sku"].astype(str)
    frame["ds"] = pd.to_datetime(frame["ds"])
    full = pd.MultiIndex.from_product(
        [sorted(frame["unique_id"].unique()), pd.date_range(start, latest)],
        names=["unique_id", "ds"],
    )
    out = (
        frame.groupby(["unique_id", "ds"])["y"]
        .sum()
        .astype(float)
        .reindex(full, fill_value=0.0)
        .reset_index()
    )
    out.attrs["latest"] = latest
    return out


def stock(svc: Services, p: Principal, *, store: str | None) -> pd.DataFrame:
    """``store_id, sku, unique_id, on_hand, on_order`` on the last inventory day in scope."""
    with svc.connection() as con:
        inv = table(svc, p, con, "inventory")
        if store is not None:
            inv = inv.filter(inv.store_id == store)
        last = latest_date(inv.date)
        if last is None:
            frame = pd.DataFrame(columns=["store_id", "sku", "on_hand", "on_order"])
        else:
            snap = inv.filter(inv.date == last)
            frame = snap.select("store_id", "sku", "on_hand", "on_order").to_pyarrow().to_pandas()
    frame["unique_id"] = frame["store_id"].astype(str) + "_" + frame["sku"].astype(str)
    for c in ("on_hand", "on_order"):
        frame[c] = pd.to_numeric(frame[c], errors="coerce").fillna(0.0).astype(float)
    frame.attrs["date"] = last
    return frame


def _products(svc: Services, p: Principal) -> pd.DataFrame:
    with svc.connection() as con:
        prods = table(svc, p, con, "products")
        cols = ["sku", "name", "category", "shelf_life_days"]
        return prods.select(*cols).to_pyarrow().to_pandas().drop_duplicates("sku")


def forecast_sales(svc: Services, p: Principal, sales: pd.DataFrame, *, exog: bool) -> Any:
    """``DemandForecaster`` on ``daily_sales``' frame, ``MAX_COVER`` days ahead; with ``exog``
    the warehouse calendar (history and the planned days ahead) goes along."""
    from luopan.cli._replenish_data import calendar_from, series_keys
    from luopan.engines.replenish import DemandForecaster
    from luopan.engines.replenish.exog import exog_gbm, join_exog

    if not exog:
        return DemandForecaster().fit(sales).predict(MAX_COVER)
    end = pd.Timestamp(sales.attrs["latest"]) + pd.Timedelta(days=MAX_COVER)
    with svc.connection() as con:
        cal = calendar_from(
            set(con.list_tables()),
            lambda name: svc.table(p, name, con),
            series_keys(sales["unique_id"]),
            start=sales["ds"].min(),
            end=end,
        )
    frame, future = join_exog(sales, cal, MAX_COVER)
    return DemandForecaster(gbm=exog_gbm()).fit(frame).predict(MAX_COVER, future=future)


def suggestions(
    svc: Services,
    p: Principal,
    *,
    store: str | None,
    lead_time: int,
    review: int,
    service_level: float,
    moq: float,
    pack_size: float,
    exog: bool = False,
) -> pd.DataFrame:
    """The purchase plan rows (the module docstring), largest order first."""
    from luopan.engines.replenish import plan_orders

    def forecast_all() -> tuple[Any, pd.DataFrame]:
        sales = daily_sales(svc, p, days=HISTORY_DAYS, store=store)
        return forecast_sales(svc, p, sales, exog=exog), sales

    forecast, sales = scoped_cached(
        svc, p, "replenish_forecast", (store, exog), forecast_all, tables=SALES_TABLES
    )
    start = pd.Timestamp(sales.attrs["latest"]) + pd.Timedelta(days=1)
    snap = stock(svc, p, store=store)
    ids = pd.Index(sales["unique_id"].unique(), name="unique_id")
    position = snap.set_index("unique_id")[["on_hand", "on_order"]].reindex(ids).fillna(0.0)
    plan = plan_orders(
        forecast,
        position.reset_index(),
        start=start,
        lead_time=lead_time,
        review_period=review,
        service_level=service_level,
        moq=moq,
        pack_size=pack_size,
    )
    orders = plan.orders.copy()
    parts = orders["unique_id"].str.split("_", n=1, expand=True)
    orders.insert(1, "store_id", parts[0])
    orders.insert(2, "sku", parts[1])
    prods = _products(svc, p)[["sku", "name", "category"]]
    orders = orders.merge(prods, on="sku", how="left")
    orders.insert(0, "order_date", start.date().isoformat())
    stock_date = snap.attrs.get("date")
    orders.insert(1, "stock_date", stock_date.isoformat() if stock_date else None)
    return orders.sort_values(["order_qty", "unique_id"], ascending=[False, True]).reset_index(
        drop=True
    )


class PlanParams:
    def __init__(
        self,
        store: str | None = STORE,
        lead_time: int = Query(1, ge=0, le=30, description="days to delivery / 到货天数"),
        review: int = Query(1, ge=1, le=30, description="days between orders / 订货周期"),
        service_level: float = Query(0.95, gt=0.5, lt=1, description="target quantile / 服务水平"),
        moq: float = Query(0.0, ge=0, le=1e6, description="minimum order / 起订量"),
        pack_size: float = Query(0.0, ge=0, le=1e6, description="units per pack / 箱规"),
        exog: bool = Query(
            False,
            description="forecast with the warehouse calendar (prices, promotions, campaigns) "
            "and the global GBM; slower on a cold cache / 使用价格与促销日历及全局 GBM 预测（首次较慢）",
        ),
    ) -> None:
        self.kwargs: dict[str, Any] = dict(
            store=store,
            lead_time=lead_time,
            review=review,
            service_level=service_level,
            moq=moq,
            pack_size=pack_size,
            exog=exog,
        )


def _labelled(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    from luopan.cli.replenish import label

    out = frame.copy()
    out["reason_label"] = [label(str(r), lang) for r in out["reason"]]
    return out


@router.get("/suggestions", summary="Purchase suggestions / 补货建议")
def get_suggestions(
    params: PlanParams = Depends(),
    to_order: bool = Query(False, description="only rows with an order / 仅需订货"),
    p: Principal = Depends(principal),
    svc: Services = Depends(services),
    paging: tuple[int, int] = Depends(page),
) -> dict[str, Any]:
    """Order quantity per store × SKU in the caller's scope: service level, demand over the
    protection interval, order-up-to level, inventory position and the reason."""
    frame = suggestions(svc, p, **params.kwargs)
    if to_order:
        frame = frame[frame["order_qty"] > 0]
    out = paginate(_labelled(frame, p.lang), paging)
    return {
        "order_date": frame["order_date"].iloc[0] if len(frame) else None,
        "stock_date": frame["stock_date"].iloc[0] if len(frame) else None,
        "summary": {
            "series": len(frame),
            "to_order": int((frame["order_qty"] > 0).sum()),
            "units": float(frame["order_qty"].sum()),
        },
        **out.model_dump(),
    }


@router.get(
    "/suggestions/export",
    summary="Export purchase suggestions / 导出补货建议",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, XLSX: {}}}},
)
def export_suggestions(
    request: Request,
    format: Literal["csv", "xlsx"] = "csv",
    params: PlanParams = Depends(),
    p: Principal = Depends(require("export")),
    svc: Services = Depends(services),
) -> Response:
    """The whole plan as CSV (UTF-8 with BOM) or .xlsx (permission ``export``; audited)."""
    frame = _labelled(suggestions(svc, p, **params.kwargs), p.lang)
    return export_file(request, p, frame, what="replenishment", fmt=format)


def stock_health(svc: Services, p: Principal, *, store: str | None, low_days: float) -> Any:
    snap = stock(svc, p, store=store)
    if snap.empty:
        raise no_data("inventory", "库存")
    date = snap.attrs.get("date")
    try:
        sales = daily_sales(svc, p, days=HEALTH_WINDOW, store=store)
        rate = sales.groupby("unique_id")["y"].mean()
    except ApiError as exc:  # no sales at all in scope: every SKU has a zero rate
        if exc.code != "no_data":
            raise
        rate = pd.Series(dtype=float)
    snap["daily_units"] = snap["unique_id"].map(rate).fillna(0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        cover = snap["on_hand"] / snap["daily_units"]
    snap["days_of_cover"] = cover.where(snap["daily_units"] > 0)
    prods = _products(svc, p).set_index("sku")
    snap = snap.join(prods, on="sku")
    shelf = pd.to_numeric(snap["shelf_life_days"], errors="coerce")
    limit = shelf.where(shelf <= 30, OVERSTOCK_DAYS).fillna(OVERSTOCK_DAYS)
    status = np.select(
        [
            snap["on_hand"] <= 0,
            snap["daily_units"] <= 0,
            snap["days_of_cover"] < low_days,
            snap["days_of_cover"] > limit,
        ],
        ["out", "dead", "low", "overstock"],
        default="ok",
    )
    snap["status"] = status
    snap.insert(0, "stock_date", date.isoformat() if date else None)
    return snap.drop(columns="unique_id").sort_values(["store_id", "sku"]).reset_index(drop=True)


@router.get("/stock-health", summary="Stock health / 库存健康")
def get_stock_health(
    store: str | None = STORE,
    status: Literal["out", "low", "dead", "overstock", "ok"] | None = None,
    low_days: float = Query(3.0, gt=0, le=60, description="cover below this is low / 低库存天数"),
    p: Principal = Depends(principal),
    svc: Services = Depends(services),
    paging: tuple[int, int] = Depends(page),
) -> dict[str, Any]:
    """Per store × SKU on the last inventory day: on hand, on order, daily units (28 days),
    days of cover and status; with a per-store summary."""
    frame = scoped_cached(
        svc,
        p,
        "stock_health",
        (store, low_days),
        lambda: stock_health(svc, p, store=store, low_days=low_days),
        tables=SALES_TABLES,
    )
    summary = []
    for sid, g in frame.groupby("store_id"):
        counts = g["status"].value_counts()
        summary.append(
            {
                "store_id": sid,
                "skus": len(g),
                "on_hand": float(g["on_hand"].sum()),
                "median_days_of_cover": float(g["days_of_cover"].median())
                if g["days_of_cover"].notna().any()
                else None,
                **{f"{k}_share": float(counts.get(k, 0) / len(g)) for k in HEALTH_LABELS},
            }
        )
    rows = frame if status is None else frame[frame["status"] == status]
    rows = rows.assign(status_label=[HEALTH_LABELS[s][p.lang] for s in rows["status"]])
    return {
        "stock_date": frame["stock_date"].iloc[0] if len(frame) else None,
        "labels": {k: v[p.lang] for k, v in HEALTH_LABELS.items()},
        "stores": summary,
        **paginate(rows, paging).model_dump(),
    }


__all__ = ["daily_sales", "forecast_sales", "router", "stock", "stock_health", "suggestions"]
