"""``luopan listening watch --open`` and ``luopan crisis list|show|done|check|review`` on a workspace."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers import make_workspace, write_csv
from luopan.cli.main import app
from luopan.errors import ConfigError
from luopan.ingest.pipeline import ingest_workspace

BURST = "太差了，买的肉变质了，吃完拉肚子"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    rows = [["mention_id", "platform", "published_at", "text", "author_followers", "likes"]]
    for d in range(28):
        rows.append(
            [
                f"Q{d}",
                "抖音",
                f"2026-03-{d + 1:02d} 15:00:00",
                "质量很好，非常满意，会回购",
                "100",
                "5",
            ]
        )
    for k, plat in enumerate(["微博", "抖音", "小红书"]):
        rows.append([f"B{k}", plat, f"2026-03-29 10:0{k}:00", BURST, "300", "80"])
    rows.append(["R0", "微博", "2026-03-29 10:03:00", f"转发微博//@甲:{BURST}", "50", "0"])
    for d in range(1, 4):
        rows.append(
            [f"A{d}", "抖音", f"2026-03-{29 + d:02d} 15:00:00", "质量很好，非常满意", "100", "5"]
        )
    root = tmp_path / "ws"
    write_csv(root / "exports" / "mentions.csv", rows)
    (root / "crisis.yaml").parent.mkdir(parents=True, exist_ok=True)
    (root / "crisis.yaml").write_text(
        "owners: {legal_pr: 张律师, pr: 李公关, operations: 王运营, ceo: 陈总}\nescalate_to: ceo\n",
        encoding="utf-8",
    )
    w = make_workspace(
        root,
        [{"name": "m", "path": "exports/mentions.csv", "table": "mentions"}],
        as_of="2026-04-02 00:00:00",
    )
    assert [r.status for r in ingest_workspace(w)] == ["loaded"]
    return root


def _run(*args: str) -> object:
    r = CliRunner().invoke(app, list(args))
    assert r.exit_code == 0, (r.output, r.exception)
    return json.loads(r.output) if "--json" in args else r.output


def test_watch_opens_a_crisis_and_the_playbook_runs_on_the_clock(ws: Path) -> None:
    w = ("-w", str(ws))
    (inc,) = _run("listening", "watch", "--open", "--json", *w)  # type: ignore[misc]
    # reposts folded (R0), 3 negatives on 3 platforms with food safety + health, each post
    # engaged 16× a usual one: sentiment 1 + reach 1 + spread 1 + watchlist 2 = 5 → level 2
    assert (inc["start"], inc["level"], inc["created"]) == ("2026-03-29 10:05:00", 2, True)
    assert inc["terms"][0] == "变质" and inc["tasks"][1]["owner"] == "李公关"
    again = _run("listening", "watch", "--open", "--json", *w)
    assert again[0]["created"] is False  # type: ignore[index]
    (listed,) = _run("crisis", "list", "--json", *w)  # type: ignore[misc]
    assert listed["id"] == inc["incident_id"] and listed["evidence"]["level"] == 2
    table = str(_run("crisis", "list", *w))
    assert "未处理" in table and " open " not in table  # the status in the page's language
    iid = str(inc["incident_id"])
    _run("crisis", "done", iid, "team", "--at", "2026-03-29 10:20", *w)
    checked = _run("crisis", "check", "--at", "2026-03-29 11:10", "--json", *w)
    assert checked[0]["sent"] == [
        f"crisis:{iid}:overdue:holding",  # type: ignore[index]
        f"crisis:{iid}:overdue:contain",
        f"crisis:{iid}:silence",
    ]
    assert _run("crisis", "check", "--at", "2026-03-29 11:15", "--json", *w)[0]["sent"] == []  # type: ignore[index]
    _run("crisis", "done", iid, "holding", "--at", "2026-03-29 11:12", "--note", "微博声明", *w)
    shown = _run("crisis", "show", iid, "--at", "2026-03-29 11:20", "--json", *w)
    states = {t["task"]: t["state"] for t in shown["tasks"]}  # type: ignore[index]
    assert states == {
        "team": "done",
        "holding": "done",
        "contain": "overdue",
        "compensate": "open",
        "outreach": "open",
        "ceo": "open",
    }
    assert len(shown["escalations"]) == 3  # type: ignore[index]
    rev = _run("crisis", "review", iid, "--json", *w)
    assert rev["first_response_min"] == 67 and rev["tasks_late"] == 1  # type: ignore[index]
    assert rev["peak_negatives"] == 3 and rev["back_to_baseline_at"] is not None  # type: ignore[index]
    text = _run("crisis", "show", iid, "--at", "2026-03-29 11:20", *w)
    assert "已超时" in str(text) and "李公关" in str(text)


def test_bad_crisis_config_names_file_and_line(ws: Path) -> None:
    (ws / "crisis.yaml").write_text("owners:\n  intern: 小王\n", encoding="utf-8")
    r = CliRunner().invoke(app, ["crisis", "check", "-w", str(ws)])
    assert isinstance(r.exception, ConfigError)
    assert "crisis.yaml:2" in str(r.exception) and "'legal_pr'" in str(r.exception)


def test_done_on_an_unknown_incident(ws: Path) -> None:
    r = CliRunner().invoke(app, ["crisis", "done", "99", "team", "-w", str(ws)])
    assert "no incident #99" in str(r.exception)
