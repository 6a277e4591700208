"""The channel-neutral message: what to say, in zh-CN or en, before any platform formats it.

A :class:`Message` carries a title, plain-text body lines, labelled fields, a severity, an
optional deep link into the cockpit and a **key**. The key names what the message is about
(e.g. ``rule:dau_drop:east:2026-W47``); the dispatcher delivers one message per key and channel
within its de-duplication window. :func:`render` fills a named template in the chosen language.
Channels turn a message into their own payloads (markdown, rich text, blocks, e-mail).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from luopan.errors import DecisionError

__all__ = [
    "SEVERITY_LABELS",
    "TEMPLATES",
    "Lang",
    "Message",
    "Severity",
    "render",
    "truncate_utf8",
]

Lang = Literal["zh", "en"]
Severity = Literal["info", "warning", "critical"]

SEVERITY_LABELS: dict[str, dict[str, str]] = {
    "info": {"zh": "通知", "en": "Info"},
    "warning": {"zh": "预警", "en": "Warning"},
    "critical": {"zh": "严重", "en": "Critical"},
}

TRUNCATION_NOTE: dict[str, str] = {
    "zh": "…（内容过长，已截断，完整内容请在驾驶舱查看）",
    "en": "… (truncated; see the cockpit for the full text)",
}

LINK_LABEL: dict[str, str] = {"zh": "在驾驶舱中查看", "en": "Open in the cockpit"}

# kind -> lang -> (title template, body template). Placeholders use str.format names.
TEMPLATES: dict[str, dict[str, tuple[str, str]]] = {
    "test": {
        "zh": (
            "罗盘测试消息",
            "这是一条来自罗盘的测试消息：通道 {channel} 已配置正确。\n发送时间：{sent_at}",
        ),
        "en": (
            "luopan test message",
            "This is a test message from luopan: channel {channel} is configured correctly.\n"
            "Sent at: {sent_at}",
        ),
    },
    "incident": {
        "zh": (
            "【{severity_label}】{metric}异常：{rule}",
            "指标 {metric}（{slice}）在 {period} 为 {value}，预期 {expected}。\n"
            "触发规则：{rule}\n建议动作：{action}",
        ),
        "en": (
            "[{severity_label}] {metric} anomaly: {rule}",
            "{metric} ({slice}) was {value} in {period}; expected {expected}.\n"
            "Rule: {rule}\nSuggested action: {action}",
        ),
    },
    "action_due": {
        "zh": (
            "【待办】{action} 将于 {due} 到期",
            "负责人：{owner}\n关联事件：{incident}\n预期影响：{impact}",
        ),
        "en": (
            "[Due] {action} is due {due}",
            "Owner: {owner}\nIncident: {incident}\nExpected impact: {impact}",
        ),
    },
    "data_late": {
        "zh": (
            "【数据告警】数据源 {source} 迟到",
            "数据源 {source} 已 {age_hours} 小时没有新数据（阈值 {threshold_hours} 小时）。\n"
            "最新数据时间：{latest}",
        ),
        "en": (
            "[Data alert] source {source} is late",
            "Source {source} has had no new data for {age_hours} h (threshold "
            "{threshold_hours} h).\nLatest data: {latest}",
        ),
    },
}


@dataclass(frozen=True)
class Message:
    """One notification, independent of the channel that carries it.

    Attributes:
        key: what the message is about; de-duplication is by (channel, key).
        title: one line.
        body: plain text; lines separated by ``\\n``.
        severity: info, warning or critical.
        lang: the language the text is in (channels pick matching labels).
        link: optional deep link into the cockpit.
        fields: labelled values shown as a list, e.g. ``(("负责人", "王芳"),)``.
    """

    key: str
    title: str
    body: str
    severity: Severity = "info"
    lang: Lang = "zh"
    link: str | None = None
    fields: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.key.strip():
            raise DecisionError(
                "a message needs a non-empty key", fix="e.g. key='rule:dau:2026-W47'"
            )
        if self.severity not in SEVERITY_LABELS:
            raise DecisionError(
                f"unknown severity {self.severity!r}", fix="use info, warning or critical"
            )
        if self.lang not in ("zh", "en"):
            raise DecisionError(f"unknown language {self.lang!r}", fix="use zh or en")

    @property
    def severity_label(self) -> str:
        return SEVERITY_LABELS[self.severity][self.lang]

    def plain_text(self) -> str:
        """Title, body, fields and link as plain text (text messages and e-mail)."""
        parts = [self.title, "", self.body]
        parts += [f"{label}: {value}" for label, value in self.fields]
        if self.link:
            parts.append(f"{LINK_LABEL[self.lang]}: {self.link}")
        return "\n".join(parts).strip()

    def to_dict(self) -> dict[str, object]:
        """The message as JSON-ready data (the generic webhook sends this)."""
        return {
            "key": self.key,
            "title": self.title,
            "body": self.body,
            "severity": self.severity,
            "lang": self.lang,
            "link": self.link,
            "fields": [{"label": k, "value": v} for k, v in self.fields],
        }


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def render(
    kind: str,
    lang: Lang,
    *,
    key: str,
    severity: Severity = "info",
    link: str | None = None,
    fields: tuple[tuple[str, str], ...] = (),
    params: Mapping[str, object] | None = None,
) -> Message:
    """Fill the ``kind`` template in ``lang``.

    Args:
        kind: a key of :data:`TEMPLATES` (test, incident, action_due, data_late).
        lang: zh or en.
        key: the de-duplication key.
        params: the template's placeholders; ``severity_label`` is filled in for you.

    Raises:
        DecisionError: unknown kind or language, or a placeholder without a value.
    """
    if kind not in TEMPLATES:
        raise DecisionError(
            f"unknown message template {kind!r}", fix=f"known templates: {', '.join(TEMPLATES)}"
        )
    if lang not in ("zh", "en"):
        raise DecisionError(f"unknown language {lang!r}", fix="use zh or en")
    title_t, body_t = TEMPLATES[kind][lang]
    values: dict[str, object] = {"severity_label": SEVERITY_LABELS[severity][lang]}
    values.update(params or {})
    missing = sorted((_placeholders(title_t) | _placeholders(body_t)) - set(values))
    if missing:
        raise DecisionError(
            f"template {kind!r} needs values for: {', '.join(missing)}",
            fix="pass them in params=",
        )
    return Message(
        key=key,
        title=title_t.format(**values),
        body=body_t.format(**values),
        severity=severity,
        lang=lang,
        link=link,
        fields=fields,
    )


def truncate_utf8(text: str, max_bytes: int, *, lang: Lang = "zh") -> tuple[str, bool]:
    """Cut ``text`` to at most ``max_bytes`` UTF-8 bytes, ending with a truncation note.

    Never splits a character. Returns the text and whether it was cut.
    """
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text, False
    note = "\n" + TRUNCATION_NOTE[lang]
    room = max_bytes - len(note.encode("utf-8"))
    if room < 0:
        raise DecisionError(f"a limit of {max_bytes} bytes leaves no room for the text")
    head = data[:room].decode("utf-8", errors="ignore")
    return head + note, True
