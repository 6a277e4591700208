"""What every channel shares: the send outcome, rate limits, and the HTTP edge.

A channel's payload building and signing are pure functions in its own module; only
:meth:`HttpChannel.post_json` and the e-mail channel's SMTP session touch the network, and both
are injectable (an ``httpx`` transport, an SMTP factory) so that unit tests need no network.

Error tree addition (a child of ``DecisionError``, since a notification is an action)::

    DecisionError
    └── DeliveryError   a notification could not be delivered (after retries)
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from luopan.errors import DecisionError
from luopan.notify.message import Message

__all__ = [
    "Channel",
    "DeliveryError",
    "HttpChannel",
    "Outcome",
    "RateLimit",
    "Reply",
    "http_outcome",
]

DEFAULT_TIMEOUT = 10.0


class DeliveryError(DecisionError):
    """A notification could not be delivered."""


@dataclass(frozen=True)
class RateLimit:
    """At most ``count`` messages per ``per_seconds`` seconds."""

    count: int
    per_seconds: float


@dataclass(frozen=True)
class Outcome:
    """The result of one delivery attempt.

    Attributes:
        ok: the platform accepted the message.
        retryable: a later attempt may succeed (rate limited, 5xx, network error).
        code: the platform's error code or HTTP status, as text.
        detail: the platform's message or the exception text.
        retry_after: seconds the platform asked us to wait, when it said so.
    """

    ok: bool
    retryable: bool = False
    code: str | None = None
    detail: str = ""
    retry_after: float | None = None


@dataclass(frozen=True)
class Reply:
    """An HTTP reply as the pure parsers see it."""

    status: int
    text: str
    headers: Mapping[str, str]

    def json(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.text)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None


class Channel(Protocol):
    """A destination for messages."""

    name: str
    kind: str
    rate_limits: tuple[RateLimit, ...]

    def send(self, message: Message) -> Outcome:
        """Make one delivery attempt; never raises for delivery failures."""
        ...


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after") or headers.get("Retry-After")
    try:
        return None if value is None else max(0.0, float(value))
    except ValueError:
        return None


def http_outcome(reply: Reply) -> Outcome | None:
    """The outcome implied by the HTTP status alone, or None when the body must decide.

    429 and 5xx are retryable (honouring ``Retry-After``); other 4xx are not.
    """
    if reply.status == 429:
        return Outcome(False, True, "429", reply.text[:200], _retry_after(reply.headers))
    if reply.status >= 500:
        return Outcome(
            False, True, str(reply.status), reply.text[:200], _retry_after(reply.headers)
        )
    if reply.status >= 400:
        return Outcome(False, False, str(reply.status), reply.text[:200])
    return None


def errcode_reply(reply: Reply) -> Outcome | tuple[int, str]:
    """For robots answering ``{"errcode": …, "errmsg": …}`` (WeCom, DingTalk): the outcome
    decided by the HTTP status or a non-JSON body, else ``(errcode, errmsg)``; code 0 is
    success, -1 is the platforms' retryable "system busy"."""
    by_status = http_outcome(reply)
    if by_status is not None:
        return by_status
    data = reply.json()
    if data is None:
        return Outcome(False, False, str(reply.status), f"not JSON: {reply.text[:200]}")
    code = int(data.get("errcode", -1))
    detail = str(data.get("errmsg", ""))
    if code == 0:
        return Outcome(True, code="0", detail=detail)
    if code == -1:
        return Outcome(False, True, str(code), detail)
    return code, detail


class HttpChannel(ABC):
    """Base of the webhook channels: one ``httpx.Client``, transport injectable.

    Args:
        name: the channel's name in the configuration.
        url: the webhook URL (for most platforms the URL itself is the secret).
        transport: an ``httpx.BaseTransport`` (e.g. ``httpx.MockTransport``) for tests.
        clock: wall-clock seconds since the epoch, used for signing timestamps.
    """

    kind = "http"
    rate_limits: tuple[RateLimit, ...] = ()

    def __init__(
        self,
        name: str,
        url: str,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        import time

        self.name = name
        self.url = url
        self.clock = clock or time.time
        self._client = httpx.Client(transport=transport, timeout=timeout)

    def close(self) -> None:
        self._client.close()

    def post_json(
        self, url: str, payload: Mapping[str, Any], headers: Mapping[str, str] | None = None
    ) -> Reply | Outcome:
        """POST ``payload`` as UTF-8 JSON; a network failure becomes a retryable Outcome."""
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return self.post_bytes(url, body, headers)

    def post_bytes(
        self, url: str, body: bytes, headers: Mapping[str, str] | None = None
    ) -> Reply | Outcome:
        all_headers = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        try:
            r = self._client.post(url, content=body, headers=all_headers)
        except httpx.TimeoutException as exc:
            return Outcome(False, True, "timeout", f"{type(exc).__name__}: {exc}")
        except httpx.TransportError as exc:
            return Outcome(False, True, "network", f"{type(exc).__name__}: {exc}")
        return Reply(r.status_code, r.text, dict(r.headers))

    @abstractmethod
    def send(self, message: Message) -> Outcome:
        """Format ``message`` for the platform and post it once (retries are the dispatcher's)."""
