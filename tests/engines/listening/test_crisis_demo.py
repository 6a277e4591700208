"""Acceptance on the demo world: the planted crisis, alerted and handled by the playbook.

The ingested ``mentions`` table (reposts folded) is classified by the default sentiment model
(0.5 threshold) and watched in stream mode every 5 minutes of event time over the whole
400 days; the alert opens a crisis in a scratch decision log with owners from a config, and the
playbook's escalation is checked on the event clock.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from luopan.decisions.store import DecisionLog
from luopan.engines.listening import (
    CrisisConfig,
    complaint_terms,
    default_model,
    reach_tiers,
    review_crisis,
    watch,
)
from luopan.engines.listening.feed import dedup_reposts
from luopan.engines.listening.receive import load_mentions
from luopan.engines.listening.response import escalate, open_crisis, playbook_of
from luopan.notify.channel import Outcome
from luopan.notify.dispatch import Dispatcher
from luopan.notify.message import Message


class Inbox:
    name, kind, rate_limits = "pr_wecom", "wecom", ()

    def __init__(self) -> None:
        self.sent: list[Message] = []

    def send(self, message: Message) -> Outcome:
        self.sent.append(message)
        return Outcome(ok=True)


@pytest.fixture(scope="module")
def seen(demo_world):  # noqa: ANN001, ANN201
    ws, truth = demo_world
    m = load_mentions(ws)
    m["reach_tier"] = reach_tiers(m["author_followers"])
    m, _ = dedup_reposts(m)
    negative = default_model().score(m["text"].tolist()) < 0.5
    return m, negative, watch(m, negative), truth["crisis"]


def test_planted_crisis_alerted_within_10_min_at_its_level(seen) -> None:  # noqa: ANN001
    m, _, incidents, truth = seen
    start = pd.Timestamp(truth["start"])
    assert m["published_at"].max() - m["published_at"].min() > pd.Timedelta(days=390)
    # one incident in 400 days: none in the quiet months before or after the planted one
    assert len(incidents) == 1
    inc = incidents[0]
    assert pd.Timedelta(0) <= inc.start - start <= pd.Timedelta(minutes=10)
    # the first alert already carries the planted level (重大 = 2), and it stays there
    assert truth["level"] == "重大" == inc.label["zh"]
    assert inc.first_level == inc.level == 2
    assert inc.alerts[0].rules_version == "crisis-score/3"


def test_planted_topic_is_a_top_complaint_term(seen) -> None:  # noqa: ANN001
    m, negative, incidents, truth = seen
    start = incidents[0].start
    t = m["published_at"]
    pool = m["text"][
        ((t >= start - pd.Timedelta(minutes=30)) & (t < start + pd.Timedelta(hours=3))).to_numpy()
        & negative
    ]
    base = m["text"][(t < start - pd.Timedelta(minutes=30)) & (t >= start - pd.Timedelta(days=28))]
    terms = [x.term for x in complaint_terms(pool.tolist(), base.tolist(), top=5)]
    assert terms[0] == truth["topic"] and truth["topic_zh"] in terms


def test_playbook_escalates_when_tasks_are_left_open(seen, tmp_path: Path) -> None:  # noqa: ANN001
    m, negative, incidents, _ = seen
    inc = incidents[0]
    cfg = CrisisConfig(owners={"pr": "李公关", "ceo": "陈总"}, channels=("pr_wecom",))
    inbox = Inbox()
    disp = Dispatcher({"pr_wecom": inbox}, clock=lambda: 0.0, sleep=lambda s: None)
    with DecisionLog(f"sqlite:///{tmp_path / 'meta.sqlite'}") as log:
        found, created = open_crisis(
            log, inc, cfg, now=inc.start.to_pydatetime(), terms=["变质"], dispatcher=disp
        )
        assert created and found.severity == "critical"
        quiet = escalate(
            log,
            found.id,
            cfg,
            now=(inc.start + pd.Timedelta(minutes=20)).to_pydatetime(),
            dispatcher=disp,
        )
        assert quiet.sent == ()
        late = escalate(
            log,
            found.id,
            cfg,
            now=(inc.start + pd.Timedelta(minutes=61)).to_pydatetime(),
            dispatcher=disp,
        )
        assert [x.key.split(":", 2)[2] for x in late.sent] == [
            "overdue:team",
            "overdue:holding",
            "overdue:contain",
            "silence",
        ]
        assert [x.key.split(":")[-1] for x in inbox.sent] == [
            "alert",
            "team",
            "holding",
            "contain",
            "silence",
        ]
        assert "陈总" in late.sent[0].body
        pb = playbook_of(log, found.id)
    # the review: the burst's volume returns to baseline within a day and sentiment recovers
    r = review_crisis(m, negative, inc.start, tasks=pb.tasks, now=inc.start + pd.Timedelta(days=10))
    assert r.peak_negatives >= 5 and r.hours_to_baseline is not None and r.hours_to_baseline < 24
    assert r.net_sentiment_during is not None and r.net_sentiment_before is not None
    assert r.net_sentiment_during < r.net_sentiment_before - 0.3 and r.sentiment_recovered
    assert r.tasks_open == 6 and r.first_response_min is None


def test_cli_topics_of_the_burst_window_name_the_planted_topic(demo_world) -> None:  # noqa: ANN001
    import json

    from typer.testing import CliRunner

    from luopan.cli.main import app

    ws, truth = demo_world
    crisis = truth["crisis"]
    args = ["listening", "topics", "-w", str(ws.root), "--json", "--top", "5"]
    r = CliRunner().invoke(app, [*args, "--since", str(crisis["start"])])
    assert r.exit_code == 0, r.output
    burst = json.loads(r.output)
    assert burst[0]["term"] == crisis["topic"]  # 变质: first in the window, absent before
    assert burst[0]["baseline_count"] == 0 and burst[0]["watchlist"] == "food_safety"
    r = CliRunner().invoke(app, args)  # negative against positive over the whole history
    assert r.exit_code == 0, r.output
    whole = [t["term"] for t in json.loads(r.output)]
    assert crisis["topic"] not in whole  # the 400 days of everyday complaints drown it
    r = CliRunner().invoke(app, [*args, "--since", "soon"])
    assert r.exit_code != 0 and "--since 'soon' is not a date" in str(r.exception)
