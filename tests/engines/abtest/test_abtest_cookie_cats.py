"""The real Cookie Cats test (90,189 players), from the raw CSV to the reference numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from luopan.engines.abtest import (
    MeanStats,
    QuantileStats,
    analyze,
    compare,
    confidence_sequence,
    robustness,
    stats_from_frame,
    winsorize,
)


@pytest.fixture(scope="module")
def cats(shared_data: Path) -> pd.DataFrame:
    return pd.read_csv(shared_data / "experiments" / "cookie_cats.csv", dtype={"userid": str})


def test_retention_7_negative_and_srm_at_001(cats: pd.DataFrame, ref: dict[str, Any]) -> None:
    case = ref["cookie_cats_real"]
    arms = stats_from_frame(
        cats, unit_col="userid", variant_col="version", metric_col="retention_7"
    )
    assert (arms["gate_30"].n, arms["gate_40"].n) == (44_700, 45_489)
    res = analyze(arms, control="gate_30", expected_split=[0.5, 0.5], srm_threshold=0.01)
    v = res.variants[0]
    g = case["retention_7"]["gbstats"]["frequentist_relative"]
    assert v.estimate == pytest.approx(g["estimate"], abs=1e-9)  # -4.31%
    assert v.ci_high < 0 and v.significant
    assert v.ci_low == pytest.approx(g["ci"][0], abs=1e-6)
    assert v.p_value == pytest.approx(g["p_value"], abs=1e-6)
    assert res.srm.p_value == pytest.approx(case["srm_p_value"], abs=1e-9)
    assert res.srm.flagged  # at 0.01
    assert not analyze(arms, control="gate_30", srm_threshold=0.001).srm.flagged
    bayes = case["retention_7"]["gbstats"]["bayesian_relative_flat_prior"]
    assert v.chance_to_win == pytest.approx(bayes["chance_to_win"], abs=1e-6)
    assert v.risk_treatment == pytest.approx(bayes["risk_choose_treatment"], abs=1e-6)


def test_retention_sequential(cats: pd.DataFrame, ref: dict[str, Any]) -> None:
    r7 = ref["cookie_cats_real"]["retention_7"]["gbstats"]
    arms = stats_from_frame(
        cats, unit_col="userid", variant_col="version", metric_col="retention_7"
    )
    a, b = arms["gate_30"], arms["gate_40"]
    seq = confidence_sequence(a, b)
    assert seq.p_value == pytest.approx(r7["sequential_relative_default"]["p_value"], abs=1e-6)
    tuned = confidence_sequence(a, b, n_star=90_189)
    assert tuned.ci_high == pytest.approx(r7["sequential_relative_N_star_90189"]["ci"][1], abs=1e-6)
    assert tuned.significant and not seq.significant  # N* tuned to the horizon pays off
    r1 = ref["cookie_cats_real"]["retention_1"]["gbstats"]["frequentist_relative"]
    arms1 = stats_from_frame(
        cats, unit_col="userid", variant_col="version", metric_col="retention_1"
    )
    e1 = compare(arms1["gate_30"], arms1["gate_40"])
    assert e1.p_value == pytest.approx(r1["p_value"], abs=1e-6) and not e1.significant


def test_gamerounds_heavy_tail(cats: pd.DataFrame, ref: dict[str, Any]) -> None:
    g = ref["cookie_cats_real"]["sum_gamerounds"]
    a = cats.loc[cats.version == "gate_30", "sum_gamerounds"].to_numpy()
    b = cats.loc[cats.version == "gate_40", "sum_gamerounds"].to_numpy()
    raw = compare(MeanStats.from_values(a), MeanStats.from_values(b))
    assert raw.p_value == pytest.approx(g["gbstats"]["frequentist_relative"]["p_value"], abs=1e-6)
    (ca, cb), (lo, hi) = winsorize(a, b, upper=0.99)
    assert lo is None and hi == g["gbstats"]["capped_99pct_pooled"]["cap_value"]
    capped = compare(MeanStats.from_values(ca), MeanStats.from_values(cb))
    ref_cap = g["gbstats"]["capped_99pct_pooled"]["frequentist_relative"]
    assert capped.estimate == pytest.approx(ref_cap["estimate"], abs=1e-6)
    assert capped.p_value == pytest.approx(ref_cap["p_value"], abs=1e-6)
    (la, _), (low_cap, _) = winsorize(a, b, lower=0.01, upper=None)
    assert low_cap == float(pd.Series(list(a) + list(b)).quantile(0.01)) and la.min() >= low_cap
    for nu, key in ((0.5, "quantile_p50_unit"), (0.9, "quantile_p90_unit")):
        e = compare(
            QuantileStats.from_values(a, nu), QuantileStats.from_values(b, nu), relative=False
        )
        r = g["gbstats"][key]
        assert e.estimate == r["estimate"]
        assert e.se == pytest.approx(r["se"], abs=1e-6)
        assert e.p_value == pytest.approx(r["p_value"], abs=1e-6)
    rb = robustness(a, b, alpha=0.1)
    sm = g["statsmodels_scipy"]
    assert rb.welch_p == pytest.approx(sm["welch_p_value"], abs=1e-6)
    assert rb.rank_p == pytest.approx(sm["mann_whitney_u_p_value"], abs=1e-6)
    assert rb.disagree  # at 10%: the median moved (17 → 16) while the mean test sees nothing
    assert not robustness(a, b, alpha=0.05).disagree
