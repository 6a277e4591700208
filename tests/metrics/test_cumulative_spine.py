"""A cumulative metric over the whole history has every period between its input's first and last,
and the same values as a query over a window: a month in which no campaign started keeps its
budget to date (it used to drop out of whole-history queries, so budget_reserve_share was NaN
there and the loop's backfill missed the demo's October breach of the 15% reserve rule)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest

from luopan.metrics import Catalog
from luopan.metrics.query import query_metric

F = dict[str, pd.DataFrame]


def test_budget_to_date_has_every_month(con: Any, catalog: Catalog, frames: F) -> None:
    got = query_metric(con, catalog, "budget_to_date", grain="month")
    months = pd.PeriodIndex(pd.to_datetime(got["period"]), freq="M")
    c = frames["campaigns"]
    start = pd.PeriodIndex(pd.to_datetime(c["start_date"]), freq="M")
    assert list(months) == list(pd.period_range(start.min(), start.max(), freq="M"))
    by_month = c.groupby(start)["budget"].sum().reindex(months, fill_value=0.0)
    want = by_month.cumsum().to_numpy()
    assert len(set(start)) < len(months)  # the world has months without a campaign start
    assert list(got["value"]) == pytest.approx(list(want), rel=1e-9)


def test_whole_history_agrees_with_a_window(con: Any, catalog: Catalog) -> None:
    lo, hi = dt.date(2026, 5, 1), dt.date(2026, 11, 1)
    whole = query_metric(con, catalog, "budget_reserve_share", grain="month")
    part = query_metric(con, catalog, "budget_reserve_share", grain="month", start=lo, end=hi)
    assert len(part) == 6 and part["value"].notna().all()
    w = whole.set_index(pd.to_datetime(whole["period"]))["value"]
    p = part.set_index(pd.to_datetime(part["period"]))["value"]
    assert list(w.loc[p.index]) == pytest.approx(list(p), rel=1e-9)
    # the demo's reserve falls under 15% in October 2026 (the rule's threshold)
    assert p.loc[pd.Timestamp("2026-10-01")] < 0.15 < p.loc[pd.Timestamp("2026-09-01")]
