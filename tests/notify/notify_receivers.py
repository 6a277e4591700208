"""Local stand-ins for the platforms, on 127.0.0.1 only: an HTTP receiver and an SMTP server.

The HTTP receiver checks signatures the way each platform does (recomputed here with hmac and
base64, independently of luopan's code) and answers with the platform's own reply shapes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

DING_TOKEN, DING_SECRET = "dt-token-1", "SECdingtalk-test-secret"
FEISHU_TOKEN, FEISHU_SECRET = "fs-hook-1", "feishu-test-secret"
WECOM_KEY = "wecom-key-1"
HOOK_SECRET = "hook-test-secret"


class FakeClock:
    """A clock whose ``sleep`` advances it: time-dependent logic runs instantly in tests."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class Received:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    reply_status: int
    reply_body: str

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


def ding_expected_sign(ts: str) -> str:
    mac = hmac.new(DING_SECRET.encode(), f"{ts}\n{DING_SECRET}".encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def feishu_expected_sign(ts: str) -> str:
    mac = hmac.new(f"{ts}\n{FEISHU_SECRET}".encode(), b"", hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


@dataclass
class Receiver:
    """Records every request; ``scripted[path_prefix]`` holds canned replies used first."""

    base_url: str = ""
    received: list[Received] = field(default_factory=list)
    scripted: dict[str, deque[tuple[int, str, dict[str, str]]]] = field(default_factory=dict)

    def script(self, prefix: str, *replies: tuple[int, str, dict[str, str]]) -> None:
        self.scripted.setdefault(prefix, deque()).extend(replies)

    def handle(self, path: str, query: dict[str, str], headers: dict[str, str], body: bytes):
        for prefix, queue in self.scripted.items():
            if path.startswith(prefix) and queue:
                return queue.popleft()
        if path == "/dingtalk/robot/send":
            return self._dingtalk(query)
        if path == f"/feishu/open-apis/bot/v2/hook/{FEISHU_TOKEN}":
            return self._feishu(body)
        if path == "/wecom/cgi-bin/webhook/send":
            return self._wecom(query, body)
        if path.startswith("/slack/services/"):
            return 200, "ok", {"Content-Type": "text/plain"}
        if path == "/hook":
            return self._hook(headers, body)
        return 404, "not found", {}

    @staticmethod
    def _json(data: dict[str, Any]) -> tuple[int, str, dict[str, str]]:
        return 200, json.dumps(data), {"Content-Type": "application/json"}

    def _dingtalk(self, query: dict[str, str]):
        if query.get("access_token") != DING_TOKEN:
            return self._json({"errcode": 300001, "errmsg": "token is not exist"})
        ts, sign = query.get("timestamp", ""), query.get("sign", "")
        fresh = ts.isdigit() and abs(int(ts) - time.time() * 1000) < 3600 * 1000
        if not fresh or not hmac.compare_digest(sign, ding_expected_sign(ts)):
            return self._json({"errcode": 310000, "errmsg": "sign not match"})
        return self._json({"errcode": 0, "errmsg": "ok"})

    def _feishu(self, body: bytes):
        data = json.loads(body)
        ts, sign = str(data.get("timestamp", "")), str(data.get("sign", ""))
        fresh = ts.isdigit() and abs(int(ts) - time.time()) < 3600
        if not fresh or not hmac.compare_digest(sign, feishu_expected_sign(ts)):
            return self._json(
                {
                    "code": 19021,
                    "msg": "sign match fail or timestamp is not within one hour from current time",
                }
            )
        return self._json({"code": 0, "msg": "success", "data": {}})

    def _wecom(self, query: dict[str, str], body: bytes):
        if query.get("key") != WECOM_KEY:
            return self._json({"errcode": 93000, "errmsg": "invalid webhook url"})
        data = json.loads(body)
        kind = data["msgtype"]
        limit = {"markdown": 4096, "text": 2048}[kind]
        if len(data[kind]["content"].encode("utf-8")) > limit:
            return self._json({"errcode": 40058, "errmsg": "content exceed max length"})
        return self._json({"errcode": 0, "errmsg": "ok"})

    def _hook(self, headers: dict[str, str], body: bytes):
        ts = headers.get("x-luopan-timestamp", "")
        mac = hmac.new(HOOK_SECRET.encode(), f"{ts}.".encode() + body, hashlib.sha256)
        if headers.get("x-luopan-signature") != "sha256=" + mac.hexdigest():
            return 401, '{"error":"bad signature"}', {"Content-Type": "application/json"}
        return 200, '{"received":true}', {"Content-Type": "application/json"}


@contextmanager
def http_receiver() -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, text, extra = receiver.handle(parts.path, query, headers, body)
            receiver.received.append(Received(parts.path, query, headers, body, status, text))
            data = text.encode("utf-8")
            self.send_response(status)
            for k, v in extra.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# ---------------------------------------------------------------- SMTP


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mailbox:
    port: int = 0
    messages: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)


@contextmanager
def smtp_server(
    *,
    tls_context: Any = None,
    implicit_tls: Any = None,
    users: dict[str, str] | None = None,
    reject: dict[str, str] | None = None,
) -> Iterator[Mailbox]:
    """aiosmtpd on 127.0.0.1.

    ``tls_context`` requires STARTTLS; ``implicit_tls`` serves TLS from the first byte (port
    465 style); ``users`` enables AUTH; ``reject`` maps a recipient to the RCPT reply it gets.
    """
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    box = Mailbox(port=free_port())

    class Handler:
        async def handle_RCPT(  # noqa: N802
            self, server: Any, session: Any, envelope: Any, address: str, options: Any
        ) -> str:
            if reject and address in reject:
                return reject[address]
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            raw = envelope.original_content or envelope.content
            msg = BytesParser(policy=policy.default).parsebytes(raw)
            box.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
            return "250 Message accepted for delivery"

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any):
        ok = (
            users is not None
            and isinstance(auth_data, LoginPassword)
            and users.get(auth_data.login.decode()) == auth_data.password.decode()
        )
        if ok:
            box.logins.append(auth_data.login.decode())
        return AuthResult(success=ok)

    kwargs: dict[str, Any] = {"hostname": "127.0.0.1", "port": box.port}
    if users is not None:
        kwargs.update(authenticator=authenticator, auth_require_tls=tls_context is not None)
    if tls_context is not None:
        kwargs.update(tls_context=tls_context, require_starttls=True)
    if implicit_tls is not None:
        kwargs.update(ssl_context=implicit_tls)
    controller = Controller(Handler(), **kwargs)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
