"""One JSON error envelope for every API error.

Every error response has the shape::

    {"error": {"code": str, "message": str, "fix": str | None, "status": int}}

``ApiError`` is raised by the API itself (401, 403, 404, 429 …); ``luopan.errors`` classes map
to a status here (``ScopeError`` → 403, ``MetricError`` → 422, ``WarehouseError`` → 503);
Starlette's 404/405, FastAPI's 422 validation errors and any unexpected exception (500, the
traceback only in the server log) are rewritten into the same shape.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from luopan.errors import (
    ConfigError,
    DecisionError,
    EngineError,
    LuopanError,
    MetricError,
    WarehouseError,
)

__all__ = ["ApiError", "ScopeError", "envelope", "install_handlers"]

log = logging.getLogger("luopan.api")


class ScopeError(LuopanError):
    """The principal's row-level scope cannot be applied to what was asked (never leak totals)."""


class ApiError(Exception):
    """An error with an HTTP status, a stable code, a message and a fix."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        fix: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fix = status, code, message, fix
        self.headers = headers


_STATUS: tuple[tuple[type[LuopanError], int, str], ...] = (
    (ScopeError, 403, "out_of_scope"),
    (WarehouseError, 503, "warehouse_unavailable"),
    (MetricError, 422, "metric_error"),
    (EngineError, 422, "engine_error"),
    (DecisionError, 422, "decision_error"),
    (ConfigError, 422, "config_error"),
)

_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
}


def envelope(
    status: int,
    code: str,
    message: str,
    fix: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """The JSON error response."""
    body = {"error": {"code": code, "message": message, "fix": fix, "status": status}}
    return JSONResponse(body, status_code=status, headers=headers)


def luopan_status(exc: LuopanError) -> tuple[int, str]:
    for cls, status, code in _STATUS:
        if isinstance(exc, cls):
            return status, code
    return 422, "luopan_error"


def _validation_message(errors: list[Any]) -> str:
    parts = []
    for e in errors[:5]:
        loc = ".".join(str(x) for x in e.get("loc", ()))
        parts.append(f"{loc}: {e.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def install_handlers(app: FastAPI) -> None:
    """Route every exception to the envelope."""

    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> JSONResponse:
        return envelope(exc.status, exc.code, exc.message, exc.fix, exc.headers)

    @app.exception_handler(LuopanError)
    async def _luopan(request: Request, exc: LuopanError) -> JSONResponse:
        status, code = luopan_status(exc)
        return envelope(status, code, exc.message, exc.fix)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        detail = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        fix = "see /api/v1/docs for the routes" if exc.status_code in (404, 405) else None
        return envelope(exc.status_code, code, detail, fix, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return envelope(
            422,
            "invalid_request",
            _validation_message(list(exc.errors())),
            "check the parameters against /api/v1/openapi.json",
        )

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return envelope(500, "internal_error", "internal server error", "see the server log")
