"""The scoped data primitives of the API and the cockpit (row-level security lives here).

``Services`` is created once per app. Every read goes through a principal: metric queries get
the principal's scope conditions (``luopan.api.scope``), tables come back filtered, incidents
are those whose slice lies in the scope. Reads run on a private snapshot of the warehouse
(``luopan.api.snapshot``), so a refresh writing the live file never blocks a request.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from typing import Any

import pandas as pd

from luopan.api.errors import ApiError, ScopeError
from luopan.api.principal import Principal
from luopan.api.scope import ScopeSpec, incident_visible, metric_conditions, scope_table
from luopan.api.snapshot import Snapshots, data_version
from luopan.api.users import UserStore, metadata_engine
from luopan.decisions.store import DecisionLog, Incident, IncidentDetail
from luopan.metrics import load_catalog, query_metric
from luopan.metrics import scorecard as build_scorecard
from luopan.metrics.scorecard import Scorecard, ScoreRow, score_row
from luopan.metrics.spec import Condition
from luopan.workspace import Workspace

__all__ = ["Services"]

log = logging.getLogger("luopan.api")


def _wal_log(url: str) -> DecisionLog:
    """The decision log with SQLite in WAL mode and a busy timeout (the loop writes it)."""
    log = DecisionLog(url)
    log.engine.dispose()
    log.engine = metadata_engine(url)
    return log


class Services:
    """Scoped reads for one workspace; safe to share between request threads."""

    def __init__(self, workspace: Workspace, *, snapshot_dir: Any = None) -> None:
        self.workspace = workspace
        self.catalog = load_catalog(workspace)
        self.log = _wal_log(workspace.metadata_url)
        self.users = UserStore(workspace.metadata_url)
        directory = snapshot_dir or workspace.root / ".luopan" / "snapshots"
        self.snapshots = Snapshots(workspace.warehouse_path, directory)
        self._region_stores: tuple[str, dict[str, frozenset[str]]] | None = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[Any, Any] = OrderedDict()
        self._building: dict[Any, threading.Lock] = {}
        self._families: dict[Any, Any] = {}
        self._queue: queue.Queue[tuple[Any, Callable[[], Any], int, Any]] = queue.Queue()
        self._worker: threading.Thread | None = None

    def cached(
        self, key: Any, build: Callable[[], Any], *, size: int = 64, family: Any = None
    ) -> Any:
        """``build()`` remembered under ``key`` (which holds the data version; LRU of ``size``).

        Concurrent callers with the same key wait for one build instead of repeating it. With
        ``family`` (the key without the data version), a caller whose key is new while an
        older version of the family is cached gets the older value at once and the new one is
        built in a background thread (stale-while-revalidate) — ``build`` must then open its
        own connection. Used for the slow customer models, so a refresh of the warehouse never
        stalls the users of the recall list.
        """
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            stale_key = self._families.get(family) if family is not None else None
            if stale_key is not None and stale_key in self._cache:
                if key not in self._building:
                    self._building[key] = threading.Lock()
                    self._queue.put((key, build, size, family))
                    if self._worker is None:  # a daemon thread, for the life of the process
                        self._worker = threading.Thread(target=self._rebuild, daemon=True)
                        self._worker.start()
                return self._cache[stale_key]
            gate = self._building.setdefault(key, threading.Lock())
        with gate:
            with self._lock:
                if key in self._cache:
                    return self._cache[key]
            return self._build(key, build, size, family)

    def _rebuild(self) -> None:
        """Background rebuilds, one at a time (so they never crowd out the requests)."""
        while True:
            key, build, size, family = self._queue.get()
            try:
                self._build(key, build, size, family)
            except Exception:  # the next request rebuilds it in the foreground and reports
                log.exception("background rebuild of %r failed", key[:3])

    def _build(self, key: Any, build: Callable[[], Any], size: int, family: Any) -> Any:
        try:
            value = build()
        except Exception:
            with self._lock:
                self._building.pop(key, None)
            raise
        with self._lock:
            self._cache[key] = value
            self._building.pop(key, None)
            if family is not None:
                self._families[family] = key
            while len(self._cache) > size:
                self._cache.popitem(last=False)
        return value

    def close(self) -> None:
        self.snapshots.close()
        self.log.close()
        self.users.close()

    @contextmanager
    def connection(self) -> Iterator[Any]:
        """A read-only Ibis backend on the current warehouse snapshot."""
        with self.snapshots.connection() as con:
            yield con

    # ---- scope ------------------------------------------------------------------------
    def _stores_by_region(self, con: Any, version: str) -> dict[str, frozenset[str]]:
        cached = self._region_stores
        if cached is not None and cached[0] == version:
            return cached[1]
        frame = con.table("stores").select("store_id", "region").to_pyarrow().to_pandas()
        out: dict[str, frozenset[str]] = {}
        for region, group in frame.groupby("region", dropna=True):
            out[str(region)] = frozenset(str(s) for s in group["store_id"])
        self._region_stores = (version, out)
        return out

    def scope(self, p: Principal, con: Any | None = None) -> ScopeSpec:
        """The principal's scope resolved on a snapshot (regions → their stores)."""
        stores = p.stores
        if p.regions is not None:
            if con is None:
                with self.connection() as own:
                    return self.scope(p, own)
            mapping = self._stores_by_region(con, data_version(con))
            in_regions = frozenset(s for r in p.regions for s in mapping.get(r, ()))
            stores = in_regions if stores is None else stores & in_regions
        return ScopeSpec(
            stores=stores,
            regions=p.regions,
            categories=p.categories,
            region_only=p.stores is None and p.regions is not None,
        )

    # ---- metrics ----------------------------------------------------------------------
    def metric_where(self, p: Principal, name: str, con: Any | None = None) -> list[Condition]:
        """The scope conditions for metric ``name`` (raises ScopeError when it cannot be)."""
        return metric_conditions(self.catalog, name, self.scope(p, con))

    def metric(
        self,
        p: Principal,
        name: str,
        *,
        grain: str | None = "day",
        by: Sequence[str] = (),
        start: dt.date | None = None,
        end: dt.date | None = None,
        compare: str | None = None,
        where: Sequence[Condition] = (),
    ) -> pd.DataFrame:
        """``query_metric`` limited to the principal's scope (cached per snapshot)."""
        with self.connection() as con:
            scoped = [*self.metric_where(p, name, con), *where]
            version = data_version(con, self.catalog.tables(name))
        family = (
            "metric",
            name,
            grain,
            tuple(by),
            start,
            end,
            compare,
            tuple(c.model_dump_json() for c in scoped),
        )

        def build() -> pd.DataFrame:
            with self.connection() as own:
                return query_metric(
                    own,
                    self.catalog,
                    name,
                    grain=grain,
                    by=by,
                    start=start,
                    end=end,
                    compare=compare,
                    where=scoped,
                )

        frame = self.cached((version, *family), build, size=512, family=family)
        return frame.copy()

    def scorecard(
        self, p: Principal, *, grain: str = "month", period: str | None = None
    ) -> Scorecard:
        """The balanced scorecard limited to the scope; metrics that cannot be scoped stay on
        the card with status ``none`` and the reason, never with an unscoped value."""
        with self.connection() as con:
            scope = self.scope(p, con)
            version = data_version(con, self.card_tables)
            # keyed by the period it shows: the default one shares the explicit one's entry
            period = period or self.latest_period(con, grain)
        family = ("scorecard", scope, grain, period)

        def build() -> Scorecard:
            return self._scorecard(scope, grain, period)

        return self.cached((version, *family), build, family=family)

    @cached_property
    def card_tables(self) -> frozenset[str]:
        """Every table the scorecard may read (its metrics' and the default period's); the
        catalog is fixed for the life of the app, so this is computed once."""
        names = [n for n, m in self.catalog.metrics.items() if m.meta.scorecard]
        return frozenset({"orders"}.union(*(self.catalog.tables(n) for n in names)))

    def _scorecard(self, scope: ScopeSpec, grain: str, period: str) -> Scorecard:
        """The card assembled from parts: metrics with the same scope conditions and tables
        are computed together (one fused pass) and cached under the version of their own
        tables, so a refresh that loaded only events recomputes only the events metrics."""
        names = [n for n, m in self.catalog.metrics.items() if m.meta.scorecard]
        groups: dict[tuple[str, frozenset[str]], tuple[list[Condition], list[str]]] = {}
        refused: dict[str, str] = {}
        for n in names:
            try:
                conds = metric_conditions(self.catalog, n, scope)
            except ScopeError as exc:
                refused[n] = exc.message
                continue
            key = (repr([c.model_dump() for c in conds]), self.catalog.tables(n))
            groups.setdefault(key, (conds, []))[1].append(n)
        cards = []
        with self.connection() as con:
            for (cond_key, tables), (conds, ms) in groups.items():
                part_key = ("card-part", data_version(con, tables), cond_key, period, tuple(ms))

                def part(conds: list[Condition] = conds, ms: list[str] = ms) -> Scorecard:
                    return build_scorecard(con, self.catalog, period, metrics=ms, where=conds)

                cards.append(self.cached(part_key, part, size=512))
        rows = {r.metric: r for card in cards for r in card.rows}
        base = cards[0] if cards else build_empty(self, period)
        for n, why in refused.items():
            rows[n] = refused_row(self, n, base.grain, why)
        order = [r.metric for card in cards for r in card.rows] + list(refused)
        ranked = sorted(order, key=lambda n: (not rows[n].north_star, _perspective(self, n)))
        return Scorecard(
            base.period, base.grain, base.start, base.end, tuple(rows[n] for n in ranked)
        )

    def latest_period(self, con: Any, grain: str) -> str:
        """The last complete period of ``grain`` before the latest order (the cockpit default)."""
        from luopan.metrics.grains import grain_start, period_label, shift

        orders = con.table("orders")
        latest = orders.ordered_at.max().to_pyarrow().as_py()
        if latest is None:
            raise ApiError(404, "no_data", "the warehouse has no orders", fix="run luopan ingest")
        day = latest.date() if isinstance(latest, dt.datetime) else latest
        return period_label(shift(grain_start(day, grain), grain, -1), grain)

    # ---- tables -----------------------------------------------------------------------
    def table(self, p: Principal, name: str, con: Any | None = None) -> Any:
        """Canonical table ``name`` filtered to the principal's scope (an Ibis expression).

        Pass ``con`` (from ``connection()``) to build on a snapshot you hold; without it the
        expression is bound to the current snapshot and must be executed promptly.
        """
        if con is not None:
            return scope_table(con, name, self.scope(p, con))
        with self.connection() as own:
            return scope_table(own, name, self.scope(p, own))

    # ---- incidents --------------------------------------------------------------------
    def incidents(self, p: Principal, status: str | None = None) -> list[Incident]:
        scope = self.scope(p)
        return [i for i in self.log.incidents(status=status) if incident_visible(i.slice, scope)]

    def incident(self, p: Principal, incident_id: int) -> IncidentDetail:
        """One incident with diagnosis, actions and outcomes (404 when missing or out of scope)."""
        from luopan.errors import DecisionError

        try:
            detail = self.log.incident(incident_id)
        except DecisionError:
            detail = None
        if detail is None or not incident_visible(detail.incident.slice, self.scope(p)):
            raise ApiError(
                404, "not_found", f"no incident #{incident_id}", fix="see GET /api/v1/incidents"
            )
        return detail


def _perspective(svc: Services, name: str) -> int:
    from luopan.metrics.scorecard import PERSPECTIVES

    return PERSPECTIVES.index(svc.catalog.metric(name).meta.perspective)


def build_empty(svc: Services, label: str) -> Scorecard:
    from luopan.metrics.grains import parse_period

    grain, start, end = parse_period(label)
    return Scorecard(label, grain, start, end, ())


def refused_row(svc: Services, name: str, grain: str, why: str) -> ScoreRow:
    """A scorecard row for a metric the principal's scope cannot take: no values, the reason."""
    return score_row(name, svc.catalog.metric(name).meta, grain, (), why)
