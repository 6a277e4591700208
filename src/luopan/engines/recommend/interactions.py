"""Customer × item interaction matrices built from a long table of purchase lines.

The long-table contract (names overridable): one row per purchase line with a customer, an
item, a time and a basket (order) id. An interaction's weight is the number of distinct
baskets in which the customer bought the item — quantities are left out on purpose, because a
wholesale customer's 480 units of one item say little about preference (implicit #32 thread and
Hu, Koren & Volinsky 2008, §4: confidence grows with the count of *events*). A time-decayed
variant weights each basket by ``0.5 ** (age / half_life)`` so recent purchases count more
(Ding & Li 2005, "Time weight collaborative filtering", CIKM).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from luopan.errors import DataContractError, InsufficientDataError

__all__ = ["Columns", "Interactions", "build_interactions"]


@dataclass(frozen=True)
class Columns:
    """Column names of the transactions table."""

    customer: str = "customer_id"
    item: str = "sku"
    time: str = "ordered_at"
    basket: str = "order_id"

    def check(self, frame: pd.DataFrame) -> None:
        missing = [c for c in (self.customer, self.item, self.time, self.basket) if c not in frame]
        if missing:
            raise DataContractError(
                f"transactions lack column(s) {', '.join(missing)}; have {', '.join(map(str, frame.columns))}",
                fix="rename the columns or pass columns=Columns(customer=..., item=..., time=..., basket=...)",
            )


@dataclass(frozen=True)
class Interactions:
    """Customers (rows) × items (columns); ``counts`` = distinct baskets, ``decayed`` = time-weighted."""

    customers: pd.Index
    items: pd.Index
    counts: sp.csr_matrix
    decayed: sp.csr_matrix
    first: sp.csr_matrix  # days since the epoch of the first purchase (+1, so 0 means none)
    last: sp.csr_matrix  # days since the epoch of the last purchase (+1)
    start_day: np.ndarray  # per customer: day of the first purchase of anything
    end_day: float  # the last day in the data ("now" for the fit)

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.customers), len(self.items))


def _days(times: pd.Series) -> np.ndarray:
    t = pd.to_datetime(times)
    return ((t - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)).to_numpy(dtype=float)


def build_interactions(
    transactions: pd.DataFrame,
    *,
    columns: Columns | None = None,
    half_life_days: float = 90.0,
    items: pd.Index | None = None,
) -> Interactions:
    """Aggregate purchase lines into distinct-basket counts per customer and item.

    Args:
        transactions: one row per purchase line.
        columns: the column names (default customer_id, sku, ordered_at, order_id).
        half_life_days: half-life of the time weight in ``decayed``.
        items: a fixed item catalogue (columns); items outside it are dropped.

    Raises:
        DataContractError: a column is missing.
        InsufficientDataError: no usable rows.
    """
    cols = columns or Columns()
    cols.check(transactions)
    frame = transactions[[cols.customer, cols.item, cols.time, cols.basket]].dropna()
    if frame.empty:
        raise InsufficientDataError("no purchase lines with a customer, item, time and basket")
    day = np.floor(_days(frame[cols.time]))
    # factorize the raw values first, then turn only the distinct values into text ids
    c_raw, c_uni = pd.factorize(frame[cols.customer])
    i_raw, i_uni = pd.factorize(frame[cols.item])
    b_raw, _ = pd.factorize(frame[cols.basket])
    c_text = pd.Index(c_uni).astype(str)
    i_text = pd.Index(i_uni).astype(str)
    customers = pd.Index(np.unique(c_text.to_numpy()))
    item_index = pd.Index(np.unique(i_text.to_numpy())) if items is None else items
    ci_all = customers.get_indexer(c_text)[c_raw]
    ii_all = item_index.get_indexer(i_text)[i_raw]
    keys = pd.DataFrame({"c": ci_all, "i": ii_all, "b": b_raw, "d": day})
    keys = keys[keys["i"] >= 0]
    # one event per customer, item and basket (a basket's day is its first line's day)
    events = keys.groupby(["c", "i", "b"], sort=False)["d"].min().reset_index()
    ci, ii, d = (events[c].to_numpy() for c in ("c", "i", "d"))
    end = float(day.max())
    shape = (len(customers), len(item_index))
    ones = np.ones(ci.size, dtype=np.float32)
    counts = sp.csr_matrix((ones, (ci, ii)), shape=shape)
    weights = np.power(0.5, (end - d) / half_life_days).astype(np.float32)
    decayed = sp.csr_matrix((weights, (ci, ii)), shape=shape)
    pair = pd.DataFrame({"c": ci, "i": ii, "d": d}).groupby(["c", "i"])["d"].agg(["min", "max"])
    rows = pair.index.get_level_values(0).to_numpy()
    colz = pair.index.get_level_values(1).to_numpy()
    first = sp.csr_matrix((pair["min"].to_numpy() + 1.0, (rows, colz)), shape=shape)
    last = sp.csr_matrix((pair["max"].to_numpy() + 1.0, (rows, colz)), shape=shape)
    start = pd.Series(d).groupby(ci).min().reindex(range(len(customers))).to_numpy()
    for m in (counts, decayed, first, last):
        m.sort_indices()
    return Interactions(customers, item_index, counts, decayed, first, last, start, end)
