"""``luopan watch``: run the loop when source files land (debounced) and every N minutes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from luopan.cli.common import WORKSPACE_OPTION, open_workspace

console = Console()

_KIND = {
    "daily": {"zh": "日报", "en": "daily report"},
    "weekly": {"zh": "周报", "en": "weekly report"},
}
_SENT = {"zh": "通道已送达", "en": "channels delivered"}
_REASON = {
    "start": {"zh": "启动", "en": "start"},
    "files": {"zh": "新文件", "en": "new files"},
    "schedule": {"zh": "定时", "en": "schedule"},
}


def report_tick(
    ws: Any,
    lang: str,
    schedule: Any,
    *,
    clock: Callable[[], dt.datetime] | None = None,
) -> Callable[[], list[Path]]:
    """A watcher tick that writes (and, with a notify.yaml, sends) each report when it is due.

    The slot is recorded before the report is built, so a failing channel is reported once
    per slot, not on every poll; the watcher keeps running either way.
    """
    from zoneinfo import ZoneInfo

    from luopan.cli.report import send_report
    from luopan.errors import LuopanError
    from luopan.notify.config import NOTIFY_FILE
    from luopan.reports import build_report, write_report
    from luopan.reports.schedule import due_reports, mark_sent

    folder = ws.root / "reports"

    def now() -> dt.datetime:
        if clock is not None:
            return clock()
        return dt.datetime.now(ZoneInfo(ws.config.timezone)).replace(tzinfo=None)

    def tick() -> list[Path]:
        current = now()
        written: list[Path] = []
        for kind in due_reports(schedule, current, folder):
            mark_sent(folder, kind, current)
            try:
                built = build_report(ws, kind=kind, lang=lang)
                files = write_report(ws, kind=kind, lang=lang, pdf=False, report=built)
                written += files
                sent = ""
                if (ws.root / NOTIFY_FILE).is_file():
                    deliveries = send_report(ws, built, files)
                    ok = sum(d.ok for d in deliveries)
                    sent = f" ({ok}/{len(deliveries)} {_SENT[lang]})"
                console.print(f"{_KIND[kind][lang]}: {files[0]}{sent}", highlight=False)
            except LuopanError as exc:
                console.print(f"[red]{_KIND[kind][lang]}: {exc}[/]", highlight=False)
        return written

    return tick


def register(app: typer.Typer) -> None:
    @app.command()
    def watch(
        every: float | None = typer.Option(
            None,
            "--every",
            min=0.01,
            help="also run every N minutes / 每 N 分钟运行一次（另外在新文件到达时运行）",
        ),
        poll: float = typer.Option(
            5.0, "--poll", min=0.01, help="seconds between looks at the files / 检查文件间隔(秒)"
        ),
        debounce: float = typer.Option(
            10.0,
            "--debounce",
            min=0.0,
            help="seconds files must stay unchanged / 文件稳定多少秒后运行",
        ),
        once: bool = typer.Option(False, "--once", help="run once and exit / 只运行一次"),
        max_runs: int | None = typer.Option(
            None, "--max-runs", min=1, help="stop after N runs / 运行 N 次后退出"
        ),
        daily_report: str | None = typer.Option(
            None,
            "--daily-report",
            help="write and send the daily report at HH:MM / 每天 HH:MM 生成并发送日报",
        ),
        weekly_report: str | None = typer.Option(
            None,
            "--weekly-report",
            help="weekly report at DAY@HH:MM, e.g. mon@09:00 / 每周生成并发送周报",
        ),
        workspace: Path = WORKSPACE_OPTION,
    ) -> None:
        """Run the loop whenever source files land, and every N minutes; Ctrl-C stops it
        cleanly. 监控数据源：新文件到达或定时即运行闭环，Ctrl-C 安全退出。

        With --daily-report / --weekly-report it also writes the report at that time (workspace
        timezone) and sends it through notify.yaml's channels when there is one.
        可定时生成日报/周报，工作区有 notify.yaml 时同时发送。

        Example / 示例: luopan watch -w demo-world --every 15 --daily-report 08:30
        """
        from luopan.decisions.loop import report_lines, run_loop, write_report
        from luopan.decisions.watch import watch as watch_loop
        from luopan.ingest.pipeline import now_local

        ws, lang = open_workspace(workspace)
        tick = None
        if daily_report or weekly_report:
            from luopan.reports.schedule import parse_schedule

            tick = report_tick(ws, lang, parse_schedule(daily_report, weekly_report))

        def on_run(reason: str, report: Any) -> None:
            path = write_report(ws, report, lang, now_local(ws))
            stamp = dt.datetime.now().strftime("%H:%M:%S")
            console.print(
                f"[bold]{stamp}[/] {_REASON[reason][lang]}: "
                + "; ".join(report_lines(report, lang))
                + f" → {path.name}",
                highlight=False,
            )

        if lang == "zh":
            console.print(
                f"监控 {ws.root}（每 {poll:g} 秒检查文件"
                + (f"，每 {every:g} 分钟运行" if every else "")
                + "）；Ctrl-C 退出"
            )
        else:
            console.print(
                f"watching {ws.root} (files every {poll:g} s"
                + (f", a run every {every:g} min" if every else "")
                + "); Ctrl-C stops"
            )
        result = watch_loop(
            ws,
            run=lambda: run_loop(ws),
            poll=poll,
            debounce=debounce,
            every=every,
            max_runs=1 if once else max_runs,
            on_run=on_run,
            tick=tick,
        )
        if result.interrupted:
            console.print(
                f"已停止，共运行 {result.runs} 次"
                if lang == "zh"
                else f"stopped after {result.runs} runs"
            )
