"""The health index's bincount scoring against the pandas group-bys it replaced (2026-12-01),
written out here as the reference formula: same customers, same components, same health."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from luopan.engines.customers.health import (
    PRIOR_ODDS,
    WEIGHTS,
    _Purchases,
    _rising,
    _score,
    health_by_segment,
)


def reference(data: _Purchases, cut: pd.Timestamp, window_days: int = 90) -> pd.DataFrame:
    days = data.purchases[data.purchases["day"] <= cut]
    g = days.groupby("customer")
    first, last = g["day"].min(), g["day"].max()
    x = (g.size() - 1).astype(float)
    recency = (cut - last).dt.days.astype(float)
    span = (last - first).dt.days.astype(float)
    repeat = x > 0
    g0 = float((span[repeat] / x[repeat]).median())
    gap = (span + g0) / (x + 1.0)
    c = 1.0 / PRIOR_ODDS
    out = pd.DataFrame(index=x.index)
    out["rhythm"] = (1.0 + c) / (1.0 + c * np.exp(np.minimum(recency / gap, 50.0)))
    out["loyalty"] = x / (x + 1.0)
    w = pd.Timedelta(days=window_days)
    now = days[days["day"] > cut - w].groupby("customer")
    before = days[(days["day"] > cut - 2 * w) & (days["day"] <= cut - w)].groupby("customer")
    n1 = now.size().reindex(out.index, fill_value=0).astype(float)
    n0 = before.size().reindex(out.index, fill_value=0).astype(float)
    s1 = now["amount"].sum().reindex(out.index, fill_value=0.0)
    s0 = before["amount"].sum().reindex(out.index, fill_value=0.0)
    trend = (_rising(n1, n0, 1.0) + _rising(s1, s0, g["amount"].mean().clip(lower=1e-9))) / 2
    out["trend"] = trend.where((cut - first).dt.days >= 2 * window_days, 1.0)
    assert data.complaint_codes is not None and data.complaint_days is not None
    cd = data.complaint_days
    known = data.complaint_codes[(cd > cut - w) & (cd <= cut)]
    k = pd.Series(known[known >= 0]).value_counts().reindex(out.index, fill_value=0)
    out["complaints"] = 1.0 / (1.0 + k)
    points = {n: out[n] for n in WEIGHTS} | {"loyalty": out["rhythm"] * out["loyalty"]}
    out["health"] = 100.0 * sum(points[n] * wt for n, wt in WEIGHTS.items()) / sum(WEIGHTS.values())
    out["expected_gap"] = gap
    return out


@pytest.fixture(scope="module")
def data() -> _Purchases:
    rng = np.random.default_rng(5)
    n = 40_000
    occasions = pd.DataFrame(
        {
            "customer": rng.integers(0, 3_000, n).astype(str),
            # times of day too: the index counts purchase days
            "day": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 700 * 24, n), unit="h"),
            "amount": np.round(rng.gamma(2.0, 30.0, n) * np.where(rng.random(n) < 0.05, -1, 1), 2),
        }
    )
    complaints = pd.DataFrame(
        {
            "customer": rng.integers(0, 3_200, 500).astype(str),  # some never bought
            "day": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 700, 500), "D"),
        }
    )
    return _Purchases.of(occasions.sample(frac=1.0, random_state=1), complaints)


@pytest.mark.parametrize("cut", ["2024-02-15", "2024-09-30", "2025-06-01", "2025-12-31"])
def test_bincount_scoring_equals_the_group_bys(data: _Purchases, cut: str) -> None:
    got = _score(data, pd.Timestamp(cut), window_days=90).customers
    want = reference(data, pd.Timestamp(cut))
    assert got.index.tolist() == want.index.tolist()
    assert len(got) > 1_000
    for column in ["rhythm", "loyalty", "trend", "complaints", "health", "expected_gap"]:
        np.testing.assert_allclose(got[column], want[column], rtol=1e-12, atol=1e-12)
    assert got["complaints"].lt(1).any()
    if pd.Timestamp(cut) >= pd.Timestamp("2024-07-01"):  # two 90-day windows of history
        assert got["trend"].lt(1).any()


def test_unsorted_purchase_days_are_sorted_before_scoring(data: _Purchases) -> None:
    shuffled = _Purchases(
        data.names,
        data.codes,
        data.days,
        data.purchases.sample(frac=1.0, random_state=2, ignore_index=True),
        data.complaint_codes,
        data.complaint_days,
    )
    cut = pd.Timestamp("2025-03-01")
    with pytest.raises(AssertionError):  # the scoring reads sorted runs: unsorted is wrong
        np.testing.assert_allclose(
            _score(shuffled, cut, window_days=90).customers["health"],
            reference(data, cut)["health"],
        )
    names = data.names.take(data.purchases["customer"].to_numpy())
    again = _Purchases.of(
        pd.DataFrame(
            {
                "customer": names,
                "day": data.purchases["day"].to_numpy(),
                "amount": data.purchases["amount"].to_numpy(),
            }
        ).sample(frac=1.0, random_state=3),
        None,
    )
    assert again.purchases["customer"].is_monotonic_increasing
    health = _score(again, cut, window_days=90).customers["health"]
    assert health.between(0, 100).all()


def test_segment_means_are_the_means_of_the_scores(data: _Purchases) -> None:
    names = data.names
    segment = pd.Series(np.where(np.arange(len(names)) % 2 == 0, "a", "b"), index=names)
    occasions = pd.DataFrame(
        {
            "customer": names.take(data.purchases["customer"].to_numpy()),
            "day": data.purchases["day"].to_numpy(),
            "amount": data.purchases["amount"].to_numpy(),
        }
    )
    cut = pd.Timestamp("2025-06-01")
    table = health_by_segment(occasions, segment, [cut], min_customers=30)
    scored = _score(_Purchases.of(occasions, None), cut, window_days=90).customers
    active = occasions[(occasions["day"] > cut - pd.Timedelta(days=90)) & (occasions["day"] <= cut)]
    mine = scored.set_axis(names.take(scored.index)).loc[sorted(set(active["customer"]))]
    want = mine["health"].groupby(segment.reindex(mine.index)).mean()
    assert table.set_index("segment")["health"].to_dict() == pytest.approx(want.to_dict())
