"""Engine series: metrics a rule can watch that the catalog cannot express (the documented hook).

The catalog compiles metrics to warehouse aggregations (Ibis). The **user health index** is not
one: each weekly value scores every member from their own purchase history up to that week's
cutoff (``luopan.engines.customers.health``: silence against the customer's own expected gap
between purchases, repeat purchases, frequency and spend trends, complaints). So a rule whose
``metric`` is a key of ``SERIES_HOOKS`` is evaluated on the series the hook computes, exactly as on a catalog metric
(same ``grain``, ``by``, ``for``, cool-down; the hook's frame has ``period``, the ``by``
columns and ``value``). A catalog metric of the same name wins over a hook.

``health_index``: the mean health (0–100) of the members who bought in the 90 days before each
cutoff, per slice, at the end of each week (grain ``week`` only). Slices: ``customer__region``
(the members' region) and ``customer__home_channel`` (the channel of most of their orders).
A slice with fewer than 30 active members has no value that week (so it breaks a streak).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from luopan.errors import InsufficientDataError, MetricError
from luopan.workspace import Workspace

__all__ = ["HEALTH_DIMENSIONS", "SERIES_HOOKS", "health_index_series"]

HEALTH_DIMENSIONS = ("customer__region", "customer__home_channel")


def _complaints(con: Any) -> pd.DataFrame | None:
    """Tickets as complaints (customer, day), or None when the warehouse has no tickets."""
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    if "tickets" not in tables:
        return None
    return con.execute(
        "SELECT customer_id AS customer, CAST(created_at AS DATE) AS day FROM tickets "
        "WHERE customer_id IS NOT NULL"
    ).df()


def _members(ws: Workspace) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """Orders (customer, day, amount, channel), members' regions, complaints (or None)."""
    import duckdb

    con = duckdb.connect(str(ws.warehouse_path), read_only=True)
    try:
        orders = con.execute(
            "SELECT customer_id AS customer, CAST(ordered_at AS DATE) AS day, channel, "
            "coalesce(paid_amount, 0) - coalesce(refund_amount, 0) AS amount "
            "FROM orders WHERE customer_id IS NOT NULL"
        ).df()
        regions = con.execute("SELECT customer_id, region FROM customers").df()
        complaints = _complaints(con)
    finally:
        con.close()
    return orders, regions, complaints


_PAID = (
    "FROM orders WHERE customer_id IS NOT NULL "
    "AND coalesce(paid_amount, 0) - coalesce(refund_amount, 0) > 0"
)


def _purchases(
    ws: Workspace, by: Sequence[str]
) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame | None]:
    """Purchase days (customer, day, amount: the orders of positive net amount summed per
    customer and day, sorted by customer and day), each buyer's slice label, complaints (or
    None).

    The customers (and channels) come coded by DuckDB: a Categorical over the sorted IDs,
    so no pass over millions of ID strings is made in pandas, and DuckDB sums the days (the
    health index reads purchase days); the home channel (the channel of most of the
    customer's purchases, ties to the first by name) is counted by DuckDB per code too.
    """
    import duckdb

    def frame(sql: str) -> pd.DataFrame:  # through Arrow: strings without Python objects
        return con.sql(sql).to_arrow_table().to_pandas()

    con = duckdb.connect(str(ws.warehouse_path), read_only=True)
    try:
        con.execute(
            "CREATE TEMP TABLE buyer AS SELECT customer_id, "
            "row_number() OVER (ORDER BY customer_id) - 1 AS code "
            f"FROM (SELECT DISTINCT customer_id {_PAID})"
        )
        con.execute(
            "CREATE TEMP TABLE channel AS SELECT channel, "
            "row_number() OVER (ORDER BY channel) - 1 AS code "
            f"FROM (SELECT DISTINCT channel {_PAID} AND channel IS NOT NULL)"
        )
        names = pd.Index(frame("SELECT customer_id FROM buyer ORDER BY code")["customer_id"])
        channels = frame("SELECT channel FROM channel ORDER BY code")["channel"]
        coded = con.execute(  # numbers and dates: .df() is as fast, and days stay [us]
            "SELECT b.code, o.day, sum(o.amount) AS amount "
            "FROM (SELECT customer_id, CAST(ordered_at AS DATE) AS day, "
            f"coalesce(paid_amount, 0) - coalesce(refund_amount, 0) AS amount {_PAID}) o "
            "JOIN buyer b ON b.customer_id = o.customer_id "
            "GROUP BY b.code, o.day ORDER BY b.code, o.day"
        ).df()
        homes = (
            con.execute(
                "SELECT b.code, coalesce(c.code, -1) AS channel, count(*) AS n "
                f"FROM (SELECT customer_id, channel {_PAID}) o "
                "JOIN buyer b ON b.customer_id = o.customer_id "
                "LEFT JOIN channel c ON c.channel = o.channel GROUP BY ALL"
            ).df()
            if "customer__home_channel" in by
            else None
        )
        regions = (
            frame(
                "SELECT c.region FROM buyer b "
                "LEFT JOIN customers c ON c.customer_id = b.customer_id ORDER BY b.code"
            )["region"]
            if "customer__region" in by
            else None
        )
        complaints = _complaints(con)
    finally:
        con.close()
    orders = pd.DataFrame(
        {
            "customer": pd.Categorical.from_codes(coded["code"].to_numpy(), categories=names),
            "day": coded["day"],
            "amount": coded["amount"],
        }
    )
    labels = pd.Series("all", index=names)
    parts: dict[str, pd.Series] = {}
    if regions is not None:
        parts["customer__region"] = (
            pd.Series(regions.to_numpy(), index=names).astype("string").fillna("—")
        )
    if homes is not None:
        parts["customer__home_channel"] = _home_channel(
            homes["code"].to_numpy(),
            homes["channel"].to_numpy(),
            names,
            channels,
            weights=homes["n"].to_numpy(),
        )
    if parts:
        labels = parts[by[0]].astype(str)
        for d in by[1:]:
            labels = labels + "\x1f" + parts[d].astype(str)
    return orders, labels, complaints


