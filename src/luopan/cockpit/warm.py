"""Warm the cockpit's caches in the background, so no user pays for a cold model fit.

One daemon thread per app (``Warmer``), started by the app's lifespan (``mount`` wraps it)
and stopped on shutdown. It

- runs the computations that requests hand it (a slow panel nobody has computed yet, or the
  fresh value of a panel whose previous snapshot's value a request was just served; see
  ``luopan.cockpit.web._Cache``), requests first;
- watches the warehouse snapshot (``Services.snapshots.current()``, which copies the live file
  when a refresh finished and keeps the old copy while the content is unchanged) and, on start
  and whenever the snapshot changes, renders the default view of every page — for the unscoped
  view and each distinct scope of the enabled users, in zh and en — with every computation
  done inline, which fills every cache those pages read (scorecard, health index, customer
  models, recall list, anomaly bands, root cause, forecasts).

Rendering the pages themselves (rather than a list of functions) keeps the warm set equal to
what the pages read, whatever the pages change to.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.requests import Request

from luopan.api.principal import Principal
from luopan.cockpit.filters import Filters
from luopan.cockpit.web import Page, inline, scope_key, snapshot_id

__all__ = ["WARM_PATHS", "Warmer"]

log = logging.getLogger("luopan.cockpit")

# the page views warmed, slowest first ({metric}: the north-star metric, else gmv)
WARM_PATHS = (
    "/",
    "/cockpit/customers",
    "/cockpit/metrics/{name}",
    "/cockpit/metrics/{name}/rca",
    "/cockpit/replenishment",
    "/cockpit/pricing",
    "/cockpit/funnels",
    "/cockpit/experiments",
    "/cockpit/listening",
    "/cockpit/metrics",
    "/cockpit/incidents",
)
MAX_SCOPES = 16  # scoped views warmed besides the unscoped one


def page_routes() -> list[APIRoute]:
    """The cockpit's page routes (from its routers: the app may wrap what it includes)."""
    from importlib import import_module

    from luopan.cockpit import PAGES

    out: list[APIRoute] = []
    for module in dict.fromkeys(PAGES.values()):
        router = import_module(f"luopan.cockpit.pages.{module}").router
        out += [r for r in router.routes if isinstance(r, APIRoute)]
    return out


