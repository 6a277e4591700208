"""Markdowns and the promotion twin: hand-checkable cases, invariants, plan file errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from luopan.config import load_model
from luopan.engines.pricing import PromoPlan, markdown_schedule, simulate_promotion, stock_lots
from luopan.errors import ConfigError, DataContractError


def _md(on_hand: float, days: int, base: float = 4.0, **kw: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_id": ["x"],
            "on_hand": [on_hand],
            "days_left": [days],
            "price": [10.0],
            "base_units": [base],
            "elasticity": [-2.5],
            **{k: [v] for k, v in kw.items()},
        }
    )


def test_one_day_expected_sales_are_exact() -> None:
    # one day, no markdown possible gain: E[min(S, N)] for N ~ Poisson(4), S = 3
    plan = markdown_schedule(_md(3, 1), levels=(0.0,))
    want = sum(min(3, k) * stats.poisson.pmf(k, 4.0) for k in range(60))
    assert plan.table.loc[0, "revenue"] == pytest.approx(10 * want, rel=1e-9)
    assert plan.table.loc[0, "waste_units"] == pytest.approx(3 - want, rel=1e-9)


def test_overstock_is_marked_down_and_scarce_stock_is_not() -> None:
    plan = markdown_schedule(
        pd.concat([_md(40, 3, waste_cost=2.0), _md(2, 3, waste_cost=2.0)], ignore_index=True)
    ).table
    over, scarce = plan.iloc[0], plan.iloc[1]
    assert over["discount_today"] > 0 or max(over["schedule"]) > 0
    assert over["waste_units"] < over["waste_units_no_markdown"]
    assert over["value"] >= over["value_no_markdown"]
    assert scarce["schedule"] == [0.0, 0.0, 0.0]
    for sched in plan["schedule"]:
        assert sched == sorted(sched)  # markdowns only deepen


def test_markdown_rejects_bad_levels() -> None:
    with pytest.raises(DataContractError, match="levels"):
        markdown_schedule(_md(5, 2), levels=(0.1, 0.2))


def test_fifo_lots_keep_the_newest_receipts() -> None:
    on_hand = pd.DataFrame({"store_id": ["S1"], "sku": ["a"], "on_hand": [7]})
    receipts = pd.DataFrame(
        {
            "store_id": ["S1"] * 3,
            "sku": ["a"] * 3,
            "date": pd.to_datetime(["2026-01-01", "2026-01-03", "2026-01-04"]),
            "quantity": [10, 4, 5],
        }
    )
    lots = stock_lots(on_hand, receipts, pd.Series({"a": 5}), as_of=pd.Timestamp("2026-01-05"))
    lots = lots.sort_values("age_days").reset_index(drop=True)
    assert lots["quantity"].tolist() == [5, 2]
    assert lots["days_left"].tolist() == [4, 3]


def _series(**kw: object) -> pd.DataFrame:
    base = {
        "unique_id": ["a", "b", "c"],
        "base_units": [10.0, 8.0, 6.0],
        "current_price": [10.0, 12.0, 9.0],
        "unit_cost": [6.0, 7.0, 5.0],
        "elasticity": -2.5,
        "elasticity_se": 0.1,
        "market": "m",
        "promoted": [True, False, False],
        "discount": [0.2, 0.0, 0.0],
    }
    base.update(kw)
    return pd.DataFrame(base)


def test_twin_without_promotion_has_no_effect() -> None:
    r = simulate_promotion(_series(discount=[0.0, 0.0, 0.0]), periods=7, post_periods=0)
    lo, hi = r.totals.loc["incremental_units", ["lower", "upper"]]
    assert lo < 0 < hi
    assert abs(r.totals.loc["incremental_units", "mean"]) < 3


def test_twin_decomposes_lift_dip_cannibalisation_and_stock() -> None:
    s = _series(cross_elasticity=0.8, post_promo=-0.3)
    r = simulate_promotion(s, periods=7, post_periods=7, budget=50.0, draws=4000)
    items = r.items.set_index("unique_id")
    lift = 0.8**-2.5
    assert items.loc["a", "units"] == pytest.approx(70 * lift, rel=0.05)
    assert items.loc["a", "dip_units"] == pytest.approx(70 * (np.exp(-0.3) - 1), rel=0.05)
    assert items.loc["b", "incremental_units"] < 0  # cannibalised sisters
    m, lo, hi = r.totals.loc["incremental_margin"]
    assert lo <= m <= hi
    assert r.totals.loc["roi", "mean"] == pytest.approx((m - 50.0) / 50.0)
    capped = simulate_promotion(s.assign(stock=[60.0, 1e9, 1e9]), periods=7, post_periods=0)
    assert capped.items.set_index("unique_id").loc["a", "units"] <= 60.0
    assert capped.totals.loc["lost_units", "mean"] > 0


def test_plan_file_errors_point_at_file_and_key(tmp_path: Path) -> None:
    good = tmp_path / "plan.yaml"
    good.write_text(
        "name: 春季上新\nstart: 2026-03-01\nend: 2026-03-07\ndiscount: 0.15\nskus: [A1]\n",
        encoding="utf-8",
    )
    plan = load_model(good, PromoPlan)
    assert plan.days == 7 and plan.mechanic == "tpr"
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: x\nstart: 2026-03-01\nend: 2026-03-07\ndiscount: 0.15\nskus: [A1]\nmechanics: tpr\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"bad.yaml:6.*mechanics"):
        load_model(bad, PromoPlan)
    late = tmp_path / "late.yaml"
    late.write_text(
        "name: x\nstart: 2026-03-09\nend: 2026-03-07\ndiscount: 0.15\nskus: [A1]\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="before start"):
        load_model(late, PromoPlan)


def test_calendar_factor_lifts_the_baseline_of_a_festival_plan() -> None:
    from luopan.engines.pricing import calendar_factor

    cal = pd.DataFrame({"event_双11大促": [0.8, 0.0], "dow_5": [0.2, 0.2]}, index=["a", "b"])
    days = pd.date_range("2026-11-10", "2026-11-11")  # the 双11 peak: Tue, Wed
    base = pd.date_range("2026-09-01", "2026-09-28")  # four ordinary weeks
    f = calendar_factor(cal, days, base)
    normal = (6 + np.exp(0.2)) / 7  # base window mean multiplier (one Saturday a week)
    assert f["a"] == pytest.approx(np.exp(0.8) / normal)
    assert f["b"] == pytest.approx(1 / normal)
    s = _series(calendar_factor=[f["a"], 1.0, 1.0], discount=[0.0, 0.0, 0.0])
    r = simulate_promotion(s, periods=2, post_periods=0).items.set_index("unique_id")
    assert r.loc["a", "baseline_units"] == pytest.approx(20 * f["a"])
