"""Per-entry funnel paths for the three orders (see ``funnel`` for the semantics).

Each builder takes the events (``uid, ts, name, dim`` after ``base``) and returns one row per
entry with ``uid, dim, t1..tn`` (NULL past the last step reached within the window) and
``deadline``. Plain Ibis (filters, unions, windows, equi- and range joins), so the same
expressions run on DuckDB and Spark.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ibis
import ibis.expr.types as ir

__all__ = ["any_order_paths", "base", "ordered_paths", "strict_paths"]


def base(events: ir.Table, by: str | None, **extra: Any) -> ir.Table:
    dim = events[by].cast("string").fill_null("(none)") if by else ibis.literal("(all)")
    return events.select(
        uid=events.user_id, ts=events.event_time, name=events.event_name, dim=dim, **extra
    )


def ordered_paths(ev: ir.Table, steps: Sequence[str], window: int) -> ir.Table:
    """Greedy earliest chain from every entry, without joins, by backward window passes.

    ``N_k(t)`` = earliest step-k event at or after ``t``; the chain of an entry at ``t0`` is
    ``t2 = N_2(t0)``, ``t3 = N_3(t2)``, … Each ``t_m`` of a step-j row is non-decreasing in
    the row's time, so "the value at the first step-(j+1) row at or after me" equals "the
    minimum over the following step-(j+1) rows". Pass j (n-1 down to 1) therefore runs one
    window over the rows of steps j and j+1 only (ordered by time, then step, so that a later
    step at the same second counts as following) and hands the chain to the step-j rows.
    The window deadline is applied at the end: the chain is non-decreasing, so the steps
    inside the window are a prefix.
    """
    n = len(steps)
    null_ts = ibis.null().cast(ev.ts.type())
    chain = [f"c{m}" for m in range(2, n + 1)]

    def rows(k: int) -> ir.Table:
        r = ev.filter(ev.name == steps[k - 1])
        return r.select(
            "uid", "dim", "ts", idx=ibis.literal(k, "int8"), **{c: null_ts for c in chain}
        )

    carried = rows(n)
    for j in range(n - 1, 0, -1):
        u = rows(j).union(carried, distinct=False)
        w = ibis.window(group_by=u.uid, order_by=[u.ts, u.idx], preceding=0, following=None)
        nxt = u.idx == j + 1
        upd = {f"c{j + 1}": u.ts.min(where=nxt).over(w)}
        upd.update({f"c{m}": u[f"c{m}"].min(where=nxt).over(w) for m in range(j + 2, n + 1)})
        carried = u.mutate(**upd)
        carried = carried.filter(carried.idx == j)
    deadline = carried.ts + ibis.interval(seconds=window)
    times = {
        f"t{m}": ibis.ifelse(carried[f"c{m}"] <= deadline, carried[f"c{m}"], null_ts)
        for m in range(2, n + 1)
    }
    return carried.select("uid", "dim", t1=carried.ts, deadline=deadline, **times)


def strict_paths(events: ir.Table, steps: Sequence[str], window: int, by: str | None) -> ir.Table:
    order = [events.event_time] + ([events.event_id] if "event_id" in events.columns else [])
    numbered = events.mutate(_r=ibis.row_number().over(group_by=events.user_id, order_by=order))
    ranked = base(numbered, by, r=numbered._r)
    paths = ranked.filter(ranked.name == steps[0]).select("uid", "dim", "r", t1=ranked.ts)
    paths = paths.mutate(deadline=paths.t1 + ibis.interval(seconds=window))
    for k in range(2, len(steps) + 1):
        s = ranked.filter(ranked.name == steps[k - 1]).select(
            u=ranked.uid, rr=ranked.r, t=ranked.ts
        )
        j = paths.left_join(
            s,
            [
                paths.uid == s.u,
                s.rr == paths.r + (k - 1),
                s.t <= paths.deadline,
                paths[f"t{k - 1}"].notnull(),
            ],
        )
        paths = j.select(*paths.columns, **{f"t{k}": j.t})
    return paths.drop("r")


def any_order_paths(ev: ir.Table, steps: Sequence[str], window: int) -> ir.Table:
    entries = ev.filter(ev.name.isin(list(steps))).select("uid", "dim", t0=ev.ts).distinct()
    entries = entries.mutate(deadline=entries.t0 + ibis.interval(seconds=window))
    s = ev.filter(ev.name.isin(list(steps))).select(u=ev.uid, t=ev.ts, n=ev.name)
    j = entries.join(s, [entries.uid == s.u, s.t >= entries.t0, s.t <= entries.deadline])
    firsts = {f"f{i}": j.t.min(where=j.n == name) for i, name in enumerate(steps, 1)}
    per = j.group_by(["uid", "dim", "t0", "deadline"]).aggregate(**firsts)
    fs = [per[f"f{i}"] for i in range(1, len(steps) + 1)]
    done = sum((f.notnull().cast("int64") for f in fs), ibis.literal(0))
    last = ibis.greatest(*[f.fill_null(per.t0) for f in fs])
    # t_k is only meaningful for a full conversion in any order: the last of the steps' times
    cols = {"t1": per.t0}
    for k in range(2, len(steps) + 1):
        cols[f"t{k}"] = ibis.ifelse(done >= k, ibis.ifelse(done == len(steps), last, per.t0), None)
    return per.select("uid", "dim", "deadline", **cols)
