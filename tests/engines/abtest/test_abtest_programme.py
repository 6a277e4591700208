"""Programme-level governance: online FDR over 168 tests, shrinkage, e-BH."""

from __future__ import annotations

import numpy as np
import pytest

from luopan.engines.abtest import (
    benjamini_hochberg,
    e_bh,
    lond,
    lord_plus_plus,
    shrink,
    simulate_programme,
    summarize_programme,
)
from luopan.engines.abtest.multiple import gamma_sequence
from luopan.errors import InsufficientDataError


def test_programme_fdr_168_tests_500_seeds() -> None:
    """168 tests a year, ~10% true effects, daily peeking, 500 seeds: FDR <= q online."""
    q = 0.1
    sim = simulate_programme(seeds=500, tests=168, share_true=0.1, q=q, seed=20261130)
    for k in ("lond", "lord++", "e-bh", "offline-bh"):
        assert sim.fdr[k] + 2 * sim.fdr_se[k] <= q, (k, sim.fdr[k])
    # the failure the procedures prevent: peeking daily at p < q without correction
    assert sim.fdr["naive-peeking"] > 3 * q
    # power is reported against offline BH (which waits for every test to end)
    assert 0.5 < sim.power["lond"] <= sim.power["lord++"] < sim.power["offline-bh"]
    assert sim.power["offline-bh"] > 0.9


def test_e_bh_on_reciprocal_p_values_is_bh() -> None:
    """With e = 1/p, e-BH rejects exactly what BH rejects (Wang & Ramdas 2022, Prop. 2)."""
    rng = np.random.default_rng(3)
    p = np.r_[rng.uniform(0, 1e-3, 8), rng.uniform(0, 1, 40)]
    bh = np.asarray(benjamini_hochberg(p)) <= 0.05
    assert e_bh(1 / p, q=0.05) == bh.tolist()
    assert sum(bh) >= 8


def test_lond_levels() -> None:
    """LOND's level grows with discoveries: α_t = q γ_t (D_{t-1} + 1)."""
    g = gamma_sequence(3)
    q = 0.05
    p = [q * g[0] * 0.99, q * g[1] * 1.5, q * g[2] * 1.5]
    # the second test's level doubles after the first discovery: 1.5 q γ2 <= 2 q γ2
    assert lond(p, q=q) == [True, True, True]
    assert lond([1.0, *p[1:]], q=q) == [False, False, False]
    assert g.sum() < 1 and np.all(np.diff(g) < 0)
    assert lord_plus_plus([1e-9, 0.5, 1e-9], q=q) == [True, False, True]


def test_shrinkage_pulls_noisy_winners_in() -> None:
    rng = np.random.default_rng(11)
    true = rng.normal(0.0, 0.02, 60)
    se = np.full(60, 0.03)
    est = true + rng.normal(0, se)
    js = shrink(est, se)
    assert np.mean((js - true) ** 2) < np.mean((est - true) ** 2)  # Efron & Morris
    wins = est / se > 1.96
    summ = summarize_programme(est, se, wins)
    assert summ.n_experiments == 60 and summ.n_wins == int(wins.sum())
    assert summ.impact_shrunk < summ.impact_raw
    with pytest.raises(InsufficientDataError, match="4\\+"):
        shrink([0.1, 0.2], [0.01, 0.01])
