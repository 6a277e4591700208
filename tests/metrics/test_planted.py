"""The catalog sees what the demo generator planted (ground_truth.json)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from luopan.metrics import Catalog, Condition, query_metric


def test_dau_equals_the_planted_daily_actives(con: Any, catalog: Catalog, truth: dict) -> None:
    got = query_metric(
        con, catalog, "dau", grain="day", start=dt.date(2026, 5, 20), end=dt.date(2026, 11, 16)
    )
    days = {p.date().isoformat(): v for p, v in zip(got.period, got.value, strict=True)}
    assert days == {d: float(n) for d, n in truth["dau_by_day"].items()}


def test_dau_drop_segment(con: Any, catalog: Catalog, truth: dict) -> None:
    """The planted channel × region loses most of its actives in the incident window."""
    drop = truth["dau_drop"]
    start = dt.date.fromisoformat(drop["start"])
    end = dt.date.fromisoformat(drop["end"]) + dt.timedelta(days=1)  # inclusive in the truth
    scope = [
        Condition(field="channel", op="eq", value=drop["channel"]),
        Condition(field="customer__region", op="eq", value=drop["region"]),
    ]
    during = query_metric(con, catalog, "dau", grain="day", start=start, end=end, where=scope)
    before = query_metric(
        con,
        catalog,
        "dau",
        grain="day",
        start=start - dt.timedelta(days=28),
        end=start,
        where=scope,
    )
    change = during.value.sum() / len(during) / (before.value.sum() / len(before)) - 1
    assert change < -0.5  # planted size 0.7 (activity × 0.3)
    everyone = query_metric(con, catalog, "dau", grain="day", start=start, end=end)
    base = query_metric(
        con, catalog, "dau", grain="day", start=start - dt.timedelta(days=28), end=start
    )
    assert math.isclose(everyone.value.mean(), drop["drop_dau"], rel_tol=1e-12)
    assert math.isclose(base.value.mean(), drop["baseline_dau"], rel_tol=1e-12)


def test_promo_roi_of_the_low_roi_campaign(con: Any, catalog: Catalog, truth: dict) -> None:
    planted = truth["low_roi_campaign"]
    got = query_metric(
        con,
        catalog,
        "promo_roi",
        grain="month",
        by=["campaign_id"],
        start=dt.date(2025, 10, 1),
        end=dt.date(2026, 11, 1),
    )
    got = got[got.campaign_id == planted["campaign_id"]]
    ours = {f"{p:%Y-%m}": v for p, v in zip(got.period, got.value, strict=True)}
    for row in planted["roi_by_period"]:
        if row["period"] in ours:
            assert math.isclose(ours[row["period"]], row["roi"], abs_tol=5e-5), row
    low = sorted(p for p, v in ours.items() if v < planted["benchmark_roi"])
    assert low == planted["low_periods"]


def test_overpromoted_group_activity_falls(con: Any, catalog: Catalog, truth: dict) -> None:
    g = truth["overpromoted_group"]
    scope = [Condition(field="group_id", op="eq", value=g["group_id"])]
    rate = query_metric(
        con,
        catalog,
        "community_active_members",
        grain="week",
        start=dt.date(2026, 7, 1),
        end=dt.date(2026, 11, 16),
        where=scope,
    )
    first, last = rate.value.iloc[:4].mean(), rate.value.iloc[-4:].mean()
    assert last / first - 1 < -0.5  # planted drop 67 %
