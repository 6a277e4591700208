"""The DuckDB one-pass fold (``fold``) gives exactly the portable window plan's paths.

``funnel`` takes the fold on DuckDB for ordered funnels without exclusions; here every case is
run both ways (the window plan is forced by making ``fold_applies`` say no) and the per-user
paths and the funnel tables must be equal: the hand table's window edges and out-of-order
rows, random logs with ties, microseconds and missing times, the demo world and Olist.
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

from luopan.engines.funnels import fold as FOLD
from luopan.engines.funnels import funnel, funnel_paths, parse_window
from luopan.engines.funnels.fold import (
    USER_KEY,
    fold_applies,
    fold_ordered,
    sort_lists,
    step_bits,
)
from luopan.engines.funnels.paths import base
from luopan.tables import join_key_sql

pytestmark = pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated")
FUNNEL = importlib.import_module("luopan.engines.funnels.funnel")
COLUMNS = ["event_id", "user_id", "event_time", "event_name", "channel"]
US = 1_000_000


@contextmanager
def window_plan() -> Iterator[None]:
    with mock.patch.object(FUNNEL, "fold_applies", return_value=False):
        yield


def keyed(events):
    """The events with the stored user key ingest writes (``_user_key``, one per user)."""
    con = events._find_backend()
    name = events.get_name().split(".")[-1]
    con.raw_sql(
        f'CREATE OR REPLACE TABLE "{name}_keyed" AS '
        f'SELECT *, {join_key_sql("user_id")} AS {USER_KEY} FROM "{name}"'
    )
    return con.table(f"{name}_keyed")


def fold_frame(events, steps, **kw) -> pd.DataFrame:
    with FUNNEL._chosen_paths(
        events,
        steps,
        window=kw.get("window", "14d"),
        mode="ordered",
        by=kw.get("by"),
        exclusions=(),
        entered=kw.get("entered"),
    ) as paths:
        sql = str(ibis.to_sql(paths)).lower()
        assert "luopan_funnel_fold_" in sql  # the fold, not the windows
        assert (USER_KEY in sql) == (USER_KEY in events.columns)  # grouped on the key
        frame = paths.to_pandas()
    return frame.sort_values("uid", kind="stable").reset_index(drop=True)


def assert_same(events, steps=STEPS, **kw) -> pd.DataFrame:
    """Paths and funnel tables of the fold equal those of the window plan; returns the paths."""
    fast = fold_frame(events, steps, **kw)
    slow = funnel_paths(events, steps, **kw).to_pandas()
    slow = slow.sort_values("uid", kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(fast, slow)
    a = funnel(events, steps, **kw)
    with window_plan():
        b = funnel(events, steps, **kw)
    pd.testing.assert_frame_equal(a.steps, b.steps)
    pd.testing.assert_frame_equal(a.time_to_convert, b.time_to_convert)
    return fast


def keys(rows: list[tuple[int, int]], n: int = 4) -> np.ndarray:
    """Sorted fold keys of (seconds, step) rows; step 0 = an entry without a time."""
    shift = 1 << step_bits(n)
    return np.sort([0 if k == 0 else s * US * shift + k for s, k in rows]).astype(np.int64)


def test_fold_ordered_by_hand() -> None:
    user_a = keys([(100, 1), (100, 2), (150, 3), (50, 2), (400, 4), (300, 1), (320, 2)])
    user_b = keys([(10, 2), (20, 3)])  # no entry
    user_c = keys([(0, 0), (0, 0)])  # entries without a time only
    user_d = keys([(0, 1), (5, 2), (9, 3), (10, 4), (20, 1), (21, 2), (22, 3), (23, 4)])
    parts = [user_a, user_b, user_c, user_d]
    offsets = np.cumsum([0] + [len(p) for p in parts])
    best, times, chosen = fold_ordered(offsets, np.concatenate(parts), 4, 10 * US)
    assert best.tolist() == [2, -1, 0, 4]
    # a: the cart at the entry's own second counts; the checkout at 150 s is past 100 + 10 s
    assert times[0, :2].tolist() == [100 * US, 100 * US]
    # d: both entries convert fully, the earliest wins
    assert (times[3] // US).tolist() == [0, 5, 9, 10]
    assert chosen[1] == -1 and chosen[0] == 1  # position of a's entry at 100 s in the keys
    wider = fold_ordered(offsets, np.concatenate(parts), 4, 300 * US)
    assert wider[0][0] == 4 and (wider[1][0] // US).tolist() == [100, 100, 150, 400]


@pytest.mark.parametrize("chunk", [1, 7, 256, FOLD.SORT_RUN])  # runs of 1 list, a few, all
@pytest.mark.parametrize("spread", [10**6, 10**13, 2**61])  # the last one needs the lexsort
def test_sort_lists_sorts_each_list_in_place(spread, chunk) -> None:
    rng = np.random.default_rng(5)
    lens = rng.integers(0, 9, 300)
    lens[[3, 150, 299]] = [700, 300, 257]  # lists longer than a run, one at the very end
    offsets = np.r_[0, np.cumsum(lens)]
    keys = rng.integers(-spread, spread, offsets[-1])
    got = sort_lists(offsets, keys, chunk=chunk)
    want = np.concatenate(
        [np.sort(keys[a:b]) for a, b in zip(offsets[:-1], offsets[1:], strict=True)]
    )
    assert got.tolist() == want.tolist()


def fold_by_hand(
    offsets: np.ndarray, keys: np.ndarray, n: int, window_us: int
) -> tuple[list[int], list[list[int]], list[int]]:
    """``fold_ordered`` written entry by entry: each timed entry follows the earliest step k
    after step k-1 while within the window; the furthest, then earliest entry wins."""
    best, times, chosen = [], [], []
    for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True):
        ts = [int(x) >> step_bits(n) for x in keys[a:b]]
        idx = [int(x) % (1 << step_bits(n)) for x in keys[a:b]]
        top, path, where = -1, [], -1
        for i in range(len(ts)):
            if idx[i] != 1:
                continue
            at, got = i, [ts[i]]
            for k in range(2, n + 1):
                nxt = next((j for j in range(at + 1, len(ts)) if idx[j] == k), None)
                if nxt is None or ts[nxt] > ts[i] + window_us:
                    break
                at = nxt
                got.append(ts[nxt])
            if len(got) > top:  # strictly further: an earlier entry keeps equal reaches
                top, path, where = len(got), got, a + i
        if top == -1 and 0 in idx:  # only entries without a time
            top, where = 0, a + idx.index(0)
        best.append(top)
        times.append(path)
        chosen.append(where)
    return best, times, chosen


@pytest.mark.parametrize("seed", range(6))
def test_fold_ordered_same_as_by_hand(seed) -> None:
    """Random sorted lists, empty ones among them: many ties, steps exactly at the deadline."""
    rng = np.random.default_rng(seed)
    n, window = int(rng.integers(2, 5)), int(rng.integers(1, 6))
    lens = rng.integers(0, 12, 400)
    offsets = np.r_[0, np.cumsum(lens)]
    steps = rng.integers(1, n + 1, offsets[-1])
    keys = rng.integers(0, 15, offsets[-1]) * (1 << step_bits(n)) + steps
    keys[rng.random(offsets[-1]) < 0.03] = 0  # entries without a time
    keys = sort_lists(offsets, keys)
    best, times, chosen = fold_ordered(offsets, keys, n, window)
    want_best, want_times, want_chosen = fold_by_hand(offsets, keys, n, window)
    assert best.tolist() == want_best
    assert chosen.tolist() == want_chosen
    assert [row[: max(b, 0)].tolist() for row, b in zip(times, best, strict=True)] == [
        t if b > 0 else [] for t, b in zip(want_times, want_best, strict=True)
    ]
    assert {-1, 0, 1, n} <= set(want_best)  # every kind of outcome occurs


def test_millennia_apart_same_as_window_plan(hand_events, duck) -> None:
    """Keys too far apart for the packed sort (1971 and 9025 in one batch): the lexsort."""
    far = hand_events.copy()
    far["event_time"] = far["event_time"].astype("datetime64[us]")
    far.loc[far["user_id"] == "u4", "event_time"] += pd.DateOffset(years=7000)
    far.loc[far["user_id"] == "u1", "event_time"] -= pd.DateOffset(years=54)
    with mock.patch.object(np, "lexsort", wraps=np.lexsort) as lexsort:
        paths = assert_same(duck(far)).set_index("uid")
    assert lexsort.called
    assert paths.loc["u4", "t1"].year == 9025 and paths.loc["u4", "reached"] == 4
    assert paths.loc["u1", "t1"].year == 1971 and paths.loc["u1", "reached"] == 4


@pytest.fixture()
def hand(hand_events, duck):
    return duck(hand_events)


@pytest.mark.parametrize("window", [14 * DAY - 1, "14d", 14 * DAY + 1, "1h", "3d", "60d"])
@pytest.mark.parametrize("by", [None, "channel"])
def test_hand_table_same_as_window_plan(hand, hand_events, window, by) -> None:
    paths = assert_same(hand, window=window, by=by)
    if window == "14d":  # u1 pays exactly at the 14-day edge, u2 one second after it
        row = paths.set_index("uid")
        assert row.loc["u1", "reached"] == 4 and row.loc["u2", "reached"] == 3
        assert row.loc["u3", "dim"] == ("jd" if by else "(all)")  # the later entry goes further
    if window == 14 * DAY + 1:
        assert paths.set_index("uid").loc["u2", "reached"] == 4
    ref = funnel_ref(hand_events, STEPS, parse_window(window), by=by)
    assert_matches_ref(funnel(hand, STEPS, window=window, by=by), ref, STEPS)


def test_entered_period_same_as_window_plan(hand) -> None:
    paths = assert_same(hand, entered=("2025-03-05", "2025-05-01"), by="channel")
    assert sorted(paths["uid"]) == ["u3", "u4", "u5", "u8"]


def test_missing_times_microseconds_and_null_users(hand_events, duck) -> None:
    extra = pd.DataFrame(
        [
            ("x1", "u9", pd.NaT, "view", "jd"),  # entries without a time: reached 0
            ("x2", "u9", pd.NaT, "view", "douyin"),
            ("x3", "u1", pd.NaT, "view", "aa"),
            ("x4", "u1", pd.NaT, "add_to_cart", "aa"),
            ("x5", "u10", pd.Timestamp("2025-03-01 10:00:00.000002"), "view", "b"),
            ("x6", "u10", pd.Timestamp("2025-03-01 10:00:00.000001"), "add_to_cart", "b"),
            ("x7", None, pd.Timestamp("2025-03-01 10:00:00"), "view", "b"),
        ],
        columns=COLUMNS,
    )
    events = duck(pd.concat([hand_events, extra], ignore_index=True))
    for by in (None, "channel"):
        paths = assert_same(events, by=by).set_index("uid", drop=False)
        assert paths.loc["u9", "reached"] == 0 and pd.isna(paths.loc["u9", "t1"])
        assert paths.loc["u10", "reached"] == 1  # the cart is one microsecond too early
        assert paths.loc["u1", "reached"] == 4
        assert paths["uid"].isna().sum() == 1
    assert assert_same(events, by="channel").set_index("uid").loc["u9", "dim"] == "douyin"


@pytest.mark.parametrize("by", [None, "channel"])
@pytest.mark.parametrize("window", ["14d", 600])
def test_stored_user_key_same_as_window_plan(hand_events, duck, by, window) -> None:
    """Grouped on ``_user_key`` (NULL for a NULL user, like the ID): the same paths, and
    ``funnel`` reads no user ID at all."""
    extra = pd.DataFrame(
        [("x1", None, pd.Timestamp("2025-03-01 10:00:00"), "view", "b")], columns=COLUMNS
    )
    events = keyed(duck(pd.concat([hand_events, extra], ignore_index=True)))
    paths = assert_same(events, window=window, by=by)
    assert paths["uid"].isna().sum() == 1
    many = keyed(duck(many_users(2500, seed=7), "many"))
    assert len(assert_same(many, window=window, by=by)) > 2048
    with FUNNEL._chosen_paths(
        many, STEPS, window=window, mode="ordered", by=by, exclusions=(), entered=None, ids=False
    ) as counted:
        plan = many._find_backend().raw_sql(f"EXPLAIN {ibis.to_sql(counted)}").fetchall()
        assert "_user_key" in str(plan) and "user_id" not in str(plan)  # the scan skips it
        assert counted.to_pandas()["uid"].isna().all()


def test_explicit_sort_order_and_unique_functions(hand) -> None:
    con = hand._find_backend().con
    con.execute("SET default_order = 'DESC'")
    try:
        assert_same(hand, by="channel")
    finally:
        con.execute("RESET default_order")
    listed = "SELECT count(*) FROM duckdb_functions() WHERE function_name LIKE 'luopan_funnel%'"
    assert con.execute(listed).fetchone() == (0,)  # registered only while a funnel runs


def test_cursors_of_one_database(hand_events) -> None:
    """The API opens one cursor per request on a shared database: each request must work."""
    root = ibis.duckdb.connect()
    root.create_table("events", hand_events)
    for _ in range(3):
        cur = ibis.duckdb.from_connection(root.con.cursor())
        assert funnel(cur.table("events"), STEPS, by="channel").steps["users"].tolist()[:4] == [
            7,
            5,
            5,
            3,
        ]
        cur.disconnect()
    root.disconnect()


def test_fold_applies_only_where_exact(hand_events, duck) -> None:
    naive = duck(hand_events)
    assert fold_applies(naive, base(naive, None))
    zoned = duck(hand_events.assign(event_time=hand_events["event_time"].dt.tz_localize("UTC")))
    assert not fold_applies(zoned, base(zoned, None))
    assert funnel(zoned, STEPS).steps["users"].tolist() == [7, 5, 5, 3]  # the window plan


def many_users(users: int, seed: int) -> pd.DataFrame:
    """More users than one UDF batch (2048 lists) and lists longer than a sort run; times on
    a 300 s grid plus 1 s, so that steps fall exactly on a 600 s window's edge, one second
    either side of it, and at the same second as other steps."""
    rng = np.random.default_rng(seed)
    per = rng.integers(1, 40, users)
    uid = np.repeat([f"u{i}" for i in range(users)], per)
    size = int(per.sum())
    secs = rng.integers(0, 12, size) * 300 + rng.choice([0, 0, 1, -1], size)
    names = rng.choice([*STEPS, "other"], size, p=[0.35, 0.25, 0.15, 0.15, 0.1])
    return pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(size)],
            "user_id": uid,
            "event_time": pd.Timestamp("2025-01-01 00:10:00") + pd.to_timedelta(secs, "s"),
            "event_name": names,
            "channel": rng.choice(["x", "y", "z"], size),
        }
    )


@pytest.mark.parametrize("run", [FOLD.SORT_RUN, 3])
@pytest.mark.parametrize("window", [599, 600, 601])
@pytest.mark.parametrize("by", [None, "channel"])
def test_many_users_same_as_window_plan(duck, by, window, run) -> None:
    events = duck(many_users(2500, seed=window))
    with mock.patch.object(FOLD, "SORT_RUN", run):
        paths = assert_same(events, window=window, by=by)
    assert len(paths) > 2048 and set(paths["reached"]) == {1, 2, 3, 4}


_event = st.tuples(
    st.sampled_from(["a", "b", "c", "d", None]),
    st.sampled_from(["view", "add_to_cart", "checkout", "pay", "other"]),
    st.one_of(st.integers(0, 40), st.none()),
    st.integers(0, 2),
    st.sampled_from(["x", "y", None]),
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(_event, min_size=1, max_size=40),
    window=st.integers(1, 15),
    by=st.sampled_from([None, "channel"]),
    steps=st.sampled_from([STEPS, STEPS[:2], ["checkout", "view", "pay"]]),
    with_key=st.booleans(),
)
def test_property_same_as_window_plan(duck, rows, window, by, steps, with_key) -> None:
    """Random logs: many ties, microsecond offsets, missing times, users and channels."""
    frame = pd.DataFrame(
        {
            "event_id": [f"e{i:03d}" for i in range(len(rows))],
            "user_id": pd.Series([r[0] for r in rows], dtype="string"),  # typed if all NULL
            "event_name": [r[1] for r in rows],
            "event_time": [
                pd.NaT
                if r[2] is None
                else pd.Timestamp("2025-01-01") + pd.Timedelta(seconds=r[2], microseconds=r[3])
                for r in rows
            ],
            "channel": pd.Series([r[4] for r in rows], dtype="string"),
        }
    )
    events = duck(frame)
    assert_same(keyed(events) if with_key else events, steps, window=window, by=by)


@pytest.mark.slow
@pytest.mark.parametrize("window", ["14d", "1h"])
def test_demo_world_same_as_window_plan(demo_world, window) -> None:
    ws, _ = demo_world
    con = ibis.duckdb.connect(str(ws.warehouse_path), read_only=True)
    try:
        paths = assert_same(con.table("events"), window=window, by="channel")
        assert len(paths) > 1000 and paths["reached"].max() == 4
    finally:
        con.disconnect()


def test_olist_same_as_window_plan(shared_data: Path, duck) -> None:
    from test_funnels_real import olist_events, read_olist

    leads, deals = read_olist(shared_data)
    events = duck(olist_events(leads, deals))
    for window in ("30d", "3650d"):
        paths = assert_same(events, ["lead", "closed"], window=window, by="origin")
        assert len(paths) == 8000
    assert int((paths["reached"] == 2).sum()) == 841  # one deal is won before its lead


@pytest.mark.parametrize("n", [7, 8])  # 3 and 4 step bits in the keys (``step_bits``)
def test_many_steps_and_unlisted_names_same_as_window_plan(duck, n) -> None:
    """Step numbers come from one list lookup: only exact names count (not another case,
    not NULL), and the last step of 7 or 8 stays in the key's step bits."""
    steps = [f"s{k}" for k in range(1, n + 1)]
    t0 = pd.Timestamp("2025-02-01 08:00:00")
    rows = []
    for user, names in {
        "full": steps,
        "cased": [s.upper() if s == "s3" else s for s in steps],  # "S3" is not step 3
        "noisy": [x for s in steps for x in (s, None, "other")],
    }.items():
        rows += [(user, t0 + pd.Timedelta(minutes=i), name) for i, name in enumerate(names)]
    rows += [("nameless", t0, None), ("nameless", t0, "other")]
    frame = pd.DataFrame(rows, columns=["user_id", "event_time", "event_name"])
    frame.insert(0, "event_id", [f"e{i}" for i in range(len(frame))])
    frame["channel"] = "x"
    paths = assert_same(duck(frame), steps, window="1d").set_index("uid")
    assert paths["reached"].to_dict() == {"cased": 2, "full": n, "noisy": n}
    assert paths.loc["noisy", f"t{n}"] == t0 + pd.Timedelta(minutes=3 * (n - 1))
