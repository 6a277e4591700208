"""``luopan notify test|channels``: one real subprocess end to end, the rest in-process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from notify_receivers import DING_SECRET, DING_TOKEN, Receiver, http_receiver
from typer.testing import CliRunner

from luopan.cli.notify import register
from luopan.errors import ConfigError
from luopan.notify import DeliveryError

NOTIFY_YAML = """\
channels:
  ops_ding: {type: dingtalk, url_env: T_DING_URL, secret_env: T_DING_SECRET}
  team_slack: {type: slack, url_env: T_SLACK_URL}
"""


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with http_receiver() as r:
        yield r


def workspace(tmp_path: Path) -> Path:
    (tmp_path / "luopan.yaml").write_text("name: notify-test\n", encoding="utf-8")
    (tmp_path / "notify.yaml").write_text(NOTIFY_YAML, encoding="utf-8")
    return tmp_path


def luopan(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "luopan", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200", **env},
    )


def test_notify_test_sends_a_signed_zh_message_and_reports_it(
    tmp_path: Path, receiver: Receiver
) -> None:
    ws = workspace(tmp_path)
    env = {
        "T_DING_URL": f"{receiver.base_url}/dingtalk/robot/send?access_token={DING_TOKEN}",
        "T_DING_SECRET": DING_SECRET,
    }
    receiver.received.clear()
    r = luopan("notify", "test", "ops_ding", "-w", str(ws), env=env)
    assert r.returncode == 0, r.stderr
    assert "已送达" in r.stdout and "ops_ding" in r.stdout
    (req,) = receiver.received
    assert req.reply_body == '{"errcode": 0, "errmsg": "ok"}'  # the receiver checked the sign
    body = req.json()
    assert body["markdown"]["title"] == "罗盘测试消息"
    assert "通道 ops_ding 已配置正确" in body["markdown"]["text"]
    assert DING_SECRET not in r.stdout + r.stderr


def invoke(*args: str, env: dict[str, str]):
    """The notify command group alone, in-process (the full CLI takes seconds to import)."""
    app = typer.Typer()
    register(app)
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200", **env})


def test_notify_test_fails_with_platform_code_when_the_secret_is_wrong(
    tmp_path: Path, receiver: Receiver
) -> None:
    ws = workspace(tmp_path)
    env = {
        "T_DING_URL": f"{receiver.base_url}/dingtalk/robot/send?access_token={DING_TOKEN}",
        "T_DING_SECRET": "SECwrong",
        "LUOPAN_LANG": "en",
    }
    r = invoke("notify", "test", "ops_ding", "-w", str(ws), env=env)
    assert r.exit_code == 1 and isinstance(r.exception, DeliveryError)
    assert "failed" in r.stdout
    assert r.exception.message == (
        "channel 'ops_ding' did not accept the test message (code 310000: sign not match "
        "(check the robot's secret, keyword or IP whitelist / 检查加签密钥、关键词或IP白名单))"
    )


def test_notify_channels_lists_env_vars_without_values(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    r = invoke(
        "notify",
        "channels",
        "-w",
        str(ws),
        env={
            "LUOPAN_LANG": "en",
            "T_SLACK_URL": "http://127.0.0.1:9/slack",
            "T_DING_URL": "",
            "T_DING_SECRET": "",
        },
    )
    assert r.exit_code == 0, r.output
    lines = {line.split("│")[1].strip(): line for line in r.stdout.splitlines() if "│" in line}
    assert "T_DING_URL (missing)" in lines["ops_ding"]
    assert "T_DING_SECRET (missing)" in lines["ops_ding"]
    assert "T_SLACK_URL (set)" in lines["team_slack"]
    assert "127.0.0.1:9" not in r.stdout


def test_notify_test_missing_env_var_is_a_clear_error(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    r = invoke(
        "notify", "test", "team_slack", "-w", str(ws), env={"LUOPAN_LANG": "en", "T_SLACK_URL": ""}
    )
    assert r.exit_code == 1 and isinstance(r.exception, ConfigError)
    assert r.exception.message == (
        "channel 'team_slack': environment variable T_SLACK_URL (its url_env) is not set"
    )
    assert r.exception.fix == "export T_SLACK_URL=… in the environment that runs luopan"
