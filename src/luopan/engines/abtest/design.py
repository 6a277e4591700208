"""Experiment design: power, minimum detectable effect and sample size.

The calculation is the normal approximation on the relative lift with the delta-method
variance, both arms taking the baseline's per-unit variance (GrowthBook's ``power.ts``:
``powerEstFrequentist``, ``findMdeFrequentist``, ``sequentialPowerStandardError``), so a plan
made here agrees with GrowthBook's calculator. Sequential plans inflate the standard error by
the confidence-sequence multiplier over z*. Two variance modifiers make plans honest:
CUPED multiplies the per-unit variance by (1 - ρ²) for a pre-period correlation ρ, and
cluster randomisation (by store or region) by the design effect 1 + (m - 1)·ICC.

References:
    Cohen, J. (1988). Statistical Power Analysis for the Behavioral Sciences, ch. 6.
    Deng, A., Xu, Y., Kohavi, R., Walker, T. (2013). CUPED, WSDM 2013 (variance × (1-ρ²)).
    Donner, A., Klar, N. (2000). Design and Analysis of Cluster Randomization Trials in
    Health Research, ch. 5 (design effect).
    Waudby-Smith et al. (2023), arXiv:2103.06476 (sequential boundary).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import optimize
from scipy import stats as st

from luopan.engines.abtest.sequential import cs_rho
from luopan.errors import EngineError

__all__ = [
    "HistoryMoments",
    "Plan",
    "design_effect",
    "history_moments",
    "mde",
    "plan",
    "power",
    "ratio_unit_variance",
    "sample_size",
]


def design_effect(mean_cluster_size: float, icc: float) -> float:
    """Variance inflation of cluster randomisation: 1 + (m̄ - 1)·ICC (Donner & Klar 2000)."""
    if not 0 <= icc <= 1 or mean_cluster_size < 1:
        raise EngineError(
            "ICC must be in [0, 1] and clusters have >= 1 unit",
            fix="estimate the ICC from history, typically 0.001-0.1",
        )
    return 1 + (mean_cluster_size - 1) * icc


def ratio_unit_variance(
    m_mean: float, m_var: float, d_mean: float, d_var: float, cov: float
) -> float:
    """Per-unit delta-method variance of a ratio metric Σm/Σd (Deng et al. 2018)."""
    return m_var / d_mean**2 - 2 * cov * m_mean / d_mean**3 + d_var * m_mean**2 / d_mean**4


def _variance(mean: float, variance: float | None) -> float:
    if variance is None:
        if not 0 < mean < 1:
            raise EngineError(
                f"a conversion baseline must be in (0, 1) (got {mean})",
                fix="give --baseline as a rate, e.g. 0.032, or pass --sd",
            )
        return mean * (1 - mean)
    if variance <= 0:
        raise EngineError("the metric's variance must be positive", fix="check --sd")
    return variance


def _seq_factor(n_pair: float, alpha: float, n_star: float) -> float:
    """(confidence-sequence multiplier / z*)² at n_pair total units of the two arms."""
    rho = cs_rho(alpha, n_star)
    r2 = rho * rho
    z_seq = math.sqrt(n_pair) * math.sqrt(
        2 * (n_pair * r2 + 1) * math.log(math.sqrt(n_pair * r2 + 1) / alpha) / (n_pair * rho) ** 2
    )
    return (z_seq / float(st.norm.ppf(1 - alpha / 2))) ** 2


def _unit_variance(mean: float, variance: float | None, rho: float, deff: float) -> float:
    if not 0 <= rho < 1:
        raise EngineError("the pre-period correlation must be in [0, 1)", fix="check --cuped-rho")
    return _variance(mean, variance) * (1 - rho * rho) * deff


def power(
    baseline: float,
    mde: float,
    n_total: float,
    *,
    variance: float | None = None,
    n_variations: int = 2,
    alpha: float = 0.05,
    two_sided: bool = True,
    n_star: float | None = None,
    cuped_rho: float = 0.0,
    deff: float = 1.0,
) -> float:
    """Power to detect a relative lift ``mde`` with ``n_total`` units over all variations.

    ``variance`` is the per-unit variance (omit for a conversion rate: p(1-p));
    ``n_star`` makes it a sequential (confidence-sequence) plan.

    References:
        GrowthBook ``powerEstFrequentist``; Cohen (1988), ch. 6.
    """
    v = _unit_variance(baseline, variance, cuped_rho, deff)
    n_arm = n_total / n_variations
    mt = baseline * (1 + mde)
    var_rel = v / (baseline**2 * n_arm) + v * mt**2 / (baseline**4 * n_arm)
    if n_star:
        var_rel *= _seq_factor(2 * n_arm, alpha, n_star)
    z = float(st.norm.ppf(1 - alpha / 2 if two_sided else 1 - alpha))
    d = mde / math.sqrt(var_rel)
    p = float(st.norm.sf(z - d))
    if two_sided:
        p += float(st.norm.cdf(-z - d))
    return p


def mde(
    baseline: float,
    n_total: float,
    *,
    target_power: float = 0.8,
    variance: float | None = None,
    n_variations: int = 2,
    alpha: float = 0.05,
    n_star: float | None = None,
    cuped_rho: float = 0.0,
    deff: float = 1.0,
) -> float:
    """Smallest relative lift detected with ``target_power`` (GrowthBook ``findMdeFrequentist``).

    Solves (μ_t - μ)² = z² σ²/n · (1 + μ_t²/μ²) for μ_t (the quadratic of power.ts), with
    z = z_{1-α/2} - z_{1-power}.
    """
    if target_power <= alpha:
        raise EngineError("power must exceed alpha", fix="use e.g. --power 0.8")
    n_arm = n_total / n_variations
    v = _unit_variance(baseline, variance, cuped_rho, deff)
    if n_star:
        v *= _seq_factor(2 * n_arm, alpha, n_star)
    z = float(st.norm.ppf(1 - alpha / 2) - st.norm.ppf(1 - target_power))
    m = baseline
    if n_arm <= v * z**2 / m**2:
        raise EngineError(
            "too few units for any detectable effect at this power",
            fix="add units or reduce the number of variations",
        )
    s2 = v / n_arm
    a = 1 - z**2 * s2 / m**2
    b = -2 * m
    c = m**2 - z**2 * s2
    mt = (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)
    return (mt - m) / m


def sample_size(
    baseline: float,
    mde: float,
    *,
    target_power: float = 0.8,
    variance: float | None = None,
    n_variations: int = 2,
    alpha: float = 0.05,
    n_star: float | None = None,
    cuped_rho: float = 0.0,
    deff: float = 1.0,
) -> float:
    """Total units (all variations) for ``target_power`` against a relative lift ``mde``."""
    if mde == 0:
        raise EngineError("the MDE must be non-zero", fix="e.g. --mde 0.05 for +5%")

    def gap(n: float) -> float:
        return (
            power(
                baseline,
                mde,
                n,
                variance=variance,
                n_variations=n_variations,
                alpha=alpha,
                n_star=n_star,
                cuped_rho=cuped_rho,
                deff=deff,
            )
            - target_power
        )

    lo, hi = 4.0 * n_variations, 1e6
    while gap(hi) < 0:
        hi *= 10
        if hi > 1e14:
            raise EngineError("no feasible sample size", fix="increase the MDE")
    return float(optimize.brentq(gap, lo, hi, xtol=1e-9, rtol=1e-14))


@dataclass(frozen=True)
class Plan:
    """A frozen experiment plan (what the analysis will be held to)."""

    baseline: float
    mde: float
    alpha: float
    power: float
    n_variations: int
    n_total: int
    n_per_variation: int
    sequential_n_star: float | None
    cuped_rho: float
    design_effect: float
    unit_variance: float

    def to_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


def plan(
    baseline: float,
    mde: float,
    *,
    target_power: float = 0.8,
    variance: float | None = None,
    n_variations: int = 2,
    alpha: float = 0.05,
    n_star: float | None = None,
    cuped_rho: float = 0.0,
    deff: float = 1.0,
) -> Plan:
    """Sample size for a planned test, rounded up to whole units per variation."""
    n = sample_size(
        baseline,
        mde,
        target_power=target_power,
        variance=variance,
        n_variations=n_variations,
        alpha=alpha,
        n_star=n_star,
        cuped_rho=cuped_rho,
        deff=deff,
    )
    per = math.ceil(n / n_variations)
    return Plan(
        baseline,
        mde,
        alpha,
        target_power,
        n_variations,
        per * n_variations,
        per,
        n_star,
        cuped_rho,
        deff,
        _unit_variance(baseline, variance, cuped_rho, deff),
    )


@dataclass(frozen=True)
class HistoryMoments:
    """What a plan needs from history: units, mean, per-unit variance, pre/post correlation."""

    n: int
    mean: float
    variance: float
    binary: bool
    rho: float


def history_moments(metric: np.ndarray, pre: np.ndarray | None = None) -> HistoryMoments:
    """Moments of a metric over historical units (and its correlation with a pre-period value).

    ρ is Pearson's correlation between the metric and the covariate CUPED would use; a plan
    then multiplies the variance by (1 - ρ²) (Deng et al. 2013).
    """
    y = np.asarray(metric, dtype=float)
    if y.size < 3:
        raise EngineError(f"history has {y.size} units", fix="use a longer history window")
    binary = bool(np.isin(y, (0.0, 1.0)).all())
    rho = 0.0
    if pre is not None:
        x = np.asarray(pre, dtype=float)
        if x.std() > 0 and y.std() > 0:
            rho = float(abs(np.corrcoef(x, y)[0, 1]))
    return HistoryMoments(int(y.size), float(y.mean()), float(y.var(ddof=1)), binary, rho)
