"""The metadata-store schema behind :mod:`luopan.api.users`.

Holds the SQLAlchemy tables (users, API tokens, sessions, login failures, audit log), the
engine factory (SQLite in WAL mode with a busy timeout), the frozen :class:`User` row type
with its JSON scope columns, and the small clock/hash helpers the store uses. No queries
live here; :class:`luopan.api.users.UserStore` runs them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

__all__ = ["User", "metadata_engine"]

_meta = sa.MetaData()
_users = sa.Table(
    "api_users",
    _meta,
    sa.Column("username", sa.String(100), primary_key=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("stores", sa.Text),  # JSON list or NULL (all)
    sa.Column("regions", sa.Text),
    sa.Column("categories", sa.Text),
    sa.Column("disabled", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)
_tokens = sa.Table(
    "api_tokens",
    _meta,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(100), nullable=False, index=True),
    sa.Column("label", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)
_sessions = sa.Table(
    "api_sessions",
    _meta,
    sa.Column("session_hash", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(100), nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
)
_failures = sa.Table(
    "api_login_failures",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(100), nullable=False),
    sa.Column("ip", sa.String(100), nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Index("ix_api_login_failures_user_ip", "username", "ip"),
)
_audit = sa.Table(
    "api_audit_log",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("username", sa.String(100), nullable=False),
    sa.Column("action", sa.String(100), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("ip", sa.String(100)),
)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def metadata_engine(url: str) -> Engine:
    """A SQLAlchemy engine; SQLite gets WAL mode and a 10 s busy timeout on every connection."""
    engine = sa.create_engine(url, future=True)
    if engine.dialect.name == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_con: Any, _record: Any) -> None:
            cur = dbapi_con.cursor()
            cur.execute("PRAGMA busy_timeout=10000")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

    return engine


@dataclass(frozen=True)
class User:
    username: str
    role: str
    stores: frozenset[str] | None
    regions: frozenset[str] | None
    categories: frozenset[str] | None
    disabled: bool
    created_at: dt.datetime


def _scope_out(text: str | None) -> frozenset[str] | None:
    return None if text is None else frozenset(json.loads(text))


def _scope_in(values: Iterable[str] | None) -> str | None:
    if values is None:
        return None
    clean = sorted({v.strip() for v in values if v.strip()})
    return json.dumps(clean, ensure_ascii=False)


def _user(row: Any) -> User:
    return User(
        username=row.username,
        role=row.role,
        stores=_scope_out(row.stores),
        regions=_scope_out(row.regions),
        categories=_scope_out(row.categories),
        disabled=bool(row.disabled),
        created_at=row.created_at,
    )
