"""The crisis response in the decision log: open the incident, log tasks, escalate, notify.

A crisis found by :func:`.crisis.watch` becomes an incident (rule ``listening.crisis``, one per
alert start: re-running the watch opens nothing new) whose actions are the golden-3-hours tasks
with owners from ``crisis.yaml`` and deadlines on the alert's clock. :func:`escalate` compares
the tasks with a clock and logs every overdue task and every silence (no public response) as
an escalation diagnosis, once per key, and sends it through the given dispatcher. The decision
log and the dispatcher are passed in (tests use a SQLite file and a fake channel); the time is
always an argument, so the same code replays event time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from luopan.decisions.store import DecisionLog, Incident
from luopan.engines.listening.crisis import LEVEL_LABELS, CrisisIncident
from luopan.engines.listening.playbook import (
    GOLDEN_3_HOURS,
    CrisisConfig,
    Playbook,
    PlaybookTask,
    Task,
    escalations,
)
from luopan.errors import DecisionError
from luopan.notify.dispatch import Dispatcher
from luopan.notify.message import Lang, Message

__all__ = [
    "METRIC",
    "RULE",
    "EscalationReport",
    "crisis_incidents",
    "escalate",
    "mark_done",
    "open_crisis",
    "playbook_of",
]

RULE = "listening.crisis"
METRIC = "negative_mentions"
TASK_KIND = "crisis_task:"
ESCALATION = "crisis_escalation"
NOTICE = "crisis_notice"


def _py(ts: pd.Timestamp) -> dt.datetime:
    return pd.Timestamp(ts).to_pydatetime().replace(tzinfo=None)


def _send(
    dispatcher: Dispatcher | None, channels: Sequence[str], msg: Message
) -> list[dict[str, Any]]:
    if dispatcher is None or not channels:
        return []
    return [d.to_dict() for d in dispatcher.send(msg, list(channels))]


def open_crisis(
    log: DecisionLog,
    incident: CrisisIncident,
    config: CrisisConfig,
    *,
    now: dt.datetime,
    terms: Sequence[str] = (),
    dispatcher: Dispatcher | None = None,
    steps: Sequence[PlaybookTask] = GOLDEN_3_HOURS,
    lang: Lang = "zh",
) -> tuple[Incident, bool]:
    """Log the crisis with its playbook tasks and send the alert; idempotent per alert start.

    Returns ``(incident, created)``; nothing is logged or sent again when it already exists.
    """
    label = LEVEL_LABELS[incident.level]
    first = incident.alerts[0] if incident.alerts else None
    evidence = {
        "start": str(incident.start),
        "level": incident.level,
        "first_level": incident.first_level,
        "score": incident.peak_score,
        "points": dict(first.points) if first else {},
        "rules_version": first.rules_version if first else "",
        "platforms": list(incident.platforms),
        "watchlist": list(incident.watchlist),
        "terms": list(terms),
        "alerts": [
            {
                "at": str(a.at),
                "level": a.level,
                "score": a.score,
                "negatives": a.negatives,
                "expected": round(a.expected, 3),
            }
            for a in incident.alerts[:48]
        ],
    }
    topic = "、".join(terms[:3])
    found, created = log.open_incident(
        rule=RULE,
        metric=METRIC,
        slice={},
        period=f"{incident.start:%Y-%m-%d %H:%M}",
        severity="critical" if incident.level <= 2 else "warning",
        title_zh=f"舆情{label['zh']}（{incident.level} 级）：{topic or '负面声量突增'}",
        title_en=f"Crisis level {incident.level} ({label['en']}): {', '.join(terms[:3]) or 'negative burst'}",
        evidence=evidence,
        now=now,
    )
    if not created:
        return found, False
    for s in steps:
        log.add_action(
            found.id,
            kind=f"{TASK_KIND}{s.key}",
            title_zh=s.zh,
            title_en=s.en,
            owner=config.owner(s.role),
            due_at=_py(incident.start + pd.Timedelta(minutes=s.due_min)),
            expected_impact={
                "metric": METRIC,
                "direction": "down",
                "is_response": s.is_response,
                "role": s.role,
            },
            now=now,
        )
    msg = _alert_message(found, incident, config, steps, terms, lang)
    deliveries = _send(dispatcher, config.channels, msg)
    log.add_diagnosis(
        found.id,
        method=NOTICE,
        summary_zh=msg.title if lang == "zh" else found.title_zh,
        summary_en=msg.title if lang == "en" else found.title_en,
        detail={"key": msg.key, "deliveries": deliveries, "at": str(now)},
        now=now,
    )
    return found, True


def _alert_message(
    found: Incident,
    incident: CrisisIncident,
    config: CrisisConfig,
    steps: Sequence[PlaybookTask],
    terms: Sequence[str],
    lang: Lang,
) -> Message:
    zh = lang == "zh"
    lines = [
        (
            f"{s.zh} — {config.owner(s.role)}，{(incident.start + pd.Timedelta(minutes=s.due_min)):%H:%M} 前"
            if zh
            else f"{s.en} — {config.owner(s.role)}, by {(incident.start + pd.Timedelta(minutes=s.due_min)):%H:%M}"
        )
        for s in steps
    ]
    head = (
        f"预警时间 {incident.start:%m-%d %H:%M}，平台：{'、'.join(incident.platforms)}，"
        f"主题词：{'、'.join(terms[:5])}。黄金 3 小时任务："
        if zh
        else f"Alerted {incident.start:%m-%d %H:%M}; platforms: {', '.join(incident.platforms)}; "
        f"terms: {', '.join(terms[:5])}. Golden-3-hours tasks:"
    )
    return Message(
        key=f"crisis:{found.id}:alert",
        title=found.title_zh if zh else found.title_en,
        body="\n".join([head, *lines]),
        severity="critical" if incident.level <= 2 else "warning",
        lang=lang,
    )


def crisis_incidents(log: DecisionLog, *, status: str | None = None) -> list[Incident]:
    """The crisis incidents of the log (oldest first)."""
    return [i for i in log.incidents(status=status) if i.rule == RULE]


def playbook_of(log: DecisionLog, incident_id: int) -> Playbook:
    """The playbook of a logged crisis: its tasks with owners, deadlines and completion times.

    Raises:
        DecisionError: no such incident, or not a crisis.
    """
    d = log.incident(incident_id)
    if d.incident.rule != RULE:
        raise DecisionError(
            f"incident #{incident_id} is not a crisis ({d.incident.rule})",
            fix="see `luopan crisis list`",
        )
    tasks = tuple(
        Task(
            a.kind.removeprefix(TASK_KIND),
            a.owner,
            pd.Timestamp(a.due_at),
            a.title_zh,
            a.title_en,
            bool(a.expected_impact.get("is_response")),
            pd.Timestamp(a.closed_at) if a.status == "done" and a.closed_at else None,
        )
        for a in d.actions
        if a.kind.startswith(TASK_KIND)
    )
    ev = d.incident.evidence
    return Playbook(str(incident_id), int(ev["level"]), pd.Timestamp(ev["start"]), tasks)


def mark_done(
    log: DecisionLog, incident_id: int, task: str, *, now: dt.datetime, note: str | None = None
) -> None:
    """Log a playbook task (e.g. ``holding``, the first public response) as done at ``now``.

    Raises:
        DecisionError: no such task on the incident (the message lists the tasks).
    """
    d = log.incident(incident_id)
    keys = {a.kind.removeprefix(TASK_KIND): a for a in d.actions if a.kind.startswith(TASK_KIND)}
    if task not in keys:
        raise DecisionError(
            f"incident #{incident_id} has no task {task!r}",
            fix=f"tasks: {', '.join(keys) or '(none: not a crisis)'}",
        )
    log.set_action_status(keys[task].id, "done", now=now, note=note)


@dataclass(frozen=True)
class EscalationReport:
    incident_id: int
    sent: tuple[Message, ...] = ()
    already: int = 0  # escalations logged by an earlier check
    deliveries: tuple[dict[str, Any], ...] = field(default=())


def escalate(
    log: DecisionLog,
    incident_id: int,
    config: CrisisConfig,
    *,
    now: dt.datetime,
    dispatcher: Dispatcher | None = None,
    lang: Lang = "zh",
) -> EscalationReport:
    """Escalate the overdue tasks and the silence of one crisis at ``now``, each once.

    Every new escalation is logged as a diagnosis (method ``crisis_escalation``) and sent to
    ``config.channels`` through ``dispatcher`` (when given).
    """
    pb = playbook_of(log, incident_id)
    d = log.incident(incident_id)
    if d.incident.status in ("resolved", "dismissed"):
        return EscalationReport(incident_id)
    done = {g.detail.get("key") for g in d.diagnoses if g.method == ESCALATION}
    msgs = escalations(
        pb,
        pd.Timestamp(now),
        escalate_to=config.escalation_owner,
        lang=lang,
        silence_min=config.silence_minutes,
    )
    other: Lang = "en" if lang == "zh" else "zh"
    twin = {
        m.key: m
        for m in escalations(
            pb,
            pd.Timestamp(now),
            escalate_to=config.escalation_owner,
            lang=other,
            silence_min=config.silence_minutes,
        )
    }
    new = [m for m in msgs if m.key not in done]
    sent: list[dict[str, Any]] = []
    for m in new:
        deliveries = _send(dispatcher, config.channels, m)
        sent += deliveries
        zh, en = (m, twin[m.key]) if lang == "zh" else (twin[m.key], m)
        log.add_diagnosis(
            incident_id,
            method=ESCALATION,
            summary_zh=f"{zh.title}：{zh.body}",
            summary_en=f"{en.title}: {en.body}",
            detail={
                "key": m.key,
                "at": str(now),
                "to": config.escalation_owner,
                "deliveries": deliveries,
            },
            now=now,
        )
    return EscalationReport(incident_id, tuple(new), len(msgs) - len(new), tuple(sent))
