"""Real HTTP on 127.0.0.1: a receiver that verifies signatures as each platform does."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from notify_receivers import (
    DING_SECRET,
    DING_TOKEN,
    FEISHU_SECRET,
    FEISHU_TOKEN,
    HOOK_SECRET,
    WECOM_KEY,
    FakeClock,
    Receiver,
    free_port,
    http_receiver,
)

from luopan.notify import (
    Channel,
    DingTalkRobot,
    Dispatcher,
    FeishuBot,
    JsonWebhook,
    Message,
    RetryPolicy,
    SlackWebhook,
    WeComRobot,
    render,
)

MSG = render(
    "incident",
    "zh",
    key="rule:dau:east:2026-W47",
    severity="critical",
    link="http://cockpit/i/7",
    params={
        "metric": "DAU",
        "slice": "华东",
        "period": "2026-W47",
        "value": "41,200",
        "expected": "52,000",
        "rule": "DAU 波动超过 15%",
        "action": "运行根因分析",
    },
)


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with http_receiver() as r:
        yield r


@pytest.fixture(autouse=True)
def _reset(receiver: Receiver) -> None:
    receiver.received.clear()
    receiver.scripted.clear()


def dispatcher(channel: Channel, sleeps: list[float]) -> Dispatcher:
    """Real HTTP, fake time: waits are recorded in ``sleeps`` instead of slept."""
    clock = FakeClock()
    clock.sleeps = sleeps
    return Dispatcher(
        {"c": channel}, retry=RetryPolicy(max_attempts=4, jitter=0), clock=clock, sleep=clock.sleep
    )


def test_dingtalk_signed_message_is_accepted(receiver: Receiver) -> None:
    url = f"{receiver.base_url}/dingtalk/robot/send?access_token={DING_TOKEN}"
    sleeps: list[float] = []
    (d,) = dispatcher(DingTalkRobot("ding", url, secret=DING_SECRET), sleeps).send(MSG)
    assert d.ok and d.last is not None and (d.last.code, d.last.detail) == ("0", "ok")
    (req,) = receiver.received
    assert req.reply_body == '{"errcode": 0, "errmsg": "ok"}'
    assert req.json()["markdown"]["title"] == "【严重】DAU异常：DAU 波动超过 15%"


def test_dingtalk_wrong_secret_is_rejected_and_not_retried(receiver: Receiver) -> None:
    url = f"{receiver.base_url}/dingtalk/robot/send?access_token={DING_TOKEN}"
    sleeps: list[float] = []
    (d,) = dispatcher(DingTalkRobot("ding", url, secret="SECwrong"), sleeps).send(MSG)
    assert d.status == "failed" and len(d.attempts) == 1 and sleeps == []
    assert d.last is not None and d.last.code == "310000" and "sign not match" in d.last.detail
    assert len(receiver.received) == 1


def test_dingtalk_stale_timestamp_is_rejected(receiver: Receiver) -> None:
    url = f"{receiver.base_url}/dingtalk/robot/send?access_token={DING_TOKEN}"
    two_hours_ago = time.time() - 7200
    robot = DingTalkRobot("ding", url, secret=DING_SECRET, clock=lambda: two_hours_ago)
    (d,) = dispatcher(robot, []).send(MSG)
    assert d.status == "failed" and d.last is not None and d.last.code == "310000"
    assert receiver.received[0].query["timestamp"] == str(int(round(two_hours_ago * 1000)))


def test_dingtalk_rate_limit_130101_is_retried(receiver: Receiver) -> None:
    busy = (
        200,
        json.dumps({"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}),
        {"Content-Type": "application/json"},
    )
    receiver.script("/dingtalk/", busy, busy)
    url = f"{receiver.base_url}/dingtalk/robot/send?access_token={DING_TOKEN}"
    sleeps: list[float] = []
    (d,) = dispatcher(DingTalkRobot("ding", url, secret=DING_SECRET), sleeps).send(MSG)
    assert d.ok
    assert [a.outcome.code for a in d.attempts] == ["130101", "130101", "0"]
    assert sleeps == [60.0, 60.0]  # DingTalk's retry_after hint, capped at max_delay=60
    assert [r.reply_status for r in receiver.received] == [200, 200, 200]


def test_feishu_signed_post_is_accepted_and_wrong_secret_gets_19021(receiver: Receiver) -> None:
    url = f"{receiver.base_url}/feishu/open-apis/bot/v2/hook/{FEISHU_TOKEN}"
    sleeps: list[float] = []
    (ok,) = dispatcher(FeishuBot("fs", url, secret=FEISHU_SECRET), sleeps).send(MSG)
    assert ok.ok and ok.last is not None and ok.last.detail == "success"
    (bad,) = dispatcher(FeishuBot("fs", url, secret="nope"), sleeps).send(MSG)
    assert bad.status == "failed" and bad.last is not None and bad.last.code == "19021"
    assert len(bad.attempts) == 1
    body = receiver.received[0].json()
    assert body["msg_type"] == "post" and body["content"]["post"]["zh_cn"]["title"].startswith(
        "【严重】"
    )


def test_wecom_long_markdown_fits_the_server_limit(receiver: Receiver) -> None:
    url = f"{receiver.base_url}/wecom/cgi-bin/webhook/send?key={WECOM_KEY}"
    long = Message(
        key="weekly", title="周报", body="各门店明细：" + "上海徐汇店销售额环比下降 12%。" * 400
    )
    sleeps: list[float] = []
    (d,) = dispatcher(WeComRobot("wc", url), sleeps).send(long)
    assert d.ok
    content = receiver.received[0].json()["markdown"]["content"]
    assert len(content.encode("utf-8")) <= 4096 and content.endswith(
        "已截断，完整内容请在驾驶舱查看）"
    )
    # the receiver does reject oversize content, so the cut is what made this pass
    raw = {"msgtype": "markdown", "markdown": {"content": long.body}}
    assert (
        receiver.handle(
            "/wecom/cgi-bin/webhook/send", {"key": WECOM_KEY}, {}, json.dumps(raw).encode()
        )[1]
        == '{"errcode": 40058, "errmsg": "content exceed max length"}'
    )


def test_slack_429_retry_after_then_ok(receiver: Receiver) -> None:
    receiver.script("/slack/", (429, "rate_limited", {"Retry-After": "3"}))
    url = f"{receiver.base_url}/slack/services/T000/B000/XXXX"
    sleeps: list[float] = []
    (d,) = dispatcher(SlackWebhook("sl", url), sleeps).send(MSG)
    assert d.ok and [a.outcome.code for a in d.attempts] == ["429", "200"]
    assert sleeps == [3.0]
    assert receiver.received[1].json()["blocks"][0]["text"]["text"] == MSG.title


def test_generic_webhook_signature_verified_by_receiver(receiver: Receiver) -> None:
    url = f"{receiver.base_url}/hook"
    sleeps: list[float] = []
    (ok,) = dispatcher(JsonWebhook("h", url, secret=HOOK_SECRET), sleeps).send(MSG)
    assert ok.ok and ok.last is not None and ok.last.code == "200"
    (bad,) = dispatcher(JsonWebhook("h", url, secret="other"), sleeps).send(MSG)
    assert bad.status == "failed" and bad.last is not None and bad.last.code == "401"
    assert receiver.received[0].json()["title"] == MSG.title


def test_connection_refused_is_retried_to_the_limit() -> None:
    url = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
    sleeps: list[float] = []
    (d,) = dispatcher(JsonWebhook("h", url), sleeps).send(MSG)
    assert d.status == "failed" and len(d.attempts) == 4
    assert {a.outcome.code for a in d.attempts} == {"network"}
    assert sleeps == [1.0, 2.0, 4.0]
