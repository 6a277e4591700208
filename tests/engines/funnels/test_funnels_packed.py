"""The packed-key sort (``packed``) gives exactly the window plan's funnel.

``funnel`` takes it on DuckDB for ordered funnels without exclusions or breakdown when the
events hold ingest's dense user number (``_user_no``). Every case here runs the funnel on
numbered events and again with the window plan forced, and the tables must be equal; each
also checks which plan ran (the packed one, or the list fold it falls back to: NULL times or
users, times finer than the packing unit, keys that cannot fit in 63 bits).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import ibis
import numpy as np
import pandas as pd
import pytest
from funnels_refs import DAY, STEPS, assert_matches_ref, funnel_ref
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_funnels_fold import COLUMNS, many_users

from luopan.engines.funnels import funnel, parse_window
from luopan.engines.funnels import packed as PACKED
from luopan.engines.funnels.packed import USER_NO, Packing, fold_sorted, packing, slices

pytestmark = pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated")
FUNNEL = importlib.import_module("luopan.engines.funnels.funnel")


def numbered(events, spread: int = 1):
    """The events with a dense user number per user_id, as ingest stores it (NULL for a NULL
    user); ``spread`` multiplies the numbers (gaps: more user bits in the keys)."""
    con = events._find_backend()
    name = events.get_name().split(".")[-1]
    con.raw_sql(
        f'CREATE OR REPLACE TABLE "{name}_numbered" AS SELECT *, CAST((CASE WHEN user_id IS '
        f"NOT NULL THEN dense_rank() OVER (ORDER BY user_id) - 1 END) * {int(spread)} AS "
        f'BIGINT) AS {USER_NO} FROM "{name}"'
    )
    return con.table(f"{name}_numbered")


@contextmanager
def plans() -> Iterator[list[PACKED.PackedPaths | None]]:
    """Record what ``packed_paths`` returned in each funnel call (None: it fell back)."""
    seen: list[PACKED.PackedPaths | None] = []
    real = PACKED.packed_paths

    def spy(*a, **kw):
        out = real(*a, **kw)
        seen.append(out)
        return out

    with mock.patch.object(FUNNEL, "packed_paths", spy):
        yield seen


def assert_same(events, steps=STEPS, *, packed: bool = True, **kw):
    """The funnel of ``events`` equals the window plan's; ``packed``: whether the packed plan
    must have run (else it must have fallen back). Returns the packing used (or None)."""
    with plans() as seen:
        a = funnel(events, steps, **kw)
    # the window plan: neither the packed keys nor the list fold apply
    with (
        mock.patch.object(FUNNEL, "fold_applies", return_value=False),
        mock.patch.object(PACKED, "fold_applies", return_value=False),
        plans() as window,
    ):
        b = funnel(events, steps, **kw)
    assert window == [None]
    pd.testing.assert_frame_equal(a.steps, b.steps)
    pd.testing.assert_frame_equal(a.time_to_convert, b.time_to_convert)
    assert len(seen) == 1 and (seen[0] is not None) == packed
    return seen[0].packing if seen[0] is not None else None


@pytest.fixture()
def hand(hand_events, duck):
    return numbered(duck(hand_events))


@pytest.mark.parametrize("window", [14 * DAY - 1, "14d", 14 * DAY + 1, "1h", "3d", "60d"])
def test_hand_table_same_as_window_plan_and_reference(hand, hand_events, window) -> None:
    assert_same(hand, window=window, by="channel")
    p = assert_same(hand, window=window)
    assert p is not None and p.unit == 1  # few users: microseconds fit
    result = funnel(hand, STEPS, window=window)
    assert_matches_ref(result, funnel_ref(hand_events, STEPS, parse_window(window)), STEPS)
    if window == "14d":  # u1 pays exactly at the 14-day edge, u2 one second after it
        assert result.steps["users"].tolist() == [7, 5, 5, 3]


def test_entered_period(hand) -> None:
    assert_same(hand, entered=("2025-03-05", "2025-05-01"))
    got = funnel(hand, STEPS, entered=("2025-03-05", "2025-05-01"))
    assert got.steps["users"].tolist()[0] == 4  # u3, u4, u5 and u8 enter in the period


def test_missing_times_or_users_fall_back(hand_events, duck) -> None:
    no_time = pd.DataFrame([("x1", "u9", pd.NaT, "view", "jd")], columns=COLUMNS)
    no_user = pd.DataFrame(
        [("x2", None, pd.Timestamp("2025-03-01 10:00:00"), "view", "b")], columns=COLUMNS
    )
    # an entry without a time enters no path; a NULL user is one user (as the window plan)
    for extra, entered in ((no_time, 7), (no_user, 8)):
        events = numbered(duck(pd.concat([hand_events, extra], ignore_index=True)))
        assert_same(events, packed=False)  # the list fold, as before the numbers
        assert funnel(events, STEPS).steps["users"].tolist() == [entered, 5, 5, 3]


def test_negative_user_numbers_fall_back(hand_events, duck) -> None:
    events = numbered(duck(hand_events), spread=-1)  # 0, -1, -2, ...: not ingest's numbers
    assert_same(events, packed=False)
    assert funnel(events, STEPS).steps["users"].tolist() == [7, 5, 5, 3]


def test_microsecond_ties_and_order(hand_events, duck) -> None:
    """Steps one microsecond apart, out of order and at the same instant."""
    extra = pd.DataFrame(
        [
            ("x5", "u10", pd.Timestamp("2025-03-01 10:00:00.000002"), "view", "b"),
            ("x6", "u10", pd.Timestamp("2025-03-01 10:00:00.000001"), "add_to_cart", "b"),
            ("x7", "u11", pd.Timestamp("2025-03-01 10:00:00.000001"), "add_to_cart", "b"),
            ("x8", "u11", pd.Timestamp("2025-03-01 10:00:00.000001"), "view", "b"),
            ("x9", "u11", pd.Timestamp("2025-03-01 10:00:00.000001"), "checkout", "b"),
        ],
        columns=COLUMNS,
    )
    events = numbered(duck(pd.concat([hand_events, extra], ignore_index=True)))
    assert assert_same(events).unit == 1
    # u10's cart is one microsecond too early; u11's three steps at one instant count
    assert funnel(events, STEPS).steps["users"].tolist() == [9, 6, 6, 3]


def test_coarser_units_and_their_guard(hand_events, duck) -> None:
    """User numbers with gaps of 2^28 leave no room for microseconds or milliseconds over a
    year: whole seconds pack (same funnel), a time with a fraction falls back."""
    year = hand_events.copy()
    year.loc[year["user_id"] == "u4", "event_time"] += pd.Timedelta(days=365)
    events = numbered(duck(year), spread=2**28)
    assert assert_same(events, window="14d").unit == 1_000_000
    odd = pd.DataFrame(
        [("x1", "u1", pd.Timestamp("2025-03-01 10:00:00.5"), "checkout", "b")], columns=COLUMNS
    )
    events = numbered(duck(pd.concat([year, odd], ignore_index=True)), spread=2**28)
    assert_same(events, packed=False)


def test_packing_units() -> None:
    lo, hi = 1_735_689_600_000_000, 1_735_689_600_000_000 + 180 * DAY * 10**6
    assert packing(lo, hi, 2_000_000, 4, 14 * DAY) == Packing(1000, lo, 3, 37)
    assert packing(lo, hi, 50_000, 4, 14 * DAY).unit == 1  # 16 user bits, 44 time, 3 step
    assert packing(lo, hi, 2**35, 4, 14 * DAY).unit == 1_000_000  # 36 + 24 + 3 bits
    assert packing(lo, hi, 2**36, 4, 14 * DAY) is None  # 37 + 24 + 3: the list fold then
    p = packing(lo + 7, hi, 2_000_000, 4, 14 * DAY)
    assert p is not None and p.origin == lo and p.origin % p.unit == 0


def test_slices_keep_users_whole() -> None:
    users = np.repeat(np.arange(50), np.r_[[3] * 20, [400], [2] * 29])  # user 20 is long
    keys = np.sort((users.astype(np.int64) << 10) | np.arange(len(users)) % 1000)
    for size in (1, 5, 64, 10_000):
        cuts = slices(keys, 10, size)
        assert cuts[0][0] == 0 and cuts[-1][1] == len(keys)
        assert all(b == c for (_, b), (c, _) in zip(cuts[:-1], cuts[1:], strict=True))
        heads = [keys[a] >> 10 for a, _ in cuts[1:]]
        tails = [keys[b - 1] >> 10 for _, b in cuts[:-1]]
        assert all(h != t for h, t in zip(heads, tails, strict=True))  # never inside a user
    assert len(slices(keys, 10, 1)) == 50


def test_fold_sorted_by_hand() -> None:
    """Two users: the later entry of user 0 goes further; user 1 misses the window by 1."""
    p = Packing(1_000_000, 0, 3, 20)  # times in seconds
    w = 100

    def key(user: int, t: int, step: int) -> int:
        return user << 20 | t << 3 | step

    rows = [(0, 10, 1), (0, 20, 2), (0, 200, 1), (0, 210, 2), (0, 250, 3), (0, 300, 4)]
    rows += [(1, 5, 1), (1, 50, 2), (1, 106, 3), (2, 7, 2)]  # user 2: no entry
    keys = np.sort(np.array([key(*r) for r in rows], np.int64))
    reached, times, users = fold_sorted(keys, p, 4, w)
    assert reached.tolist() == [4, 2] and users.tolist() == [0, 1]
    assert times[0].tolist() == [200, 210, 250, 300]
    assert times[1, :2].tolist() == [5, 50]


@pytest.mark.parametrize("window", [599, 600, 601])
def test_many_users_in_small_slices(duck, window) -> None:
    events = numbered(duck(many_users(2500, seed=window)))
    with mock.patch.object(PACKED, "SLICE", 97):  # many slices, folded on two threads
        assert_same(events, window=window)
        assert_same(events, window=window, by="channel")
    assert funnel(events, STEPS, window=window).steps["users"].iloc[0] > 2048


_event = st.tuples(
    st.sampled_from(["a", "b", "c", "d"]),
    st.sampled_from(["view", "add_to_cart", "checkout", "pay", "other"]),
    st.integers(0, 40),
    st.integers(0, 2),
    st.sampled_from([None, "京东", "jd", "b"]),
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(_event, min_size=1, max_size=40),
    window=st.integers(1, 15),
    steps=st.sampled_from([STEPS, STEPS[:2], ["checkout", "view", "pay"]]),
)
def test_property_same_as_window_plan(duck, rows, window, steps) -> None:
    """Random logs: many ties and microsecond offsets."""
    frame = pd.DataFrame(
        {
            "event_id": [f"e{i:03d}" for i in range(len(rows))],
            "user_id": [r[0] for r in rows],
            "event_name": [r[1] for r in rows],
            "event_time": [
                pd.Timestamp("2025-01-01") + pd.Timedelta(seconds=r[2], microseconds=r[3])
                for r in rows
            ],
            "channel": pd.array([r[4] for r in rows], dtype="string"),
        }
    )
    events = numbered(duck(frame))
    assert_same(events, steps, window=window)
    # entries of one user at one instant with other channels: the smallest value counts
    assert_same(events, steps, window=window, by="channel")


def test_breakdown_first_touch_and_ties(duck) -> None:
    """A user's breakdown is the chosen entry's; entries at one instant tie on the smallest
    value, a NULL value is "(none)"."""
    t = pd.Timestamp("2025-01-01 09:00:00")
    rows = [
        ("e1", "u1", t, "view", "京东"),  # u1: first entry goes nowhere
        ("e2", "u1", t + pd.Timedelta(days=20), "view", "jd"),
        ("e3", "u1", t + pd.Timedelta(days=20, seconds=5), "add_to_cart", "b"),
        ("e4", "u2", t, "view", "京东"),  # u2: three entries at one instant
        ("e5", "u2", t, "view", "jd"),
        ("e6", "u2", t, "view", None),
        ("e7", "u2", t + pd.Timedelta(seconds=1), "add_to_cart", "b"),
        ("e8", "u3", t, "view", "京东"),
    ]
    frame = pd.DataFrame(rows, columns=COLUMNS).astype({"channel": "string"})
    events = numbered(duck(frame))
    assert_same(events, by="channel")
    got = funnel(events, STEPS, by="channel").steps
    users = got.pivot(index="breakdown", columns="step_index", values="users")
    assert users.index.tolist() == ["(all)", "(none)", "jd", "京东"]
    assert users[1].tolist() == [3, 1, 1, 1] and users[2].tolist() == [2, 1, 1, 0]


def test_no_events(duck, hand_events) -> None:
    events = numbered(duck(hand_events.iloc[:0].astype({"user_id": "string"})))
    assert_same(events)
    assert funnel(events, STEPS).steps["users"].tolist() == [0, 0, 0, 0]


@pytest.mark.slow
def test_demo_world_same_as_window_plan(demo_world) -> None:
    ws, _ = demo_world
    con = ibis.duckdb.connect(str(ws.warehouse_path), read_only=True)
    try:
        events = con.table("events")
        # ingest numbered the users: one number per user_id, from 0, no NULLs
        ids = events.select("user_id", USER_NO).distinct().to_pandas()
        assert ids["user_id"].is_unique and ids[USER_NO].is_unique
        assert ids[USER_NO].notna().all() and ids[USER_NO].min() == 0
        for window in ("14d", "1h"):
            assert_same(events, window=window)
        assert_same(events, by="channel")
        assert funnel(events, STEPS).steps["users"].iloc[0] > 1000
    finally:
        con.disconnect()


def test_olist_same_as_window_plan(shared_data: Path, duck) -> None:
    from test_funnels_real import olist_events, read_olist

    leads, deals = read_olist(shared_data)
    events = numbered(duck(olist_events(leads, deals)))
    for window in ("30d", "3650d"):
        assert_same(events, ["lead", "closed"], window=window)
        assert_same(events, ["lead", "closed"], window=window, by="origin")
    got = funnel(events, ["lead", "closed"], window="3650d").steps["users"].tolist()
    assert got == [8000, 841]  # one deal is won before its lead
