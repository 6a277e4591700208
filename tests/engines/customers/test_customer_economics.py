"""CAC, LTV and LTV/CAC on a worked example (definitions in luopan.engines.customers.economics)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from luopan.engines.customers.economics import unit_economics


def test_worked_example() -> None:
    customers = pd.DataFrame(
        {
            "customer": ["a", "b", "c", "d", "e", "f", "g"],
            "channel": ["抖音", "抖音", "douyin", "天猫", "朋友推荐", "天猫", "douyin"],
            "acquired_at": [
                "2026-01-05",
                "2026-01-20",
                "2026-02-02",
                "2026-01-09",
                "2026-01-10",
                "2026-02-15",
                "2025-12-24",
            ],
        }
    )
    spend = pd.DataFrame(
        {
            "date": ["2026-01-01", "2026-01-15", "2026-02-01", "2026-01-03", "2026-02-03"],
            "channel": ["douyin", "douyin", "douyin", "tmall", "tmall"],
            "spend": [100.0, 100.0, 150.0, 50.0, 400.0],
        }
    )
    value = pd.Series(
        {"a": 400.0, "b": 800.0, "c": 300.0, "d": 120.0, "e": 90.0, "f": 500.0, "g": 5000.0}
    )
    out = unit_economics(customers, spend, value)
    m = out.by_month.set_index(["channel", out.by_month["month"].astype(str)])
    # douyin, January: 2 customers (抖音 = douyin), spend 200 -> CAC 100, LTV 600, ratio 6
    row = m.loc[("douyin", "2026-01")]
    assert (row["new_customers"], row["cac"], row["ltv"], row["ltv_cac"]) == (2, 100, 600, 6)
    assert row["healthy"] is True or row["healthy"] == 1
    # tmall, February: 1 customer, spend 400 -> ratio 1.25: not healthy
    row = m.loc[("tmall", "2026-02")]
    assert row["ltv_cac"] == pytest.approx(1.25) and not row["healthy"]
    # referrals: customers, no spend -> no CAC, not judged
    row = m.loc[("朋友推荐", "2026-01")]
    assert np.isnan(row["cac"]) and row["healthy"] is None
    # December has a douyin customer but no spend on record: in the month table, not judged,
    # and left out of the channel totals
    assert m.loc[("douyin", "2025-12")]["healthy"] is None
    c = out.by_channel.set_index("channel")
    assert c.loc["douyin", "cac"] == pytest.approx(350 / 3)
    assert c.loc["douyin", "ltv"] == pytest.approx(500)
    assert c.loc["tmall", "ltv_cac"] == pytest.approx(310 / 225)