def _home_channel(
    code: np.ndarray,
    channel: np.ndarray,
    names: pd.Index,
    channels: pd.Series,
    *,
    weights: np.ndarray | None = None,
) -> pd.Series:
    """The channel of most of each buyer's purchases, ties to the first by name (channels
    are coded in name order; -1: none); NaN for a buyer whose purchases have no channel.
    One row per purchase, or per (buyer, channel) with its number of purchases in
    ``weights``."""
    k = len(channels)
    known = channel >= 0
    if k == 0:
        return pd.Series(np.nan, index=names, dtype=channels.dtype)
    w = None if weights is None else weights[known]
    counts = np.bincount(code[known] * k + channel[known], weights=w, minlength=len(names) * k)
    counts = counts.reshape(len(names), k)
    home = channels.take(counts.argmax(axis=1))  # argmax: the first of the largest
    home.index = names
    home[counts.max(axis=1) == 0] = np.nan
    return home


def health_index_series(
    ws: Workspace, *, grain: str, by: Sequence[str], start: dt.date | None, end: dt.date
) -> pd.DataFrame:
    """Weekly mean health per slice (``period``, the ``by`` columns, ``value``).

    Raises:
        MetricError: a grain other than week, or a dimension the health index has no slice by.
    """
    from luopan.engines.customers.health import health_by_segment

    if grain != "week":
        raise MetricError(
            f"health_index is weekly; grain {grain!r} is not available", fix="use grain: week"
        )
    unknown = sorted(set(by) - set(HEALTH_DIMENSIONS))
    if unknown:
        raise MetricError(
            f"health_index cannot be sliced by {unknown}",
            fix=f"slice by {list(HEALTH_DIMENSIONS)} or nothing",
        )
    orders, labels, complaints = _purchases(ws, by)
    if orders.empty:
        return pd.DataFrame(columns=["period", *by, "value"])
    first = pd.Timestamp(orders["day"].min()) + pd.Timedelta(days=90)
    lo = max(first, pd.Timestamp(start)) if start else first
    # a week is measured once it is over and inside the data (a cutoff past the last order
    # would age every customer without a chance to buy)
    last = min(pd.Timestamp(end) - pd.Timedelta(days=1), pd.Timestamp(orders["day"].max()))
    cutoffs = [
        p.end_time.normalize()
        for p in pd.period_range(lo, last, freq="W")
        if p.end_time.normalize() <= last
    ]
    if not cutoffs:
        return pd.DataFrame(columns=["period", *by, "value"])
    try:
        table = health_by_segment(
            orders[["customer", "day", "amount"]], labels, cutoffs, complaints=complaints
        )
    except (ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:  # a model that cannot fit
        raise InsufficientDataError(
            f"health_index: the index cannot be computed on these purchases ({exc})",
            fix="the health index needs months of purchases by many members",
        ) from None
    if table.empty:
        return pd.DataFrame(columns=["period", *by, "value"])

    out = pd.DataFrame(
        {
            "period": table["cutoff"].dt.to_period("W").dt.start_time,
            "value": table["health"].to_numpy(dtype=float),
        }
    )
    keys = table["segment"].astype(str).str.split("\x1f", expand=True) if by else None
    for i, d in enumerate(by):
        assert keys is not None
        out[d] = keys[i].to_numpy()
    return out[["period", *by, "value"]]


SERIES_HOOKS: dict[str, Callable[..., pd.DataFrame]] = {"health_index": health_index_series}
