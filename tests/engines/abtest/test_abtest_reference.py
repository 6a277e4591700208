"""Every case of shared/data/experiments/reference_cases.json (gbstats + statsmodels).

Tolerances from the file's notes: 1e-6 absolute on gbstats numbers recomputed from the given
sufficient statistics (p-values compared on their precise tail, relative 1e-6 when tiny); 1e-3
between equivalent tests (z vs t); ±0.01 against a bootstrap.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from abtest_refs import cuped, mean, prop, ratio
from statsmodels.stats.multitest import multipletests

from luopan.engines.abtest import (
    GaussianPrior,
    QuantileStats,
    bayes,
    benjamini_hochberg,
    chance_to_be_best,
    check_srm,
    compare,
    confidence_sequence,
    fieller_ci,
    holm,
    log_ratio_ci,
    mde,
    pooled_theta,
    post_stratify,
    power,
    sample_size,
)
from luopan.engines.abtest.frequentist import Estimate

TOL = 1e-6


def close(a: float, b: float, tol: float = TOL) -> bool:
    """Absolute tolerance, or relative when both are tiny (exact small p-values)."""
    if math.isinf(b):
        return a == b
    return abs(a - b) <= tol or (abs(b) < 1e-6 and abs(a - b) <= 1e-6 * abs(b))


def p_ref(r: dict[str, Any]) -> float:
    return float(r.get("p_value_precise_tail", r["p_value"]))


def assert_freq(e: Estimate, r: dict[str, Any]) -> None:
    assert close(e.estimate, r["estimate"])
    assert close(e.ci_low, float(r["ci"][0])) and close(e.ci_high, float(r["ci"][1]))
    assert close(e.p_value, p_ref(r)), (e.p_value, p_ref(r))
    if "se" in r:
        assert close(e.se, r["se"])
    if "dof_welch" in r:
        assert abs(e.dof - r["dof_welch"]) < 1e-6 * r["dof_welch"]


def assert_seq(e: Estimate, r: dict[str, Any]) -> None:
    assert close(e.ci_low, float(r["ci"][0])) and close(e.ci_high, float(r["ci"][1]))
    assert close(e.p_value, r["p_value"]), (e.p_value, r["p_value"])


def assert_bayes(arms: tuple[Any, Any], r: dict[str, Any], **kw: Any) -> None:
    b = bayes(*arms, **kw)
    assert close(b.chance_to_win, r["chance_to_win"])
    assert close(b.posterior_mean, r["posterior_mean"])
    assert close(b.posterior_sd, r["posterior_sd"])
    assert close(b.ci_low, r["credible_interval_95"][0])
    assert close(b.ci_high, r["credible_interval_95"][1])
    assert close(b.risk_control, r["risk_choose_control"])
    assert close(b.risk_treatment, r["risk_choose_treatment"])


@pytest.mark.parametrize("name", ["conversion_large_effect", "conversion_small_effect"])
def test_conversion_cases(ref: dict[str, Any], name: str) -> None:
    case = ref[name]
    a, b = prop(case["inputs"]["control"]), prop(case["inputs"]["treatment"])
    g, sm = case["gbstats"], case["statsmodels_scipy"]
    assert_freq(compare(a, b), g["frequentist_relative"])
    assert_freq(compare(a, b, relative=False), g["frequentist_absolute"])
    one = g["one_sided_relative"]
    gr, ls = compare(a, b, alternative="greater"), compare(a, b, alternative="less")
    assert close(gr.ci_low, one["greater"]["ci"][0]) and gr.ci_high == math.inf
    assert close(gr.p_value, one["greater"]["p_value"])
    assert close(ls.ci_high, one["lesser"]["ci"][1]) and close(ls.p_value, one["lesser"]["p_value"])
    assert_seq(confidence_sequence(a, b), g["sequential_relative_default"])
    assert_seq(confidence_sequence(a, b, relative=False), g["sequential_absolute_default"])
    s1 = confidence_sequence(a, b, alternative="greater")
    assert close(s1.ci_low, g["sequential_one_sided_greater_relative"]["ci"][0])
    assert close(s1.p_value, g["sequential_one_sided_greater_relative"]["p_value"])
    assert_bayes((a, b), g["bayesian_relative_flat_prior"])
    assert_bayes((a, b), g["bayesian_absolute_flat_prior"], relative=False)
    assert_bayes((a, b), g["bayesian_relative_proper_prior_0_0.3"], prior=GaussianPrior(0, 0.3))
    assert check_srm([a.n, b.n], [0.5, 0.5]).p_value == pytest.approx(g["srm_p_value"], abs=TOL)
    # asymmetric intervals against statsmodels' log-ratio interval
    lo, hi = log_ratio_ci(a, b)
    assert close(lo, sm["ci_relative_lift_from_log_ratio"][0])
    assert close(hi, sm["ci_relative_lift_from_log_ratio"][1])
    # the z-test of statsmodels is an equivalent test: 1e-3 on p
    assert abs(compare(a, b, relative=False).p_value - sm["wald_unpooled_diff"]["p_value"]) < 1e-3
    # Fieller's interval lies between the delta-method and log-ratio ones in spirit: it must
    # contain the point estimate and be close to the log-ratio interval for large n
    f_lo, f_hi = fieller_ci(a, b)
    assert f_lo < compare(a, b).estimate < f_hi
    assert abs(f_lo - lo) < 0.05 * (hi - lo) and abs(f_hi - hi) < 0.05 * (hi - lo)


def test_small_effect_at_other_n_star(ref: dict[str, Any]) -> None:
    case = ref["conversion_small_effect"]
    a, b = prop(case["inputs"]["control"]), prop(case["inputs"]["treatment"])
    assert_seq(
        confidence_sequence(a, b, n_star=100_000),
        case["gbstats"]["sequential_relative_N_star_100000"],
    )


def test_small_effect_significant_fixed_not_sequential(ref: dict[str, Any]) -> None:
    """The issue's behaviour point: significant at the fixed horizon, not at N* = 5000."""
    case = ref["conversion_small_effect"]
    a, b = prop(case["inputs"]["control"]), prop(case["inputs"]["treatment"])
    fixed, seq = compare(a, b), confidence_sequence(a, b, n_star=5000)
    assert fixed.significant and fixed.p_value == pytest.approx(0.0404538184, abs=1e-9)
    assert not seq.significant and seq.p_value == 1.0 and seq.ci_low < 0 < seq.ci_high


