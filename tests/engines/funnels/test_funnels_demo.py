"""The lenses on the demo world: pandas agreement, the planted over-promoted group, the content
trend (18% -> 53%), realized DAU, and the CLI on the same warehouse.

The session ``demo_world`` fixture takes about two minutes to build here, hence ``slow``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import ibis
import pandas as pd
import pytest
from funnels_refs import assert_matches_ref, compare, funnel_ref, lifecycle_ref, retention_ref

from luopan.engines.funnels import funnel
from luopan.engines.funnels.community import community_health
from luopan.engines.funnels.content import content_matrix
from luopan.engines.funnels.lifecycle import lifecycle, stickiness
from luopan.engines.funnels.retention import retention

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated"),
]
STEPS = ["view", "add_to_cart", "checkout", "pay"]


@pytest.fixture(scope="module")
def con(demo_world):
    ws, _ = demo_world
    c = ibis.duckdb.connect(str(ws.warehouse_path), read_only=True)
    yield c
    c.disconnect()


@pytest.fixture(scope="module")
def events(con) -> pd.DataFrame:
    return (
        con.table("events")
        .select("event_id", "user_id", "event_time", "event_name", "channel")
        .to_pandas()
    )


@pytest.mark.parametrize(
    ("mode", "window"),
    [("ordered", "14d"), ("ordered", "1h"), ("strict", "1d"), ("any_order", "7d")],
)
def test_demo_funnel_matches_pandas(con, events, mode, window) -> None:
    r = funnel(con.table("events"), STEPS, window=window, mode=mode, by="channel")
    secs = {"14d": 14 * 86400, "1h": 3600, "1d": 86400, "7d": 7 * 86400}[window]
    assert_matches_ref(r, funnel_ref(events, STEPS, secs, mode, by="channel"), STEPS)
    assert (
        r.steps.query("breakdown == '(all)'")["users"].iloc[0]
        == events.loc[events["event_name"] == "view", "user_id"].nunique()
        or mode == "any_order"
    )


def test_demo_retention_and_lifecycle_match_pandas(con, events) -> None:
    for kind in ("first_time", "recurring"):
        compare(
            retention(con.table("events"), period="week", kind=kind, periods=8),
            retention_ref(events, "week", kind, 8),
        )
    got = lifecycle(con.table("events"), period="week").table
    want = lifecycle_ref(events)
    pd.testing.assert_frame_equal(got[want.columns], want, check_dtype=False)


def test_demo_dau_is_the_planted_realized_dau(con, demo_world) -> None:
    _, truth = demo_world
    daily = stickiness(con.table("events")).daily.set_index("date")["dau"]
    want = {pd.Timestamp(d): v for d, v in truth["dau_by_day"].items() if v}
    assert {d: int(daily[d]) for d in want} == want


def test_demo_overpromoted_group_is_the_only_one_flagged(con, demo_world) -> None:
    _, truth = demo_world
    r = community_health(con.table("communities"))
    planted = truth["overpromoted_group"]
    assert r.flagged == [planted["group_id"]]
    row = r.groups.set_index("group_id").loc[planted["group_id"]]
    # the estimate (vs the other groups) is near the realized 67% drop
    assert row["did_effect"] == pytest.approx(-planted["realized_drop"], abs=0.08)
    assert row["promo_share_rise"] > 0.3
    others = r.groups[r.groups["group_id"] != planted["group_id"]]
    assert others["activity_change"].abs().max() < 0.1


def test_demo_content_natural_share_trend(con, demo_world) -> None:
    _, truth = demo_world
    r = content_matrix(con.table("content"))
    assert r.share_start == pytest.approx(truth["content"]["natural_share_start"], abs=0.02)
    assert r.share_end == pytest.approx(truth["content"]["natural_share_end"], abs=0.02)
    assert r.monthly["natural_share"].iloc[-1] > r.monthly["natural_share"].iloc[0] + 0.25
    assert r.matrix["items"].sum() == con.table("content").count().to_pyarrow().as_py()


def luopan(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "luopan", *args],
        capture_output=True,
        text=True,
        env={"LUOPAN_LANG": "en", "COLUMNS": "200", "PATH": "/usr/bin:/bin"},
        timeout=300,
    )


def test_cli_funnel_and_community_json(con, demo_world, tmp_path: Path) -> None:
    ws, truth = demo_world
    out = tmp_path / "dropped.csv"
    r = luopan(
        "funnel",
        "--steps",
        "view,add_to_cart,checkout,pay",
        "--window",
        "14d",
        "--by",
        "channel",
        "--json",
        "--dropped-at",
        "3",
        "--csv",
        str(out),
        "-w",
        str(ws.root),
    )
    assert r.returncode == 0, r.stderr
    payload = json.loads(r.stdout)
    engine = funnel(con.table("events"), STEPS, by="channel")
    assert [x["users"] for x in payload["rows"]] == engine.steps["users"].tolist()
    drop = engine.steps.query("breakdown == '(all)'")["users"].tolist()
    assert len(pd.read_csv(out)) == drop[2] - drop[3]
    r = luopan("community", "--json", "-w", str(ws.root))
    assert json.loads(r.stdout)["flagged"] == [truth["overpromoted_group"]["group_id"]]
    r = luopan("lifecycle", "-w", str(ws.root))
    assert r.returncode == 0 and "resurrecting" in r.stdout


def test_cli_without_warehouse_explains(tmp_path: Path) -> None:
    assert luopan("init", str(tmp_path / "ws")).returncode == 0
    r = luopan("retention", "-w", str(tmp_path / "ws"))
    assert r.returncode == 1 and "no warehouse yet" in r.stderr and "Traceback" not in r.stderr
