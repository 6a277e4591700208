"""The BG/NBD likelihood and its derivatives (the numerics behind :mod:`.bg_nbd`).

The mean negative log-likelihood of Fader, Hardie & Lee (2005), eq. 6, on log-parameters, with
its analytic gradient (the terms that depend only on the frequency x are computed once per
distinct x); a finite-difference Hessian of that gradient; and the Newton steps that finish a
subsample's L-BFGS fit on all the data. The input check is shared with Pareto/NBD.

References:
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting Your Customers" the Easy Way:
    An Alternative to the Pareto/NBD Model. Marketing Science 24(2), 275–284 (eq. 6).
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). Implementing the BG/NBD Model for
    Customer Base Analysis in Excel. brucehardie.com (the log-likelihood terms A1–A4).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from luopan.errors import DataContractError

Array = NDArray[np.float64]
_LOG_BOUND = 12.0  # parameters stay in [e^-12, e^12]


class _Data:
    """Arrays prepared once for repeated likelihood evaluations (repeat buyers first)."""

    def __init__(self, x: Array, t_x: Array, T: Array, weights: Array) -> None:
        order = np.concatenate([np.flatnonzero(x > 0), np.flatnonzero(x == 0)])
        x, t_x, T, weights = x[order], t_x[order], T[order], weights[order]
        self.n = float(weights.sum())
        xi = x.astype(np.int64)
        present = np.bincount(xi) > 0
        self.x_unique = np.flatnonzero(present).astype(float)
        inverse = (np.cumsum(present) - 1)[xi]
        self.count_x = np.bincount(inverse, weights=weights)
        self.T = T
        self.w = weights
        self.wx = weights * x
        self.n_r = int((x > 0).sum())
        self.inv_r = inverse[: self.n_r]
        self.x_r, self.t_r, self.w_r = x[: self.n_r], t_x[: self.n_r], weights[: self.n_r]
        self.nu = len(self.x_unique)


def _dot(u: Array, v: Array) -> float:
    # einsum avoids BLAS thread start-up, which dominates a dot of 1e6 on a busy machine
    return float(np.einsum("i,i->", u, v))


def _validate(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> tuple[Array, ...]:
    x = np.asarray(frequency, dtype=float)
    t_x = np.asarray(recency, dtype=float)
    tt = np.asarray(T, dtype=float)
    if not (x.shape == t_x.shape == tt.shape) or x.ndim != 1:
        raise DataContractError("frequency, recency and T must be 1-d arrays of one length")
    bad = (
        ~np.isfinite(x)
        | ~np.isfinite(t_x)
        | ~np.isfinite(tt)
        | (x < 0)
        | (x != np.round(x))
        | (t_x < 0)
        | (t_x > tt + 1e-9)
        | ((x == 0) & (t_x != 0))
    )
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataContractError(
            f"customer row {i}: frequency={x[i]}, recency={t_x[i]}, T={tt[i]} is not a valid "
            f"summary ({int(bad.sum())} rows like it)",
            fix="frequency must be a whole number >= 0, 0 <= recency <= T, recency 0 when "
            "frequency is 0; build the summary with summarize_transactions",
        )
    return x, t_x, tt


def _neg_ll_and_grad(theta: Array, d: _Data) -> tuple[float, Array]:
    """Negative mean log-likelihood and its gradient with respect to log-parameters."""
    r, alpha, a, b = np.exp(theta)
    xu, cu = d.x_unique, d.count_x
    # Terms that depend on x only: A1 + A2 of the paper's eq. (6), summed with counts.
    a1 = special.gammaln(r + xu) - special.gammaln(r) + r * np.log(alpha)
    a2 = (
        special.gammaln(a + b)
        + special.gammaln(b + xu)
        - special.gammaln(b)
        - special.gammaln(a + b + xu)
    )
    ll = cu @ (a1 + a2)
    g_r = cu @ (special.digamma(r + xu) - special.digamma(r) + np.log(alpha))
    g_alpha = d.n * r / alpha
    dab = special.digamma(a + b) - special.digamma(a + b + xu)
    g_a = cu @ dab
    g_b = cu @ (dab + special.digamma(b + xu) - special.digamma(b))
    # A3 = -(r + x) log(alpha + T), every customer.
    l_T = np.log(alpha + d.T)
    inv_T = 1.0 / (alpha + d.T)
    sum_l_T = _dot(d.w, l_T)
    ll -= r * sum_l_T + _dot(d.wx, l_T)
    g_r -= sum_l_T
    g_alpha -= r * _dot(d.w, inv_T) + _dot(d.wx, inv_T)
    # Repeat buyers add log(1 + exp(D)), D = A4 - A3 = log a/(b+x-1) + (r+x) log((α+T)/(α+t_x)).
    if d.n_r:
        rx = r + d.x_r
        gap = l_T[: d.n_r] - np.log(alpha + d.t_r)
        c = np.log(a) - np.log(b + xu - 1.0, where=xu > 0, out=np.zeros_like(xu))
        dd = c[d.inv_r] + rx * gap
        e = np.exp(-np.abs(dd))
        ll += _dot(d.w_r, np.maximum(dd, 0.0)) + _dot(d.w_r, np.log1p(e))
        half = 1.0 / (1.0 + e) - 0.5
        w4 = d.w_r * (0.5 + np.copysign(half, dd))  # w · expit(D), stable for any D
        g_r += _dot(w4, gap)
        g_alpha -= _dot(w4 * rx, 1.0 / (alpha + d.t_r) - inv_T[: d.n_r])
        g_a += w4.sum() / a
        w4u = np.bincount(d.inv_r, weights=w4, minlength=d.nu)
        g_b -= w4u[xu > 0] @ (1.0 / (b + xu[xu > 0] - 1.0))
    grad = np.array([g_r * r, g_alpha * alpha, g_a * a, g_b * b])
    return float(-ll / d.n), -grad / d.n


def _hessian(theta: Array, d: _Data, h: float = 1e-6) -> Array:
    """Hessian of the negative mean log-likelihood by forward differences of the gradient."""
    g0 = _neg_ll_and_grad(theta, d)[1]
    hess = np.empty((4, 4))
    for j in range(4):
        e = np.zeros(4)
        e[j] = h
        hess[j] = (_neg_ll_and_grad(theta + e, d)[1] - g0) / h
    return (hess + hess.T) / 2


def _newton(
    d: _Data, theta: Array, hess: Array, tol: float, max_iter: int = 30
) -> tuple[Array, float, Array, int]:
    """Newton steps with a fixed Hessian, halving a step that does not lower the objective."""
    value, grad = _neg_ll_and_grad(theta, d)
    for it in range(1, max_iter + 1):
        if np.max(np.abs(grad)) <= tol:
            return theta, value, grad, it - 1
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            break
        for _ in range(20):
            candidate = np.clip(theta - step, -_LOG_BOUND, _LOG_BOUND)
            new_value, new_grad = _neg_ll_and_grad(candidate, d)
            if np.isfinite(new_value) and new_value <= value + 1e-15 * abs(value):
                break
            step = step / 2
        else:
            break
        theta, value, grad = candidate, new_value, new_grad
    return theta, value, grad, max_iter
