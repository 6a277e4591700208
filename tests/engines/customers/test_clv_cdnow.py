"""BG/NBD and Gamma-Gamma against Fader, Hardie & Lee (2005) on the CDNOW 2,357-customer sample.

Published: BG/NBD r 0.243, α 4.414, a 0.793, b 2.426, LL −9582.4 (Marketing Science 24(2),
Table/§5); Gamma-Gamma p 6.25, q 3.74, γ 15.44 on 946 repeat buyers (JMR 42(4); Fader & Hardie
2013 note 025). lifetimes 0.11.3 on the same data (measured, /work/shared/reference/customers.md):
r 0.24259, α 4.41360, a 0.79292, b 2.42591, LL −9582.429; GG 6.24957, 3.74422, 15.44352,
LL −4055.918; holdout Σ E[Y(39)] 1,653.4 against 1,882 actual; bucket means below.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from luopan.engines.customers.bg_nbd import BetaGeoModel, BgNbdParams, bg_nbd_log_likelihood
from luopan.engines.customers.gamma_gamma import GammaGammaModel, customer_lifetime_value
from luopan.engines.customers.holdout import holdout_report
from luopan.engines.customers.summary import CustomerSummary


def sig3(v: float) -> float:
    return float(f"{v:.3g}")


@pytest.fixture(scope="module")
def bg(cdnow: CustomerSummary) -> BetaGeoModel:
    return BetaGeoModel().fit(cdnow.frequency, cdnow.recency, cdnow.T)


@pytest.fixture(scope="module")
def gg(cdnow: CustomerSummary) -> GammaGammaModel:
    return GammaGammaModel().fit(cdnow.frequency, cdnow.monetary)


def test_summary_matches_the_paper(cdnow: CustomerSummary) -> None:
    table = cdnow.table
    assert len(table) == 2357
    assert table["frequency"].sum() == 2457  # same-day purchases merged
    assert (table["frequency"] > 0).sum() == 946
    assert table["holdout_frequency"].sum() == 1882
    assert table["T"].max() == pytest.approx(38.857, abs=1e-3)  # 272 days in weeks


def test_bg_nbd_reproduces_the_paper(bg: BetaGeoModel) -> None:
    p = bg.params_
    assert (sig3(p.r), sig3(p.alpha), sig3(p.a), sig3(p.b)) == (
        sig3(0.243),
        sig3(4.414),
        sig3(0.793),
        sig3(2.426),
    )
    assert bg.log_likelihood_ == pytest.approx(-9582.4, abs=0.05)
    assert bg.converged_


def test_bg_nbd_matches_lifetimes_at_1e_4(bg: BetaGeoModel) -> None:
    reference = np.array([0.24259, 4.41360, 0.79292, 2.42591])
    assert np.allclose(bg.params_.as_array(), reference, rtol=1e-4)
    assert bg.log_likelihood_ == pytest.approx(-9582.429, abs=1e-3)
    # lifetimes' delta-method standard errors: r 0.0126, α 0.378, a 0.186, b 0.705
    se = bg.std_errors_
    assert (round(se.r, 4), round(se.alpha, 3), round(se.a, 3), round(se.b, 3)) == (
        0.0126,
        0.378,
        0.186,
        0.705,
    )


def test_log_likelihood_function_agrees_with_the_fit(
    bg: BetaGeoModel, cdnow: CustomerSummary
) -> None:
    ll = bg_nbd_log_likelihood(bg.params_, cdnow.frequency, cdnow.recency, cdnow.T)
    assert ll == pytest.approx(bg.log_likelihood_, rel=1e-12)
    published = BgNbdParams(0.243, 4.414, 0.793, 2.426)
    assert bg_nbd_log_likelihood(published, cdnow.frequency, cdnow.recency, cdnow.T) < ll


def test_gamma_gamma_reproduces_the_paper(gg: GammaGammaModel) -> None:
    p = gg.params_
    assert (sig3(p.p), sig3(p.q), sig3(p.gamma)) == (6.25, 3.74, sig3(15.44))
    assert np.allclose([p.p, p.q, p.gamma], [6.24957, 3.74422, 15.44352], rtol=1e-4)
    assert gg.log_likelihood_ == pytest.approx(-4055.918, abs=1e-3)
    assert gg.n_customers_ == 946
    assert gg.n_excluded_ == 0


def test_holdout_report_by_frequency(bg: BetaGeoModel, cdnow: CustomerSummary) -> None:
    table = cdnow.table
    report = holdout_report(
        bg,
        cdnow.frequency,
        cdnow.recency,
        cdnow.T,
        table["holdout_frequency"],
        holdout_length=39,
    )
    assert report.actual_total == 1882
    assert report.predicted_total == pytest.approx(1653.4, abs=0.1)
    expected = {  # x: (n, actual, BG/NBD)
        "0": (1411, 0.237, 0.225),
        "1": (439, 0.697, 0.523),
        "2": (214, 1.393, 1.044),
        "3": (100, 1.560, 1.520),
        "4": (62, 2.532, 2.164),
        "5": (38, 2.947, 2.654),
        "6": (29, 3.862, 3.504),
        "7+": (64, 6.359, 6.157),
    }
    got = {
        b.frequency: (b.customers, round(b.actual_mean, 3), round(b.predicted_mean, 3))
        for b in report.buckets
    }
    assert got == expected


def test_spend_and_clv_on_cdnow(
    bg: BetaGeoModel, gg: GammaGammaModel, cdnow: CustomerSummary
) -> None:
    s = cdnow
    spend = gg.expected_spend(s.frequency, s.monetary)
    holdout_value = bg.expected_purchases(39, s.frequency, s.recency, s.T) * spend
    assert holdout_value.sum() == pytest.approx(59_932, abs=1)  # survey: 59,932 vs 70,976
    assert s.table["holdout_monetary"].sum() == pytest.approx(70_976.39, abs=0.01)
    # undiscounted CLV over the holdout in one step equals E[Y(39)] × E[M]
    clv = customer_lifetime_value(
        bg, gg, s.frequency, s.recency, s.T, s.monetary, horizon=39, step=39, discount_rate=0
    )
    assert np.allclose(clv, holdout_value)
    # discounting lowers every value, more for the high-value customers
    discounted = customer_lifetime_value(
        bg,
        gg,
        s.frequency,
        s.recency,
        s.T,
        s.monetary,
        horizon=39,
        step=13,
        discount_rate=0.05,
    )
    assert np.all(discounted <= clv + 1e-9)
    assert discounted.sum() / clv.sum() == pytest.approx(
        sum(1 / 1.05**k for k in (1, 2, 3)) / 3, rel=0.02
    )
    assert math.isclose(gg.params_.population_mean, 6.24957 * 15.44352 / 2.74422, rel_tol=1e-4)
