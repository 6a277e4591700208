"""Pareto/NBD: Poisson purchases with an exponential lifetime, by maximum likelihood.

Purchase rate λ ~ Gamma(r, α), dropout rate μ ~ Gamma(s, β); a customer may drop out at any
time (not only after a purchase, as in BG/NBD). The likelihood needs the Gauss hypergeometric
function; it is evaluated in log space (the difference of the two ₂F₁ terms as t1 +
log(1 − e^(t2−t1))) and maximised on the log scale with L-BFGS and central-difference
gradients, which are well conditioned there. Written here for the reasons given in
``bg_nbd``; kept as the classic alternative to BG/NBD.

References:
    Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987). Counting your customers: who are
    they and what will they do next? Management Science 33(1), 1–24.
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). A note on deriving the Pareto/NBD model
    and related expressions. brucehardie.com (the likelihood with A0 for α ≥ β and α < β,
    P(alive), conditional expectation); CDNOW estimates r 0.553, α 10.578, s 0.606, β 11.669,
    LL −9595.0 (Fader, Hardie & Lee 2005, Marketing Science 24(2)) used in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special

from luopan.engines.customers.bg_nbd_likelihood import _validate
from luopan.errors import EngineError, InsufficientDataError

__all__ = ["ParetoNbdModel", "ParetoNbdParams"]

Array = NDArray[np.float64]


@dataclass(frozen=True)
class ParetoNbdParams:
    """Fitted Pareto/NBD parameters: λ ~ Gamma(r, α), μ ~ Gamma(s, β)."""

    r: float
    alpha: float
    s: float
    beta: float

    def as_array(self) -> Array:
        return np.array([self.r, self.alpha, self.s, self.beta])


def _log_a0(r: float, alpha: float, s: float, beta: float, x: Array, t_x: Array, T: Array) -> Array:
    """log A0 of the likelihood (FHL note), in the branch that keeps ₂F₁'s z in [0, 1)."""
    rsx = r + s + x
    b: Array | float
    if alpha >= beta:
        b, big = s + 1.0, alpha
        z1, z2 = (alpha - beta) / (alpha + t_x), (alpha - beta) / (alpha + T)
    else:
        b, big = r + x, beta
        z1, z2 = (beta - alpha) / (beta + t_x), (beta - alpha) / (beta + T)
    t1 = np.log(special.hyp2f1(rsx, b, rsx + 1.0, z1)) - rsx * np.log(big + t_x)
    t2 = np.log(special.hyp2f1(rsx, b, rsx + 1.0, z2)) - rsx * np.log(big + T)
    with np.errstate(divide="ignore"):
        return t1 + np.log1p(-np.exp(np.minimum(t2 - t1, 0.0)))


def _log_likelihood(theta: Array, x: Array, t_x: Array, T: Array) -> Array:
    r, alpha, s, beta = np.exp(theta)
    head = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    dropped = np.log(s / (r + s + x)) + _log_a0(r, alpha, s, beta, x, t_x, T)
    return head + np.logaddexp(alive, dropped)


class ParetoNbdModel:
    """Pareto/NBD fitted by maximum likelihood (scikit-learn contract).

    Learned attributes: ``params_``, ``log_likelihood_``, ``converged_``, ``n_iter_``.
    """

    def __init__(self, *, max_iter: int = 1000) -> None:
        self.max_iter = max_iter

    def fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        *,
        init: ParetoNbdParams | None = None,
    ) -> ParetoNbdModel:
        """Fit on per-customer frequency, recency and age.

        Customers with the same (x, t_x, T) share one likelihood term, weighted by their count
        (one-time buyers of the same age collapse to one row). ``init`` starts the optimiser
        from earlier estimates, e.g. last week's fit when fitting week after week; the optimum
        is the same, reached in fewer steps.

        Raises:
            InsufficientDataError: nobody repeats.
            EngineError: the optimiser fails.
        """
        x, t_x, tt = _validate(frequency, recency, T)
        if not (x > 0).any():
            raise InsufficientDataError("Pareto/NBD needs repeat purchases")
        n = len(x)
        unique, counts = np.unique(np.column_stack([x, t_x, tt]), axis=0, return_counts=True)
        ux, ut, uT = unique[:, 0], unique[:, 1], unique[:, 2]
        w = counts.astype(float)

        def objective(theta: Array) -> float:
            value = -float(np.dot(w, _log_likelihood(theta, ux, ut, uT))) / n
            return value if np.isfinite(value) else 1e10

        start = np.zeros(4) if init is None else np.log(np.clip(init.as_array(), 1e-4, 1e4))
        res = optimize.minimize(
            objective,
            start,
            method="L-BFGS-B",
            jac="3-point",
            bounds=[(-10.0, 10.0)] * 4,
            options={"maxiter": self.max_iter, "ftol": 1e-14, "gtol": 1e-9},
        )
        if not np.all(np.isfinite(res.x)) or res.fun >= 1e10:
            raise EngineError(f"Pareto/NBD fit failed: {res.message}")
        self.params_ = ParetoNbdParams(*np.exp(res.x).tolist())
        self.log_likelihood_ = -float(res.fun) * n
        self.converged_ = bool(res.success)
        self.n_iter_ = int(res.nit)
        return self

    def _p(self) -> tuple[float, float, float, float]:
        if not hasattr(self, "params_"):
            raise EngineError("the model is not fitted", fix="call fit(...) first")
        p = self.params_
        return p.r, p.alpha, p.s, p.beta

    def probability_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> Array:
        """P(alive at T) = 1 / (1 + s/(r+s+x) (α+T)^(r+x) (β+T)^s A0)."""
        r, alpha, s, beta = self._p()
        x, t_x, tt = _validate(frequency, recency, T)
        log_ratio = (
            np.log(s / (r + s + x))
            + (r + x) * np.log(alpha + tt)
            + s * np.log(beta + tt)
            + _log_a0(r, alpha, s, beta, x, t_x, tt)
        )
        return special.expit(-log_ratio)

    def expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> Array:
        """E[Y(t) | x, t_x, T] = (r+x)(β+T) / ((α+T)(s−1)) [1 − ((β+T)/(β+T+t))^(s−1)] P(alive)."""
        r, alpha, s, beta = self._p()
        x, t_x, tt = _validate(frequency, recency, T)
        horizon = np.asarray(t, dtype=float)
        rate = (r + x) * (beta + tt) / ((alpha + tt) * (s - 1.0))
        bracket = 1.0 - ((beta + tt) / (beta + tt + horizon)) ** (s - 1.0)
        return rate * bracket * self.probability_alive(x, t_x, tt)
