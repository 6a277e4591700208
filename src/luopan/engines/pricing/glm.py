"""Batched Poisson regression (log link) for many series at once, by IRLS.

Every series has its own coefficients; the design is a tensor ``X[series, period, column]`` so
the Fisher scoring steps of all series run as a few ``einsum`` calls instead of one statsmodels
fit per series (5,000 fits would take minutes; this takes seconds). Zero sales are kept — the
Poisson pseudo-maximum-likelihood estimator is consistent for a log-linear mean whatever the
count distribution, which is why it is preferred to OLS on log(units) when many periods sell
nothing. Standard errors are quasi-Poisson (dispersion from Pearson residuals, floored at 1).
Written by hand because no maintained library fits thousands of small GLMs in one batch.

References:
    McCullagh, P. & Nelder, J.A. (1989). Generalized Linear Models, 2nd ed., ch. 2.5 (IRLS) and
    ch. 4.5 (quasi-likelihood, Pearson dispersion). Chapman & Hall.
    Santos Silva, J.M.C. & Tenreyro, S. (2006). The log of gravity. Review of Economics and
    Statistics 88(4), 641-658 (Poisson pseudo-ML for log-linear models with zeros).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["PoissonFit", "fit_poisson"]


@dataclass(frozen=True)
class PoissonFit:
    """Coefficients ``coef[series, column]``, their covariance ``cov[series, column, column]``,
    the Pearson dispersion and the number of used observations per series."""

    coef: np.ndarray
    cov: np.ndarray
    dispersion: np.ndarray
    n_obs: np.ndarray
    mean: np.ndarray  # fitted means, same shape as y

    def se(self, column: int) -> np.ndarray:
        return np.sqrt(np.maximum(self.cov[:, column, column], 0.0))


def fit_poisson(
    x: np.ndarray,
    y: np.ndarray,
    weight: np.ndarray,
    *,
    offset: np.ndarray | None = None,
    ridge: float = 1e-6,
    max_iter: int = 30,
    tol: float = 1e-5,
    init: np.ndarray | None = None,
) -> PoissonFit:
    """Fit ``log E[y] = offset + x @ beta`` per series.

    Args:
        x: design, shape (series, periods, columns); column 0 must be the intercept.
        y: counts (≥ 0), shape (series, periods); NaN where ``weight`` is 0.
        weight: 1 for used observations, 0 for missing or censored ones.
        offset: known log exposure, same shape as ``y`` (default 0).
        ridge: tiny penalty on every non-intercept column, so a column that is all zero for a
            series (a flag never set) gets coefficient 0 instead of a singular system.
        init: starting coefficients (series × columns), e.g. a nested model's fit.

    Returns:
        PoissonFit.
    """
    n, t, p = x.shape
    w = np.where(np.isfinite(y), weight, 0.0).astype(np.float64)
    yy = np.where(w > 0, np.nan_to_num(y), 0.0)
    off = np.zeros_like(yy) if offset is None else np.where(w > 0, offset, 0.0)
    pen = np.full(p, ridge)
    pen[0] = 0.0
    scale = np.maximum(w.sum(1), 1.0)
    beta = np.zeros((n, p))
    ybar = (yy * w).sum(1) / scale
    beta[:, 0] = np.log(ybar + 0.1) - (off * w).sum(1) / scale
    if init is not None:
        beta = np.where(np.isfinite(init), init, beta)
    eye = np.eye(p)[None] * pen[None, :, None]
    for _ in range(max_iter):
        eta = np.clip(np.matmul(x, beta[..., None])[..., 0] + off, -30, 30)
        mu = np.exp(eta)
        wm = w * mu
        z = eta - off + np.where(w > 0, (yy - mu) / np.maximum(mu, 1e-12), 0.0)
        xw = x * wm[..., None]
        a = np.matmul(xw.transpose(0, 2, 1), x) + eye * scale[:, None, None]
        b = np.einsum("ntp,nt->np", x, wm * z)
        new = np.linalg.solve(a, b[..., None])[..., 0]
        step = np.abs(new - beta).max()
        beta = new
        if step < tol:
            break
    eta = np.clip(np.matmul(x, beta[..., None])[..., 0] + off, -30, 30)
    mu = np.exp(eta)
    info = np.matmul((x * (w * mu)[..., None]).transpose(0, 2, 1), x) + eye * scale[:, None, None]
    inv = np.linalg.inv(info)
    n_obs = w.sum(1)
    pearson = (w * (yy - mu) ** 2 / np.maximum(mu, 1e-12)).sum(1)
    dof = np.maximum(n_obs - p, 1.0)
    phi = np.maximum(pearson / dof, 1.0)
    return PoissonFit(beta, inv * phi[:, None, None], phi, n_obs, mu)
