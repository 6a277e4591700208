"""The decision log on SQLite and on the local PostgreSQL: idempotent incidents, the full
incident → diagnosis → action → outcome chain, status rules, and a run killed midway."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from luopan.decisions import DecisionLog
from luopan.errors import DecisionError

T0 = dt.datetime(2026, 10, 20, 9, 0)
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _incident(log: DecisionLog, period: str = "2026-W43", **kw: object):
    args = dict(
        rule="dau_swing",
        metric="dau",
        slice={"channel": "miniprogram", "region": "华东"},
        period=period,
        severity="high",
        title_zh="日活下降 20%",
        title_en="DAU fell 20%",
        evidence={"observed": 42.4, "expected": 53.2, "interval": [48.0, 58.0]},
        now=T0,
    )
    args.update(kw)
    return log.open_incident(**args)  # type: ignore[arg-type]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DecisionLog]:
    if request.param == "sqlite":
        with DecisionLog(f"sqlite:///{tmp_path / 'meta.sqlite'}") as store:
            yield store
        return
    schema = f"luopan_t_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG)
    with admin.begin() as con:
        con.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        with DecisionLog(f"{PG}?options=-csearch_path%3D{schema}") as store:
            yield store
    finally:
        with admin.begin() as con:
            con.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_the_same_incident_is_opened_once(log: DecisionLog) -> None:
    first, created = _incident(log)
    again, created_again = _incident(log, evidence={"observed": 1.0})
    assert created and not created_again
    assert again.id == first.id and again.evidence["observed"] == 42.4
    other, created_other = _incident(log, period="2026-W44")
    assert created_other and other.id != first.id
    assert [i.id for i in log.incidents()] == [first.id, other.id]
    assert first.slice == {"channel": "miniprogram", "region": "华东"}


def test_incident_chain_round_trips(log: DecisionLog) -> None:
    inc, _ = _incident(log)
    log.add_diagnosis(
        inc.id,
        method="riskloc",
        summary_zh="华东 × 小程序 贡献 72%",
        summary_en="East China × mini-program explains 72%",
        detail={"causes": [["channel=miniprogram&region=华东", 0.72]]},
        now=T0,
    )
    due = T0 + dt.timedelta(hours=24)
    action = log.add_action(
        inc.id,
        kind="recall",
        title_zh="召回流失用户",
        title_en="Recall lapsed users",
        owner="ops@brand",
        due_at=due,
        expected_impact={"metric": "dau", "change": 0.1},
        holdout={"share": 0.1, "salt": "r1"},
        now=T0,
    )
    log.set_action_status(action, "done", now=T0 + dt.timedelta(hours=20), note="sent 1,200")
    log.record_outcome(
        action,
        metric="dau",
        method="holdout difference",
        estimate=0.08,
        lower=0.02,
        upper=0.14,
        detail={"n_treated": 1200, "n_holdout": 130},
        now=T0 + dt.timedelta(days=14),
    )
    log.set_incident_status(inc.id, "resolved", now=T0 + dt.timedelta(days=14))
    d = log.incident(inc.id)
    assert d.incident.status == "resolved" and d.incident.closed_at == T0 + dt.timedelta(days=14)
    assert [g.method for g in d.diagnoses] == ["riskloc"]
    assert d.diagnoses[0].detail["causes"][0][1] == 0.72
    (a,) = d.actions
    assert (a.status, a.owner, a.note, a.holdout["share"]) == (
        "done",
        "ops@brand",
        "sent 1,200",
        0.1,
    )
    assert not a.overdue(T0 + dt.timedelta(days=30))
    (o,) = d.outcomes
    assert (o.estimate, o.lower, o.upper) == (0.08, 0.02, 0.14)


def test_overdue_and_status_rules(log: DecisionLog) -> None:
    inc, _ = _incident(log)
    a = log.add_action(
        inc.id,
        kind="task",
        title_zh="排查",
        title_en="Investigate",
        owner="pr",
        due_at=T0 + dt.timedelta(hours=1),
        expected_impact={},
        now=T0,
    )
    (act,) = log.actions(status="proposed")
    assert act.id == a and not act.overdue(T0 + dt.timedelta(minutes=59))
    assert act.overdue(T0 + dt.timedelta(minutes=61))
    with pytest.raises(DecisionError, match="unknown action status 'finished'"):
        log.set_action_status(a, "finished", now=T0)
    with pytest.raises(DecisionError, match="no incident #999"):
        log.incident(999)
    with pytest.raises(DecisionError, match="does not contain the estimate"):
        log.record_outcome(
            a, metric="dau", method="did", estimate=0.5, lower=0.0, upper=0.2, detail={}, now=T0
        )
    assert log.incident(inc.id).outcomes == []


_KILLED = """
import datetime as dt, os, sys
from luopan.decisions import DecisionLog
import luopan.decisions.store as store
log = DecisionLog(sys.argv[1])
inc, _ = log.open_incident(rule="r", metric="m", slice={}, period="p", severity="low",
                           title_zh="t", title_en="t", evidence={}, now=dt.datetime(2026, 1, 1))
