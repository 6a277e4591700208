"""Channel payloads and reply handling, with an in-memory httpx transport (no network)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from luopan.notify import dingtalk, feishu, slack, webhook, wecom
from luopan.notify.channel import Outcome, Reply
from luopan.notify.message import TRUNCATION_NOTE, Message

MSG = Message(
    key="rule:dau:east:2026-W47",
    title="【预警】DAU异常",
    body="华东 DAU 下降 18%\n建议：运行根因分析",
    severity="warning",
    lang="zh",
    link="http://cockpit.local/incidents/7",
    fields=(("负责人", "王芳"),),
)


class Recorder:
    """An httpx.MockTransport that records requests and answers with canned replies."""

    def __init__(self, *replies: httpx.Response) -> None:
        self.requests: list[httpx.Request] = []
        self.replies = list(replies)
        self.transport = httpx.MockTransport(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.replies.pop(0) if self.replies else httpx.Response(200, json={"errcode": 0})


def test_dingtalk_posts_signed_markdown() -> None:
    rec = Recorder(httpx.Response(200, json={"errcode": 0, "errmsg": "ok"}))
    robot = dingtalk.DingTalkRobot(
        "ops",
        "https://oapi.dingtalk.com/robot/send?access_token=T",
        secret="SECb1f3example",
        at_mobiles=("13800000000",),
        transport=rec.transport,
        clock=lambda: 1700000000.0,
    )
    assert robot.send(MSG) == Outcome(True, code="0", detail="ok")
    (req,) = rec.requests
    q = parse_qs(urlsplit(str(req.url)).query)
    assert q == {
        "access_token": ["T"],
        "timestamp": ["1700000000000"],
        "sign": ["UJ7DpdmVQPi/P1OZT0GDuzGbqsL/xwdPrWwPzOG/y+8="],
    }
    body = json.loads(req.content.decode("utf-8"))
    assert body["msgtype"] == "markdown"
    assert body["markdown"]["title"] == "【预警】DAU异常"
    assert body["markdown"]["text"] == (
        "### 【预警】DAU异常\n\n华东 DAU 下降 18%\n\n建议：运行根因分析\n- **负责人**: 王芳\n\n"
        "[在驾驶舱中查看](http://cockpit.local/incidents/7)\n\n@13800000000"
    )
    assert body["at"] == {"atMobiles": ["13800000000"], "atUserIds": [], "isAtAll": False}
    assert req.headers["content-type"] == "application/json; charset=utf-8"


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ({"errcode": 0, "errmsg": "ok"}, (True, False, "0")),
        ({"errcode": 130101, "errmsg": "send too fast"}, (False, True, "130101")),
        ({"errcode": -1, "errmsg": "system busy"}, (False, True, "-1")),
        ({"errcode": 310000, "errmsg": "sign not match"}, (False, False, "310000")),
        ({"errcode": 300001, "errmsg": "token is not exist"}, (False, False, "300001")),
    ],
)
def test_dingtalk_reply_codes(reply: dict[str, object], expected: tuple[bool, bool, str]) -> None:
    out = dingtalk.parse_reply(Reply(200, json.dumps(reply), {}))
    assert (out.ok, out.retryable, out.code) == expected
    if reply["errcode"] == 130101:
        assert out.retry_after == 60.0


def test_feishu_body_is_signed_post_in_message_language() -> None:
    body = feishu.payload(MSG, secret="feishu-secret-42", timestamp_s=1700000000)
    assert body["timestamp"] == "1700000000"
    assert body["sign"] == "INMLa6ItJbhwdRZRoTvT3OZMtlY5WjmWq4F2Jscs314="
    post = body["content"]["post"]["zh_cn"]
    assert post["title"] == "【预警】DAU异常"
    assert post["content"] == [
        [{"tag": "text", "text": "华东 DAU 下降 18%"}],
        [{"tag": "text", "text": "建议：运行根因分析"}],
        [{"tag": "text", "text": "负责人: 王芳"}],
        [{"tag": "a", "text": "在驾驶舱中查看", "href": "http://cockpit.local/incidents/7"}],
    ]
    en = Message(key="k", title="t", body="b", lang="en")
    assert list(feishu.payload(en)["content"]["post"]) == ["en_us"]
    assert "sign" not in feishu.payload(en)


@pytest.mark.parametrize(
    ("status", "reply", "expected"),
    [
        (200, {"code": 0, "msg": "success"}, (True, False, "0")),
        (200, {"code": 19021, "msg": "sign match fail"}, (False, False, "19021")),
        (200, {"code": 11232, "msg": "frequency limited"}, (False, True, "11232")),
        (429, {"code": 9499, "msg": "too many requests"}, (False, True, "429")),
        (200, {"StatusCode": 0, "StatusMessage": "success"}, (True, False, "0")),
    ],
)
def test_feishu_reply_codes(status: int, reply: dict[str, object], expected: tuple) -> None:
    out = feishu.parse_reply(Reply(status, json.dumps(reply), {}))
    assert (out.ok, out.retryable, out.code) == expected


def test_wecom_markdown_payload_and_colours() -> None:
    body = wecom.payload(MSG)
    assert body == {
        "msgtype": "markdown",
        "markdown": {
            "content": '**【预警】DAU异常**\n> <font color="warning">预警</font>\n\n'
            '华东 DAU 下降 18%\n建议：运行根因分析\n> 负责人: <font color="comment">王芳</font>\n\n'
            "[在驾驶舱中查看](http://cockpit.local/incidents/7)"
        },
    }


def test_wecom_long_markdown_is_cut_to_4096_bytes_with_note() -> None:
    long = Message(
        key="k", title="周报", body="门店销售额下降明细：" + "华东区门店A销售额下降。" * 600
    )
    content = wecom.payload(long)["markdown"]["content"]
    assert len(long.body.encode()) > 4096
    assert 4096 - 3 < len(content.encode("utf-8")) <= 4096
    assert content.endswith(TRUNCATION_NOTE["zh"])
    text = wecom.payload(long, msgtype="text", mentioned_mobiles=("13800000000",))
    assert len(text["text"]["content"].encode("utf-8")) <= 2048
    assert text["text"]["mentioned_mobile_list"] == ["13800000000"]


def test_wecom_sends_to_url_and_maps_errors() -> None:
    rec = Recorder(httpx.Response(200, json={"errcode": 45009, "errmsg": "api freq out of limit"}))
    robot = wecom.WeComRobot(
        "ops", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K", transport=rec.transport
    )
    out = robot.send(MSG)
    assert (out.ok, out.retryable, out.code, out.retry_after) == (False, True, "45009", 60.0)
    assert str(rec.requests[0].url) == "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K"


def test_slack_blocks_and_fallback_text() -> None:
    body = slack.payload(MSG)
    assert body["text"] == "【预警】DAU异常\n华东 DAU 下降 18%\n建议：运行根因分析"
    assert [b["type"] for b in body["blocks"]] == ["header", "section", "section", "context"]
    assert (
        body["blocks"][1]["text"]["text"]
        == ":warning: *预警*\n华东 DAU 下降 18%\n建议：运行根因分析"
    )
    assert (
        body["blocks"][3]["elements"][0]["text"]
        == "<http://cockpit.local/incidents/7|在驾驶舱中查看>"
    )
    escaped = slack.payload(Message(key="k", title="t", body="a < b & c"))
    assert escaped["blocks"][1]["text"]["text"].endswith("a &lt; b &amp; c")


def test_slack_reply_ok_and_429_retry_after() -> None:
    assert slack.parse_reply(Reply(200, "ok", {})).ok
    out = slack.parse_reply(Reply(429, "rate_limited", {"retry-after": "7"}))
    assert (out.ok, out.retryable, out.retry_after) == (False, True, 7.0)
    out = slack.parse_reply(Reply(404, "no_service", {}))
    assert (out.ok, out.retryable, out.code) == (False, False, "404")


def test_webhook_sends_signed_exact_bytes() -> None:
    rec = Recorder(httpx.Response(202, text="accepted"))
    hook = webhook.JsonWebhook(
        "bi",
        "https://bi.example/hook",
        secret="hook-secret",
        transport=rec.transport,
        clock=lambda: 1700000000.9,
    )
    assert hook.send(MSG).ok
    (req,) = rec.requests
    assert req.headers["x-luopan-timestamp"] == "1700000000"
    assert req.headers["x-luopan-signature"] == webhook.signature(
        "hook-secret", 1700000000, req.content
    )
    data = json.loads(req.content.decode("utf-8"))
    assert data["key"] == MSG.key and data["sent_at"] == 1700000000
    assert data["fields"] == [{"label": "负责人", "value": "王芳"}]
    assert "华东" in req.content.decode("utf-8")  # UTF-8, not \\u escapes


def test_network_error_is_retryable_outcome() -> None:
    def boom(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    hook = webhook.JsonWebhook("bi", "http://127.0.0.1:9/hook", transport=httpx.MockTransport(boom))
    out = hook.send(MSG)
    assert (out.ok, out.retryable, out.code) == (False, True, "network")
    assert "ConnectError" in out.detail
