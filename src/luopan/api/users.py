"""Users, API tokens, sessions, login failures and the audit log, in the metadata store.

The tables live next to the decision log (SQLite in the workspace by default, PostgreSQL for a
shared deployment; SQLAlchemy Core, so the same code runs on both). Passwords are hashed with
argon2id (argon2-cffi); session ids and API tokens are random opaque strings of which only the
SHA-256 is stored, so a copy of the database grants no access. A server remembers a checked
credential for ``AUTH_CACHE_SECONDS`` (5 s), so disabling a user from another process takes
effect within that time (at once in the process that disabled or logged out). SQLite runs in WAL mode with a
busy timeout, so readers never wait on the loop writing incidents. The tables, the engine
factory and the :class:`User` row type live in :mod:`luopan.api._user_schema`.

Roles and their permissions::

    admin    read, export, act, admin
    analyst  read, export, act
    viewer   read
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy.engine import Connection

from luopan.api._user_schema import (
    User,
    _audit,
    _failures,
    _meta,
    _scope_in,
    _sessions,
    _sha,
    _tokens,
    _user,
    _users,
    _utcnow,
    metadata_engine,
)
from luopan.errors import ConfigError

__all__ = [
    "PERMISSIONS",
    "ROLES",
    "User",
    "UserStore",
    "add_user",
    "disable_user",
    "issue_token",
    "list_users",
    "metadata_engine",
]

ROLES = ("admin", "analyst", "viewer")
PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({"read", "export", "act", "admin"}),
    "analyst": frozenset({"read", "export", "act"}),
    "viewer": frozenset({"read"}),
}
SESSION_HOURS = 12
# a server remembers a checked session/token this long: a user disabled by another process
# (``luopan users disable``) loses access within these seconds
AUTH_CACHE_SECONDS = 5.0
_hasher = PasswordHasher()


class UserStore:
    """Users, tokens, sessions, login failures and audit records over one SQLAlchemy URL."""

    def __init__(self, url: str, *, cache_seconds: float = AUTH_CACHE_SECONDS) -> None:
        self.engine = metadata_engine(url)
        _meta.create_all(self.engine)
        self.cache_seconds = cache_seconds
        self._seen: dict[str, tuple[float, User | None]] = {}
        self._seen_lock = threading.Lock()

    def _remembered(self, kind: str, secret: str, look: Any) -> User | None:
        """``look(hash)`` remembered for ``cache_seconds`` (per credential, in this process)."""
        key = f"{kind}:{_sha(secret)}"
        now = time.monotonic()
        with self._seen_lock:
            hit = self._seen.get(key)
            if hit is not None and hit[0] > now:
                return hit[1]
        user = look(key.split(":", 1)[1])
        with self._seen_lock:
            if len(self._seen) > 10_000:
                self._seen.clear()
            self._seen[key] = (now + self.cache_seconds, user)
        return user

    def forget(self) -> None:
        """Drop every remembered credential (after a logout or a disabled user)."""
        with self._seen_lock:
            self._seen.clear()

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self.engine.begin() as con:
            yield con

    # ---- users ------------------------------------------------------------------------
    def add(
        self,
        username: str,
        *,
        password: str,
        role: str,
        stores: Iterable[str] | None = None,
        regions: Iterable[str] | None = None,
        categories: Iterable[str] | None = None,
        replace: bool = False,
    ) -> User:
        """Create (or with ``replace`` overwrite) a user.

        Raises:
            ConfigError: unknown role, empty name or password shorter than 8 characters,
                or the user exists and ``replace`` is False.
        """
        if role not in ROLES:
            raise ConfigError(f"unknown role {role!r}", fix=f"use one of: {', '.join(ROLES)}")
        if not username or len(username) > 100 or not username.isprintable():
            raise ConfigError(f"invalid user name {username!r}", fix="use 1-100 printable chars")
        if len(password) < 8:
            raise ConfigError("password shorter than 8 characters", fix="use a longer password")
        values = dict(
            password_hash=_hasher.hash(password),
            role=role,
            stores=_scope_in(stores),
            regions=_scope_in(regions),
            categories=_scope_in(categories),
            disabled=False,
        )
        with self._tx() as con:
            found = con.execute(sa.select(_users).where(_users.c.username == username)).first()
            if found is not None and not replace:
                raise ConfigError(
                    f"user {username!r} already exists", fix="pass --replace to overwrite it"
                )
            if found is None:
                con.execute(
                    _users.insert().values(username=username, created_at=_utcnow(), **values)
                )
            else:
                con.execute(_users.update().where(_users.c.username == username).values(**values))
                con.execute(_sessions.delete().where(_sessions.c.username == username))
        self.forget()
        user = self.get(username)
        assert user is not None
        return user

    def get(self, username: str) -> User | None:
        with self._tx() as con:
            row = con.execute(sa.select(_users).where(_users.c.username == username)).first()
        return None if row is None else _user(row)

    def users(self) -> list[User]:
        with self._tx() as con:
            rows = con.execute(sa.select(_users).order_by(_users.c.username)).all()
        return [_user(r) for r in rows]

    def disable(self, username: str) -> None:
        """Disable a user and end their sessions and tokens.

        Raises:
            ConfigError: no such user.
        """
        with self._tx() as con:
            n = con.execute(
                _users.update().where(_users.c.username == username).values(disabled=True)
            ).rowcount
            con.execute(_sessions.delete().where(_sessions.c.username == username))
            con.execute(_tokens.delete().where(_tokens.c.username == username))
        self.forget()
        if not n:
            raise ConfigError(f"no user {username!r}", fix="see `luopan users list`")

    def verify(self, username: str, password: str) -> User | None:
        """The active user when the password matches, else None (constant work per attempt)."""
        with self._tx() as con:
            row = con.execute(sa.select(_users).where(_users.c.username == username)).first()
        stored = row.password_hash if row is not None else _DUMMY_HASH
        try:
            _hasher.verify(stored, password)
        except (VerifyMismatchError, InvalidHashError):
            return None
        if row is None or row.disabled:
            return None
        return _user(row)

    # ---- tokens and sessions ----------------------------------------------------------
    def issue_token(self, username: str, *, label: str = "api") -> str:
        """A new API token for an active user (shown once; only its hash is kept).

        Raises:
            ConfigError: no such active user.
        """
        user = self.get(username)
        if user is None or user.disabled:
            raise ConfigError(f"no active user {username!r}", fix="see `luopan users list`")
        token = "lp_" + secrets.token_urlsafe(32)
        with self._tx() as con:
            con.execute(
                _tokens.insert().values(
                    token_hash=_sha(token), username=username, label=label, created_at=_utcnow()
                )
            )
        return token

    def user_for_token(self, token: str) -> User | None:
        return self._remembered("token", token, self._token_user)

    def _token_user(self, token_hash: str) -> User | None:
        with self._tx() as con:
            row = con.execute(
                sa.select(_users)
                .join(_tokens, _tokens.c.username == _users.c.username)
                .where(_tokens.c.token_hash == token_hash)
            ).first()
        user = None if row is None else _user(row)
        return None if user is None or user.disabled else user

    def open_session(self, username: str) -> str:
        sid = secrets.token_urlsafe(32)
        expires = _utcnow() + dt.timedelta(hours=SESSION_HOURS)
        with self._tx() as con:
            con.execute(
                _sessions.insert().values(
                    session_hash=_sha(sid), username=username, expires_at=expires
                )
            )
        return sid

    def user_for_session(self, sid: str) -> User | None:
        return self._remembered("session", sid, self._session_user)

    def _session_user(self, session_hash: str) -> User | None:
        with self._tx() as con:
            row = con.execute(
                sa.select(_users)
                .join(_sessions, _sessions.c.username == _users.c.username)
                .where(_sessions.c.session_hash == session_hash)
                .where(_sessions.c.expires_at > _utcnow())
            ).first()
        user = None if row is None else _user(row)
        return None if user is None or user.disabled else user

    def close_session(self, sid: str) -> None:
        with self._tx() as con:
            con.execute(_sessions.delete().where(_sessions.c.session_hash == _sha(sid)))
        self.forget()

    # ---- login rate limiting ----------------------------------------------------------
    def recent_failures(self, username: str, ip: str, *, window: dt.timedelta) -> int:
        since = _utcnow() - window
        with self._tx() as con:
            n = con.execute(
                sa.select(sa.func.count())
                .select_from(_failures)
                .where(_failures.c.username == username)
                .where(_failures.c.ip == ip)
                .where(_failures.c.at > since)
            ).scalar_one()
        return int(n)

    def record_failure(self, username: str, ip: str) -> None:
        with self._tx() as con:
            con.execute(_failures.insert().values(username=username, ip=ip, at=_utcnow()))

    def clear_failures(self, username: str, ip: str) -> None:
        with self._tx() as con:
            con.execute(
                _failures.delete()
                .where(_failures.c.username == username)
                .where(_failures.c.ip == ip)
            )

    # ---- audit ------------------------------------------------------------------------
    def audit(self, username: str, action: str, detail: dict[str, Any], ip: str | None) -> None:
        with self._tx() as con:
            con.execute(
                _audit.insert().values(
                    at=_utcnow(),
                    username=username,
                    action=action,
                    detail=json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str),
                    ip=ip,
                )
            )

    def audit_log(self, *, limit: int = 100, offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
        with self._tx() as con:
            total = con.execute(sa.select(sa.func.count()).select_from(_audit)).scalar_one()
            rows = con.execute(
                sa.select(_audit).order_by(_audit.c.id.desc()).limit(limit).offset(offset)
            ).all()
        items = [
            {
                "id": r.id,
                "at": r.at,
                "username": r.username,
                "action": r.action,
                "detail": json.loads(r.detail),
                "ip": r.ip,
            }
            for r in rows
        ]
        return int(total), items


_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def _store(workspace: Any) -> UserStore:
    return UserStore(workspace.metadata_url)


def add_user(workspace: Any, username: str, **kwargs: Any) -> User:
    """Create a user in the workspace's metadata store (see ``UserStore.add``)."""
    store = _store(workspace)
    try:
        return store.add(username, **kwargs)
    finally:
        store.close()


def list_users(workspace: Any) -> list[User]:
    store = _store(workspace)
    try:
        return store.users()
    finally:
        store.close()


def disable_user(workspace: Any, username: str) -> None:
    store = _store(workspace)
    try:
        store.disable(username)
    finally:
        store.close()


def issue_token(workspace: Any, username: str, *, label: str = "api") -> str:
    """A new API token for ``username`` (returned once; stored hashed)."""
    store = _store(workspace)
    try:
        return store.issue_token(username, label=label)
    finally:
        store.close()
