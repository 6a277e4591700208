"""Experiments (实验) and replenishment (补货): simple pages over the engines, as the CLI runs them.

Tables come from ``Services.table`` (scoped); a table that cannot be limited to the
principal's scope (experiments, events …) is refused by the API layer, and the page says so.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd
from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from luopan.cockpit import charts
from luopan.cockpit.web import Page, cached, latest_day, page, render
from luopan.errors import LuopanError

router = APIRouter(include_in_schema=False)  # pages, not part of the JSON API
SERIES = 60  # store × SKU series forecast on the page (largest by recent units)
HISTORY = 56  # days of sales history for the forecast


def guarded(pg: Page, name: str, args: tuple[Any, ...], fn: Any) -> dict[str, Any]:
    """``fn()`` cached; a luopan error (missing table, out of scope) becomes ``{"error"}``."""

    def run() -> dict[str, Any]:
        try:
            return fn()
        except LuopanError as exc:
            return {"error": exc}
        except Exception as exc:  # noqa: BLE001 (e.g. a table the warehouse lacks)
            return {"error": LuopanError(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")}

    return cached(pg, name, args, run)


def _experiments(pg: Page) -> dict[str, Any]:
    from luopan.engines.abtest.aggregate import ibis_daily_assignments, ibis_event_conversion
    from luopan.engines.abtest.programme import review_programme

    with pg.svc.connection() as con:
        exps, asg, ev = (
            pg.svc.table(pg.p, t, con) for t in ("experiments", "assignments", "events")
        )
        experiments = exps.select(
            "experiment_id", "name", "primary_metric", "start_date", "end_date"
        ).execute()
        conversions = ibis_event_conversion(asg, ev, exps).execute()
        daily = ibis_daily_assignments(asg).execute()
    review = review_programme(experiments, conversions, daily, q=0.1)
    rows = list(review.experiments)
    chart = (
        charts.ci_chart(
            [f"{e.experiment_id}" for e in rows],
            [e.lift_abs for e in rows],
            [e.ci_low for e in rows],
            [e.ci_high for e in rows],
            height=max(180, 50 * len(rows) + 60),
        )
        if rows
        else None
    )
    return {
        "rows": rows,
        "chart": chart,
        "skipped": list(review.skipped),
        "q": review.q,
        "win_rate": review.summary.win_rate if review.summary else None,
    }


PLANNER_FIELDS = {  # name: (default, low, high) — inclusive bounds a planner value must meet
    "baseline": (0.03, 1e-6, 0.999999),
    "mde": (0.10, -0.99, 10.0),
    "alpha": (0.05, 1e-6, 0.5),
    "power": (0.8, 0.5, 0.9999),
    "variations": (2, 2, 10),
    "daily": (None, 1, 1e9),
}


def planner(query: Any, lang: str = "zh") -> dict[str, Any]:
    """The sample-size calculator of the experiments page, from the query string.

    Uses ``luopan.engines.abtest.design.plan`` (the same numbers as ``luopan abtest plan``);
    values outside their range come back as ``error`` with the allowed range, never a 500.
    """
    form: dict[str, Any] = {k: v[0] for k, v in PLANNER_FIELDS.items()}
    if "baseline" not in query:
        return {"form": form}
    for key, (_, low, high) in PLANNER_FIELDS.items():
        raw = (query.get(key) or "").strip()
        if not raw and key == "daily":
            continue
        en = lang == "en"
        try:
            value = float(raw)
        except ValueError:
            what = "is not a number" if en else "不是数字"
            fix = (
                f"enter a number in [{low:g}, {high:g}]"
                if en
                else f"请输入 [{low:g}, {high:g}] 内的数"
            )
            return {"form": form, "error": LuopanError(f"{key}={raw[:40]!r} {what}", fix=fix)}
        if not (low <= value <= high) or (key == "mde" and value == 0):
            what = "is out of range" if en else "超出范围"
            fix = (
                f"enter a non-zero number in [{low:g}, {high:g}]"
                if en
                else f"请输入 [{low:g}, {high:g}] 内的非零数"
            )
            return {"form": form, "error": LuopanError(f"{key}={value:g} {what}", fix=fix)}
        form[key] = int(value) if key in ("variations", "daily") else value
    from luopan.engines.abtest.design import plan

    try:
        result = plan(
            form["baseline"],
            form["mde"],
            target_power=form["power"],
            n_variations=form["variations"],
            alpha=form["alpha"],
        )
    except LuopanError as exc:
        return {"form": form, "error": exc}
    days = math.ceil(result.n_total / form["daily"]) if form["daily"] else None
    return {"form": form, "result": result, "days": days}


@router.get("/cockpit/experiments", response_class=HTMLResponse)
def experiments_page(pg: Page = Depends(page)) -> HTMLResponse:
    data = guarded(pg, "experiments", (), lambda: _experiments(pg))
    return render(
        pg,
        "experiments.html",
        title=pg.t("nav_experiments"),
        nav="experiments",
        latest=latest_day(pg),
        data=data,
        planner=planner(pg.request.query_params, pg.lang),
    )


def _sales(pg: Page, latest: dt.date) -> pd.DataFrame:
    """Daily units per store × SKU over the last HISTORY days (zero-filled), scoped."""
    start = latest - dt.timedelta(days=HISTORY - 1)
    with pg.svc.connection() as con:
        lines = pg.svc.table(pg.p, "order_lines", con)
        orders = pg.svc.table(pg.p, "orders", con)
        o = orders.filter(orders.store_id.notnull() & (orders.ordered_at.date() >= start))
        if pg.filters.store:
            o = o.filter(o.store_id == pg.filters.store)
        j = lines.join(o, lines.order_id == o.order_id)
        expr = j.group_by(store_id=j.store_id, sku=j.sku, ds=j.ordered_at.date()).aggregate(
            y=j.quantity.sum()
        )
        frame = expr.to_pandas()
    if frame.empty:
        return frame
    frame["unique_id"] = frame["store_id"].astype(str) + "_" + frame["sku"].astype(str)
    top = frame.groupby("unique_id")["y"].sum().nlargest(SERIES).index
    frame = frame[frame["unique_id"].isin(top)]
    full = pd.MultiIndex.from_product(
        [sorted(frame["unique_id"].unique()), pd.date_range(start, latest)],
        names=["unique_id", "ds"],
    )
    frame["ds"] = pd.to_datetime(frame["ds"])
    return (
        frame.groupby(["unique_id", "ds"])["y"]
        .sum()
        .astype(float)
        .reindex(full, fill_value=0.0)
        .reset_index()
    )


def _stock(pg: Page, latest: dt.date) -> pd.DataFrame:
    with pg.svc.connection() as con:
        inv = pg.svc.table(pg.p, "inventory", con)
        last = inv.date.max().to_pyarrow().as_py()
        snap = inv.filter(inv.date == last)
        if pg.filters.store:
            snap = snap.filter(snap.store_id == pg.filters.store)
        frame = snap.select("store_id", "sku", "on_hand", "on_order").to_pandas()
    frame["unique_id"] = frame["store_id"].astype(str) + "_" + frame["sku"].astype(str)
    frame.attrs["date"] = last
    return frame


def _replenish(pg: Page, latest: dt.date) -> dict[str, Any]:
    from luopan.engines.replenish import DemandForecaster, plan_orders

    sales = _sales(pg, latest)
    stock = _stock(pg, latest)
    health = []
    if not stock.empty:
        recent = sales.groupby("unique_id")["y"].mean() if not sales.empty else pd.Series()
        stock["daily"] = stock["unique_id"].map(recent)
        for store, g in stock.groupby("store_id"):
            cover = (g["on_hand"] / g["daily"].where(g["daily"] > 0)).dropna()
            health.append(
                {
                    "store": store,
                    "skus": len(g),
                    "out": float((g["on_hand"] <= 0).mean()),
                    "on_hand": float(g["on_hand"].sum()),
                    "cover": float(cover.median()) if len(cover) else float("nan"),
                }
            )
    if sales.empty:
        return {"orders": [], "health": health, "stock_date": stock.attrs.get("date")}
    start = pd.Timestamp(latest) + pd.Timedelta(days=1)
    forecast = DemandForecaster().fit(sales).predict(2)
    snap = stock.set_index("unique_id").reindex(sales["unique_id"].unique())
    snap = snap.reset_index()[["unique_id", "on_hand", "on_order"]].fillna(0.0)
    plan = plan_orders(
        forecast, snap, start=start, lead_time=1, review_period=1, service_level=0.95
    )
    orders = plan.orders.sort_values("order_qty", ascending=False)
    return {
        "orders": orders.head(40).to_dict(orient="records"),
        "health": health,
        "stock_date": stock.attrs.get("date"),
        "start": start.date(),
        "series": sales["unique_id"].nunique(),
    }


@router.get("/cockpit/replenishment", response_class=HTMLResponse)
def replenishment_page(pg: Page = Depends(page)) -> HTMLResponse:
    latest = latest_day(pg)
    data = guarded(pg, "replenish", (latest, pg.filters.store), lambda: _replenish(pg, latest))
    from luopan.cockpit.data import filter_options

    return render(
        pg,
        "replenishment.html",
        title=pg.t("nav_replenish"),
        nav="replenish",
        latest=latest,
        data=data,
        options=filter_options(pg),
    )
