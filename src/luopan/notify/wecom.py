"""WeCom (企业微信) group robot.

No signature: the ``key`` in the webhook URL is the secret. ``markdown`` content is at most
4096 UTF-8 bytes and ``text`` content at most 2048; longer text is cut at a character boundary
and ends with a note saying so. Limit: 20 messages per minute per robot. The reply is
``{"errcode": 0, "errmsg": "ok"}``; 45009 means the call frequency limit was hit.

References:
    WeCom developer docs, "群机器人配置说明"; /work/shared/reference/platform_exports.md §5.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import httpx

from luopan.notify.channel import HttpChannel, Outcome, RateLimit, Reply, errcode_reply
from luopan.notify.message import LINK_LABEL, Message, truncate_utf8

__all__ = ["MAX_BYTES", "WeComRobot", "parse_reply", "payload"]

MAX_BYTES = {"markdown": 4096, "text": 2048}
FREQUENCY_LIMITED = 45009
_COLOUR = {"info": "info", "warning": "warning", "critical": "warning"}


def payload(
    message: Message,
    *,
    msgtype: Literal["markdown", "text"] = "markdown",
    mentioned_mobiles: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A ``markdown`` or ``text`` payload within WeCom's byte limits."""
    if msgtype == "text":
        content, _ = truncate_utf8(message.plain_text(), MAX_BYTES["text"], lang=message.lang)
        text: dict[str, Any] = {"content": content}
        if mentioned_mobiles:
            text["mentioned_mobile_list"] = list(mentioned_mobiles)
        return {"msgtype": "text", "text": text}
    colour = _COLOUR[message.severity]
    lines = [
        f"**{message.title}**",
        f'> <font color="{colour}">{message.severity_label}</font>',
        "",
        message.body,
    ]
    lines += [f'> {label}: <font color="comment">{value}</font>' for label, value in message.fields]
    if message.link:
        lines += ["", f"[{LINK_LABEL[message.lang]}]({message.link})"]
    # markdown cannot ping by mobile; name them in the text (<@userid> needs WeCom user ids)
    if mentioned_mobiles:
        lines += ["", " ".join(f"@{m}" for m in mentioned_mobiles)]
    content, _ = truncate_utf8("\n".join(lines), MAX_BYTES["markdown"], lang=message.lang)
    return {"msgtype": "markdown", "markdown": {"content": content}}


def parse_reply(reply: Reply) -> Outcome:
    """Map WeCom's reply to an outcome (45009 and system busy -1 are retryable)."""
    decided = errcode_reply(reply)
    if isinstance(decided, Outcome):
        return decided
    code, detail = decided
    if code == FREQUENCY_LIMITED:
        return Outcome(False, True, str(code), detail, retry_after=60.0)
    return Outcome(False, False, str(code), detail)


class WeComRobot(HttpChannel):
    """A WeCom group robot."""

    kind = "wecom"
    rate_limits: tuple[RateLimit, ...] = (RateLimit(20, 60.0),)

    def __init__(
        self,
        name: str,
        url: str,
        *,
        msgtype: Literal["markdown", "text"] = "markdown",
        mentioned_mobiles: tuple[str, ...] = (),
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(name, url, transport=transport, clock=clock)
        self.msgtype: Literal["markdown", "text"] = msgtype
        self.mentioned_mobiles = mentioned_mobiles

    def send(self, message: Message) -> Outcome:
        body = payload(message, msgtype=self.msgtype, mentioned_mobiles=self.mentioned_mobiles)
        reply = self.post_json(self.url, body)
        return reply if isinstance(reply, Outcome) else parse_reply(reply)
