"""Retention, lifecycle and stickiness against independent pandas computations."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest
from funnels_refs import compare, lifecycle_ref, retention_ref
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from luopan.engines.funnels.lifecycle import lifecycle, stickiness
from luopan.engines.funnels.retention import _cohort_counts, retention
from luopan.errors import ConfigError

pytestmark = pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated")

T = pd.Timestamp


def random_events(seed: int, users: int = 60, days: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = users * 8
    return pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(n)],
            "user_id": [f"u{u}" for u in rng.integers(0, users, n)],
            "event_time": T("2025-01-01") + pd.to_timedelta(rng.integers(0, days * 86400, n), "s"),
            "event_name": rng.choice(["view", "pay"], n, p=[0.8, 0.2]),
            "amount": rng.gamma(2.0, 50.0, n).round(2),
        }
    )


@pytest.mark.parametrize("period", ["day", "week", "month"])
@pytest.mark.parametrize("kind", ["first_time", "recurring"])
def test_retention_matches_pandas(duck, period, kind) -> None:
    ev = random_events(3)
    r = retention(duck(ev), period=period, kind=kind, periods=6)
    compare(r, retention_ref(ev, period, kind, 6))


def test_retention_hand_values(duck) -> None:
    ev = pd.DataFrame(
        {
            "user_id": ["a", "a", "b", "b", "c", "a"],
            # Sunday 23:59:59 and Monday 00:00:00 are different ISO weeks
            "event_time": [
                T("2025-03-02 23:59:59"),
                T("2025-03-03 00:00:00"),
                T("2025-03-03 09:00:00"),
                T("2025-03-24 09:00:00"),
                T("2025-03-10 09:00:00"),
                T("2025-03-17 00:00:00"),
            ],
        }
    )
    r = retention(duck(ev), period="week", periods=3)
    m = r.matrix("retained")
    assert m.loc[T("2025-02-24")].tolist() == [1, 1, 0, 1]  # a: weeks 0, 1, 3
    assert m.loc[T("2025-03-03")].tolist()[:3] == [1, 0, 0]  # b: week 0 and week 3
    assert np.isnan(m.loc[T("2025-03-10")].iloc[3])  # not observed yet: NaN, not 0
    u = r.matrix("unbounded_retained")
    assert u.loc[T("2025-03-03")].tolist() == [1, 1, 1, 1]  # b returns in week 3


def test_retention_start_return_events_and_ltv(duck) -> None:
    ev = random_events(5)
    r = retention(
        duck(ev),
        period="month",
        start_events=["view"],
        return_events=["pay"],
        value="amount",
        periods=3,
    )
    t = r.table
    views = ev[ev["event_name"] == "view"]
    first = views.groupby("user_id")["event_time"].min().dt.to_period("M")
    pays = ev[ev["event_name"] == "pay"].assign(m=lambda d: d["event_time"].dt.to_period("M"))
    c0 = first.min()
    members = first[first == c0].index
    want = pays[pays["user_id"].isin(members) & (pays["m"] == c0 + 1)]
    row = t[(t["cohort"] == c0.to_timestamp()) & (t["period"] == 1)].iloc[0]
    assert row["retained"] == want["user_id"].nunique()
    assert row["revenue"] == pytest.approx(want["amount"].sum())
    sub = t[t["cohort"] == c0.to_timestamp()]
    assert sub["ltv"].iloc[-1] == pytest.approx(sub["revenue"].sum() / len(members))


_DAY0 = T("2025-03-01")  # a Saturday: weeks and months change within a few days
_hit = st.tuples(
    st.sampled_from(["a", "b", "c", "d", "e"]),
    st.sampled_from(["view", "pay"]),
    st.integers(0, 75),  # day offset
    st.sampled_from([0, 1, 86399]),  # first second, next second, last second of the day
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(_hit, min_size=1, max_size=40),
    period=st.sampled_from(["day", "week", "month"]),
    kind=st.sampled_from(["first_time", "recurring"]),
    names=st.sampled_from([(None, None), (["view"], ["pay"]), (["pay"], None), (None, ["pay"])]),
    periods=st.integers(1, 5),
)
def test_property_retention_matches_reference(duck, rows, period, kind, names, periods) -> None:
    """Random small logs, out of time order, with ties at period edges: engine == reference."""
    ev = pd.DataFrame(
        {
            "user_id": [r[0] for r in rows],
            "event_name": [r[1] for r in rows],
            "event_time": [_DAY0 + pd.Timedelta(days=r[2], seconds=r[3]) for r in rows],
        }
    )
    start, ret = names
    want = retention_ref(ev, period, kind, periods, start_events=start, return_events=ret)
    r = retention(
        duck(ev), period=period, kind=kind, periods=periods, start_events=start, return_events=ret
    )
    if want.empty:  # nobody did a start event: no cohort
        assert r.table.empty
        return
    compare(r, want)


def test_lifecycle_matches_pandas(duck) -> None:
    ev = random_events(11, users=40, days=150)
    got = lifecycle(duck(ev), period="week").table
    want = lifecycle_ref(ev)
    pd.testing.assert_frame_equal(got[want.columns].reset_index(drop=True), want, check_dtype=False)
    assert (got["active"] == got["new"] + got["returning"] + got["resurrecting"]).all()


def test_stickiness_matches_pandas(duck) -> None:
    ev = random_events(13, users=50, days=90)
    s = stickiness(duck(ev), period="month")
    day = ev["event_time"].dt.normalize()
    for d in [T("2025-01-01"), T("2025-01-30"), T("2025-01-31"), T("2025-03-15")]:
        mau = ev.loc[(day > d - pd.Timedelta(days=30)) & (day <= d), "user_id"].nunique()
        dau = ev.loc[day == d, "user_id"].nunique()
        row = s.daily[s.daily["date"] == d].iloc[0]
        assert (row["mau"], row["dau"]) == (mau, dau)
        assert row["dau_mau"] == pytest.approx(dau / mau)
    days = ev.assign(d=day, m=day.dt.to_period("M")).drop_duplicates(["user_id", "d"])
    per = days.groupby(["m", "user_id"]).size().rename("k").reset_index()
    want = per.groupby(["m", "k"]).size()
    got = s.active_days.assign(m=s.active_days["period_start"].dt.to_period("M"))
    assert got.set_index(["m", "active_days"])["users"].to_dict() == want.to_dict()


def test_bad_period(duck) -> None:
    with pytest.raises(ConfigError, match="period"):
        retention(duck(random_events(1)), period="year")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="week or month"):
        stickiness(duck(random_events(1)), period="day")  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["first_time", "recurring"])
@pytest.mark.parametrize("names", [(None, None), (["view"], ["pay"])])
def test_retention_on_the_stored_user_key(duck, kind, names) -> None:
    """Events holding ingest's ``_user_key`` (one per user; NULL for a NULL user) are counted
    by it, with the same table as by ``user_id``."""
    ev = random_events(7)
    ev.loc[ev.index[:5], "user_id"] = None
    codes, _ = pd.factorize(ev["user_id"])
    keyed = ev.assign(_user_key=pd.Series(codes * 7919 + 11, dtype="Int64").where(codes >= 0))
    start, ret = names
    kw = dict(period="week", kind=kind, periods=4, start_events=start, return_events=ret)
    plain = retention(duck(ev), value="amount", **kw)
    table = duck(keyed, "keyed")
    by_key = retention(table, value="amount", **kw)
    pd.testing.assert_frame_equal(by_key.table, plain.table)
    sql = str(ibis.to_sql(_cohort_counts(table, "week", kind, start, ret, 4, "amount")))
    assert "_user_key" in sql and "user_id" not in sql
