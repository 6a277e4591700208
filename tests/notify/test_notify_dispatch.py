"""Dispatcher: retries with backoff, de-duplication, rate-limit spacing — on a fake clock."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import pytest
from notify_receivers import FakeClock

from luopan.errors import ConfigError
from luopan.notify.channel import Outcome, RateLimit
from luopan.notify.dispatch import Dispatcher, RateLimiter, RetryPolicy
from luopan.notify.message import Message


@dataclass
class Scripted:
    """A channel answering from a script (then success); records when it was called."""

    name: str = "fake"
    kind: str = "fake"
    rate_limits: tuple[RateLimit, ...] = ()
    script: list[Outcome] = field(default_factory=list)
    calls: list[tuple[float, str]] = field(default_factory=list)
    clock: FakeClock | None = None

    def send(self, message: Message) -> Outcome:
        self.calls.append((self.clock() if self.clock else 0.0, message.key))
        return self.script.pop(0) if self.script else Outcome(True, code="0")


BUSY = Outcome(False, True, "130101", "send too fast")
BAD_SIGN = Outcome(False, False, "310000", "sign not match")


def msg(key: str = "k1") -> Message:
    return Message(key=key, title="t", body="b")


def make(channels: dict[str, Scripted], clock: FakeClock, **kw: object) -> Dispatcher:
    for ch in channels.values():
        ch.clock = clock
    return Dispatcher(channels, clock=clock, sleep=clock.sleep, **kw)  # type: ignore[arg-type]


def test_retries_with_exponential_backoff_then_succeeds() -> None:
    clock = FakeClock()
    ch = Scripted(
        script=[
            Outcome(False, True, "500"),
            Outcome(False, True, "500"),
            Outcome(False, True, "500"),
        ]
    )
    d = make({"a": ch}, clock, retry=RetryPolicy(max_attempts=4, base_delay=1, jitter=0))
    (delivery,) = d.send(msg())
    assert delivery.status == "sent"
    assert [a.number for a in delivery.attempts] == [1, 2, 3, 4]
    assert clock.sleeps == [1.0, 2.0, 4.0]
    assert [a.at for a in delivery.attempts] == [1000.0, 1001.0, 1003.0, 1007.0]
    assert [a.waited for a in delivery.attempts] == [0.0, 1.0, 2.0, 4.0]


def test_gives_up_after_max_attempts_and_caps_delay() -> None:
    clock = FakeClock()
    ch = Scripted(script=[Outcome(False, True, "503")] * 10)
    d = make(
        {"a": ch}, clock, retry=RetryPolicy(max_attempts=6, base_delay=2, max_delay=10, jitter=0)
    )
    (delivery,) = d.send(msg())
    assert delivery.status == "failed" and len(delivery.attempts) == 6 and len(ch.calls) == 6
    assert clock.sleeps == [2.0, 4.0, 8.0, 10.0, 10.0]
    assert delivery.last is not None and delivery.last.code == "503"


def test_non_retryable_error_is_tried_once() -> None:
    clock = FakeClock()
    ch = Scripted(script=[BAD_SIGN])
    (delivery,) = make({"a": ch}, clock).send(msg())
    assert delivery.status == "failed" and len(delivery.attempts) == 1 and clock.sleeps == []


def test_retry_after_hint_raises_the_wait_but_stays_capped() -> None:
    clock = FakeClock()
    ch = Scripted(
        script=[
            Outcome(False, True, "429", retry_after=7.0),
            Outcome(False, True, "130101", retry_after=600.0),
        ]
    )
    d = make({"a": ch}, clock, retry=RetryPolicy(base_delay=1, max_delay=30, jitter=0))
    (delivery,) = d.send(msg())
    assert delivery.ok and clock.sleeps == [7.0, 30.0]


def test_jitter_is_seeded_and_within_equal_jitter_bounds() -> None:
    policy = RetryPolicy(base_delay=1.0, factor=2.0, max_delay=60, jitter=0.5)
    rng = random.Random(3)
    delays = [policy.delay(n, rng) for n in range(1, 7)]
    for n, wait in enumerate(delays, start=1):
        raw = min(60.0, 2.0 ** (n - 1))
        assert raw / 2 <= wait <= raw
    assert len(set(delays)) == 6  # not in lock step
    # the same seed gives the same schedule through the dispatcher; another seed another one
    runs = []
    for seed in (11, 11, 12):
        clock = FakeClock()
        ch = Scripted(script=[BUSY, BUSY, BUSY])
        make({"a": ch}, clock, seed=seed).send(msg())
        runs.append(clock.sleeps)
    assert runs[0] == runs[1] != runs[2]
    for wait, raw in zip(runs[0], [1.0, 2.0, 4.0], strict=True):
        assert raw / 2 <= wait <= raw


def test_duplicate_key_is_suppressed_within_window_and_sent_after() -> None:
    clock = FakeClock()
    a, b = Scripted(), Scripted()
    d = make({"a": a, "b": b}, clock, dedup_window=600)
    assert [x.status for x in d.send(msg("rule:dau:W47"))] == ["sent", "sent"]
    clock.now += 599
    again = d.send(msg("rule:dau:W47"))
    assert [x.status for x in again] == ["suppressed", "suppressed"]
    assert again[0].attempts == ()
    assert [x.status for x in d.send(msg("rule:dau:W48"))] == ["sent", "sent"]
    clock.now += 1
    assert [x.status for x in d.send(msg("rule:dau:W47"))] == ["sent", "sent"]
    assert [k for _, k in a.calls] == ["rule:dau:W47", "rule:dau:W48", "rule:dau:W47"]


def test_failed_delivery_is_not_deduplicated_and_dedup_is_per_channel() -> None:
    clock = FakeClock()
    good, bad = Scripted(), Scripted(script=[BAD_SIGN])
    d = make({"good": good, "bad": bad}, clock, dedup_window=600)
    assert [x.status for x in d.send(msg())] == ["sent", "failed"]
    assert [x.status for x in d.send(msg())] == ["suppressed", "sent"]
    assert len(good.calls) == 1 and len(bad.calls) == 2


def test_dedup_window_zero_disables_it() -> None:
    clock = FakeClock()
    ch = Scripted()
    d = make({"a": ch}, clock, dedup_window=0)
    d.send(msg())
    d.send(msg())
    assert len(ch.calls) == 2


def test_wecom_limit_spaces_the_21st_message_to_the_next_minute() -> None:
    clock = FakeClock(0.0)
    ch = Scripted(rate_limits=(RateLimit(20, 60.0),))
    d = make({"wecom": ch}, clock)
    for i in range(45):
        (delivery,) = d.send(msg(f"k{i}"))
        assert delivery.ok
    times = [t for t, _ in ch.calls]
    assert times[:20] == [0.0] * 20
    assert times[20:40] == [60.0] * 20
    assert times[40:] == [120.0] * 5
    # no 60-second window ever holds more than 20 sends
    assert max(sum(1 for t in times if s <= t < s + 60) for s in times) == 20


def test_feishu_limits_five_per_second_and_hundred_per_minute() -> None:
    clock = FakeClock(0.0)
    ch = Scripted(rate_limits=(RateLimit(100, 60.0), RateLimit(5, 1.0)))
    d = make({"feishu": ch}, clock)
    for i in range(105):
        d.send(msg(f"k{i}"))
    times = [t for t, _ in ch.calls]
    assert times[:12] == [0.0] * 5 + [1.0] * 5 + [2.0] * 2
    assert times[99] == 19.0  # 100 sends fit in 20 s at 5/s
    assert times[100] == 60.0  # the 101st waits for the minute window
    assert max(sum(1 for t in times if s <= t < s + 1) for s in times) == 5
    assert max(sum(1 for t in times if s <= t < s + 60) for s in times) == 100


def test_rate_limit_wait_is_reported_in_the_attempt() -> None:
    clock = FakeClock(0.0)
    ch = Scripted(rate_limits=(RateLimit(1, 1.0),))
    d = make({"slack": ch}, clock)
    d.send(msg("a"))
    clock.now = 0.25
    (delivery,) = d.send(msg("b"))
    assert delivery.attempts[0].waited == pytest.approx(0.75)
    assert delivery.attempts[0].at == pytest.approx(1.0)


def test_rate_limiter_window_boundary_is_exclusive() -> None:
    lim = RateLimiter([RateLimit(2, 10.0)])
    lim.record(0.0)
    lim.record(5.0)
    assert lim.wait_time(9.0) == 1.0
    assert lim.wait_time(10.0) == 0.0


def test_unknown_channel_is_a_config_error() -> None:
    d = Dispatcher({"a": Scripted()})
    with pytest.raises(ConfigError, match="unknown notification channel.*nope"):
        d.send(msg(), ["nope"])


def test_delivery_record_serializes_every_attempt() -> None:
    clock = FakeClock(0.0)
    ch = Scripted(script=[BUSY])
    d = make({"ding": ch}, clock, retry=RetryPolicy(jitter=0))
    (delivery,) = d.send(msg("rule:x"))
    assert delivery.to_dict() == {
        "channel": "ding",
        "kind": "fake",
        "key": "rule:x",
        "status": "sent",
        "started_at": 0.0,
        "finished_at": 1.0,
        "attempts": [
            {
                "number": 1,
                "at": 0.0,
                "waited": 0.0,
                "ok": False,
                "retryable": True,
                "code": "130101",
                "detail": "send too fast",
            },
            {
                "number": 2,
                "at": 1.0,
                "waited": 1.0,
                "ok": True,
                "retryable": False,
                "code": "0",
                "detail": "",
            },
        ],
    }
