"""Warehouse reads behind ``luopan customers``, ``luopan personas``, the customer API routes and the
decision loop's recall lists: orders per customer and day, order lines per customer, day and SKU
(the churn model's product mix), regions, complaints, and any table's selected columns, each
aggregated in DuckDB via Ibis."""

from __future__ import annotations

from typing import Any

import pandas as pd

from luopan.errors import WarehouseError
from luopan.workspace import Workspace

__all__ = [
    "item_frame",
    "paid_orders",
    "purchase_items",
    "workspace_complaints",
    "workspace_items",
    "workspace_orders",
    "workspace_regions",
    "workspace_table",
]


def paid_orders(orders: Any) -> Any:
    """The purchases of an (already scoped) ``orders`` Ibis table: orders with a customer and a
    net amount (paid − refunded) above zero, with ``day`` (the order date) and ``amount``."""
    paid = orders.filter(orders.customer_id.notnull())
    amount = paid.paid_amount.cast("float64").fill_null(0) - paid.refund_amount.cast(
        "float64"
    ).fill_null(0)
    # an order fully refunded or never paid (net <= 0) is not a purchase occasion
    return paid.mutate(day=paid.ordered_at.date(), amount=amount).filter(lambda t: t.amount > 0)


def purchase_items(orders: Any, lines: Any) -> Any:
    """Ibis expression: the order lines of the purchases (``paid_orders``) counted per customer,
    day and SKU: ``customer_id``, ``day``, ``item`` (the SKU), ``lines``; ordered by day,
    customer and SKU (the churn model's item vocabulary follows that order).

    ``orders`` and ``lines`` are the (already scoped) ``orders`` and ``order_lines`` tables; the
    count is made in the warehouse, so only one row per customer, day and SKU reaches pandas,
    and no other column (no amount, no PII) is read.
    """
    key = "_order_key" if {"_order_key"} <= set(orders.columns) & set(lines.columns) else "order_id"
    paid = paid_orders(orders).select(key, "customer_id", "day")
    bought = lines.filter(lines.sku.notnull()).select(key, item=lines.sku)
    joined = bought.join(paid, key)
    return (
        joined.group_by(["customer_id", "day", "item"])
        .aggregate(lines=lambda t: t.count())
        .order_by(["day", "customer_id", "item"])
    )


def item_frame(expr: Any) -> pd.DataFrame | None:
    """Run ``purchase_items``: SKUs as a pandas categorical (one string per SKU, not per row);
    None when there is no purchase line (the churn model then reads no items)."""
    table = expr.to_pyarrow()
    if table.num_rows == 0:
        return None
    table = table.set_column(
        table.schema.get_field_index("item"), "item", table["item"].dictionary_encode()
    )
    frame = table.to_pandas()
    frame["day"] = pd.to_datetime(frame["day"])
    frame["lines"] = frame["lines"].astype("int64")
    return frame


def workspace_items(ws: Workspace) -> pd.DataFrame | None:
    """Order lines per customer, day and SKU of the purchases ``workspace_orders`` counts
    (``customer``, ``day``, ``item``, ``lines``); None without order lines."""
    import ibis

    path = ws.warehouse_path
    if not path.exists():
        raise WarehouseError(f"{path}: no warehouse yet", fix="run `luopan ingest` first")
    con = ibis.duckdb.connect(str(path), read_only=True)
    try:
        if "order_lines" not in con.list_tables():
            return None
        frame = item_frame(purchase_items(con.table("orders"), con.table("order_lines")))
    finally:
        con.disconnect()
    return None if frame is None else frame.rename(columns={"customer_id": "customer"})


def workspace_orders(ws: Workspace) -> pd.DataFrame:
    """Net paid amount per customer and day from the warehouse (aggregated in DuckDB via Ibis).

    Orders with a net amount (paid − refunded) of zero or less are left out: on the warehouse
    the order status is known, and an unpaid or fully refunded order is not a purchase.
    """
    import ibis

    path = ws.warehouse_path
    if not path.exists():
        raise WarehouseError(f"{path}: no warehouse yet", fix="run `luopan ingest` first")
    con = ibis.duckdb.connect(str(path), read_only=True)
    try:
        expr = (
            paid_orders(con.table("orders"))
            .group_by(["customer_id", "day"])
            .aggregate(amount=lambda t: t.amount.sum())
        )
        return expr.to_pandas()
    finally:
        con.disconnect()


def workspace_regions(ws: Workspace) -> pd.Series:
    """Region per customer from the customers table ("—" when unknown)."""
    import ibis

    con = ibis.duckdb.connect(str(ws.warehouse_path), read_only=True)
    try:
        frame = con.table("customers").select("customer_id", "region").to_pandas()
    finally:
        con.disconnect()
    return frame.set_index("customer_id")["region"].fillna("—")


def workspace_complaints(ws: Workspace) -> pd.DataFrame | None:
    """Complaint tickets (customer, day) when the workspace has a tickets table."""
    import ibis
    from ibis.common.exceptions import TableNotFound

    con = ibis.duckdb.connect(str(ws.warehouse_path), read_only=True)
    try:
        try:
            t = con.table("tickets")
        except TableNotFound:
            return None
        expr = t.filter(t.customer_id.notnull()).select(
            customer=t.customer_id, day=t.created_at.date()
        )
        return expr.to_pandas()
    finally:
        con.disconnect()


def workspace_table(ws: Workspace, name: str, columns: dict[str, str]) -> pd.DataFrame:
    """Selected columns of one warehouse table, renamed (new name -> warehouse column)."""
    import ibis
    from ibis.common.exceptions import TableNotFound

    con = ibis.duckdb.connect(str(ws.warehouse_path), read_only=True)
    try:
        try:
            t = con.table(name)
        except TableNotFound:
            raise WarehouseError(
                f"the warehouse has no {name} table", fix=f"ingest a source that maps to {name}"
            ) from None
        return t.select(**{new: t[old] for new, old in columns.items()}).to_pandas()
    finally:
        con.disconnect()