def dying(*a, **k):  # the process dies inside the outcome's transaction
    os._exit(9)
with log._tx() as con:
    con.execute(store._actions.insert().values(
        incident_id=inc.id, kind="k", title_zh="t", title_en="t", owner="o", status="proposed",
        due_at=dt.datetime(2026, 1, 2), expected_impact="{}", holdout="{}",
        created_at=dt.datetime(2026, 1, 1)))
    dying()
"""


def test_a_run_killed_midway_leaves_the_log_consistent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'meta.sqlite'}"
    r = subprocess.run(
        [sys.executable, "-c", _KILLED, url], capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 9, r.stderr
    with DecisionLog(url) as log:
        (inc,) = log.incidents()
        assert log.actions() == []  # the half-written action was rolled back
        assert log.incident(inc.id).actions == []


def test_cli_lists_shows_and_closes(tmp_path: Path) -> None:
    (tmp_path / "luopan.yaml").write_text("name: t\n", encoding="utf-8")
    from luopan.workspace import Workspace

    ws = Workspace.open(tmp_path)
    with DecisionLog(ws.metadata_url) as log:
        inc, _ = _incident(log)
    env = {"LUOPAN_LANG": "en", "COLUMNS": "200", "PATH": "/usr/bin:/bin"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "luopan", "decisions", *args, "-w", str(tmp_path)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )

    r = run("list", "--json")
    assert r.returncode == 0, r.stderr
    assert [(i["id"], i["status"], i["title_en"]) for i in json.loads(r.stdout)] == [
        (inc.id, "open", "DAU fell 20%")
    ]
    r = run("show", str(inc.id))
    assert r.returncode == 0 and "DAU fell 20%" in r.stdout and "miniprogram" in r.stdout
    r = run("close", str(inc.id), "--status", "dismissed")
    assert r.returncode == 0 and "dismissed" in r.stdout
    assert json.loads(run("list", "--json").stdout)[0]["status"] == "dismissed"
    r = run("show", "999")
    assert r.returncode == 1 and "no incident #999" in r.stderr and "Traceback" not in r.stderr


def test_cli_list_table_names_severity_and_status_and_fits_a_narrow_terminal(
    tmp_path: Path,
) -> None:
    from rich.cells import cell_len

    (tmp_path / "luopan.yaml").write_text("name: t\n", encoding="utf-8")
    from luopan.workspace import Workspace

    ws = Workspace.open(tmp_path)
    with DecisionLog(ws.metadata_url) as log:
        _incident(log)
    out = {}
    for cols in ("80", "200"):
        env = {"LUOPAN_LANG": "zh", "COLUMNS": cols, "PATH": "/usr/bin:/bin"}
        r = subprocess.run(
            [sys.executable, "-m", "luopan", "decisions", "list", "-w", str(tmp_path)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert r.returncode == 0, r.stderr
        out[cols] = r.stdout
    narrow, wide = out["80"], out["200"]
    for text in (narrow, wide):
        assert "未处理" in text and "高" in text and "open" not in text  # in the page's language
    assert max(cell_len(line) for line in narrow.splitlines()) <= 80
    assert "切片" in wide and "切片" not in narrow  # the slice moves under the title
    assert "channel=miniprogram" in narrow.replace("\n", "").replace("│", "").replace(" ", "")
