"""Crisis levels from the versioned score: one synthetic case per level, and quiet streams."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from luopan.engines.listening import CrisisRules, grade, watch
from luopan.errors import DataContractError

START = pd.Timestamp("2026-03-01")


def _stream(burst: list[tuple[int, str, str, int, int]]) -> tuple[pd.DataFrame, np.ndarray]:
    """30 quiet days (one neutral and one plain negative mention a day) plus a burst on day 30.

    burst rows: (minute after 10:00 of day 30, platform, text, followers, engagement)
    """
    rows = []
    for d in range(30):
        day = START + pd.Timedelta(days=d)
        rows.append((day + pd.Timedelta(hours=11), "微博", "排队有点久", 100, 5, True))
        rows.append((day + pd.Timedelta(hours=15), "抖音", "还不错", 100, 5, False))
    t0 = START + pd.Timedelta(days=30, hours=10)
    for minute, plat, text, fol, eng in burst:
        rows.append((t0 + pd.Timedelta(minutes=minute), plat, text, fol, eng, True))
    df = pd.DataFrame(
        rows, columns=["published_at", "platform", "text", "author_followers", "likes", "_neg"]
    )
    return df.drop(columns="_neg"), df["_neg"].to_numpy()


def _level(burst: list[tuple[int, str, str, int, int]]) -> list[int]:
    df, neg = _stream(burst)
    return [i.level for i in watch(df, neg)]


def test_quiet_stream_has_no_incident() -> None:
    assert _level([]) == []


def test_level_3_single_sensitive_post() -> None:
    # sentiment 1 + watchlist 2 (food safety, regulator) = 3
    assert _level([(1, "微博", "买的肉变质了，打12315", 100, 5)]) == [3]


def test_level_2_single_sensitive_post_already_spreading() -> None:
    # sentiment 1 + reach 1 (engagement 300 ≥ 10× the usual 5) + watchlist 2 = 4 → level 2
    assert _level([(1, "微博", "买的肉变质了，打12315", 100, 300)]) == [2]
    # the same post by a mid-tier author (≥ 100k followers) with ordinary engagement
    assert _level([(1, "微博", "买的肉变质了，打12315", 150_000, 5)]) == [2]


def test_level_2_multi_platform_sensitive_burst() -> None:
    burst = [
        (m, p, "鸡蛋发霉了，吃完拉肚子", 200, 100)
        for m, p in zip(range(0, 20, 2), ["微博", "抖音", "小红书"] * 4, strict=False)
    ]
    # volume 1 (10 vs ≥5x) + sentiment 2 + reach 1 + spread 1 + watchlist 2 = 7 → level 2
    assert _level(burst) == [2]


def test_level_1_kol_and_volume() -> None:
    plats = ["微博", "抖音", "小红书", "大众点评"]
    burst = [
        (m // 2, plats[m % 4], "门店员工辱骂顾客，已报警", 5_000_000 if m == 0 else 300, 50)
        for m in range(30)
    ]
    # volume 2 + sentiment 2 + reach 2 + spread 2 + watchlist 2 = 10 → level 1
    assert _level(burst) == [1]


def test_volume_without_watchlist_needs_poisson_tail() -> None:
    burst = [(m, "微博", "排队太久了", 100, 5) for m in range(12)]
    # volume 1 (12 vs floor 1: ≥5x) + sentiment 2 = 3; triggered by the Poisson tail alone
    assert _level(burst) == [3]
    assert _level(burst[:2]) == []  # two grumbles are not a crisis


def test_scattered_daytime_grumbles_are_no_crisis() -> None:
    """Mentions only by day: 16 negatives a day between 08:00 and 24:00 for 30 days, then five
    in one half-hour, one per platform (the default demo world's false alarms of /2)."""
    rng = np.random.default_rng(3)
    plats = ["微博", "抖音", "小红书", "大众点评"]
    rows = []
    for d in range(30):
        for minute in np.sort(rng.integers(8 * 60, 24 * 60, 16)):
            day = START + pd.Timedelta(days=d, minutes=int(minute))
            rows.append((day, plats[int(rng.integers(0, 4))], "排队有点久", 100, 5))
    t0 = START + pd.Timedelta(days=30, hours=18)
    rows += [
        (t0 + pd.Timedelta(minutes=4 * k), plats[k % 4], "排队太久了", 100, 5) for k in range(5)
    ]
    df = pd.DataFrame(
        rows, columns=["published_at", "platform", "text", "author_followers", "likes"]
    )
    neg = np.ones(len(df), bool)
    assert watch(df, neg) == []
    # /2's reading: the flat 24-hour rate and every platform counted
    old = CrisisRules(version="crisis-score/2", clock_band_min=0, platform_min_negative=1)
    assert [i.level for i in watch(df, neg, rules=old)] == [2]


def test_grade_table_is_versioned() -> None:
    r = CrisisRules()
    assert r.version == "crisis-score/3"
    assert grade({"a": 8}) == 1 and grade({"a": 4}) == 2 and grade({"a": 3}) == 3
    assert grade({"a": 7}) == 2
    assert grade({"a": 2}) is None


def test_missing_column() -> None:
    with pytest.raises(DataContractError, match="published_at"):
        watch(pd.DataFrame({"text": ["x"]}), np.array([True]))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 2), min_size=5, max_size=5),
    st.lists(st.integers(0, 2), min_size=5, max_size=5),
)
def test_more_points_never_lower_the_level(a: list[int], extra: list[int]) -> None:
    keys = ("volume", "sentiment", "reach", "spread", "watchlist")
    low = dict(zip(keys, a, strict=True))
    high = {k: min(2, low[k] + e) for k, e in zip(keys, extra, strict=True)}
    lo, hi = grade(low), grade(high)
    assert lo is None or (hi is not None and hi <= lo)  # 1 is the most severe


def test_clock_baseline_counts_the_same_time_of_day() -> None:
    from luopan.engines.listening.crisis import _ClockBaseline

    r = CrisisRules()  # 30-min window, ±60 min band: 150 minutes of each past day
    noon = np.array([START + pd.Timedelta(days=d, hours=12) for d in range(10)], "datetime64[ns]")
    clock = _ClockBaseline(noon, r)
    at = (START + pd.Timedelta(days=10, hours=12, minutes=20)).to_datetime64()
    assert clock.expected(at, 10) == pytest.approx(1 * 30 / 150)  # one a day in the band
    late = (START + pd.Timedelta(days=10, hours=16)).to_datetime64()
    assert clock.expected(late, 10) == 0.0  # nothing at that hour
    assert clock.expected(at, 5) == pytest.approx(30 / 150)  # the last 5 days only
    # a band across midnight: 23:50 each day, a window ending at 00:10
    night = np.array(
        [START + pd.Timedelta(days=d, hours=23, minutes=50) for d in range(10)], "datetime64[ns]"
    )
    after = (START + pd.Timedelta(days=10, minutes=10)).to_datetime64()
    assert _ClockBaseline(night, r).expected(after, 10) == pytest.approx(30 / 150)
