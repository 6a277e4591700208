"""Deliver messages to channels: de-duplication, per-channel rate limits, retries with backoff.

The dispatcher is the only stateful piece. Time is injected: ``clock()`` returns seconds and
``sleep(s)`` waits, so tests drive it with a fake clock whose sleep advances time. Results are
:class:`Delivery` records; nothing is printed.

- **De-duplication**: a message whose key was delivered to the same channel less than
  ``dedup_window`` seconds ago is suppressed. Failed deliveries do not count, so a retry later
  goes through. State is in memory; the decision log's rule cooldown covers process restarts.
- **Rate limits**: each channel declares sliding-window limits (WeCom 20/min, DingTalk 20/min,
  Feishu 100/min and 5/s, Slack 1/s). Before each attempt the dispatcher waits until every
  window has room.
- **Retries**: retryable outcomes (rate limited, 5xx, network) are retried up to
  ``max_attempts`` with exponential backoff ``base * factor**(n-1)`` capped at ``max_delay``,
  with "equal jitter" (half fixed, half random) so that many senders do not retry in step;
  a platform's ``retry_after`` hint raises the wait (still capped).

References:
    M. Brooker, "Exponential Backoff And Jitter", AWS Architecture Blog, 2015.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from luopan.errors import ConfigError
from luopan.notify.channel import Channel, Outcome, RateLimit
from luopan.notify.message import Message

__all__ = ["Attempt", "Delivery", "Dispatcher", "RateLimiter", "RetryPolicy"]

Status = Literal["sent", "failed", "suppressed"]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry.

    Args:
        max_attempts: attempts in all, the first included.
        base_delay: seconds before the first retry (before jitter).
        factor: growth per retry.
        max_delay: cap on any single wait, including a platform's ``retry_after``.
        jitter: fraction of each delay that is random (0 = deterministic, 0.5 = equal jitter).
    """

    max_attempts: int = 4
    base_delay: float = 1.0
    factor: float = 2.0
    max_delay: float = 60.0
    jitter: float = 0.5

    def delay(self, retry: int, rng: random.Random, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        raw = min(self.max_delay, self.base_delay * self.factor ** (retry - 1))
        wait = raw * (1.0 - self.jitter) + raw * self.jitter * rng.random()
        if retry_after is not None:
            wait = max(wait, min(self.max_delay, retry_after))
        return wait


class RateLimiter:
    """Sliding-window limits for one channel: ``count`` sends per ``per_seconds``."""

    def __init__(self, limits: Iterable[RateLimit]) -> None:
        self.limits = tuple(limits)
        longest = max((lim.count for lim in self.limits), default=0)
        self._sent: deque[float] = deque(maxlen=longest or 1)

    def wait_time(self, now: float) -> float:
        """Seconds until one more send fits every window."""
        wait = 0.0
        for lim in self.limits:
            recent = [t for t in self._sent if t > now - lim.per_seconds]
            if len(recent) >= lim.count:
                oldest_that_matters = recent[-lim.count]
                wait = max(wait, oldest_that_matters + lim.per_seconds - now)
        return wait

    def record(self, now: float) -> None:
        if self.limits:
            self._sent.append(now)


@dataclass(frozen=True)
class Attempt:
    """One try: when it started, how long we waited before it (rate limit + backoff)."""

    number: int
    at: float
    waited: float
    outcome: Outcome


@dataclass(frozen=True)
class Delivery:
    """What happened to one message on one channel."""

    channel: str
    kind: str
    key: str
    status: Status
    attempts: tuple[Attempt, ...]
    started_at: float
    finished_at: float

    @property
    def ok(self) -> bool:
        return self.status == "sent"

    @property
    def last(self) -> Outcome | None:
        return self.attempts[-1].outcome if self.attempts else None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready record (for the decision log or the API)."""
        return {
            "channel": self.channel,
            "kind": self.kind,
            "key": self.key,
            "status": self.status,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "attempts": [
                {
                    "number": a.number,
                    "at": a.at,
                    "waited": a.waited,
                    "ok": a.outcome.ok,
                    "retryable": a.outcome.retryable,
                    "code": a.outcome.code,
                    "detail": a.outcome.detail,
                }
                for a in self.attempts
            ],
        }


class Dispatcher:
    """Send messages to named channels with de-duplication, rate limits and retries.

    Args:
        channels: name -> channel.
        retry: the retry policy.
        dedup_window: seconds during which a (channel, key) already delivered is suppressed;
            0 disables de-duplication.
        clock: seconds (monotonic or wall; only differences matter).
        sleep: waits the given seconds; a fake in tests.
        seed: seeds the jitter.
    """

    def __init__(
        self,
        channels: Mapping[str, Channel],
        *,
        retry: RetryPolicy | None = None,
        dedup_window: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        seed: int | None = None,
    ) -> None:
        self.channels = dict(channels)
        self.retry = retry or RetryPolicy()
        self.dedup_window = dedup_window
        self.clock = clock
        self.sleep = sleep
        self._rng = random.Random(seed)
        self._limiters = {name: RateLimiter(ch.rate_limits) for name, ch in self.channels.items()}
        self._delivered: dict[tuple[str, str], float] = {}

    def send(self, message: Message, channels: Sequence[str] | None = None) -> list[Delivery]:
        """Deliver ``message`` to ``channels`` (all when None), one record per channel.

        Raises:
            ConfigError: a channel name that is not configured.
        """
        names = list(self.channels) if channels is None else list(channels)
        unknown = [n for n in names if n not in self.channels]
        if unknown:
            raise ConfigError(
                f"unknown notification channel(s): {', '.join(unknown)}",
                fix=f"configured channels: {', '.join(self.channels) or '(none)'}",
            )
        return [self._deliver(name, message) for name in names]

    def _deliver(self, name: str, message: Message) -> Delivery:
        channel = self.channels[name]
        start = self.clock()
        last_ok = self._delivered.get((name, message.key))
        if self.dedup_window > 0 and last_ok is not None and start - last_ok < self.dedup_window:
            return Delivery(name, channel.kind, message.key, "suppressed", (), start, start)
        limiter = self._limiters[name]
        attempts: list[Attempt] = []
        backoff = 0.0
        for number in range(1, self.retry.max_attempts + 1):
            waited = backoff
            if backoff > 0:
                self.sleep(backoff)
            pause = limiter.wait_time(self.clock())
            if pause > 0:
                self.sleep(pause)
                waited += pause
            at = self.clock()
            limiter.record(at)
            outcome = channel.send(message)
            attempts.append(Attempt(number, at, waited, outcome))
            if outcome.ok:
                self._delivered[(name, message.key)] = at
                return Delivery(name, channel.kind, message.key, "sent", tuple(attempts), start, at)
            if not outcome.retryable:
                break
            backoff = self.retry.delay(number, self._rng, outcome.retry_after)
        end = self.clock()
        return Delivery(name, channel.kind, message.key, "failed", tuple(attempts), start, end)
