"""Page plumbing: the page context (principal, services, language, filters), templates, cache.

Pages get their data only through ``luopan.api.deps`` (``page_principal``, ``services``), so the
row-level scope applies to every figure on a page. Results that take a while (the scorecard,
customer models) are cached per warehouse snapshot and per scope, so a refreshed warehouse or
another scope never sees a stale or foreign entry.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from luopan.api.deps import Principal, Services, csrf_token, page_principal, services
from luopan.cockpit.filters import FilterError, Filters
from luopan.cockpit.labels import t, t_or
from luopan.errors import LuopanError
from luopan.tables import CHANNEL_NAMES

__all__ = ["Page", "Pending", "cached", "inline", "page", "render", "snapshot_id"]

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals["channel_codes"] = frozenset(CHANNEL_NAMES)  # named in the filter bar
T = TypeVar("T")


def _pct(value: Any, signed: bool = True) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value * 100:+.1f}%" if signed else f"{value * 100:.1f}%"


def _num(value: Any, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:,.{digits}f}"


templates.env.filters["pct"] = _pct
templates.env.filters["num"] = _num


@dataclass
class Page:
    """Everything a page handler needs about the request."""

    request: Request
    p: Principal
    svc: Services
    filters: Filters
    started: float
    error: LuopanError | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def lang(self) -> str:
        return self.p.lang

    def t(self, key: str) -> str:
        return t(key, self.lang)


def page(
    request: Request,
    p: Principal = Depends(page_principal),
    svc: Services = Depends(services),
) -> Page:
    """The page context; a malformed filter becomes a banner, not an error page."""
    started = time.perf_counter()
    try:
        filters = Filters.parse(request.query_params)
        error: LuopanError | None = None
    except FilterError as exc:
        filters, error = Filters(), exc
    return Page(request, p, svc, filters, started, error)


class Pending(Exception):
    """A slow panel is being computed in the background (the page shows a placeholder)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


_local = threading.local()


@contextmanager
def inline() -> Iterator[None]:
    """Compute every cached value in this thread, however slow (the warmer's mode)."""
    before = getattr(_local, "inline", False)
    _local.inline = True
    try:
        yield
    finally:
        _local.inline = before


class _Cache:
    """A thread-safe LRU of computed page data, keyed (snapshot, scope, name, args).

    Without a background runner (``runner`` None: tests, scripts) every miss is computed in
    the caller. With one (the warmer of ``luopan.cockpit.warm``, started with the app) a
    request never waits for a slow computation: a miss whose *family* (the key without the
    snapshot) has a value from an earlier snapshot returns that value at once and the new one
    is computed in the background (stale-while-revalidate); a slow miss with no earlier value
    raises ``Pending`` (the page renders a "computing…" placeholder that its JS refreshes).
    """

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self.items: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self.latest: dict[tuple[Any, ...], tuple[Any, ...]] = {}  # family → newest key
        self.lock = threading.Lock()
        self.key_locks: dict[tuple[Any, ...], threading.Lock] = {}
        self.runner: Callable[[tuple[Any, ...], Callable[[], Any]], None] | None = None

    def get(
        self,
        key: tuple[Any, ...],
        compute: Callable[[], T],
        *,
        family: tuple[Any, ...] | None = None,
        slow: bool = False,
    ) -> T:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
            stale_key = self.latest.get(family) if family is not None else None
            has_stale = stale_key is not None and stale_key in self.items
            stale = self.items[stale_key] if has_stale and stale_key is not None else None
            runner = None if getattr(_local, "inline", False) else self.runner
        if runner is not None and (has_stale or slow):
            runner(key, lambda: self.get(key, compute, family=family))
            if has_stale:
                return stale  # type: ignore[return-value]
            raise Pending(str(key[2]) if len(key) > 2 else "value")
        with self.lock:
            klock = self.key_locks.setdefault(key, threading.Lock())
        with klock:  # one computation per key at a time
            with self.lock:
                if key in self.items:
                    return self.items[key]
            value = compute()
            with self.lock:
                self.items[key] = value
                if family is not None:
                    self.latest[family] = key
                while len(self.items) > self.size:
                    old, _ = self.items.popitem(last=False)
                    if len(old) > 1 and self.latest.get(old[1:]) == old:
                        del self.latest[old[1:]]
                self.key_locks.pop(key, None)
            return value


