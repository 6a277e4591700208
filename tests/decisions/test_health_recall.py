"""The health-index rule on the demo world's planted churn wave (ground_truth['churn_wave']),
evaluated through the engine-series hook, and the user-recall playbook it runs.

Measured on the fixture world (seed 7, 3,000 customers): the planted segment 华南 × store
scores 80.0–82.0 in the six weeks before the wave and 75.7–77.3 from the second week after
it (every other segment stays at 77.9 or above); the article's threshold of 65 is never
reached, so the shipped rule (65 × 3 weeks) does not fire on this world — a rule at 77.5
fires on the planted segment alone, in the fourth week after the wave began."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from test_outcomes import copy_world

from luopan.decisions import DecisionLog
from luopan.decisions.evaluate import evaluate_rule
from luopan.decisions.rules import Rule, default_rules
from luopan.decisions.series import health_index_series

pytestmark = pytest.mark.slow  # the demo_world fixture ingests a world

BY = ("customer__region", "customer__home_channel")


@pytest.fixture(scope="module")
def health(demo_world):
    ws, truth = demo_world
    wave = truth["churn_wave"]
    start = dt.date.fromisoformat(wave["wave_start"]) - dt.timedelta(days=42)
    frame = health_index_series(
        ws,
        grain="week",
        by=BY,
        start=start,
        end=dt.date.fromisoformat(truth["end"]) + dt.timedelta(days=1),
    )
    return frame, wave


def _fired(rule: Rule, frame: pd.DataFrame) -> dict[tuple[str, str], list[pd.Period]]:
    out = {}
    for key, part in frame.groupby(list(BY)):
        series = pd.DataFrame(
            {"value": part["value"].to_numpy()}, index=pd.PeriodIndex(part["period"], freq="W")
        )
        fired = [f.period for f in evaluate_rule(rule, series)]
        if fired:
            out[key] = fired
    return out


def test_health_index_series_sees_the_churn_wave(health) -> None:
    frame, wave = health
    planted = (wave["segment"]["region"], wave["segment"]["home_channel"])
    assert frame["value"].between(0, 100).all()
    weeks = pd.to_datetime(frame["period"])
    start, end = pd.Timestamp(wave["wave_start"]), pd.Timestamp(wave["wave_end"])
    seg = frame.set_index(list(BY))
    mine = seg.loc[planted]
    week = pd.to_datetime(mine["period"])
    before = mine[week + pd.Timedelta(days=6) < start]["value"]  # weeks over before the wave
    after = mine[week >= end + pd.Timedelta(days=7)]["value"]  # from the 2nd week after it
    assert len(before) == 6 and len(after) >= 10
    assert before.min() > 79.5 and after.max() < 77.5
    # the week after the wave, the planted segment is the least healthy one
    late = frame[weeks > end + pd.Timedelta(days=7)]
    lowest = late.loc[late.groupby("period")["value"].idxmin(), list(BY)]
    assert (lowest.apply(tuple, axis=1) == planted).mean() > 0.8


def test_the_shipped_rule_and_a_calibrated_one_on_the_wave(health) -> None:
    frame, wave = health
    shipped = next(r for r in default_rules().rules if r.name == "health_recall")
    assert (shipped.metric, shipped.grain, shipped.by, shipped.for_) == (
        "health_index",
        "week",
        BY,
        3,
    )
    assert _fired(shipped, frame) == {}  # 65 is never reached on this world
    calibrated = shipped.model_copy(
        update={"condition": shipped.condition.model_copy(update={"value": 77.5})}
    )
    fired = _fired(calibrated, frame)
    planted = (wave["segment"]["region"], wave["segment"]["home_channel"])
    assert list(fired) == [planted]
    first = fired[planted][0]
    start = pd.Timestamp(wave["wave_start"])
    assert start <= first.start_time <= pd.Timestamp(wave["wave_end"]) + pd.Timedelta(days=28)


def test_the_user_recall_playbook_builds_a_list_with_a_holdout(demo_world, tmp_path: Path) -> None:
    from luopan.decisions.act import run_playbook
    from luopan.decisions.playbooks import default_playbooks
    from luopan.ingest.pipeline import now_local

    ws = copy_world(demo_world[0], tmp_path)
    wave = demo_world[1]["churn_wave"]
    sl = {
        "customer__region": wave["segment"]["region"],
        "customer__home_channel": wave["segment"]["home_channel"],
    }
    rule = next(r for r in default_rules().rules if r.name == "health_recall")
    playbook = default_playbooks().get("user_recall")
    assert playbook is not None
    now = now_local(ws)
    with DecisionLog(ws.metadata_url) as log:
        incident, _ = log.open_incident(
            rule=rule.name,
            metric="health_index",
            slice=sl,
            period="2026-W37",
            severity="high",
            title_zh=rule.label.zh,
            title_en=rule.label.en,
            evidence={},
            now=now,
        )
        result = run_playbook(ws, log, incident, rule, playbook, now)
        actions = log.incident(incident.id).actions
    assert result.failures == [] and result.actions == 3 and result.notified == 0
    listed, contact, review = actions
    assert listed.kind == "user_recall.recall_list" and listed.holdout["kind"] == "list"
    frame = pd.read_csv(ws.root / listed.holdout["file"], dtype={"customer": "string"})
    assert len(frame) == listed.holdout["customers"] > 10
    assert (frame["group"] == "holdout").sum() == listed.holdout["held_out"] > 0
    assert set(frame["group"]) == {"contact", "holdout"}
    assert frame["expected_value"].is_monotonic_decreasing and (frame["expected_value"] > 0).all()
    import duckdb

    con = duckdb.connect(str(ws.warehouse_path), read_only=True)
    try:
        regions = dict(con.execute("SELECT customer_id, region FROM customers").fetchall())
    finally:
        con.close()
    assert {regions[c] for c in frame["customer"]} == {sl["customer__region"]}
    assert listed.expected_impact["metric"] == "return_rate"
    assert listed.expected_impact["window_days"] == 30
    assert str(len(frame)) in listed.title_zh and str(len(frame)) in listed.title_en
    assert (contact.owner, contact.due_at - now) == ("crm", dt.timedelta(hours=48))
    assert (review.owner, review.due_at - now) == ("ops", dt.timedelta(hours=744))
    assert contact.title_zh != contact.title_en
