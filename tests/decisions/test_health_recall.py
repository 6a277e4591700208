"""The health-index rule on the demo world's planted churn wave (ground_truth['churn_wave']),
evaluated through the engine-series hook and by the decision loop, and the user-recall playbook
it runs.

Measured on the fixture world (seed 7, 3,000 customers) with the index of 2026-11-30 (rhythm
against the customer's own gap, loyalty gated by it; luopan.engines.customers.health) and the
wave of 2026-12-01 (every member of 华南 × store with an order in the 90 days before the wave
and one after it, 64, stops buying in it, 2026-07-20 to 08-09; the recall goes out eight weeks
after it, on 2026-10-04): the planted segment scores 71.5–79.2 in the six weeks before the
wave, 65.9, 64.1, 61.8, 60.0, 59.8, 60.5, 60.9 from the second week after it until the recall,
then recovers to 66.6–73.2 as the recalled return and the lapsed leave the 90-day active set.
No other segment goes below 70.5. The shipped rule (below 65 × 3 weeks) fires once, for the
planted segment only, in the week 2026-09-07/13: the fourth of the ground truth's six
``alert_periods``. The wave of 2026-11-30 (recall six weeks after it) left the rule only the
last of its four alert weeks here and fired a week after them on the 50,000-member world; the
wave of 2026-11-29 and before (half of the members active in the 60 days before, recall two
weeks after the wave) took the segment only to 68.1–71.3 and the rule fired nowhere."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from test_outcomes import copy_world

from luopan.decisions import DecisionLog
from luopan.decisions.evaluate import Firing, evaluate_rule
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


def _fired(rule: Rule, frame: pd.DataFrame) -> dict[tuple[str, str], list[Firing]]:
    out = {}
    for key, part in frame.groupby(list(BY)):
        series = pd.DataFrame(
            {"value": part["value"].to_numpy()}, index=pd.PeriodIndex(part["period"], freq="W")
        )
        fired = evaluate_rule(rule, series)
        if fired:
            out[key] = fired
    return out


def test_health_index_series_sees_the_churn_wave(demo_world, health) -> None:
    frame, wave = health
    recall = pd.Timestamp(demo_world[1]["recall"]["recall_date"])
    planted = (wave["segment"]["region"], wave["segment"]["home_channel"])
    assert frame["value"].between(0, 100).all()
    start, end = pd.Timestamp(wave["wave_start"]), pd.Timestamp(wave["wave_end"])
    wide = frame.pivot_table(index=list(BY), columns="period", values="value")
    weeks = pd.to_datetime(wide.columns)
    before = wide.loc[:, weeks + pd.Timedelta(days=6) < start]  # weeks over before the wave
    after = wide.loc[:, weeks >= end + pd.Timedelta(days=7)]  # from the 2nd week after it
    # until the recall goes out (its returns come from the next day on)
    alert = after.loc[:, pd.to_datetime(after.columns) + pd.Timedelta(days=6) <= recall]
    assert (before.shape[1], alert.shape[1], after.shape[1]) == (6, 7, 13)
    mine_before, mine_after = before.loc[planted], after.loc[planted]
    assert (mine_before.min(), mine_before.max()) == pytest.approx((71.48, 79.16), abs=0.01)
    assert alert.loc[planted].round(1).tolist() == [65.9, 64.1, 61.8, 60.0, 59.8, 60.5, 60.9]
    # the recalled come back and the lapsed leave the active set: up again, not to the baseline
    assert mine_after.max() == pytest.approx(73.25, abs=0.01)
    # the fall from the segment's own baseline: the planted one falls most, every week
    fall = after.rsub(before.mean(axis=1), axis=0)
    assert all(key == planted for key in fall.idxmax())
    assert fall.loc[planted, alert.columns].min() > 10.0  # 10.3-16.4 until the recall
    assert fall.loc[planted].min() > 2.5  # 3.0 eight weeks after the recall
    assert fall.drop(index=planted).max().max() < 2.5  # 2.2
    assert frame.set_index(list(BY)).drop(index=planted)["value"].min() > 70.5  # 70.54


def test_the_shipped_rule_fires_for_the_planted_segment_in_the_alert_weeks(
    demo_world, health
) -> None:
    from luopan.engines.customers.health import health_index

    frame, wave = health
    planted = (wave["segment"]["region"], wave["segment"]["home_channel"])
    shipped = next(r for r in default_rules().rules if r.name == "health_recall")
    assert (shipped.metric, shipped.grain, shipped.by, shipped.for_) == (
        "health_index",
        "week",
        BY,
        3,
    )
    assert shipped.condition.value == 65
    fired = _fired(shipped, frame)
    assert list(fired) == [planted]  # no other segment, and once: not before the wave
    (firing,) = fired[planted]
    assert str(firing.period) == "2026-09-07/2026-09-13" == wave["alert_periods"][3]
    assert firing.period.start_time > pd.Timestamp(wave["wave_end"])
    assert (firing.value, firing.streak) == (pytest.approx(59.99, abs=0.01), 3)
    below = frame[frame["value"] < 65]
    assert set(zip(below[BY[0]], below[BY[1]], strict=True)) == {planted}
    assert [f"{p:%Y-%m-%d}" for p in below["period"]] == [
        "2026-08-24",
        "2026-08-31",
        "2026-09-07",
        "2026-09-14",
        "2026-09-21",
        "2026-09-28",
    ]
    # why: the churned are 40-53% of the segment's active members and fall ever lower, while the
    # others stay above 65
    ws = demo_world[0]
    con = duckdb.connect(str(ws.warehouse_path), read_only=True)
    try:
        orders = con.sql(
            "select customer_id as customer, channel, cast(ordered_at as date) as day, "
            "coalesce(paid_amount, 0) - coalesce(refund_amount, 0) as amount "
            "from orders where customer_id is not null"
        ).df()
        regions = con.sql("select customer_id, region from customers").df()
        complaints = con.sql(
            "select customer_id as customer, created_at as day from tickets "
            "where customer_id is not null"
        ).df()
    finally:
        con.close()
    orders = orders[orders["amount"] > 0].assign(customer=lambda d: d["customer"].astype(str))
    customers = pd.read_parquet(ws.root / "truth" / "customers.parquet")
    churned = set(customers.loc[customers["churned_in_wave"], "customer_id"])
    assert len(churned) == wave["n_churned"] == wave["n_active_at_wave"] == 64
    home = orders.groupby("customer")["channel"].agg(lambda c: c.value_counts().index[0])
    region = regions.set_index("customer_id")["region"].reindex(home.index)
    members = home.index[(home == "store") & (region == wave["segment"]["region"])]
    day = pd.to_datetime(orders["day"])
    shares, gone_means, other_means = [], [], []
    for k in range(2, 9):  # the Sundays ending the weeks 2026-08-17 ... 2026-09-28
        cut = pd.Timestamp(wave["wave_end"]) + pd.Timedelta(days=7 * k)
        h = health_index(orders, cut, complaints=complaints).customers["health"]
        recent = orders.loc[(day > cut - pd.Timedelta(days=90)) & (day <= cut), "customer"]
        active = h[h.index.isin(members) & h.index.isin(recent)]
        gone = active.index.isin(churned)
        shares.append(gone.mean())
        gone_means.append(active[gone].mean())
        other_means.append(active[~gone].mean())
        value = frame.loc[(frame[BY[0]] == planted[0]) & (frame[BY[1]] == planted[1])]
        week = value.loc[value["period"] == cut - pd.Timedelta(days=6), "value"]
        assert active.mean() == pytest.approx(week.item())  # the series is this mean
    assert all(0.39 < s < 0.54 for s in shares)  # 0.534 ... 0.396
    assert gone_means == pytest.approx([64.58, 59.61, 55.05, 52.11, 48.94, 45.52, 43.88], abs=0.01)
    assert min(other_means) > 66.5  # 66.9-72.0


def test_the_loop_opens_the_health_incident_in_the_alert_weeks(demo_world, tmp_path: Path) -> None:
    from luopan.decisions.loop import run_loop

    ws = copy_world(demo_world[0], tmp_path)
    wave = demo_world[1]["churn_wave"]
    report = run_loop(ws, backfill=True, ingest=False)
    assert "health_recall" in report.rules_evaluated
    with DecisionLog(ws.metadata_url) as log:
        health = [i for i in log.incidents() if i.rule == "health_recall"]
        assert [(i.slice, i.period) for i in health] == [
            (
                {
                    "customer__region": wave["segment"]["region"],
                    "customer__home_channel": wave["segment"]["home_channel"],
                },
                "2026-09-07/2026-09-13",
            )
        ]
        assert health[0].period in wave["alert_periods"]
        actions = log.incident(health[0].id).actions
    assert [a.kind for a in actions] == [
        "user_recall.recall_list",
        "user_recall.task",
        "user_recall.task",
    ]


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


def test_recalls_of_one_run_share_the_scores_and_a_sampled_fit_ranks_alike(
    demo_world, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two slices' recall lists reuse one CLV × churn scoring of every customer; trained on a
    random sample of customers (as beyond MAX_TRAINING_CUSTOMERS), the churn risk still ranks
    the customers nearly as the model trained on all of them (Spearman ρ > 0.95)."""
    from luopan.decisions import act
    from luopan.decisions.playbooks import Step

    ws = copy_world(demo_world[0], tmp_path)
    step = Step(kind="recall_list", horizon_days=45)
    calls: list[int] = []
    from luopan.engines.customers import churn

    fit = churn.ChurnModel.fit

    def counted(self, occasions, cutoff, lines=None):  # type: ignore[no-untyped-def]
        calls.append(occasions["customer"].nunique())
        # the order lines' SKUs (product mix) of the same (sampled) customers
        assert lines is not None and set(lines["customer"]) <= set(occasions["customer"])
        return fit(self, occasions, cutoff, lines)

    monkeypatch.setattr(churn.ChurnModel, "fit", counted)
    act._SCORES.clear()
    a = act.recall_frame(ws, {"customer__region": "华南"}, step)
    b = act.recall_frame(ws, {"customer__region": "华东"}, step)
    assert len(calls) == 1 and len(a) > 10 and len(b) > 10
    full = act._scores(ws, 45)["p_churn"]
    everyone = calls[0]
    act._SCORES.clear()
    monkeypatch.setattr(act, "MAX_TRAINING_CUSTOMERS", everyone // 2)
    sampled = act._scores(ws, 45)["p_churn"]
    assert calls[1] == everyone // 2 and sampled.index.equals(full.index)
    assert full.corr(sampled, method="spearman") > 0.95
    act._SCORES.clear()