def test_revenue_mean_skewed(ref: dict[str, Any]) -> None:
    case = ref["revenue_mean_skewed"]
    a, b = mean(case["inputs"]["control"]), mean(case["inputs"]["treatment"])
    g = case["gbstats"]
    assert a.variance == pytest.approx(case["inputs"]["control"]["variance_n_minus_1"], rel=1e-12)
    assert_freq(compare(a, b), g["frequentist_relative"])
    assert_freq(compare(a, b, relative=False), g["frequentist_absolute"])
    assert_seq(confidence_sequence(a, b), g["sequential_relative_default"])
    assert_bayes((a, b), g["bayesian_relative_flat_prior"])
    capped = g["capped_99pct_pooled"]
    assert_freq(
        compare(mean(capped["control"]), mean(capped["treatment"])), capped["frequentist_relative"]
    )
    q = g["quantile_p90_unit_level"]
    qa, qb = (
        QuantileStats(
            q[k]["n"], 0.9, q[k]["quantile_hat"], q[k]["quantile_lower"], q[k]["quantile_upper"]
        )
        for k in ("control", "treatment")
    )
    assert_freq(compare(qa, qb), q["frequentist_relative"])
    assert_freq(compare(qa, qb, relative=False), q["frequentist_absolute"])
    welch = case["statsmodels_scipy"]["welch_ttest_abs_diff"]
    assert abs(compare(a, b, relative=False).p_value - welch["p_value"]) < TOL


def test_ratio_revenue_per_order(ref: dict[str, Any]) -> None:
    case = ref["ratio_revenue_per_order"]
    a, b = ratio(case["inputs"]["control"]), ratio(case["inputs"]["treatment"])
    assert a.mean == pytest.approx(case["inputs"]["control"]["ratio_revenue_per_order"], rel=1e-12)
    assert a.variance == pytest.approx(
        case["inputs"]["control"]["ratio_variance_delta_method_per_unit"], rel=1e-9
    )
    g = case["gbstats"]
    assert_freq(compare(a, b), g["frequentist_relative"])
    assert_freq(compare(a, b, relative=False), g["frequentist_absolute"])
    assert_seq(confidence_sequence(a, b), g["sequential_relative_default"])
    assert_bayes((a, b), g["bayesian_relative_flat_prior"])
    boot = case["crosscheck_cluster_bootstrap"]
    e = compare(a, b)
    assert abs(e.ci_low - boot["relative_lift_percentile_ci_95"][0]) < 0.01
    assert abs(e.ci_high - boot["relative_lift_percentile_ci_95"][1]) < 0.01
    assert abs(e.se - boot["bootstrap_sd_relative"]) < 0.01


