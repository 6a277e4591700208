"""``/api/v1/customers``: RFM segments and the recall list (CSV/Excel export), in scope.

The purchases behind every customer analysis are the caller's scoped ``orders`` (net paid
amount per customer and day, aggregated in DuckDB exactly as ``luopan customers`` does), so a
store manager's segments and recall list are built from their stores' purchases only; the churn
model's product mix reads the SKUs of those orders' scoped ``order_lines`` (line counts per
customer, day and SKU, also counted in DuckDB). The
engines are the ones the CLI runs (``rfm_segments``, ``fit_clv``, ``ChurnModel``,
``recall_list``).
"""

from __future__ import annotations

import io
from typing import Any, Literal

import pandas as pd
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from luopan.api.deps import Principal, Services, audit, principal, require, services
from luopan.api.errors import ApiError
from luopan.api.routes._common import Page, page, paginate, records
from luopan.api.services_ops import SCOPE_TABLES
from luopan.api.snapshot import data_version

router = APIRouter(prefix="/customers", tags=["customers"])
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def purchases(svc: Services, p: Principal) -> pd.DataFrame:
    """Net paid amount per customer and day from the caller's scoped orders."""
    from luopan.warehouse.customer_reads import paid_orders

    with svc.connection() as con:
        expr = (
            paid_orders(svc.table(p, "orders", con))
            .group_by(["customer_id", "day"])
            .aggregate(amount=lambda t: t.amount.sum())
        )
        frame = expr.to_pyarrow().to_pandas()
    if frame.empty:
        raise ApiError(404, "no_data", "no purchases in your scope", fix="check your scope")
    frame["day"] = pd.to_datetime(frame["day"])
    return frame.sort_values(["customer_id", "day"]).reset_index(drop=True)


def purchase_items(svc: Services, p: Principal) -> pd.DataFrame | None:
    """Order lines per customer, day and SKU of the purchases ``purchases`` reads: the caller's
    scoped orders joined to their scoped order lines (counted in DuckDB; the churn model's
    product mix). None without order lines."""
    from luopan.warehouse.customer_reads import item_frame
    from luopan.warehouse.customer_reads import purchase_items as items_expr

    with svc.connection() as con:
        if "order_lines" not in set(con.list_tables()):
            return None
        frame = item_frame(
            items_expr(svc.table(p, "orders", con), svc.table(p, "order_lines", con))
        )
    return None if frame is None else frame.rename(columns={"customer_id": "customer"})


def _family(p: Principal, *parts: Any) -> tuple[Any, ...]:
    """A cache family: the caller's scope and ``parts`` (the key without the data version)."""
    return (p.stores, p.regions, p.categories, *parts)


def _key(svc: Services, family: tuple[Any, ...]) -> tuple[Any, ...]:
    """A cache key: the version of what the customer models read (the scoped orders) and the
    family, so a refresh of other tables (events, mentions …) keeps the fitted models."""
    with svc.connection() as con:
        return (data_version(con, SCOPE_TABLES), *family)


def _cached(svc: Services, p: Principal, build: Any, *parts: Any) -> Any:
    family = _family(p, *parts)
    return svc.cached(_key(svc, family), build, family=family)


@router.get("/segments", response_model=Page, summary="RFM segments / RFM 客户分群")
def segments(
    p: Principal = Depends(principal),
    svc: Services = Depends(services),
    paging: tuple[int, int] = Depends(page),
) -> Page:
    """Named RFM segments with customer and value shares."""
    from luopan.engines.customers.rfm import rfm_segments

    def build() -> pd.DataFrame:
        frame = purchases(svc, p)
        return rfm_segments(
            frame, customer_col="customer_id", date_col="day", amount_col="amount"
        ).segments

    table = _cached(svc, p, build, "rfm")
    items = records(table.reset_index() if table.index.name else table)
    for item in items:
        item["name"] = item.get("name_en") if p.lang == "en" else item.get("name_zh")
    return paginate(items, paging)


