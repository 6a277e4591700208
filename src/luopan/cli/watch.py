"""``luopan watch``: run the loop when source files land (debounced) and every N minutes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from luopan.cli.common import WORKSPACE_OPTION, open_workspace

console = Console()

_REASON = {
    "start": {"zh": "启动", "en": "start"},
    "files": {"zh": "新文件", "en": "new files"},
    "schedule": {"zh": "定时", "en": "schedule"},
}


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
        workspace: Path = WORKSPACE_OPTION,
    ) -> None:
        """Run the loop whenever source files land, and every N minutes; Ctrl-C stops it
        cleanly. 监控数据源：新文件到达或定时即运行闭环，Ctrl-C 安全退出。

        Example / 示例: luopan watch -w demo-world --every 15
        """
        from luopan.decisions.loop import report_lines, run_loop, write_report
        from luopan.decisions.watch import watch as watch_loop
        from luopan.ingest.pipeline import now_local

        ws, lang = open_workspace(workspace)

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
        )
        if result.interrupted:
            console.print(
                f"已停止，共运行 {result.runs} 次"
                if lang == "zh"
                else f"stopped after {result.runs} runs"
            )