def test_three_variants(ref: dict[str, Any]) -> None:
    case = ref["three_variant_conversion"]
    i, g = case["inputs"], case["gbstats"]
    arms = [prop(i["A_control"]), prop(i["B"]), prop(i["C"])]
    ps = []
    for arm, key in ((arms[1], "B_vs_A"), (arms[2], "C_vs_A")):
        assert_freq(compare(arms[0], arm), g[key]["frequentist_relative"])
        assert_freq(compare(arms[0], arm, relative=False), g[key]["frequentist_absolute"])
        assert_seq(confidence_sequence(arms[0], arm), g[key]["sequential_relative_default"])
        assert_bayes((arms[0], arm), g[key]["bayesian_relative_flat_prior"])
        ps.append(compare(arms[0], arm).p_value)
    assert check_srm([a.n for a in arms]).p_value == pytest.approx(g["srm_p_value_3_arms"], abs=TOL)
    assert holm(ps) == pytest.approx(g["holm_bonferroni_adjusted_p_values_[B,C]"], abs=TOL)
    assert benjamini_hochberg(ps) == pytest.approx(
        g["benjamini_hochberg_adjusted_p_values_[B,C]"], abs=TOL
    )
    # cross-check against statsmodels on a larger family
    family = [0.001, 0.02, 0.03, 0.04, 0.5, 0.011, 0.9]
    assert holm(family) == pytest.approx(multipletests(family, method="holm")[1].tolist())
    assert benjamini_hochberg(family) == pytest.approx(
        multipletests(family, method="fdr_bh")[1].tolist()
    )
    best = case["beyond_growthbook_chance_to_be_best"]
    assert chance_to_be_best(arms) == pytest.approx([best["A"], best["B"], best["C"]], abs=TOL)


def test_srm_case(ref: dict[str, Any]) -> None:
    case = ref["srm_check"]
    g, extra = case["gbstats"], case["extra"]
    r = check_srm(case["inputs"]["observed"], case["inputs"]["expected_weights"])
    assert r.p_value == pytest.approx(g["srm_p_value"], abs=TOL)
    assert not r.flagged  # GrowthBook default threshold 0.001
    assert check_srm([5000, 5300], [0.5, 0.5], threshold=0.01).flagged
    assert check_srm([6000, 4000], [0.6, 0.4]).p_value == pytest.approx(1.0)
    assert check_srm([6100, 3900], [0.6, 0.4]).p_value == pytest.approx(
        extra["srm_p_value_60_40_expected_6100_vs_3900_observed"], abs=TOL
    )


def test_cuped_case(ref: dict[str, Any]) -> None:
    case = ref["cuped_pre_period_covariate"]
    a, b = cuped(case["inputs"]["control"]), cuped(case["inputs"]["treatment"])
    g = case["gbstats"]
    assert pooled_theta(a, b) == pytest.approx(g["theta_pooled"], abs=1e-12)
    assert_freq(compare(a.post, b.post), g["unadjusted_frequentist_relative"])
    adj = compare(a, b)
    assert_freq(adj, g["cuped_frequentist_relative"])
    assert_freq(compare(a, b, relative=False), g["cuped_frequentist_absolute"])
    assert_seq(confidence_sequence(a, b), g["cuped_sequential_relative_default"])
    assert_bayes((a, b), g["cuped_bayesian_relative_flat_prior"])
    # the behaviour point: CUPED cuts the variance of the lift by >= 70%
    cut = 1 - adj.se**2 / compare(a.post, b.post).se ** 2
    assert cut >= 0.70
    assert cut == pytest.approx(g["variance_reduction_relative_se"], abs=TOL)  # 74.4%
    # OLS ANCOVA (statsmodels, HC1) is an equivalent estimator: 1e-3 on p and the estimate
    ols = case["statsmodels_scipy"]["ols_ancova_abs_effect_HC1"]
    ab = compare(a, b, relative=False)
    assert abs(ab.estimate - ols["estimate"]) < 1e-3 and abs(ab.p_value - ols["p_value"]) < 1e-3
    strata = case["inputs"]["strata"]
    ps = post_stratify(
        [(mean(s["control"]["post"]), mean(s["treatment"]["post"])) for s in strata.values()]
    )
    assert_freq(ps, g["post_stratified_only_relative"])
    cps = post_stratify([(cuped(s["control"]), cuped(s["treatment"])) for s in strata.values()])
    assert_freq(cps, g["cuped_plus_post_stratification_relative"])


def test_power_planning(ref: dict[str, Any]) -> None:
    case = ref["power_planning"]
    g, i = case["growthbook_power_ts_replica"], case["inputs"]
    p0, m = i["baseline_rate"], i["relative_mde"]
    assert sample_size(p0, m) == pytest.approx(g["n_total_for_80pct_power_fixed"], rel=1e-9)
    assert sample_size(p0, m, n_star=5000) == pytest.approx(
        g["n_total_for_80pct_power_sequential_N_star_5000"], rel=1e-9
    )
    assert power(p0, m, 100_000) == pytest.approx(g["power_at_n_total_100000_fixed"], abs=TOL)
    assert power(p0, m, 100_000, n_star=5000) == pytest.approx(
        g["power_at_n_total_100000_sequential_N_star_5000"], abs=TOL
    )
    assert mde(p0, 100_000) == pytest.approx(g["mde_at_n_total_100000_power_0.8"], abs=TOL)
    # statsmodels on Cohen's h is an equivalent approximation: within 3% of our per-arm n
    n_sm = case["statsmodels"]["n_per_arm_cohens_h"]
    assert abs(sample_size(p0, m) / 2 / n_sm - 1) < 0.03
