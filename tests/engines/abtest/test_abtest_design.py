"""Design, assignment, guardrails, sequential SRM and mSPRT behaviour."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np
import pytest
from scipy import stats as st
from statsmodels.stats.power import NormalIndPower

from luopan.engines.abtest import (
    ExperimentSlot,
    Layer,
    MeanStats,
    ProportionStats,
    assign,
    bucket,
    check_guardrail,
    check_srm,
    compare,
    design_effect,
    history_moments,
    msprt,
    plan,
    sample_size,
    sequential_srm,
    ship_rule,
)
from luopan.engines.abtest.interaction import interaction
from luopan.engines.abtest.sequential import cs_halfwidth
from luopan.errors import ConfigError


def test_means_plan_matches_textbook_formula() -> None:
    """For a mean metric, n per arm ≈ (z_{α/2}+z_β)² σ² (1 + (1+δ)²)/(μδ)² (normal theory)."""
    mu, sd, d = 50.0, 40.0, 0.05
    n = sample_size(mu, d, variance=sd**2) / 2
    z = st.norm.ppf(0.975) + st.norm.ppf(0.8)
    assert n == pytest.approx(z**2 * sd**2 * (1 + (1 + d) ** 2) / (mu * d) ** 2, rel=2e-3)
    # statsmodels' equal-variance formula (2σ²) is the δ → 0 limit
    sm = NormalIndPower().solve_power(effect_size=mu * d / sd, alpha=0.05, power=0.8)
    assert n / sm == pytest.approx((1 + (1 + d) ** 2) / 2, rel=2e-3)


def test_cuped_and_cluster_modifiers() -> None:
    base = plan(0.032, 0.10)
    cuped = plan(0.032, 0.10, cuped_rho=0.6)
    assert cuped.n_total / base.n_total == pytest.approx(1 - 0.36, rel=2e-3)
    deff = design_effect(200, 0.01)  # 200 customers per store, ICC 0.01
    assert deff == pytest.approx(2.99)
    clustered = plan(0.032, 0.10, deff=deff)
    assert clustered.n_total / base.n_total == pytest.approx(deff, rel=2e-3)
    seq = plan(0.032, 0.10, n_star=5000)
    assert seq.n_total > base.n_total
    assert base.n_per_variation * 2 == base.n_total


def test_assignment_is_deterministic_and_balanced() -> None:
    ids = [f"C{i:07d}" for i in range(8_000)]
    first = [assign(u, "EXP-7", ["control", "treatment"]) for u in ids]
    assert first == [assign(u, "EXP-7", ["control", "treatment"]) for u in ids]
    counts = Counter(first)
    assert check_srm([counts["control"], counts["treatment"]]).p_value > 0.001
    weighted = Counter(assign(u, "EXP-8", ["a", "b"], [0.2, 0.8]) for u in ids)
    assert weighted["a"] / len(ids) == pytest.approx(0.2, abs=0.015)
    # known value: SHA-256("s:u1")[:8] / 2^64, computed independently of the code under test
    assert bucket("u1", "s") == pytest.approx(0.6189135393620223, abs=1e-15)
    # salts make experiments independent
    other = [assign(u, "EXP-9", ["control", "treatment"]) for u in ids]
    table = Counter(zip(first, other, strict=True))
    chi2 = st.chi2_contingency(
        np.array(
            [
                [table["control", "control"], table["control", "treatment"]],
                [table["treatment", "control"], table["treatment", "treatment"]],
            ]
        )
    )
    assert chi2.pvalue > 0.001


def test_layers_keep_experiments_disjoint() -> None:
    layer = Layer(
        "home",
        (ExperimentSlot("EXP-A", 0.0, 0.4), ExperimentSlot("EXP-B", 0.4, 0.8)),
        holdout=(0.9, 1.0),
    )
    placed = layer.place_all(f"u{i}" for i in range(10_000))
    exps = Counter(p[0] if p else None for p in placed.values())
    assert exps["EXP-A"] / 10_000 == pytest.approx(0.4, abs=0.02)
    assert exps["holdout"] / 10_000 == pytest.approx(0.1, abs=0.015)
    assert exps[None] / 10_000 == pytest.approx(0.1, abs=0.015)
    with pytest.raises(ConfigError, match="overlap"):
        Layer("x", (ExperimentSlot("A", 0.0, 0.5), ExperimentSlot("B", 0.4, 0.9)))


def test_guardrails_and_ship_rule() -> None:
    c, t = ProportionStats(50_000, 5000), ProportionStats(50_000, 5200)
    fixed = compare(c, t)  # conversion_small_effect: +4.0%, CI [0.17%, 7.8%]
    primary = (fixed.ci_low, fixed.ci_high)
    refund_c, refund_t = ProportionStats(50_000, 1000), ProportionStats(50_000, 1005)
    g = check_guardrail("refund_rate", refund_c, refund_t, margin=0.10, higher_is_better=False)
    assert g.non_inferior and not g.harmed
    assert ship_rule(primary, [g]).verdict == "ship"
    bad = check_guardrail(
        "refund_rate", refund_c, ProportionStats(50_000, 1300), margin=0.10, higher_is_better=False
    )
    assert bad.harmed and ship_rule(primary, [bad]).verdict == "rollback"
    unsure = check_guardrail(
        "aov",
        MeanStats(300, 300 * 50, 300 * (50**2 + 900)),
        MeanStats(300, 300 * 49, 300 * (49**2 + 900)),
        margin=0.02,
    )
    d = ship_rule(primary, [unsure])
    assert d.verdict == "keep_running" and d.reasons[0].startswith("guardrail_not_proven")
    assert ship_rule((-0.05, -0.01)).verdict == "rollback"


def test_sequential_srm_flags_the_mismatch_and_stays_quiet_under_h0() -> None:
    # 5000 vs 5300 over 20 days: chi2 p = 0.0031, but the anytime-valid check pays for
    # being watchable daily and does not flag it; a 10% loss of one arm's logs it does flag
    assert check_srm([5000, 5300]).p_value == pytest.approx(0.003116693839866867, abs=1e-12)
    assert not sequential_srm([[250, 265]] * 20, threshold=0.01).flagged
    lost = sequential_srm([[250, 225]] * 20, threshold=0.01)  # p = 0.0023
    assert lost.flagged and lost.observed == (5000, 4500)
    rng = np.random.default_rng(5)
    flagged = 0
    for _ in range(200):
        days = rng.binomial(500, 0.5, 30)
        flagged += sequential_srm(np.c_[days, 500 - days]).flagged
    assert flagged / 200 <= 0.01  # anytime-valid at 0.001 even when watched for 30 days


def test_msprt_equals_cs_form_and_is_anytime_valid() -> None:
    """The mSPRT with τ² = σ²ρ² per unit is the confidence sequence; peeking keeps α."""
    a, b = ProportionStats(10_000, 1000), ProportionStats(10_000, 1080)
    m = msprt(a, b, tau2=1e-5, relative=False)
    assert 0 < m.p_value < 1 and m.ci_low < m.estimate < m.ci_high
    v = 0.1 * 0.9 / 10_000 + 0.108 * 0.892 / 10_000
    rho = math.sqrt(1e-5 / (v * 20_000))
    assert m.ci_high - m.estimate == pytest.approx(cs_halfwidth(v, 20_000, 0.05, rho), rel=1e-9)
    rng = np.random.default_rng(1)
    false_alarms = 0
    for _ in range(300):
        kc = np.cumsum(rng.binomial(500, 0.1, 30))
        kt = np.cumsum(rng.binomial(500, 0.1, 30))
        ps = [
            msprt(
                ProportionStats(500 * (d + 1), int(kc[d])),
                ProportionStats(500 * (d + 1), int(kt[d])),
                tau2=1e-4,
                relative=False,
            ).p_value
            for d in range(30)
        ]
        false_alarms += min(ps) < 0.05
    assert false_alarms / 300 <= 0.05


def test_interaction_matches_ols_hc2() -> None:
    """The 2×2 interaction contrast equals OLS y ~ a*b with HC2 errors (statsmodels)."""
    import statsmodels.api as sm

    rng = np.random.default_rng(21)
    n = 4000
    a, b = rng.integers(0, 2, n), rng.integers(0, 2, n)
    y = 10 + 1.0 * a + 0.5 * b + 0.8 * a * b + rng.normal(0, 3 + a, n)
    fit = sm.OLS(y, sm.add_constant(np.c_[a, b, a * b])).fit(cov_type="HC2")
    cells = [MeanStats.from_values(y[(a == i) & (b == j)]) for i in (0, 1) for j in (0, 1)]
    res = interaction(*cells)
    assert res.estimate == pytest.approx(fit.params[3], abs=1e-9)
    assert res.se == pytest.approx(fit.bse[3], rel=1e-9)
    assert res.p_value == pytest.approx(fit.pvalues[3], rel=1e-6)
    assert res.detected


def test_cuped_aware_plan_predicts_the_realised_cut(ref: dict[str, Any]) -> None:
    """(1 - ρ²) from pooled history matches the variance cut CUPED achieved (reference case)."""
    from abtest_refs import cuped

    case = ref["cuped_pre_period_covariate"]
    a, b = cuped(case["inputs"]["control"]), cuped(case["inputs"]["treatment"])
    n = a.n + b.n
    sy, sx = a.post.sum + b.post.sum, a.pre.sum + b.pre.sum
    vy = (a.post.sum_squares + b.post.sum_squares - sy**2 / n) / (n - 1)
    vx = (a.pre.sum_squares + b.pre.sum_squares - sx**2 / n) / (n - 1)
    cov = (a.sum_products + b.sum_products - sx * sy / n) / (n - 1)
    rho = cov / math.sqrt(vx * vy)
    base = plan(sy / n, 0.03, variance=vy)
    adj = plan(sy / n, 0.03, variance=vy, cuped_rho=rho)
    realised = case["gbstats"]["variance_reduction_relative_se"]  # 0.744
    assert 1 - adj.n_total / base.n_total == pytest.approx(realised, abs=0.01)


def test_history_moments() -> None:
    rng = np.random.default_rng(4)
    pre = rng.gamma(2, 25, 3000)
    post = 0.8 * pre + rng.normal(0, 15, 3000)
    hm = history_moments(post, pre)
    assert hm.rho == pytest.approx(np.corrcoef(pre, post)[0, 1], rel=1e-12)
    assert hm.variance == pytest.approx(post.var(ddof=1)) and not hm.binary
    assert history_moments(np.r_[np.ones(30), np.zeros(70)]).binary