def snapshot_id(svc: Services) -> Any:
    """The id of the warehouse snapshot requests read now (a new one after a refresh)."""
    snaps = getattr(svc, "snapshots", None)
    if snaps is None:
        return svc.workspace.warehouse_path.stat().st_mtime_ns
    return snaps.current().id


def scope_key(p: Principal) -> tuple[Any, ...]:
    """The part of a principal that decides which rows it sees."""
    return tuple(
        None if s is None else tuple(sorted(s)) for s in (p.stores, p.regions, p.categories)
    )


def cached(
    pg: Page,
    name: str,
    args: tuple[Any, ...],
    compute: Callable[[], T],
    *,
    slow: bool = False,
    tables: Iterable[str] | None = None,
) -> T:
    """``compute()`` once per (warehouse snapshot, scope, name, args).

    ``slow=True`` marks a computation of seconds (model fits): with the warmer running, a
    request that finds no value raises ``Pending`` instead of waiting (see ``_Cache``).
    ``tables`` (every table ``compute`` reads; what a scope reads is added) keys the value on
    the content version of those tables instead of the snapshot, so a refresh that changed
    other tables only (new events, say) keeps it and nothing is recomputed.
    """
    store: _Cache = pg.request.app.state.cockpit_cache
    family = (scope_key(pg.p), name, args)
    version: Any = snapshot_id(pg.svc)
    if tables is not None and getattr(pg.svc, "snapshots", None) is not None:
        from luopan.api.services_ops import SCOPE_TABLES
        from luopan.api.snapshot import data_version

        with pg.svc.connection() as con:
            version = data_version(con, {*tables, *SCOPE_TABLES})
    return store.get((version, *family), compute, family=family, slow=slow)


def latest_day(pg: Page) -> dt.date:
    """The last day with orders in the principal's scope (the default end of every range)."""

    def compute() -> dt.date:
        with pg.svc.connection() as con:
            orders = pg.svc.table(pg.p, "orders", con)
            value = orders.ordered_at.max().to_pyarrow().as_py()
        if value is None:
            return dt.date.today()
        return value.date() if isinstance(value, dt.datetime) else value

    return cached(pg, "latest_day", (), compute, tables=())


def render(pg: Page, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render ``template`` with the common context; remember an explicit ``?lang=``."""
    req = pg.request
    lang = pg.lang
    other = "en" if lang == "zh" else "zh"
    scope_parts = [
        ",".join(sorted(s)) for s in (pg.p.stores, pg.p.regions, pg.p.categories) if s is not None
    ]
    ctx = {
        "request": req,
        "lang": lang,
        "t": lambda key: t(key, lang),
        "tt": lambda key, default: t_or(key, default, lang),
        "p": pg.p,
        "f": pg.filters,
        "path": req.url.path,
        "lang_url": f"{req.url.path}?{urlencode({**req.query_params, 'lang': other})}",
        "scope_text": " · ".join(scope_parts) if scope_parts else t("scope_all", lang),
        "csrf": csrf_token(req),
        "filter_error": pg.error,
        "notes": pg.notes,
        "metric_names": pg.svc.catalog.metrics,
        **context,
    }
    ctx["elapsed_ms"] = (time.perf_counter() - pg.started) * 1000
    response = templates.TemplateResponse(req, template, ctx, status_code=status_code)
    chosen = req.query_params.get("lang")
    if chosen:
        response.set_cookie(
            "lang", "en" if chosen.startswith("en") else "zh", max_age=365 * 86400, samesite="lax"
        )
    return response


def spark_points(values: list[float | None], width: int = 90, height: int = 22) -> str:
    """SVG polyline points of a small trend line (gaps skipped)."""
    pts = [(i, v) for i, v in enumerate(values) if v is not None and not math.isnan(v)]
    if len(pts) < 2:
        return ""
    lo = min(v for _, v in pts)
    hi = max(v for _, v in pts)
    span = (hi - lo) or 1.0
    step = width / max(len(values) - 1, 1)
    return " ".join(
        f"{i * step:.1f},{height - 2 - (v - lo) / span * (height - 4):.1f}" for i, v in pts
    )


templates.env.filters["spark"] = spark_points
