"""Sample ratio mismatch: the χ² check and a sequentially valid Bayes-factor check.

An SRM means units were lost or duplicated unevenly between arms, and every other number of
the experiment is then suspect. The fixed check is Pearson's χ² goodness of fit (gbstats
``check_srm``, default threshold 0.001); it is not valid when recomputed every day. The
sequential check compares Multinomial(p0) with a Dirichlet-multinomial alternative; the running
minimum of 1/BF is an anytime-valid p-value, so it can be watched daily.

References:
    Fabijan, A. et al. (2019). Diagnosing sample ratio mismatch in online controlled
    experiments. KDD 2019.
    Lindon, M., Malek, A. (2022). Anytime-valid inference for multinomial count data.
    NeurIPS 2022 (Dirichlet-multinomial test martingale).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as st
from scipy.special import gammaln, xlogy

from luopan.errors import EngineError

__all__ = ["SrmResult", "check_srm", "sequential_srm"]

DEFAULT_SRM_THRESHOLD = 0.001


@dataclass(frozen=True)
class SrmResult:
    """p-value of the mismatch test and whether it is flagged at ``threshold``."""

    p_value: float
    threshold: float
    observed: tuple[int, ...]
    expected: tuple[float, ...]
    method: str

    @property
    def flagged(self) -> bool:
        return self.p_value < self.threshold


def _weights(expected: Sequence[float], k: int) -> np.ndarray:
    w = np.asarray(expected, dtype=float)
    if w.size != k or (w < 0).any() or w.sum() <= 0:
        raise EngineError(
            f"expected split {list(expected)} does not fit {k} arms",
            fix="give one non-negative weight per arm, e.g. 0.5 0.5",
        )
    return w / w.sum()


def check_srm(
    observed: Sequence[int],
    expected: Sequence[float] | None = None,
    *,
    threshold: float = DEFAULT_SRM_THRESHOLD,
) -> SrmResult:
    """Pearson χ² goodness-of-fit test of the arm counts against the intended split.

    Arms with zero expected weight are left out (dof = arms - 1).

    References:
        Fabijan et al. (2019), KDD; GrowthBook gbstats ``check_srm``.
    """
    x = np.asarray(observed, dtype=float)
    w = _weights(expected if expected is not None else [1.0] * x.size, x.size)
    keep = w > 0
    x, w = x[keep], w[keep] / w[keep].sum()
    n = x.sum()
    if n == 0 or x.size < 2:
        p = 1.0
    else:
        e = n * w
        chi2 = float(((x - e) ** 2 / e).sum())
        p = float(st.chi2.sf(chi2, x.size - 1))
    return SrmResult(
        p,
        threshold,
        tuple(int(v) for v in observed),
        tuple(float(v) for v in _weights(expected or [1.0] * len(observed), len(observed))),
        "chi2",
    )


def sequential_srm(
    daily_counts: Sequence[Sequence[int]],
    expected: Sequence[float] | None = None,
    *,
    threshold: float = DEFAULT_SRM_THRESHOLD,
    concentration: float = 10_000.0,
) -> SrmResult:
    """Anytime-valid SRM p-value from per-period arm counts (rows = periods, columns = arms).

    BF_t = DirMult(x_{1:t} | c·p0) / Mult(x_{1:t} | p0) on the cumulative counts (the
    multinomial coefficients cancel); p_t = min(1, min_{s≤t} 1/BF_s).

    References:
        Lindon & Malek (2022), NeurIPS, section 3; GrowthBook gbstats ``ssrm``.
    """
    data = np.asarray(daily_counts, dtype=float)
    if data.ndim != 2 or data.size == 0:
        raise EngineError(
            "sequential SRM needs a table of counts per period and arm",
            fix="pass one row per day with one count per arm",
        )
    p0 = _weights(expected if expected is not None else [1.0] * data.shape[1], data.shape[1])
    keep = p0 > 0
    data, p0 = data[:, keep], p0[keep] / p0[keep].sum()
    alpha = concentration * p0
    cum = np.cumsum(data, axis=0)
    best = 1.0
    for x in cum:
        n = x.sum()
        if n == 0:
            continue
        log_m1 = (
            gammaln(alpha.sum())
            - gammaln(alpha).sum()
            + gammaln(alpha + x).sum()
            - gammaln(alpha.sum() + n)
        )
        log_m0 = float(np.sum(xlogy(x, p0)))
        log_bf = float(log_m1 - log_m0)
        best = min(best, float(np.exp(-log_bf)) if log_bf > -700 else 1.0)
    total = tuple(int(v) for v in data.sum(axis=0))
    return SrmResult(
        best, threshold, total, tuple(float(v) for v in p0), f"sequential(c={concentration:g})"
    )
