"""E-mail: a fake SMTP session for the call order, and a real aiosmtpd on 127.0.0.1."""

from __future__ import annotations

import smtplib
import ssl
import subprocess
from email.message import EmailMessage
from pathlib import Path

import pytest
from notify_receivers import smtp_server

from luopan.notify.email import EmailChannel, Security, build_email
from luopan.notify.message import Message, render

ZH = render(
    "test",
    "zh",
    key="test:mail",
    params={"channel": "ops_mail", "sent_at": "2026-11-30 21:00:00 +0800"},
)
EN = render(
    "test",
    "en",
    key="test:mail",
    params={"channel": "ops_mail", "sent_at": "2026-11-30 21:00:00 +0800"},
)


def body_of(msg: EmailMessage, subtype: str) -> EmailMessage:
    part = msg.get_body((subtype,))
    assert isinstance(part, EmailMessage), f"no text/{subtype} part"
    return part


class FakeSession:
    def __init__(self, log: list[str], fail: Exception | None = None) -> None:
        self.log, self.fail = log, fail

    def ehlo(self, name: str = "") -> None:
        self.log.append("ehlo")

    def starttls(self, *, context: ssl.SSLContext | None = None) -> None:
        self.log.append("starttls")

    def login(self, user: str, password: str) -> None:
        self.log.append(f"login {user}:{password}")

    def send_message(self, msg: object) -> None:
        if self.fail is not None:
            raise self.fail
        self.log.append("send")

    def quit(self) -> None:
        self.log.append("quit")


def channel(log: list[str], *, fail: Exception | None = None, **kw: object) -> EmailChannel:
    def factory(host: str, port: int, security: str, ctx: ssl.SSLContext, timeout: float):
        log.append(f"connect {host}:{port} {security}")
        return FakeSession(log, fail)

    params: dict = {
        "host": "smtp.exmail.qq.com",
        "port": 587,
        "sender": "luopan@brand.cn",
        "recipients": ["ops@brand.cn"],
        "smtp_factory": factory,
        **kw,
    }
    return EmailChannel("mail", **params)


def test_starttls_then_login_then_send_then_quit() -> None:
    log: list[str] = []
    out = channel(log, security="starttls", username="u", password="p").send(ZH)
    assert out.ok
    assert log == [
        "connect smtp.exmail.qq.com:587 starttls",
        "ehlo",
        "starttls",
        "ehlo",
        "login u:p",
        "send",
        "quit",
    ]


@pytest.mark.parametrize(
    ("error", "retryable", "code"),
    [
        (smtplib.SMTPAuthenticationError(535, b"5.7.8 authentication failed"), False, "535"),
        (smtplib.SMTPDataError(451, b"4.3.0 try again later"), True, "451"),
        (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), True, "network"),
        (ConnectionRefusedError(111, "Connection refused"), True, "network"),
    ],
)
def test_smtp_failures_are_classified(error: Exception, retryable: bool, code: str) -> None:
    out = channel([], fail=error, security="none").send(ZH)
    assert (out.ok, out.retryable, out.code) == (False, retryable, code)


def test_non_ascii_credentials_are_refused_before_connecting() -> None:
    log: list[str] = []
    out = channel(log, security="ssl", username="u", password="授权码").send(ZH)
    assert (out.ok, out.retryable, out.code) == (False, False, "auth") and log == []


def test_build_email_is_utf8_with_language_prefix() -> None:
    zh = build_email(ZH, sender="luopan@brand.cn", recipients=["a@brand.cn", "b@brand.cn"])
    assert zh["Subject"] == "[罗盘] 罗盘测试消息"
    assert zh["To"] == "a@brand.cn, b@brand.cn" and zh["X-Luopan-Key"] == "test:mail"
    raw = zh.as_bytes()
    assert b"=?utf-8?" in raw  # the subject is RFC 2047 encoded on the wire
    assert (
        body_of(zh, "plain").get_content().startswith("罗盘测试消息\n\n这是一条来自罗盘的测试消息")
    )
    en = build_email(EN, sender="luopan@brand.cn", recipients=["a@brand.cn"])
    assert en["Subject"] == "[luopan] luopan test message"
    assert "<html lang='en'>" in body_of(en, "html").get_content()


