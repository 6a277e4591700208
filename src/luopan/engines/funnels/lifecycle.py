"""Lifecycle per interval (new / returning / resurrecting / dormant) and stickiness.

Lifecycle (PostHog "Lifecycle", Amplitude "Lifecycle"), for each period P and user:

- ``new``: first active in P (first event in the data);
- ``returning``: active in P and in P-1;
- ``resurrecting``: active in P, not in P-1, active before;
- ``dormant``: active in P-1, not in P (reported as a negative count, like PostHog).

Stickiness: daily DAU, MAU (distinct users over the trailing 30 days, the day included) and
DAU/MAU; and the number of users by active days per week or month (PostHog "Stickiness",
Amplitude "Stickiness"). The trailing distinct count is computed without a join: each active
day of a user adds +1 from that day to the earlier of (next active day, day + 30), then a
running sum over days.

References:
    PostHog docs, "Lifecycle" and "Stickiness" insights.
    Amplitude docs, "Stickiness" and "Lifecycle" charts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import pandas as pd

from luopan.engines.funnels.periods import check_period, period_index, period_start
from luopan.errors import ConfigError

__all__ = ["LIFECYCLE_LABELS", "LifecycleResult", "StickinessResult", "lifecycle", "stickiness"]

LIFECYCLE_LABELS: dict[str, tuple[str, str]] = {
    "new": ("新增", "new"),
    "returning": ("持续活跃", "returning"),
    "resurrecting": ("回流", "resurrecting"),
    "dormant": ("流失(沉默)", "dormant"),
}


@dataclass(frozen=True)
class LifecycleResult:
    """period_start, new, returning, resurrecting, dormant (≤ 0), active."""

    table: pd.DataFrame
    period: str

    def to_table(self) -> pd.DataFrame:
        return self.table


@dataclass(frozen=True)
class StickinessResult:
    """``daily``: date, dau, mau, dau_mau. ``active_days``: period_start, active_days, users."""

    daily: pd.DataFrame
    active_days: pd.DataFrame
    period: str

    def to_table(self) -> pd.DataFrame:
        return self.daily

    def mean_dau_mau(self, last_days: int = 30) -> float:
        """Mean DAU/MAU over the last ``last_days`` days."""
        return float(self.daily["dau_mau"].tail(last_days).mean())


def _active(events: ir.Table, period: str) -> ir.Table:
    return events.select(uid=events.user_id, p=period_index(events.event_time, period)).distinct()


def lifecycle(
    events: ir.Table, *, period: Literal["day", "week", "month"] = "week"
) -> LifecycleResult:
    """Users per lifecycle state and period over ``events`` (user_id, event_time).

    Raises:
        ConfigError: unknown period.
    """
    a = _active(events, period)
    w = ibis.window(group_by=a.uid, order_by=a.p)
    a = a.mutate(prev=a.p.lag().over(w), nxt=a.p.lead().over(w))
    state = ibis.cases(
        (a.prev.isnull(), "new"), (a.prev == a.p - 1, "returning"), else_="resurrecting"
    )
    counts = a.group_by([a.p, state.name("s")]).aggregate(n=a.uid.count()).to_pandas()
    gone = a.filter(a.nxt.isnull() | (a.nxt > a.p + 1))
    dormant = gone.group_by(p=gone.p + 1).aggregate(n=gone.uid.count()).to_pandas()
    if counts.empty:
        return LifecycleResult(
            pd.DataFrame(columns=["period_start", *LIFECYCLE_LABELS, "active"]), period
        )
    lo, hi = int(counts["p"].min()), int(counts["p"].max())
    out = counts.pivot_table(index="p", columns="s", values="n", aggfunc="sum")
    out = out.reindex(index=range(lo, hi + 1), columns=["new", "returning", "resurrecting"])
    out = out.fillna(0).astype(int).rename_axis(columns=None)
    d = dormant.set_index("p")["n"] if len(dormant) else pd.Series(dtype=int)
    out["dormant"] = [-int(d.get(p, 0)) for p in out.index]
    out["active"] = out[["new", "returning", "resurrecting"]].sum(axis=1)
    out.insert(0, "period_start", [period_start(p, period) for p in out.index])
    return LifecycleResult(out.reset_index(drop=True), period)


def stickiness(
    events: ir.Table, *, period: Literal["week", "month"] = "month", mau_days: int = 30
) -> StickinessResult:
    """Daily DAU, trailing-``mau_days`` MAU and DAU/MAU; users by active days per period.

    Raises:
        ConfigError: unknown period or ``mau_days`` < 1.
    """
    if period not in ("week", "month"):
        check_period(period)
        raise ConfigError(
            "stickiness counts active days per week or month", fix="use period week or month"
        )
    if mau_days < 1:
        raise ConfigError(f"mau_days must be >= 1, got {mau_days}", fix="use 30")
    days = _active(events, "day")
    dau = days.group_by("p").aggregate(dau=days.uid.count()).to_pandas()
    w = ibis.window(group_by=days.uid, order_by=days.p)
    nxt = days.p.lead().over(w)
    ends = days.mutate(e=ibis.least(nxt.fill_null(days.p + mau_days), days.p + mau_days))
    plus = ends.group_by("p").aggregate(n=ends.uid.count()).to_pandas()
    minus = ends.group_by(p=ends.e).aggregate(n=ends.uid.count()).to_pandas()
    per = days.mutate(q=period_index(_day_ts(days.p), period))
    dist = per.group_by(["q", "uid"]).aggregate(k=per.p.count())
    dist = dist.group_by(["q", "k"]).aggregate(users=dist.uid.count()).to_pandas()
    if dau.empty:
        empty = pd.DataFrame(columns=["date", "dau", "mau", "dau_mau"])
        return StickinessResult(
            empty, pd.DataFrame(columns=["period_start", "active_days", "users"]), period
        )
    lo, hi = int(dau["p"].min()), int(dau["p"].max())
    grid = pd.RangeIndex(lo, hi + 1)
    delta = plus.set_index("p")["n"].reindex(grid, fill_value=0) - minus.groupby("p")[
        "n"
    ].sum().reindex(grid, fill_value=0)
    daily = pd.DataFrame({"p": grid})
    daily["dau"] = dau.set_index("p")["dau"].reindex(grid, fill_value=0).to_numpy()
    daily["mau"] = delta.cumsum().to_numpy()
    daily["dau_mau"] = daily["dau"] / daily["mau"].where(daily["mau"] > 0)
    daily.insert(0, "date", [period_start(p, "day") for p in daily["p"]])
    dist = dist.sort_values(["q", "k"]).reset_index(drop=True)
    dist.insert(0, "period_start", [period_start(q, period) for q in dist["q"]])
    dist = dist.rename(columns={"k": "active_days"}).drop(columns="q")
    return StickinessResult(daily.drop(columns="p"), dist, period)


def _day_ts(p: ir.IntegerValue) -> Any:
    """The timestamp at midnight of epoch day ``p`` (for re-bucketing days into periods)."""
    return ibis.timestamp("1970-01-01 00:00:00") + (p * 86400).as_interval("s")
