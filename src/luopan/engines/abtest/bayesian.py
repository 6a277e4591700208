"""Bayesian Gaussian analysis of the lift: chance to win, expected loss, chance to be best.

The data likelihood of the lift is Normal(estimate, se²) from the delta method (as in gbstats'
``EffectBayesianABTest``); the prior is flat by default or a proper N(μ0, σ0²) on the relative
lift (rescaled by |μC| for absolute effects). The posterior is conjugate Normal. Risk is the
expected loss of each decision: E[max(lift, 0)] if control is kept, E[max(-lift, 0)] if the
treatment is shipped, from the truncated-normal mean. For k > 2 arms the chance that each arm
is best is computed by quadrature over independent Normal posteriors of the arm means.

References:
    Gelman, A. et al. (2013). Bayesian Data Analysis, 3rd ed., section 2.5 (Normal-Normal).
    Stucchio, C. (2015). Bayesian A/B testing at VWO (expected loss as the decision risk).
    GrowthBook gbstats, ``bayesian/tests.py`` (EffectBayesianABTest), MIT licence.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import integrate, special
from scipy import stats as st

from luopan.engines.abtest.frequentist import Effect, effect
from luopan.engines.abtest.stats import ArmStats
from luopan.errors import EngineError

__all__ = ["BayesResult", "GaussianPrior", "bayes", "chance_to_be_best", "posterior"]


@dataclass(frozen=True)
class GaussianPrior:
    """A proper N(mean, sd²) prior on the relative lift (GrowthBook's default sd is 0.3)."""

    mean: float = 0.0
    sd: float = 0.3


@dataclass(frozen=True)
class BayesResult:
    """Posterior of the lift and the decision quantities."""

    posterior_mean: float
    posterior_sd: float
    ci_low: float
    ci_high: float
    chance_to_win: float
    risk_control: float
    risk_treatment: float
    relative: bool
    alpha: float

    def to_dict(self) -> dict[str, float | bool]:
        return asdict(self)


def _loss(mu: float, sd: float) -> float:
    """E[max(X, 0)] for X ~ N(mu, sd²)."""
    if sd == 0:
        return max(mu, 0.0)
    z = mu / sd
    return mu * float(special.ndtr(z)) + sd * math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)


def posterior(eff: Effect, prior: GaussianPrior | None = None) -> tuple[float, float]:
    """Posterior mean and sd of the effect (flat prior when ``prior`` is None)."""
    if prior is None:
        return eff.estimate, eff.se
    scale = 1.0 if eff.relative else abs(eff.control_mean)
    m0, v0 = prior.mean * scale, (prior.sd * scale) ** 2
    if v0 <= 0:
        raise EngineError("the prior's sd must be positive", fix="use sd > 0 or a flat prior")
    if eff.variance == 0:
        return eff.estimate, 0.0
    precision = 1 / v0 + 1 / eff.variance
    mean = (m0 / v0 + eff.estimate / eff.variance) / precision
    return mean, math.sqrt(1 / precision)


def bayes(
    control: ArmStats,
    treatment: ArmStats,
    *,
    relative: bool = True,
    alpha: float = 0.05,
    prior: GaussianPrior | None = None,
    inverse: bool = False,
    theta: float | None = None,
) -> BayesResult:
    """Gaussian Bayesian comparison (gbstats ``EffectBayesianABTest``).

    Args:
        control, treatment: sufficient statistics.
        relative: posterior of the relative lift (default) or of the absolute difference.
        alpha: 1 - credible level.
        prior: proper prior on the relative lift; flat when None.
        inverse: the metric is better when lower (chance to win = P(lift < 0)).
        theta: CUPED coefficient (pooled when omitted).

    References:
        Gelman et al. (2013), BDA3 §2.5; GrowthBook gbstats EffectBayesianABTest.
    """
    eff = effect(control, treatment, relative=relative, theta=theta)
    mu, sd = posterior(eff, prior)
    z = float(special.ndtri(1 - alpha / 2))
    if sd > 0:
        ctw = float(special.ndtr(mu / sd))
    else:
        ctw = 1.0 if mu > 0 else 0.0
    if inverse:
        ctw = 1 - ctw
    gain, pain = _loss(mu, sd), _loss(-mu, sd)
    risk_control, risk_treatment = (pain, gain) if inverse else (gain, pain)
    return BayesResult(
        mu, sd, mu - z * sd, mu + z * sd, ctw, risk_control, risk_treatment, relative, alpha
    )


def chance_to_be_best(arms: Sequence[ArmStats], *, inverse: bool = False) -> list[float]:
    """P(arm i has the highest mean) under independent flat-prior Normal posteriors.

    P_i = ∫ φ_i(x) ∏_{j≠i} Φ_j(x) dx, by adaptive quadrature.

    References:
        Scott, S. L. (2010). A modern Bayesian look at the multi-armed bandit. Appl. Stoch.
        Models Bus. Ind. 26, 639-658 (probability each arm is optimal).
    """
    if len(arms) < 2:
        raise EngineError("chance to be best needs at least 2 arms", fix="add arms")
    mus = np.array([a.mean for a in arms], dtype=float) * (-1 if inverse else 1)
    sds = np.array([math.sqrt(a.variance / a.n) for a in arms], dtype=float)
    lo = float((mus - 12 * sds).min())
    hi = float((mus + 12 * sds).max())
    out = []
    for i in range(len(arms)):
        others = [j for j in range(len(arms)) if j != i]

        def f(x: float, i: int = i, others: list[int] = others) -> float:
            dens = float(st.norm.pdf(x, mus[i], sds[i]))
            return dens * float(np.prod(st.norm.cdf(x, mus[others], sds[others])))

        val, _ = integrate.quad(
            f, lo, hi, points=[float(mus[i])], limit=200, epsabs=1e-12, epsrel=1e-10
        )
        out.append(val)
    total = sum(out)
    return [v / total for v in out]
