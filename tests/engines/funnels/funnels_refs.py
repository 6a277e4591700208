"""Independent pandas/Python computations the funnel and cohort engines are checked against.

Written from the definitions (PostHog/Mixpanel/Amplitude conventions, see the engine module
docstrings), user by user, entry by entry, with no shared code with the engines.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

T = pd.Timestamp
DAY = 86400

# event_id, user_id, event_time, event_name, channel — rows deliberately out of time order
HAND_EVENTS = [
    # u1: converts; pay exactly at the 14-day edge (counts)
    ("e05", "u1", T("2025-03-15 10:00:00"), "pay", "tmall"),
    ("e01", "u1", T("2025-03-01 10:00:00"), "view", "tmall"),
    ("e03", "u1", T("2025-03-01 10:05:00"), "checkout", "tmall"),
    ("e02", "u1", T("2025-03-01 10:02:00"), "add_to_cart", "tmall"),
    # u2: pay one second outside the window (does not count)
    ("e10", "u2", T("2025-03-01 09:00:00"), "view", "douyin"),
    ("e11", "u2", T("2025-03-02 09:00:00"), "add_to_cart", "douyin"),
    ("e12", "u2", T("2025-03-03 09:00:00"), "checkout", "douyin"),
    ("e13", "u2", T("2025-03-15 09:00:01"), "pay", "douyin"),
    # u3: cart before view only (out of order for an ordered funnel), a later view converts
    ("e20", "u3", T("2025-03-05 12:00:00"), "add_to_cart", "jd"),
    ("e21", "u3", T("2025-03-05 12:01:00"), "view", "tmall"),
    ("e22", "u3", T("2025-04-20 08:00:00"), "view", "jd"),
    ("e23", "u3", T("2025-04-20 08:00:00"), "add_to_cart", "jd"),  # same second as the view
    ("e24", "u3", T("2025-04-20 08:30:00"), "checkout", "jd"),
    # u4: an unrelated event between steps: ordered converts, strict does not
    ("e30", "u4", T("2025-03-10 20:00:00"), "view", "miniprogram"),
    ("e31", "u4", T("2025-03-10 20:01:00"), "search", "miniprogram"),
    ("e32", "u4", T("2025-03-10 20:02:00"), "add_to_cart", "miniprogram"),
    ("e33", "u4", T("2025-03-10 20:03:00"), "checkout", "miniprogram"),
    ("e34", "u4", T("2025-03-10 20:04:00"), "pay", "miniprogram"),
    # u5: only views; u6: no funnel event at all
    ("e40", "u5", T("2025-03-20 11:00:00"), "view", None),
    ("e41", "u5", T("2025-03-27 11:00:00"), "view", None),
    ("e50", "u6", T("2025-03-21 11:00:00"), "search", "tmall"),
    # u7: pay, checkout, cart, view in reverse time order: only the view step is reached
    ("e60", "u7", T("2025-03-03 10:00:00"), "pay", "jd"),
    ("e61", "u7", T("2025-03-03 10:01:00"), "checkout", "jd"),
    ("e62", "u7", T("2025-03-03 10:02:00"), "add_to_cart", "jd"),
    ("e63", "u7", T("2025-03-03 10:03:00"), "view", "jd"),
    # u8: refund between checkout and pay (exclusion test)
    ("e70", "u8", T("2025-03-08 10:00:00"), "view", "tmall"),
    ("e71", "u8", T("2025-03-08 10:01:00"), "add_to_cart", "tmall"),
    ("e72", "u8", T("2025-03-08 10:02:00"), "checkout", "tmall"),
    ("e73", "u8", T("2025-03-08 10:03:00"), "cancel", "tmall"),
    ("e74", "u8", T("2025-03-08 10:04:00"), "pay", "tmall"),
]
STEPS = ["view", "add_to_cart", "checkout", "pay"]


def _pick(paths: list[tuple[int, pd.Timestamp, str, list]]) -> tuple[int, pd.Timestamp, str, list]:
    # furthest step, then earliest entry, then smallest breakdown value
    return sorted(paths, key=lambda p: (-p[0], p[1], p[2]))[0]


def funnel_ref(
    events: pd.DataFrame,
    steps: list[str],
    window_s: int,
    mode: str = "ordered",
    by: str | None = None,
    exclusions: list[tuple[str, int, int]] = (),
) -> dict[str, dict]:
    """Per breakdown value ("(all)" too): users per step and the per-user times to each step."""
    w = pd.Timedelta(seconds=window_s)
    chosen = []
    for uid, g in events.groupby("user_id"):
        g = g.sort_values(["event_time", "event_id"])
        paths = []
        names, times = g["event_name"].tolist(), g["event_time"].tolist()
        dims = (g[by].fillna("(none)").astype(str) if by else pd.Series("(all)", g.index)).tolist()
        for i, (name, t0) in enumerate(zip(names, times, strict=True)):
            if mode != "any_order" and name != steps[0]:
                continue
            if mode == "any_order" and name not in steps:
                continue
            deadline = t0 + w
            ts = [t0]
            if mode == "ordered":
                cur = t0
                for s in steps[1:]:
                    c = [
                        t
                        for n, t in zip(names, times, strict=True)
                        if n == s and cur <= t <= deadline
                    ]
                    if not c:
                        break
                    cur = min(c)
                    ts.append(cur)
            elif mode == "strict":
                for k, s in enumerate(steps[1:], 1):
                    j = i + k
                    if j < len(names) and names[j] == s and times[j] <= deadline:
                        ts.append(times[j])
                    else:
                        break
            else:
                firsts: dict[str, pd.Timestamp] = {}
                for n, t in zip(names, times, strict=True):
                    if n in steps and t0 <= t <= deadline:
                        firsts[n] = min(t, firsts.get(n, t))
                ts = [t0] * len(firsts)
                if len(firsts) == len(steps):  # full conversion: time of the last step done
                    ts[-1] = max(firsts.values())
            ok = True
            for ev, a, b in exclusions:
                if len(ts) < a:
                    continue
                end = ts[b - 1] if len(ts) >= b else deadline
                if any(
                    n == ev and ts[a - 1] <= t <= end for n, t in zip(names, times, strict=True)
                ):
                    ok = False
            if ok:
                paths.append((len(ts), t0, dims[i], ts))
        if paths:
            chosen.append((uid, *_pick(paths)))
    out: dict[str, dict] = {}
    for uid, reached, _t0, dim, ts in chosen:
        for key in {"(all)", dim}:
            d = out.setdefault(
                key, {"users": [0] * len(steps), "secs": [[] for _ in steps], "ids": {}}
            )
            d["ids"][uid] = reached
            for k in range(reached):
                d["users"][k] += 1
                d["secs"][k].append((ts[k] - ts[0]).total_seconds())
    return out


def retention_ref(
    events: pd.DataFrame,
    period: str,
    kind: str,
    periods: int,
    start_events: list[str] | None = None,
    return_events: list[str] | None = None,
) -> pd.DataFrame:
    """cohort_index, period -> cohort_size, retained, unbounded_retained (NaN if unobserved)."""
    t = pd.to_datetime(events["event_time"])
    if period == "day":
        p = (t.dt.normalize() - pd.Timestamp("1970-01-01")).dt.days
    elif period == "week":
        monday = t.dt.normalize() - pd.to_timedelta(t.dt.day_of_week, unit="D")
        p = (monday - pd.Timestamp("1970-01-05")).dt.days // 7
    else:
        p = t.dt.year * 12 + t.dt.month - 1
    act = pd.DataFrame({"u": events["user_id"].to_numpy(), "p": p.to_numpy()})
    names = events["event_name"].to_numpy() if "event_name" in events else None
    last = act["p"].max()  # the last period with any event, filtered or not

    def periods_of(which: list[str] | None) -> dict:
        rows = act if not which else act[pd.Series(names).isin(which).to_numpy()]
        return rows.drop_duplicates().groupby("u")["p"].apply(set).to_dict()

    starts, returns = periods_of(start_events), periods_of(return_events)
    cohorts: dict[int, list] = {}
    for u, ps in starts.items():
        for c in [min(ps)] if kind == "first_time" else sorted(ps):
            cohorts.setdefault(c, []).append(u)
    rows = []
    for c, users in sorted(cohorts.items()):
        for k in range(periods + 1):
            observed = c + k <= last
            ret = sum(1 for u in users if c + k in returns.get(u, ()))
            unb = sum(1 for u in users if any(q >= c + k for q in returns.get(u, ())))
            rows.append(
                {
                    "cohort_index": c,
                    "period": k,
                    "cohort_size": len(users),
                    "retained": ret if observed else float("nan"),
                    "unbounded_retained": unb if observed else float("nan"),
                }
            )
    return pd.DataFrame(rows)


def assert_matches_ref(result, ref, steps) -> None:
    for key, d in ref.items():
        rows = result.steps[result.steps["breakdown"] == key]
        assert rows["users"].tolist() == d["users"], key
        for k in range(len(steps)):
            if result.mode == "any_order" and 0 < k < len(steps) - 1:
                continue
            secs = d["secs"][k]
            med = rows["median_seconds"].iloc[k]
            assert (math.isnan(med) and not secs) or med == pytest.approx(np.median(secs)), key
    assert set(result.steps["breakdown"]) == set(ref)


def compare(result, ref: pd.DataFrame) -> None:
    got = result.table.set_index(["cohort_index", "period"]).sort_index()
    want = ref.set_index(["cohort_index", "period"]).sort_index()
    assert got.index.equals(want.index)
    for col in ("cohort_size", "retained", "unbounded_retained"):
        np.testing.assert_array_equal(got[col].to_numpy(float), want[col].to_numpy(float), col)


def lifecycle_ref(ev: pd.DataFrame) -> pd.DataFrame:
    wk = ev["event_time"].dt.normalize() - pd.to_timedelta(ev["event_time"].dt.day_of_week, "D")
    act = pd.DataFrame({"u": ev["user_id"], "w": wk}).drop_duplicates()
    weeks = pd.date_range(act["w"].min(), act["w"].max(), freq="7D")
    sets = {w: set(act.loc[act["w"] == w, "u"]) for w in weeks}
    seen: set = set()
    rows = []
    for i, w in enumerate(weeks):
        prev = sets[weeks[i - 1]] if i else set()
        cur = sets[w]
        rows.append(
            {
                "period_start": w,
                "new": len(cur - seen),
                "returning": len(cur & prev),
                "resurrecting": len((cur & seen) - prev),
                "dormant": -len(prev - cur),
            }
        )
        seen |= cur
    return pd.DataFrame(rows)
