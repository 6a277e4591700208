"""Invariants of the BG/NBD and Gamma-Gamma predictions, for any parameters and customer.

Reference identities: E[Y(t)] for x = 0, t_x = 0, T = 0 equals the unconditional E[X(t)]
(FHL 2005 eqs. 7 and 10 coincide for a customer just acquired); P(alive) = 1 for x = 0.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from luopan.engines.customers.bg_nbd import BetaGeoModel, BgNbdParams
from luopan.engines.customers.gamma_gamma import (
    GammaGammaModel,
    GammaGammaParams,
    customer_lifetime_value,
)

params = st.builds(
    BgNbdParams,
    r=st.floats(0.05, 5.0),
    alpha=st.floats(0.1, 50.0),
    a=st.floats(0.05, 5.0),
    b=st.floats(0.05, 10.0),
)
customers = st.lists(
    st.tuples(st.integers(0, 60), st.floats(0.0, 1.0), st.floats(0.1, 200.0)),
    min_size=1,
    max_size=20,
)


def arrays(rows: list[tuple[int, float, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.array([r[0] for r in rows], dtype=float)
    T = np.array([r[2] for r in rows])
    t_x = np.where(x > 0, np.array([r[1] for r in rows]) * T, 0.0)
    return x, t_x, T


@settings(max_examples=150, deadline=None)
@given(params, customers)
def test_probability_alive_is_a_probability(p: BgNbdParams, rows) -> None:
    x, t_x, T = arrays(rows)
    alive = BetaGeoModel.from_params(p).probability_alive(x, t_x, T)
    assert np.all((alive >= 0) & (alive <= 1))
    assert np.all(alive[x == 0] == 1)


@settings(max_examples=150, deadline=None)
@given(params, customers, st.floats(0.5, 100.0), st.floats(0.5, 100.0))
def test_expected_purchases_non_decreasing_in_horizon(
    p: BgNbdParams, rows, h1: float, h2: float
) -> None:
    x, t_x, T = arrays(rows)
    model = BetaGeoModel.from_params(p)
    short, long = sorted((h1, h2))
    e_short = model.expected_purchases(short, x, t_x, T)
    e_long = model.expected_purchases(long, x, t_x, T)
    assert np.all(np.isfinite(e_short)) and np.all(e_short >= 0)
    assert np.all(e_long >= e_short - 1e-9 * (1 + e_short))
    silent_short = model.probability_no_purchase(short, x, t_x, T)
    silent_long = model.probability_no_purchase(long, x, t_x, T)
    assert np.all((silent_long >= 0) & (silent_short <= 1))
    assert np.all(silent_long <= silent_short + 1e-12)


@settings(max_examples=60, deadline=None)
@given(params, st.floats(0.5, 100.0))
def test_new_customer_identity(p: BgNbdParams, t: float) -> None:
    model = BetaGeoModel.from_params(p)
    conditional = model.expected_purchases(t, [0.0], [0.0], [0.0])[0]
    assert np.isclose(conditional, float(model.expected_purchases_new(t)), rtol=1e-7)


@settings(max_examples=60, deadline=None)
@given(
    params,
    customers,
    st.floats(1.0, 10.0),
    st.floats(1.05, 10.0),
    st.floats(0.1, 100.0),
    st.floats(0.0, 0.2),
)
def test_clv_is_non_negative(
    p: BgNbdParams, rows, gp: float, gq: float, gg: float, discount: float
) -> None:
    x, t_x, T = arrays(rows)
    monetary = np.where(x > 0, np.linspace(-5.0, 50.0, len(x)), np.nan)  # some <= 0 on purpose
    spend = GammaGammaModel.from_params(GammaGammaParams(gp, gq, gg))
    clv = customer_lifetime_value(
        BetaGeoModel.from_params(p),
        spend,
        x,
        t_x,
        T,
        monetary,
        horizon=52.0,
        step=4.0,
        discount_rate=discount,
    )
    assert np.all(np.isfinite(clv)) and np.all(clv >= 0)
    assert np.all(spend.expected_spend(x, monetary) > 0)
