"""Warehouse reads behind ``luopan customers`` (and ``luopan personas``): orders per customer and
day, regions, complaints, and any table's selected columns, each aggregated in DuckDB via Ibis."""

from __future__ import annotations

import pandas as pd

from luopan.errors import WarehouseError
from luopan.workspace import Workspace

__all__ = ["workspace_complaints", "workspace_orders", "workspace_regions", "workspace_table"]


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
        orders = con.table("orders")
        paid = orders.filter(orders.customer_id.notnull())
        amount = paid.paid_amount.cast("float64").fill_null(0) - paid.refund_amount.cast(
            "float64"
        ).fill_null(0)
        day = paid.ordered_at.date()
        # an order fully refunded or never paid (net <= 0) is not a purchase occasion
        expr = (
            paid.mutate(day=day, amount=amount)
            .filter(lambda t: t.amount > 0)
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
