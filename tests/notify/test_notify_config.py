"""notify.yaml: strict models, secrets only through environment variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from luopan.errors import ConfigError
from luopan.notify import (
    DingTalkRobot,
    EmailChannel,
    FeishuBot,
    JsonWebhook,
    SlackWebhook,
    WeComRobot,
    build_channel,
    load_notify_config,
)

YAML = """\
language: en
dedup_minutes: 30
channels:
  ops_wecom: {type: wecom, url_env: WECOM_URL, msgtype: text, mentioned_mobiles: ["13800000000"]}
  ops_ding:
    type: dingtalk
    url_env: DING_URL
    secret_env: DING_SECRET
    at_mobiles: ["13900000000"]
  pr_feishu: {type: feishu, url_env: FEISHU_URL, secret_env: FEISHU_SECRET}
  team_slack: {type: slack, url_env: SLACK_URL}
  bi_hook: {type: webhook, url: "http://127.0.0.1:9/hook", secret_env: HOOK_SECRET, per_minute: 30}
  ops_mail:
    type: email
    host: smtp.exmail.qq.com
    sender: luopan@brand.cn
    to: [ops@brand.cn]
    username_env: SMTP_USER
    password_env: SMTP_PASSWORD
"""

ENV = {
    "WECOM_URL": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K",
    "DING_URL": "https://oapi.dingtalk.com/robot/send?access_token=T",
    "DING_SECRET": "SECabc",
    "FEISHU_URL": "https://open.feishu.cn/open-apis/bot/v2/hook/H",
    "FEISHU_SECRET": "fs",
    "SLACK_URL": "https://hooks.slack.com/services/T/B/X",
    "HOOK_SECRET": "hs",
    "SMTP_USER": "luopan@brand.cn",
    "SMTP_PASSWORD": "app-password",
}


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "notify.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_every_channel_type_builds_with_secrets_from_the_environment(tmp_path: Path) -> None:
    cfg = load_notify_config(write(tmp_path, YAML))
    assert cfg.language == "en" and cfg.dedup_minutes == 30 and cfg.max_attempts == 4
    built = {name: build_channel(name, cfg, environ=ENV) for name in cfg.channels}
    assert isinstance(built["ops_wecom"], WeComRobot) and built["ops_wecom"].msgtype == "text"
    assert built["ops_wecom"].mentioned_mobiles == ("13800000000",)
    ding = built["ops_ding"]
    assert isinstance(ding, DingTalkRobot)
    assert (ding.url, ding.secret, ding.at_mobiles) == (ENV["DING_URL"], "SECabc", ("13900000000",))
    assert isinstance(built["pr_feishu"], FeishuBot) and built["pr_feishu"].secret == "fs"
    assert isinstance(built["team_slack"], SlackWebhook)
    hook = built["bi_hook"]
    assert isinstance(hook, JsonWebhook) and hook.url == "http://127.0.0.1:9/hook"
    assert hook.rate_limits[0].count == 30
    mail = built["ops_mail"]
    assert isinstance(mail, EmailChannel)
    assert (mail.port, mail.security, mail.password) == (465, "ssl", "app-password")


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            "channels:\n  d:\n    type: dingtalk\n    url_env: DING_URL\n    secret: SECabc\n",
            5,
            "channels.d.secret`: a secret must not be written in the file",
        ),
        (
            "channels:\n  w:\n    type: wecom\n    url: https://qyapi/send?key=K\n",
            4,
            "channels.w.url`: a secret must not be written in the file",
        ),
        (
            "channels:\n  m:\n    type: email\n    host: h\n    sender: a@b.cn\n    to: [x@b.cn]\n"
            "    password: hunter2\n",
            7,
            "channels.m.password`: a secret must not be written",
        ),
        (
            "channels:\n  s:\n    type: sms\n    url_env: X\n",
            2,
            "does not match any of the expected tags",
        ),
        (
            "channels:\n  d:\n    type: dingtalk\n    url_env: lower-case\n",
            4,
            "'lower-case' is not an environment variable name",
        ),
        ("channels:\n  Bad-Name:\n    type: slack\n    url_env: S\n", 1, "channel name 'Bad-Name'"),
        ("channels:\n  h:\n    type: webhook\n", 2, "give exactly one of url or url_env"),
        ("language: fr\n", 1, "Input should be 'zh' or 'en'"),
    ],
)
def test_bad_config_names_file_line_key(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_notify_config(path)
    assert info.value.message.startswith(f"{path}:{line}: key `")
    assert message in info.value.message


def test_unknown_key_is_located_on_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "channels:\n  s:\n    type: slack\n    url_env: S\n    colour: red\n")
    with pytest.raises(ConfigError, match=r"notify.yaml:5: key `channels.s.colour`: unknown key"):
        load_notify_config(path)


def test_missing_environment_variable_says_which_and_how(tmp_path: Path) -> None:
    cfg = load_notify_config(write(tmp_path, YAML))
    env = {k: v for k, v in ENV.items() if k != "DING_SECRET"}
    with pytest.raises(ConfigError) as info:
        build_channel("ops_ding", cfg, environ=env)
    assert info.value.message == (
        "channel 'ops_ding': environment variable DING_SECRET (its secret_env) is not set"
    )
    assert info.value.fix == "export DING_SECRET=… in the environment that runs luopan"
    with pytest.raises(ConfigError, match="no notification channel named 'nope'"):
        build_channel("nope", cfg, environ=ENV)


def test_email_username_may_be_inline_but_not_twice(tmp_path: Path) -> None:
    base = "channels:\n  m:\n    type: email\n    host: h\n    sender: a@b.cn\n    to: [x@b.cn]\n"
    cfg = load_notify_config(write(tmp_path, base + "    username: a@b.cn\n"))
    mail = build_channel("m", cfg, environ={})
    assert isinstance(mail, EmailChannel) and mail.username == "a@b.cn" and mail.password is None
    with pytest.raises(ConfigError, match="at most one of username or username_env"):
        load_notify_config(write(tmp_path, base + "    username: a@b.cn\n    username_env: U\n"))


def test_missing_file_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no notification channels configured"):
        load_notify_config(tmp_path / "notify.yaml")
    assert load_notify_config(write(tmp_path, "")).channels == {}


def test_models_built_in_code_also_refuse_inline_secrets() -> None:
    from pydantic import ValidationError

    from luopan.notify import NotifyConfig

    with pytest.raises(ValidationError, match="`secret:` would put a secret in the file"):
        NotifyConfig.model_validate(
            {"channels": {"d": {"type": "dingtalk", "url_env": "D", "secret": "SECabc"}}}
        )
