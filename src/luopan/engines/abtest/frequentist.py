"""Fixed-horizon frequentist comparison of two arms on sufficient statistics.

Welch's t-test with Welch-Satterthwaite degrees of freedom on the absolute difference or on the
relative lift (μT - μC)/|μC|, whose variance comes from the delta method, exactly as GrowthBook's
gbstats computes it; p-values use the survival function so they never underflow to 0. Two
asymmetric intervals for the lift are offered besides the symmetric delta-method one: the
log-ratio interval and Fieller's interval.

References:
    Welch, B. L. (1947). The generalization of "Student's" problem when several different
    population variances are involved. Biometrika 34, 28-35.
    Satterthwaite, F. E. (1946). An approximate distribution of estimates of variance
    components. Biometrics Bulletin 2, 110-114.
    Deng, A., Knoblich, U., Lu, J. (2018). Applying the Delta Method in Metric Analytics. KDD.
    Fieller, E. C. (1954). Some problems in interval estimation. JRSS B 16, 175-185.
    Katz, D. et al. (1978). Obtaining confidence intervals for the risk ratio in cohort
    studies. Biometrics 34, 469-474 (log-ratio interval).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Literal

from scipy import special
from scipy import stats as st

from luopan.engines.abtest.stats import ArmStats, CupedStats, Moments, pooled_theta
from luopan.errors import EngineError, InsufficientDataError

__all__ = [
    "Alternative",
    "Effect",
    "Estimate",
    "compare",
    "effect",
    "fieller_ci",
    "log_ratio_ci",
]

Alternative = Literal["two-sided", "greater", "less"]


@dataclass(frozen=True)
class Effect:
    """Point estimate, its variance and Welch dof: the input of every inference method."""

    estimate: float
    variance: float
    dof: float
    relative: bool
    n_control: int
    n_treatment: int
    control_mean: float
    treatment_mean: float
    theta: float | None = None

    @property
    def se(self) -> float:
        return math.sqrt(self.variance)


@dataclass(frozen=True)
class Estimate:
    """One inference: estimate, interval, p-value (and how it was obtained)."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    alpha: float
    relative: bool
    alternative: str
    method: str
    dof: float = math.inf

    @property
    def significant(self) -> bool:
        return self.p_value < self.alpha

    def to_dict(self) -> dict[str, float | str | bool]:
        out: dict[str, float | str | bool] = asdict(self)
        out["significant"] = self.significant
        return out


def _sf(x: float, df: float) -> float:
    """Upper tail of Student's t (normal when df is infinite), exact far in the tail."""
    if math.isfinite(df):
        return float(special.stdtr(df, -x))
    return float(special.ndtr(-x))


def _ppf(q: float, df: float) -> float:
    if math.isfinite(df):
        return float(special.stdtrit(df, q))
    return float(special.ndtri(q))


def _welch_dof(a: ArmStats | Moments, b: ArmStats | Moments) -> float:
    va, vb = a.variance / a.n, b.variance / b.n
    den = 0.0
    if a.n > 1:
        den += va**2 / (a.n - 1)
    if b.n > 1:
        den += vb**2 / (b.n - 1)
    return (va + vb) ** 2 / den if den > 0 else math.inf


def _relative_variance(a: ArmStats | Moments, b: ArmStats | Moments, base: float) -> float:
    return b.variance / (base**2 * b.n) + a.variance * b.mean**2 / (base**4 * a.n)


def effect(
    control: ArmStats,
    treatment: ArmStats,
    *,
    relative: bool = True,
    theta: float | None = None,
) -> Effect:
    """Estimate and delta-method variance of treatment vs control.

    For ``CupedStats`` the pooled θ (or the given one) adjusts both arms; the relative lift is
    the adjusted difference over the unadjusted control mean, with the delta-method variance of
    that ratio (the control's post and pre means both enter it).
    """
    if type(control) is not type(treatment):
        raise EngineError(
            f"arms carry different statistics ({type(control).__name__} vs "
            f"{type(treatment).__name__})",
            fix="aggregate both arms the same way",
        )
    base = control.mean
    if relative and base == 0:
        raise InsufficientDataError(
            "the control mean is 0, so a relative lift is undefined",
            fix="use --absolute or wait for control conversions",
        )
    if isinstance(control, CupedStats) and isinstance(treatment, CupedStats):
        th = pooled_theta(control, treatment) if theta is None else theta
        a, b = control.adjusted(th), treatment.adjusted(th)
        diff = b.mean - a.mean
        dof = _welch_dof(a, b)
        if not relative:
            var = a.variance / a.n + b.variance / b.n
            return Effect(diff, var, dof, False, a.n, b.n, control.mean, treatment.mean, th)
        # gradient of (Yb - θXb - Ya + θXa) / Ya w.r.t. the control's (Ya, Xa), taken where
        # the pre-period means agree (their expected difference is 0 under randomisation);
        # this is gbstats' dedicated relative-CUPED variance
        g_y = -treatment.post.mean / base**2
        g_x = th / base
        var_c = (
            g_y**2 * control.post.variance
            + g_x**2 * control.pre.variance
            + 2 * g_y * g_x * control.covariance
        ) / control.n
        var_t = b.variance / (base**2 * b.n)
        est = diff / abs(base)
        return Effect(est, var_c + var_t, dof, True, a.n, b.n, control.mean, treatment.mean, th)
    dof = _welch_dof(control, treatment)
    diff = treatment.mean - control.mean
    if relative:
        var = _relative_variance(control, treatment, base)
        est = diff / abs(base)
    else:
        var = control.variance / control.n + treatment.variance / treatment.n
        est = diff
    return Effect(est, var, dof, relative, control.n, treatment.n, control.mean, treatment.mean)


