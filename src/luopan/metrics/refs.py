"""Resolving references (columns, dimensions, ``entity__column`` joins) and filters to Ibis.

A reference resolves like MetricFlow's: a column, dimension or computed column of the model;
``entity__column`` through a foreign entity to the model whose primary entity it is (left
join; chains such as ``order__customer__region`` allowed); or a bare name found on one joined
model (the first foreign entity in declaration order wins). Filter values are Ibis literals.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from typing import Any

import ibis

from luopan.errors import MetricError
from luopan.metrics.catalog import Catalog
from luopan.metrics.spec import Computed, Condition, Metric, RowNumber, SemanticModel
from luopan.tables import TABLES

__all__ = [
    "aggregate",
    "condition",
    "entity_ref",
    "fields",
    "first_only",
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
    rows (see ``_add_computed``), with the same result on the rows kept.

    ``within`` = (reference through an entity, lo, hi) makes the same promise for a joined
    column (e.g. ``order__ordered_at`` of an order line): that entity is joined first, as an
    inner join to its rows inside the range, so the rows the caller drops are dropped before
    the other joins (the other joins then look up only the lines of the range's orders).

    ``first_only`` names references the caller uses only in conditions that ``first_only()``
    accepts: a computed column reached by no other reference then holds 1 on its partition's
    first row and 2 on the later ones instead of its row number (see ``_first_flag``).
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
    stored = set(table.columns)
    keyed = {e.expr: e.key for e in model.entities if e.key is not None and e.key in stored}
    fks = {e.name: e.expr for e in model.entities}
    pks: dict[str, str] = {}
    for e in model.entities:
        target = _primary_model(catalog, e.name) if e.name in joined else None
        if target is None or e.expr not in keyed:
            continue
        p = target.primary()
        if p is not None and p.key is not None and p.key in _table(con, target.table).columns:
            fks[e.name], pks[e.name] = keyed[e.expr], p.key
    computed = [
        _keyed_partition(c, keyed)
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
            asks_first = bool(mine) and mine <= set(first_only) and _ends_on_key(model, c)
            table = _add_computed(table, c, span, first=asks_first)
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


def _keyed_partition(c: Computed, keyed: dict[str, str]) -> Computed:
    """``c`` with each partition column that has a stored join key replaced by the key (the
    same partitions, one-to-one; an integer hashes faster than the text)."""
    spec = c.row_number
    parts = tuple(keyed.get(p, p) for p in spec.partition_by)
    # a top-level NULL test of a keyed ID reads the key instead: NULL exactly where the ID is
    filters = tuple(
        f.model_copy(update={"field": keyed[f.field]})
        if f.field in keyed and f.op in ("is_null", "not_null")
        else f
        for f in spec.filter
    )
    if parts == spec.partition_by and filters == spec.filter:
        return c
    update = {"partition_by": parts, "filter": filters}
    return c.model_copy(update={"row_number": spec.model_copy(update=update)})


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


def _add_computed(
    table: Any, c: Computed, span: tuple[str, Any, Any] | None = None, *, first: bool = False
) -> Any:
    """Add a row_number column; rows failing its filter are numbered apart (NULL).

    The filtered rows are numbered on their own and the others appended with NULL, so the
    window sorts only the rows that count (walk-in orders never reach it).

    With a ``span`` on the first ``order_by`` column, only the rows inside it are sorted:
    every row before ``lo`` sorts ahead of them and every row from ``hi`` on after them, so
    a row's number is its number among the span's rows plus the count of its partition's
    rows before ``lo`` (a hash aggregate instead of a sort of the whole history). Rows with
    no time never reach a span (the canonical time columns are required).

    ``first`` adds only whether a row is its partition's first (1) or not (2), without the
    window (see ``_first_flag``); a row_number without partitions keeps its window.
    """
    spec = c.row_number

    def rank(t: Any) -> Any:
        over = ibis.row_number().over(
            group_by=[t[k] for k in spec.partition_by], order_by=[t[k] for k in spec.order_by]
        )
        return over + 1

    ok = None
    if spec.filter:
        ok = ibis.coalesce(
            ibis.and_(*(condition(x, lambda f: table[f]) for x in spec.filter)), False
        )
    kept = table if ok is None else table.filter(ok)
    bounded = span is not None and bool(spec.partition_by) and spec.order_by[:1] == (span[0],)
    if first and spec.partition_by:
        ranked = _first_flag(kept, spec, c.name, span if bounded else None)
    elif not bounded:
        ranked = kept.mutate(**{c.name: rank(kept).cast("int64")})
    else:
        assert span is not None
        col, lo, hi = span
        ts = kept[col].cast("timestamp")
        inside = kept
        if lo is not None:
            inside = inside.filter(ts >= lo)
        if hi is not None:
            inside = inside.filter(inside[col].cast("timestamp") < hi)
        ranked = inside.mutate(**{c.name: rank(inside).cast("int64")})
        if lo is not None:
            early = kept.filter(ts < lo)
            keys = {f"__p{i}": early[k] for i, k in enumerate(spec.partition_by)}
            before = early.group_by(**keys).aggregate(__n=early.count())
            preds = [
                ranked[k].identical_to(before[f"__p{i}"]) for i, k in enumerate(spec.partition_by)
            ]
            joined = ranked.left_join(before, preds)
            ranked = joined.select(
                *[joined[k] for k in ranked.columns if k != c.name],
                **{c.name: (joined[c.name] + joined.__n.coalesce(0)).cast("int64")},
            )
    if ok is None:
        return ranked
    rest = table.filter(~ok).mutate(**{c.name: ibis.null("int64")})
    return ranked.union(rest.select(*ranked.columns))


def _ends_on_key(model: SemanticModel, c: Computed) -> bool:
    """Whether ``c``'s order ends on the model's primary key: then no two rows tie, which
    ``_first_flag`` needs to agree with the window (a tie would give two first rows)."""
    key = model.primary()
    return key is not None and c.row_number.order_by[-1:] == (key.expr,)


def _first_flag(kept: Any, spec: RowNumber, name: str, span: tuple[str, Any, Any] | None) -> Any:
    """The rows of ``kept`` inside ``span``, with ``name`` = 1 on each partition's first row
    and 2 on the later ones: what ``row_number() == 1`` tells, by hash aggregates, no sort.

    A partition's first row holds the least ``order_by`` tuple: the least first column over
    its rows up to the span's end (when it lies before the span, no row inside is first),
    then among the rows inside at that value the least second column, and so on (one
    aggregate and one join per further column). Equal to the window's answer when the
    ``order_by`` columns are never NULL and break every tie, as (ordered_at, order_id) do.
    """
    keys, cols = spec.partition_by, spec.order_by
    scope = inside = kept
    if span is not None:
        col, lo, hi = span
        if hi is not None:
            scope = kept.filter(kept[col].cast("timestamp") < hi)
        if lo is not None:
            inside = scope.filter(scope[col].cast("timestamp") >= lo)

    def at_least(least: Any, n: int) -> list[Any]:  # inside's rows at the first n minima
        preds = [inside[p].identical_to(least[f"__p{i}"]) for i, p in enumerate(keys)]
        return preds + [inside[k] == least[f"__m{i}"] for i, k in enumerate(cols[:n])]

    groups = {f"__p{i}": scope[p] for i, p in enumerate(keys)}
    least = scope.group_by(**groups).aggregate(__m0=scope[cols[0]].min())
    for j, k in enumerate(cols[1:], 1):
        cand = inside.join(least, at_least(least, j))
        prior = [f"__p{i}" for i in range(len(keys))] + [f"__m{i}" for i in range(j)]
        least = cand.group_by(prior).aggregate(**{f"__m{j}": cand[k].min()})
    least = least.mutate(__first=1)
    joined = inside.left_join(least, at_least(least, len(cols)))
    return joined.select(
        *[joined[k] for k in inside.columns], **{name: joined.__first.coalesce(2).cast("int64")}
    )


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


# the comparisons with a constant that answer alike for every row number from 2 on
_FIRST_ONLY = {"eq": 1, "ne": 1, "le": 1, "gt": 1, "lt": 2, "ge": 2}


def first_only(conds: Sequence[Condition]) -> set[str]:
    """The fields whose every condition in ``conds`` asks only whether a row number is 1.

    ``eq 1``, ``ne 1``, ``le 1``, ``gt 1``, ``lt 2``, ``ge 2``, ``is_null`` and ``not_null``
    hold alike for every number from 2 on, so a column holding 1 on a partition's first row
    and 2 on the later ones answers them as its row number does.
    """
    leaves = list(_leaves(conds))
    return {c.field for c in leaves if c.field} - {c.field for c in leaves if not _asks_first(c)}


def _leaves(conds: Sequence[Condition]) -> Iterator[Condition]:
    for c in conds:
        if c.field:
            yield c
        yield from _leaves([*(c.all or ()), *(c.any or ()), *((c.not_,) if c.not_ else ())])


def _asks_first(c: Condition) -> bool:
    op, v = str(c.op), c.value
    if op in ("is_null", "not_null"):
        return True
    number = isinstance(v, int | float) and not isinstance(v, bool)
    return number and op in _FIRST_ONLY and v == _FIRST_ONLY[op]


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


def entity_ref(catalog: Catalog, m: Metric, entity: str, con: Any = None) -> str:
    """The column of ``m``'s model that holds ``entity``: its stored join key when ``con`` is
    given and the table holds one (see ``Entity.key``), else its ID column."""
    model = catalog.models[str(m.model)]
    found = next((e for e in model.entities if e.name == entity), None)
    if found is None:
        raise MetricError(f"metric {m.name!r}: model {model.name!r} has no entity {entity!r}")
    if con is not None and found.key is not None:
        if found.key in _table(con, model.table).columns:
            return found.key
    return found.expr