def recall_table(
    svc: Services,
    p: Principal,
    *,
    horizon_days: int,
    p_respond: float,
    contact_cost: float,
    holdout_share: float,
    seed: int,
) -> pd.DataFrame:
    """The ranked recall list (the ``luopan customers recall`` pipeline on scoped orders)."""
    from luopan.engines.customers.churn import ChurnModel
    from luopan.engines.customers.clv import fit_clv
    from luopan.engines.customers.recall import recall_list
    from luopan.engines.customers.summary import summarize_transactions

    def scores() -> pd.DataFrame:  # CLV and churn risk: the expensive part, per horizon
        frame = purchases(svc, p)
        summary = summarize_transactions(
            frame, customer_col="customer_id", date_col="day", amount_col="amount", time_unit="day"
        )
        clv = fit_clv(summary, horizon_days=365).predictions
        occasions = frame.rename(columns={"customer_id": "customer"})
        items = purchase_items(svc, p)
        as_of = pd.Timestamp(frame["day"].max())
        churn = ChurnModel(horizon_days=horizon_days).fit(occasions, as_of, items)
        risk = churn.predict_frame(occasions, as_of, items)["p_churn"]
        return clv[["clv"]].join(risk, how="inner")

    def build() -> pd.DataFrame:
        table_in = _cached(svc, p, scores, "clv_churn", horizon_days)
        result = recall_list(
            table_in,
            p_respond=p_respond,
            contact_cost=contact_cost,
            holdout_share=holdout_share,
            seed=seed,
        )
        result.index.name = "customer_id"
        return result.reset_index()

    params = (horizon_days, p_respond, contact_cost, holdout_share, seed)
    return _cached(svc, p, build, "recall", params)


class RecallParams:
    def __init__(
        self,
        horizon_days: Literal[30, 45, 60, 90] = Query(
            45, description="churn window in days / 流失预测窗口(天)"
        ),
        p_respond: float = Query(0.2, gt=0, le=1, description="response probability / 响应概率"),
        contact_cost: float = Query(0.5, ge=0, le=1e6, description="cost per contact / 触达成本"),
        holdout: float = Query(0.2, ge=0, lt=1, description="random holdout share / 留出比例"),
        seed: int = Query(0, ge=0, le=2**31 - 1, description="holdout draw / 留出种子"),
    ) -> None:
        self.kwargs: dict[str, Any] = dict(
            horizon_days=horizon_days,
            p_respond=p_respond,
            contact_cost=contact_cost,
            holdout_share=holdout,
            seed=seed,
        )


@router.get("/recall", response_model=Page, summary="Recall list / 召回名单")
def recall(
    params: RecallParams = Depends(),
    p: Principal = Depends(principal),
    svc: Services = Depends(services),
    paging: tuple[int, int] = Depends(page),
) -> Page:
    """Customers ranked by CLV × P(churn) × P(respond) − cost, with a random holdout."""
    return paginate(recall_table(svc, p, **params.kwargs), paging)


@router.get(
    "/recall/export",
    summary="Export the recall list / 导出召回名单",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, _XLSX: {}}}},
)
def recall_export(
    request: Request,
    format: Literal["csv", "xlsx"] = "csv",
    params: RecallParams = Depends(),
    p: Principal = Depends(require("export")),
    svc: Services = Depends(services),
) -> Response:
    """The whole recall list as CSV (UTF-8 with BOM, opens in Excel) or .xlsx (permission
    ``export``; audited)."""
    table = recall_table(svc, p, **params.kwargs)
    audit(request, p, "export", {"what": "recall", "format": format, "rows": len(table)})
    if format == "csv":
        body = table.to_csv(index=False).encode("utf-8-sig")
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="recall.csv"'},
        )
    buf = io.BytesIO()
    table.to_excel(buf, index=False, sheet_name="recall")
    return Response(
        buf.getvalue(),
        media_type=_XLSX,
        headers={"Content-Disposition": 'attachment; filename="recall.xlsx"'},
    )
