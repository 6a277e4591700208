"""Resolving references (columns, dimensions, ``entity__column`` joins) and filters to Ibis.

A reference resolves like MetricFlow's: a column, dimension or computed column of the model;
``entity__column`` through a foreign entity to the model whose primary entity it is (left
join; chains such as ``order__customer__region`` allowed); or a bare name found on one joined
model (the first foreign entity in declaration order wins). Filter values are Ibis literals.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ibis

from luopan.errors import MetricError
from luopan.metrics.catalog import Catalog
from luopan.metrics.spec import Computed, Condition, Metric, SemanticModel
from luopan.tables import TABLES

__all__ = ["aggregate", "condition", "entity_ref", "fields", "resolve_ref", "with_refs"]


def resolve_ref(catalog: Catalog, model: SemanticModel, ref: str) -> tuple[tuple[str, ...], str]:
    """``ref`` → (entity hops, column of the final model's table).

    Raises:
        MetricError: the reference resolves to nothing.
    """
    dims = {d.name: d.column for d in model.dimensions}
    cols = set(TABLES[model.table].column_names) if model.table in TABLES else set()
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


def with_refs(con: Any, catalog: Catalog, model: SemanticModel, refs: set[str]) -> Any:
    """The model's table with one column per reference, named after the reference."""
    table = _table(con, model.table)
    local: dict[str, str] = {}
    for c in model.computed:
        if c.name in refs or c.name in {dict(model_dims(model)).get(r) for r in refs}:
            table = _add_computed(table, c)
    joined: dict[str, dict[str, str]] = {}
    for ref in refs:
        hops, col = resolve_ref(catalog, model, ref)
        if not hops:
            local[ref] = col
        else:
            rest = "__".join((*hops[1:], col)) if len(hops) > 1 else col
            joined.setdefault(hops[0], {})[ref] = rest
    keep = {name: table[col] for name, col in local.items()}
    fks = {e.name: e.expr for e in model.entities}
    for i, entity in enumerate(joined):
        keep[f"__fk{i}"] = table[fks[entity]]
    base = table.select(**keep) if keep else table.select(__one=ibis.literal(1))
    for i, (entity, sub) in enumerate(joined.items()):
        target = _primary_model(catalog, entity)
        assert target is not None
        right = with_refs(con, catalog, target, set(sub.values()) | {_pk(target)})
        right = right.select(
            **{f"__pk{i}": right[_pk(target)]}, **{ref: right[r] for ref, r in sub.items()}
        )
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


def model_dims(model: SemanticModel) -> list[tuple[str, str]]:
    return [(d.name, d.column) for d in model.dimensions]


def _add_computed(table: Any, c: Computed) -> Any:
    """Add a row_number column; rows failing its filter are numbered apart (NULL).

    The filtered rows are numbered on their own and the others appended with NULL, so the
    window sorts only the rows that count (walk-in orders never reach it).
    """
    spec = c.row_number

    def rank(t: Any) -> Any:
        over = ibis.row_number().over(
            group_by=[t[k] for k in spec.partition_by], order_by=[t[k] for k in spec.order_by]
        )
        return over + 1

    if not spec.filter:
        return table.mutate(**{c.name: rank(table)})
    ok = ibis.coalesce(ibis.and_(*(condition(x, lambda f: table[f]) for x in spec.filter)), False)
    kept = table.filter(ok)
    rest = table.filter(~ok).mutate(**{c.name: ibis.null("int64")})
    return kept.mutate(**{c.name: rank(kept).cast("int64")}).union(rest)


def _pk(model: SemanticModel) -> str:
    p = model.primary()
    if p is None:
        raise MetricError(f"semantic model {model.name!r} has no primary entity to join on")
    return p.expr


def condition(c: Condition, col: Any) -> Any:
    if c.all is not None:
        return ibis.and_(*(condition(x, col) for x in c.all))
    if c.any is not None:
        return ibis.or_(*(condition(x, col) for x in c.any))
    if c.not_ is not None:
        return ~condition(c.not_, col)
    x, v = col(c.field), c.value
    ops = {
        "eq": lambda: x == v,
        "ne": lambda: x != v,
        "gt": lambda: x > v,
        "ge": lambda: x >= v,
        "lt": lambda: x < v,
        "le": lambda: x <= v,
        "in": lambda: x.isin(v),
        "not_in": lambda: x.notin(v),
        "is_null": x.isnull,
        "not_null": x.notnull,
        "between": lambda: x.between(v[0], v[1]),
    }
    return ops[str(c.op)]()


def fields(conds: Sequence[Condition]) -> set[str]:
    out: set[str] = set()
    for c in conds:
        if c.field:
            out.add(c.field)
        out |= fields([*(c.all or ()), *(c.any or ()), *((c.not_,) if c.not_ else ())])
    return out


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


def entity_ref(catalog: Catalog, m: Metric, entity: str) -> str:
    model = catalog.models[str(m.model)]
    found = next((e.expr for e in model.entities if e.name == entity), None)
    if found is None:
        raise MetricError(f"metric {m.name!r}: model {model.name!r} has no entity {entity!r}")
    return found
