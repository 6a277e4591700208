"""``luopan report daily|weekly``: write the operations report and send it to the channels.

The report (``luopan.reports``) goes to ``<workspace>/reports/`` as self-contained HTML, and
as PDF with ``--pdf`` when Debian's chromium is installed. ``--send`` delivers it through every
channel of the workspace's ``notify.yaml`` (or the ``--channel`` ones) with the real dispatcher:
chat robots (WeCom, DingTalk, Feishu, Slack, webhooks) get a summary with the key figures and
where the file is; e-mail gets the same summary with the HTML report attached.

Scheduling: ``luopan watch --daily-report 08:30 --weekly-report mon@09:00`` writes and sends
the reports at those times next to the loop (``luopan.reports.schedule``), or run this command
from cron (e.g. ``30 8 * * * luopan report daily -w /srv/brand --send``).
"""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from luopan.cli.common import WORKSPACE_OPTION, open_workspace
from luopan.errors import ConfigError, LuopanError
from luopan.reports import CHROMIUM, Report, build_report, write_report
from luopan.workspace import Workspace

__all__ = ["register", "report_message", "send_report"]

console = Console()

LABELS: dict[str, dict[str, str]] = {
    "written": {"zh": "已写入", "en": "written"},
    "no_pdf": {
        "zh": f"未找到 {CHROMIUM}，只写了 HTML（安装 chromium 与 fonts-wqy-microhei 可生成 PDF）",
        "en": f"{CHROMIUM} not found: HTML only (install chromium and fonts-wqy-microhei for PDF)",
    },
    "file": {"zh": "报告文件", "en": "report file"},
    "movers": {"zh": "变化最大", "en": "biggest moves"},
    "sent": {"zh": "已送达", "en": "sent"},
    "failed": {"zh": "失败", "en": "failed"},
    "suppressed": {"zh": "已去重", "en": "suppressed (duplicate)"},
    "attachment": {"zh": "完整报告见附件", "en": "the full report is attached"},
}


def _l(key: str, lang: str) -> str:
    return LABELS[key][lang]


def _parse_date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"--date {text!r} is not a date", fix="give it as YYYY-MM-DD, e.g. --date 2026-11-15"
        ) from None


def report_message(report: Report, files: list[Path]) -> Any:
    """The chat/e-mail summary of ``report``: title, biggest moves, key figures, file."""
    from luopan.notify.message import Message

    lang = report.lang
    body = [f"{_l('movers', lang)}:", *(f"- {m}" for m in report.movers)] if report.movers else []
    body.append(f"{_l('file', lang)}: {', '.join(str(f) for f in files)}")
    return Message(
        key=f"report:{report.kind}:{report.period}:{lang}",
        title=report.title,
        body="\n".join(body),
        lang="en" if lang == "en" else "zh",
        fields=report.figures,
    )


def _attaching(html: Path) -> Callable[..., Any]:
    """An SMTP session factory that attaches ``html`` to every e-mail it sends."""
    from luopan.notify.email import default_smtp_factory

    class Session:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

        def send_message(self, msg: Any) -> Any:
            msg.add_attachment(html.read_text(encoding="utf-8"), subtype="html", filename=html.name)
            return self.inner.send_message(msg)

    def factory(
        host: str, port: int, security: Any, context: ssl.SSLContext, timeout: float
    ) -> Any:
        return Session(default_smtp_factory(host, port, security, context, timeout))

    return factory


def send_report(
    ws: Workspace,
    report: Report,
    files: list[Path],
    *,
    channels: list[str] | None = None,
    config: Path | None = None,
    smtp_factory: Callable[..., Any] | None = None,
) -> list[Any]:
    """Deliver the report's summary to ``channels`` (default: all in notify.yaml).

    Raises:
        ConfigError: no notify.yaml, no channel, or a channel with a missing secret.
    """
    from luopan.notify.config import NOTIFY_FILE, build_channel, load_notify_config
    from luopan.notify.dispatch import Dispatcher, RetryPolicy

    path = config or ws.root / NOTIFY_FILE
    if not path.is_file():
        raise ConfigError(
            f"{path}: no notification channels configured",
            fix="create notify.yaml (see `luopan notify channels --help`) or drop --send",
        )
    cfg = load_notify_config(path)
    names = channels or list(cfg.channels)
    if not names:
        raise ConfigError(f"{path}: lists no channel", fix="add a channel under `channels:`")
    factory = smtp_factory or _attaching(files[0])
    built = {name: build_channel(name, cfg, smtp_factory=factory) for name in names}
    dispatcher = Dispatcher(built, retry=RetryPolicy(max_attempts=cfg.max_attempts))
    try:
        return list(dispatcher.send(report_message(report, files)))
    finally:
        for channel in built.values():
            close = getattr(channel, "close", None)
            if close is not None:
                close()


def register(app: typer.Typer) -> None:
    @app.command()
    def report(
        kind: str = typer.Argument(..., help="daily or weekly / 日报(daily)或周报(weekly)"),
        workspace: Path = WORKSPACE_OPTION,
        date: str | None = typer.Option(
            None,
            "--date",
            help="report as of this day, YYYY-MM-DD (default: the latest order day) / "
            "报告截止日期（默认最新订单日）",
        ),
        lang: str | None = typer.Option(
            None, "--lang", help="zh or en (default: the workspace language) / 报告语言"
        ),
        pdf: bool = typer.Option(
            False, "--pdf", help="also print a PDF with chromium / 同时用 chromium 生成 PDF"
        ),
        send: bool = typer.Option(
            False, "--send", help="send it through notify.yaml's channels / 通过通知通道发送"
        ),
        channel: list[str] = typer.Option(
            [], "--channel", help="only these channels (repeatable) / 只发到这些通道（可重复）"
        ),
    ) -> None:
        """Write the daily or weekly operations report (HTML, PDF) to <workspace>/reports/ and
        optionally send it. 生成运营日报/周报（HTML、PDF）到工作区 reports/ 目录，并可发送到通知通道。

        Example / 示例: luopan report daily -w demo-world
        """
        if kind not in ("daily", "weekly"):
            raise ConfigError(f"unknown report {kind!r}", fix="use daily or weekly")
        if lang is not None and lang not in ("zh", "en"):
            raise ConfigError(f"--lang {lang!r}", fix="use zh or en")
        ws, ws_lang = open_workspace(workspace)
        out_lang = lang or ws_lang
        built = build_report(ws, kind=kind, lang=out_lang, as_of=_parse_date(date))
        files = write_report(ws, kind=kind, lang=out_lang, pdf=pdf, report=built)
        for f in files:
            console.print(f"{_l('written', out_lang)}: {f}", highlight=False)
        if pdf and not CHROMIUM.exists():
            console.print(f"[yellow]{_l('no_pdf', out_lang)}[/]", highlight=False)
        if send:
            deliveries = send_report(ws, built, files, channels=channel or None)
            for d in deliveries:
                style = "green" if d.ok else "red"
                detail = "" if d.last is None else f" {d.last.code or ''} {d.last.detail}"
                console.print(
                    f"{d.channel} ({d.kind}): [{style}]{_l(d.status, out_lang)}[/]{detail}",
                    highlight=False,
                )
            failed = [d.channel for d in deliveries if not d.ok and d.status != "suppressed"]
            if failed:
                raise LuopanError(
                    f"the report was not delivered to {', '.join(failed)}",
                    fix="check the channels with `luopan notify test CHANNEL`",
                )
