"""Anytime-valid inference: asymptotic confidence sequences and the mixture SPRT.

A team that looks at results every day needs intervals valid at every look. The confidence
sequence follows GrowthBook's gbstats (Waudby-Smith et al. 2023, eq. 9 with the normal mixture;
ρ tuned so the sequence is tightest at N* total units, default 5,000); its p-value is the
reciprocal of the mixture e-value. The one-sided version uses the one-sided boundary and finds
its p-value by root finding on α (floored at 1e-5, capped at 0.4999 as gbstats does). The mSPRT
(Johari et al. 2017) with mixing variance τ² is the same normal-mixture martingale indexed by the
estimate's variance; its running minimum p-value over the looks is anytime-valid.

References:
    Waudby-Smith, I., Arbour, D., Sinha, R., Kennedy, E. H., Ramdas, A. (2023). Time-uniform
    central limit theory and asymptotic confidence sequences. arXiv:2103.06476, eq. 9 and 155.
    Howard, S. R., Ramdas, A., McAuliffe, J., Sekhon, J. (2021). Time-uniform, nonparametric,
    nonasymptotic confidence sequences. Annals of Statistics 49(2).
    Johari, R., Koomen, P., Pekelis, L., Walsh, D. (2017). Peeking at A/B tests. KDD 2017.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from scipy import optimize

from luopan.engines.abtest.frequentist import Alternative, Effect, Estimate, effect
from luopan.engines.abtest.stats import ArmStats
from luopan.errors import EngineError

__all__ = [
    "DEFAULT_N_STAR",
    "confidence_sequence",
    "cs_halfwidth",
    "cs_rho",
    "msprt",
    "msprt_p_values",
]

DEFAULT_N_STAR = 5000
P_FLOOR, P_CAP = 1e-5, 0.4999


def cs_rho(alpha: float, n_star: float, *, two_sided: bool = True) -> float:
    """Mixture parameter ρ that makes the sequence tightest at ``n_star`` total units."""
    a = alpha if two_sided else 2 * alpha
    return math.sqrt((-2 * math.log(a) + math.log(-2 * math.log(a) + 1)) / n_star)


def cs_halfwidth(
    variance: float, n: int, alpha: float, rho: float, *, two_sided: bool = True
) -> float:
    """Half-width of the asymptotic confidence sequence for an estimate of ``variance``.

    ``n`` is the total number of units (both arms); the per-unit variance is variance·n.
    """
    s2 = variance * n
    r2 = rho * rho
    scale = 2 * (n * r2 + 1) / (n * n * r2)
    if two_sided:
        return math.sqrt(s2 * scale * math.log(math.sqrt(n * r2 + 1) / alpha))
    return math.sqrt(s2 * scale * math.log(1 + math.sqrt(n * r2 + 1) / (2 * alpha)))


def _cs_p_two_sided(eff: Effect, n: int, rho: float) -> float:
    if eff.variance == 0:
        return 1.0
    st2 = eff.estimate**2 * n / eff.variance
    tr2p1 = n * rho * rho + 1
    log_e = rho * rho * st2 / (2 * tr2p1) - 0.5 * math.log(tr2p1)
    return min(math.exp(-log_e), 1.0) if log_e > -700 else 1.0


def _cs_p_one_sided(eff: Effect, n: int, rho: float, greater: bool) -> float:
    def bound(alpha: float) -> float:
        w = cs_halfwidth(eff.variance, n, alpha, rho, two_sided=False)
        return eff.estimate - w if greater else -(eff.estimate + w)

    if bound(P_FLOOR) > 0:
        return P_FLOOR
    if bound(P_CAP) < 0:
        return P_CAP
    return float(optimize.brentq(bound, P_FLOOR, P_CAP, xtol=1e-14, rtol=1e-12))


def confidence_sequence(
    control: ArmStats,
    treatment: ArmStats,
    *,
    relative: bool = True,
    alpha: float = 0.05,
    n_star: float = DEFAULT_N_STAR,
    alternative: Alternative = "two-sided",
    theta: float | None = None,
) -> Estimate:
    """Anytime-valid interval and p-value (gbstats ``SequentialTwoSidedTTest`` and one-sided).

    Args:
        control, treatment: sufficient statistics of the two arms.
        relative: relative lift (default) or absolute difference.
        alpha: level, valid over all looks.
        n_star: total units (both arms) at which the team expects to decide.
        alternative: ``two-sided``, ``greater`` or ``less``.
        theta: CUPED coefficient (pooled when omitted).

    References:
        Waudby-Smith et al. (2023), arXiv:2103.06476, eq. 9 (interval) and eq. 155 (e-value).
    """
    if n_star <= 0:
        raise EngineError(f"N* must be positive (got {n_star})", fix="pass --n-star 5000")
    eff = effect(control, treatment, relative=relative, theta=theta)
    n = eff.n_control + eff.n_treatment
    two = alternative == "two-sided"
    rho = cs_rho(alpha, n_star, two_sided=two)
    w = cs_halfwidth(eff.variance, n, alpha, rho, two_sided=two)
    if two:
        lo, hi = eff.estimate - w, eff.estimate + w
        p = _cs_p_two_sided(eff, n, rho)
    elif alternative == "greater":
        lo, hi = eff.estimate - w, math.inf
        p = _cs_p_one_sided(eff, n, rho, greater=True)
    elif alternative == "less":
        lo, hi = -math.inf, eff.estimate + w
        p = _cs_p_one_sided(eff, n, rho, greater=False)
    else:
        raise EngineError(f"unknown alternative {alternative!r}", fix="two-sided, greater, less")
    return Estimate(
        eff.estimate,
        eff.se,
        lo,
        hi,
        p,
        alpha,
        relative,
        alternative,
        f"confidence-sequence(N*={n_star:g})",
        eff.dof,
    )


def msprt(
    control: ArmStats,
    treatment: ArmStats,
    *,
    tau2: float,
    relative: bool = False,
    alpha: float = 0.05,
    theta: float | None = None,
) -> Estimate:
    """Mixture sequential probability ratio test with a N(0, τ²) mixing prior on the effect.

    Λ = sqrt(V/(V+τ²)) · exp(Δ̂² τ² / (2V(V+τ²))) with V the estimate's variance; p = min(1, 1/Λ)
    at this look (use :func:`msprt_p_values` for the running minimum over looks); the interval
    inverts Λ(θ) < 1/α.

    References:
        Johari, R., Koomen, P., Pekelis, L., Walsh, D. (2017). Peeking at A/B tests. KDD 2017.
    """
    if tau2 <= 0:
        raise EngineError(f"mSPRT needs τ² > 0 (got {tau2})", fix="set tau2 to a plausible effect²")
    eff = effect(control, treatment, relative=relative, theta=theta)
    v = eff.variance
    if v == 0:
        return Estimate(
            eff.estimate,
            0.0,
            eff.estimate,
            eff.estimate,
            1.0,
            alpha,
            relative,
            "two-sided",
            f"msprt(tau2={tau2:g})",
            eff.dof,
        )
    log_lr = 0.5 * math.log(v / (v + tau2)) + eff.estimate**2 * tau2 / (2 * v * (v + tau2))
    p = math.exp(-log_lr) if log_lr > 0 else 1.0
    w = math.sqrt(2 * v * (v + tau2) / tau2 * math.log(math.sqrt((v + tau2) / v) / alpha))
    return Estimate(
        eff.estimate,
        eff.se,
        eff.estimate - w,
        eff.estimate + w,
        min(p, 1.0),
        alpha,
        relative,
        "two-sided",
        f"msprt(tau2={tau2:g})",
        eff.dof,
    )


def msprt_p_values(
    looks: Sequence[tuple[ArmStats, ArmStats]], *, tau2: float, relative: bool = False
) -> list[float]:
    """Running-minimum mSPRT p-values over successive looks (anytime-valid at every look)."""
    out: list[float] = []
    best = 1.0
    for control, treatment in looks:
        best = min(best, msprt(control, treatment, tau2=tau2, relative=relative).p_value)
        out.append(best)
    return out
