"""Computed columns: a row number per partition, added to a model's table before any filter.

``add_computed`` numbers the rows (a window; only the span's rows when the caller keeps a time
range); ``first_flag`` answers ``row_number = 1`` by hash aggregates without the window, when
the caller asks nothing more (``luopan.metrics.filters.first_only``) and the order breaks every
tie (``ends_on_key``). ``keyed_partition`` partitions on stored join keys where the table has
them. Used by ``luopan.metrics.refs.with_refs``.
"""

from __future__ import annotations

from typing import Any

import ibis

from luopan.metrics.filters import condition
from luopan.metrics.spec import Computed, RowNumber, SemanticModel

__all__ = ["add_computed", "ends_on_key", "first_flag", "keyed_partition"]


def keyed_partition(c: Computed, keyed: dict[str, str]) -> Computed:
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


def add_computed(
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
    window (see ``first_flag``); a row_number without partitions keeps its window.
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
        ranked = first_flag(kept, spec, c.name, span if bounded else None)
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


def ends_on_key(model: SemanticModel, c: Computed) -> bool:
    """Whether ``c``'s order ends on the model's primary key: then no two rows tie, which
    ``first_flag`` needs to agree with the window (a tie would give two first rows)."""
    key = model.primary()
    return key is not None and c.row_number.order_by[-1:] == (key.expr,)


def first_flag(kept: Any, spec: RowNumber, name: str, span: tuple[str, Any, Any] | None) -> Any:
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
