"""Simulation: hand-computed perishable cases, FIFO against LIFO, and bad settings."""

from __future__ import annotations

import numpy as np
import pytest

from luopan.engines.replenish import simulate
from luopan.errors import EngineError


def test_exact_cover_gives_full_fill_and_no_waste() -> None:
    demand = np.full((3, 20), 4.0)
    r = simulate(demand, np.full((3, 20), 8.0), shelf_life=3, lead_time=1)
    assert r.fill_rate == pytest.approx(1.0)
    assert r.waste_rate == pytest.approx(0.0)
    assert r.stockout_rate == 0.0
    # S covers today and tomorrow; after day 0 (start stock 8, 4 left) each morning's delivery
    # sells out, so the mean end-of-day stock is 4 / 20 over sales of 4 a day
    assert r.days_of_inventory == pytest.approx(4 / 20 / 4)
    assert r.ordered == pytest.approx(3 * 4 * 19)


def test_one_day_shelf_life_wastes_every_leftover() -> None:
    # lead time 0: each morning order up to 10, sell 6, waste 4
    r = simulate(np.full((1, 10), 6.0), np.full((1, 10), 10.0), shelf_life=1, lead_time=0)
    assert r.fill_rate == pytest.approx(1.0)
    assert r.wasted == pytest.approx(40.0)
    assert r.waste_rate == pytest.approx(4 / 6)
    assert r.days_of_inventory == pytest.approx(0.0)


def test_lost_sales_and_stockout_days() -> None:
    r = simulate(np.array([[5.0, 5.0, 5.0, 5.0]]), np.full((1, 4), 3.0), shelf_life=5, lead_time=0)
    assert r.fill_rate == pytest.approx(12 / 20)
    assert r.stockout_rate == pytest.approx(1.0)


def test_lifo_wastes_more_than_fifo() -> None:
    rng = np.random.default_rng(3)
    demand = rng.poisson(5, (50, 60)).astype(float)
    s = np.full_like(demand, 14.0)
    fifo = simulate(demand, s, shelf_life=3, issuing="fifo")
    lifo = simulate(demand, s, shelf_life=3, issuing="lifo")
    assert lifo.wasted > 1.5 * fifo.wasted > 0
    assert fifo.fill_rate > 0.9


def test_bad_settings_raise_with_a_fix() -> None:
    with pytest.raises(EngineError) as err:
        simulate(np.ones(5), np.ones(5), shelf_life=3)
    assert err.value.fix
    with pytest.raises(EngineError):
        simulate(np.ones((1, 5)), np.ones((1, 5)), shelf_life=3, issuing="random")  # type: ignore[arg-type]
