"""Resolving references (columns, dimensions, ``entity__column`` joins) and filters to Ibis.

Computed (row-number) columns are built by :mod:`luopan.metrics.computed`, filters by
:mod:`luopan.metrics.filters` (re-exported here). A reference resolves like MetricFlow's: a column, dimension or computed column of the model;
``entity__column`` through a foreign entity to the model whose primary entity it is (left
join; chains such as ``order__customer__region`` allowed); or a bare name found on one joined
model (the first foreign entity in declaration order wins). Filter values are Ibis literals.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import ibis

from luopan.errors import MetricError
from luopan.metrics.catalog import Catalog
from luopan.metrics.computed import add_computed, ends_on_key, keyed_partition
from luopan.metrics.filters import condition, fields, first_only
from luopan.metrics.spec import Metric, SemanticModel
from luopan.tables import TABLES

__all__ = [
    "aggregate",
    "condition",
    "entity_ref",
    "fields",
    "first_only",
    "keyed_ids",
    "resolve_ref",
    "with_refs",
]


def resolve_ref(catalog: Catalog, model: SemanticModel, ref: str) -> tuple[tuple[str, ...], str]:
    """``ref`` → (entity hops, column of the final model's table).

    Raises:
        MetricError: the reference resolves to nothing.
    """
    dims = {d.name: d.column for d in model.dimensions}
    t = TABLES.get(model.table)
    cols = {*t.column_names, *t.join_key_names} if t is not None else set()
    if ref in dims:
        return (), dims[ref]
    if ref in cols or ref in {c.name for c in model.computed}:
        return (), ref
    foreign = [e for e in model.entities if e.type in ("foreign", "natural")]
    head, sep, rest = ref.partition("__")
    if sep:
        entity = next((e for e in foreign if e.name == head), None)
        target = _primary_model(catalog, head)
        if entity is not None and target is not None:
            hops, col = resolve_ref(catalog, target, rest)
            return (head, *hops), col
    else:
        for entity in foreign:
            target = _primary_model(catalog, entity.name)
            if target is not None and (
                ref in {d.name for d in target.dimensions}
                or ref in set(TABLES[target.table].column_names)
            ):
                hops, col = resolve_ref(catalog, target, ref)
                return (entity.name, *hops), col
    raise MetricError(
        f"{ref!r} is neither a column nor a dimension of model {model.name!r}",
        fix=f"use one of: {', '.join(sorted({*dims, *cols}))}, or entity__column through "
        f"{', '.join(e.name for e in foreign) or 'a foreign entity'}",
    )


def _primary_model(catalog: Catalog, entity: str) -> SemanticModel | None:
    for m in catalog.models.values():
        p = m.primary()
        if p is not None and p.name == entity:
            return m
    return None


def with_refs(
    con: Any,
    catalog: Catalog,
    model: SemanticModel,
    refs: set[str],
    *,
    span: tuple[str, Any, Any] | None = None,
    within: tuple[str, Any, Any] | None = None,
    first_only: Collection[str] = (),
) -> Any:
    """The model's table with one column per reference, named after the reference.

    ``span`` = (time column, lo, hi) promises that the caller keeps only rows with
    lo <= column < hi (either bound may be None): computed columns then number just those
    rows (see ``luopan.metrics.computed.add_computed``), with the same result on the rows kept.

    ``within`` = (reference through an entity, lo, hi) makes the same promise for a joined
    column (e.g. ``order__ordered_at`` of an order line): that entity is joined first, as an
    inner join to its rows inside the range, so the rows the caller drops are dropped before
    the other joins (the other joins then look up only the lines of the range's orders).

    ``first_only`` names references the caller uses only in conditions that ``first_only()``
    accepts: a computed column reached by no other reference then holds 1 on its partition's
    first row and 2 on the later ones instead of its row number (see ``luopan.metrics.computed.first_flag``).
    """
    table = _table(con, model.table)
    local: dict[str, str] = {}
    joined: dict[str, dict[str, str]] = {}
    for ref in refs:
        hops, col = resolve_ref(catalog, model, ref)
        if not hops:
            local[ref] = col
        else:
            rest = "__".join((*hops[1:], col)) if len(hops) > 1 else col
            joined.setdefault(hops[0], {})[ref] = rest
    # joins in the order the entities are declared, the bounded one first
    order = [e.name for e in model.entities]
    first = resolve_ref(catalog, model, within[0])[0][:1] if within is not None else ()
    joined = dict(sorted(joined.items(), key=lambda kv: ((kv[0],) != first, order.index(kv[0]))))
    keyed = keyed_ids(con, model)
    fks = {e.name: e.expr for e in model.entities}
    pks: dict[str, str] = {}  # entity → the target's key, where both sides hold one
    for e in model.entities:
        target = _primary_model(catalog, e.name) if e.name in joined else None
        p = target.primary() if target is not None else None
        if target is not None and p is not None and e.expr in keyed:
            if p.key is not None and keyed_ids(con, target).get(p.expr) == p.key:
                fks[e.name], pks[e.name] = keyed[e.expr], p.key
    computed = [
        keyed_partition(c, keyed)
        for c in model.computed
        if c.name in refs or c.name in local.values()
    ]
    if computed:
        # only the columns used go through the window: it sorts every column it carries
        names = {c.name for c in computed}
        used = {col for col in local.values() if col not in names}
        used |= {fks[e] for e in joined}
        for c in computed:
            spec = c.row_number
            used |= {*spec.partition_by, *spec.order_by, *fields(spec.filter)}
        table = table.select(*[col for col in table.columns if col in used])
        for c in computed:
            mine = {ref for ref, col in local.items() if col == c.name}
            asks_first = bool(mine) and mine <= set(first_only) and ends_on_key(model, c)
            table = add_computed(table, c, span, first=asks_first)
    keep = {name: table[col] for name, col in local.items()}
    for i, entity in enumerate(joined):
        keep[f"__fk{i}"] = table[fks[entity]]
    base = table.select(**keep) if keep else table.select(__one=ibis.literal(1))
    for i, (entity, sub) in enumerate(joined.items()):
        target = _primary_model(catalog, entity)
        assert target is not None
        pk = pks.get(entity, _pk(target))
        right = with_refs(con, catalog, target, set(sub.values()) | {pk})
        right = right.select(**{f"__pk{i}": right[pk]}, **{ref: right[r] for ref, r in sub.items()})
        bounds = []
        if within is not None and within[0] in sub:
            ts = right[within[0]].cast("timestamp")
            if within[1] is not None:
                bounds.append(ts >= within[1])
            if within[2] is not None:
                bounds.append(ts < within[2])
        if bounds:  # a line whose order lies outside the range (or is missing) is dropped
            right = right.filter(*bounds)
            base = base.join(right, base[f"__fk{i}"] == right[f"__pk{i}"])
        else:
            base = base.left_join(right, base[f"__fk{i}"] == right[f"__pk{i}"])
        base = base.select(*[c for c in base.columns if c not in (f"__fk{i}", f"__pk{i}")])
    return base


def _table(con: Any, name: str) -> Any:
    """``con.table(name)``, remembered per backend object (each lookup asks the backend for a
    schema). Kept on the backend itself: backends on the same file compare equal, so a
    dictionary keyed by backend would hand a closed backend's tables to a new one."""
    try:
        cache: dict[str, Any] = con.__dict__.setdefault("_luopan_tables", {})
    except AttributeError:  # a backend without an instance dict
        return con.table(name)
    if name not in cache:
        cache[name] = con.table(name)
    return cache[name]


def _pk(model: SemanticModel) -> str:
    p = model.primary()
    if p is None:
        raise MetricError(f"semantic model {model.name!r} has no primary entity to join on")
    return p.expr


def aggregate(agg: str | None, v: Any) -> Any:
    """The Ibis aggregate of a column for a catalog ``agg``."""
    if agg == "sum":
        return v.sum()
    if agg == "count":
        return v.count()
    if agg == "count_distinct":
        return v.nunique()
    if agg == "average":
        return v.cast("float64").mean()
    if agg == "min":
        return v.min()
    if agg == "max":
        return v.max()
    return v.cast("int64").sum()  # sum_boolean


def entity_ref(catalog: Catalog, m: Metric, entity: str, con: Any = None) -> str:
    """The column of ``m``'s model that holds ``entity``: its stored join key when ``con`` is
    given and the table holds one (see ``Entity.key``), else its ID column."""
    model = catalog.models[str(m.model)]
    found = next((e for e in model.entities if e.name == entity), None)
    if found is None:
        raise MetricError(f"metric {m.name!r}: model {model.name!r} has no entity {entity!r}")
    return keyed_ids(con, model).get(found.expr, found.expr) if con is not None else found.expr


def keyed_ids(con: Any, model: SemanticModel) -> dict[str, str]:
    """ID column → its stored join key, for the model's entities whose table holds the key
    (``Entity.key``: one-to-one with the ID, NULL where it is NULL)."""
    stored = set(_table(con, model.table).columns)
    return {e.expr: e.key for e in model.entities if e.key is not None and e.key in stored}
