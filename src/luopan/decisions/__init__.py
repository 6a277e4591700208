"""Decisions: the log of incidents, diagnoses, actions and measured outcomes (the loop's memory)."""

from luopan.decisions.store import (
    ACTION_STATUSES,
    INCIDENT_STATUSES,
    Action,
    DecisionLog,
    Diagnosis,
    Incident,
    Outcome,
)

__all__ = [
    "ACTION_STATUSES",
    "Action",
    "DecisionLog",
    "Diagnosis",
    "INCIDENT_STATUSES",
    "Incident",
    "Outcome",
]
