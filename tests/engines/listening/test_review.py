"""Post-crisis review on a synthetic stream with a known baseline, burst and recovery."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from luopan.engines.listening import review_crisis
from luopan.engines.listening.playbook import Task
from luopan.errors import InsufficientDataError

START = pd.Timestamp("2026-03-29 10:00")


def _stream() -> tuple[pd.DataFrame, np.ndarray]:
    rows = []
    for d in range(28):  # 28 days: 4 mentions a day, 1 negative → baseline 1/24 per hour
        day = START - pd.Timedelta(days=28 - d)
        rows += [(day + pd.Timedelta(hours=h), h == 12) for h in (9, 12, 15, 18)]
    for m in range(0, 180, 6):  # 30 negatives in the first 3 hours
        rows.append((START + pd.Timedelta(minutes=m), True))
    for d in range(1, 8):  # a calm week after, slightly better than before
        day = START.normalize() + pd.Timedelta(days=d)
        rows += [(day + pd.Timedelta(hours=h), False) for h in (9, 12, 15, 18)]
    df = pd.DataFrame(rows, columns=["published_at", "neg"])
    return df[["published_at"]], df["neg"].to_numpy()


def test_review_recovery_baseline_and_timeline() -> None:
    m, neg = _stream()
    tasks = [
        Task(
            "holding",
            "李公关",
            START + pd.Timedelta(minutes=60),
            "发布首次回应",
            "holding",
            True,
            START + pd.Timedelta(minutes=45),
        ),
        Task(
            "ceo",
            "陈总",
            START + pd.Timedelta(minutes=180),
            "CEO 发声",
            "CEO speaks",
            True,
            START + pd.Timedelta(minutes=200),
        ),
        Task("outreach", "王运营", START + pd.Timedelta(minutes=120), "触达", "outreach", False),
    ]
    r = review_crisis(
        m,
        neg,
        START,
        tasks=tasks,
        escalations=[(START + pd.Timedelta(minutes=121), "升级", "escalated")],
    )
    assert r.baseline_per_hour == pytest.approx(1 / 24)
    assert r.peak_negatives == 10 and r.peak_at == START
    # trailing 6 h ≤ Poisson 99% quantile of 6/24 (= 2) first at 19:00 (the burst ends 12:54)
    assert r.back_to_baseline_at == pd.Timestamp("2026-03-29 19:00")
    assert r.net_sentiment_before == pytest.approx(0.5)
    assert r.net_sentiment_during == pytest.approx(-1.0)
    assert r.net_sentiment_after == pytest.approx(1.0) and r.sentiment_recovered is True
    assert r.first_response_min == 45 and (r.tasks_done_on_time, r.tasks_late, r.tasks_open) == (
        1,
        1,
        1,
    )
    kinds = [e.kind for e in r.timeline]
    assert kinds[0] == "alert" and kinds[-1] == "baseline" and "escalation" in kinds
    assert [e.at for e in r.timeline] == sorted(e.at for e in r.timeline)
    assert any("超时 20 分钟" in e.zh for e in r.timeline)


def test_no_recovery_while_the_burst_goes_on() -> None:
    m, neg = _stream()
    r = review_crisis(m, neg, START, now=START + pd.Timedelta(hours=2))
    assert r.back_to_baseline_at is None and r.sentiment_recovered is None


def test_review_needs_a_baseline() -> None:
    m = pd.DataFrame({"published_at": [START]})
    with pytest.raises(InsufficientDataError, match="28 days"):
        review_crisis(m, np.array([True]), START)
