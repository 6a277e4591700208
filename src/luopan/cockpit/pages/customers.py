"""Customers (客户): RFM matrix, CLV distribution, churn risk and the recall list with export.

The purchases are the principal's scoped orders (``luopan.api.routes.customers.purchases``)
and the recall list is the API's own ``recall_table`` (same parameters, same cache), so the
list on the page is the list the CSV export link downloads.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import numpy as np
import pandas as pd
from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from luopan.cockpit import charts
from luopan.cockpit.web import Page, Pending, cached, latest_day, page, render

router = APIRouter(include_in_schema=False)  # pages, not part of the JSON API

RECALL_DEFAULTS = {
    "horizon_days": 45,
    "p_respond": 0.2,
    "contact_cost": 0.5,
    "holdout": 0.2,
    "seed": 0,
}


def _recall_params(pg: Page) -> dict[str, Any]:
    q = pg.request.query_params
    out: dict[str, Any] = {}
    bounds = {
        "horizon_days": (30, 90),
        "p_respond": (0.01, 1.0),
        "contact_cost": (0.0, 1e6),
        "holdout": (0.0, 0.9),
        "seed": (0, 2**31 - 1),
    }
    for key, default in RECALL_DEFAULTS.items():
        try:
            value = type(default)(q.get(key, default))
        except ValueError:
            value = default
        lo, hi = bounds[key]
        out[key] = value if lo <= value <= hi else default
    if out["horizon_days"] not in (30, 45, 60, 90):  # the windows the churn model offers
        out["horizon_days"] = RECALL_DEFAULTS["horizon_days"]
    return out


def _rfm(pg: Page, frame: pd.DataFrame) -> dict[str, Any]:
    from luopan.engines.customers.rfm import rfm_segments

    result = rfm_segments(frame, customer_col="customer_id", date_col="day", amount_col="amount")
    c = result.customers
    matrix = c.groupby(["r", "f"]).size().unstack(fill_value=0)
    matrix = matrix.reindex(index=range(1, 6), columns=range(1, 6), fill_value=0)
    segs = result.segments
    return {
        "chart": charts.heatmap(
            matrix.to_numpy().tolist(),
            [str(f) for f in matrix.columns],
            [str(r) for r in matrix.index],
            x_title=pg.t("frequency_score"),
            y_title=pg.t("recency_score"),
        ),
        "matrix": matrix.to_numpy().tolist(),
        "segments": [
            {
                "name": r.name_en if pg.lang == "en" else r.name_zh,
                "customers": int(r.customers),
                "share": float(r.customer_share),
                "value_share": float(r.value_share),
            }
            for r in segs.itertuples()
        ],
        "customers": len(c),
    }


def _clv(pg: Page, frame: pd.DataFrame) -> dict[str, Any]:
    from luopan.engines.customers.clv import fit_clv
    from luopan.engines.customers.summary import summarize_transactions

    summary = summarize_transactions(
        frame, customer_col="customer_id", date_col="day", amount_col="amount", time_unit="day"
    )
    clv = fit_clv(summary, horizon_days=365).predictions["clv"].dropna()
    top = clv.quantile(0.99) if len(clv) else 0.0
    return {
        "chart": charts.histogram(clv.clip(upper=top).tolist(), name=pg.t("clv"), bins=40),
        "mean": float(clv.mean()) if len(clv) else float("nan"),
        "median": float(clv.median()) if len(clv) else float("nan"),
        "total": float(clv.sum()),
        "customers": len(clv),
    }


@router.get("/cockpit/customers", response_class=HTMLResponse)
def customers_page(pg: Page = Depends(page)) -> HTMLResponse:
    from luopan.api.routes.customers import purchases, recall_table

    latest = latest_day(pg)
    params = _recall_params(pg)
    try:
        frame = cached(pg, "purchases", (), lambda: purchases(pg.svc, pg.p), tables=())
    except Exception as exc:  # noqa: BLE001 (ApiError 404: no purchases in the scope)
        return render(pg, "message.html", title=pg.t("nav_customers"), nav="customers", error=exc)
    rfm = _panel(
        lambda: cached(pg, "rfm", (pg.lang,), lambda: _rfm(pg, frame), slow=True, tables=())
    )
    clv = _panel(
        lambda: cached(pg, "clv", (pg.lang,), lambda: _clv(pg, frame), slow=True, tables=())
    )
    kwargs = {
        "horizon_days": params["horizon_days"],
        "p_respond": params["p_respond"],
        "contact_cost": params["contact_cost"],
        "holdout_share": params["holdout"],
        "seed": params["seed"],
    }
    try:  # the churn model fit (seconds): computed by the warmer, not by the request
        recall = cached(
            pg,
            "recall",
            tuple(sorted(kwargs.items())),
            lambda: recall_table(pg.svc, pg.p, **kwargs),
            slow=True,
            tables=(),
        )
    except Pending:
        recall = None
    changed = {k: v for k, v in params.items() if v != RECALL_DEFAULTS[k]}
    export = "/api/v1/customers/recall/export?" + urlencode({"format": "csv", **changed})
    if recall is None:
        churn: dict[str, Any] = {"pending": True}
        listed: dict[str, Any] = {"pending": True}
    else:
        p_churn = recall["p_churn"].to_numpy(dtype=float)
        churn = {
            "chart": charts.histogram(p_churn.tolist(), name=pg.t("p_churn"), bins=20),
            "listed": len(recall),
            "high": int((p_churn > 0.7).sum()),
            "mean": float(np.mean(p_churn)) if len(p_churn) else float("nan"),
        }
        listed = {
            "rows": recall.head(25).to_dict(orient="records"),
            "contacts": int((recall["group"] == "contact").sum()),
            "value": float(recall.loc[recall["group"] == "contact", "expected_value"].sum()),
        }
    return render(
        pg,
        "customers.html",
        title=pg.t("nav_customers"),
        nav="customers",
        latest=latest,
        rfm=rfm,
        clv=clv,
        churn=churn,
        params=params,
        export_url=export,
        can_export=pg.p.can("export"),
        recall=listed,
    )


def _panel(get: Any) -> dict[str, Any]:
    """A panel's data, or ``{"pending": True}`` while the warmer computes it."""
    try:
        return dict(get())
    except Pending:
        return {"pending": True}
