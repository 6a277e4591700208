"""E-mail over SMTP (smtplib), UTF-8 subject and body, in zh-CN or en.

Security modes: ``ssl`` (implicit TLS, port 465 — what smtp.qq.com, smtp.163.com,
smtp.exmail.qq.com and smtp.qiye.aliyun.com use with an app password / 授权码), ``starttls``
(port 587) and ``none`` (a local relay). The SMTP session comes from an injectable factory, so
unit tests use a fake and integration tests a real server on 127.0.0.1.

Classification of failures: connection errors and 4xx replies are retryable; 5xx replies
(bad recipient, authentication refused) are not.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable, Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Literal, Protocol

from luopan.notify.channel import Outcome, RateLimit
from luopan.notify.message import LINK_LABEL, Message

__all__ = ["EmailChannel", "SmtpFactory", "SmtpSession", "build_email"]

Security = Literal["ssl", "starttls", "none"]


class SmtpSession(Protocol):
    """The part of ``smtplib.SMTP`` this channel uses."""

    def ehlo(self, name: str = ...) -> object: ...
    def starttls(self, *, context: ssl.SSLContext | None = ...) -> object: ...
    def login(self, user: str, password: str) -> object: ...
    def send_message(self, msg: EmailMessage) -> object: ...
    def quit(self) -> object: ...


SmtpFactory = Callable[[str, int, Security, ssl.SSLContext, float], SmtpSession]


def default_smtp_factory(
    host: str, port: int, security: Security, context: ssl.SSLContext, timeout: float
) -> SmtpSession:
    if security == "ssl":
        return smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    return smtplib.SMTP(host, port, timeout=timeout)


def build_email(
    message: Message, *, sender: str, recipients: Sequence[str], subject_prefix: str = "[罗盘]"
) -> EmailMessage:
    """A UTF-8 ``text/plain`` e-mail with an HTML alternative."""
    import html

    prefix = subject_prefix if message.lang == "zh" else "[luopan]"
    msg = EmailMessage()
    msg["Subject"] = f"{prefix} {message.title}"
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="luopan.local")
    msg["X-Luopan-Key"] = message.key
    msg.set_content(message.plain_text(), charset="utf-8")
    rows = "".join(
        f"<tr><th align='left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
        for k, v in message.fields
    )
    link = (
        f"<p><a href='{html.escape(message.link)}'>{LINK_LABEL[message.lang]}</a></p>"
        if message.link
        else ""
    )
    body = "<br>".join(html.escape(line) for line in message.body.split("\n"))
    lang = "zh-CN" if message.lang == "zh" else "en"
    msg.add_alternative(
        f"<html lang='{lang}'><body><h2>{html.escape(message.title)}</h2><p>{body}</p>"
        f"<table>{rows}</table>{link}</body></html>",
        subtype="html",
        charset="utf-8",
    )
    return msg


class EmailChannel:
    """Send messages to fixed recipients through one SMTP server."""

    kind = "email"
    rate_limits: tuple[RateLimit, ...] = ()

    def __init__(
        self,
        name: str,
        *,
        host: str,
        port: int,
        sender: str,
        recipients: Sequence[str],
        security: Security = "ssl",
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
        smtp_factory: SmtpFactory | None = None,
    ) -> None:
        self.name = name
        self.host, self.port, self.security = host, port, security
        self.sender, self.recipients = sender, tuple(recipients)
        self.username, self.password = username, password
        self.timeout = timeout
        self.ssl_context = ssl_context or ssl.create_default_context()
        self.smtp_factory = smtp_factory or default_smtp_factory

    def send(self, message: Message) -> Outcome:
        email = build_email(message, sender=self.sender, recipients=self.recipients)
        if not ((self.username or "").isascii() and (self.password or "").isascii()):
            return Outcome(False, False, "auth", "SMTP user name and password must be ASCII")
        session: SmtpSession | None = None
        try:
            session = self.smtp_factory(
                self.host, self.port, self.security, self.ssl_context, self.timeout
            )
            if self.security == "starttls":
                session.ehlo()
                session.starttls(context=self.ssl_context)
                session.ehlo()
            if self.username:
                session.login(self.username, self.password or "")
            session.send_message(email)
        except smtplib.SMTPNotSupportedError as exc:
            hint = "the server may require security: starttls or ssl"
            return Outcome(False, False, "unsupported", f"{exc} ({hint})")
        except smtplib.SMTPResponseException as exc:
            detail = (
                exc.smtp_error.decode("utf-8", "replace")
                if isinstance(exc.smtp_error, bytes)
                else str(exc.smtp_error)
            )
            return Outcome(False, 400 <= exc.smtp_code < 500, str(exc.smtp_code), detail)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = sorted({code for code, _ in exc.recipients.values()})
            detail = "; ".join(
                f"{addr}: {code} {err.decode('utf-8', 'replace') if isinstance(err, bytes) else err}"
                for addr, (code, err) in exc.recipients.items()
            )
            temporary = all(400 <= c < 500 for c in codes)
            return Outcome(False, temporary, ",".join(map(str, codes)), detail)
        except (smtplib.SMTPException, OSError) as exc:
            return Outcome(False, True, "network", f"{type(exc).__name__}: {exc}")
        finally:
            if session is not None:
                try:
                    session.quit()
                except (smtplib.SMTPException, OSError):
                    pass
        return Outcome(True, code="250", detail=f"sent to {len(self.recipients)} recipient(s)")
