"""Connecting to the warehouse and checking the north-star metric.

A north-star metric must be (1) clearly defined — a label and a description in both
languages and a unit; (2) measurable — it computes to a number on the warehouse; (3) linked
to a strategic goal — the goal is stated and a declared tree connects the metric to the
drivers teams act on.

References:
    Ellis, S. & Brown, M. (2017). Hacking Growth. Crown Business (the north-star metric).
    Kaplan, R. S. & Norton, D. P. (2004). Strategy Maps. Harvard Business School Press.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from luopan.errors import LuopanError, MetricError, WarehouseError
from luopan.metrics.catalog import Catalog
from luopan.metrics.query import metric_value

__all__ = ["NorthStarCheck", "check_north_star", "connect"]


def connect(workspace: Any) -> Any:
    """A read-only Ibis DuckDB backend on the workspace's warehouse file.

    Raises:
        WarehouseError: there is no warehouse yet, or it cannot be opened.
    """
    import duckdb
    import ibis

    path = workspace.warehouse_path
    if not path.exists():
        raise WarehouseError(f"{path}: no warehouse yet", fix="run `luopan ingest` first")
    try:
        return ibis.duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise WarehouseError(
            f"{path}: cannot open the warehouse ({exc})", fix="retry when the ingest finishes"
        ) from None


@dataclass(frozen=True)
class NorthStarCheck:
    """The verdict on the north star: one (criterion, passed, detail) per criterion."""

    metric: str
    criteria: tuple[tuple[str, bool, str], ...]

    @property
    def passed(self) -> bool:
        return all(ok for _, ok, _ in self.criteria)


def check_north_star(
    con: Any, catalog: Catalog, *, start: dt.date | None = None, end: dt.date | None = None
) -> NorthStarCheck:
    """Check the three north-star criteria (clear, measurable, linked via the tree).

    ``start``/``end`` bound the measurability check; the default is the last 28 days of
    orders in the warehouse.

    Raises:
        MetricError: no metric is flagged ``north_star: true``.
    """
    star = catalog.north_star
    if star is None:
        raise MetricError(
            "no metric is flagged as the north star",
            fix="add `north_star: true` under one metric's meta",
        )
    meta = star.meta
    clear = bool(meta.description and meta.description.zh and meta.description.en and meta.unit)
    clear_detail = (
        "label, description (zh/en) and unit given"
        if clear
        else ("needs meta.description in zh and en and meta.unit")
    )
    try:
        if end is None:
            latest = con.table("orders").ordered_at.max().to_pyarrow().as_py()
            end = latest.date() + dt.timedelta(days=1)
        start = start or end - dt.timedelta(days=28)
        value = metric_value(con, catalog, star.name, start, end)
        measurable = not math.isnan(value)
        measure_detail = f"{value:,.2f} {meta.unit} over {start}..{end}"
    except (LuopanError, Exception) as exc:  # noqa: BLE001 (reported, not raised)
        measurable, measure_detail = False, str(exc).splitlines()[0][:200]
    trees = [t for t in catalog.trees.values() if t.root == star.name]
    linked = meta.strategic_goal is not None and bool(trees)
    drivers = sorted({d for t in trees for d in t.drivers} | {f"Σ {t.by}" for t in trees if t.by})
    link_detail = (
        f"goal: {meta.strategic_goal.en}; drivers: {', '.join(drivers)}"
        if linked and meta.strategic_goal
        else "needs meta.strategic_goal and a tree with this metric as root"
    )
    return NorthStarCheck(
        star.name,
        (
            ("clear definition", clear, clear_detail),
            ("measurable", measurable, measure_detail),
            ("linked to a strategic goal via the tree", linked, link_detail),
        ),
    )
