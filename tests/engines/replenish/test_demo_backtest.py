"""Issue 9, first acceptance point: on the demo world, at fill ≥ 97%, luopan's policy against the
store's current rule tuned to the same fill; plus the pieces it is built from (demand rebuilt
from censored sales, the assortment replay, stuttering-Poisson quantiles).

The demo tests share the session ``demo_world`` fixture (about two minutes to build), hence
``slow``; the figures they check are in benchmarks/RESULTS.md (replenish, demo subsection).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from luopan.engines.replenish.comparison import recorded_kpis, stuttering_quantile
from luopan.engines.replenish.demand_replay import reconstruct_demand
from luopan.engines.replenish.demo_backtest import (
    demo_panels,
    demo_policy_comparison,
    replay_recorded,
    rolling_mean_forecast,
)
from luopan.engines.replenish.replay import replay
from luopan.errors import EngineError

# ---------------------------------------------------------------- building blocks (fast) -----


def test_stuttering_quantile_with_batch_one_is_the_poisson_quantile() -> None:
    mu = np.array([0.05, 0.4, 1.0, 3.5, 12.0])
    for tau in (0.5, 0.9, 0.99):
        got = stuttering_quantile(mu, tau)
        assert np.array_equal(got, stats.poisson.ppf(tau, mu))
    lumpy = stuttering_quantile(mu, 0.99, batch=1.5)
    assert (lumpy >= stuttering_quantile(mu, 0.99)).all()  # same mean, fatter tail
    levels = [stuttering_quantile(mu, t, batch=1.3) for t in (0.3, 0.6, 0.9, 0.999)]
    assert all((b >= a).all() for a, b in zip(levels, levels[1:], strict=False))
    with pytest.raises(EngineError):
        stuttering_quantile(mu, 1.0)


def test_replay_orders_before_expiry_only_when_counting_usable_stock() -> None:
    zero = np.zeros((1, 6))
    usable = replay(zero, 2.0, shelf_life=2, initial_stock=2.0, position="usable")
    # the opening 2 units expire on day 1; usable counting reorders on days 1, 3, 5
    assert usable.ordered == 6.0 and usable.wasted == 6.0 and usable.fill_rate == 1.0
    counted_all = replay(zero, 2.0, shelf_life=2, initial_stock=2.0, position="all")
    assert counted_all.wasted == 4.0  # orders only once the shelf is empty: days 2 and 5
    steady = replay(np.ones((1, 10)), 1.0, shelf_life=1, initial_stock=1.0)
    assert steady.fill_rate == 1.0 and steady.wasted == 0.0 and steady.days_of_inventory == 0.0
    with pytest.raises(EngineError):
        replay(zero, 1.0, shelf_life=0)


def test_reconstruct_demand_recovers_a_known_scale() -> None:
    rng = np.random.default_rng(3)
    rate = rng.uniform(0.2, 3.0, (400, 1)) * np.ones((1, 60))
    demand = rng.poisson(2.0 * rate)
    stock = rng.integers(1, 6, demand.shape)
    sales = np.minimum(demand, stock)
    censored = demand >= stock  # the day ended empty
    lost = float((demand - sales).sum())
    r = reconstruct_demand(sales, censored, rate, lost_total=lost, seed=1)
    assert r.scale == pytest.approx(2.0, rel=0.05)
    assert r.expected_lost == pytest.approx(lost, rel=1e-4)
    assert np.array_equal(r.demand[~censored], sales[~censored])
    assert (r.demand >= sales).all()
    assert r.demand.sum() == pytest.approx(demand.sum(), rel=0.02)


# ---------------------------------------------------------------- the demo world (slow) ------

ARTICLE_DOI = -0.57  # the article: turnover 28 -> 12 days
ARTICLE_WASTE = -0.42  # the article: waste -42%
# measured on this world (benchmarks/RESULTS.md): vs the current rule at 97% DOI -75%, waste
# -52%; vs the naive policy with a unit buffer -13% / -14%; at the recorded fill (80.8%) against
# the records -38% / -41%. Asserted with a tolerance of 5 points.
TOL = 0.05


def _frames(ws) -> dict:
    import ibis

    truth = json.loads((ws.root / "ground_truth.json").read_text(encoding="utf-8"))
    con = ibis.duckdb.connect(str(ws.warehouse_path), read_only=True)
    o, ln = con.table("orders"), con.table("order_lines")
    j = ln.join(o, "order_id").filter(o.channel.isin(["store", "meituan"]))
    ev = con.table("inventory_events")
    w = ev.filter(ev.event_type == "waste")
    out = {
        "sales": j.group_by([j.store_id, j.sku, j.ordered_at.date().name("date")])
        .aggregate(quantity=j.quantity.sum())
        .to_pandas(),
        "batch": float(j.quantity.mean().to_pyarrow().as_py()),
        "inventory": con.table("inventory")
        .select("date", "store_id", "sku", "on_hand", "on_order")
        .to_pandas(),
        "waste": w.group_by([w.store_id, w.sku, w.occurred_at.date().name("date")])
        .aggregate(quantity=-w.quantity.sum())
        .to_pandas(),
        "products": con.table("products").select("sku", "shelf_life_days").to_pandas(),
        "prices": con.table("prices").select("date", "sku", "price").to_pandas(),
        "demand_truth": pd.read_parquet(ws.root / truth["demand_file"]),
        "elasticities": pd.read_parquet(ws.root / truth["elasticities_file"]),
        "truth": truth,
    }
    con.disconnect()
    return out


@pytest.fixture(scope="module")
def demo_run(demo_world):
    ws, _ = demo_world
    panels = demo_panels(**_frames(ws))
    mu = rolling_mean_forecast(panels.history, panels.dates, ids=panels.ids, refit_every=30)
    res, rebuilt = demo_policy_comparison(
        panels,
        mu,
        covers=(12.0, 22.0, 30.0, 40.0),
        buffers=(),
        buffer_units=(1.0, 2.0, 3.0, 4.0),
        shortage_values=(16.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 4096.0),
    )
    return panels, res, rebuilt


@pytest.mark.slow
def test_demo_demand_is_rebuilt_to_the_ground_truth_lost_sales(demo_run) -> None:
    panels, _, rebuilt = demo_run
    open_days = ~rebuilt.censored
    assert np.array_equal(rebuilt.demand[open_days], panels.sales[open_days])
    assert rebuilt.expected_lost == pytest.approx(panels.lost_total, rel=1e-3)
    drawn = rebuilt.demand.sum() - panels.sales.sum()
    assert drawn == pytest.approx(panels.lost_total, rel=0.05)


@pytest.mark.slow
def test_replaying_the_recorded_policy_reproduces_the_records(demo_run) -> None:
    panels, res, rebuilt = demo_run
    rec = res.recorded
    assert rec == recorded_kpis(
        panels.sales, rebuilt.demand, panels.on_hand, panels.wasted, warmup=28
    )
    again = replay_recorded(panels, rebuilt.demand)
    assert again.fill_rate == pytest.approx(rec["fill_rate"], abs=0.01)
    assert again.days_of_inventory == pytest.approx(rec["days_of_inventory"], rel=0.03)
    assert again.waste_rate == pytest.approx(rec["waste_rate"], rel=0.05)


@pytest.mark.slow
def test_luopan_beats_the_current_rule_at_fill_97_by_the_article_margins(demo_run) -> None:
    _, res, _ = demo_run
    luopan = res.curves[res.curves["policy"] == "luopan"]
    assert luopan["fill_rate"].max() >= 0.97  # the target is reached, not extrapolated
    at = res.at_fill
    assert at.loc["luopan", "fill_rate"] == pytest.approx(0.97)
    imp = res.improvement()
    assert imp["days_of_inventory"] <= min(ARTICLE_DOI, -0.75 + TOL)
    assert imp["waste_rate"] <= min(ARTICLE_WASTE, -0.52 + TOL)
    assert imp["stockout_rate"] == pytest.approx(0.0, abs=0.1)  # equal fill, equal stock-outs
    vs_naive = res.improvement("naive_units")
    assert vs_naive["days_of_inventory"] <= -0.13 + TOL
    assert vs_naive["waste_rate"] <= -0.14 + TOL


@pytest.mark.slow
def test_luopan_holds_less_than_the_records_at_the_recorded_fill(demo_run) -> None:
    _, res, _ = demo_run
    rec = res.recorded
    assert 0.78 < rec["fill_rate"] < 0.84  # the demo's brand is under-serving
    at = res.at(rec["fill_rate"]).loc["luopan"]
    assert at["days_of_inventory"] / rec["days_of_inventory"] - 1 <= -0.38 + TOL
    assert at["waste_rate"] / rec["waste_rate"] - 1 <= -0.41 + TOL
