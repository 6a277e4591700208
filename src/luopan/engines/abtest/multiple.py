"""Multiple testing: Holm and Benjamini-Hochberg offline; LOND, LORD++ and e-BH across a
programme of experiments that arrive over time.

Offline adjustments act on one result view (metrics × variants × dimensions). An operations
team runs tests one after another and decides on each as it ends; online FDR procedures spend
a budget α_t per test in arrival order so that the false discovery rate of the whole
programme stays below q at every time, without knowing future tests.

References:
    Holm, S. (1979). A simple sequentially rejective multiple test procedure. Scand. J. Stat.
    Benjamini, Y., Hochberg, Y. (1995). Controlling the false discovery rate. JRSS B 57.
    Javanmard, A., Montanari, A. (2018). Online rules for control of false discovery rate
    and false discovery exceedance. Annals of Statistics 46(2) (LOND, LORD).
    Ramdas, A., Yang, F., Wainwright, M., Jordan, M. (2017). Online control of the false
    discovery rate with decaying memory. NeurIPS 2017 (LORD++).
    Wang, R., Ramdas, A. (2022). False discovery rate control with e-values. JRSS B 84 (e-BH).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from luopan.errors import EngineError

__all__ = [
    "benjamini_hochberg",
    "e_bh",
    "gamma_sequence",
    "holm",
    "lond",
    "lord_plus_plus",
    "realised_fdr",
]

Floats = Sequence[float] | np.ndarray


def _p(p_values: Floats) -> np.ndarray:
    p = np.asarray(p_values, dtype=float)
    if ((p < 0) | (p > 1) | np.isnan(p)).any():
        raise EngineError("p-values must lie in [0, 1]", fix="check the inputs")
    return p


def holm(p_values: Floats) -> list[float]:
    """Holm-Bonferroni adjusted p-values (family-wise error rate), in the input order."""
    p = _p(p_values)
    m = p.size
    order = np.argsort(p, kind="stable")
    adj = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adj
    return out.tolist()


def benjamini_hochberg(p_values: Floats) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (false discovery rate), in the input order."""
    p = _p(p_values)
    m = p.size
    order = np.argsort(p, kind="stable")
    ranked = p[order] * m / np.arange(1, m + 1)
    adj = np.minimum(1.0, np.minimum.accumulate(ranked[::-1])[::-1])
    out = np.empty(m)
    out[order] = adj
    return out.tolist()


def gamma_sequence(n: int) -> np.ndarray:
    """The default spending sequence γ_j ∝ log(max(j, 2)) / (j · exp(sqrt(log j))).

    Normalised to sum to 1 over a long horizon (10⁶ tests), so any prefix sums below 1.

    References:
        Javanmard & Montanari (2018), section 7.1.
    """
    return _gammas()[:n].copy()


@lru_cache(maxsize=1)
def _gammas() -> np.ndarray:
    j = np.arange(1, 1_000_001, dtype=float)
    g = np.log(np.maximum(j, 2)) / (j * np.exp(np.sqrt(np.log(j))))
    return g / g.sum()


def lond(p_values: Floats, *, q: float = 0.05) -> list[bool]:
    """LOND: reject test t when p_t ≤ α_t = q · γ_t · (D_{t-1} + 1), D = discoveries so far.

    Controls FDR under independence (and a modified FDR under positive dependence).

    References:
        Javanmard & Montanari (2018), Ann. Stat. 46(2), section 2.2.
    """
    p = _p(p_values)
    gam = gamma_sequence(p.size)
    out, d = [], 0
    for t, pt in enumerate(p):
        reject = bool(pt <= q * gam[t] * (d + 1))
        d += reject
        out.append(reject)
    return out


def lord_plus_plus(p_values: Floats, *, q: float = 0.05, w0: float | None = None) -> list[bool]:
    """LORD++: wealth-based online FDR control (GAI++), in arrival order.

    α_t = γ_t w0 + (q - w0) γ_{t-τ1} + q Σ_{j≥2} γ_{t-τj}, τj the time of the j-th discovery.

    References:
        Ramdas, Yang, Wainwright & Jordan (2017), NeurIPS, Algorithm LORD++.
    """
    p = _p(p_values)
    w0 = q / 2 if w0 is None else w0
    if not 0 <= w0 <= q:
        raise EngineError("LORD++ needs 0 <= w0 <= q", fix="use the default w0 = q/2")
    gam = np.r_[gamma_sequence(p.size + 1), 0.0]
    taus: list[int] = []
    out = []
    for t in range(1, p.size + 1):
        a = gam[t - 1] * w0
        for j, tau in enumerate(taus):
            a += (q - w0 if j == 0 else q) * gam[t - tau - 1]
        reject = bool(p[t - 1] <= a)
        if reject:
            taus.append(t)
        out.append(reject)
    return out


def e_bh(e_values: Floats, *, q: float = 0.05) -> list[bool]:
    """e-BH: reject the k* largest e-values, k* = max{k: e_(k) ≥ m/(qk)}.

    Valid under arbitrary dependence, so it can pool the anytime-valid e-values of sequential
    experiments (e = 1/p of the confidence sequence) over a programme.

    References:
        Wang & Ramdas (2022), JRSS B 84, Definition 2.
    """
    e = np.asarray(e_values, dtype=float)
    if (e < 0).any() or np.isnan(e).any():
        raise EngineError("e-values must be non-negative", fix="check the inputs")
    m = e.size
    if m == 0:
        return []
    order = np.argsort(-e, kind="stable")
    ks = np.arange(1, m + 1)
    ok = e[order] >= m / (q * ks)
    k_star = int(ks[ok].max()) if ok.any() else 0
    out = np.zeros(m, dtype=bool)
    out[order[:k_star]] = True
    return out.tolist()


def realised_fdr(
    rejected: Sequence[bool] | np.ndarray, is_null: Sequence[bool] | np.ndarray
) -> float:
    """False discoveries / max(discoveries, 1)."""
    r = np.asarray(rejected, dtype=bool)
    return float((r & np.asarray(is_null, dtype=bool)).sum() / max(int(r.sum()), 1))
