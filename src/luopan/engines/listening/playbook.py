"""The golden-3-hours playbook: tasks with owners and deadlines, escalation on a given clock.

Hour 0–1 legal and PR form a team and contain the spread; hour 1–2 operations prepares
compensation and starts segmented outreach; hour 2–3 the CEO speaks with an improvement plan.
Silence is the common mistake, so a missing public response is escalated like an overdue task.
Everything here is a pure function of the incident, the owners and ``now``: the caller supplies
the clock and sends the :class:`~luopan.notify.message.Message` objects it gets back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from luopan.engines.listening.crisis import LEVEL_LABELS, CrisisIncident
from luopan.notify.message import Lang, Message

__all__ = [
    "GOLDEN_3_HOURS",
    "ROLES",
    "CrisisConfig",
    "Playbook",
    "PlaybookTask",
    "Task",
    "complete",
    "escalations",
    "open_playbook",
]


@dataclass(frozen=True)
class PlaybookTask:
    """A step of the playbook: who (a role), what, due minutes after the alert."""

    key: str
    role: str
    due_min: int
    zh: str
    en: str
    is_response: bool = False  # a public statement: its absence is "silence"


GOLDEN_3_HOURS: tuple[PlaybookTask, ...] = (
    PlaybookTask(
        "team", "legal_pr", 30, "法务与公关组建应急小组", "Legal and PR form the response team"
    ),
    PlaybookTask(
        "holding",
        "pr",
        60,
        "发布首次回应（不沉默）",
        "Publish a first holding statement",
        is_response=True,
    ),
    PlaybookTask(
        "contain",
        "pr",
        60,
        "控制传播：联系平台与发帖人核实",
        "Contain the spread: verify with platforms and posters",
    ),
    PlaybookTask(
        "compensate", "operations", 120, "运营准备补偿方案", "Operations prepares compensation"
    ),
    PlaybookTask(
        "outreach",
        "operations",
        120,
        "分群触达受影响顾客",
        "Segmented outreach to affected customers",
    ),
    PlaybookTask(
        "ceo",
        "ceo",
        180,
        "CEO 发声并公布改进方案",
        "The CEO speaks with an improvement plan",
        is_response=True,
    ),
)


ROLES: dict[str, dict[str, str]] = {
    "legal_pr": {"zh": "法务与公关", "en": "legal and PR"},
    "pr": {"zh": "公关", "en": "PR"},
    "operations": {"zh": "运营", "en": "operations"},
    "ceo": {"zh": "CEO", "en": "CEO"},
}


Role = Literal["legal_pr", "pr", "operations", "ceo"]


class CrisisConfig(BaseModel):
    """``crisis.yaml`` in the workspace: who owns each role, whom to escalate to, where to send.

    Example::

        owners: {legal_pr: 张律师, pr: 李公关, operations: 王运营, ceo: 陈总}
        escalate_to: ceo            # a role above, or a person's name
        channels: [pr_wecom]        # channel names in notify.yaml
        silence_minutes: 60         # no public response after this long is escalated
        watchlist: {food_safety: [变质, 异物]}   # replaces the default sensitive-term list
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    owners: dict[Role, str] = Field(default_factory=dict, description="role -> person")
    escalate_to: str = Field(default="ceo", description="role or person escalations go to")
    channels: tuple[str, ...] = Field(default=(), description="notify.yaml channel names")
    silence_minutes: int = Field(default=60, ge=1, le=24 * 60)
    language: Literal["zh", "en"] | None = None
    watchlist: dict[str, tuple[str, ...]] | None = None

    def owner(self, role: str) -> str:
        return self.owners.get(role, role)  # type: ignore[call-overload]

    @property
    def escalation_owner(self) -> str:
        return self.owners.get(self.escalate_to, self.escalate_to)  # type: ignore[call-overload]


@dataclass(frozen=True)
class Task:
    key: str
    owner: str
    due: pd.Timestamp
    zh: str
    en: str
    is_response: bool
    done_at: pd.Timestamp | None = None


@dataclass(frozen=True)
class Playbook:
    incident_key: str
    level: int
    opened_at: pd.Timestamp
    tasks: tuple[Task, ...] = field(default=())


def open_playbook(
    incident: CrisisIncident,
    owners: Mapping[str, str],
    *,
    key: str,
    steps: Sequence[PlaybookTask] = GOLDEN_3_HOURS,
) -> Playbook:
    """The playbook of an incident: every step with its owner (role → person) and deadline."""
    tasks = tuple(
        Task(
            s.key,
            owners.get(s.role, s.role),
            incident.start + pd.Timedelta(minutes=s.due_min),
            s.zh,
            s.en,
            s.is_response,
        )
        for s in steps
    )
    return Playbook(key, incident.level, incident.start, tasks)


def complete(pb: Playbook, task_key: str, at: pd.Timestamp) -> Playbook:
    """The playbook with ``task_key`` marked done at ``at``."""
    tasks = tuple(
        Task(t.key, t.owner, t.due, t.zh, t.en, t.is_response, at) if t.key == task_key else t
        for t in pb.tasks
    )
    return Playbook(pb.incident_key, pb.level, pb.opened_at, tasks)


def escalations(
    pb: Playbook,
    now: pd.Timestamp,
    *,
    escalate_to: str = "ceo",
    lang: Lang = "zh",
    silence_min: int = 60,
) -> list[Message]:
    """Messages for every task open past its deadline at ``now``, and for silence.

    Silence: no response task done ``silence_min`` minutes after the alert. Each message key is
    stable, so the dispatcher (and the decision log) sends it once however often this is called.
    """
    out: list[Message] = []
    level = LEVEL_LABELS[pb.level][lang]
    for t in pb.tasks:
        if t.done_at is None and now > t.due:
            late = int((now - t.due).total_seconds() // 60)
            what = t.zh if lang == "zh" else t.en
            title = (
                f"【舆情{level}】任务超时：{what}"
                if lang == "zh"
                else f"[Crisis {level}] overdue: {what}"
            )
            body = (
                f"负责人 {t.owner}，截止 {t.due:%H:%M}，已超时 {late} 分钟；已升级至 {escalate_to}。"
                if lang == "zh"
                else f"Owner {t.owner}, due {t.due:%H:%M}, {late} min late; escalated to {escalate_to}."
            )
            out.append(
                Message(f"crisis:{pb.incident_key}:overdue:{t.key}", title, body, "critical", lang)
            )
    responded = any(t.is_response and t.done_at is not None and t.done_at <= now for t in pb.tasks)
    if not responded and now - pb.opened_at > pd.Timedelta(minutes=silence_min):
        title = (
            f"【舆情{level}】尚无公开回应"
            if lang == "zh"
            else f"[Crisis {level}] no public response yet"
        )
        body = (
            f"事发已超过 {silence_min} 分钟仍未发布任何回应，沉默是最常见的错误；已升级至 {escalate_to}。"
            if lang == "zh"
            else f"{silence_min} min without a public response; silence is the common mistake."
            f" Escalated to {escalate_to}."
        )
        out.append(Message(f"crisis:{pb.incident_key}:silence", title, body, "critical", lang))
    return out
