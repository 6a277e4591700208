"""The demo world's planted crisis (ground_truth.json → crisis), seen by the listening engines.

The mentions export is classified by the default sentiment model (0.5 threshold), watched in
stream mode every 5 minutes of event time, and the complaint terms of the first three hours
are compared with the 28 days before.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from luopan.engines.listening import (
    complaint_terms,
    default_model,
    escalations,
    open_playbook,
    watch,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, dict]:
    from luopan.demo import generate

    root = tmp_path_factory.mktemp("listening-dw")
    generate(root, seed=7, customers=3000, days=400, stores=6)
    m = pd.read_csv(root / "exports" / "social" / "mentions.csv", dtype=str, keep_default_na=False)
    m = m.drop_duplicates(subset=["mention_id"]).reset_index(drop=True)
    m["published_at"] = pd.to_datetime(m["published_at"])
    return m, json.loads((root / "ground_truth.json").read_text(encoding="utf-8"))["crisis"]


def test_planted_crisis_alerted_at_level_with_topic(world: tuple[pd.DataFrame, dict]) -> None:
    m, truth = world
    negative = default_model().score(m["text"].tolist()) < 0.5
    incidents = watch(m, negative)
    start = pd.Timestamp(truth["start"])
    assert len(incidents) == 1  # nothing in the quiet months before or after
    inc = incidents[0]
    assert pd.Timedelta(0) <= inc.start - start <= pd.Timedelta(minutes=10)
    assert truth["level"] == "重大" and inc.level == 2 and inc.label["zh"] == truth["level"]
    pool = m[(m.published_at >= start) & (m.published_at < start + pd.Timedelta(hours=3))]
    base = m[(m.published_at < start) & (m.published_at >= start - pd.Timedelta(days=28))]
    terms = complaint_terms(pool["text"][negative[pool.index]].tolist(), base["text"].tolist())
    assert truth["topic"] in [t.term for t in terms[:3]]
    # the playbook opened from the alert escalates when its tasks are left open
    pb = open_playbook(inc, {"pr": "李公关"}, key="demo")
    assert escalations(pb, inc.start + pd.Timedelta(minutes=20)) == []
    late = escalations(pb, inc.start + pd.Timedelta(minutes=61))
    assert [msg.key for msg in late] == [
        "crisis:demo:overdue:team",
        "crisis:demo:overdue:holding",
        "crisis:demo:overdue:contain",
        "crisis:demo:silence",
    ]
