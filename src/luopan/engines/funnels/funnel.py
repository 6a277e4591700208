"""Event funnels with a hard conversion window: ordered, strict and any-order.

Semantics (PostHog ``FunnelsQuery``, Mixpanel and Amplitude funnels, ClickHouse
``windowFunnel``):

- A **path** starts at an *entry*: any event of step 1 (any step in ``any_order`` mode) at time
  ``t0``. Every later step must happen at or before ``t0 + window`` — the window is a hard
  filter, inclusive at its end (ClickHouse ``windowFunnel``: ``timestamp <= first + window``),
  so a step one second outside it does not count.
- ``ordered``: step k is the earliest step-k event at or after step k-1 (events at the same
  timestamp count as in order; events arriving out of order are ordered by ``event_time``).
  Taking the earliest event at each step is optimal for a given entry.
- ``strict``: step k must be the user's very next event (all events of the user, ordered by
  ``event_time`` then ``event_id``) after step k-1 (PostHog "strict order").
- ``any_order``: the steps reached from an entry are the distinct steps with an event in
  ``[t0, t0 + window]``; a user "reached step k" when k distinct steps were done.
- Each user counts once, with the path that reaches the furthest step, the earliest entry
  among those; the breakdown value is the entry event's (first-touch attribution, PostHog
  ``breakdownAttributionType = first_touch``).
- Exclusion steps (PostHog #5553): a path with an excluded event between its step ``a`` and
  step ``b`` (to the deadline when ``b`` was not reached) is discarded; a user left with no
  path is out of the funnel.
- Overall conversion = reached k / entered; step conversion = reached k / reached k-1;
  drop-off = 1 - step conversion; time to convert is reported as median and mean (PostHog
  ``modeling-conversion-metrics``).

Heavy work stays in the warehouse: the portable implementation is plain Ibis (see
``paths``: one backward window pass per step for ``ordered``, ``row_number`` and equi-joins
for ``strict``, a range join for ``any_order``; then ``row_number`` to pick each user's
path), since neither DuckDB nor Spark has a funnel function, so the same expression runs on
both. On DuckDB, ``funnel`` computes ordered funnels without exclusions by a one-pass fold
instead (see ``fold``: one hash aggregation of each user's step keys into a list, sorted and
folded by a vectorized Arrow UDF, the ``windowFunnel`` strategy), about 2.5 times less CPU
for the same paths; and where the events hold ingest's dense user number, ``funnel`` skips
the lists too (see ``packed``: one projection of packed user/time/step keys, one NumPy sort,
the same fold on slices of the sorted array, the aggregate in NumPy; a breakdown's values
are joined back to the chosen entries). ``funnel_paths`` and ``dropped_users`` return lazy expressions, so they
keep the portable plan. Only the per-step aggregate is materialized. Times to convert are
whole seconds on both engines.

References:
    PostHog docs, "Funnels" and the ``FunnelsQuery`` schema (funnelOrderType ordered/strict/
    unordered, funnelWindowInterval default 14 days, breakdownAttributionType first_touch).
    ClickHouse docs, "windowFunnel" parametric aggregate function.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import pandas as pd

from luopan.engines.funnels.fold import USER_KEY, fold_applies, fold_paths, fold_udf
from luopan.engines.funnels.packed import packed_paths
from luopan.engines.funnels.paths import any_order_paths, base, ordered_paths, strict_paths
from luopan.engines.funnels.summary import TTC_BUCKETS, aggregate, shape
from luopan.engines.funnels.window import parse_window
from luopan.errors import ConfigError, EngineError

__all__ = [
    "TTC_BUCKETS",
    "Exclusion",
    "FunnelResult",
    "dropped_users",
    "funnel",
    "funnel_paths",
]

Mode = Literal["ordered", "strict", "any_order"]
MODES: tuple[str, ...] = ("ordered", "strict", "any_order")


@dataclass(frozen=True)
class Exclusion:
    """Discard a path when ``event`` happens between step ``from_step`` and ``to_step`` (1-based)."""

    event: str
    from_step: int
    to_step: int


@dataclass(frozen=True)
class FunnelResult:
    """Per-step counts and rates, per breakdown value (``"(all)"`` when there is none).

    ``steps`` columns: breakdown, step_index (1-based), step, users, overall_conversion,
    step_conversion, drop_off, median_seconds, mean_seconds (time from entry to the step).
    ``time_to_convert``: breakdown, bucket, label_zh, label_en, users — full conversions.
    """

    steps: pd.DataFrame
    time_to_convert: pd.DataFrame
    step_names: tuple[str, ...]
    mode: str
    window_seconds: int
    by: str | None

    def to_table(self) -> pd.DataFrame:
        return self.steps

    def overall(self, breakdown: str = "(all)") -> float:
        """Overall conversion (last step / entered) of one breakdown value."""
        s = self.steps[self.steps["breakdown"] == breakdown]
        return float(s["overall_conversion"].iloc[-1]) if len(s) else float("nan")

    def summary(self) -> dict[str, Any]:
        return {
            "steps": list(self.step_names),
            "mode": self.mode,
            "window_seconds": self.window_seconds,
            "by": self.by,
            "rows": self.steps.to_dict(orient="records"),
            "time_to_convert": self.time_to_convert.to_dict(orient="records"),
        }


def _validate(
    events: ir.Table,
    steps: Sequence[str],
    mode: str,
    by: str | None,
    exclusions: Sequence[Exclusion],
) -> None:
    if len(steps) < 2:
        raise ConfigError(
            f"a funnel needs at least 2 steps, got {list(steps)}",
            fix="pass steps such as view,add_to_cart,checkout,pay",
        )
    if len(set(steps)) != len(steps):
        raise ConfigError(
            f"funnel steps repeat an event: {list(steps)}",
            fix="give each step a different event name",
        )
    if mode not in MODES:
        raise ConfigError(f"unknown funnel mode {mode!r}", fix=f"use one of: {', '.join(MODES)}")
    need = ["user_id", "event_time", "event_name"] + ([by] if by else [])
    missing = [c for c in need if c not in events.columns]
    if missing:
        raise EngineError(
            f"the events table has no column(s) {missing}",
            fix=f"map them at ingest; available: {', '.join(events.columns)}",
        )
    for x in exclusions:
        if not 1 <= x.from_step < x.to_step <= len(steps):
            raise ConfigError(
                f"exclusion {x.event!r} spans steps {x.from_step}..{x.to_step}",
                fix=f"use 1 <= from_step < to_step <= {len(steps)}",
            )


def funnel_paths(
    events: ir.Table,
    steps: Sequence[str],
    *,
    window: str | int = "14d",
    mode: Mode = "ordered",
    by: str | None = None,
    exclusions: Sequence[Exclusion] = (),
    entered: tuple[Any, Any] | None = None,
) -> ir.Table:
    """One row per user in the funnel: uid, dim, t1..tn (NULL past the step reached), reached.

    An Ibis expression; nothing runs until it is executed. Arguments as in ``funnel``. It is
    the portable plan on every engine (``funnel`` uses the equal DuckDB fold, whose function
    exists only while ``funnel`` runs).
    """
    _validate(events, steps, mode, by, exclusions)
    return _portable_paths(
        events, steps, window=window, mode=mode, by=by, exclusions=exclusions, entered=entered
    )


def _portable_paths(
    events: ir.Table,
    steps: Sequence[str],
    *,
    window: str | int,
    mode: Mode,
    by: str | None,
    exclusions: Sequence[Exclusion],
    entered: tuple[Any, Any] | None,
) -> ir.Table:
    """``funnel_paths`` after its arguments were validated."""
    seconds = parse_window(window)
    ev = base(events, by)
    if mode == "ordered":
        paths = ordered_paths(ev, steps, seconds)
    elif mode == "strict":
        paths = strict_paths(events, steps, seconds, by)
    else:
        paths = any_order_paths(ev, steps, seconds)
    for x in exclusions:
        bad = ev.filter(ev.name == x.event).select(xu=ev.uid, xt=ev.ts)
        start, end = paths[f"t{x.from_step}"], paths[f"t{x.to_step}"].fill_null(paths.deadline)
        paths = paths.anti_join(bad, [paths.uid == bad.xu, bad.xt >= start, bad.xt <= end])
    span = _span(entered)
    if span is not None:
        lo, hi = span
        paths = paths.filter((paths.t1 >= lo) & (paths.t1 < hi))
    n = len(steps)
    reached = sum(
        (paths[f"t{k}"].notnull().cast("int64") for k in range(1, n + 1)), ibis.literal(0)
    )
    paths = paths.mutate(reached=reached)
    pick = ibis.row_number().over(
        group_by=paths.uid, order_by=[paths.reached.desc(), paths.t1, paths.dim]
    )
    chosen = paths.mutate(_pick=pick).filter(lambda t: t._pick == 0)
    return chosen.drop("_pick", "deadline")


def _span(entered: tuple[Any, Any] | None) -> tuple[dt.datetime, dt.datetime] | None:
    if entered is None:
        return None
    lo, hi = (pd.Timestamp(x).to_pydatetime() for x in entered)
    return lo, hi


@contextmanager
def _chosen_paths(
    events: ir.Table,
    steps: Sequence[str],
    *,
    window: str | int,
    mode: Mode,
    by: str | None,
    exclusions: Sequence[Exclusion],
    entered: tuple[Any, Any] | None,
    ids: bool = True,
) -> Iterator[ir.Table]:
    """``funnel_paths``, or on DuckDB the same paths by the one-pass fold (``fold``), whose
    function is registered only inside the block: execute the paths there. ``ids=False``: the
    fold may leave ``uid`` out (it groups on the stored user key where the events hold one).
    The caller has validated the arguments."""
    ev = base(events, by)
    if mode == "ordered" and not exclusions and fold_applies(events, ev):
        seconds = parse_window(window)
        if USER_KEY in events.columns:  # ingest checked it one-to-one with user_id
            ev = base(events, by, ukey=events[USER_KEY])
        with fold_udf(events, by=by is not None) as udf:
            yield fold_paths(
                ev, steps, seconds, by=by is not None, udf=udf, entered=_span(entered), ids=ids
            )
        return
    yield _portable_paths(
        events, steps, window=window, mode=mode, by=by, exclusions=exclusions, entered=entered
    )


def funnel(
    events: ir.Table,
    steps: Sequence[str],
    *,
    window: str | int = "14d",
    mode: Mode = "ordered",
    by: str | None = None,
    exclusions: Sequence[Exclusion] = (),
    entered: tuple[Any, Any] | None = None,
) -> FunnelResult:
    """Conversion through ``steps`` within ``window``, per breakdown value of ``by``.

    Args:
        events: Ibis table with user_id, event_time, event_name (and event_id for strict
            mode ties, and the ``by`` column).
        steps: event names, in funnel order (at least 2, distinct).
        window: conversion window, ``"30m"``, ``"14d"``, ``"1w"``… or seconds.
        mode: ``ordered`` (default), ``strict`` or ``any_order``.
        by: breakdown column, attributed first-touch (from the entry event).
        exclusions: paths to discard (see ``Exclusion``).
        entered: ``(start, end)``: only paths entered in ``[start, end)``; run twice to compare
            two periods (the window may run past ``end``).

    Returns:
        FunnelResult with per-step users, conversions, drop-off, median/mean time to the step
        and the time-to-convert histogram of full conversions. With ``by``, the ``"(all)"``
        rows hold the totals.

    Raises:
        ConfigError: fewer than 2 steps, repeated steps, a bad window, mode or exclusion.
        EngineError: a required column is missing.
    """
    n = len(steps)
    _validate(events, steps, mode, by, exclusions)
    seconds = parse_window(window)
    if mode == "ordered" and not exclusions:
        # counts only: one sort of packed keys, where the events hold the user numbers (None
        # where that plan does not apply)
        packed = packed_paths(events, steps, seconds, entered=_span(entered), by=by)
        if packed is not None:
            groups = packed.groups()
            uppers = [u for u, _, _ in TTC_BUCKETS]
            raw = pd.DataFrame([packed.summary(uppers, rows) for _, rows in groups])
            table, ttc = shape(raw, steps, pd.Series([name for name, _ in groups]))
            return FunnelResult(table, ttc, tuple(steps), mode, seconds, by)
    with _chosen_paths(
        events,
        steps,
        window=window,
        mode=mode,
        by=by,
        exclusions=exclusions,
        entered=entered,
        ids=False,
    ) as paths:
        raw = aggregate(paths, n, [])
        keys = pd.Series(["(all)"])
        if by:
            per = aggregate(paths, n, ["dim"])
            per = per.sort_values("dim", kind="stable").reset_index(drop=True)
            raw = pd.concat([raw, per.drop(columns="dim")], ignore_index=True)
            keys = pd.concat([keys, per["dim"]], ignore_index=True)
    table, ttc = shape(raw, steps, keys)
    if mode == "any_order":  # times to intermediate counts of steps are not defined
        inner = (table["step_index"] > 1) & (table["step_index"] < n)
        table.loc[inner, ["median_seconds", "mean_seconds"]] = float("nan")
    return FunnelResult(table, ttc, tuple(steps), mode, seconds, by)


def dropped_users(
    events: ir.Table,
    steps: Sequence[str],
    at_step: int,
    *,
    window: str | int = "14d",
    mode: Mode = "ordered",
    by: str | None = None,
    exclusions: Sequence[Exclusion] = (),
    entered: tuple[Any, Any] | None = None,
) -> ir.Table:
    """Users who reached step ``at_step`` (1-based) and not the next one: an outreach segment.

    Returns an Ibis expression with user_id, breakdown, entered_at, last_step_at.
    """
    if not 1 <= at_step < len(steps):
        raise ConfigError(
            f"at_step {at_step} is not a step that can be dropped at",
            fix=f"use 1..{len(steps) - 1}",
        )
    p = funnel_paths(
        events, steps, window=window, mode=mode, by=by, exclusions=exclusions, entered=entered
    )
    p = p.filter(p.reached == at_step)
    return p.select(user_id=p.uid, breakdown=p.dim, entered_at=p.t1, last_step_at=p[f"t{at_step}"])
