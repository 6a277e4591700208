"""Attribute a metric's change between two periods to the drivers of its declared tree.

The arithmetic (LMDI-I for products, differences for sums, rescaling down the tree) lives in
``luopan.metrics.tree``; this module fetches the values and walks the catalog's trees.

References:
    Ang, B. W. (2005). The LMDI approach to decomposition analysis: a practical guide.
    Energy Policy 33(7), 867-871.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from luopan.errors import MetricError
from luopan.metrics.catalog import Catalog
from luopan.metrics.compiler import compile_metric
from luopan.metrics.grains import parse_period
from luopan.metrics.query import execute, metric_value
from luopan.metrics.spec import Condition, TreeSpec
from luopan.metrics.tree import Contribution, decompose, rescale, scale_factor

__all__ = ["TreeAttribution", "attribute_tree", "tree_for"]

Span = tuple[dt.date, dt.date]
Parent = tuple[str, tuple[float, float], float]  # parent's method, its level, part received


@dataclass(frozen=True)
class TreeAttribution:
    """The attributed tree of one metric between a baseline and a period."""

    metric: str
    period: str
    baseline: str
    root: Contribution

    @property
    def residual(self) -> float:
        """Root change minus the sum of its children's contributions (0 up to rounding)."""
        if not self.root.children:
            return 0.0
        return self.root.change - math.fsum(c.contribution for c in self.root.children)

    def to_table(self) -> pd.DataFrame:
        """Depth-first rows: depth, metric, label, baseline, actual, change, contribution,
        share of the root's change, method."""
        total = self.root.change
        return pd.DataFrame(
            [
                {
                    "depth": d,
                    "metric": n.metric,
                    "label": n.label,
                    "baseline": n.baseline,
                    "actual": n.actual,
                    "change": n.change,
                    "contribution": n.contribution,
                    "share": n.contribution / total if total else float("nan"),
                    "method": n.method,
                }
                for d, n in self.root.walk()
            ]
        )


def tree_for(catalog: Catalog, metric: str) -> TreeSpec | None:
    """The first declared tree whose root is ``metric`` (trees are looked up by name too)."""
    if metric in catalog.trees:
        return catalog.trees[metric]
    return next((t for t in catalog.trees.values() if t.root == metric), None)


def _span(text: str | Span) -> tuple[str, Span]:
    if isinstance(text, tuple):
        return f"{text[0]}..{text[1]}", text
    _, start, end = parse_period(text)
    return text, (start, end)


def attribute_tree(
    con: Any,
    catalog: Catalog,
    metric: str,
    period: str | Span,
    baseline: str | Span,
    *,
    lang: str = "zh",
    max_depth: int = 4,
    where: Sequence[Condition] = (),
) -> TreeAttribution:
    """Split the change of ``metric`` from ``baseline`` to ``period`` among its drivers.

    Args:
        con: an Ibis backend holding the canonical tables.
        catalog: the catalog with the trees.
        metric: a metric (its first tree is used) or a tree name.
        period, baseline: period labels (``2025-W46``) or (start, end) date pairs.
        lang: language of the node labels.
        max_depth: how far down to follow drivers that have trees of their own.

    Raises:
        MetricError: no tree is declared for the metric.
    """
    tree = tree_for(catalog, metric)
    if tree is None:
        raise MetricError(
            f"no tree decomposes {metric!r}",
            fix=f"declare one under trees:, or use one of: {', '.join(sorted(catalog.trees))}",
        )
    p_label, p_span = _span(period)
    b_label, b_span = _span(baseline)
    cache: dict[tuple[str, Span], float] = {}

    def value(name: str, span: Span) -> float:
        if (name, span) not in cache:
            cache[(name, span)] = metric_value(con, catalog, name, *span, where=where)
        return cache[(name, span)]

    def node(
        name: str,
        label: str,
        t: TreeSpec | None,
        parent: Parent | None,
        depth: int,
        seen: frozenset[str],
    ) -> Contribution:
        v0, v1 = value(name, b_span), value(name, p_span)
        contribution = v1 - v0 if parent is None else parent[2]
        if t is None or depth >= max_depth or name in seen:
            return Contribution(name, label, v0, v1, contribution)
        drivers = _drivers(con, catalog, t, b_span, p_span, value, where, lang)
        x0 = [0.0 if math.isnan(d[2]) else d[2] for d in drivers]
        x1 = [0.0 if math.isnan(d[3]) else d[3] for d in drivers]
        parts, method = decompose(t.kind, x0, x1)
        if parent is not None:
            parts = rescale(parts, scale_factor(parent[0], parent[1], (v0, v1), parent[2]))
        level = (
            (math.prod(x0), math.prod(x1))
            if t.kind == "multiplicative"
            else (math.fsum(x0), math.fsum(x1))
        )
        children: list[Contribution] = []
        for i, ((d_name, d_label, _, _), part) in enumerate(zip(drivers, parts, strict=True)):
            if t.by is None:
                children.append(
                    node(
                        d_name,
                        d_label,
                        tree_for(catalog, d_name),
                        (method, level, part),
                        depth + 1,
                        seen | {name},
                    )
                )
            else:
                children.append(Contribution(d_name, d_label, x0[i], x1[i], part))
        return Contribution(name, label, v0, v1, contribution, method, tuple(children))

    root_label = catalog.metric(tree.root).meta.label.get(lang)
    root = node(tree.root, root_label, tree, None, 0, frozenset())
    return TreeAttribution(tree.root, p_label, b_label, root)


def _drivers(
    con: Any,
    catalog: Catalog,
    t: TreeSpec,
    b_span: Span,
    p_span: Span,
    value: Any,
    where: Sequence[Condition],
    lang: str,
) -> list[tuple[str, str, float, float]]:
    """(name, label, baseline, actual) per driver; for ``by`` trees one per dimension member."""
    if t.by is None:
        return [
            (d, catalog.metric(d).meta.label.get(lang), value(d, b_span), value(d, p_span))
            for d in t.drivers
        ]
    frames = []
    for span in (b_span, p_span):
        f = execute(
            compile_metric(
                con, catalog, t.root, grain=None, by=[t.by], start=span[0], end=span[1], where=where
            )
        )
        frames.append(f.set_index(t.by)["value"])
    both = pd.concat(frames, axis=1, keys=["b", "p"], sort=True).fillna(0.0)
    label = catalog.metric(t.root).meta.label.get(lang)
    return [
        (f"{t.root}[{t.by}={k}]", f"{label} · {k}", float(r.b), float(r.p))
        for k, r in both.iterrows()
    ]
