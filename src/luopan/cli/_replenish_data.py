"""Warehouse reads behind ``--exog`` of ``luopan replenish`` / ``luopan forecast`` and the API.

IO lives here (Ibis over the DuckDB warehouse, read-only); ``engines.replenish.exog`` turns
the frames into the exogenous columns per store × SKU × day.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from luopan.engines.replenish.exog import calendar_exog
from luopan.errors import WarehouseError
from luopan.workspace import Workspace

__all__ = ["calendar_for", "calendar_from", "read_calendar", "series_keys"]


def series_keys(ids: pd.Series, sep: str = "_") -> pd.DataFrame:
    """``unique_id, store_id, sku`` from ``store{sep}sku`` ids (split at the first ``sep``)."""
    uid = pd.Series(pd.unique(ids.astype(str)), name="unique_id")
    parts = uid.str.split(sep, n=1, expand=True)
    if parts.shape[1] < 2:
        parts[1] = None
    return pd.DataFrame({"unique_id": uid, "store_id": parts[0], "sku": parts[1]})


def calendar_from(
    tables: set[str],
    table: Callable[[str], Any],
    keys: pd.DataFrame,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
) -> pd.DataFrame:
    """The exogenous frame of ``keys``' series from ``start`` to ``end`` (``calendar_exog``).

    Args:
        tables: the warehouse's table names.
        table: name → Ibis table (the API passes its scoped reader; a table it refuses is left
            out).
        keys: ``unique_id, store_id, sku``.
        start, end: the days to cover; price rows after ``end`` are not read, rows between the
            last sale and ``end`` are the planned calendar.

    Returns:
        ``unique_id, ds`` + ``price, discount, promo, activity_flag`` (those the tables give).
    """
    from luopan.errors import LuopanError

    lo, hi = pd.Timestamp(start).date(), pd.Timestamp(end).date()
    skus = sorted(set(keys["sku"].dropna().astype(str)))
    prices = products = campaigns = None
    channels: list[str] | None = None
    if "prices" in tables:
        pr = table("prices")
        pr = pr.filter((pr.date >= lo) & (pr.date <= hi) & pr.sku.isin(skus))
        cols = [c for c in ("date", "sku", "store_id", "price", "is_promo") if c in pr.columns]
        prices = pr.select(*cols).to_pyarrow().to_pandas()
    if "products" in tables:
        p = table("products")
        if "list_price" in p.columns:
            products = p.filter(p.sku.isin(skus)).select("sku", "list_price").to_pandas()
    if "campaigns" in tables:
        try:
            c = table("campaigns")
        except LuopanError:  # a scope that cannot see campaigns forecasts without them
            c = None
        if c is not None and {"start_date", "end_date"} <= set(c.columns):
            c = c.filter(c.start_date.notnull() & (c.start_date <= hi))
            c = c.filter(c.end_date.isnull() | (c.end_date >= lo))
            cols = [x for x in ("start_date", "end_date", "channel") if x in c.columns]
            campaigns = c.select(*cols).to_pyarrow().to_pandas()
            if "orders" in tables and "channel" in campaigns.columns:
                o = table("orders")
                o = o.filter(o.store_id.notnull() & o.channel.notnull())
                channels = [str(x) for x in o.select("channel").distinct().to_pandas()["channel"]]
    return calendar_exog(
        keys,
        start=pd.Timestamp(start),
        end=pd.Timestamp(end),
        prices=prices,
        products=products,
        campaigns=campaigns,
        channels=channels,
    )


def read_calendar(
    workspace: Path, keys: pd.DataFrame, *, start: pd.Timestamp, end: pd.Timestamp
) -> pd.DataFrame:
    """``calendar_from`` on the workspace's warehouse (read-only)."""
    import ibis

    ws = Workspace.open(workspace)
    path = ws.warehouse_path
    if not path.exists():
        raise WarehouseError(
            f"{path}: no warehouse for --exog",
            fix="run `luopan ingest` in the workspace (-w), or drop --exog",
        )
    con = ibis.duckdb.connect(str(path), read_only=True)
    try:
        return calendar_from(set(con.list_tables()), con.table, keys, start=start, end=end)
    finally:
        con.disconnect()


def calendar_for(
    df: pd.DataFrame, keys: pd.DataFrame, workspace: Path, end: pd.Timestamp
) -> pd.DataFrame:
    """The warehouse calendar of the series in ``df`` from its first day to ``end``."""
    ids = set(df["unique_id"])
    return read_calendar(
        workspace, keys[keys["unique_id"].isin(ids)], start=df["ds"].min(), end=end
    )
