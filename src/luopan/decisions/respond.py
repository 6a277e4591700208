"""What the loop does for a new incident: diagnose it and log its actions and playbooks."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from typing import Any

import pandas as pd

from luopan.decisions.diagnose import DEFAULT_DIMS, dominant_element
from luopan.decisions.evaluate import Firing
from luopan.decisions.playbooks import PlaybookSet
from luopan.decisions.rules import Rule
from luopan.decisions.run_report import RunReport
from luopan.decisions.store import DecisionLog, Incident
from luopan.workspace import Workspace

__all__ = ["diagnose_incident", "log_actions"]


def diagnose_incident(
    con: Any,
    catalog: Any,
    rule: Rule,
    firing: Firing,
    log: DecisionLog,
    incident: Incident,
    now: dt.datetime,
) -> None:
    """Root-cause search over the diagnosis dimensions: the period against the reference."""
    from luopan.engines.rca import explain, localize
    from luopan.errors import LuopanError
    from luopan.metrics import query_metric

    day = firing.period.start_time.date()
    if rule.grain != "day" or rule.condition.baseline != "same_weekday_4w" or not firing.baseline:
        return
    # the days the rule's own reference averaged (ordinary same weekdays: no known events,
    # no earlier days of the incident); a same-weekday firing always names them
    refs = [p.start_time.date() for p in firing.baseline]
    try:
        frame = query_metric(
            con,
            catalog,
            rule.metric or "",
            grain="day",
            by=list(DEFAULT_DIMS),
            start=min(refs),
            end=day + dt.timedelta(days=1),
        )
    except LuopanError:
        return
    frame["day"] = pd.to_datetime(frame["period"]).dt.date
    keys = list(DEFAULT_DIMS)
    real = frame[frame["day"] == day].groupby(keys, dropna=False)["value"].sum()
    base = frame[frame["day"].isin(refs)].groupby(keys, dropna=False)["value"].sum() / len(refs)
    leaves = pd.concat([real.rename("real"), base.rename("predict")], axis=1).fillna(0.0)
    leaves = leaves.reset_index().fillna({k: "?" for k in keys})
    if leaves.empty or not (leaves["real"] - leaves["predict"]).abs().sum():
        return
    result = localize(leaves, dimensions=keys)
    if not result.causes:  # a few channels × regions: see dominant_element
        result = dominant_element(leaves, keys, result)
    labels_zh = {"channel": "渠道", "customer__region": "区域"}
    labels_en = {"channel": "channel", "customer__region": "region"}
    log.add_diagnosis(
        incident.id,
        method="rca.localize",
        summary_zh=explain(result, "zh", kpi=rule.metric, labels=labels_zh),
        summary_en=explain(result, "en", kpi=rule.metric, labels=labels_en),
        detail={
            "causes": [
                {
                    "conditions": [list(t) for t in c.conditions],
                    "share": c.share,
                    "confidence": c.confidence,
                }
                for c in result.causes
            ],
            "day": day.isoformat(),
            "reference_days": [d.isoformat() for d in refs],
        },
        now=now,
    )


def log_actions(
    ws: Workspace,
    rule: Rule,
    playbooks: PlaybookSet,
    log: DecisionLog,
    incident: Incident,
    now: dt.datetime,
    report: RunReport,
    step: Callable[[str], Callable[[], None]],
    *,
    logged: Counter[str],
    notify: bool,
) -> None:
    """Log the rule's tasks and campaign pauses and run its playbooks, skipping the actions
    ``logged`` already has (by kind, in order); notify when ``notify``."""
    from luopan.decisions.act import ActResult, notify_incident, playbook_of, run_playbook

    for action in rule.actions:
        if action.kind in ("open_incident", "diagnose", "notify"):
            continue
        if action.kind == "playbook":
            done = step("actions")
            result = run_playbook(
                ws,
                log,
                incident,
                rule,
                playbook_of(rule, playbooks, action.playbook or ""),
                now,
                skip=logged,
                notify=notify,
            )
            done()
            report.actions += result.actions
            report.notified += result.notified
            report.notify_failures += result.failures
            continue
        if logged[action.kind] > 0:
            logged[action.kind] -= 1
            continue
        done = step("actions")
        title = action.title
        zh = title.zh if title else f"{rule.label.zh}：{action.kind}"
        en = title.en if title else f"{rule.label.en}: {action.kind}"
        log.add_action(
            incident.id,
            kind=action.kind,
            title_zh=zh,
            title_en=en,
            owner=action.owner or "ops",
            due_at=now + dt.timedelta(hours=action.due_hours or 24),
            expected_impact={"metric": rule.metric},
            now=now,
        )
        report.actions += 1
        done()
    channels = [c for a in rule.actions if a.kind == "notify" for c in a.channels]
    if channels and notify:
        done = step("notify")
        result = ActResult()
        notify_incident(ws, log, incident, channels, result)
        report.notified += result.notified
        report.notify_failures += result.failures
        done()
