"""The crisis in the decision log: incident and tasks, idempotency, escalation once, silence."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from luopan.decisions.store import DecisionLog
from luopan.engines.listening import CrisisConfig, CrisisIncident
from luopan.engines.listening.crisis import CrisisAlert
from luopan.engines.listening.response import (
    crisis_incidents,
    escalate,
    mark_done,
    open_crisis,
    playbook_of,
)
from luopan.errors import DecisionError
from luopan.notify.channel import Outcome, RateLimit
from luopan.notify.dispatch import Dispatcher
from luopan.notify.message import Message

T0 = pd.Timestamp("2026-10-27 09:55")
CFG = CrisisConfig(
    owners={"legal_pr": "张律师", "pr": "李公关", "operations": "王运营", "ceo": "陈总"},
    escalate_to="ceo",
    channels=("pr_wecom",),
)


class FakeChannel:
    name = "pr_wecom"
    kind = "wecom"
    rate_limits: tuple[RateLimit, ...] = ()

    def __init__(self) -> None:
        self.sent: list[Message] = []

    def send(self, message: Message) -> Outcome:
        self.sent.append(message)
        return Outcome(ok=True)


def _incident() -> CrisisIncident:
    pts = {"volume": 0, "sentiment": 1, "reach": 1, "spread": 0, "watchlist": 2}
    alert = CrisisAlert(
        T0, 2, 4, pts, 1, 0.03, ("大众点评",), ("food_safety", "health"), "crisis-score/2"
    )
    return CrisisIncident(T0, 2, (alert,))


def _at(minutes: int) -> dt.datetime:
    return (T0 + pd.Timedelta(minutes=minutes)).to_pydatetime()


@pytest.fixture
def setup(tmp_path: Path):  # noqa: ANN201
    ch = FakeChannel()
    disp = Dispatcher({ch.name: ch}, clock=lambda: 0.0, sleep=lambda s: None)
    log = DecisionLog(f"sqlite:///{tmp_path / 'meta.sqlite'}")
    inc, created = open_crisis(
        log, _incident(), CFG, now=_at(0), terms=["变质", "食品安全"], dispatcher=disp
    )
    yield log, inc, created, ch, disp
    log.close()


def test_crisis_opens_an_incident_with_owned_tasks_and_alerts(setup) -> None:  # noqa: ANN001
    log, inc, created, ch, disp = setup
    assert (
        created and inc.severity == "critical" and inc.title_zh.startswith("舆情重大（2 级）：变质")
    )
    pb = playbook_of(log, inc.id)
    assert [(t.key, t.owner, (t.due - T0).seconds // 60) for t in pb.tasks] == [
        ("team", "张律师", 30),
        ("holding", "李公关", 60),
        ("contain", "李公关", 60),
        ("compensate", "王运营", 120),
        ("outreach", "王运营", 120),
        ("ceo", "陈总", 180),
    ]
    assert [m.key for m in ch.sent] == [f"crisis:{inc.id}:alert"]
    assert "李公关" in ch.sent[0].body and "10:55" in ch.sent[0].body
    # the same alert again opens nothing and sends nothing
    again, created2 = open_crisis(log, _incident(), CFG, now=_at(5), dispatcher=disp)
    assert not created2 and again.id == inc.id and len(ch.sent) == 1
    assert [i.id for i in crisis_incidents(log)] == [inc.id]


def test_overdue_and_silence_escalate_once_each(setup) -> None:  # noqa: ANN001
    log, inc, _, ch, disp = setup
    assert escalate(log, inc.id, CFG, now=_at(29), dispatcher=disp).sent == ()
    mark_done(log, inc.id, "team", now=_at(20))
    r = escalate(log, inc.id, CFG, now=_at(61), dispatcher=disp)
    keys = [m.key for m in r.sent]
    assert keys == [
        f"crisis:{inc.id}:overdue:holding",
        f"crisis:{inc.id}:overdue:contain",
        f"crisis:{inc.id}:silence",
    ]
    assert "陈总" in r.sent[0].body and [m.key for m in ch.sent[1:]] == keys
    # a later check sends only what is new: the operations tasks at +121 min
    later = escalate(log, inc.id, CFG, now=_at(121), dispatcher=disp)
    assert later.already == 3 and [m.key.rsplit(":", 1)[1] for m in later.sent] == [
        "compensate",
        "outreach",
    ]
    d = log.incident(inc.id)
    logged = [g.detail["key"] for g in d.diagnoses if g.method == "crisis_escalation"]
    assert logged == keys + [m.key for m in later.sent]
    assert any("沉默" in g.summary_zh and "silence" in g.summary_en for g in d.diagnoses)


def test_a_logged_response_prevents_the_silence_escalation(setup) -> None:  # noqa: ANN001
    log, inc, _, _, disp = setup
    mark_done(log, inc.id, "holding", now=_at(40), note="微博首次声明")
    keys = [m.key for m in escalate(log, inc.id, CFG, now=_at(61), dispatcher=disp).sent]
    assert f"crisis:{inc.id}:silence" not in keys and len(keys) == 2  # team, contain


def test_closed_crisis_is_not_escalated(setup) -> None:  # noqa: ANN001
    log, inc, _, _, disp = setup
    log.set_incident_status(inc.id, "resolved", now=_at(30))
    assert escalate(log, inc.id, CFG, now=_at(200), dispatcher=disp).sent == ()


def test_unknown_task_and_unknown_role(setup) -> None:  # noqa: ANN001
    log, inc, *_ = setup
    with pytest.raises(DecisionError, match="holding"):
        mark_done(log, inc.id, "lunch", now=_at(1))
    with pytest.raises(ValueError, match="legal_pr"):
        CrisisConfig(owners={"intern": "小王"})
