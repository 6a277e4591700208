"""`luopan run` on a demo world: the planted DAU drop opens the DAU rule's incident inside its
window, diagnosed to the planted channel × region in both languages; a second run opens nothing.

The world has 20,000 customers (about 350 daily users): the article's "DAU moves more than 15%"
needs a brand big enough that 15% is more than day-to-day noise (the 3,000-customer fixture
world has about 50 daily users, whose noise alone is ±15%)."""

from __future__ import annotations

import datetime as dt
import shutil
import sys
from pathlib import Path

import pytest

from luopan.decisions import DecisionLog
from luopan.decisions.loop import run_loop
from luopan.workspace import Workspace


def _copy(ws: Workspace, root: Path) -> Workspace:
    """The demo workspace's config and warehouse, with an empty decision log."""
    for item in ("luopan.yaml", "warehouse.duckdb", ".luopan"):
        src = ws.root / item
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, root / item)
    (root / ".luopan" / "metadata.sqlite").unlink(missing_ok=True)
    return Workspace.open(root)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    import json

    from luopan.demo import generate
    from luopan.ingest.pipeline import ingest_workspace

    root = tmp_path_factory.mktemp("loop-demo")
    generate(root, seed=7, customers=20000, days=400, stores=10)
    ws = Workspace.open(root)
    assert not [r.message for r in ingest_workspace(ws) if r.status == "failed"]
    return ws, json.loads((root / "ground_truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def world(built, tmp_path_factory: pytest.TempPathFactory):
    ws, truth = built
    return _copy(ws, tmp_path_factory.mktemp("loop-world")), truth


@pytest.mark.slow
def test_planted_dau_drop_is_opened_and_diagnosed(world) -> None:
    ws, truth = world
    drop = truth["dau_drop"]
    start, end = dt.date.fromisoformat(drop["start"]), dt.date.fromisoformat(drop["end"])
    report = run_loop(ws, backfill=True, ingest=False)
    assert "dau_swing" in report.rules_evaluated
    with DecisionLog(ws.metadata_url) as log:
        dau = [i for i in log.incidents() if i.rule == "dau_swing"]
        inside = [i for i in dau if start <= dt.date.fromisoformat(i.period) <= end]
        assert inside, [i.period for i in dau]
        first = min(inside, key=lambda i: i.period)
        assert first.evidence["measure"] < -0.15
        (diag,) = log.incident(first.id).diagnoses
    top = diag.detail["causes"][0]["conditions"]
    assert dict(top) == {"channel": drop["channel"], "customer__region": drop["region"]}
    assert drop["region"] in diag.summary_zh and drop["region"] in diag.summary_en
    assert diag.summary_zh != diag.summary_en
    # false alarms of the DAU rule outside the planted window, per quarter of history
    outside = [i for i in dau if not start <= dt.date.fromisoformat(i.period) <= end]
    quarters = 400 / 91
    assert len(outside) / quarters <= 1.0, [i.period for i in outside]


@pytest.mark.slow
def test_a_second_run_opens_nothing(world) -> None:
    ws, _ = world
    first = run_loop(ws, backfill=True, ingest=False)
    again = run_loop(ws, backfill=True, ingest=False)
    assert again.opened == [] and again.already_open == first.already_open + len(first.opened)
    with DecisionLog(ws.metadata_url) as log:
        assert len(log.incidents()) == first.already_open + len(first.opened)


@pytest.mark.slow
def test_every_shipped_rule_runs_and_each_stage_is_timed(world) -> None:
    ws, _ = world
    report = run_loop(ws, ingest=False)
    # the health index runs through the engine-series hook (luopan.decisions.series)
    assert report.rules_skipped == {}
    assert set(report.rules_evaluated) == {
        "health_recall",
        "dau_swing",
        "promo_roi_low",
        "budget_reserve_low",
        "ltv_cac_low",
        "source_late",
    }
    assert set(report.timings) >= {"config", "metrics", "anomaly", "rules", "freshness", "verify"}
    assert set(report.rule_timings) >= {
        "evaluate health_recall",
        "evaluate dau_swing",
        "decide dau_swing",
    }


@pytest.mark.slow
def test_new_incidents_are_sent_with_their_diagnosis(
    built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sys.path.insert(0, str(Path(__file__).parents[1] / "notify"))
    from notify_receivers import HOOK_SECRET, http_receiver

    ws = _copy(built[0], tmp_path)
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "ops.yaml").write_text(
        "rules:\n"
        "  - name: dau_swing\n"
        "    label: {zh: 日活波动超过15%, en: DAU moved more than 15%}\n"
        "    metric: dau\n"
        "    condition: {kind: change, op: abs_gt, value: 0.15, baseline: same_weekday_4w,"
        " min_z: 3}\n"
        "    cooldown: 7\n"
        "    severity: high\n"
        "    actions: [{kind: open_incident}, {kind: diagnose},"
        " {kind: notify, channels: [ops_hook]}]\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("HOOK_SECRET", HOOK_SECRET)
    with http_receiver() as receiver:
        (tmp_path / "notify.yaml").write_text(
            "language: en\nchannels:\n"
            f"  ops_hook: {{type: webhook, url: '{receiver.base_url}/hook',"
            " secret_env: HOOK_SECRET}\n",
            encoding="utf-8",
        )
        report = run_loop(ws, backfill=True, ingest=False)
    dau = [i for i in report.opened if i.rule == "dau_swing"]
    promo = [i for i in report.opened if i.rule == "promo_roi_low"]
    health = [i for i in report.opened if i.rule == "health_recall"]  # the planted churn wave
    assert dau and promo and report.notify_failures == []
    # on this world the health rule fires in the third of the ground truth's six alert weeks,
    # and again when its four-week cool-down is over and the index is still below 65: the week
    # ending on the recall date
    assert [i.period for i in health] == ["2026-08-31/2026-09-06", "2026-09-28/2026-10-04"]
    assert health[0].period == built[1]["churn_wave"]["alert_periods"][2]
    assert health[1].period.endswith(built[1]["recall"]["recall_date"])
    # the DAU rule's notify action, the promo and the user-recall playbooks' notify steps
    # (every channel)
    assert report.notified == len(dau) + len(promo) + len(health) == len(receiver.received)
    sent = [r.json() for r in receiver.received]
    assert all(r.reply_status == 200 for r in receiver.received)  # signature verified
    assert {m["key"] for m in sent} == {i.dedup_key for i in dau + promo + health}
    drop = built[1]["dau_drop"]
    assert any(drop["region"] in m["body"] and "DAU moved" in m["title"] for m in sent), sent


@pytest.mark.slow
def test_rca_on_the_warehouse_finds_the_planted_slice(built) -> None:
    from luopan.decisions.diagnose import diagnose_metric, metric_leaves
    from luopan.metrics import connect, load_catalog

    ws, truth = built
    drop = truth["dau_drop"]
    con = connect(ws)
    try:
        catalog = load_catalog(ws)
        kind, leaves = metric_leaves(
            con, catalog, "dau", "2026-10-21", "2026-10-07", ["channel", "customer__region"]
        )
        d = diagnose_metric(con, catalog, "dau", "2026-10-21", "2026-10-07")
        ratio = diagnose_metric(con, catalog, "aov", "2026-W43", "2026-W41", dims=["channel"])
    finally:
        con.disconnect()
    assert kind == "additive" and leaves["real"].sum() == d.result.real
    assert d.result.elements[0] == f"channel={drop['channel']}&customer__region={drop['region']}"
    planted = leaves[
        (leaves["channel"] == drop["channel"]) & (leaves["customer__region"] == drop["region"])
    ].iloc[0]
    assert d.result.causes[0].real == planted["real"]
    assert drop["region"] in d.summary_zh and drop["region"] in d.summary_en
    # a ratio KPI is searched through its numerator and denominator
    assert ratio.kind == "ratio" and ratio.result.kind == "ratio"


@pytest.mark.slow
def test_the_promo_rule_runs_its_playbook_and_the_recall_is_verified(world) -> None:
    """The low-ROI campaign opens promo_roi_low, whose playbook logs the pause (carrying the
    expected impact on ROI) and the review task; the planted recall, logged with its holdout,
    is verified: the interval covers the planted true effect (ground_truth['recall'])."""
    from luopan.ingest.pipeline import now_local

    ws, truth = world
    low = truth["low_roi_campaign"]
    run_loop(ws, backfill=True, ingest=False)
    now = now_local(ws)
    recall = truth["recall"]
    with DecisionLog(ws.metadata_url) as log:
        promo = [i for i in log.incidents() if i.rule == "promo_roi_low"]
        assert {i.slice["campaign_id"] for i in promo} == {low["campaign_id"]}
        assert {i.period for i in promo} == {low["low_periods"][-1]}
        actions = log.incident(promo[0].id).actions
        assert [a.kind for a in actions] == [
            "pause_and_optimise.pause_campaign",
            "pause_and_optimise.task",
        ]
        assert low["campaign_id"] in actions[0].title_zh
        assert actions[0].expected_impact["metric"] == "promo_roi"
        assert actions[0].owner == "marketing"
        action = log.add_action(
            None,
            kind="recall",
            title_zh="召回",
            title_en="recall",
            owner="crm",
            due_at=now,
            expected_impact={
                "metric": "return_rate",
                "direction": "up",
                "window_days": recall["window_days"],
                "start": recall["recall_date"],
            },
            holdout={"kind": "experiment", "experiment_id": recall["experiment_id"]},
            now=now,
        )
    report = run_loop(ws, ingest=False)
    assert report.opened == [] and report.verified is not None
    assert len(report.verified.recorded) == 1
    with DecisionLog(ws.metadata_url) as log:
        (o,) = log.outcomes(action_id=action)
    assert o.detail["treated"]["customers"] == recall["n_treated"]
    # the same difference recomputed here from the loaded orders: a returner is a member of the
    # arm with a day of positive net spend in (recall date, recall date + window]
    landed = _landed_rates(ws, recall)
    assert o.estimate == pytest.approx(landed["treatment"] - landed["holdout"])
    # the generator's realized rates count returns before store stock-outs drop some orders
    assert landed["treatment"] <= recall["realized_response_treated"]
    assert landed["holdout"] <= recall["realized_response_holdout"]
    assert landed["treatment"] >= recall["realized_response_treated"] - 0.05
    assert o.lower <= recall["true_effect"] <= o.upper
    assert o.verdict == "worked" and o.lower > 0


def _landed_rates(ws: Workspace, recall: dict) -> dict[str, float]:
    """Share of each arm of the recall experiment that bought in the window (from the
    warehouse's orders and assignments, independently of the verification code)."""
    import duckdb

    start = dt.date.fromisoformat(recall["recall_date"])
    end = start + dt.timedelta(days=recall["window_days"])
    con = duckdb.connect(str(ws.warehouse_path), read_only=True)
    try:
        rows = con.execute(
            """WITH spend AS (
                 SELECT customer_id, CAST(ordered_at AS DATE) AS d,
                        sum(coalesce(paid_amount, 0) - coalesce(refund_amount, 0)) AS amount
                 FROM orders WHERE customer_id IS NOT NULL GROUP BY 1, 2),
               back AS (SELECT DISTINCT customer_id FROM spend
                        WHERE amount > 0 AND d > ? AND d <= ?)
               SELECT a.variant, avg(CASE WHEN b.customer_id IS NULL THEN 0.0 ELSE 1.0 END)
               FROM (SELECT DISTINCT unit_id, variant FROM assignments
                     WHERE experiment_id = ?) a
               LEFT JOIN back b ON b.customer_id = a.unit_id
               GROUP BY 1""",
            [start, end, recall["experiment_id"]],
        ).fetchall()
    finally:
        con.close()
    return {str(v): float(r) for v, r in rows}
