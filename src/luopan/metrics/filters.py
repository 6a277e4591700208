"""The structured filter grammar to Ibis, and what a filter asks of its fields.

``condition`` turns one node of the grammar (see ``luopan.metrics.spec.Condition``) into an
Ibis boolean; ``fields`` lists the fields a filter reads; ``first_only`` the fields it asks only
whether a row number is 1. Values stay literals: no SQL text is assembled.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import ibis

from luopan.metrics.spec import Condition

__all__ = ["condition", "fields", "first_only"]


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
    """Every field a condition tree names."""
    return {c.field for c in _leaves(conds) if c.field}
