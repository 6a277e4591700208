"""Parameter recovery on data drawn from the BG/NBD process, and errors on invalid input.

The process (FHL 2005 §3) is simulated by luopan.engines.customers.simulate; with 50,000
customers and the CDNOW parameters the maximum-likelihood estimate must fall within three of
its own standard errors of the truth (the asymptotic normality of the MLE).
"""

from __future__ import annotations

import numpy as np
import pytest

from luopan.engines.customers.bg_nbd import BetaGeoModel, BgNbdParams
from luopan.engines.customers.simulate import simulate_bg_nbd
from luopan.errors import DataContractError, InsufficientDataError

TRUE = BgNbdParams(0.243, 4.414, 0.793, 2.426)


@pytest.mark.parametrize("seed", [1, 2])
def test_recovers_the_parameters_it_was_drawn_from(seed: int) -> None:
    x, t_x, T = simulate_bg_nbd(TRUE, 50_000, t_min=26, t_max=39, seed=seed)
    model = BetaGeoModel().fit(x, t_x, T)
    z = (model.params_.as_array() - TRUE.as_array()) / model.std_errors_.as_array()
    assert np.all(np.abs(z) < 3), z
    assert model.converged_ and model.dropout_identified_


def test_subsample_warm_start_reaches_the_same_maximum() -> None:
    x, t_x, T = simulate_bg_nbd(TRUE, 200_000, t_min=26, t_max=39, seed=3)
    warm = BetaGeoModel().fit(x, t_x, T)  # > 60,000 customers: subsample + Newton steps
    cold = BetaGeoModel()
    from luopan.engines.customers.bg_nbd_likelihood import _Data

    res = cold._minimise(_Data(x, t_x, T, np.ones_like(x)), np.zeros(4))
    assert np.allclose(warm.params_.as_array(), np.exp(res.x), rtol=1e-5)


def test_invalid_summary_names_the_row_and_the_fix() -> None:
    with pytest.raises(DataContractError, match="customer row 1") as err:
        BetaGeoModel().fit([0, 2], [0.0, 5.0], [3.0, 4.0])  # recency 5 > T 4
    assert err.value.fix is not None and "recency" in err.value.fix


def test_nobody_repeats_is_insufficient_data() -> None:
    with pytest.raises(InsufficientDataError):
        BetaGeoModel().fit([0, 0, 0], [0, 0, 0], [5.0, 6.0, 7.0])
