"""Scorecard, RAG status, north-star check and tree attribution on the demo world."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd
import pytest

from luopan.errors import MetricError
from luopan.metrics import (
    Catalog,
    attribute_tree,
    check_north_star,
    load_catalog_files,
    query_metric,
    rag_status,
    scorecard,
)
from luopan.metrics.grains import shift
from luopan.metrics.spec import Meta

PAID = ["paid", "shipped", "completed", "refunded"]
F = dict[str, pd.DataFrame]


def meta(direction: str) -> Meta:
    return Meta.model_validate(
        {
            "label": {"zh": "x", "en": "x"},
            "perspective": "financial",
            "direction": direction,
            "targets": {"week": 100.0},
        }
    )


def test_rag_status_both_directions() -> None:
    up, down = meta("higher"), meta("lower")
    assert [rag_status(v, up, "week") for v in (100, 95, 90, 89.99)] == [
        "green",
        "amber",
        "amber",
        "red",
    ]
    assert [rag_status(v, down, "week") for v in (100, 105, 110, 110.01)] == [
        "green",
        "amber",
        "amber",
        "red",
    ]
    assert rag_status(float("nan"), up, "week") == "none"
    assert rag_status(120, up, "month") == "none"  # no monthly target


def monthly_gmv(f: F) -> pd.Series:
    o = f["orders"]
    o = o[o.status.isin(PAID)]
    return o.groupby(o.ordered_at.dt.to_period("M").dt.start_time).paid_amount.sum()


def test_scorecard_rows(con: Any, catalog: Catalog, frames: F) -> None:
    card = scorecard(con, catalog, "2026-10")
    assert (card.period, card.grain, card.start, card.end) == (
        "2026-10",
        "month",
        dt.date(2026, 10, 1),
        dt.date(2026, 11, 1),
    )
    rows = {r.metric: r for r in card.rows}
    assert card.rows[0].metric == "gmv" and card.rows[0].north_star
    assert len(rows) >= 28
    gmv = monthly_gmv(frames)
    row = rows["gmv"]
    assert math.isclose(row.actual, gmv[pd.Timestamp("2026-10-01")], rel_tol=1e-9)
    assert math.isclose(row.previous, gmv[pd.Timestamp("2026-09-01")], rel_tol=1e-9)
    want_trend = [
        gmv[pd.Timestamp(f"{y}-{m:02d}-01")]
        for y, m in [
            (2026, 3),
            (2026, 4),
            (2026, 5),
            (2026, 6),
            (2026, 7),
            (2026, 8),
            (2026, 9),
            (2026, 10),
        ]
    ]
    assert all(math.isclose(a, b, rel_tol=1e-9) for a, b in zip(row.trend, want_trend, strict=True))
    for r in card.rows:
        target = catalog.metric(r.metric).meta.targets.get("month")
        assert r.target == target
        assert r.status == rag_status(r.actual, catalog.metric(r.metric).meta, "month")
    # DAU is only defined per day: it stays on the card, with the reason
    assert rows["dau"].status == "none" and "not defined at grain 'month'" in str(rows["dau"].error)
    table = card.to_table()
    assert list(table.metric) == [r.metric for r in card.rows]
    assert sum(sum(v.values()) for v in card.summary().values()) == len(card.rows)


def test_north_star_check(con: Any, catalog: Catalog, frames: F) -> None:
    result = check_north_star(con, catalog, start=dt.date(2026, 10, 1), end=dt.date(2026, 11, 1))
    assert result.metric == "gmv" and result.passed
    measured = result.criteria[1][2]
    assert f"{monthly_gmv(frames)[pd.Timestamp('2026-10-01')]:,.2f}" in measured
    # without a strategic goal or a tree the third criterion fails
    models = open_default("models.yaml")
    lone = """metrics:
  - name: sales
    type: simple
    model: orders
    agg: sum
    expr: paid_amount
    meta: {label: {zh: 销售额, en: sales}, perspective: financial, north_star: true}
