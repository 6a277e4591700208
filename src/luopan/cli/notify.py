"""``luopan notify``: list the configured channels and send a test message to one.

Channels live in ``notify.yaml`` next to ``luopan.yaml``; secrets come from the environment
variables it names. ``luopan notify test CHANNEL`` goes through the real dispatcher (retries,
rate limits) and exits 1 when the platform does not accept the message.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from luopan.cli.common import WORKSPACE_OPTION, open_workspace
from luopan.i18n import language
from luopan.notify.channel import DeliveryError
from luopan.notify.config import NOTIFY_FILE, NotifyConfig, build_channel, load_notify_config
from luopan.notify.dispatch import Delivery, Dispatcher, RetryPolicy
from luopan.notify.message import Lang, render

console = Console()

LABELS: dict[str, dict[str, str]] = {
    "channel": {"zh": "通道", "en": "channel"},
    "type": {"zh": "类型", "en": "type"},
    "secrets": {"zh": "环境变量", "en": "environment variables"},
    "status": {"zh": "结果", "en": "status"},
    "attempts": {"zh": "尝试次数", "en": "attempts"},
    "code": {"zh": "返回码", "en": "code"},
    "detail": {"zh": "说明", "en": "detail"},
    "sent": {"zh": "已送达", "en": "sent"},
    "failed": {"zh": "失败", "en": "failed"},
    "suppressed": {"zh": "已去重", "en": "suppressed (duplicate)"},
    "set": {"zh": "已设置", "en": "set"},
    "missing": {"zh": "未设置", "en": "missing"},
    "channels_title": {"zh": "通知通道", "en": "notification channels"},
    "test_title": {"zh": "测试消息发送结果", "en": "test message delivery"},
}

notify_app = typer.Typer(
    no_args_is_help=True,
    help="Notification channels. 通知通道：企业微信/钉钉/飞书/Slack/邮件/Webhook。",
)


def _l(key: str, lang: str) -> str:
    return LABELS[key][lang]


def _load(workspace: Path, config: Path | None) -> tuple[NotifyConfig, Lang]:
    ws, _ = open_workspace(workspace)
    cfg = load_notify_config(config or ws.root / NOTIFY_FILE)
    # LUOPAN_LANG first, then notify.yaml's language, then the workspace's
    return cfg, "en" if language(cfg.language or ws.config.language) == "en" else "zh"


def render_deliveries(deliveries: list[Delivery], lang: str) -> None:
    table = Table(
        _l("channel", lang),
        _l("type", lang),
        _l("status", lang),
        _l("attempts", lang),
        _l("code", lang),
        _l("detail", lang),
        title=_l("test_title", lang),
    )
    for d in deliveries:
        last = d.last
        style = "green" if d.ok else "red"
        table.add_row(
            d.channel,
            d.kind,
            f"[{style}]{_l(d.status, lang)}[/]",
            str(len(d.attempts)),
            "" if last is None else (last.code or ""),
            "" if last is None else last.detail,
        )
    console.print(table)


def send_test(
    cfg: NotifyConfig, channel: str, lang: Lang, *, now: dt.datetime | None = None
) -> Delivery:
    """Send the test template to ``channel`` through a dispatcher; returns the delivery."""
    now = now or dt.datetime.now().astimezone()
    built = build_channel(channel, cfg)
    message = render(
        "test",
        lang,
        key=f"test:{channel}:{now.isoformat()}",
        params={"channel": channel, "sent_at": f"{now:%Y-%m-%d %H:%M:%S %z}"},
    )
    dispatcher = Dispatcher({channel: built}, retry=RetryPolicy(max_attempts=cfg.max_attempts))
    try:
        return dispatcher.send(message)[0]
    finally:
        close = getattr(built, "close", None)
        if close is not None:
            close()


@notify_app.command("test")
def test_command(
    channel: str = typer.Argument(..., help="channel name in notify.yaml / 通道名"),
    workspace: Path = WORKSPACE_OPTION,
    config: Path | None = typer.Option(None, "--config", help="notify.yaml path / 配置文件"),
) -> None:
    """Send a test message to CHANNEL. 向通道发送一条测试消息。

    Example / 示例: luopan notify test ops_wecom -w my-brand
    """
    cfg, lang = _load(workspace, config)
    delivery = send_test(cfg, channel, lang)
    render_deliveries([delivery], lang)
    if not delivery.ok:
        last = delivery.last
        raise DeliveryError(
            f"channel {channel!r} did not accept the test message"
            + ("" if last is None else f" (code {last.code}: {last.detail})"),
            fix="check the webhook URL and secret in the environment variables notify.yaml names",
        )


@notify_app.command("channels")
def channels_command(
    workspace: Path = WORKSPACE_OPTION,
    config: Path | None = typer.Option(None, "--config", help="notify.yaml path / 配置文件"),
) -> None:
    """List channels and whether their environment variables are set. 列出通知通道。

    Example / 示例: luopan notify channels -w my-brand
    """
    cfg, lang = _load(workspace, config)
    table = Table(
        _l("channel", lang), _l("type", lang), _l("secrets", lang), title=_l("channels_title", lang)
    )
    for name, c in cfg.channels.items():
        envs = [v for k, v in c.model_dump().items() if k.endswith("_env") and v]
        shown = ", ".join(
            f"{v} ({_l('set' if os.environ.get(v) else 'missing', lang)})" for v in envs
        )
        table.add_row(name, c.type, shown)
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(notify_app, name="notify")
