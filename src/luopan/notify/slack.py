"""Slack incoming webhook: Block Kit blocks plus a ``text`` fallback.

No signing (the URL is the secret). The reply is the plain text ``ok``; 429 carries
``Retry-After``. Slack allows about one message per second per webhook.

References:
    Slack API docs, "Sending messages using incoming webhooks" and "Rate limits".
"""

from __future__ import annotations

from typing import Any

from luopan.notify.channel import HttpChannel, Outcome, RateLimit, Reply, http_outcome
from luopan.notify.message import LINK_LABEL, Message, truncate_utf8

__all__ = ["SlackWebhook", "parse_reply", "payload"]

SECTION_MAX_CHARS = 3000
_EMOJI = {"info": ":information_source:", "warning": ":warning:", "critical": ":rotating_light:"}


def _mrkdwn_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def payload(message: Message) -> dict[str, Any]:
    """``text`` (notification fallback) and ``blocks``: header, body, fields, link."""
    body = _mrkdwn_escape(message.body)
    if len(body) > SECTION_MAX_CHARS:  # Slack counts characters; cutting by bytes stays within it
        body, _ = truncate_utf8(body, SECTION_MAX_CHARS, lang=message.lang)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": message.title[:150]}},
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"{_EMOJI[message.severity]} *{message.severity_label}*\n{body}",
            },
        },
    ]
    if message.fields:
        blocks.append(
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": f"*{_mrkdwn_escape(k)}*\n{_mrkdwn_escape(v)}"}
                    for k, v in message.fields[:10]
                ],
            }
        )
    if message.link:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": f"<{message.link}|{LINK_LABEL[message.lang]}>"}
                ],
            }
        )
    return {"text": f"{message.title}\n{message.body}", "blocks": blocks}


def parse_reply(reply: Reply) -> Outcome:
    by_status = http_outcome(reply)
    if by_status is not None:
        return by_status
    if reply.text.strip() == "ok":
        return Outcome(True, code=str(reply.status), detail="ok")
    return Outcome(False, False, str(reply.status), reply.text[:200])


class SlackWebhook(HttpChannel):
    """A Slack incoming webhook."""

    kind = "slack"
    rate_limits: tuple[RateLimit, ...] = (RateLimit(1, 1.0),)

    def send(self, message: Message) -> Outcome:
        reply = self.post_json(self.url, payload(message))
        return reply if isinstance(reply, Outcome) else parse_reply(reply)
