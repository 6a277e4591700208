"""The FastAPI app: health, login/logout, the JSON API under /api/v1 and the cockpit pages.

``create_app(workspace_root)`` builds one app per workspace; ``luopan serve`` runs it with
uvicorn. Everything but ``/health``, ``/login`` and the vendored plotly.js needs a session
cookie or a Bearer token (see ``luopan.api.deps``).
"""

from __future__ import annotations

import datetime as dt
import html
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import MutableHeaders

from luopan.api.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    audit,
    client_ip,
    csrf_token,
    request_lang,
    services,
    verify_csrf,
)
from luopan.api.errors import ApiError, envelope, install_handlers
from luopan.api.services import Services
from luopan.workspace import Workspace

__all__ = ["LOGIN_LIMIT", "LOGIN_WINDOW", "app_from_env", "create_app"]

log = logging.getLogger("luopan.api")

LOGIN_LIMIT = 5  # failures per user and IP …
LOGIN_WINDOW = dt.timedelta(minutes=5)  # … within this window → 429
THREADS = 128  # request threads

_TEXT = {
    "title": {"zh": "登录 · 罗盘", "en": "Log in · luopan"},
    "heading": {"zh": "罗盘 数据驾驶舱", "en": "luopan cockpit"},
    "username": {"zh": "用户名", "en": "User name"},
    "password": {"zh": "密码", "en": "Password"},
    "submit": {"zh": "登录", "en": "Log in"},
    "bad": {"zh": "用户名或密码错误", "en": "Wrong user name or password"},
    "limited": {
        "zh": "登录失败次数过多，请 5 分钟后再试",
        "en": "Too many failed logins; try again in 5 minutes",
    },
    "switch": {"zh": "English", "en": "中文"},
}


def _t(key: str, lang: str) -> str:
    return _TEXT[key][lang]


def _safe_next(target: str | None) -> str:
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _login_page(request: Request, *, error: str | None = None, next_: str = "/") -> str:
    lang = request_lang(request)
    other = "en" if lang == "zh" else "zh"
    esc = html.escape
    err = f'<p class="error" role="alert">{esc(error)}</p>' if error else ""
    return f"""<!doctype html>
<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_t("title", lang)}</title>
<style>body{{font-family:system-ui,"WenQuanYi Micro Hei",sans-serif;max-width:22rem;margin:10vh auto;padding:1rem}}
label{{display:block;margin:.8rem 0 .2rem}}input{{width:100%;padding:.4rem}}button{{margin-top:1rem;padding:.5rem 1.2rem}}
.error{{color:#b00020}}</style></head>
<body><h1>{_t("heading", lang)}</h1>{err}
<form method="post" action="/login">
<input type="hidden" name="csrf_token" value="{esc(csrf_token(request))}">
<input type="hidden" name="next" value="{esc(next_)}">
<label for="username">{_t("username", lang)}</label>
<input id="username" name="username" autocomplete="username" required>
<label for="password">{_t("password", lang)}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">{_t("submit", lang)}</button></form>
<p><a href="/login?lang={other}&amp;next={esc(next_)}">{_t("switch", lang)}</a></p>
</body></html>"""


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def _login_error(request: Request, status: int, code: str, key: str, next_: str) -> Response:
    lang = request_lang(request)
    if _wants_html(request):
        return HTMLResponse(_login_page(request, error=_t(key, lang), next_=next_), status)
    return envelope(status, code, _TEXT[key]["en"], _t(key, "zh"))


def _login(
    request: Request, username: str, password: str, next_: str, ip: str, secure: bool
) -> Response:
    svc = services(request)
    if svc.users.recent_failures(username, ip, window=LOGIN_WINDOW) >= LOGIN_LIMIT:
        audit(request, None, "login_blocked", {"username": username})
        return _login_error(request, 429, "too_many_requests", "limited", next_)
    user = svc.users.verify(username, password)
    if user is None:
        svc.users.record_failure(username, ip)
        audit(request, None, "login_failed", {"username": username})
        return _login_error(request, 401, "not_authenticated", "bad", next_)
    svc.users.clear_failures(username, ip)
    sid = svc.users.open_session(user.username)
    audit(request, None, "login", {"username": user.username})
    response: Response
    if _wants_html(request):
        response = RedirectResponse(next_, status_code=303)
    else:
        response = JSONResponse({"username": user.username, "role": user.role})
    response.set_cookie(SESSION_COOKIE, sid, httponly=True, samesite="lax", secure=secure, path="/")
    return response


