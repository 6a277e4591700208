"""Verify the actions whose window has passed: measure, judge, record in the decision log.

An action's record says what it should move and how it can be measured:

- ``expected_impact``: ``metric``, ``direction`` (up/down), ``window_days`` and ``start`` (the
  first day of the effect; default the day the action was logged);
- ``holdout``: how the counterfactual was kept —
  ``{kind: experiment, experiment_id, treated, holdout}`` (arms in the warehouse's
  ``assignments``, e.g. the demo world's ``EXP-RECALL``), ``{kind: list, file}`` (the recall
  list a playbook wrote, column ``group`` = contact/holdout), ``{kind: slices, dimension,
  treated: [...], control: [...]}`` (untouched slices of a catalog metric), or nothing.

With a holdout the return rate of the arms is compared; with control slices, difference in
differences; with neither, the metric (in the incident's slice) against the anomaly model's
forecast. Methods and references: :mod:`luopan.decisions.verify`. Each action is measured
once, when ``start + window_days`` is on or before the last day of data; an action that cannot
be measured (no such metric, too short a history) is reported with the reason, not recorded.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from luopan.decisions.store import Action, DecisionLog
from luopan.decisions.verify import Effect, did_effect, forecast_effect, holdout_effect, verdict
from luopan.errors import DecisionError, LuopanError
from luopan.workspace import Workspace

__all__ = ["VerifyReport", "measure_action", "purchases", "verify_due_actions"]


@dataclass
class VerifyReport:
    recorded: list[int] = field(default_factory=list)  # outcome ids
    pending: int = 0  # window not over yet
    unmeasurable: dict[int, str] = field(default_factory=dict)  # action id -> why


def _duck(ws: Workspace) -> Any:
    import duckdb

    return duckdb.connect(str(ws.warehouse_path), read_only=True)


def purchases(ws: Workspace, since: dt.date | None = None) -> pd.DataFrame:
    """Net paid amount per member and day (``customer``, ``day``, ``amount`` > 0)."""
    con = _duck(ws)
    try:
        return con.execute(
            "SELECT customer_id AS customer, CAST(ordered_at AS DATE) AS day, "
            "sum(coalesce(paid_amount, 0) - coalesce(refund_amount, 0)) AS amount "
            "FROM orders WHERE customer_id IS NOT NULL AND CAST(ordered_at AS DATE) >= ? "
            "GROUP BY 1, 2 HAVING amount > 0",
            [since or dt.date(1900, 1, 1)],
        ).df()
    finally:
        con.close()


def _assignments(ws: Workspace, experiment_id: str) -> pd.DataFrame:
    con = _duck(ws)
    try:
        return con.execute(
            "SELECT unit_id, variant FROM assignments WHERE experiment_id = ?", [experiment_id]
        ).df()
    finally:
        con.close()


def _list_file(ws: Workspace, name: str) -> pd.DataFrame:
    path = (ws.root / name).resolve()
    if ws.root.resolve() not in path.parents or not path.is_file():
        raise DecisionError(
            f"recall list {name} is missing from the workspace",
            fix="keep the files under actions/ that playbooks write",
        )
    frame = pd.read_csv(path, dtype={"customer": "string"}, encoding="utf-8-sig")
    return frame.rename(columns={"customer": "unit_id", "group": "variant"})


def _daily(
    con: Any, catalog: Any, metric: str, by: list[str], start: dt.date, end: dt.date
) -> pd.DataFrame:
    from luopan.metrics import query_metric

    frame = query_metric(con, catalog, metric, grain="day", by=by, start=start, end=end)
    frame["period"] = pd.to_datetime(frame["period"])
    return frame


def _slice_series(frame: pd.DataFrame, sl: dict[str, Any]) -> pd.Series:
    part = frame
    for k, v in sl.items():
        part = part[part[k].astype("string") == str(v)]
    return part.groupby("period")["value"].sum()


def measure_action(
    ws: Workspace, con: Any, catalog: Any, action: Action, sl: dict[str, Any]
) -> Effect:
    """The realised effect of ``action`` (its incident's slice ``sl``); see the module doc.

    Raises:
        LuopanError: the action cannot be measured (the message says why).
    """
    impact = action.expected_impact
    holdout = action.holdout
    metric = impact.get("metric")
    window = int(impact.get("window_days", 30))
    start = dt.date.fromisoformat(str(impact.get("start") or action.created_at.date()))
    kind = holdout.get("kind")
    if kind in ("experiment", "list"):
        arms = (
            _assignments(ws, str(holdout["experiment_id"]))
            if kind == "experiment"
            else _list_file(ws, str(holdout["file"]))
        )
        return holdout_effect(
            arms,
            purchases(ws, since=start),
            start=start,
            window_days=window,
            treated=str(holdout.get("treated", "treatment" if kind == "experiment" else "contact")),
            holdout=str(holdout.get("holdout", "holdout")),
        )
    if not metric or metric not in catalog.metrics:
        raise DecisionError(
            f"metric {metric!r} of action #{action.id} is not in the catalog",
            fix="give the action a holdout or a catalog metric",
        )
    history = start - dt.timedelta(days=120)
    end = start + dt.timedelta(days=window)
    if kind == "slices":
        dim = str(holdout["dimension"])
        frame = _daily(con, catalog, metric, [dim], history, end)
        values = frame[dim].astype("string")
        pick = {
            name: frame[values.isin([str(v) for v in holdout[name]])]
            .groupby("period")["value"]
            .sum()
            for name in ("treated", "control")
        }
        return did_effect(pick["treated"], pick["control"], start=start, window_days=window)
    frame = _daily(con, catalog, metric, list(sl), history, end)
    return forecast_effect(_slice_series(frame, sl), start=start, window_days=window)


def verify_due_actions(
    ws: Workspace, log: DecisionLog, con: Any, catalog: Any, now: dt.datetime
) -> VerifyReport:
    """Measure and record every action whose window is over and that has no outcome yet."""
    report = VerifyReport()
    measured = {o.action_id for o in log.outcomes()}
    for action in log.actions():
        impact = action.expected_impact
        if action.status == "cancelled" or action.id in measured or "window_days" not in impact:
            continue
        start = dt.date.fromisoformat(str(impact.get("start") or action.created_at.date()))
        if start + dt.timedelta(days=int(impact["window_days"])) > now.date():
            report.pending += 1
            continue
        sl = log.incident(action.incident_id).incident.slice if action.incident_id else {}
        try:
            effect = measure_action(ws, con, catalog, action, sl)
        except LuopanError as exc:
            report.unmeasurable[action.id] = exc.message
            continue
        judged = verdict(effect, "down" if impact.get("direction") == "down" else "up")
        report.recorded.append(
            log.record_outcome(
                action.id,
                metric=str(impact.get("metric") or "return_rate"),
                method=effect.method,
                estimate=effect.estimate,
                lower=effect.lower,
                upper=effect.upper,
                detail={
                    **effect.detail,
                    "verdict": judged,
                    "confidence": effect.confidence,
                    "start": start.isoformat(),
                    "window_days": int(impact["window_days"]),
                },
                now=now,
            )
        )
    return report
