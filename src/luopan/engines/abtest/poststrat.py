"""Post-stratification, alone or with CUPED regression inside each stratum (CUPEDps).

Each stratum h (country, member level, new vs returning) yields the control mean α0_h and the
treatment effect α1_h with their covariance V_h/n_h; the overall estimate weights strata by their
observed shares ν_h = n_h/N, and the relative lift is Σν_h α1_h / Σν_h α0_h. With a pre-period
covariate, α_h come from the per-stratum regression y ~ 1 + treated + x evaluated at the
stratum's mean x̄_h, including the sampling variance of x̄_h. The variance is the first-order
one, Var = A Cov(ν̂) A' + Σ_h ν_h V_h / N (law of total variance over the multinomial strata
counts), with the delta method for the ratio, and the interval uses Student's t with the Welch
degrees of freedom of the unstratified arms, as gbstats does.

References:
    Miratrix, L. W., Sekhon, J. S., Yu, B. (2013). Adjusting treatment effect estimates by
    post-stratification in randomized experiments. JRSS B 75(2), 369-396.
    Xie, H., Aurisset, J. (2016). Improving the sensitivity of online controlled experiments:
    case studies at Netflix. KDD 2016 (post-stratification with regression adjustment).
    Deng, A. et al. (2013). CUPED, WSDM 2013.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from luopan.engines.abtest.frequentist import Effect, Estimate, effect, t_inference
from luopan.engines.abtest.stats import ArmStats, CupedStats, MeanStats, ProportionStats
from luopan.errors import EngineError, InsufficientDataError

__all__ = ["post_stratify"]

Cell = tuple[int, np.ndarray, np.ndarray]  # n_h, (control mean, effect), n_h-scaled covariance


def _plain_cell(a: ArmStats, b: ArmStats) -> Cell:
    n = a.n + b.n
    va, vb = a.variance * n / a.n, b.variance * n / b.n
    # (control, effect) = C (μb, μa) with C = [[0, 1], [1, -1]]
    cov = np.array([[va, -va], [-va, va + vb]])
    return n, np.array([a.mean, b.mean - a.mean]), cov


def _cuped_cell(a: CupedStats, b: CupedStats) -> Cell:
    n = a.n + b.n
    sx = a.pre.sum + b.pre.sum
    sxx = a.pre.sum_squares + b.pre.sum_squares
    xtx = np.array([[n, b.n, sx], [b.n, b.n, b.pre.sum], [sx, b.pre.sum, sxx]], dtype=float)
    xty = np.array([a.post.sum + b.post.sum, b.post.sum, a.sum_products + b.sum_products])
    try:
        xtx_inv = np.linalg.inv(xtx)
    except np.linalg.LinAlgError:
        return _plain_cell(a.post, b.post)
    gamma = xtx_inv @ xty
    rss = a.post.sum_squares + b.post.sum_squares - xty @ xtx_inv @ xty
    sigma2 = rss / (n - 3)
    cov_g = sigma2 * xtx_inv
    xbar = sx / n
    var_x = (sxx - sx * sx / n) / (n - 1)
    c = np.array([[1.0, 0.0, xbar], [0.0, 1.0, 0.0]])
    v = c @ cov_g @ c.T
    v[0, 0] += (cov_g[2, 2] + gamma[2] ** 2) * var_x / n  # x̄_h is estimated too
    return n, c @ gamma, v * n


def post_stratify(
    strata: Sequence[tuple[ArmStats, ArmStats]],
    *,
    relative: bool = True,
    alpha: float = 0.05,
) -> Estimate:
    """Post-stratified (and, for ``CupedStats``, regression-adjusted) effect of treatment.

    Args:
        strata: one (control, treatment) pair of sufficient statistics per stratum; all of
            ``MeanStats``/``ProportionStats`` or all ``CupedStats``.
        relative: relative lift (default) or absolute difference.
        alpha: level of the normal interval.

    Raises:
        InsufficientDataError: a stratum has fewer than 2 units in an arm (merge it first).

    References:
        Miratrix, Sekhon & Yu (2013), JRSS B 75(2); Xie & Aurisset (2016), KDD.
    """
    if not strata:
        raise InsufficientDataError("no strata given", fix="pass at least one stratum")
    cells: list[Cell] = []
    for i, (a, b) in enumerate(strata):
        if a.n < 2 or b.n < 2:
            raise InsufficientDataError(
                f"stratum {i} has {a.n} control and {b.n} treatment units",
                fix="merge small strata into a larger one before post-stratifying",
            )
        if isinstance(a, CupedStats) and isinstance(b, CupedStats):
            cells.append(_cuped_cell(a, b))
        elif isinstance(a, MeanStats | ProportionStats) and isinstance(
            b, MeanStats | ProportionStats
        ):
            cells.append(_plain_cell(a, b))
        else:
            raise EngineError(
                f"post-stratification supports mean, proportion and CUPED statistics, not "
                f"{type(a).__name__}",
                fix="analyse ratio metrics without strata",
            )
    ns = np.array([c[0] for c in cells], dtype=float)
    total = ns.sum()
    nu = ns / total
    amat = np.array([c[1] for c in cells]).T  # 2 x H
    mean = amat @ nu
    cov_nu = (np.diag(nu) - np.outer(nu, nu)) / total
    cov = amat @ cov_nu @ amat.T + sum(
        (c[2] * nu[h] / total for h, c in enumerate(cells)), np.zeros((2, 2))
    )
    if relative:
        if mean[0] == 0:
            raise InsufficientDataError("control mean is 0", fix="use an absolute effect")
        est = mean[1] / mean[0]
        grad = np.array([-mean[1] / mean[0] ** 2, 1 / mean[0]])
    else:
        est = mean[1]
        grad = np.array([0.0, 1.0])
    var = float(grad @ cov @ grad)
    dof = effect(_total(strata, 0), _total(strata, 1), relative=relative).dof
    eff = Effect(float(est), var, dof, relative, 0, 0, float(mean[0]), float(mean[0] + mean[1]))
    return t_inference(eff, alpha=alpha, method=f"post-stratified({len(cells)} strata)")


def _sum_mean(stats: list[MeanStats | ProportionStats]) -> MeanStats | ProportionStats:
    n = sum(s.n for s in stats)
    if all(isinstance(s, ProportionStats) for s in stats):
        return ProportionStats(n, sum(s.sum for s in stats))
    return MeanStats(n, sum(s.sum for s in stats), sum(s.sum_squares for s in stats))


def _total(strata: Sequence[tuple[ArmStats, ArmStats]], arm: int) -> ArmStats:
    """One arm summed over strata (for the Welch degrees of freedom, as gbstats uses)."""
    parts = [pair[arm] for pair in strata]
    if all(isinstance(p, CupedStats) for p in parts):
        cu = [p for p in parts if isinstance(p, CupedStats)]
        return CupedStats(
            sum(p.n for p in cu),
            _sum_mean([p.post for p in cu]),
            _sum_mean([p.pre for p in cu]),
            sum(p.sum_products for p in cu),
        )
    return _sum_mean([p for p in parts if isinstance(p, MeanStats | ProportionStats)])
