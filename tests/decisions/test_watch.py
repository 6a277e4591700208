"""``luopan watch``: runs at start, on new files (debounced), on schedule; Ctrl-C stops it."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import make_workspace, write_csv
from luopan.decisions.loop import RunReport
from luopan.decisions.watch import source_signature, watch
from luopan.workspace import Workspace

SOURCE = {"name": "shop", "path": "exports/shop/*.csv", "preset": "tmall_orders"}


class FakeTime:
    """A clock whose sleep advances it and fires the events due by then."""

    def __init__(self) -> None:
        self.now = 0.0
        self.events: list[tuple[float, object]] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        for at, fn in sorted(self.events, key=lambda e: e[0]):
            if at <= self.now:
                self.events.remove((at, fn))
                fn()  # type: ignore[operator]


@pytest.fixture()
def ws(tmp_path: Path) -> Workspace:
    workspace = make_workspace(tmp_path / "ws", [SOURCE])
    write_csv(tmp_path / "ws" / "exports" / "shop" / "a.csv", [["订单编号"], ["1"]])
    return workspace


def _runner(t: FakeTime, log: list[float], stop_after: int | None = None):
    def run() -> str:
        if stop_after is not None and len(log) >= stop_after:
            raise KeyboardInterrupt
        log.append(t.now)
        return f"run {len(log)}"

    return run


def test_signature_sees_new_and_changed_files(ws: Workspace) -> None:
    first = source_signature(ws)
    assert [Path(p).name for p, _, _ in first] == ["a.csv"]
    write_csv(ws.root / "exports" / "shop" / "b.csv", [["订单编号"], ["2"]])
    (ws.root / "exports" / "other.csv").write_text("x\n", encoding="utf-8")  # not a source
    second = source_signature(ws)
    assert [Path(p).name for p, _, _ in second] == ["a.csv", "b.csv"]


def test_once_runs_a_single_time_without_waiting(ws: Workspace) -> None:
    t, runs = FakeTime(), []
    seen: list[tuple[str, object]] = []
    result = watch(
        ws,
        run=_runner(t, runs),
        max_runs=1,
        clock=t.clock,
        sleep=t.sleep,
        on_run=lambda reason, out: seen.append((reason, out)),
    )
    assert (result.runs, result.reasons, result.interrupted) == (1, ["start"], False)
    assert seen == [("start", "run 1")] and t.now == 0.0


def test_new_files_run_the_loop_once_they_stop_changing(ws: Workspace) -> None:
    t, runs = FakeTime(), []
    shop = ws.root / "exports" / "shop"
    t.events.append((12.0, lambda: write_csv(shop / "b.csv", [["订单编号"], ["2"]])))
    # the copy is still growing 6 s later: the debounce starts again
    t.events.append((18.0, lambda: write_csv(shop / "b.csv", [["订单编号"], ["2"], ["3"]])))
    result = watch(
        ws, run=_runner(t, runs), poll=5, debounce=10, max_runs=2, clock=t.clock, sleep=t.sleep
    )
    assert result.reasons == ["start", "files"]
    # seen at the poll of t=15, changed again by t=20, stable for 10 s: the run is at t=30
    assert runs == [0.0, 30.0]


def test_schedule_runs_every_n_minutes_without_new_files(ws: Workspace) -> None:
    t, runs = FakeTime(), []
    result = watch(
        ws, run=_runner(t, runs), poll=30, every=2, max_runs=3, clock=t.clock, sleep=t.sleep
    )
    assert result.reasons == ["start", "schedule", "schedule"]
    assert runs == [0.0, 120.0, 240.0]


def test_ctrl_c_stops_cleanly_with_the_runs_done(ws: Workspace) -> None:
    t, runs = FakeTime(), []
    result = watch(
        ws, run=_runner(t, runs, stop_after=2), poll=10, every=1, clock=t.clock, sleep=t.sleep
    )
    assert (result.runs, result.interrupted) == (2, True)
    assert runs == [0.0, 60.0]


def test_the_watch_command(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    import luopan.decisions.loop as loop
    from luopan.cli.main import app

    calls: list[Workspace] = []

    def fake_run_loop(w: Workspace, **_: object) -> RunReport:
        calls.append(w)
        if len(calls) == 3:  # Ctrl-C during the second command's second run
            raise KeyboardInterrupt
        return RunReport(files_loaded=3, timings={"ingest": 0.5})

    monkeypatch.setattr(loop, "run_loop", fake_run_loop)
    monkeypatch.setenv("LUOPAN_LANG", "en")
    runner = CliRunner()
    once = runner.invoke(app, ["watch", "--once", "-w", str(ws.root)])
    assert once.exit_code == 0, once.output
    assert len(calls) == 1 and "start: 3 files loaded" in once.output
    assert len(list((ws.root / "reports").glob("run-*.md"))) == 1
    stopped = runner.invoke(app, ["watch", "--every", "0.01", "--poll", "0.05", "-w", str(ws.root)])
    assert stopped.exit_code == 0, stopped.output
    assert "stopped after 1 runs" in stopped.output and len(calls) == 3
