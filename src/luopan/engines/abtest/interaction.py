"""Interaction between two overlapping experiments (different layers, same units).

Units exposed to both tests fall in a 2×2 table of cells (A arm × B arm). The interaction
contrast is δ = (μ11 - μ10) - (μ01 - μ00): the effect of B among A's treated minus among A's
controls. Its variance is Σ s²_cell/n_cell (cells are independent); the test is Welch-type with
a normal reference, which equals OLS on the saturated model y ~ a * b with HC2 robust errors.

References:
    Kohavi, R., Tang, D., Xu, Y. (2020). Trustworthy Online Controlled Experiments, ch. 4
    (interactions between concurrent experiments).
    MacKinnon, J. G., White, H. (1985). Some heteroskedasticity-consistent covariance matrix
    estimators with improved finite sample properties. J. Econometrics 29 (HC2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import special

from luopan.engines.abtest.stats import ArmStats

__all__ = ["Interaction", "interaction"]


@dataclass(frozen=True)
class Interaction:
    """Interaction contrast, its standard error, two-sided p-value and interval."""

    estimate: float
    se: float
    p_value: float
    ci_low: float
    ci_high: float
    alpha: float

    @property
    def detected(self) -> bool:
        return self.p_value < self.alpha


def interaction(
    a0b0: ArmStats, a0b1: ArmStats, a1b0: ArmStats, a1b1: ArmStats, *, alpha: float = 0.05
) -> Interaction:
    """Test whether experiment B's effect differs between the arms of experiment A.

    Args:
        a0b0, a0b1, a1b0, a1b1: statistics of the four cells (A arm, B arm).
        alpha: level of the test.

    References:
        Kohavi, Tang & Xu (2020), ch. 4; MacKinnon & White (1985).
    """
    cells = (a0b0, a0b1, a1b0, a1b1)
    est = (a1b1.mean - a1b0.mean) - (a0b1.mean - a0b0.mean)
    var = sum(c.variance / c.n for c in cells)
    se = math.sqrt(var)
    p = 2 * float(special.ndtr(-abs(est) / se)) if se > 0 else 1.0
    z = float(special.ndtri(1 - alpha / 2))
    return Interaction(est, se, p, est - z * se, est + z * se, alpha)
