"""``luopan metrics …``, ``luopan scorecard`` and ``luopan tree`` on the demo world."""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from luopan.cli.main import app
from luopan.metrics.labels import sparkline
from luopan.workspace import Workspace

PAID = ["paid", "shipped", "completed", "refunded"]


@pytest.fixture(scope="module")
def run(world: Workspace) -> Any:
    runner = CliRunner()

    def invoke(*args: str, lang: str = "en") -> Any:
        return runner.invoke(
            app, [*args, "-w", str(world.root)], env={"LUOPAN_LANG": lang, "COLUMNS": "200"}
        )

    return invoke


def test_list_and_show(run: Any) -> None:
    r = run("metrics", "list", "--json")
    assert r.exit_code == 0, r.output
    rows = {m["name"]: m for m in json.loads(r.output)}
    assert rows["gmv"]["north_star"] and rows["aov"]["label"]["zh"] == "客单价"
    r = run("metrics", "show", "aov", lang="zh")
    assert r.exit_code == 0 and "gmv / orders" in r.output and "客单价" in r.output
    assert "retail.yaml:" in r.output


def test_query_json_and_csv_match_pandas(run: Any, frames: dict[str, pd.DataFrame]) -> None:
    r = run(
        "metrics",
        "query",
        "gmv",
        "--grain",
        "month",
        "--by",
        "channel",
        "--from",
        "2026-09-01",
        "--to",
        "2026-11-01",
        "--compare",
        "pop",
        "--json",
    )
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    o = frames["orders"]
    o = o[o.status.isin(PAID)]
    per = o.groupby([o.ordered_at.dt.to_period("M").astype(str), "channel"]).paid_amount.sum()
    assert len(rows) == 12
    for row in rows:
        assert math.isclose(row["value"], per[(row["period"], row["channel"])], rel_tol=1e-9)
        prev = str(pd.Period(row["period"]) - 1)
        assert math.isclose(row["compare_value"], per[(prev, row["channel"])], rel_tol=1e-9)
    r = run(
        "metrics",
        "query",
        "orders",
        "--grain",
        "week",
        "--from",
        "2026-11-02",
        "--to",
        "2026-11-16",
        "--csv",
    )
    lines = r.output.strip().splitlines()
    assert lines[0] == "period,value" and [x.split(",")[0] for x in lines[1:]] == [
        "2026-W45",
        "2026-W46",
    ]


def test_scorecard_and_tree(run: Any) -> None:
    r = run("scorecard", "--period", "2026-10", "--json")
    assert r.exit_code == 0, r.output
    card = json.loads(r.output)
    assert card["period"] == "2026-10" and card["rows"][0]["metric"] == "gmv"
    assert {row["status"] for row in card["rows"]} <= {"green", "amber", "red", "none"}
    r = run("scorecard", "--period", "2026-W45", lang="zh")
    assert r.exit_code == 0 and "平衡计分卡 · 2026-W45" in r.output and "成交额GMV ★" in r.output
    r = run("tree", "gmv", "--period", "2026-10", "--baseline", "2026-09", "--json")
    tree = json.loads(r.output)
    top = [n for n in tree["nodes"] if n["depth"] == 1]
    assert [n["metric"] for n in top] == ["buyers", "orders_per_buyer", "aov"]
    assert math.isclose(
        sum(n["contribution"] for n in top), tree["nodes"][0]["change"], rel_tol=1e-9
    )
    r = run("tree", "gmv", "--period", "2026-W45")  # baseline defaults to the week before
    assert r.exit_code == 0 and "2026-W45 vs 2026-W44" in r.output


def test_check_and_errors(run: Any) -> None:
    r = run("metrics", "check", "--json")
    assert r.exit_code == 0, r.output
    verdict = json.loads(r.output)
    assert verdict["passed"] and verdict["north_star"] == "gmv"
    assert [c["passed"] for c in verdict["criteria"]] == [True, True, True]
    r = run("metrics", "query", "gmvv")
    assert r.exit_code != 0 and "unknown metric 'gmvv'" in str(r.exception)


def test_sparkline() -> None:
    assert sparkline([1.0, 2.0, 3.0, float("nan"), 8.0]) == "▁▂▃ █"
    assert sparkline([float("nan")]) == ""
