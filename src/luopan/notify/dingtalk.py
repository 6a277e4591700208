"""DingTalk (钉钉) custom group robot, with 加签 signing.

Signing, as DingTalk documents it: ``timestamp`` is milliseconds since the epoch and
``sign = urlencode(base64(hmac_sha256(key=secret, msg=f"{timestamp}\\n{secret}")))``, both
appended to the webhook URL; the server rejects a timestamp more than one hour off.
Limits: 20 messages per minute per robot, after which the robot is throttled for 10 minutes
(``errcode`` 130101). A reply of ``{"errcode": 0, "errmsg": "ok"}`` means delivered; 310000 is
a security-setting failure (bad signature, missing keyword, IP not whitelisted).

References:
    DingTalk open platform, "自定义机器人安全设置" and "自定义机器人发送群消息";
    /work/shared/reference/platform_exports.md §5.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
from collections.abc import Callable
from typing import Any

import httpx

from luopan.notify.channel import HttpChannel, Outcome, RateLimit, Reply, errcode_reply
from luopan.notify.message import LINK_LABEL, Message

__all__ = ["DingTalkRobot", "parse_reply", "payload", "sign", "signed_url"]

RATE_LIMITED = 130101
SECURITY_FAILED = 310000


def sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's URL-encoded signature for ``timestamp_ms`` (milliseconds)."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode("utf-8"), string_to_sign, hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode("ascii"))


def signed_url(url: str, secret: str | None, timestamp_ms: int) -> str:
    """The webhook URL with ``timestamp`` and ``sign`` appended (unchanged without a secret)."""
    if not secret:
        return url
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}timestamp={timestamp_ms}&sign={sign(secret, timestamp_ms)}"


def payload(
    message: Message, *, at_mobiles: tuple[str, ...] = (), at_all: bool = False
) -> dict[str, Any]:
    """A ``markdown`` message; mobiles to @ are also written in the text (else no ping)."""
    lines = [f"### {message.title}", "", message.body.replace("\n", "\n\n")]
    lines += [f"- **{label}**: {value}" for label, value in message.fields]
    if message.link:
        lines += ["", f"[{LINK_LABEL[message.lang]}]({message.link})"]
    if at_mobiles:
        lines += ["", " ".join(f"@{m}" for m in at_mobiles)]
    return {
        "msgtype": "markdown",
        "markdown": {"title": message.title, "text": "\n".join(lines)},
        "at": {"atMobiles": list(at_mobiles), "atUserIds": [], "isAtAll": at_all},
    }


def parse_reply(reply: Reply) -> Outcome:
    """Map DingTalk's reply to an outcome (130101 and system busy are retryable)."""
    decided = errcode_reply(reply)
    if isinstance(decided, Outcome):
        return decided
    code, detail = decided
    if code == RATE_LIMITED:
        return Outcome(False, True, str(code), detail, retry_after=60.0)
    if code == SECURITY_FAILED:
        detail += (
            " (check the robot's secret, keyword or IP whitelist / 检查加签密钥、关键词或IP白名单)"
        )
    return Outcome(False, False, str(code), detail)


class DingTalkRobot(HttpChannel):
    """A DingTalk custom robot. ``secret`` enables 加签 (recommended)."""

    kind = "dingtalk"
    rate_limits: tuple[RateLimit, ...] = (RateLimit(20, 60.0),)

    def __init__(
        self,
        name: str,
        url: str,
        *,
        secret: str | None = None,
        at_mobiles: tuple[str, ...] = (),
        at_all: bool = False,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(name, url, transport=transport, clock=clock)
        self.secret = secret
        self.at_mobiles = at_mobiles
        self.at_all = at_all

    def send(self, message: Message) -> Outcome:
        timestamp_ms = int(round(self.clock() * 1000))
        url = signed_url(self.url, self.secret, timestamp_ms)
        body = payload(message, at_mobiles=self.at_mobiles, at_all=self.at_all)
        reply = self.post_json(url, body)
        return reply if isinstance(reply, Outcome) else parse_reply(reply)
