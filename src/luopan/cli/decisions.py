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
    "verdict": {"zh": "结论", "en": "verdict"},
    "logged": {"zh": "已记录行动", "en": "logged action"},
    "recorded": {"zh": "新记录结果", "en": "outcomes recorded"},
    "pending": {"zh": "窗口未结束", "en": "windows not over"},
    "unmeasurable": {"zh": "无法衡量", "en": "cannot be measured"},
}


def _t(key: str, lang: str) -> str:
    return _L[key][lang]


def _now(tz: str) -> dt.datetime:
    return dt.datetime.now(ZoneInfo(tz)).replace(tzinfo=None)


def _json(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str, indent=1)


def _state(kind: str, value: str, lang: str) -> str:
    """A severity (``sev``) or status (``st``) code in the page's language, as the cockpit
    names it; an unknown code is shown as it is."""
    from luopan.cockpit.labels import t_or

    return t_or(f"{kind}_{value}", value, lang)


def _verdict(value: str | None, lang: str) -> str:
    from luopan.decisions.verify import VERDICT_LABELS

    return VERDICT_LABELS[value][lang] if value in VERDICT_LABELS else "—"


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="The decision log: incidents, diagnoses, actions, outcomes. 决策日志。",
        no_args_is_help=True,
    )
    app.add_typer(group, name="decisions")

    @group.command("list")
    def list_(
        status: str | None = typer.Option(
            None, help="open|acknowledged|resolved|dismissed / 按状态筛选"
        ),
        as_json: bool = typer.Option(False, "--json", help="JSON output / 输出 JSON"),
        workspace: Path = WORKSPACE_OPTION,
    ) -> None:
        """List incidents. 列出事件。

        Example / 示例: luopan decisions list --status open -w demo-world
        """
        ws, lang = open_workspace(workspace)
        with DecisionLog(ws.metadata_url) as log:
            found = log.incidents(status=status)
        if as_json:
            sys.stdout.write(_json([dataclasses.asdict(i) for i in found]) + "\n")
            return
        if not found:
            console.print(_t("none", lang))
            return
        # on a narrow terminal (< 120 columns) the metric code and the slice move under the
        # title, which says what happened and keeps its width
        wide = console.width >= 120
        table = Table(title=_t("incidents", lang))
        table.add_column(_t("id", lang), no_wrap=True)
        table.add_column(_t("period", lang))
        table.add_column(_t("severity", lang), no_wrap=True)
        table.add_column(_t("status", lang), no_wrap=True)
        if wide:
            table.add_column(_t("metric", lang), overflow="fold")
            table.add_column(_t("slice", lang), overflow="fold")
        table.add_column(_t("title", lang), ratio=1)
        for i in found:
            where = ", ".join(f"{k}={v}" for k, v in i.slice.items())
            codes = [i.metric, where] if wide else []
            title = i.title(lang)
            if not wide:
                title += f"\n[dim]{i.metric}{' · ' + where if where else ''}[/]"
            table.add_row(
                str(i.id),
                i.period,
                _state("sev", i.severity, lang),
                _state("st", i.status, lang),
                *codes,
                title,
            )
        console.print(table)

    @group.command("show")
    def show(
        incident_id: int = typer.Argument(..., help="incident id / 事件编号"),
        as_json: bool = typer.Option(False, "--json", help="JSON output / 输出 JSON"),
        workspace: Path = WORKSPACE_OPTION,
    ) -> None:
        """Show one incident with its diagnosis, actions and outcomes. 查看事件详情。

        Example / 示例: luopan decisions show 3 -w demo-world
        """
        ws, lang = open_workspace(workspace)
        with DecisionLog(ws.metadata_url) as log:
            d = log.incident(incident_id)
        if as_json:
            sys.stdout.write(_json(dataclasses.asdict(d)) + "\n")
            return
        i = d.incident
        sev, st = _state("sev", i.severity, lang), _state("st", i.status, lang)
        console.rule(f"#{i.id} {i.title(lang)} [{sev} · {st}]")
        console.print(
            f"{_t('rule', lang)}: {i.rule}   {_t('metric', lang)}: {i.metric}   "
            f"{_t('slice', lang)}: {i.slice}   {i.period}"
        )
        for g in d.diagnoses:
            console.print(
                f"[bold]{_t('diagnosis', lang)}[/] ({g.method}): "
                f"{g.summary_zh if lang == 'zh' else g.summary_en}"
            )
        if d.actions:
            table = Table(
                *(_t(k, lang) for k in ("id", "title", "owner", "due", "status")),
                title=_t("actions", lang),
            )
            for a in d.actions:
                table.add_row(
                    str(a.id),
                    a.title_zh if lang == "zh" else a.title_en,
                    a.owner,
                    f"{a.due_at:%Y-%m-%d %H:%M}",
                    _state("st", a.status, lang),
                )
            console.print(table)
        for o in d.outcomes:
            console.print(
                f"[bold]{_t('outcomes', lang)}[/] #{o.action_id} {o.metric} "
                f"({o.method}): {_t('estimate', lang)} {o.estimate:+.4g} "
                f"[{o.lower:+.4g}, {o.upper:+.4g}] · {_t('verdict', lang)}: "
                f"{_verdict(o.verdict, lang)}"
            )

    @group.command("close")
    def close(
        incident_id: int = typer.Argument(..., help="incident id / 事件编号"),
        status: str = typer.Option("resolved", help="resolved|dismissed / 关闭状态"),
        workspace: Path = WORKSPACE_OPTION,
    ) -> None:
        """Close an incident (resolved or dismissed). 关闭事件。

        Example / 示例: luopan decisions close 3 --status resolved -w demo-world
        """
        ws, lang = open_workspace(workspace)
        with DecisionLog(ws.metadata_url) as log:
            log.set_incident_status(incident_id, status, now=_now(ws.config.timezone))
        console.print(f"#{incident_id} {_t('closed', lang)}: {status}")

    @group.command("act")
    def act(
        title_zh: str = typer.Option(..., "--title-zh", help="title in Chinese / 中文标题"),
        title_en: str = typer.Option(..., "--title-en", help="title in English / 英文标题"),
        owner: str = typer.Option(..., "--owner", help="who does it / 负责人"),
        due_hours: float = typer.Option(24.0, "--due-hours", min=0.1, help="due in hours / 时限"),
        incident: int | None = typer.Option(None, "--incident", help="incident id / 事件编号"),
        metric: str = typer.Option(
            "return_rate", "--metric", help="metric it should move / 预期影响的指标"
        ),
        direction: str = typer.Option("up", "--direction", help="up|down / 预期方向"),
        window_days: int = typer.Option(30, "--window-days", min=1, help="days / 观察窗口(天)"),
        start: str | None = typer.Option(
            None, "--start", help="first day of the effect, YYYY-MM-DD / 生效日"
        ),
        experiment: str | None = typer.Option(
            None,
            "--experiment",
            help="holdout arms in `assignments` (experiment_id) / 留出组所在实验编号",
        ),
        treated: str = typer.Option("treatment", "--treated", help="treated arm / 处理组名"),
        holdout: str = typer.Option("holdout", "--holdout", help="holdout arm / 留出组名"),
        workspace: Path = WORKSPACE_OPTION,
    ) -> None:
        """Log an action with its expected impact (and holdout) for outcome verification.
        记录一项行动及其预期影响（和留出组），到期后自动验证效果。

        Example / 示例: luopan decisions act --incident 3 --title-zh 召回沉睡客户 --title-en 'Recall lapsed customers' --owner crm -w demo-world
        """
        from luopan.errors import DecisionError

        ws, lang = open_workspace(workspace)
        if direction not in ("up", "down"):
            raise DecisionError(f"--direction {direction!r}", fix="use up or down")
        day = start or _now(ws.config.timezone).date().isoformat()
        try:
            dt.date.fromisoformat(day)
        except ValueError:
            raise DecisionError(f"--start {day!r} is not a date", fix="use YYYY-MM-DD") from None
        now = _now(ws.config.timezone)
        with DecisionLog(ws.metadata_url) as log:
            if incident is not None:
                log.incident(incident)  # raises when it does not exist
            action_id = log.add_action(
                incident,
                kind="manual",
                title_zh=title_zh,
                title_en=title_en,
                owner=owner,
                due_at=now + dt.timedelta(hours=due_hours),
                expected_impact={
                    "metric": metric,
                    "direction": direction,
                    "window_days": window_days,
                    "start": day,
                },
                holdout=(
                    {
                        "kind": "experiment",
                        "experiment_id": experiment,
                        "treated": treated,
                        "holdout": holdout,
                    }
                    if experiment
                    else {}
                ),
                now=now,
            )
        console.print(f"{_t('logged', lang)} #{action_id}")

    @group.command("verify")
    def verify(
        as_json: bool = typer.Option(False, "--json", help="JSON output / 输出 JSON"),
        workspace: Path = WORKSPACE_OPTION,
    ) -> None:
        """Measure the actions whose window is over against their counterfactual.
        验证到期行动的实际效果（留出组 / 双重差分 / 预测反事实）。

        Example / 示例: luopan decisions verify -w demo-world
        """
        from luopan.decisions.outcomes import verify_due_actions
        from luopan.ingest.pipeline import now_local
        from luopan.metrics import connect, load_catalog

        ws, lang = open_workspace(workspace)
        con = connect(ws)
        try:
            with DecisionLog(ws.metadata_url) as log:
                report = verify_due_actions(ws, log, con, load_catalog(ws), now_local(ws))
                outcomes = [o for o in log.outcomes() if o.id in report.recorded]
        finally:
            con.disconnect()
        if as_json:
            sys.stdout.write(
                _json(
                    {
                        "recorded": [
                            dataclasses.asdict(o) | {"verdict": o.verdict} for o in outcomes
                        ],
                        "pending": report.pending,
                        "unmeasurable": report.unmeasurable,
                    }
                )
                + "\n"
            )
            return
        console.print(
            f"{_t('recorded', lang)}: {len(outcomes)}; {_t('pending', lang)}: "
            f"{report.pending}; {_t('unmeasurable', lang)}: {len(report.unmeasurable)}"
        )
        for o in outcomes:
            console.print(
                f"#{o.action_id} {o.metric} ({o.method}): {o.estimate:+.4g} "
                f"[{o.lower:+.4g}, {o.upper:+.4g}] · {_verdict(o.verdict, lang)}"
            )
        for action_id, why in report.unmeasurable.items():
            console.print(f"#{action_id} {_t('unmeasurable', lang)}: {why}", highlight=False)
