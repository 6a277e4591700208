"""The schema of the decision log behind :mod:`luopan.decisions.store`.

Holds the status vocabularies, the SQLAlchemy tables (incidents, diagnoses, actions, outcomes),
the frozen record types the log returns, and the mapping of a row to its record (JSON columns
decoded). No queries live here; :class:`luopan.decisions.store.DecisionLog` runs them.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

__all__ = [
    "ACTION_STATUSES",
    "Action",
    "Diagnosis",
    "INCIDENT_STATUSES",
    "Incident",
    "IncidentDetail",
    "Outcome",
]

INCIDENT_STATUSES = ("open", "acknowledged", "resolved", "dismissed")
ACTION_STATUSES = ("proposed", "in_progress", "done", "cancelled")

_meta = sa.MetaData()
_incidents = sa.Table(
    "incidents",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("dedup_key", sa.String(400), nullable=False, unique=True),
    sa.Column("rule", sa.String(200), nullable=False),
    sa.Column("metric", sa.String(200), nullable=False),
    sa.Column("slice", sa.Text, nullable=False),  # JSON object: dimension -> value
    sa.Column("period", sa.String(40), nullable=False),
    sa.Column("severity", sa.String(20), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("title_zh", sa.Text, nullable=False),
    sa.Column("title_en", sa.Text, nullable=False),
    sa.Column("evidence", sa.Text, nullable=False),  # JSON: observed, expected, interval …
    sa.Column("opened_at", sa.DateTime, nullable=False),
    sa.Column("closed_at", sa.DateTime),
)
_diagnoses = sa.Table(
    "diagnoses",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("incident_id", sa.Integer, sa.ForeignKey("incidents.id"), nullable=False),
    sa.Column("method", sa.String(100), nullable=False),
    sa.Column("summary_zh", sa.Text, nullable=False),
    sa.Column("summary_en", sa.Text, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)
_actions = sa.Table(
    "actions",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("incident_id", sa.Integer, sa.ForeignKey("incidents.id")),
    sa.Column("kind", sa.String(100), nullable=False),
    sa.Column("title_zh", sa.Text, nullable=False),
    sa.Column("title_en", sa.Text, nullable=False),
    sa.Column("owner", sa.String(200), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("due_at", sa.DateTime, nullable=False),
    sa.Column("expected_impact", sa.Text, nullable=False),  # JSON: metric, change, window
    sa.Column("holdout", sa.Text, nullable=False),  # JSON: how the counterfactual is kept
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("closed_at", sa.DateTime),
    sa.Column("note", sa.Text),
)
_outcomes = sa.Table(
    "outcomes",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("action_id", sa.Integer, sa.ForeignKey("actions.id"), nullable=False),
    sa.Column("metric", sa.String(200), nullable=False),
    sa.Column("method", sa.String(100), nullable=False),
    sa.Column("estimate", sa.Float, nullable=False),
    sa.Column("lower", sa.Float, nullable=False),
    sa.Column("upper", sa.Float, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("measured_at", sa.DateTime, nullable=False),
)


@dataclass(frozen=True)
class Incident:
    id: int
    dedup_key: str
    rule: str
    metric: str
    slice: dict[str, Any]
    period: str
    severity: str
    status: str
    title_zh: str
    title_en: str
    evidence: dict[str, Any]
    opened_at: dt.datetime
    closed_at: dt.datetime | None = None

    def title(self, lang: str) -> str:
        return self.title_zh if lang == "zh" else self.title_en


@dataclass(frozen=True)
class Diagnosis:
    id: int
    incident_id: int
    method: str
    summary_zh: str
    summary_en: str
    detail: dict[str, Any]
    created_at: dt.datetime


@dataclass(frozen=True)
class Action:
    id: int
    incident_id: int | None
    kind: str
    title_zh: str
    title_en: str
    owner: str
    status: str
    due_at: dt.datetime
    expected_impact: dict[str, Any]
    holdout: dict[str, Any]
    created_at: dt.datetime
    closed_at: dt.datetime | None = None
    note: str | None = None

    def overdue(self, now: dt.datetime) -> bool:
        return self.status in ("proposed", "in_progress") and now > self.due_at


@dataclass(frozen=True)
class Outcome:
    id: int
    action_id: int
    metric: str
    method: str
    estimate: float
    lower: float
    upper: float
    detail: dict[str, Any]
    measured_at: dt.datetime

    @property
    def verdict(self) -> str | None:
        """``worked``, ``no_effect`` or ``harmful`` (see ``luopan.decisions.verify``)."""
        value = self.detail.get("verdict")
        return None if value is None else str(value)


@dataclass(frozen=True)
class IncidentDetail:
    incident: Incident
    diagnoses: list[Diagnosis] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)


_JSON_FIELDS = {"slice", "evidence", "detail", "expected_impact", "holdout"}


def _row(cls: type, row: Any) -> Any:
    data = dict(row._mapping)
    for k in _JSON_FIELDS & data.keys():
        data[k] = json.loads(data[k])
    return cls(**data)
