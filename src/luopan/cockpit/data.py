"""Scoped data shared by several pages, read only through ``luopan.api`` Services.

Nothing here computes a statistic itself: it fetches the principal's rows (tables filtered by
``Services.table``, metrics through ``Services.metric`` / ``metric_where``), hands them to the
engines as the CLI modules do, and caches results per warehouse snapshot and scope.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from luopan.api.services import refused_row
from luopan.cockpit.web import Page, cached
from luopan.errors import LuopanError
from luopan.metrics.grains import grain_start, period_label, shift
from luopan.metrics.scorecard import Scorecard
from luopan.metrics.scorecard import scorecard as build_scorecard

__all__ = [
    "default_period",
    "filter_options",
    "health_table",
    "metric_tables",
    "occasions",
    "scorecard_for",
    "table_frame",
]


def table_frame(pg: Page, name: str, columns: dict[str, str]) -> pd.DataFrame:
    """Selected columns of a scoped canonical table (new name → warehouse column)."""

    def compute() -> pd.DataFrame:
        with pg.svc.connection() as con:
            t = pg.svc.table(pg.p, name, con)
            return t.select(**{new: t[old] for new, old in columns.items()}).to_pandas()

    return cached(pg, "table", (name, tuple(columns.items())), compute, tables=(name,))


def metric_tables(pg: Page, name: str) -> frozenset[str]:
    """Every table metric ``name`` and the drivers of its tree may read (a cache's tables)."""
    from luopan.metrics import tree_for

    catalog = pg.svc.catalog
    todo, seen, out = [name], set(), {"orders"}  # orders: the default period's latest day
    while todo:
        n = todo.pop()
        if n in seen or n not in catalog.metrics:
            continue
        seen.add(n)
        out |= catalog.tables(n)
        sub = tree_for(catalog, n)
        if sub is not None:
            todo.extend(sub.drivers)
    return frozenset(out)


def occasions(pg: Page) -> pd.DataFrame:
    """Net paid amount per customer and day in the scope (customer, day, amount), as
    ``luopan.warehouse.customer_reads.workspace_orders`` builds it: an order whose net amount is
    zero or less (unpaid, fully refunded) is not a purchase occasion."""

    def compute() -> pd.DataFrame:
        with pg.svc.connection() as con:
            orders = pg.svc.table(pg.p, "orders", con)
            paid = orders.filter(orders.customer_id.notnull())
            amount = paid.paid_amount.cast("float64").fill_null(0) - paid.refund_amount.cast(
                "float64"
            ).fill_null(0)
            expr = (
                paid.mutate(day=paid.ordered_at.date(), amount=amount)
                .filter(lambda t: t.amount > 0)
                .group_by(["customer_id", "day"])
                .aggregate(amount=lambda t: t.amount.sum())
            )
            frame = expr.to_pandas()
        frame["day"] = pd.to_datetime(frame["day"])  # datetime64, not Python dates (fast)
        return frame.rename(columns={"customer_id": "customer"})

    return cached(pg, "occasions", (), compute, tables=())


def filter_options(pg: Page) -> dict[str, list[str]]:
    """The values offered in the filter bar, from the principal's own rows."""

    def compute() -> dict[str, list[str]]:
        out: dict[str, list[str]] = {"region": [], "store": [], "channel": [], "category": []}
        queries = {
            "region": ("stores", "region"),
            "store": ("stores", "store_id"),
            "channel": ("orders", "channel"),
            "category": ("products", "category"),
        }
        with pg.svc.connection() as con:
            for key, (table, column) in queries.items():
                try:
                    t = pg.svc.table(pg.p, table, con)
                    values = t.select(column).distinct().to_pyarrow().column(0).to_pylist()
                except LuopanError:
                    continue  # not readable in this scope: no options
                out[key] = sorted(str(v) for v in values if v is not None)
        return out

    return cached(pg, "filter_options", (), compute, tables=())


def default_period(pg: Page, grain: str, latest: dt.date) -> str:
    """The last complete period of ``grain`` before the latest day with data."""
    end = latest + dt.timedelta(days=1)
    start = grain_start(end, grain)
    return period_label(shift(start, grain, -1), grain)


def scorecard_for(pg: Page, period: str) -> Scorecard:
    """The scope's scorecard of ``period``; with dimension filters, each metric gets the
    principal's scope conditions (``Services.metric_where``) plus the filters, and a metric
    that cannot take either stays on the card without a value and with the reason."""
    dims = tuple(sorted(pg.filters.dimensions.items()))
    if not dims:
        grain = period_grain(period)
        return cached(
            pg,
            "scorecard",
            (period,),
            lambda: pg.svc.scorecard(pg.p, grain=grain, period=period),
            slow=True,
            tables=pg.svc.card_tables,
        )

    def compute() -> Scorecard:
        catalog = pg.svc.catalog
        names = [n for n, m in catalog.metrics.items() if m.meta.scorecard]
        groups: dict[str, tuple[list[Any], list[str]]] = {}
        refused: dict[str, str] = {}
        for n in names:
            try:
                conds = [*pg.svc.metric_where(pg.p, n), *pg.filters.conditions(catalog, n)]
            except LuopanError as exc:
                refused[n] = exc.message
                continue
            key = repr([c.model_dump() for c in conds])
            groups.setdefault(key, (conds, []))[1].append(n)
        with pg.svc.connection() as con:
            cards = [
                build_scorecard(con, catalog, period, metrics=ms, where=conds)
                for conds, ms in groups.values()
            ]
        grain = period_grain(period)
        rows = {r.metric: r for card in cards for r in card.rows}
        rows.update({n: refused_row(pg.svc, n, grain, why) for n, why in refused.items()})
        ordered = [n for n in names if n in rows]
        perspectives = ("financial", "customer", "internal_process", "learning_growth")
        ordered.sort(
            key=lambda n: (not rows[n].north_star, perspectives.index(rows[n].perspective))
        )
        from luopan.metrics.grains import parse_period

        _, start, end = parse_period(period)
        return Scorecard(period, grain, start, end, tuple(rows[n] for n in ordered))

    return cached(pg, "scorecard", (period, dims), compute, slow=True, tables=pg.svc.card_tables)


def period_grain(period: str) -> str:
    from luopan.metrics.grains import parse_period

    return parse_period(period)[0]


def health_table(pg: Page, latest: dt.date, weeks: int = 3) -> pd.DataFrame:
    """Mean customer health (0-100) per customer region at weekly cutoffs, and overall.

    The customer engine's ``health_by_segment`` (see ``luopan.engines.customers.health``) on
    the scope's purchase occasions; every active customer is in exactly one region segment
    (unknown: ``—``), so the overall index is the customer-weighted mean of the segments.
    A Pareto/NBD fit per weekly cutoff (seconds): cached as slow (``Pending`` while the
    warmer computes it).
    """
    from luopan.engines.customers.health import health_by_segment

    def compute() -> pd.DataFrame:
        occ = occasions(pg)
        if occ.empty:
            return pd.DataFrame(columns=["cutoff", "segment", "customers", "health"])
        regions = table_frame(pg, "customers", {"customer": "customer_id", "region": "region"})
        seg = regions.set_index("customer")["region"].fillna("—")
        try:
            tickets = table_frame(pg, "tickets", {"customer": "customer_id", "day": "created_at"})
            complaints: pd.DataFrame | None = tickets.dropna(subset=["customer"]).assign(
                day=lambda f: pd.to_datetime(f["day"]).dt.normalize()
            )
        except Exception:  # noqa: BLE001 (no tickets table, or not readable in the scope)
            complaints = None
        last = pd.Timestamp(latest)
        cutoffs = [last - pd.Timedelta(days=7 * k) for k in range(weeks - 1, -1, -1)]
        return health_by_segment(occ, seg, cutoffs, complaints=complaints, min_customers=1)

    return cached(
        pg, "health", (latest, weeks), compute, slow=True, tables=("customers", "tickets")
    )
