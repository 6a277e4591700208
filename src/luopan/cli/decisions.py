"""``luopan decisions list|show|close``: the decision log of a workspace."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table

from luopan.cli.common import WORKSPACE_OPTION, open_workspace
from luopan.decisions import DecisionLog

console = Console()

_L = {
    "id": {"zh": "编号", "en": "id"},
    "opened": {"zh": "开启时间", "en": "opened"},
    "period": {"zh": "周期", "en": "period"},
    "rule": {"zh": "规则", "en": "rule"},
    "metric": {"zh": "指标", "en": "metric"},
    "slice": {"zh": "切片", "en": "slice"},
    "severity": {"zh": "级别", "en": "severity"},
    "status": {"zh": "状态", "en": "status"},
    "title": {"zh": "标题", "en": "title"},
    "incidents": {"zh": "事件", "en": "incidents"},
    "none": {"zh": "没有事件", "en": "no incidents"},
    "diagnosis": {"zh": "诊断", "en": "diagnosis"},
    "actions": {"zh": "行动", "en": "actions"},
    "owner": {"zh": "负责人", "en": "owner"},
    "due": {"zh": "截止", "en": "due"},
    "outcomes": {"zh": "结果验证", "en": "outcomes"},
    "estimate": {"zh": "实际影响 (区间)", "en": "realised impact (interval)"},
    "closed": {"zh": "已关闭", "en": "closed"},
}


def _t(key: str, lang: str) -> str:
    return _L[key][lang]


def _now(tz: str) -> dt.datetime:
    return dt.datetime.now(ZoneInfo(tz)).replace(tzinfo=None)


def _json(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str, indent=1)


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="The decision log: incidents, diagnoses, actions, outcomes. 决策日志。",
                        no_args_is_help=True)
    app.add_typer(group, name="decisions")

    @group.command("list")
    def list_(
        status: str | None = typer.Option(None, help="open|acknowledged|resolved|dismissed"),
        as_json: bool = typer.Option(False, "--json"),
        workspace: Path = WORKSPACE_OPTION,
    ) -> None:
        """List incidents. 列出事件。"""
        ws, lang = open_workspace(workspace)
        with DecisionLog(ws.metadata_url) as log:
            found = log.incidents(status=status)
        if as_json:
            sys.stdout.write(_json([dataclasses.asdict(i) for i in found]) + "\n")
            return
        if not found:
            console.print(_t("none", lang))
            return
        table = Table(*(_t(k, lang) for k in ("id", "period", "severity", "status", "metric",
                                                "slice", "title")), title=_t("incidents", lang))
        for i in found:
            table.add_row(str(i.id), i.period, i.severity, i.status,
                          i.metric, ", ".join(f"{k}={v}" for k, v in i.slice.items()),
                          i.title(lang))
        console.print(table)

    @group.command("show")
    def show(
        incident_id: int = typer.Argument(...),
        as_json: bool = typer.Option(False, "--json"),
        workspace: Path = WORKSPACE_OPTION,
    ) -> None:
        """Show one incident with its diagnosis, actions and outcomes. 查看事件详情。"""
        ws, lang = open_workspace(workspace)
        with DecisionLog(ws.metadata_url) as log:
            d = log.incident(incident_id)
        if as_json:
            sys.stdout.write(_json(dataclasses.asdict(d)) + "\n")
            return
        i = d.incident
        console.rule(f"#{i.id} {i.title(lang)} [{i.severity} · {i.status}]")
        console.print(f"{_t('rule', lang)}: {i.rule}   {_t('metric', lang)}: {i.metric}   "
                      f"{_t('slice', lang)}: {i.slice}   {i.period}")
        for g in d.diagnoses:
            console.print(f"[bold]{_t('diagnosis', lang)}[/] ({g.method}): "
                          f"{g.summary_zh if lang == 'zh' else g.summary_en}")
        if d.actions:
            table = Table(*(_t(k, lang) for k in ("id", "title", "owner", "due", "status")),
                          title=_t("actions", lang))
            for a in d.actions:
                table.add_row(str(a.id), a.title_zh if lang == "zh" else a.title_en, a.owner,
                              f"{a.due_at:%Y-%m-%d %H:%M}", a.status)
            console.print(table)
        for o in d.outcomes:
            console.print(f"[bold]{_t('outcomes', lang)}[/] #{o.action_id} {o.metric} "
                          f"({o.method}): {_t('estimate', lang)} {o.estimate:+.4g} "
                          f"[{o.lower:+.4g}, {o.upper:+.4g}]")

    @group.command("close")
    def close(
        incident_id: int = typer.Argument(...),
        status: str = typer.Option("resolved", help="resolved|dismissed"),
        workspace: Path = WORKSPACE_OPTION,
    ) -> None:
        """Close an incident (resolved or dismissed). 关闭事件。"""
        ws, lang = open_workspace(workspace)
        with DecisionLog(ws.metadata_url) as log:
            log.set_incident_status(incident_id, status, now=_now(ws.config.timezone))
        console.print(f"#{incident_id} {_t('closed', lang)}: {status}")