def _add_auth_routes(app: FastAPI, secure: bool) -> None:
    @app.get("/health", tags=["system"])
    def health() -> dict[str, str]:
        """Liveness probe (no authentication). 健康检查。"""
        return {"status": "ok"}

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_form(request: Request, next: str = "/") -> HTMLResponse:
        response = HTMLResponse(_login_page(request, next_=_safe_next(next)))
        if "lang" in request.query_params:
            response.set_cookie("lang", request_lang(request), samesite="lax", secure=secure)
        return response

    @app.post("/login", include_in_schema=False, dependencies=[Depends(verify_csrf)])
    async def login(request: Request) -> Response:
        form = await request.form()
        username = str(form.get("username") or "")
        password = str(form.get("password") or "")
        next_ = _safe_next(str(form.get("next") or "/"))
        ip = client_ip(request)
        # argon2 and the metadata store block: run them off the event loop
        return await run_in_threadpool(_login, request, username, password, next_, ip, secure)

    @app.post("/logout", include_in_schema=False, dependencies=[Depends(verify_csrf)])
    def logout(request: Request) -> Response:
        sid = request.cookies.get(SESSION_COOKIE)
        svc = services(request)
        if sid:
            user = svc.users.user_for_session(sid)
            svc.users.close_session(sid)
            if user is not None:
                audit(request, None, "logout", {"username": user.username})
        response: Response = (
            RedirectResponse("/login", status_code=303)
            if _wants_html(request)
            else JSONResponse({"status": "logged out"})
        )
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    plotly_js = _plotly_path()

    @app.get("/static/vendor/plotly.min.js", include_in_schema=False)
    def plotly() -> FileResponse:
        return FileResponse(plotly_js, media_type="application/javascript")


def _plotly_path() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


class _Headers:
    """Pure ASGI middleware: sets the CSRF cookie minted during the request, adds security
    headers, and turns an unexpected exception into the 500 envelope (not a reset
    connection; the traceback goes to the log)."""

    def __init__(self, app: Any, *, secure: bool) -> None:
        self.app, self.secure = app, secure

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        scope.setdefault("state", {})  # shared with request.state downstream

        async def wrapped(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                new = scope.get("state", {}).get("csrf_new")
                if new and CSRF_COOKIE not in Request(scope).cookies:
                    cookie = Response()
                    cookie.set_cookie(
                        CSRF_COOKIE,
                        new,
                        httponly=True,
                        samesite="lax",
                        secure=self.secure,
                        path="/",
                    )
                    headers.append("set-cookie", cookie.headers["set-cookie"])
            await send(message)

        try:
            await self.app(scope, receive, wrapped)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            response = envelope(
                500, "internal_error", "internal server error", "see the server log"
            )
            await response(scope, receive, send)


def create_app(workspace_root: Path, *, secure_cookies: bool = False) -> FastAPI:
    """The luopan web app for the workspace at ``workspace_root``.

    Args:
        workspace_root: the workspace folder (luopan.yaml, warehouse, metadata store).
        secure_cookies: mark cookies Secure (set when served behind HTTPS).
    """
    from luopan.api.routes import ROUTERS

    workspace = Workspace.open(Path(workspace_root))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # sync routes run in AnyIO's thread pool (40 threads by default); a page waiting for
        # a slow computation holds a thread, so give cached routes room to get past it
        anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
        yield
        app.state.services.close()

    app = FastAPI(
        lifespan=lifespan,
        title="luopan API",
        version="1",
        description="luopan (罗盘) REST API: metrics, scorecard, incidents, customers …",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.state.services = Services(workspace)
    app.state.secure_cookies = secure_cookies
    install_handlers(app)

    app.add_middleware(_Headers, secure=secure_cookies)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        if exc.status == 303 and exc.headers:
            return RedirectResponse(exc.headers["Location"], status_code=303)
        return envelope(exc.status, exc.code, exc.message, exc.fix, exc.headers)

    _add_auth_routes(app, secure_cookies)
    for router in ROUTERS:
        app.include_router(router, prefix="/api/v1")
    try:
        from luopan import cockpit
    except ImportError:
        cockpit = None  # type: ignore[assignment]
    mount = getattr(cockpit, "mount", None)
    if mount is not None:
        mount(app)
    return app


def app_from_env() -> FastAPI:
    """The app for ``luopan serve`` (uvicorn factory; workers read the workspace from env)."""
    import os

    root = os.environ.get("LUOPAN_SERVE_WORKSPACE")
    if not root:
        raise RuntimeError("LUOPAN_SERVE_WORKSPACE is not set; start the server with luopan serve")
    app = create_app(Path(root), secure_cookies=bool(os.environ.get("LUOPAN_SERVE_SECURE")))
    # luopan serve: accept requests once the cockpit caches are warm (bounded wait)
    app.state.cockpit_warm_wait = float(os.environ.get("LUOPAN_SERVE_WARM_WAIT") or 0)
    return app