"""
    bare = load_catalog_files([("models.yaml", models), ("m.yaml", lone)])
    verdict = check_north_star(con, bare, start=dt.date(2026, 10, 1), end=dt.date(2026, 11, 1))
    assert [ok for _, ok, _ in verdict.criteria] == [False, True, False]
    assert not verdict.passed
    with pytest.raises(MetricError, match="no metric is flagged as the north star"):
        check_north_star(con, load_catalog_files([("models.yaml", models)]))


def open_default(name: str) -> str:
    from importlib import resources

    return (resources.files("luopan.metrics") / "catalog" / name).read_text(encoding="utf-8")


def test_gmv_tree_attribution_adds_up(con: Any, catalog: Catalog, frames: F) -> None:
    result = attribute_tree(con, catalog, "gmv", "2026-10", "2026-09", lang="en")
    root = result.root
    gmv = monthly_gmv(frames)
    assert math.isclose(root.baseline, gmv[pd.Timestamp("2026-09-01")], rel_tol=1e-9)
    assert math.isclose(root.actual, gmv[pd.Timestamp("2026-10-01")], rel_tol=1e-9)
    assert [c.metric for c in root.children] == ["buyers", "orders_per_buyer", "aov"]
    assert root.method == "lmdi"
    assert abs(result.residual) <= 1e-9 * abs(root.change)
    # LMDI by hand from the drivers' values
    o = frames["orders"]
    o = o[o.status.isin(PAID)]
    sep, octo = (o[o.ordered_at.dt.to_period("M") == p] for p in ("2026-09", "2026-10"))
    x0 = [
        sep.customer_id.nunique(),
        len(sep) / sep.customer_id.nunique(),
        sep.paid_amount.sum() / len(sep),
    ]
    x1 = [
        octo.customer_id.nunique(),
        len(octo) / octo.customer_id.nunique(),
        octo.paid_amount.sum() / len(octo),
    ]
    v0, v1 = math.prod(x0), math.prod(x1)
    weight = (v1 - v0) / math.log(v1 / v0)
    for child, a, b in zip(root.children, x0, x1, strict=True):
        assert math.isclose(child.contribution, weight * math.log(b / a), rel_tol=1e-9)
    # AOV goes one level further down: units per order × price per unit
    aov = root.children[2]
    assert [c.metric for c in aov.children] == ["units_per_order", "price_per_unit"]
    assert math.isclose(sum(c.contribution for c in aov.children), aov.contribution, rel_tol=1e-9)
    table = result.to_table()
    assert list(table.depth) == [0, 1, 1, 1, 2, 2]
    assert math.isclose(table[table.depth == 1].share.sum(), 1.0, rel_tol=1e-9)


def test_additive_trees(con: Any, catalog: Catalog, frames: F) -> None:
    by_channel = attribute_tree(con, catalog, "gmv_by_channel", "2026-10", "2026-09")
    o = frames["orders"]
    o = o[o.status.isin(PAID)]
    per = o.groupby([o.ordered_at.dt.to_period("M").astype(str), "channel"]).paid_amount.sum()
    for child in by_channel.root.children:
        channel = child.metric.split("=")[1].rstrip("]")
        want = per.get(("2026-10", channel), 0.0) - per.get(("2026-09", channel), 0.0)
        assert math.isclose(child.contribution, want, rel_tol=1e-9, abs_tol=1e-6)
    assert len(by_channel.root.children) == 6
    assert abs(by_channel.residual) <= 1e-9 * abs(by_channel.root.change)
    kinds = attribute_tree(con, catalog, "gmv_by_customer_type", "2026-W44", "2026-W43")
    assert [c.method for c in [kinds.root]] == ["difference"]
    assert abs(kinds.residual) <= 1e-9 * abs(kinds.root.change)
    with pytest.raises(MetricError, match="no tree decomposes 'refund_rate'"):
        attribute_tree(con, catalog, "refund_rate", "2026-10", "2026-09")


@pytest.mark.parametrize("period", ["2026-10", "2026-W45", "2026-11-10"])
def test_scorecard_agrees_with_single_queries(period: str, con: Any, catalog: Catalog) -> None:
    """The scorecard computes shared inputs once; every figure equals its own query's."""
    card = scorecard(con, catalog, period, trend_periods=3)
    for row in card.rows:
        m = catalog.metric(row.metric)
        if card.grain not in m.grains:
            assert row.error is not None
            continue
        own = query_metric(
            con,
            catalog,
            row.metric,
            grain=card.grain,
            start=shift(card.start, card.grain, -2),
            end=card.end,
        )
        values = dict(zip([p.date() for p in own.period], own.value, strict=True))
        want = [values.get(shift(card.start, card.grain, i - 2), float("nan")) for i in range(3)]
        for got, expected in zip(row.trend, want, strict=True):
            assert (math.isnan(got) and math.isnan(expected)) or math.isclose(
                got, expected, rel_tol=1e-9
            ), (row.metric, row.trend, want)