def test_real_smtp_message_decodes_to_the_zh_subject_and_body() -> None:
    msg = Message(
        key="rule:health:W47",
        title="用户健康度连续 3 周低于 65",
        lang="zh",
        severity="warning",
        body="华东区会员健康度 61.2，已触发召回剧本。\n负责人：王芳",
        link="http://cockpit/i/9",
    )
    with smtp_server(users={"luopan": "app-pass-123"}) as box:
        ch = EmailChannel(
            "mail",
            host="127.0.0.1",
            port=box.port,
            security="none",
            sender="luopan@brand.cn",
            recipients=["ops@brand.cn", "pr@brand.cn"],
            username="luopan",
            password="app-pass-123",
        )
        out = ch.send(msg)
    assert out.ok, out
    assert box.logins == ["luopan"]
    ((mail_from, rcpt, received),) = box.messages
    assert mail_from == "luopan@brand.cn" and rcpt == ["ops@brand.cn", "pr@brand.cn"]
    assert received["Subject"] == "[罗盘] 用户健康度连续 3 周低于 65"
    plain = body_of(received, "plain")
    assert plain.get_content_charset() == "utf-8"
    assert plain.get_content().replace("\r\n", "\n") == (  # CRLF on the wire
        "用户健康度连续 3 周低于 65\n\n华东区会员健康度 61.2，已触发召回剧本。\n负责人：王芳\n"
        "在驾驶舱中查看: http://cockpit/i/9\n"
    )
    assert "华东区会员健康度 61.2" in body_of(received, "html").get_content()


def test_real_smtp_rejections_permanent_and_temporary() -> None:
    reject = {"nobody@brand.cn": "550 5.1.1 no such user", "busy@brand.cn": "451 4.3.0 later"}
    with smtp_server(reject=reject) as box:

        def send(to: str):
            return EmailChannel(
                "mail",
                host="127.0.0.1",
                port=box.port,
                security="none",
                sender="luopan@brand.cn",
                recipients=[to],
            ).send(EN)

        gone, busy = send("nobody@brand.cn"), send("busy@brand.cn")
    assert (gone.ok, gone.retryable, gone.code) == (False, False, "550")
    assert "no such user" in gone.detail
    assert (busy.ok, busy.retryable, busy.code) == (False, True, "451")
    assert box.messages == []


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    r = subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if r.returncode != 0:
        pytest.skip(f"openssl cannot make a test certificate here: {r.stderr[:200]}")
    return cert, key


def _contexts(tls_files: tuple[Path, Path]) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    cert, key = tls_files
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    return server, client


def test_real_starttls_with_auth_verifies_the_certificate(tls_files: tuple[Path, Path]) -> None:
    server_ctx, client_ctx = _contexts(tls_files)
    with smtp_server(tls_context=server_ctx, users={"u": "p"}) as box:

        def send(security: Security):
            return EmailChannel(
                "mail",
                host="127.0.0.1",
                port=box.port,
                security=security,
                sender="luopan@brand.cn",
                recipients=["ops@brand.cn"],
                username="u",
                password="p",
                ssl_context=client_ctx,
            ).send(ZH)

        plain = send("none")  # the server requires STARTTLS, so this must fail
        tls = send("starttls")
    assert (plain.ok, plain.retryable, plain.code) == (False, False, "unsupported")
    assert "starttls or ssl" in plain.detail
    assert tls.ok, tls
    assert box.logins == ["u"] and len(box.messages) == 1
    assert box.messages[0][2]["Subject"] == "[罗盘] 罗盘测试消息"


def test_real_implicit_tls(tls_files: tuple[Path, Path]) -> None:
    server_ctx, client_ctx = _contexts(tls_files)
    with smtp_server(implicit_tls=server_ctx) as box:
        out = EmailChannel(
            "mail",
            host="127.0.0.1",
            port=box.port,
            security="ssl",
            sender="luopan@brand.cn",
            recipients=["ops@brand.cn"],
            ssl_context=client_ctx,
        ).send(EN)
    assert out.ok, out
    assert box.messages[0][2]["Subject"] == "[luopan] luopan test message"