class Warmer:
    """The background thread that warms and refreshes the cockpit caches of ``app``.

    Args:
        app: the FastAPI app (``app.state.services``, ``app.state.cockpit_cache``).
        interval: seconds between two looks at the warehouse snapshot.
        paths: the page views warmed (default ``WARM_PATHS``).
        langs: the languages warmed.
    """

    def __init__(
        self,
        app: FastAPI,
        *,
        interval: float = 1.0,
        paths: tuple[str, ...] = WARM_PATHS,
        langs: tuple[str, ...] = ("zh", "en"),
    ) -> None:
        self.app = app
        self.interval = interval
        self.paths = paths
        self.langs = langs
        self.jobs: queue.Queue[tuple[tuple[Any, ...], Callable[[], Any]]] = queue.Queue()
        self.queued: set[tuple[Any, ...]] = set()
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None
        self.warmed: Any = None  # the snapshot id last warmed
        self.passes = 0  # completed warm passes (tests and the benchmark wait on it)
        self.idle = threading.Condition()

    # ---- lifecycle --------------------------------------------------------------------
    def start(self) -> None:
        if self.thread is not None:
            return
        self.stop_event.clear()
        self.thread = threading.Thread(target=self._run, name="luopan-cockpit-warmer", daemon=True)
        self.thread.start()
        self.app.state.cockpit_cache.runner = self.submit

    def stop(self, timeout: float = 10.0) -> None:
        self.app.state.cockpit_cache.runner = None
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout)
            self.thread = None

    def wait_warm(self, timeout: float) -> bool:
        """Block until one warm pass of the current snapshot has completed (True), or timeout.

        Returns False at once when there is no warehouse to warm."""
        if self._snapshot() is None:
            return False
        deadline = time.monotonic() + timeout
        with self.idle:
            while self.passes == 0 or self.warmed != self._snapshot():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.idle.wait(min(left, 0.5))
        return True

    # ---- jobs -------------------------------------------------------------------------
    def submit(self, key: tuple[Any, ...], job: Callable[[], Any]) -> None:
        """Compute ``job`` (the value of cache ``key``) in the background, once."""
        with self.lock:
            if key in self.queued:
                return
            self.queued.add(key)
        self.jobs.put((key, job))

    def _drain(self) -> None:
        """Run the jobs requests handed in (they come before warming)."""
        while not self.stop_event.is_set():
            try:
                key, job = self.jobs.get_nowait()
            except queue.Empty:
                return
            try:
                with inline():
                    job()
            except Exception:  # the page shows the error when it computes it itself
                log.exception("cockpit background job %r failed", key[2:3])
            finally:
                with self.lock:
                    self.queued.discard(key)

    def _snapshot(self) -> Any:
        try:
            return snapshot_id(self.app.state.services)
        except Exception:  # noqa: BLE001 (no warehouse yet: nothing to warm)
            return None

    def _run(self) -> None:
        while not self.stop_event.is_set():
            self._drain()
            snap = self._snapshot()
            if snap is not None and snap != self.warmed:
                if self._warm_all():
                    self.warmed = snap
                    with self.idle:
                        self.passes += 1
                        self.idle.notify_all()
                continue
            try:
                key, job = self.jobs.get(timeout=self.interval)
            except queue.Empty:
                continue
            self.jobs.put((key, job))  # handled by _drain, in order

    # ---- warming ----------------------------------------------------------------------
    def principals(self) -> Iterator[Principal]:
        """The unscoped view, then each distinct scope of the enabled users."""
        yield Principal("luopan-warmer", "admin")
        seen = {scope_key(Principal("luopan-warmer", "admin"))}
        try:
            users = self.app.state.services.users.users()
        except Exception:  # noqa: BLE001 (no user table yet)
            users = []
        for user in users:
            p = Principal(
                "luopan-warmer",
                "viewer",
                stores=user.stores,
                regions=user.regions,
                categories=user.categories,
            )
            if user.disabled or scope_key(p) in seen or len(seen) > MAX_SCOPES:
                continue
            seen.add(scope_key(p))
            yield p

    def _warm_all(self) -> bool:
        """One pass over every warm view; False when stopped midway."""
        routes = {
            r.path: r for r in page_routes() if "GET" in (r.methods or ()) and r.path in self.paths
        }
        catalog = self.app.state.services.catalog
        metric = catalog.north_star.name if catalog.north_star is not None else "gmv"
        started = time.perf_counter()
        for p in self.principals():
            for lang in self.langs:
                for path in self.paths:
                    self._drain()
                    if self.stop_event.is_set():
                        return False
                    route = routes.get(path)
                    if route is not None:
                        self.render(route, path, Principal(**{**p.__dict__, "lang": lang}), metric)
            self._warm_api(p)
        log.info("cockpit caches warmed in %.1f s", time.perf_counter() - started)
        return True

    def _warm_api(self, p: Principal) -> None:
        """The API's default scorecard (``GET /api/v1/scorecard``) for this scope."""
        try:
            self.app.state.services.scorecard(p, grain="month")
        except Exception:  # the route reports it to its caller
            log.exception("warming the API scorecard failed")

    def render(self, route: APIRoute, path: str, p: Principal, metric: str) -> None:
        """Render one page view for ``p`` (its response is dropped: the caches are the point)."""
        kwargs: dict[str, Any] = {"name": metric} if "{name}" in path else {}
        url = path.replace("{name}", metric)
        scope = {
            "type": "http",
            "method": "GET",
            "path": url,
            "raw_path": url.encode(),
            "root_path": "",
            "scheme": "http",
            "query_string": urlencode({"lang": p.lang}).encode(),
            "headers": [],
            "server": ("luopan-warmer", 0),
            "client": ("127.0.0.1", 0),
            "app": self.app,
        }
        pg = Page(Request(scope), p, self.app.state.services, Filters(), time.perf_counter())
        try:
            with inline():
                route.endpoint(pg=pg, **kwargs)
        except Exception:  # a page that fails here fails (and says why) for its user too
            log.exception("warming %s failed", url)
