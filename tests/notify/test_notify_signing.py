"""Signatures against fixed vectors computed outside Python (openssl dgst -hmac | base64).

printf '1700000000000\\nSECb1f3example' | openssl dgst -sha256 -hmac 'SECb1f3example' -binary | base64
printf '' | openssl dgst -sha256 -hmac "$(printf '1700000000\\nfeishu-secret-42')" -binary | base64
printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac 'hook-secret'
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse

from hypothesis import given
from hypothesis import strategies as st

from luopan.notify import dingtalk, feishu, webhook

DING_VECTOR = ("SECb1f3example", 1700000000000, "UJ7DpdmVQPi/P1OZT0GDuzGbqsL/xwdPrWwPzOG/y+8=")
FEISHU_VECTOR = ("feishu-secret-42", 1700000000, "INMLa6ItJbhwdRZRoTvT3OZMtlY5WjmWq4F2Jscs314=")


def test_dingtalk_sign_matches_openssl_vector_url_encoded() -> None:
    secret, ts, b64 = DING_VECTOR
    assert dingtalk.sign(secret, ts) == "UJ7DpdmVQPi%2FP1OZT0GDuzGbqsL%2FxwdPrWwPzOG%2Fy%2B8%3D"
    assert urllib.parse.unquote_plus(dingtalk.sign(secret, ts)) == b64


def test_dingtalk_signed_url_appends_timestamp_and_sign() -> None:
    secret, ts, _ = DING_VECTOR
    url = dingtalk.signed_url("https://oapi.dingtalk.com/robot/send?access_token=T", secret, ts)
    assert url == (
        "https://oapi.dingtalk.com/robot/send?access_token=T&timestamp=1700000000000"
        "&sign=UJ7DpdmVQPi%2FP1OZT0GDuzGbqsL%2FxwdPrWwPzOG%2Fy%2B8%3D"
    )
    assert (
        dingtalk.signed_url("http://x/send?access_token=T", None, ts)
        == "http://x/send?access_token=T"
    )


def test_feishu_sign_key_is_string_to_sign_and_message_empty() -> None:
    secret, ts, b64 = FEISHU_VECTOR
    assert feishu.sign(secret, ts) == b64
    # the DingTalk construction (key=secret, msg=string) gives a different value
    wrong = hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    assert base64.b64encode(wrong).decode() != b64


def test_webhook_signature_matches_openssl_vector() -> None:
    expected = "sha256=2ca9484d0c409cd2998fd115eb688d50af3c4591f30a5124d6262b43877ed809"
    assert webhook.signature("hook-secret", 1700000000, b'{"a":1}') == expected


@given(
    secret=st.text(min_size=1, max_size=40),
    ts=st.integers(min_value=10**12, max_value=2 * 10**12),
)
def test_dingtalk_sign_equals_independent_computation(secret: str, ts: int) -> None:
    mac = hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    assert dingtalk.sign(secret, ts) == urllib.parse.quote_plus(base64.b64encode(mac))


@given(
    secret=st.text(min_size=1, max_size=40),
    ts=st.integers(min_value=10**9, max_value=2 * 10**9),
)
def test_feishu_sign_equals_independent_computation(secret: str, ts: int) -> None:
    mac = hmac.new(f"{ts}\n{secret}".encode(), b"", hashlib.sha256).digest()
    assert feishu.sign(secret, ts) == base64.b64encode(mac).decode()
