"""``luopan run``: one pass of the loop (ingest → rules → incidents → diagnosis → actions)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from luopan.cli.common import WORKSPACE_OPTION, open_workspace

console = Console()


def register(app: typer.Typer) -> None:
    @app.command()
    def run(
        backfill: bool = typer.Option(
            False, "--backfill", help="evaluate the whole history / 回溯评估全部历史"
        ),
        no_ingest: bool = typer.Option(False, "--no-ingest", help="skip ingest / 不导入数据"),
        as_json: bool = typer.Option(False, "--json", help="JSON output / 输出 JSON"),
        workspace: Path = WORKSPACE_OPTION,
    ) -> None:
        """Ingest, evaluate the rules, open incidents, diagnose, log actions. 运行一次闭环。

        Example / 示例: luopan run -w demo-world --backfill
        """
        from luopan.decisions.loop import report_lines, run_loop, write_report
        from luopan.ingest.pipeline import now_local

        ws, lang = open_workspace(workspace)
        with console.status("luopan run …") as status:
            report = run_loop(
                ws,
                backfill=backfill,
                ingest=not no_ingest,
                progress=lambda s: status.update(f"luopan run: {s}"),
            )
        path = write_report(ws, report, lang, now_local(ws))
        if as_json:
            sys.stdout.write(
                json.dumps(
                    {
                        "timings": report.timings,
                        "files_loaded": report.files_loaded,
                        "rules_evaluated": report.rules_evaluated,
                        "rules_skipped": report.rules_skipped,
                        "firings": report.firings,
                        "already_open": report.already_open,
                        "actions": report.actions,
                        "report": str(path),
                        "rule_timings": report.rule_timings,
                        "notified": report.notified,
                        "failures": report.notify_failures,
                        "outcomes_recorded": report.verified.recorded if report.verified else [],
                        "opened": [
                            {
                                "id": i.id,
                                "rule": i.rule,
                                "metric": i.metric,
                                "slice": i.slice,
                                "period": i.period,
                                "severity": i.severity,
                            }
                            for i in report.opened
                        ],
                    },
                    ensure_ascii=False,
                    default=str,
                )
                + "\n"
            )
            return
        for line in report_lines(report, lang):
            console.print(line)
        table = Table("step / 步骤", "s", title="decision latency / 决策时延")
        for k, v in report.timings.items():
            table.add_row(k, f"{v:.2f}")
        console.print(table)
        console.print(f"{'报告' if lang == 'zh' else 'report'}: {path}")
