"""A row number compared only with 1 or 2 is computed without its window, same answers.

``with_refs(..., first_only=...)`` gives ``customer_order_seq`` 1 on a customer's first paid
order and 2 on the later ones (by hash aggregates) instead of the row_number window. On
random orders with many same-instant ties, customers with orders before the span, walk-ins
and unpaid orders (both NULL), every condition that asks "is it the first order" holds on
the same rows as with the window, for every kind of span; other conditions keep the window.
"""

from __future__ import annotations

import datetime as dt
import operator
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pytest

from luopan.metrics import Catalog, default_catalog
from luopan.metrics.refs import first_only, with_refs
from luopan.metrics.spec import Condition

DAY0 = dt.datetime(2026, 3, 2)
ASKS_FIRST = [("eq", 1), ("ne", 1), ("le", 1), ("gt", 1), ("lt", 2), ("ge", 2)]
OPS = {
    "eq": operator.eq,
    "ne": operator.ne,
    "le": operator.le,
    "gt": operator.gt,
    "lt": operator.lt,
    "ge": operator.ge,
}


@pytest.fixture(scope="module")
def tiny() -> Any:
    """400 orders of 40 customers (1 in 8 a walk-in) on 12 instants: ties everywhere."""
    rng = np.random.default_rng(11)
    n = 400
    customer = [f"c{k:02d}" if rng.random() > 0.125 else None for k in rng.integers(0, 40, n)]
    orders = pd.DataFrame(
        {
            "order_id": [f"o{i:04d}" for i in rng.permutation(n)],
            "customer_id": customer,
            "ordered_at": [DAY0 + dt.timedelta(days=int(d)) for d in rng.integers(0, 12, n)],
            "status": rng.choice(["paid", "completed", "refunded", "cancelled"], n),
        }
    )
    con = ibis.duckdb.connect()
    con.create_table("orders", orders)
    return con


@pytest.fixture(scope="module")
def cat() -> Catalog:
    return default_catalog()


def _ts(day: int | None) -> Any:
    return None if day is None else ibis.literal(DAY0 + dt.timedelta(days=day), "timestamp")


def _numbers(con: Any, cat: Catalog, span: Any, first: set[str]) -> pd.DataFrame:
    """customer_id and customer_order_seq of the orders inside ``span``, by order_id."""
    refs = {"order_id", "customer_id", "ordered_at", "customer_order_seq"}
    t = with_refs(con, cat, cat.models["orders"], refs, span=span, first_only=first)
    df = t.to_pyarrow().to_pandas().set_index("order_id").sort_index()
    if span is not None and span[1] is not None:
        df = df[df.ordered_at >= span[1].op().value]
    if span is not None and span[2] is not None:
        df = df[df.ordered_at < span[2].op().value]
    return df


@pytest.mark.parametrize(("lo", "hi"), [(None, None), (5, None), (None, 7), (5, 9), (11, 12)])
def test_first_flag_matches_the_window(tiny: Any, cat: Catalog, lo: Any, hi: Any) -> None:
    span = None if lo is None and hi is None else ("ordered_at", _ts(lo), _ts(hi))
    window = _numbers(tiny, cat, span, set())
    fast = _numbers(tiny, cat, span, {"customer_order_seq"})
    assert fast.index.equals(window.index)
    n, flag = window.customer_order_seq, fast.customer_order_seq
    assert flag.isna().equals(n.isna())  # walk-ins and unpaid orders: NULL on both
    assert n.isna().any() and (n > 2).any() and set(flag.dropna()) <= {1, 2}  # not a window
    assert (n == 1).sum() == (flag == 1).sum()
    if lo is not None:  # some customers ordered before the span: no order inside is first
        assert (n.groupby(window.customer_id).min() > 1).any()
    for op, v in ASKS_FIRST:
        assert OPS[op](flag, v).equals(OPS[op](n, v)), (op, v)


def test_first_flag_is_exact_on_the_tied_instants(tiny: Any, cat: Catalog) -> None:
    """Customers whose first instant holds two or more paid orders: the least id is first."""
    window = _numbers(tiny, cat, None, set())
    fast = _numbers(tiny, cat, None, {"customer_order_seq"})
    paid = window[window.customer_order_seq.notna()]
    first_at = paid.groupby("customer_id").ordered_at.transform("min")
    tied = paid[paid.ordered_at == first_at]
    assert (tied.groupby("customer_id").size() > 1).sum() >= 3
    least = tied.reset_index().groupby("customer_id").order_id.min()
    assert sorted(fast.index[fast.customer_order_seq == 1]) == sorted(least)
    assert (paid.customer_order_seq.loc[least] == 1).all()


def test_first_only_accepts_just_the_first_row_questions() -> None:
    def c(op: str, value: Any = None, field: str = "n") -> Condition:
        return Condition.model_validate({"field": field, "op": op, "value": value})

    for op, v in [*ASKS_FIRST, ("is_null", None), ("not_null", None)]:
        assert first_only([c(op, v)]) == {"n"}
    for op, v in [("eq", 2), ("ge", 3), ("gt", 0), ("in", [1]), ("between", [1, 2]), ("eq", True)]:
        assert first_only([c(op, v)]) == set()
    nested = Condition.model_validate({"any": [{"not": c("eq", 1)}, c("eq", "x", "m")]})
    assert first_only([nested, c("ge", 2)]) == {"n"}
    assert first_only([c("ge", 2), c("le", 3)]) == set()  # one use needs the number


def test_an_order_without_the_key_keeps_the_window(tiny: Any, cat: Catalog) -> None:
    """Numbered by time alone, tied first orders have one row number 1 each (the window's
    choice); a first-row flag would mark every tied row, so the window stays."""
    model = cat.models["orders"]
    seq = next(c for c in model.computed if c.name == "customer_order_seq")
    by_time = seq.model_copy(
        update={"row_number": seq.row_number.model_copy(update={"order_by": ("ordered_at",)})}
    )
    loose = model.model_copy(update={"computed": (by_time,)})
    refs = {"order_id", "customer_id", "customer_order_seq"}
    fast = with_refs(tiny, cat, model, refs, first_only={"customer_order_seq"})
    kept = with_refs(tiny, cat, loose, refs, first_only={"customer_order_seq"})
    assert "ROW_NUMBER" not in str(ibis.to_sql(fast, dialect="duckdb"))
    assert "ROW_NUMBER" in str(ibis.to_sql(kept, dialect="duckdb"))
    firsts = kept.to_pyarrow().to_pandas().query("customer_order_seq == 1")
    assert firsts.customer_id.is_unique  # one first order per customer, ties or not
    orders = tiny.table("orders").to_pyarrow().to_pandas()
    paid = orders[orders.status.isin(["paid", "shipped", "completed", "refunded"])]
    assert len(firsts) == paid.customer_id.nunique() == 40
