"""Notification channels configured in ``notify.yaml`` (next to ``luopan.yaml``).

Secrets never appear in the file: each channel names the **environment variable** that holds
its secret (``url_env``, ``secret_env``, ``password_env``). For WeCom, DingTalk, Feishu and Slack
the webhook URL itself carries the token, so it too comes from the environment. A key such as
``secret:`` or ``password:`` is rejected with a pointer to the ``*_env`` form.

Example::

    language: zh
    dedup_minutes: 60
    channels:
      ops_wecom:   {type: wecom, url_env: LUOPAN_WECOM_URL, msgtype: markdown}
      ops_ding:    {type: dingtalk, url_env: LUOPAN_DINGTALK_URL, secret_env: LUOPAN_DINGTALK_SECRET}
      pr_feishu:   {type: feishu, url_env: LUOPAN_FEISHU_URL, secret_env: LUOPAN_FEISHU_SECRET}
      team_slack:  {type: slack, url_env: LUOPAN_SLACK_URL}
      bi_hook:     {type: webhook, url: "https://bi.example.cn/hooks/luopan", secret_env: LUOPAN_HOOK_SECRET}
      ops_mail:
        type: email
        host: smtp.exmail.qq.com
        port: 465
        security: ssl
        sender: luopan@brand.cn
        to: [ops@brand.cn]
        username_env: LUOPAN_SMTP_USER
        password_env: LUOPAN_SMTP_PASSWORD
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from luopan.config import _line_of
from luopan.errors import ConfigError
from luopan.notify.channel import Channel
from luopan.notify.dingtalk import DingTalkRobot
from luopan.notify.email import EmailChannel, SmtpFactory
from luopan.notify.feishu import FeishuBot
from luopan.notify.slack import SlackWebhook
from luopan.notify.webhook import JsonWebhook
from luopan.notify.wecom import WeComRobot

__all__ = ["NOTIFY_FILE", "ChannelConfig", "NotifyConfig", "build_channel", "load_notify_config"]

NOTIFY_FILE = "notify.yaml"
_ENV = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_SECRET_KEYS = {"secret", "password", "token", "key", "access_token", "webhook"}
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_URL_KEYS = {"url", "token", "webhook", "access_token", "key"}
_URL_IS_SECRET = {"wecom", "dingtalk", "feishu", "slack"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _no_inline_secrets(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for k in data:
                if k in _SECRET_KEYS:
                    raise ValueError(
                        f"`{k}:` would put a secret in the file; name an environment variable "
                        f"instead with `{'url' if k in _URL_KEYS else k}_env:`"
                    )
        return data


def _env_name(value: str) -> str:
    if not _ENV.match(value):
        raise ValueError(f"{value!r} is not an environment variable name (e.g. LUOPAN_SECRET)")
    return value


EnvName = Annotated[str, AfterValidator(_env_name)]


class _Webhook(_Strict):
    url_env: EnvName = Field(description="environment variable holding the webhook URL")


class WeComConfig(_Webhook):
    type: Literal["wecom"]
    msgtype: Literal["markdown", "text"] = "markdown"
    mentioned_mobiles: tuple[str, ...] = ()


class DingTalkConfig(_Webhook):
    type: Literal["dingtalk"]
    secret_env: EnvName | None = Field(default=None, description="加签 secret (SEC…)")
    at_mobiles: tuple[str, ...] = ()
    at_all: bool = False


class FeishuConfig(_Webhook):
    type: Literal["feishu"]
    secret_env: EnvName | None = None


class SlackConfig(_Webhook):
    type: Literal["slack"]


class WebhookConfig(_Strict):
    type: Literal["webhook"]
    url: str | None = Field(default=None, description="endpoint, when it is not itself a secret")
    url_env: EnvName | None = None
    secret_env: EnvName | None = Field(default=None, description="HMAC-SHA256 signing secret")
    per_minute: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _check(self) -> WebhookConfig:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give exactly one of url or url_env")
        return self


class EmailConfig(_Strict):
    type: Literal["email"]
    host: str
    port: int = Field(default=465, gt=0, lt=65536)
    security: Literal["ssl", "starttls", "none"] = "ssl"
    sender: str
    to: tuple[str, ...] = Field(min_length=1)
    username: str | None = Field(default=None, description="SMTP login, when not secret")
    username_env: EnvName | None = None
    password_env: EnvName | None = None

    @model_validator(mode="after")
    def _check(self) -> EmailConfig:
        if self.username is not None and self.username_env is not None:
            raise ValueError("give at most one of username or username_env")
        for addr in (self.sender, *self.to):
            if "@" not in addr:
                raise ValueError(f"{addr!r} is not an e-mail address")
        return self


ChannelConfig = Annotated[
    WeComConfig | DingTalkConfig | FeishuConfig | SlackConfig | WebhookConfig | EmailConfig,
    Field(discriminator="type"),
]


class NotifyConfig(_Strict):
    """The whole of ``notify.yaml``."""

    language: Literal["zh", "en"] | None = None
    dedup_minutes: float = Field(default=60.0, ge=0)
    max_attempts: int = Field(default=4, ge=1, le=10)
    channels: dict[str, ChannelConfig] = {}

    @model_validator(mode="after")
    def _names(self) -> NotifyConfig:
        for name in self.channels:
            if not _NAME.match(name):
                raise ValueError(f"channel name {name!r}: use lowercase letters, digits and _")
        return self


def load_notify_config(path: Path) -> NotifyConfig:
    """Parse and validate ``notify.yaml``.

    Raises:
        ConfigError: naming file, line and key.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no notification channels configured",
            fix=f"create {path.name} next to luopan.yaml (see `luopan notify --help`)",
        ) from None
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ConfigError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if data is None or node is None:
        data, node = {}, None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: expected a mapping with `channels:`")
    if node is not None:
        _reject_inline_secrets(path, node)
    try:
        return NotifyConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function")))
        # drop the discriminator tag pydantic inserts (e.g. channels.x.dingtalk.secret)
        loc = tuple(p for i, p in enumerate(loc) if not (i == 2 and loc[0] == "channels"))
        line = _line_of(node, loc) if node is not None else 1
        key = ".".join(str(p) for p in loc) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see the notify.yaml reference)"
        raise ConfigError(f"{path}:{line}: key `{key}`: {msg}") from None


