"""The fast paths of the compiler give the same answers as the plain ones.

- A computed row number bounded to a time span (rows before the span counted by a hash
  aggregate, only the span's rows sorted) numbers the span's rows as the whole history does,
  checked against pandas for random spans (hypothesis).
- The repeat purchase rate over a few weeks (the benchmark's single-metric query) matches its
  pandas definition, by week and by channel.
- Compiled expressions and their SQL are kept per backend and catalog; the kept SQL gives the
  same frame as Ibis's own execution.
- A conversion whose base rows are its conversion rows (retention) sorts the conversion rows
  alone: same values as the general path (base and conversion rows sorted together) and as a
  brute-force pandas count, on random orders with same-instant twins (hypothesis).
- Order lines bounded by their order's time join the range's orders first (an inner join):
  the same rows inside the range as the plain left join, for random ranges (hypothesis).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import ibis
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from luopan.metrics import Catalog, default_catalog, query_metric, windows
from luopan.metrics.cache import cached_metric, execute
from luopan.metrics.compiler import compile_metric
from luopan.metrics.refs import with_refs

PAID = ["paid", "shipped", "completed", "refunded"]
F = dict[str, pd.DataFrame]
DAYS = st.one_of(st.none(), st.dates(dt.date(2025, 9, 1), dt.date(2026, 12, 31)))


def order_numbers(f: F) -> pd.Series:
    """Each paid member order's 1-based position among its customer's paid orders (pandas)."""
    o = f["orders"]
    o = o[o.status.isin(PAID) & o.customer_id.notna()].sort_values(
        ["customer_id", "ordered_at", "order_id"]
    )
    return (o.groupby("customer_id").cumcount() + 1).set_axis(o.order_id).astype("int64")


def _ts(day: dt.date | None) -> Any:
    return None if day is None else ibis.literal(pd.Timestamp(day).to_pydatetime(), "timestamp")


def _in_range(times: pd.Series, lo: dt.date | None, hi: dt.date | None) -> pd.Series:
    """lo <= time < hi, either bound open when None."""
    ts = pd.to_datetime(times)
    inside = pd.Series(True, index=times.index)
    if lo is not None:
        inside &= ts >= pd.Timestamp(lo)
    if hi is not None:
        inside &= ts < pd.Timestamp(hi)
    return inside


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lo=DAYS, hi=DAYS)
def test_bounded_numbering_matches_the_whole_history(
    lo: dt.date | None, hi: dt.date | None, con: Any, catalog: Catalog, frames: F
) -> None:
    model = catalog.models["orders"]
    refs = {"order_id", "ordered_at", "customer_order_seq"}
    got = with_refs(con, catalog, model, refs, span=("ordered_at", _ts(lo), _ts(hi)))
    got = got.to_pyarrow().to_pandas()
    got = got[_in_range(got.ordered_at, lo, hi) & got.customer_order_seq.notna()]
    want = order_numbers(frames)
    o = frames["orders"].set_index("order_id").ordered_at
    want = want[
        (o.reindex(want.index) >= pd.Timestamp(lo or dt.date(1900, 1, 1)))
        & (o.reindex(want.index) < pd.Timestamp(hi or dt.date(2100, 1, 1)))
    ]
    assert (
        got.set_index("order_id")
        .customer_order_seq.astype("int64")
        .sort_index()
        .equals(want.sort_index().rename("customer_order_seq").rename_axis("order_id"))
    )


@pytest.mark.parametrize("by", [[], ["channel"]])
@pytest.mark.parametrize(
    ("lo", "hi", "weeks"),
    [(dt.date(2026, 8, 17), dt.date(2026, 10, 12), 8), (None, dt.date(2025, 12, 29), None)],
)
def test_repeat_rate_over_some_weeks_matches_pandas(
    by: list[str],
    lo: dt.date | None,
    hi: dt.date,
    weeks: int | None,
    con: Any,
    catalog: Catalog,
    frames: F,
) -> None:
    """Over the first weeks (no history yet) some groups have buyers but no repeat buyer."""
    ours = query_metric(con, catalog, "repeat_purchase_rate", grain="week", by=by, start=lo, end=hi)
    seq = order_numbers(frames)
    o = frames["orders"]
    o = o[o.status.isin(PAID) & o.customer_id.notna()].copy()
    o["seq"] = seq.reindex(o.order_id).to_numpy()
    o = o[
        (o.ordered_at >= pd.Timestamp(lo or dt.date(1900, 1, 1)))
        & (o.ordered_at < pd.Timestamp(hi))
    ]
    o["period"] = o.ordered_at.dt.to_period("W-SUN").dt.start_time.astype("datetime64[us]")
    keys = ["period", *by]
    # share of the period's buyers with an order in the period that is not their first ever
    g = o.groupby(keys)
    want = (
        o[o.seq >= 2].groupby(keys).customer_id.nunique().reindex(g.size().index, fill_value=0)
        / g.customer_id.nunique()
    )
    got = ours.set_index(keys)["value"]
    assert ours["period"].nunique() == (weeks or o["period"].nunique())
    assert set(want.index) <= set(got.index)
    if lo is None:
        assert (want == 0).any()  # the zero case is covered
    assert got.drop(want.index).isna().all()  # groups of walk-ins only: no buyers, no rate
    for key, value in want.items():
        assert math.isclose(got.loc[key], value, rel_tol=1e-9), (key, got.loc[key], value)


def test_compiled_expressions_are_kept_per_catalog(con: Any, catalog: Catalog) -> None:
    lo, hi = dt.date(2026, 9, 1), dt.date(2026, 10, 1)
    a = cached_metric(con, catalog, "aov", grain="week", start=lo, end=hi)
    assert cached_metric(con, catalog, "aov", grain="week", start=lo, end=hi) is a
    assert cached_metric(con, catalog, "aov", grain="day", start=lo, end=hi) is not a
    assert (
        cached_metric(con, catalog, "aov", grain="week", start=lo, end=dt.date(2026, 10, 2))
        is not a
    )
    other = default_catalog()  # an equal but distinct catalog (it may have been edited)
    assert cached_metric(con, other, "aov", grain="week", start=lo, end=hi) is not a


@pytest.mark.parametrize("name", ["repeat_purchase_rate", "gross_margin_pct", "wau", "ltv_cac"])
def test_kept_sql_gives_the_same_frame(name: str, con: Any, catalog: Catalog) -> None:
    m = catalog.metric(name)
    grain = "week" if "week" in m.grains else m.grains[0]
    expr = cached_metric(
        con, catalog, name, grain=grain, start=dt.date(2026, 8, 3), end=dt.date(2026, 10, 5)
    )
    want = expr.to_pyarrow().to_pandas()
    for _ in range(2):  # compiled, then kept
        got = execute(expr, con)
        pd.testing.assert_frame_equal(
            got.sort_values("period").reset_index(drop=True),
            want.sort_values("period").reset_index(drop=True),
        )
    assert len(want) > 0 and want["value"].notna().any()


T0 = dt.datetime(2026, 1, 5)  # a Monday
ORDERS = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", None]),  # None: a walk-in
        st.integers(0, 70),  # day
        st.sampled_from([0, 12]),  # hour: same-instant twins are likely
        st.sampled_from(["paid", "paid", "completed", "closed"]),
    ),
    max_size=40,
)


def retention_brute_force(
    orders: pd.DataFrame, days: int, lo: dt.datetime, hi: dt.datetime | None, grain: str | None
) -> dict[Any, float]:
    """Per period: share of its buyers with a paid order strictly after one of theirs in the
    period and less than ``days`` after it (every pair checked)."""
    paid = orders[orders.status.isin(PAID) & orders.customer_id.notna()]
    base = paid[(paid.ordered_at >= lo) & ((paid.ordered_at < hi) if hi else True)]
    hits: dict[Any, dict[str, bool]] = {}
    for row in base.itertuples():
        later = paid[(paid.customer_id == row.customer_id) & (paid.ordered_at > row.ordered_at)]
        hit = bool((later.ordered_at < row.ordered_at + pd.Timedelta(days=days)).any())
        period = row.ordered_at.to_period("W-SUN").start_time if grain else None
        seen = hits.setdefault(period, {})
        seen[row.customer_id] = seen.get(row.customer_id, False) or hit
    return {p: sum(c.values()) / len(c) for p, c in hits.items()}


@settings(max_examples=40, deadline=None)
@given(
    rows=ORDERS,
    start=st.integers(0, 4),
    weeks=st.one_of(st.none(), st.integers(1, 6)),
    grain=st.sampled_from(["week", None]),
    name=st.sampled_from(["retention_30d", "retention_90d"]),
)
def test_own_conversions_match_the_general_path(
    rows: list[tuple[str | None, int, int, str]],
    start: int,
    weeks: int | None,
    grain: str | None,
    name: str,
) -> None:
    catalog = default_catalog()
    orders = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(rows))],
            "customer_id": pd.Series([r[0] for r in rows], dtype="object"),
            "ordered_at": pd.Series(
                [T0 + dt.timedelta(days=r[1], hours=r[2]) for r in rows], dtype="datetime64[us]"
            ),
            "status": pd.Series([r[3] for r in rows], dtype="object"),
        }
    )
    con = ibis.duckdb.connect()
    schema = {"order_id": "string", "customer_id": "string", "ordered_at": "timestamp"}
    con.create_table("orders", ibis.memtable(orders, schema={**schema, "status": "string"}))
    lo = (T0 + dt.timedelta(weeks=start)).date()
    hi = None if weeks is None else lo + dt.timedelta(weeks=weeks)
    if grain is None and hi is None:
        hi = lo + dt.timedelta(weeks=3)

    def run() -> dict[Any, float]:
        expr = compile_metric(con, catalog, name, grain=grain, start=lo, end=hi)
        frame = expr.to_pyarrow().to_pandas()
        periods = frame["period"] if grain else [None] * len(frame)
        return {
            (None if p is None else pd.Timestamp(p)): v
            for p, v in zip(periods, frame["value"], strict=True)
            if not (grain is None and math.isnan(v))
        }

    spec = catalog.metric(name).conversion
    assert spec is not None and windows._same_rows(
        catalog.metric(spec.base_metric), catalog.metric(spec.conversion_metric)
    )
    fast = run()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(windows, "_same_rows", lambda *_: False)
        general = run()
    assert fast == general
    days = 30 if name == "retention_30d" else 90
    want = retention_brute_force(
        orders,
        days,
        dt.datetime.combine(lo, dt.time()),
        None if hi is None else dt.datetime.combine(hi, dt.time()),
        grain,
    )
    assert fast.keys() == want.keys()
    for key, value in want.items():
        assert math.isclose(fast[key], value, rel_tol=1e-12), (key, fast[key], value)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lo=DAYS, hi=DAYS)
def test_lines_join_their_range_of_orders_first(
    lo: dt.date | None, hi: dt.date | None, con: Any, catalog: Catalog
) -> None:
    model = catalog.models["order_lines"]
    refs = {"order_id", "line_no", "order__ordered_at", "order__status", "product__unit_cost"}
    plain = with_refs(con, catalog, model, refs).to_pyarrow().to_pandas()
    got = (
        with_refs(con, catalog, model, refs, within=("order__ordered_at", _ts(lo), _ts(hi)))
        .to_pyarrow()
        .to_pandas()
    )
    want = plain[_in_range(plain.order__ordered_at, lo, hi)]
    keys = ["order_id", "line_no"]
    pd.testing.assert_frame_equal(
        got[sorted(got.columns)].sort_values(keys).reset_index(drop=True),
        want[sorted(want.columns)].sort_values(keys).reset_index(drop=True),
    )
