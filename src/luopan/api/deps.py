"""FastAPI dependencies: who is asking, the scoped services, CSRF and the audit log.

Authentication: a session cookie (``luopan_session``: an opaque random id, HttpOnly,
SameSite=Lax, Secure when the app is created with ``secure_cookies``) set by ``POST /login``,
or ``Authorization: Bearer <token>`` with a token from ``luopan users token``. CSRF: a
double-submit token — the ``luopan_csrf`` cookie must equal the form's hidden ``csrf_token``
field (or the ``X-CSRF-Token`` header for scripted posts with a session cookie); requests
authenticated by a Bearer token carry no ambient credentials and are exempt.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import quote

from fastapi import Depends, Request

from luopan.api.errors import ApiError
from luopan.api.principal import Principal
from luopan.api.services import Services
from luopan.api.users import User

__all__ = [
    "CSRF_COOKIE",
    "SESSION_COOKIE",
    "Principal",
    "Services",
    "audit",
    "client_ip",
    "csrf_token",
    "page_principal",
    "principal",
    "request_lang",
    "require",
    "services",
    "verify_csrf",
]

SESSION_COOKIE = "luopan_session"
CSRF_COOKIE = "luopan_csrf"


def services(request: Request) -> Services:
    """The app's ``Services``."""
    return request.app.state.services


def request_lang(request: Request) -> str:
    """``?lang=`` or the ``lang`` cookie, else Accept-Language, zh by default."""
    chosen = request.query_params.get("lang") or request.cookies.get("lang")
    if chosen:
        return "en" if chosen.lower().startswith("en") else "zh"
    accept = request.headers.get("accept-language", "").strip().lower()
    if accept.startswith("en"):
        return "en"
    return "zh"


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "-"


def _user(request: Request) -> tuple[User | None, str]:
    svc = services(request)
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        token = header[7:].strip()
        return (svc.users.user_for_token(token) if token else None), "token"
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        return svc.users.user_for_session(sid), "session"
    return None, "none"


def _principal(user: User, request: Request) -> Principal:
    return Principal(
        username=user.username,
        role=user.role,
        stores=user.stores,
        regions=user.regions,
        categories=user.categories,
        lang=request_lang(request),
    )


def principal(request: Request) -> Principal:
    """The logged-in principal of a JSON request; 401 in the envelope otherwise."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    user, how = _user(request)
    if user is None:
        message = "invalid or revoked API token" if how == "token" else "not logged in"
        raise ApiError(
            401,
            "not_authenticated",
            message,
            fix="log in at /login or send Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    p = _principal(user, request)
    request.state.principal = p
    request.state.auth = how
    return p


def page_principal(request: Request) -> Principal:
    """The logged-in principal of a page; a 303 redirect to /login?next=<path> otherwise."""
    user, _ = _user(request)
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise ApiError(
            303,
            "login_required",
            "login required",
            headers={"Location": f"/login?next={quote(target, safe='')}"},
        )
    p = _principal(user, request)
    request.state.principal = p
    request.state.auth = "session"
    return p


def require(permission: str) -> Any:
    """A dependency: the principal, who must have ``permission`` (403 otherwise)."""

    def check(p: Principal = Depends(principal)) -> Principal:
        if not p.can(permission):
            raise ApiError(
                403,
                "forbidden",
                f"role {p.role!r} may not {permission}",
                fix="ask an administrator for a role with this permission",
            )
        return p

    return check


def csrf_token(request: Request) -> str:
    """The CSRF token to put in a form (the cookie is set on the response by the app)."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "csrf_new", None)
    if not token:
        token = secrets.token_urlsafe(32)
        request.state.csrf_new = token
    return str(token)


async def verify_csrf(request: Request) -> None:
    """Reject a state-changing request whose CSRF token is missing or wrong (403)."""
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get("x-csrf-token", "")
    if not sent and "form" in request.headers.get("content-type", ""):
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else ""
    if not cookie or not sent or not hmac.compare_digest(cookie, sent):
        raise ApiError(
            403,
            "csrf_failed",
            "missing or invalid CSRF token",
            fix="reload the page and submit the form again",
        )


def audit(
    request: Request, principal: Principal | None, action: str, detail: dict[str, Any]
) -> None:
    """Record an action (logins, exports, incident/action changes) in the audit log."""
    who = principal.username if principal is not None else str(detail.get("username", "-"))
    services(request).users.audit(who, action, detail, client_ip(request))
