"""The decision log: incidents, their diagnoses, the actions taken and the measured outcomes.

One small relational store behind SQLAlchemy: SQLite in the workspace by default, PostgreSQL for
a shared deployment (the same code; both are tested). Every write is one transaction, so a run
killed midway leaves either the whole incident/action/outcome or nothing. Incidents are
idempotent by ``dedup_key`` (rule + metric + slice + period): re-evaluating the same data opens
nothing new, it returns the incident already open.

Records are frozen dataclasses; the CLI, API and reports render them. The tables, the status
vocabularies and the record types live in :mod:`luopan.decisions._store_schema`; this module
runs the queries.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from luopan.decisions._store_schema import (
    ACTION_STATUSES,
    INCIDENT_STATUSES,
    Action,
    Diagnosis,
    Incident,
    IncidentDetail,
    Outcome,
    _actions,
    _diagnoses,
    _incidents,
    _meta,
    _outcomes,
    _row,
)
from luopan.errors import DecisionError

__all__ = [
    "Action",
    "DecisionLog",
    "Diagnosis",
    "INCIDENT_STATUSES",
    "Incident",
    "Outcome",
    "ACTION_STATUSES",
]


def _new_id(result: Any) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _dumps(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


class DecisionLog:
    """The decision log over a SQLAlchemy URL (``Workspace.metadata_url``)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = sa.create_engine(url, future=True)
        _meta.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> DecisionLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self.engine.begin() as con:
            yield con

    # ---- incidents --------------------------------------------------------------------

    def open_incident(
        self,
        *,
        rule: str,
        metric: str,
        slice: dict[str, Any],
        period: str,
        severity: str,
        title_zh: str,
        title_en: str,
        evidence: dict[str, Any],
        now: dt.datetime,
    ) -> tuple[Incident, bool]:
        """Open an incident, or return the one already logged for the same key.

        Returns ``(incident, created)``.
        """
        key = _dumps({"rule": rule, "metric": metric, "slice": slice, "period": period})
        with self._tx() as con:
            found = con.execute(sa.select(_incidents).where(_incidents.c.dedup_key == key)).first()
            if found is not None:
                return _row(Incident, found), False
            new_id = _new_id(
                con.execute(
                    _incidents.insert().values(
                        dedup_key=key,
                        rule=rule,
                        metric=metric,
                        slice=_dumps(slice),
                        period=period,
                        severity=severity,
                        status="open",
                        title_zh=title_zh,
                        title_en=title_en,
                        evidence=_dumps(evidence),
                        opened_at=now,
                    )
                )
            )
            row = con.execute(sa.select(_incidents).where(_incidents.c.id == new_id)).one()
        return _row(Incident, row), True

    def set_incident_status(self, incident_id: int, status: str, *, now: dt.datetime) -> None:
        if status not in INCIDENT_STATUSES:
            raise DecisionError(
                f"unknown incident status {status!r}", fix=f"use one of {INCIDENT_STATUSES}"
            )
        closed = now if status in ("resolved", "dismissed") else None
        with self._tx() as con:
            n = con.execute(
                _incidents.update()
                .where(_incidents.c.id == incident_id)
                .values(status=status, closed_at=closed)
            ).rowcount
        if not n:
            raise DecisionError(f"no incident #{incident_id}", fix="see `luopan decisions list`")

    def incidents(self, *, status: str | None = None) -> list[Incident]:
        query = sa.select(_incidents).order_by(_incidents.c.opened_at, _incidents.c.id)
        if status is not None:
            query = query.where(_incidents.c.status == status)
        with self._tx() as con:
            return [_row(Incident, r) for r in con.execute(query)]

    def incident(self, incident_id: int) -> IncidentDetail:
        with self._tx() as con:
            row = con.execute(sa.select(_incidents).where(_incidents.c.id == incident_id)).first()
            if row is None:
                raise DecisionError(
                    f"no incident #{incident_id}", fix="see `luopan decisions list`"
                )
            diagnoses = [
                _row(Diagnosis, r)
                for r in con.execute(
                    sa.select(_diagnoses)
                    .where(_diagnoses.c.incident_id == incident_id)
                    .order_by(_diagnoses.c.id)
                )
            ]
            actions = [
                _row(Action, r)
                for r in con.execute(
                    sa.select(_actions)
                    .where(_actions.c.incident_id == incident_id)
                    .order_by(_actions.c.id)
                )
            ]
            ids = [a.id for a in actions]
            outcomes = (
                [
                    _row(Outcome, r)
                    for r in con.execute(
                        sa.select(_outcomes)
                        .where(_outcomes.c.action_id.in_(ids))
                        .order_by(_outcomes.c.id)
                    )
                ]
                if ids
                else []
            )
        return IncidentDetail(_row(Incident, row), diagnoses, actions, outcomes)

    # ---- diagnoses, actions, outcomes -------------------------------------------------

    def add_diagnosis(
        self,
        incident_id: int,
        *,
        method: str,
        summary_zh: str,
        summary_en: str,
        detail: dict[str, Any],
        now: dt.datetime,
    ) -> int:
        with self._tx() as con:
            return _new_id(
                con.execute(
                    _diagnoses.insert().values(
                        incident_id=incident_id,
                        method=method,
                        summary_zh=summary_zh,
                        summary_en=summary_en,
                        detail=_dumps(detail),
                        created_at=now,
                    )
                )
            )

    def add_action(
        self,
        incident_id: int | None,
        *,
        kind: str,
        title_zh: str,
        title_en: str,
        owner: str,
        due_at: dt.datetime,
        expected_impact: dict[str, Any],
        holdout: dict[str, Any] | None = None,
        now: dt.datetime,
    ) -> int:
        with self._tx() as con:
            return _new_id(
                con.execute(
                    _actions.insert().values(
                        incident_id=incident_id,
                        kind=kind,
                        title_zh=title_zh,
                        title_en=title_en,
                        owner=owner,
                        status="proposed",
                        due_at=due_at,
                        expected_impact=_dumps(expected_impact),
                        holdout=_dumps(holdout or {}),
                        created_at=now,
                    )
                )
            )

    def set_action_status(
        self, action_id: int, status: str, *, now: dt.datetime, note: str | None = None
    ) -> None:
        if status not in ACTION_STATUSES:
            raise DecisionError(
                f"unknown action status {status!r}", fix=f"use one of {ACTION_STATUSES}"
            )
        closed = now if status in ("done", "cancelled") else None
        with self._tx() as con:
            n = con.execute(
                _actions.update()
                .where(_actions.c.id == action_id)
                .values(status=status, closed_at=closed, note=note)
            ).rowcount
        if not n:
            raise DecisionError(f"no action #{action_id}", fix="see `luopan decisions show`")

    def actions(self, *, status: str | None = None) -> list[Action]:
        query = sa.select(_actions).order_by(_actions.c.due_at, _actions.c.id)
        if status is not None:
            query = query.where(_actions.c.status == status)
        with self._tx() as con:
            return [_row(Action, r) for r in con.execute(query)]

    def record_outcome(
        self,
        action_id: int,
        *,
        metric: str,
        method: str,
        estimate: float,
        lower: float,
        upper: float,
        detail: dict[str, Any],
        now: dt.datetime,
    ) -> int:
        if not lower <= estimate <= upper:
            raise DecisionError(
                f"outcome interval [{lower}, {upper}] does not contain the estimate {estimate}",
                fix="pass the interval of the estimate",
            )
        with self._tx() as con:
            return _new_id(
                con.execute(
                    _outcomes.insert().values(
                        action_id=action_id,
                        metric=metric,
                        method=method,
                        estimate=estimate,
                        lower=lower,
                        upper=upper,
                        detail=_dumps(detail),
                        measured_at=now,
                    )
                )
            )

    def outcomes(self, *, action_id: int | None = None) -> list[Outcome]:
        """Measured outcomes, oldest first (of one action with ``action_id``)."""
        query = sa.select(_outcomes).order_by(_outcomes.c.id)
        if action_id is not None:
            query = query.where(_outcomes.c.action_id == action_id)
        with self._tx() as con:
            return [_row(Outcome, r) for r in con.execute(query)]