def t_inference(
    eff: Effect,
    *,
    alpha: float = 0.05,
    alternative: Alternative = "two-sided",
    null: float = 0.0,
    method: str = "welch",
) -> Estimate:
    """Welch t inference on an :class:`Effect` (``null`` is the tested value, e.g. a margin)."""
    se = eff.se
    if se == 0 or not math.isfinite(se):
        return Estimate(
            eff.estimate,
            se,
            eff.estimate,
            eff.estimate,
            1.0,
            alpha,
            eff.relative,
            alternative,
            method,
            eff.dof,
        )
    t = (eff.estimate - null) / se
    df = eff.dof
    if alternative == "two-sided":
        p = 2 * _sf(abs(t), df)
        w = _ppf(1 - alpha / 2, df) * se
        lo, hi = eff.estimate - w, eff.estimate + w
    elif alternative == "greater":
        p = _sf(t, df)
        lo, hi = eff.estimate - _ppf(1 - alpha, df) * se, math.inf
    elif alternative == "less":
        p = _sf(-t, df)
        lo, hi = -math.inf, eff.estimate + _ppf(1 - alpha, df) * se
    else:
        raise EngineError(
            f"unknown alternative {alternative!r}", fix="use two-sided, greater or less"
        )
    return Estimate(
        eff.estimate,
        se,
        lo,
        hi,
        min(max(p, 0.0), 1.0),
        alpha,
        eff.relative,
        alternative,
        method,
        eff.dof,
    )


def compare(
    control: ArmStats,
    treatment: ArmStats,
    *,
    relative: bool = True,
    alpha: float = 0.05,
    alternative: Alternative = "two-sided",
    null: float = 0.0,
    theta: float | None = None,
) -> Estimate:
    """Welch t-test of treatment vs control (gbstats ``TwoSidedTTest`` and one-sided variants).

    Args:
        control, treatment: sufficient statistics of the two arms (same kind).
        relative: test the relative lift (default) or the absolute difference.
        alpha: level of the interval.
        alternative: ``two-sided``, ``greater`` (treatment better) or ``less``.
        null: the value tested against (0; a non-inferiority margin such as -0.02).
        theta: CUPED coefficient; pooled over both arms when omitted.

    Returns:
        The :class:`Estimate`; its p-value is exact in the tail (no underflow).

    References:
        Welch (1947); Deng, Knoblich & Lu (2018) for the delta-method lift variance.
    """
    eff = effect(control, treatment, relative=relative, theta=theta)
    return t_inference(eff, alpha=alpha, alternative=alternative, null=null)


def log_ratio_ci(
    control: ArmStats, treatment: ArmStats, *, alpha: float = 0.05
) -> tuple[float, float]:
    """Asymmetric CI of the relative lift from the log of the ratio of means.

    Var(log μ̂) ≈ σ²/(n μ²) per arm; the interval is exp(log(μT/μC) ± z·se) - 1. For proportions
    this equals statsmodels' ``confint_proportions_2indep(method='log', compare='ratio')``.

    References:
        Katz, D., Baptista, J., Azen, S. P., Pike, M. C. (1978). Biometrics 34, 469-474.
    """
    if control.mean <= 0 or treatment.mean <= 0:
        raise InsufficientDataError(
            "log-ratio interval needs positive means in both arms",
            fix="use the delta-method or Fieller interval",
        )
    lr = math.log(treatment.mean / control.mean)
    se = math.sqrt(
        control.variance / (control.n * control.mean**2)
        + treatment.variance / (treatment.n * treatment.mean**2)
    )
    z = float(st.norm.ppf(1 - alpha / 2))
    return math.exp(lr - z * se) - 1, math.exp(lr + z * se) - 1


def fieller_ci(
    control: ArmStats, treatment: ArmStats, *, alpha: float = 0.05
) -> tuple[float, float]:
    """Fieller's CI of the relative lift μT/μC - 1 for independent arms.

    Solves (ȳT - r ȳC)² = z² (vT + r² vC) for r; unbounded when the control mean is not
    significantly different from 0 (then ``(-inf, inf)``).

    References:
        Fieller, E. C. (1954). JRSS B 16, 175-185.
    """
    z2 = float(st.norm.ppf(1 - alpha / 2)) ** 2
    yt, yc = treatment.mean, control.mean
    vt, vc = treatment.variance / treatment.n, control.variance / control.n
    a = yc**2 - z2 * vc
    if a <= 0:
        return -math.inf, math.inf
    b = -2 * yt * yc
    c = yt**2 - z2 * vt
    disc = b * b - 4 * a * c
    if disc < 0:
        return -math.inf, math.inf
    root = math.sqrt(disc)
    r1, r2 = (-b - root) / (2 * a), (-b + root) / (2 * a)
    return r1 - 1, r2 - 1
