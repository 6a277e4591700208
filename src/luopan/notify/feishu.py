"""Feishu / Lark (飞书) custom bot, with signature verification.

Signing, as Feishu documents it: ``timestamp`` is **seconds** since the epoch and
``sign = base64(hmac_sha256(key=f"{timestamp}\\n{secret}", msg=b""))`` — the string-to-sign is
the *key* and the message is empty, unlike DingTalk. Both go in the JSON body. The reply is
``{"code": 0, "msg": "success"}``; 19021 means a bad signature or a timestamp more than an hour
off. Limits: 100 requests per minute and 5 per second per bot; body at most 20 KB.

References:
    Feishu open platform, "自定义机器人使用指南"; /work/shared/reference/platform_exports.md §5.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from typing import Any

import httpx

from luopan.notify.channel import HttpChannel, Outcome, RateLimit, Reply, http_outcome
from luopan.notify.message import LINK_LABEL, Message, truncate_utf8

__all__ = ["FeishuBot", "parse_reply", "payload", "sign"]

MAX_BODY_BYTES = 20_000
SIGN_FAILED = 19021
FREQUENCY_LIMITED = 11232  # [U] seen in the wild for "frequency limited"; 429 is handled too


def sign(secret: str, timestamp_s: int) -> str:
    """Feishu's signature for ``timestamp_s`` (seconds)."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


def payload(message: Message, *, secret: str | None = None, timestamp_s: int = 0) -> dict[str, Any]:
    """A ``post`` (rich text) message in the message's language, signed when ``secret`` is set."""
    text = message.body
    for label, value in message.fields:
        text += f"\n{label}: {value}"
    text, _ = truncate_utf8(text, MAX_BODY_BYTES - 2_000, lang=message.lang)
    paragraphs: list[list[dict[str, str]]] = [
        [{"tag": "text", "text": line}] for line in text.split("\n")
    ]
    if message.link:
        paragraphs.append([{"tag": "a", "text": LINK_LABEL[message.lang], "href": message.link}])
    locale = "zh_cn" if message.lang == "zh" else "en_us"
    body: dict[str, Any] = {
        "msg_type": "post",
        "content": {"post": {locale: {"title": message.title, "content": paragraphs}}},
    }
    if secret:
        body = {"timestamp": str(timestamp_s), "sign": sign(secret, timestamp_s), **body}
    return body


def parse_reply(reply: Reply) -> Outcome:
    """Map Feishu's reply to an outcome."""
    by_status = http_outcome(reply)
    if by_status is not None:
        return by_status
    data = reply.json()
    if data is None:
        return Outcome(False, False, str(reply.status), f"not JSON: {reply.text[:200]}")
    code = int(data.get("code", data.get("StatusCode", -1)))
    detail = str(data.get("msg", data.get("StatusMessage", "")))
    if code == 0:
        return Outcome(True, code="0", detail=detail)
    if code == FREQUENCY_LIMITED:
        return Outcome(False, True, str(code), detail, retry_after=1.0)
    if code == SIGN_FAILED:
        detail += " (check the bot's secret and the machine clock / 检查签名密钥与系统时间)"
    return Outcome(False, False, str(code), detail)


class FeishuBot(HttpChannel):
    """A Feishu or Lark custom bot (the URL decides which)."""

    kind = "feishu"
    rate_limits: tuple[RateLimit, ...] = (RateLimit(100, 60.0), RateLimit(5, 1.0))

    def __init__(
        self,
        name: str,
        url: str,
        *,
        secret: str | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(name, url, transport=transport, clock=clock)
        self.secret = secret

    def send(self, message: Message) -> Outcome:
        body = payload(message, secret=self.secret, timestamp_s=int(self.clock()))
        reply = self.post_json(self.url, body)
        return reply if isinstance(reply, Outcome) else parse_reply(reply)
