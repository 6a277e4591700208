"""``luopan crisis list|show|done|check|review`` and ``luopan listening watch``.

The watch replays mentions (a file, or the workspace's ``mentions`` table) in stream mode every
5 minutes of event time; with ``--open`` each crisis becomes an incident in the decision log
with the golden-3-hours tasks (owners from ``crisis.yaml``) and an alert on the channels it
names. ``crisis check`` (run it every few minutes, e.g. from cron) escalates overdue tasks and
silence; ``crisis done`` logs a completed task; ``crisis review`` is the post-crisis review.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from luopan.cli._crisis_common import (
    _clock,
    _dispatcher,
    _emit,
    _log,
    _mentions,
    _negative,
    _t,
    _terms,
    crisis_config,
)
from luopan.cli.common import WORKSPACE_OPTION, open_workspace
from luopan.notify.message import Lang

__all__ = ["crisis_config", "register", "register_watch"]

console = Console()
AT_OPTION = typer.Option(
    None, "--at", help="the clock (event time), default now / 时钟（事件时间），默认当前"
)


def register_watch(lst: typer.Typer) -> None:
    @lst.command("watch")
    def watch_cmd(
        src: Path | None = typer.Option(
            None, "--in", help="mentions export (default: the workspace) / 声量文件（默认工作区）"
        ),
        text_col: str = typer.Option("text", "--text-col", help="text column / 文本列"),
        owner: list[str] | None = typer.Option(
            None, "--owner", help="role=name, e.g. pr=李公关; repeat / 角色=负责人"
        ),
        open_: bool = typer.Option(
            False, "--open", help="log incidents and notify / 记入决策日志并通知"
        ),
        model_path: Path | None = typer.Option(None, "--model", help="model file / 模型文件"),
        as_json: bool = typer.Option(False, "--json", help="JSON output / 输出 JSON"),
        workspace: Path = WORKSPACE_OPTION,
    ) -> None:
        """Replay mentions in stream mode (every 5 min): crises and playbooks. 舆情监测回放。

        Example / 示例: luopan listening watch -w demo-world
        """
        from luopan.engines.listening import GOLDEN_3_HOURS, open_playbook, watch
        from luopan.engines.listening.playbook import CrisisConfig
        from luopan.i18n import language

        ws, lang = (
            (None, language()) if src is not None and not open_ else open_workspace(workspace)
        )
        cfg = crisis_config(ws) if ws is not None else CrisisConfig()
        extra = dict(o.split("=", 1) for o in owner or [] if "=" in o)
        if extra:
            cfg = cfg.model_copy(update={"owners": {**cfg.owners, **extra}})
        frame = _mentions(ws, src, text_col)
        negative = _negative(frame, model_path)
        from luopan.engines.listening.topics import Watchlist

        wl = Watchlist.from_mapping(cfg.watchlist) if cfg.watchlist else None
        out: list[dict[str, Any]] = []
        for inc in watch(frame, negative, watchlist=wl):
            terms = _terms(frame, negative, inc.start)
            pb = open_playbook(
                inc,
                {str(k): v for k, v in cfg.owners.items()},
                key=f"{inc.start:%Y%m%d-%H%M}",
                steps=GOLDEN_3_HOURS,
            )
            row: dict[str, Any] = {
                "start": str(inc.start),
                "level": inc.level,
                "first_level": inc.first_level,
                "label": inc.label[lang],
                "score": inc.peak_score,
                "version": inc.alerts[0].rules_version,
                "platforms": list(inc.platforms),
                "terms": terms,
                "tasks": [
                    {"task": t.zh if lang == "zh" else t.en, "owner": t.owner, "due": str(t.due)}
                    for t in pb.tasks
                ],
            }
            if open_:
                from luopan.engines.listening.response import open_crisis

                assert ws is not None
                with _log(ws) as log:
                    found, created = open_crisis(
                        log,
                        inc,
                        cfg,
                        now=_clock(ws, None),
                        terms=terms,
                        dispatcher=_dispatcher(ws, cfg.channels),
                        lang="en" if lang == "en" else "zh",
                    )
                row.update({"incident_id": found.id, "created": created})
            out.append(row)
        if as_json:
            _emit(out)
            return
        if not out:
            console.print(_t("none", lang))
        for o in out:
            console.print(
                f"[bold red]{_t('start', lang)} {o['start']} · {_t('level', lang)} {o['level']} "
                f"{o['label']} · {_t('score', lang)} {o['score']}[/] · {_t('platforms', lang)}: "
                f"{', '.join(o['platforms'])} · {_t('terms', lang)}: {', '.join(o['terms'])}"
                + (f" · #{o['incident_id']} {_t('logged', lang)}" if "incident_id" in o else "")
            )
            table = Table(_t("task", lang), _t("owner", lang), _t("due", lang))
            for t in o["tasks"]:
                table.add_row(t["task"], t["owner"], t["due"][11:16])
            console.print(table)


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="Crisis response: incidents, the golden-3-hours playbook, review. 舆情危机应对。",
        no_args_is_help=True,
    )
    app.add_typer(group, name="crisis")

    @group.command("list")
    def list_cmd(
        as_json: bool = typer.Option(False, "--json", help="JSON output / 输出 JSON"),
        workspace: Path = WORKSPACE_OPTION,
    ) -> None:
        """List crisis incidents. 列出舆情危机事件。

        Example / 示例: luopan crisis list -w demo-world
        """
        from luopan.cockpit.labels import t_or
        from luopan.engines.listening.response import crisis_incidents

        ws, lang = open_workspace(workspace)
        with _log(ws) as log:
            found = crisis_incidents(log)
        if as_json:
            _emit([dataclasses.asdict(i) for i in found])
            return
        if not found:
            console.print(_t("none", lang))
            return
        table = Table(*(_t(k, lang) for k in ("id", "start", "level", "status", "title")))
        for i in found:
            table.add_row(
                str(i.id),
                i.period,
                str(i.evidence.get("level")),
                t_or(f"st_{i.status}", i.status, lang),
                i.title(lang),
            )
        console.print(table)

    @group.command("show")
    def show_cmd(
        incident_id: int = typer.Argument(..., help="incident id / 事件编号"),
        at: str | None = AT_OPTION,
        as_json: bool = typer.Option(False, "--json", help="JSON output / 输出 JSON"),
        workspace: Path = WORKSPACE_OPTION,
    ) -> None:
        """One crisis: tasks with owners, deadlines, status; escalations. 查看危机与任务。

        Example / 示例: luopan crisis show 1 -w demo-world
        """
        from luopan.engines.listening.response import ESCALATION, playbook_of

        ws, lang = open_workspace(workspace)
        now = pd.Timestamp(_clock(ws, at))
        with _log(ws) as log:
            pb = playbook_of(log, incident_id)
            d = log.incident(incident_id)
        tasks: list[dict[str, Any]] = [
            {
                "task": t.key,
                "title": t.zh if lang == "zh" else t.en,
                "owner": t.owner,
                "due": str(t.due),
                "done_at": None if t.done_at is None else str(t.done_at),
                "state": "done"
                if t.done_at is not None
                else ("overdue" if now > t.due else "open"),
            }
            for t in pb.tasks
        ]
        esc = [
            {"at": g.created_at, "text": g.summary_zh if lang == "zh" else g.summary_en}
            for g in d.diagnoses
            if g.method == ESCALATION
        ]
        if as_json:
            _emit({"incident": dataclasses.asdict(d.incident), "tasks": tasks, "escalations": esc})
            return
        console.rule(f"#{incident_id} {d.incident.title(lang)} [{d.incident.status}]")
        table = Table(*(_t(k, lang) for k in ("task", "owner", "due", "status")))
        for t in tasks:
            table.add_row(
                f"{t['task']} · {t['title']}", t["owner"], t["due"][5:16], _t(t["state"], lang)
            )
        console.print(table)
        for e in esc:
            console.print(f"[bold]{_t('escalations', lang)}[/] {e['at']:%m-%d %H:%M} {e['text']}")

    @group.command("done")
    def done_cmd(
        incident_id: int = typer.Argument(..., help="crisis incident id / 危机事件编号"),
        task: str = typer.Argument(..., help="task key, e.g. holding / 任务键"),
        at: str | None = AT_OPTION,
        note: str | None = typer.Option(None, "--note", help="note on the task / 备注"),
        workspace: Path = WORKSPACE_OPTION,
    ) -> None:
        """Log a playbook task as done (e.g. the public response). 记录任务完成。

        Example / 示例: luopan crisis done 1 holding -w demo-world
        """
        from luopan.engines.listening.response import mark_done

        ws, lang = open_workspace(workspace)
        with _log(ws) as log:
            mark_done(log, incident_id, task, now=_clock(ws, at), note=note)
        console.print(f"#{incident_id} {task}: {_t('marked', lang)}")

    @group.command("check")
    def check_cmd(
        at: str | None = AT_OPTION,
        as_json: bool = typer.Option(False, "--json", help="JSON output / 输出 JSON"),
        workspace: Path = WORKSPACE_OPTION,
    ) -> None:
        """Escalate overdue tasks and silence of open crises, and notify. 超时与沉默升级。

        Example / 示例: luopan crisis check -w demo-world
        """
        from luopan.engines.listening.response import crisis_incidents, escalate

        ws, lang = open_workspace(workspace)
        cfg = crisis_config(ws)
        now = _clock(ws, at)
        msg_lang: Lang = cfg.language or ("en" if lang == "en" else "zh")
        dispatcher = _dispatcher(ws, cfg.channels)
        out: list[dict[str, Any]] = []
        with _log(ws) as log:
            for inc in crisis_incidents(log):
                r = escalate(log, inc.id, cfg, now=now, dispatcher=dispatcher, lang=msg_lang)
                out.append(
                    {
                        "incident_id": inc.id,
                        "sent": [m.key for m in r.sent],
                        "titles": [m.title for m in r.sent],
                        "already": r.already,
                        "deliveries": list(r.deliveries),
                    }
                )
        if as_json:
            _emit(out)
            return
        for o in out:
            console.print(f"#{o['incident_id']} {_t('sent', lang)}: {len(o['sent'])}")
            for title in o["titles"]:
                console.print(f"  [red]{title}[/]")

    @group.command("review")
    def review_cmd(
        incident_id: int = typer.Argument(..., help="crisis incident id / 危机事件编号"),
        src: Path | None = typer.Option(None, "--in", help="mentions file / 声量文件"),
        text_col: str = typer.Option("text", "--text-col", help="text column / 文本列"),
        at: str | None = AT_OPTION,
        model_path: Path | None = typer.Option(
            None, "--model", help="sentiment model file / 情感模型文件"
        ),
        as_json: bool = typer.Option(False, "--json", help="JSON output / 输出 JSON"),
        workspace: Path = WORKSPACE_OPTION,
    ) -> None:
        """Post-crisis review: recovery, back to baseline, timeline. 危机复盘。

        Example / 示例: luopan crisis review 1 -w demo-world
        """
        from luopan.engines.listening.response import ESCALATION, playbook_of
        from luopan.engines.listening.review import review_crisis

        ws, lang = open_workspace(workspace)
        with _log(ws) as log:
            pb = playbook_of(log, incident_id)
            esc = [
                (pd.Timestamp(g.created_at), g.summary_zh, g.summary_en)
                for g in log.incident(incident_id).diagnoses
                if g.method == ESCALATION
            ]
        frame = _mentions(ws, src, text_col)
        rev = review_crisis(
            frame,
            _negative(frame, model_path),
            pb.opened_at,
            tasks=pb.tasks,
            escalations=esc,
            now=pd.Timestamp(_clock(ws, at)),
        )
        if as_json:
            _emit(rev.to_dict())
            return
        table = Table(_t("item", lang), _t("value", lang), title=_t("review", lang))
        for k, v in rev.to_dict().items():
            if k != "timeline":
                table.add_row(k, f"{v:.3f}" if isinstance(v, float) else str(v))
        console.print(table)
        console.rule(_t("timeline", lang))
        for e in rev.timeline:
            console.print(f"{e.at:%m-%d %H:%M}  {e.zh if lang == 'zh' else e.en}")
