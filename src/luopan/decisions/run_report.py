"""The record of one ``luopan run`` pass and its zh/en summary and report file."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from luopan.decisions.outcomes import VerifyReport
from luopan.decisions.store import Incident
from luopan.workspace import Workspace

__all__ = ["RunReport", "report_lines", "write_report"]


@dataclass
class RunReport:
    """What one pass did, with the time each step took."""

    timings: dict[str, float] = field(default_factory=dict)
    files_loaded: int = 0
    rules_evaluated: list[str] = field(default_factory=list)
    rules_skipped: dict[str, str] = field(default_factory=dict)
    firings: int = 0
    opened: list[Incident] = field(default_factory=list)
    already_open: int = 0
    actions: int = 0
    notified: int = 0
    notify_failures: list[str] = field(default_factory=list)
    rule_timings: dict[str, float] = field(default_factory=dict)
    resumed: int = 0  # actions added to incidents a killed run left unfinished
    verified: VerifyReport | None = None

    @property
    def total_seconds(self) -> float:
        return sum(self.timings.values())


def report_lines(report: RunReport, lang: str) -> list[str]:
    """A short zh/en summary of a run (the CLI prints it; the report file holds it)."""
    zh = lang == "zh"
    lines = [
        (
            f"新入库文件 {report.files_loaded} 个；评估规则 {len(report.rules_evaluated)} 条，"
            f"触发 {report.firings} 次；新开事件 {len(report.opened)} 个（已存在 {report.already_open}"
            f" 个）；新建行动 {report.actions} 项；用时 {report.total_seconds:.1f} 秒"
        )
        if zh
        else (
            f"{report.files_loaded} files loaded; {len(report.rules_evaluated)} rules evaluated, "
            f"{report.firings} firings; {len(report.opened)} incidents opened "
            f"({report.already_open} already open); {report.actions} actions; "
            f"{report.total_seconds:.1f} s"
        ),
    ]
    v = report.verified
    if v is not None and (v.recorded or v.unmeasurable):
        lines.append(
            f"结果验证：新记录 {len(v.recorded)} 项，无法衡量 {len(v.unmeasurable)} 项"
            if zh
            else f"outcomes: {len(v.recorded)} recorded, {len(v.unmeasurable)} cannot be measured"
        )
    for name, why in report.rules_skipped.items():
        lines.append(f"{'跳过' if zh else 'skipped'} {name}: {why}")
    for failure in report.notify_failures:
        lines.append(f"{'未完成' if zh else 'failed'}: {failure}")
    return lines


def write_report(ws: Workspace, report: RunReport, lang: str, now: dt.datetime) -> Path:
    folder = ws.root / "reports"
    folder.mkdir(exist_ok=True)
    path = folder / f"run-{now:%Y%m%d-%H%M%S}.md"
    body = ["# " + ("罗盘运行报告" if lang == "zh" else "luopan run report"), ""]
    body += [f"- {line}" for line in report_lines(report, lang)]
    body += ["", "| " + ("步骤 | 秒" if lang == "zh" else "step | s") + " |", "|---|---:|"]
    body += [f"| {k} | {v:.2f} |" for k, v in report.timings.items()]
    body += ["", "## " + ("新事件" if lang == "zh" else "new incidents"), ""]
    body += [
        f"- #{i.id} [{i.severity}] {i.title(lang)} {i.slice or ''} {i.period}"
        for i in report.opened
    ]
    path.write_text("\n".join(body) + "\n", encoding="utf-8")
    return path
