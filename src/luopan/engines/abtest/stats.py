"""Sufficient statistics of one arm: everything the analysis needs, nothing else.

A warehouse aggregates raw rows into these (n, sums, sums of squares, cross-products), so the
same analysis runs on DuckDB, Spark or a JSON file of statistics. Conventions follow GrowthBook's
gbstats so that numbers can be compared one to one: a proportion's variance is p(1-p), a mean's
is the unbiased (Σx² - (Σx)²/n)/(n-1).

References:
    Deng, A., Knoblich, U., Lu, J. (2018). Applying the Delta Method in Metric Analytics.
    KDD 2018 (ratio metrics by the delta method with unit-level clustering).
    Deng, A., Xu, Y., Kohavi, R., Walker, T. (2013). Improving the Sensitivity of Online
    Controlled Experiments by Utilizing Pre-Experiment Data. WSDM 2013 (CUPED).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from luopan.errors import InsufficientDataError

__all__ = [
    "ArmStats",
    "CupedStats",
    "MeanStats",
    "Moments",
    "ProportionStats",
    "RatioStats",
    "pooled_theta",
]


class ArmStats(Protocol):
    """What every statistic offers: units, mean of the metric and per-unit variance."""

    @property
    def n(self) -> int: ...

    @property
    def mean(self) -> float: ...

    @property
    def variance(self) -> float: ...


@dataclass(frozen=True)
class Moments:
    """A bare (n, mean, per-unit variance) triple, e.g. after CUPED adjustment."""

    n: int
    mean: float
    variance: float


@dataclass(frozen=True)
class ProportionStats:
    """A binomial metric (conversion): ``successes`` of ``n`` units."""

    n: int
    successes: float

    def __post_init__(self) -> None:
        if self.n < 1 or not 0 <= self.successes <= self.n:
            raise InsufficientDataError(
                f"proportion needs n >= 1 and 0 <= successes <= n (got n={self.n}, "
                f"successes={self.successes})",
                fix="check the arm's unit count and conversions",
            )

    @property
    def sum(self) -> float:
        return float(self.successes)

    @property
    def sum_squares(self) -> float:
        return float(self.successes)

    @property
    def mean(self) -> float:
        return self.successes / self.n

    @property
    def variance(self) -> float:
        p = self.mean
        return p * (1.0 - p)

    @classmethod
    def from_values(cls, values: np.ndarray) -> ProportionStats:
        x = np.asarray(values, dtype=float)
        return cls(n=int(x.size), successes=float(x.sum()))


@dataclass(frozen=True)
class MeanStats:
    """A mean metric (revenue per user): n, Σx and Σx²."""

    n: int
    sum: float
    sum_squares: float

    def __post_init__(self) -> None:
        if self.n < 2:
            raise InsufficientDataError(
                f"a mean metric needs at least 2 units per arm (got {self.n})",
                fix="wait for more units or analyse a proportion instead",
            )

    @property
    def mean(self) -> float:
        return self.sum / self.n

    @property
    def variance(self) -> float:
        v = (self.sum_squares - self.sum**2 / self.n) / (self.n - 1)
        return max(v, 0.0)

    @classmethod
    def from_values(cls, values: np.ndarray) -> MeanStats:
        x = np.asarray(values, dtype=float)
        return cls(n=int(x.size), sum=float(x.sum()), sum_squares=float((x * x).sum()))


def _covariance(n: int, sum_x: float, sum_y: float, sum_xy: float) -> float:
    return (sum_xy - sum_x * sum_y / n) / (n - 1)


@dataclass(frozen=True)
class RatioStats:
    """A ratio metric Σm/Σd (revenue per order) with the randomisation unit as cluster.

    ``numerator`` and ``denominator`` are per-unit sums; ``sum_products`` is Σ m_i d_i over units.
    """

    n: int
    numerator: MeanStats
    denominator: MeanStats
    sum_products: float

    def __post_init__(self) -> None:
        if self.denominator.sum == 0:
            raise InsufficientDataError(
                "ratio metric with a zero denominator total", fix="check the denominator column"
            )

    @property
    def covariance(self) -> float:
        return _covariance(self.n, self.numerator.sum, self.denominator.sum, self.sum_products)

    @property
    def mean(self) -> float:
        return self.numerator.sum / self.denominator.sum

    @property
    def variance(self) -> float:
        """Per-unit delta-method variance of the ratio (Deng et al. 2018, eq. 4)."""
        m, d = self.numerator.mean, self.denominator.mean
        v = (
            self.numerator.variance / d**2
            - 2 * self.covariance * m / d**3
            + self.denominator.variance * m**2 / d**4
        )
        return max(v, 0.0)

    @classmethod
    def from_values(cls, numerator: np.ndarray, denominator: np.ndarray) -> RatioStats:
        m = np.asarray(numerator, dtype=float)
        d = np.asarray(denominator, dtype=float)
        return cls(
            n=int(m.size),
            numerator=MeanStats.from_values(m),
            denominator=MeanStats.from_values(d),
            sum_products=float((m * d).sum()),
        )


@dataclass(frozen=True)
class CupedStats:
    """A metric with a pre-period covariate: post, pre and Σ post·pre per unit."""

    n: int
    post: MeanStats | ProportionStats
    pre: MeanStats | ProportionStats
    sum_products: float

    @property
    def covariance(self) -> float:
        return _covariance(self.n, self.post.sum, self.pre.sum, self.sum_products)

    @property
    def mean(self) -> float:
        """The unadjusted post-period mean (the base of a relative lift)."""
        return self.post.mean

    @property
    def variance(self) -> float:
        """The unadjusted post-period variance."""
        return self.post.variance

    def adjusted(self, theta: float) -> Moments:
        """Mean and variance of post - θ·pre (Deng et al. 2013, eq. 3)."""
        v = self.post.variance + theta**2 * self.pre.variance - 2 * theta * self.covariance
        return Moments(self.n, self.post.mean - theta * self.pre.mean, max(v, 0.0))

    @classmethod
    def from_values(cls, post: np.ndarray, pre: np.ndarray) -> CupedStats:
        y = np.asarray(post, dtype=float)
        x = np.asarray(pre, dtype=float)
        return cls(
            n=int(y.size),
            post=MeanStats.from_values(y),
            pre=MeanStats.from_values(x),
            sum_products=float((x * y).sum()),
        )


def _pooled_variance(n: int, total: float, total_sq: float) -> float:
    return (total_sq - total**2 / n) / (n - 1)


def pooled_theta(*arms: CupedStats) -> float:
    """θ = cov(post, pre) / var(pre), pooled over all arms (as gbstats does).

    Pooling keeps θ independent of the assignment, so the adjusted difference stays unbiased.

    References:
        Deng, A., Xu, Y., Kohavi, R., Walker, T. (2013). WSDM 2013, section 3.
    """
    n = sum(a.n for a in arms)
    sy = sum(a.post.sum for a in arms)
    sx = sum(a.pre.sum for a in arms)
    sxx = sum(a.pre.sum_squares for a in arms)
    sxy = sum(a.sum_products for a in arms)
    var_x = _pooled_variance(n, sx, sxx)
    if var_x <= 0:
        return 0.0
    return _covariance(n, sy, sx, sxy) / var_x
