"""Invariants of the analysis, for any sufficient statistics (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as s

from luopan.engines.abtest import (
    MeanStats,
    ProportionStats,
    bayes,
    benjamini_hochberg,
    check_srm,
    compare,
    confidence_sequence,
    holm,
    msprt,
    power,
    sample_size,
    sequential_srm,
)

FAST = settings(max_examples=60, deadline=None)


@s.composite
def proportions(draw: s.DrawFn) -> ProportionStats:
    n = draw(s.integers(30, 2_000_000))
    k = draw(s.integers(1, n - 1))
    return ProportionStats(n, k)


@s.composite
def means(draw: s.DrawFn) -> MeanStats:
    n = draw(s.integers(30, 1_000_000))
    m = draw(s.floats(0.5, 1e4))
    sd = draw(s.floats(0.01, 1e4))
    return MeanStats(n, n * m, (n - 1) * sd * sd + n * m * m)


arms = s.one_of(s.tuples(proportions(), proportions()), s.tuples(means(), means()))
alphas = s.floats(0.01, 0.2)


@FAST
@given(arms, alphas, s.booleans())
def test_p_in_unit_interval_and_ci_contains_estimate(pair, alpha, relative) -> None:
    a, b = pair
    for alt in ("two-sided", "greater", "less"):
        e = compare(a, b, alpha=alpha, relative=relative, alternative=alt)
        assert 0.0 <= e.p_value <= 1.0
        assert e.ci_low <= e.estimate <= e.ci_high
        q = confidence_sequence(a, b, alpha=alpha, relative=relative, alternative=alt)
        assert 0.0 <= q.p_value <= 1.0
        assert q.ci_low <= q.estimate <= q.ci_high
    m = msprt(a, b, tau2=0.01, relative=relative, alpha=alpha)
    assert 0.0 <= m.p_value <= 1.0 and m.ci_low <= m.estimate <= m.ci_high
    bz = bayes(a, b, alpha=alpha, relative=relative)
    assert 0.0 <= bz.chance_to_win <= 1.0
    assert bz.ci_low <= bz.posterior_mean <= bz.ci_high
    assert bz.risk_control >= 0 and bz.risk_treatment >= 0
    # risk identity: E[max(X,0)] - E[max(-X,0)] = E[X]
    assert math.isclose(
        bz.risk_control - bz.risk_treatment, bz.posterior_mean, rel_tol=1e-7, abs_tol=1e-12
    )


@FAST
@given(arms, alphas)
def test_swapping_arms_flips_sign_and_keeps_two_sided_p(pair, alpha) -> None:
    a, b = pair
    ab, ba = compare(a, b, relative=False, alpha=alpha), compare(b, a, relative=False, alpha=alpha)
    assert ba.estimate == -ab.estimate
    assert math.isclose(ab.p_value, ba.p_value, rel_tol=1e-9, abs_tol=1e-300)
    assert math.isclose(ba.ci_low, -ab.ci_high, rel_tol=1e-9, abs_tol=1e-12)
    sab = confidence_sequence(a, b, relative=False, alpha=alpha)
    sba = confidence_sequence(b, a, relative=False, alpha=alpha)
    assert math.isclose(sab.p_value, sba.p_value, rel_tol=1e-9, abs_tol=1e-300)
    rab, rba = compare(a, b), compare(b, a)
    assert np.sign(rab.estimate) == -np.sign(rba.estimate)


@FAST
@given(arms, alphas, s.floats(100, 1e7), s.booleans())
def test_sequential_interval_contains_fixed_interval(pair, alpha, n_star, relative) -> None:
    a, b = pair
    fixed = compare(a, b, alpha=alpha, relative=relative)
    seq = confidence_sequence(a, b, alpha=alpha, relative=relative, n_star=n_star)
    tol = 1e-12 * max(1.0, abs(fixed.estimate))
    assert seq.ci_low <= fixed.ci_low + tol and seq.ci_high >= fixed.ci_high - tol


@FAST
@given(s.lists(s.floats(0, 1), min_size=1, max_size=40))
def test_adjusted_p_values(ps) -> None:
    h, b = holm(ps), benjamini_hochberg(ps)
    for p, ph, pb in zip(ps, h, b, strict=True):
        assert p <= pb + 1e-15 <= ph + 2e-15 and ph <= 1.0
    order = np.argsort(ps)
    assert np.all(np.diff(np.asarray(h)[order]) >= -1e-15)


@FAST
@given(s.lists(s.integers(0, 100_000), min_size=2, max_size=5))
def test_srm_p_in_unit_interval(counts) -> None:
    assert 0.0 <= check_srm(counts).p_value <= 1.0


@FAST
@given(s.lists(s.tuples(s.integers(0, 3000), s.integers(0, 3000)), min_size=1, max_size=30))
def test_sequential_srm_is_a_running_minimum(days) -> None:
    ps = [sequential_srm(days[: i + 1]).p_value for i in range(len(days))]
    assert all(0.0 <= p <= 1.0 for p in ps)
    assert all(x >= y for x, y in zip(ps, ps[1:], strict=False))


@FAST
@given(s.floats(0.01, 0.5), s.floats(0.02, 0.5), s.floats(0.5, 0.95))
def test_sample_size_reaches_target_power(p0, lift, target) -> None:
    n = sample_size(p0, lift, target_power=target)
    assert math.isclose(power(p0, lift, n), target, abs_tol=1e-9)
    assert power(p0, lift, n * 1.1) > power(p0, lift, n * 0.9)
    assert sample_size(p0, lift, target_power=target, cuped_rho=0.7) < n
