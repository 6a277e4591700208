"""Heavy tails: quantile metrics, winsorisation of both tails and a robustness check.

Retail metrics (order value, items per basket, game rounds) are heavy-tailed; a few whales can
dominate a mean. Three tools: a quantile metric (e.g. P90 order value) whose variance comes from
the order-statistic interval of Deng, Knoblich & Yu (2018) as in gbstats' ``QuantileStatistic``;
winsorisation at pooled percentiles on either or both tails (gbstats caps the upper tail only);
and a flag when Welch's test and the Mann-Whitney rank test disagree on significance.

References:
    Deng, A., Knoblich, U., Lu, J. (2018). Applying the Delta Method in Metric Analytics: A
    Practical Guide with Novel Ideas. KDD 2018, section 4.3 (quantile metrics).
    Dixon, W. J. (1960). Simplified estimation from censored normal samples. Ann. Math. Stat.
    31 (winsorisation).
    Mann, H. B., Whitney, D. R. (1947). On a test of whether one of two random variables is
    stochastically larger than the other. Ann. Math. Stat. 18, 50-60.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as st

from luopan.errors import EngineError, InsufficientDataError

__all__ = ["QuantileStats", "Robustness", "robustness", "winsorize"]

_Z975 = float(st.norm.ppf(0.975))


@dataclass(frozen=True)
class QuantileStats:
    """A quantile metric of one arm: estimate and its order-statistic interval.

    ``n_star`` is the sample size the interval was evaluated at (defaults to ``n``).
    """

    n: int
    nu: float
    quantile_hat: float
    quantile_lower: float
    quantile_upper: float
    n_star: int | None = None

    @property
    def mean(self) -> float:
        return self.quantile_hat

    @property
    def variance(self) -> float:
        """Per-unit variance (n*/n)(n-1)·((upper - lower)/(2 z))² (Deng et al. 2018)."""
        if self.n <= 1:
            return 0.0
        ns = self.n if self.n_star is None else self.n_star
        v = (
            (ns / self.n)
            * (self.n - 1)
            * ((self.quantile_upper - self.quantile_lower) / (2 * _Z975)) ** 2
        )
        return max(v, 1e-5) if self.n >= 100 else v

    @classmethod
    def from_values(cls, values: np.ndarray, nu: float) -> QuantileStats:
        """Estimate at ``nu`` and the interval at ν ± 1.96·sqrt(ν(1-ν)/n) (linear interpolation)."""
        x = np.asarray(values, dtype=float)
        n = x.size
        if not 0 < nu < 1:
            raise EngineError(f"quantile level must be in (0, 1) (got {nu})", fix="e.g. 0.9")
        if n <= 1.96**2 * max(nu / (1 - nu), (1 - nu) / nu):
            raise InsufficientDataError(
                f"{n} units are too few for a P{nu * 100:g} interval",
                fix="wait for more units or use a central quantile",
            )
        half = 1.96 * math.sqrt(nu * (1 - nu) / n)
        q = np.quantile(x, [nu, max(nu - half, 0.0), min(nu + half, 1.0)])
        return cls(n, nu, float(q[0]), float(q[1]), float(q[2]))


def winsorize(
    *arms: np.ndarray, lower: float | None = None, upper: float | None = 0.99
) -> tuple[list[np.ndarray], tuple[float | None, float | None]]:
    """Clip every arm at the pooled ``lower``/``upper`` percentiles (either may be None).

    Caps come from all arms together so they do not depend on the assignment.
    Returns the clipped arrays and the (lower, upper) cap values.
    """
    pooled = np.concatenate([np.asarray(a, dtype=float) for a in arms])
    if pooled.size == 0:
        raise InsufficientDataError("nothing to winsorise", fix="check the metric column")
    for q in (lower, upper):
        if q is not None and not 0 <= q <= 1:
            raise EngineError(f"winsorisation level {q} is outside [0, 1]", fix="e.g. 0.99")
    lo = float(np.quantile(pooled, lower)) if lower is not None else None
    hi = float(np.quantile(pooled, upper)) if upper is not None else None
    clipped = [np.clip(np.asarray(a, dtype=float), lo, hi) for a in arms]
    return clipped, (lo, hi)


@dataclass(frozen=True)
class Robustness:
    """Welch and Mann-Whitney p-values and whether they disagree at ``alpha``."""

    welch_p: float
    rank_p: float
    alpha: float

    @property
    def disagree(self) -> bool:
        return (self.welch_p < self.alpha) != (self.rank_p < self.alpha)


def robustness(control: np.ndarray, treatment: np.ndarray, *, alpha: float = 0.05) -> Robustness:
    """Compare Welch's t-test with the two-sided Mann-Whitney U test on unit-level values.

    A disagreement means the mean is driven by the tails (or the shift is only in ranks):
    look at a winsorised or quantile metric before deciding.

    References:
        Welch (1947); Mann & Whitney (1947).
    """
    a, b = np.asarray(control, dtype=float), np.asarray(treatment, dtype=float)
    if a.size < 2 or b.size < 2:
        raise InsufficientDataError("robustness check needs 2+ units per arm", fix="wait")
    welch = float(st.ttest_ind(b, a, equal_var=False).pvalue)
    rank = float(st.mannwhitneyu(b, a, alternative="two-sided").pvalue)
    return Robustness(welch, rank, alpha)
