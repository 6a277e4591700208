"""Retention cohorts: first-time and recurring, by day / week / month, N-period and unbounded.

- ``first_time`` (PostHog ``retention_first_time``, Mixpanel "birth"): a user's cohort is the
  period of their first start event.
- ``recurring`` (PostHog ``retention_recurring``, Mixpanel "compounded"): a user joins the
  cohort of every period in which they did the start event.
- ``retained`` at period k (N-day / N-week retention, Amplitude "N-day"): users of the cohort
  with a return event exactly k periods after the cohort period. ``unbounded_retained``
  (Amplitude "unbounded"): a return event k or more periods later.
- Periods are calendar periods (PostHog's "strict calendar dates" option), weeks from Monday.
  A cell whose period lies after the last period in the data is not observed (NaN), not 0.
- With ``value``, the sum of that column over the return events of period k gives the cohort
  revenue and the cumulative value per cohort member (LTV curve).

References:
    PostHog docs, "Retention" (RetentionType, period, strict calendar dates).
    Amplitude docs, "Retention analysis: N-day, unbounded and bracket retention".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from luopan.engines.funnels.fold import USER_KEY
from luopan.engines.funnels.periods import check_period, period_index, period_start
from luopan.errors import ConfigError, EngineError

__all__ = ["RetentionResult", "retention"]


@dataclass(frozen=True)
class RetentionResult:
    """Long cohort table: cohort, cohort_index, cohort_size, period, retained, rate,
    unbounded_retained, unbounded_rate (and revenue, ltv with ``value``)."""

    table: pd.DataFrame
    period: str
    kind: str

    def to_table(self) -> pd.DataFrame:
        return self.table

    def matrix(self, column: str = "rate") -> pd.DataFrame:
        """Cohorts as rows, periods 0..N as columns."""
        return self.table.pivot(index="cohort", columns="period", values=column)

    def summary(self) -> dict[str, Any]:
        t = self.table.copy()
        t["cohort"] = t["cohort"].dt.strftime("%Y-%m-%d")
        return {
            "period": self.period,
            "kind": self.kind,
            "rows": t.replace({np.nan: None}).to_dict(orient="records"),
        }


def _names(events: ir.Table, names: Sequence[str] | None) -> ir.Table:
    return events if not names else events.filter(events.event_name.isin(list(names)))


def retention(
    events: ir.Table,
    *,
    period: Literal["day", "week", "month"] = "week",
    kind: Literal["first_time", "recurring"] = "first_time",
    start_events: Sequence[str] | None = None,
    return_events: Sequence[str] | None = None,
    periods: int = 8,
    value: str | None = None,
) -> RetentionResult:
    """Cohort retention over ``events`` (user_id, event_time, event_name).

    Args:
        events: Ibis table of events (or orders renamed to that shape).
        period: cohort and return interval.
        kind: ``first_time`` or ``recurring``.
        start_events: event names that put a user in a cohort (default: any event).
        return_events: event names that count as a return (default: any event).
        periods: report periods 0..``periods``.
        value: numeric column summed over return events (cohort revenue and LTV).

    Raises:
        ConfigError: unknown period or kind, or ``periods`` < 1.
        EngineError: a required column is missing.
    """
    check_period(period)
    if kind not in ("first_time", "recurring"):
        raise ConfigError(f"unknown retention kind {kind!r}", fix="use first_time or recurring")
    if periods < 1:
        raise ConfigError(f"periods must be >= 1, got {periods}", fix="use e.g. 8")
    need = ["user_id", "event_time"] + (["event_name"] if start_events or return_events else [])
    need += [value] if value else []
    missing = [c for c in need if c not in events.columns]
    if missing:
        raise EngineError(
            f"the events table has no column(s) {missing}",
            fix=f"available: {', '.join(events.columns)}",
        )
    counts = _cohort_counts(events, period, kind, start_events, return_events, periods, value)
    parts = counts.to_pandas()
    sizes = _part(parts, "size", {"k": "c", "n": "size"})
    exact = _part(parts, "exact", {"c": "c", "k": "k", "n": "n"})
    unb = _part(parts, "unbounded", {"c": "c", "k": "m", "n": "n"})
    rev = _part(parts, "revenue", {"c": "c", "k": "k", "v": "v"}) if value else None
    lasts = parts.loc[parts["tag"] == "last", "k"].dropna()
    last = int(lasts.max()) if len(lasts) else None
    return RetentionResult(_assemble(sizes, exact, unb, rev, periods, last, period), period, kind)


def _cohort_counts(
    events: ir.Table,
    period: str,
    kind: str,
    start_events: Sequence[str] | None,
    return_events: Sequence[str] | None,
    periods: int,
    value: str | None,
) -> ir.Table:
    """Every count the cohort table needs, as one small tagged table from one query.

    The plan is hash aggregations and one hash join, with no window and no sort of the
    events: ``d`` = distinct (user, period) of the return events; the cohorts ``u`` (per
    user the first start period for ``first_time``, every start period for ``recurring``);
    ``d`` joined to ``u`` on the user gives each return's offset k. Rows: ``size`` (k =
    cohort, n = users), ``exact`` (c, k, n), ``unbounded`` (c, k = furthest offset clipped
    to ``periods``, n), ``revenue`` (c, k, v) and ``last`` (k = last period in the data).
    """
    r = _names(events, return_events)
    d = r.select(uid=_user(r), p=period_index(r.event_time, period).cast("int64")).distinct()
    same = list(start_events or []) == list(return_events or [])
    if same:
        starts = d.select(uid=d.uid, c=d.p)  # one distinct pass serves both sides
    else:
        s = _names(events, start_events)
        starts = s.select(uid=_user(s), c=period_index(s.event_time, period).cast("int64"))
        starts = starts.distinct()
    first_time = kind == "first_time"
    if first_time and same:  # every return is at or after the first period: m = max(p)
        u = d.group_by("uid").aggregate(c=d.p.min(), m=d.p.max())
    elif first_time:
        u = starts.group_by("uid").aggregate(c=starts.c.min())
    else:
        u = starts
    on = [u.uid == d.uid] if first_time and same else [u.uid == d.uid, d.p >= u.c]
    j = u.join(d, on)
    j = j.select(uid=j.uid, c=j.c, k=j.p - j.c)

    def tagged(t: ir.Table, tag: str, c: Any, k: Any, n: Any, v: Any = None) -> ir.Table:
        return t.select(
            tag=ibis.literal(tag),
            c=ibis.literal(None, "int64") if c is None else c.cast("int64"),
            k=k.cast("int64"),
            n=ibis.literal(None, "int64") if n is None else n.cast("int64"),
            v=ibis.literal(None, "float64") if v is None else v.cast("float64"),
        )

    ex = j.filter(j.k <= periods).group_by(["c", "k"]).aggregate(n=j.uid.count())
    parts = [tagged(ex, "exact", ex.c, ex.k, ex.n)]
    if first_time and same:
        far = u.select(c=u.c, m=(u.m - u.c).clip(upper=periods))
    else:
        far = j.group_by(["uid", "c"]).aggregate(m=j.k.max().clip(upper=periods))
    unb = far.group_by(["c", "m"]).aggregate(n=far.c.count())
    parts.append(tagged(unb, "unbounded", unb.c, unb.m, unb.n))
    sz = u.group_by("c").aggregate(n=u.uid.count())
    parts.append(tagged(sz, "size", None, sz.c, sz.n))
    if not return_events:  # d holds every period with an event
        lst = d.aggregate(k=d.p.max())
    else:
        lst = events.aggregate(k=period_index(events.event_time, period).max())
    parts.append(tagged(lst, "last", None, lst.k, None))
    if value:
        v = r[value].cast("float64")
        rows = r.select(ru=_user(r), p=period_index(r.event_time, period).cast("int64"), v=v)
        cu = u.select("uid", "c")
        jr = cu.join(rows, [cu.uid == rows.ru, rows.p >= cu.c])
        jr = jr.mutate(k=jr.p - jr.c)
        rev = jr.filter(jr.k <= periods).group_by(["c", "k"]).aggregate(v=jr.v.sum())
        parts.append(tagged(rev, "revenue", rev.c, rev.k, None, rev.v))
    return ibis.union(*parts, distinct=False)


def _user(t: ir.Table) -> ir.Column:
    """The user of each event: the stored user key where the events hold one (ingest checked
    it one-to-one with ``user_id``, NULL where it is NULL), a BIGINT that hashes and compares
    faster than the text, else ``user_id``. The counts are of users, never their IDs."""
    return t[USER_KEY] if USER_KEY in t.columns else t.user_id


def _part(parts: pd.DataFrame, tag: str, cols: dict[str, str]) -> pd.DataFrame:
    """The rows of one tag, columns renamed (``cols``: tagged name -> name), counts as int."""
    out = parts.loc[parts["tag"] == tag, list(cols)].rename(columns=cols)
    ints = [c for c in out.columns if c != "v"]
    return out.astype(dict.fromkeys(ints, "int64")).reset_index(drop=True)


def _assemble(
    sizes: pd.DataFrame,
    exact: pd.DataFrame,
    unb: pd.DataFrame,
    rev: pd.DataFrame | None,
    periods: int,
    last: Any,
    period: str,
) -> pd.DataFrame:
    cohorts = sorted(int(c) for c in sizes["c"])
    grid = pd.MultiIndex.from_product([cohorts, range(periods + 1)], names=["c", "k"])
    out = pd.DataFrame(index=grid).reset_index()
    out["cohort_size"] = out["c"].map(sizes.set_index("c")["size"].astype(int))
    ex = exact.set_index(["c", "k"])["n"] if len(exact) else pd.Series(dtype=float)
    out["retained"] = [float(ex.get((c, k), 0)) for c, k in zip(out["c"], out["k"], strict=True)]
    # users whose furthest return is m count in unbounded periods 0..m: reverse cumulative sum
    ub = (
        unb.pivot_table(index="c", columns="m", values="n", aggfunc="sum")
        .reindex(index=cohorts, columns=range(periods + 1), fill_value=0)
        .fillna(0)
    )
    ub = ub.iloc[:, ::-1].cumsum(axis=1).iloc[:, ::-1]
    out["unbounded_retained"] = [
        float(ub.at[c, k]) for c, k in zip(out["c"], out["k"], strict=True)
    ]
    observed = (out["c"] + out["k"]) <= (int(last) if last is not None else -1)
    for col in ("retained", "unbounded_retained"):
        out.loc[~observed, col] = np.nan
    out["rate"] = out["retained"] / out["cohort_size"]
    out["unbounded_rate"] = out["unbounded_retained"] / out["cohort_size"]
    if rev is not None:
        rv = rev.set_index(["c", "k"])["v"] if len(rev) else pd.Series(dtype=float)
        out["revenue"] = [
            float(rv.get((c, k), 0.0)) for c, k in zip(out["c"], out["k"], strict=True)
        ]
        out.loc[~observed, "revenue"] = np.nan
        out["ltv"] = out.groupby("c")["revenue"].cumsum(skipna=False) / out["cohort_size"]
    out.insert(0, "cohort", [period_start(c, period) for c in out["c"]])
    return out.rename(columns={"c": "cohort_index", "k": "period"})
