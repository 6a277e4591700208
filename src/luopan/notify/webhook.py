"""Generic JSON webhook, optionally signed with HMAC-SHA256.

The body is the message as JSON (:meth:`Message.to_dict` plus ``sent_at``). With a secret, two
headers let the receiver verify origin and freshness::

    X-Luopan-Timestamp: <unix seconds>
    X-Luopan-Signature: sha256=<hex hmac_sha256(key=secret, msg=f"{timestamp}.".encode() + body)>

the same construction as Stripe's and Slack's request signing (timestamp bound into the MAC to
stop replays). Any 2xx is success; 429 and 5xx are retried.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import httpx

from luopan.notify.channel import HttpChannel, Outcome, RateLimit, Reply, http_outcome
from luopan.notify.message import Message

__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "JsonWebhook", "body_bytes", "signature"]

SIGNATURE_HEADER = "X-Luopan-Signature"
TIMESTAMP_HEADER = "X-Luopan-Timestamp"


def body_bytes(message: Message, *, timestamp_s: int) -> bytes:
    """The exact bytes sent (and signed)."""
    data: dict[str, Any] = {**message.to_dict(), "sent_at": timestamp_s}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def signature(secret: str, timestamp_s: int, body: bytes) -> str:
    """``sha256=<hex>`` over ``f"{timestamp}."`` followed by the body."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp_s}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def parse_reply(reply: Reply) -> Outcome:
    by_status = http_outcome(reply)
    if by_status is not None:
        return by_status
    return Outcome(True, code=str(reply.status), detail=reply.text[:200])


class JsonWebhook(HttpChannel):
    """Any HTTP endpoint that accepts JSON."""

    kind = "webhook"

    def __init__(
        self,
        name: str,
        url: str,
        *,
        secret: str | None = None,
        per_minute: int | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(name, url, transport=transport, clock=clock)
        self.secret = secret
        self.rate_limits = (RateLimit(per_minute, 60.0),) if per_minute else ()

    def send(self, message: Message) -> Outcome:
        ts = int(self.clock())
        body = body_bytes(message, timestamp_s=ts)
        headers = {}
        if self.secret:
            headers = {
                TIMESTAMP_HEADER: str(ts),
                SIGNATURE_HEADER: signature(self.secret, ts, body),
            }
        reply = self.post_bytes(self.url, body, headers)
        return reply if isinstance(reply, Outcome) else parse_reply(reply)
