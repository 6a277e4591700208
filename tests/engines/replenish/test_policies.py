"""Policies: golden newsvendor cases and the invariants of order quantities and quantiles."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from luopan.engines.replenish import (
    critical_ratio,
    order_quantity,
    protection_quantile,
    quantile_at,
)
from luopan.errors import EngineError


def test_critical_ratio_textbook_examples() -> None:
    # price 10, cost 6, salvage 2 -> 4 / (4 + 4); salvage 0 -> 4 / (4 + 6)
    assert critical_ratio(10, 6, 2) == pytest.approx(0.5)
    assert critical_ratio(10, 6, 0) == pytest.approx(0.4)
    assert critical_ratio(10, 5) == pytest.approx(0.5)
    with pytest.raises(EngineError) as err:
        critical_ratio(5, 6)
    assert err.value.fix


def test_newsvendor_normal_matches_stockpyl_example() -> None:
    # Snyder & Shen / stockpyl: h = 2, p = 18, demand N(120, 10) -> CR 0.9, S* = 132.8
    levels = np.linspace(0.01, 0.99, 99)
    values = stats.norm.ppf(levels, 120, 10)
    assert float(quantile_at(levels, values, 18 / (18 + 2))) == pytest.approx(132.8, abs=0.05)


def test_order_rounds_to_packs_and_moq() -> None:
    assert order_quantity(10, 3, pack_size=6).tolist() == 12.0
    assert order_quantity(10, 9, moq=5).tolist() == 5.0
    assert order_quantity(10, 12, moq=5).tolist() == 0.0
    assert order_quantity(50, 0, capacity=20).tolist() == 20.0


def test_protection_quantile_independent_and_correlated() -> None:
    mean, q = np.array([10.0, 10.0]), np.array([13.0, 14.0])
    assert protection_quantile(mean, q) == pytest.approx(25.0)  # 20 + sqrt(9 + 16)
    assert protection_quantile(mean, q, correlated=True) == pytest.approx(27.0)


@settings(max_examples=200, deadline=None)
@given(
    s=st.floats(0, 1e4),
    ip=st.floats(-1e3, 1e4),
    moq=st.floats(0, 100),
    pack=st.sampled_from([0.0, 1.0, 6.0, 12.5]),
    extra=st.floats(0, 1e3),
)
def test_order_is_non_negative_and_monotone_in_the_target(
    s: float, ip: float, moq: float, pack: float, extra: float
) -> None:
    q1 = float(order_quantity(s, ip, moq=moq, pack_size=pack))
    q2 = float(order_quantity(s + extra, ip, moq=moq, pack_size=pack))
    assert q1 >= 0 and q2 >= q1 - 1e-9
    if q1 > 0:
        assert q1 >= s - ip - 1e-6 and q1 >= moq - 1e-9


quantile_sets = st.lists(st.floats(0, 100), min_size=5, max_size=5).map(sorted)


@settings(max_examples=200, deadline=None)
@given(
    values=quantile_sets, t1=st.floats(0.01, 0.99), t2=st.floats(0.01, 0.99), ip=st.floats(0, 50)
)
def test_order_non_decreasing_in_service_level(
    values: list[float], t1: float, t2: float, ip: float
) -> None:
    levels = [0.05, 0.25, 0.5, 0.75, 0.95]
    lo, hi = sorted((t1, t2))
    mean = np.full((1, 2), values[2])
    q_lo = quantile_at(levels, np.array([values, values]), lo)
    q_hi = quantile_at(levels, np.array([values, values]), hi)
    assert np.all(q_hi >= q_lo - 1e-9)  # quantiles nest
    s_lo, s_hi = protection_quantile(mean, q_lo[None]), protection_quantile(mean, q_hi[None])
    assert order_quantity(s_hi, ip, pack_size=1.0) >= order_quantity(s_lo, ip, pack_size=1.0)
