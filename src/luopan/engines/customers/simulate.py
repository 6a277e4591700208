"""Draw customer summaries from the BG/NBD process (for benchmarks and recovery tests).

Each customer has λ ~ Gamma(r, rate α) and p ~ Beta(a, b); repeat purchases arrive as a
Poisson process of rate λ from the first purchase at time 0, and after each repeat purchase
the customer drops out with probability p. Over an observation window T the number of repeat
purchases is x = min(K, N) with K ~ Geometric(p) the purchases until dropout and N ~
Poisson(λT) the arrivals; given N = n arrivals on [0, T], the x-th arrival time is T times a
Beta(x, n − x + 1) order statistic, which gives t_x without simulating each purchase.

References:
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting Your Customers" the Easy Way.
    Marketing Science 24(2), 275–284, §3 (the model's assumptions i–v).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from luopan.engines.customers.bg_nbd import BgNbdParams

__all__ = ["simulate_bg_nbd"]


def simulate_bg_nbd(
    params: BgNbdParams,
    n: int,
    *,
    t_min: float,
    t_max: float,
    seed: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """(frequency, recency, T) of ``n`` customers with T ~ Uniform(t_min, t_max)."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(params.r, 1.0 / params.alpha, n)
    p = rng.beta(params.a, params.b, n)
    T = rng.uniform(t_min, t_max, n)
    arrivals = rng.poisson(lam * T)
    until_dropout = rng.geometric(np.clip(p, 1e-12, 1.0))
    x = np.minimum(arrivals, until_dropout)
    t_x = np.zeros(n)
    rep = x > 0
    t_x[rep] = T[rep] * rng.beta(x[rep], arrivals[rep] - x[rep] + 1)
    return x.astype(float), t_x, T