def _reject_inline_secrets(path: Path, root: yaml.Node) -> None:
    """Point at the exact line of a secret written into the file."""
    channels = next(
        (v for k, v in getattr(root, "value", []) if getattr(k, "value", None) == "channels"), None
    )
    if not isinstance(channels, yaml.MappingNode):
        return
    for name_node, channel in channels.value:
        if not isinstance(channel, yaml.MappingNode):
            continue
        keys = {k.value: k for k, _ in channel.value}
        type_node = next((v for k, v in channel.value if k.value == "type"), None)
        url_is_secret = getattr(type_node, "value", None) in _URL_IS_SECRET
        for key, key_node in keys.items():
            if key in _SECRET_KEYS or (key == "url" and url_is_secret):
                env_key = "url_env" if key in _URL_KEYS else f"{key}_env"
                raise ConfigError(
                    f"{path}:{key_node.start_mark.line + 1}: key `channels.{name_node.value}.{key}`:"
                    f" a secret must not be written in the file",
                    fix=f"put it in an environment variable and name it: `{env_key}: MY_VAR`",
                )


def _secret(
    environ: Mapping[str, str], channel: str, key: str, var: str | None, *, required: bool
) -> str | None:
    if var is None:
        if required:
            raise ConfigError(f"channel {channel!r}: `{key}` is required")
        return None
    value = environ.get(var, "").strip()
    if not value:
        raise ConfigError(
            f"channel {channel!r}: environment variable {var} (its {key}) is not set",
            fix=f"export {var}=… in the environment that runs luopan",
        )
    return value


def build_channel(
    name: str,
    config: NotifyConfig,
    *,
    environ: Mapping[str, str] | None = None,
    transport: Any = None,
    smtp_factory: SmtpFactory | None = None,
    clock: Callable[[], float] | None = None,
) -> Channel:
    """Instantiate channel ``name``, reading its secrets from ``environ`` (default os.environ).

    Raises:
        ConfigError: unknown channel, or a named environment variable that is not set.
    """
    env = os.environ if environ is None else environ
    if name not in config.channels:
        raise ConfigError(
            f"no notification channel named {name!r}",
            fix=f"configured channels: {', '.join(config.channels) or '(none)'}",
        )
    c = config.channels[name]
    http: dict[str, Any] = {"transport": transport, "clock": clock}
    if isinstance(c, WebhookConfig):
        url = c.url or _secret(env, name, "url_env", c.url_env, required=True)
        assert url is not None
        secret = _secret(env, name, "secret_env", c.secret_env, required=False)
        return JsonWebhook(name, url, secret=secret, per_minute=c.per_minute, **http)
    if isinstance(c, EmailConfig):
        return EmailChannel(
            name,
            host=c.host,
            port=c.port,
            security=c.security,
            sender=c.sender,
            recipients=c.to,
            username=c.username
            or _secret(env, name, "username_env", c.username_env, required=False),
            password=_secret(env, name, "password_env", c.password_env, required=False),
            smtp_factory=smtp_factory,
        )
    url = _secret(env, name, "url_env", c.url_env, required=True)
    assert url is not None
    if isinstance(c, WeComConfig):
        return WeComRobot(
            name, url, msgtype=c.msgtype, mentioned_mobiles=c.mentioned_mobiles, **http
        )
    if isinstance(c, DingTalkConfig):
        secret = _secret(env, name, "secret_env", c.secret_env, required=False)
        return DingTalkRobot(
            name, url, secret=secret, at_mobiles=c.at_mobiles, at_all=c.at_all, **http
        )
    if isinstance(c, FeishuConfig):
        secret = _secret(env, name, "secret_env", c.secret_env, required=False)
        return FeishuBot(name, url, secret=secret, **http)
    return SlackWebhook(name, url, **http)
