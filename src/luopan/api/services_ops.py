"""Scoped reads behind the operations routes (replenishment, pricing, listening, funnels).

Every read goes through ``Services.table`` / ``luopan.api.scope.scope_table`` so the row-level
scope applies in the query (never in a template), and every result is cached through
``Services.cached`` under the snapshot's content version (``data_version``): a forecast, an
elasticity fit or a funnel is computed once per warehouse version and scope, and a refresh
that loads nothing new keeps the cache.

Scoping rules added here (on top of ``luopan.api.scope``):

- **order lines with their order's store and day** (replenishment history): a line is
  visible when its order's store is in the store scope *and* its SKU in the category scope —
  the store part of the scope filters ``orders``, the category part ``order_lines``.
- **pricing** (national price list, elasticities pooled over every store and the online
  shops): refused for a store/region scope; a category scope sees the SKUs of its
  categories (a SKU's estimate is fitted on that SKU's own sales, shrunk toward its category).
- **mentions, events, crises**: cannot be limited to a store or category, so refused.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from collections.abc import Iterable
from typing import Any

import pandas as pd
from fastapi import Request
from fastapi.responses import Response

from luopan.api.deps import audit
from luopan.api.errors import ApiError, ScopeError
from luopan.api.principal import Principal
from luopan.api.scope import scope_table
from luopan.api.services import Services
from luopan.api.snapshot import data_version

__all__ = [
    "SALES_TABLES",
    "SCOPE_TABLES",
    "XLSX",
    "export_file",
    "refuse_scoped",
    "scoped_cached",
    "store_lines",
    "table",
    "version",
]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# what a row-level scope may read besides the table it limits (``luopan.api.scope``)
SCOPE_TABLES = frozenset({"orders", "order_lines", "products", "stores"})
# the sales side of the warehouse: every table a forecast, an elasticity fit or a stock
# position may read (not events, experiments, mentions, communities, content, tickets)
SALES_TABLES = frozenset(
    {
        *SCOPE_TABLES,
        "customers",
        "prices",
        "inventory",
        "inventory_events",
        "campaigns",
        "marketing_spend",
    }
)


def version(svc: Services, tables: Iterable[str] | None = None) -> str:
    """The content version of the current warehouse snapshot (of ``tables`` and what a scope
    reads, when given: see ``luopan.api.snapshot.data_version``)."""
    with svc.connection() as con:
        return data_version(con, None if tables is None else {*tables, *SCOPE_TABLES})


def scoped_cached(
    svc: Services,
    p: Principal | None,
    name: str,
    params: Any,
    build: Any,
    *,
    tables: Iterable[str] | None = None,
) -> Any:
    """``build()`` cached per snapshot version, scope (``p``; None: shared by everyone) and
    ``params``. A new version is built in the background while the previous one is served
    (``Services.cached`` stale-while-revalidate), so ``build`` must open its own connection.
    ``tables`` (every table ``build`` reads) keys the value on those tables' version only, so a
    refresh that changed other tables keeps it; None keys it on the whole warehouse."""
    scope = (p.stores, p.regions, p.categories) if p is not None else None
    family = ("ops", name, scope, params)
    return svc.cached((version(svc, tables), *family), build, family=family)


def refuse_scoped(p: Principal, what_en: str, what_zh: str) -> None:
    """Raise the 403 envelope for data that cannot be limited to a scope (never leak it)."""
    if p.scoped:
        raise ScopeError(
            f"{what_en}: cannot be limited to your stores/regions/categories, so not shown "
            f"({what_zh}无法按门店/区域/品类限定，不予显示)",
            fix="ask an administrator for an unscoped account",
        )


def store_lines(svc: Services, p: Principal, con: Any) -> Any:
    """Order lines joined to their order's store and time, limited to the scope: the store
    part of the scope filters ``orders``, the category part ``order_lines`` (Ibis)."""
    scope = svc.scope(p, con)
    orders = scope_table(con, "orders", dataclasses.replace(scope, categories=None))
    lines = scope_table(con, "order_lines", dataclasses.replace(scope, stores=None))
    o = orders.filter(orders.store_id.notnull()).select("order_id", "store_id", "ordered_at")
    return lines.join(o, lines.order_id == o.order_id)


def export_file(
    request: Request,
    p: Principal,
    frame: pd.DataFrame,
    *,
    what: str,
    fmt: str,
    detail: dict[str, Any] | None = None,
) -> Response:
    """``frame`` as a CSV (UTF-8 with BOM, opens in Excel) or .xlsx download, audited."""
    audit(request, p, "export", {"what": what, "format": fmt, "rows": len(frame), **(detail or {})})
    out = frame.copy()
    for c in out.columns:  # Excel has no time zones; lists/dicts as text
        if isinstance(out[c].dtype, pd.DatetimeTZDtype):
            out[c] = out[c].dt.tz_localize(None)
        elif out[c].dtype == object:
            out[c] = out[c].map(lambda v: ", ".join(map(str, v)) if isinstance(v, list) else v)
    if fmt == "csv":
        return Response(
            out.to_csv(index=False).encode("utf-8-sig"),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{what}.csv"'},
        )
    buf = io.BytesIO()
    out.to_excel(buf, index=False, sheet_name=what[:31])
    return Response(
        buf.getvalue(),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{what}.xlsx"'},
    )


def no_data(what_en: str, what_zh: str) -> ApiError:
    """The 404 envelope for an empty scope or a missing table."""
    return ApiError(
        404,
        "no_data",
        f"no {what_en} in your scope ({what_zh}：无数据)",
        fix="check your scope, or ingest the table this view needs",
    )


def table(svc: Services, p: Principal, con: Any, name: str) -> Any:
    """``Services.table`` with a 404 envelope (not a 500) when the warehouse lacks ``name``."""
    if name not in set(con.list_tables()):
        raise ApiError(
            404,
            "no_data",
            f"the warehouse has no `{name}` table (仓库中没有 {name} 表)",
            fix=f"map a source to `{name}` in luopan.yaml and run `luopan ingest`",
        )
    return svc.table(p, name, con)


def latest_date(expr: Any) -> dt.date | None:
    """The max of a date/timestamp Ibis column as a date (None when empty)."""
    value = expr.max().to_pyarrow().as_py()
    if value is None:
        return None
    return value.date() if isinstance(value, dt.datetime) else value
