"""The golden-3-hours playbook as pure functions of a clock."""

from __future__ import annotations

import pandas as pd

from luopan.engines.listening import CrisisIncident, escalations, open_playbook
from luopan.engines.listening.playbook import complete

T0 = pd.Timestamp("2026-10-27 09:55")
OWNERS = {"legal_pr": "张律师", "pr": "李公关", "operations": "王运营", "ceo": "陈总"}


def _pb():  # noqa: ANN202
    return open_playbook(CrisisIncident(T0, 2), OWNERS, key="2026-10-27-0955")


def test_tasks_have_owners_and_deadlines() -> None:
    pb = _pb()
    assert [(t.key, t.owner, t.due - T0) for t in pb.tasks][:2] == [
        ("team", "张律师", pd.Timedelta(minutes=30)),
        ("holding", "李公关", pd.Timedelta(minutes=60)),
    ]
    assert max(t.due for t in pb.tasks) == T0 + pd.Timedelta(hours=3)


def test_nothing_to_escalate_before_deadlines() -> None:
    assert escalations(_pb(), T0 + pd.Timedelta(minutes=29)) == []


def test_overdue_and_silence_escalate() -> None:
    pb = complete(_pb(), "team", T0 + pd.Timedelta(minutes=20))
    msgs = escalations(pb, T0 + pd.Timedelta(minutes=75))
    keys = [m.key for m in msgs]
    assert keys == [
        "crisis:2026-10-27-0955:overdue:holding",
        "crisis:2026-10-27-0955:overdue:contain",
        "crisis:2026-10-27-0955:silence",
    ]
    assert all(m.severity == "critical" for m in msgs)
    assert "李公关" in msgs[0].body and "15 分钟" in msgs[0].body and "重大" in msgs[0].title
    en = escalations(pb, T0 + pd.Timedelta(minutes=75), lang="en")
    assert en[0].title == "[Crisis major] overdue: Publish a first holding statement"


def test_a_response_ends_the_silence_alert() -> None:
    pb = complete(_pb(), "holding", T0 + pd.Timedelta(minutes=40))
    keys = [m.key for m in escalations(pb, T0 + pd.Timedelta(minutes=75))]
    assert keys == ["crisis:2026-10-27-0955:overdue:team", "crisis:2026-10-27-0955:overdue:contain"]
