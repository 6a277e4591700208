"""Notifications: WeCom, DingTalk, Feishu/Lark, Slack, e-mail and generic JSON webhooks.

A channel-neutral :class:`Message` (zh/en templates) goes through a :class:`Dispatcher`
(de-duplication, per-channel rate limits, retries with backoff and jitter) to channels that
format, sign and send it. Payload building and signing are pure functions in each channel's
module; the network is touched only through an injectable ``httpx`` transport or SMTP factory.
"""

from __future__ import annotations

from luopan.notify.channel import Channel, DeliveryError, Outcome, RateLimit
from luopan.notify.config import NotifyConfig, build_channel, load_notify_config
from luopan.notify.dingtalk import DingTalkRobot
from luopan.notify.dispatch import Attempt, Delivery, Dispatcher, RateLimiter, RetryPolicy
from luopan.notify.email import EmailChannel
from luopan.notify.feishu import FeishuBot
from luopan.notify.message import Message, render
from luopan.notify.slack import SlackWebhook
from luopan.notify.webhook import JsonWebhook
from luopan.notify.wecom import WeComRobot

__all__ = [
    "Attempt",
    "Channel",
    "Delivery",
    "DeliveryError",
    "DingTalkRobot",
    "Dispatcher",
    "EmailChannel",
    "FeishuBot",
    "JsonWebhook",
    "Message",
    "NotifyConfig",
    "Outcome",
    "RateLimit",
    "RateLimiter",
    "RetryPolicy",
    "SlackWebhook",
    "WeComRobot",
    "build_channel",
    "load_notify_config",
    "render",
]
