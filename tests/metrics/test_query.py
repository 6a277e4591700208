"""Grains, joined dimensions, comparisons, filters and offsets on the demo world vs pandas."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from luopan.errors import MetricError
from luopan.metrics import Catalog, Condition, query_metric

PAID = ["paid", "shipped", "completed", "refunded"]
F = dict[str, pd.DataFrame]
LO, HI = dt.date(2026, 8, 1), dt.date(2026, 11, 1)


def paid_orders(f: F) -> pd.DataFrame:
    o = f["orders"]
    return o[o.status.isin(PAID)]


def window(frame: pd.DataFrame, col: str, lo: dt.date, hi: dt.date) -> pd.DataFrame:
    return frame[(frame[col] >= pd.Timestamp(lo)) & (frame[col] < pd.Timestamp(hi))]


def as_dict(frame: pd.DataFrame, keys: list[str]) -> dict[tuple[Any, ...], float]:
    return {tuple(r[k] for k in keys): r["value"] for _, r in frame.iterrows()}


def close_dicts(got: dict[Any, float], want: dict[Any, float]) -> None:
    assert set(got) == set(want)
    for k, v in want.items():
        assert math.isclose(got[k], v, rel_tol=1e-9), (k, got[k], v)


def test_gmv_by_store_region(con: Any, catalog: Catalog, frames: F) -> None:
    got = query_metric(con, catalog, "gmv", grain="month", by=["store__region"], start=LO, end=HI)
    o = window(paid_orders(frames), "ordered_at", LO, HI).merge(
        frames["stores"][["store_id", "region"]], on="store_id", how="left"
    )
    o["region"] = o.region.fillna("∅")  # online orders have no store: one NULL group
    want = o.groupby([o.ordered_at.dt.to_period("M").dt.start_time, "region"]).paid_amount.sum()
    got["store__region"] = got.store__region.fillna("∅")
    close_dicts(
        as_dict(got, ["period", "store__region"]), {(p, r): v for (p, r), v in want.items()}
    )
    assert got.store__region.isin(["华东", "华南"]).any() and (got.store__region == "∅").any()


def test_buyers_by_acquisition_channel_short_name(con: Any, catalog: Catalog, frames: F) -> None:
    # a bare name found on one joined model resolves through that entity
    got = query_metric(
        con, catalog, "buyers", grain=None, by=["acquisition_channel"], start=LO, end=HI
    )
    o = window(paid_orders(frames), "ordered_at", LO, HI).merge(
        frames["customers"][["customer_id", "acquisition_channel"]], on="customer_id"
    )
    want = o.groupby("acquisition_channel").customer_id.nunique()
    close_dicts(
        as_dict(got.dropna(subset=["acquisition_channel"]), ["acquisition_channel"]),
        {(k,): float(v) for k, v in want.items()},
    )


def test_line_revenue_by_product_category_and_week(con: Any, catalog: Catalog, frames: F) -> None:
    lo, hi = dt.date(2026, 9, 7), dt.date(2026, 10, 5)
    got = query_metric(
        con, catalog, "line_revenue", grain="week", by=["product__category"], start=lo, end=hi
    )
    o = window(paid_orders(frames), "ordered_at", lo, hi)[["order_id", "ordered_at"]]
    ln = frames["order_lines"].merge(o, on="order_id").merge(frames["products"], on="sku")
    want = ln.groupby(
        [ln.ordered_at.dt.to_period("W-SUN").dt.start_time, "category"]
    ).paid_amount.sum()
    close_dicts(as_dict(got, ["period", "product__category"]), {k: v for k, v in want.items()})
    assert len(got.product__category.unique()) >= 5


@pytest.mark.parametrize(
    "grain,freq,first,last",
    [
        ("quarter", "Q", "2025-10-01", "2026-07-01"),
        ("year", "Y", "2025-01-01", "2026-01-01"),  # a range is widened to whole periods
        ("day", "D", "2025-10-12", "2026-09-30"),  # the world starts on 2025-10-12
    ],
)
def test_grains(
    grain: str, freq: str, first: str, last: str, con: Any, catalog: Catalog, frames: F
) -> None:
    got = query_metric(
        con, catalog, "orders", grain=grain, start=dt.date(2025, 10, 1), end=dt.date(2026, 10, 1)
    )
    o = paid_orders(frames)
    want = o.groupby(o.ordered_at.dt.to_period(freq).dt.start_time).size()
    want = want[pd.Timestamp(first) : pd.Timestamp(last)]
    assert (got.period.iloc[0], got.period.iloc[-1]) == (pd.Timestamp(first), pd.Timestamp(last))
    assert got.period.tolist() == list(want.index)
    assert got.value.tolist() == want.astype(float).tolist()


def test_pop_and_yoy_comparisons(con: Any, catalog: Catalog, frames: F) -> None:
    o = paid_orders(frames)
    by_month = o.groupby(o.ordered_at.dt.to_period("M").dt.start_time).paid_amount.sum()
    pop = query_metric(
        con,
        catalog,
        "gmv",
        grain="month",
        start=dt.date(2026, 9, 1),
        end=dt.date(2026, 11, 1),
        compare="pop",
    )
    assert pop.period.tolist() == [pd.Timestamp("2026-09-01"), pd.Timestamp("2026-10-01")]
    for row in pop.itertuples():
        prev = row.period - pd.DateOffset(months=1)
        assert math.isclose(row.compare_value, by_month[prev], rel_tol=1e-9)
        assert math.isclose(row.change_pct, row.value / by_month[prev] - 1, rel_tol=1e-9)
    yoy = query_metric(
        con,
        catalog,
        "gmv",
        grain="month",
        start=dt.date(2026, 10, 1),
        end=dt.date(2026, 11, 1),
        compare="yoy",
    )
    # the world starts on 2025-10-12: October 2025 is a partial month, but it exists
    assert math.isclose(
        yoy.compare_value.iloc[0], by_month[pd.Timestamp("2025-10-01")], rel_tol=1e-9
    )
    week = query_metric(
        con,
        catalog,
        "orders",
        grain="week",
        start=dt.date(2026, 11, 9),
        end=dt.date(2026, 11, 16),
        compare="yoy",
    )
    last_year = window(o, "ordered_at", dt.date(2025, 11, 10), dt.date(2025, 11, 17))
    assert week.compare_value.tolist() == [float(len(last_year))]  # 52 weeks back, a Monday


def test_festival_comparison(con: Any, catalog: Catalog, frames: F) -> None:
    got = query_metric(
        con,
        catalog,
        "gmv",
        grain=None,
        start=dt.date(2026, 10, 1),
        end=dt.date(2026, 11, 15),
        compare="festival",
    )
    assert got.festival.tolist() == ["双11 2026"]
    o = paid_orders(frames)
    now = window(o, "ordered_at", dt.date(2026, 11, 1), dt.date(2026, 11, 12)).paid_amount.sum()
    then = window(o, "ordered_at", dt.date(2025, 11, 1), dt.date(2025, 11, 12)).paid_amount.sum()
    assert math.isclose(got.value.iloc[0], now, rel_tol=1e-9)
    assert math.isclose(got.compare_value.iloc[0], then, rel_tol=1e-9)
    with pytest.raises(MetricError, match="no festival lies wholly inside"):
        query_metric(
            con,
            catalog,
            "gmv",
            start=dt.date(2026, 7, 1),
            end=dt.date(2026, 8, 1),
            compare="festival",
        )


def test_derived_offset_is_week_over_week(con: Any, catalog: Catalog, frames: F) -> None:
    lo, hi = dt.date(2026, 9, 7), dt.date(2026, 10, 5)
    got = query_metric(con, catalog, "gmv_wow", grain="week", start=lo, end=hi)
    o = paid_orders(frames)
    weekly = o.groupby(o.ordered_at.dt.to_period("W-SUN").dt.start_time).paid_amount.sum()
    want = (weekly - weekly.shift(1))[pd.Timestamp(lo) : pd.Timestamp(hi) - pd.Timedelta(days=1)]
    assert got.period.tolist() == list(want.index)
    assert np.allclose(got.value.to_numpy(), want.to_numpy(), rtol=1e-9)


def test_where_conditions_filter_every_input(con: Any, catalog: Catalog, frames: F) -> None:
    scope = [Condition(field="channel", op="in", value=["tmall", "jd"])]
    got = query_metric(con, catalog, "aov", grain=None, start=LO, end=HI, where=scope)
    o = window(paid_orders(frames), "ordered_at", LO, HI)
    o = o[o.channel.isin(["tmall", "jd"])]
    assert math.isclose(got.value.iloc[0], o.paid_amount.sum() / len(o), rel_tol=1e-9)


def test_hostile_filter_value_is_a_literal(con: Any, catalog: Catalog) -> None:
    scope = [Condition(field="channel", op="eq", value="store'; DROP TABLE orders; --")]
    got = query_metric(con, catalog, "orders", grain=None, start=LO, end=HI, where=scope)
    assert got.empty or got.value.iloc[0] == 0
    again = query_metric(con, catalog, "orders", grain=None, start=LO, end=HI)
    assert again.value.iloc[0] > 1000


def test_grain_not_allowed_and_unknown_dimension(con: Any, catalog: Catalog) -> None:
    with pytest.raises(
        MetricError,
        match=r"'dau' \(luopan/metrics/catalog/retail.yaml:\d+\) "
        r"is not defined at grain 'week'",
    ):
        query_metric(con, catalog, "dau", grain="week")
    with pytest.raises(MetricError, match="'planet' is neither a column nor a dimension"):
        query_metric(con, catalog, "gmv", grain="month", by=["planet"])
    with pytest.raises(MetricError, match="unknown metric 'gmvv'") as err:
        query_metric(con, catalog, "gmvv")
    assert "gmv" in str(err.value)


ADDITIVE = {
    "gmv": "orders",
    "orders": "orders",
    "net_revenue": "orders",
    "marketing_spend": "marketing_spend",
    "line_revenue": "order_lines",
}
DIMS = {
    "orders": ["channel", "store__region", "customer__acquisition_channel", "status"],
    "order_lines": ["product__category", "order__channel"],
    "marketing_spend": ["channel", "campaign__type"],
}


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_additive_metrics_sum_over_a_partition(
    data: st.DataObject, con: Any, catalog: Catalog
) -> None:
    """Σ over the members of a dimension = the whole; Σ over a split of its values = the whole."""
    name = data.draw(st.sampled_from(sorted(ADDITIVE)))
    dim = data.draw(st.sampled_from(DIMS[ADDITIVE[name]]))
    grain = data.draw(st.sampled_from(["week", "month", None]))
    whole = query_metric(con, catalog, name, grain=grain, start=LO, end=HI)
    parts = query_metric(con, catalog, name, grain=grain, by=[dim], start=LO, end=HI)
    keys = ["period"] if grain else []
    summed = parts.groupby(keys)["value"].sum() if keys else pd.Series([parts.value.sum()])
    totals = whole.set_index(keys)["value"] if keys else whole["value"]
    assert np.allclose(summed.to_numpy(), totals.to_numpy(), rtol=1e-9, atol=0)
    members = sorted(parts[dim].dropna().unique())
    side = data.draw(st.lists(st.sampled_from(members), unique=True, max_size=len(members)))
    rest = [m for m in members if m not in side]
    split = 0.0
    for chosen in (side, rest):
        if chosen:
            w = [Condition(field=dim, op="in", value=chosen)]
            split += (
                query_metric(con, catalog, name, grain=None, start=LO, end=HI, where=w)
                .value.fillna(0)
                .sum()
            )
    if parts[dim].isna().any():  # the NULL member is its own part
        w = [Condition(field=dim, op="is_null")]
        split += (
            query_metric(con, catalog, name, grain=None, start=LO, end=HI, where=w)
            .value.fillna(0)
            .sum()
        )
    total = query_metric(con, catalog, name, grain=None, start=LO, end=HI).value.iloc[0]
    assert math.isclose(split, total, rel_tol=1e-9)


def test_bare_region_is_the_store_region(con: Any, catalog: Catalog) -> None:
    bare = query_metric(con, catalog, "orders", grain=None, by=["region"], start=LO, end=HI)
    store = query_metric(con, catalog, "orders", grain=None, by=["store__region"], start=LO, end=HI)
    cust = query_metric(
        con, catalog, "orders", grain=None, by=["customer__region"], start=LO, end=HI
    )
    assert bare.value.tolist() == store.value.tolist()
    assert bare.value.tolist() != cust.value.tolist()
