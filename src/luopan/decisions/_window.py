"""Which periods a run of the loop looks at, and which firings the cool-down holds back.

The evaluation window of :func:`luopan.decisions.loop.run_loop`: a routine run evaluates each
rule over a look-back of its grain (or, for an engine series under a threshold-like condition,
just its streak and cool-down), a backfill over the whole history (an engine series: its last
``BACKFILL_SERIES_PERIODS`` periods); only periods that have ended count; and a firing within a
rule's cool-down after an incident an earlier run opened for the same slice is held back.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd

from luopan.decisions.evaluate import Firing
from luopan.decisions.rules import Rule
from luopan.decisions.store import DecisionLog

_FREQ = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}
_LOOKBACK = {"day": 70, "week": 26, "month": 18, "quarter": 10, "year": 5}  # periods
BACKFILL_SERIES_PERIODS = 26  # half a year of weekly engine-series values in a backfill


def _lookback(rule: Rule) -> int:
    """Periods a routine (not backfill) run evaluates. A condition against a fixed number
    (threshold, benchmark, target) needs no history beyond its streak and its cool-down, so
    those rules look back ``for + cooldown + 1`` periods — the cool-down before them is read
    from the incidents earlier runs logged (``_cooled``). That matters at scale: LTV/CAC by
    month over 18 months joins every order line of 18 months, over 2 months only theirs; and an
    engine series costs a pass over the customers' history per period. A change condition
    gets the fixed look-back of its grain (room for its baseline)."""
    if rule.condition.kind in ("threshold", "benchmark", "target"):
        return rule.for_ + rule.cooldown + 1
    return _LOOKBACK[rule.grain]


def _start(rule: Rule, now: dt.datetime, *, backfill: bool) -> dt.date | None:
    """First day a run evaluates ``rule`` on (None: the whole history).

    A backfill takes a catalog metric's whole history, but an engine series only its last
    ``BACKFILL_SERIES_PERIODS`` periods: each period of it costs a pass over every customer's
    history (the health index: one per week), so two years would cost ~100 passes.
    """
    from luopan.decisions.series import SERIES_HOOKS

    if backfill and rule.metric not in SERIES_HOOKS:
        return None
    periods = BACKFILL_SERIES_PERIODS if backfill else _lookback(rule)
    return (pd.Timestamp(now).to_period(_FREQ[rule.grain]) - periods).start_time.date()


def _series(frame: pd.DataFrame, grain: str) -> pd.DataFrame:
    periods = pd.PeriodIndex(pd.to_datetime(frame["period"]), freq=_FREQ[grain])
    return pd.DataFrame({"value": frame["value"].to_numpy(dtype=float)}, index=periods)


def _complete(series: pd.DataFrame, now: dt.datetime) -> pd.DataFrame:
    """Only periods that have ended by ``now`` (a half-day is not a drop)."""
    ends = series.index.end_time
    return series[ends < pd.Timestamp(now)]


def _cooled(
    log: DecisionLog, rule: Rule, firings: list[tuple[dict[str, Any], Firing]]
) -> list[tuple[dict[str, Any], Firing]]:
    """The firings outside the rule's cool-down after an incident an earlier run opened for
    the same slice: a routine run sees only its look-back window, so without the log it would
    open the same episode again a period later (a firing at an incident's own period is kept:
    it is deduplicated on opening)."""
    if not firings:
        return firings
    seen: dict[str, list[str]] = {}
    for incident in log.incidents():
        if incident.rule == rule.name:
            seen.setdefault(json.dumps(incident.slice, sort_keys=True), []).append(incident.period)
    out = []
    for sl, f in firings:
        before = [
            pd.Period(p, freq=f.period.freq) for p in seen.get(json.dumps(sl, sort_keys=True), [])
        ]
        if any(0 < f.period.ordinal - q.ordinal < rule.cooldown for q in before):
            continue
        out.append((sl, f))
    return out
