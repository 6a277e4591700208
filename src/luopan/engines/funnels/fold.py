"""Ordered funnel paths on DuckDB in one pass per user: a fold over each user's sorted steps.

The portable plan (``paths.ordered_paths``) sorts the step rows once per step (a backward
window pass each) and once more to pick each user's path, and DuckDB's partitioned sorts are
its whole cost. On DuckDB the same paths come from one hash aggregation instead: each user's
step events become one list of ``BIGINT`` keys ``epoch_us(ts) << bits | step`` (``bits``
holding 1..n, see ``step_bits``; the step by one ``list_position`` lookup), and a
vectorized Arrow UDF sorts every list (so ties at the same microsecond keep step order, as
the window's ``ORDER BY ts, idx`` does; one NumPy sort of the packed lists, see
``sort_lists``; with a breakdown, DuckDB's ``list_sort`` orders the (key, breakdown) pairs)
and folds it:

- ``next_k[i]``, the first step-k event at or after position ``i``: each step-k position
  repeated over the positions since the previous one (one ``np.repeat`` per step, looked
  up only at the chains' current positions);
- the greedy chain of an entry at ``t0`` is ``t2 = next_2(t0)``, ``t3 = next_3(t2)``, … —
  the earliest step k at or after step k-1 (the same chain as ``ordered_paths``); the steps
  at or before ``t0 + window`` are its prefix, since the chain is non-decreasing;
- each user keeps the path reaching the furthest step, then the earliest entry, then the
  smallest breakdown value (entries of equal time sort by their breakdown in the list).

It is ClickHouse's ``windowFunnel`` strategy (one pass over a user's events in time order,
the steps matched greedily) extended to return the chosen path's times, which the
``funnel`` statistics need. Results are identical to ``ordered_paths`` + the ``row_number``
pick; the tests run both on the same tables.

Used by ``funnel`` only where it is exact: DuckDB, an ordered funnel without exclusion
steps, and a naive ``timestamp`` with at most microsecond precision. Everything else (Spark,
strict and any-order modes, exclusions, time zones, nanoseconds, and the lazy expressions of
``funnel_paths``) keeps the portable plan. The expression is plain Ibis; the UDF is
registered under a unique name for one ``fold_udf`` block (see there). A time whose key
overflows ``BIGINT`` (tens of thousands of years from 1970) makes DuckDB raise, never a
wrong path.

References:
    ClickHouse docs, "windowFunnel" parametric aggregate function (per-user sliding window
    over time-ordered events, greedy step matching).
    DuckDB docs, "Python Function API" (vectorized Arrow scalar UDFs) and "List Functions"
    (``list_sort``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

__all__ = [
    "USER_KEY",
    "fold_applies",
    "fold_ordered",
    "fold_paths",
    "fold_udf",
    "sort_lists",
    "step_bits",
]

_TS = dt.Timestamp(scale=6)
_KEYS = dt.Array(dt.int64)
_NAMES = dt.Array(dt.string)
_KEYED = dt.Array(dt.Struct({"k": dt.int64, "d": dt.string}))
_OUT = dt.Struct({"reached": dt.int64, "dim": dt.string, "t": dt.Array(_TS)})
_OUT_ARROW = pa.struct(
    [("reached", pa.int64()), ("dim", pa.string()), ("t", pa.list_(pa.timestamp("us")))]
)
#: the stored user key (``luopan.tables``: ingest writes it from ``user_id`` and checks that
#: each key stands for one ID), which the fold groups on where the events hold it
USER_KEY = "_user_key"
# the same types as DuckDB spells them, for the registration
_SQL_KEYS, _SQL_KEYED = "BIGINT[]", "STRUCT(k BIGINT, d VARCHAR)[]"
_SQL_OUT = "STRUCT(reached BIGINT, dim VARCHAR, t TIMESTAMP[])"
# keys per NumPy sort in ``sort_lists``: a whole UDF batch (2048 lists) in one sort; NumPy 2's
# SIMD sort made that faster than runs of 256 keys (10M events: 3.4-3.8 s wall, 2.9-3.1 s
# CPU against 4.0-5.4 and 3.0-3.6, alternating runs)
SORT_RUN = 1 << 20


def fold_applies(events: ir.Table, ev: ir.Table) -> bool:
    """Whether ``fold_paths`` is exact for these events: DuckDB and a naive µs timestamp."""
    try:
        backend = ibis.get_backend(events)
    except ibis.common.exceptions.IbisError:
        return False
    t = ev.ts.type()
    return (
        getattr(backend, "name", None) == "duckdb"
        and t.is_timestamp()
        and t.timezone is None
        and (t.scale is None or t.scale <= 6)
    )


def step_bits(n: int) -> int:
    """Low bits of a fold key that hold its step (1..n): ``key = epoch_us << bits | step``."""
    return n.bit_length()


def fold_ordered(
    offsets: np.ndarray, keys: np.ndarray, n: int, window_us: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fold sorted step keys, one list per user, into each user's chosen ordered path.

    Args:
        offsets: list boundaries (``len = users + 1``) into ``keys``.
        keys: ``epoch_us << step_bits(n) | step`` (step 1..n), ascending within each list;
            ``0`` marks an entry without a time (it enters no path: reached 0).
        n: number of steps.
        window_us: the conversion window in microseconds (inclusive).

    Returns:
        ``reached`` per list (-1: no entry), ``times`` (lists × n, µs; valid up to
        ``reached``) and ``chosen``, the position of the chosen entry in ``keys`` (-1: none).
    """
    m = len(offsets) - 1
    size = len(keys)
    bits = step_bits(n)
    ts = keys >> bits  # a floor division, as the key's step bits are its remainder
    idx = keys & ((1 << bits) - 1)
    entries = np.flatnonzero(idx == 1)
    seg = np.repeat(np.arange(m, dtype=np.int64), np.diff(offsets))  # the list of each key
    e_seg = seg[entries]
    stop = offsets[1:][e_seg]  # end of each entry's own list
    deadline = ts[entries] + window_us
    reached = np.ones(len(entries), np.int64)
    alive = np.ones(len(entries), bool)
    at = entries
    nexts = []
    for k in range(2, n + 1):
        # the first step-k position at or after every position (``size``: none): each step-k
        # position repeated over the positions since the previous one. A chain position is
        # never a step-k row, and it may run into the next list (``stop`` ends the chain);
        # a chain keeps moving after it ends, but ``alive`` never comes back
        following = np.append(np.flatnonzero(idx == k), size)
        nxt = np.repeat(following, np.diff(following, prepend=-1))  # size + 1 positions
        nexts.append(nxt)
        at = nxt[at]
        alive &= at < stop
        alive &= ts.take(at, mode="clip") <= deadline  # ``size`` (none): ended above
        reached += alive

    best = np.full(m, -1, np.int64)
    chosen = np.full(m, -1, np.int64)
    times_out = np.zeros((m, n), np.int64)
    if len(entries):
        runs = np.flatnonzero(np.r_[True, e_seg[1:] != e_seg[:-1]])
        top = np.maximum.reduceat(reached, runs)
        cand = np.flatnonzero(reached == np.repeat(top, np.diff(np.r_[runs, len(entries)])))
        c_seg = e_seg[cand]
        first = cand[np.r_[True, c_seg[1:] != c_seg[:-1]]]  # earliest entry reaching the top
        users = e_seg[first]
        best[users] = reached[first]
        # the chosen entries' chains again (one per user), for their times
        pos = entries[first]
        chosen[users] = pos
        times_out[users, 0] = ts[pos]
        for k, nxt in enumerate(nexts, 1):
            pos = nxt[pos]
            times_out[users, k] = ts.take(pos, mode="clip")  # used up to ``reached``
    untimed = np.flatnonzero(idx == 0)
    if len(untimed):
        u_seg = seg[untimed]
        head = np.r_[True, u_seg[1:] != u_seg[:-1]]
        first_u, users = untimed[head], u_seg[head]
        only = best[users] == -1  # timed entries always win (reached >= 1)
        best[users[only]] = 0
        chosen[users[only]] = first_u[only]
    return best, times_out, chosen


def _to_arrow(
    best: np.ndarray, times: np.ndarray, dims: pa.Array | None, chosen: np.ndarray
) -> pa.StructArray:
    m, n = times.shape
    valid = best >= 0
    step_ok = np.arange(1, n + 1)[None, :] <= best[:, None]
    values = pa.array(times.ravel(), pa.timestamp("us"), mask=~step_ok.ravel())
    t = pa.ListArray.from_arrays(pa.array(np.arange(0, m * n + 1, n, dtype=np.int32)), values)
    if dims is None:
        dim = pa.nulls(m, pa.string())
    else:
        dim = dims.take(pa.array(np.where(valid, chosen, 0), mask=~valid))
    reached = pa.array(best, pa.int64(), mask=~valid)
    return pa.StructArray.from_arrays(
        [reached, dim, t], fields=list(_OUT_ARROW), mask=pa.array(~valid)
    )


def sort_lists(offsets: np.ndarray, keys: np.ndarray, *, chunk: int = SORT_RUN) -> np.ndarray:
    """``keys`` with each list (``offsets``) sorted ascending; the lists keep their places.

    One NumPy sort of ``list number * span + (key - min)`` when that fits in 62 bits (keys of
    one batch of 2048 lists spanning less than about 9 years for 4 to 7 steps), else a
    lexsort. The packed keys are sorted in place by runs of whole lists of about ``chunk``
    keys (a run never mixes with its neighbours): one run per batch by default.
    """
    if len(keys) == 0:
        return keys
    seg = np.repeat(np.arange(len(offsets) - 1, dtype=np.int64), np.diff(offsets))
    lo = int(keys.min())
    span = int(keys.max()) - lo + 1
    if span * (len(offsets) - 1) < 2**62:
        packed = seg * span + (keys - lo)
        starts = offsets[np.searchsorted(offsets, np.arange(0, len(keys), chunk))]
        cuts = np.unique(np.append(starts, len(keys))).tolist()
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            packed[a:b].sort()
        return packed - seg * span + lo
    return keys[np.lexsort((keys, seg))]


def _fold_arrow(keys: Any, n: Any, window_us: Any) -> pa.StructArray:
    """The Arrow UDF: one key list per user in, one chosen path per user out.

    Plain key lists are sorted here (cheaper than DuckDB's ``list_sort``); (key, breakdown)
    lists arrive sorted by ``list_sort``, which orders equal keys by breakdown.
    """
    lists = keys.combine_chunks() if isinstance(keys, pa.ChunkedArray) else keys
    offsets = lists.offsets.to_numpy().astype(np.int64)
    offsets -= offsets[0]
    flat = lists.flatten()
    if pa.types.is_struct(flat.type):
        values = flat.field("k").to_numpy(zero_copy_only=False).astype(np.int64)
        dims = flat.field("d")
    else:
        plain = flat.to_numpy(zero_copy_only=False).astype(np.int64)
        values = sort_lists(offsets, plain, chunk=SORT_RUN)
        dims = None
    best, times, chosen = fold_ordered(
        offsets, values, int(n[0].as_py()), int(window_us[0].as_py())
    )
    return _to_arrow(best, times, dims, chosen)


@contextmanager
def fold_udf(events: ir.Table, *, by: bool) -> Iterator[Callable[..., ir.Value]]:
    """Register the fold UDF on the events' DuckDB connection for the duration of the block.

    Python UDFs live in the database's shared catalog, and one left behind by a connection
    that is then closed crashes any later call (and blocks a new registration under the same
    name), so each block registers its own uniquely named function and removes it at the end:
    execute the expressions built with it inside the block.
    """
    con = ibis.get_backend(events).con
    name = f"luopan_funnel_fold_{uuid.uuid4().hex}"
    con.create_function(
        name,
        _fold_arrow,
        parameters=[_SQL_KEYED if by else _SQL_KEYS, "BIGINT", "BIGINT"],
        return_type=_SQL_OUT,
        type="arrow",
        null_handling="special",
    )
    try:
        signature = ((_KEYED if by else _KEYS, dt.int64, dt.int64), _OUT)
        yield ibis.udf.scalar.builtin(_declared, name=name, signature=signature)
    finally:
        con.remove_function(name)


def _declared(keys: Any, n: Any, window_us: Any) -> Any:
    """The Ibis declaration of the registered function (its body runs in ``_fold_arrow``)."""


@ibis.udf.scalar.builtin
def epoch_us(ts: _TS) -> dt.int64:  # type: ignore[valid-type]
    """DuckDB ``epoch_us``: whole microseconds since 1970-01-01 (exact)."""


@ibis.udf.scalar.builtin(name="list_position")
def _step_number(names: _NAMES, name: str) -> dt.int32:  # type: ignore[valid-type]
    """DuckDB ``list_position``: the 1-based place of ``name`` in ``names``, NULL if absent."""


@ibis.udf.scalar.builtin(name="list_sort")
def _sort_keyed(keys: _KEYED, order: str, nulls: str) -> _KEYED:  # type: ignore[valid-type]
    """DuckDB ``list_sort`` of (key, breakdown) pairs, by key then breakdown, in an explicit
    order (immune to the ``default_order`` setting)."""


def fold_paths(
    ev: ir.Table,
    steps: Sequence[str],
    window: int,
    *,
    by: bool,
    udf: Callable[..., ir.Value],
    entered: tuple[Any, Any] | None = None,
    ids: bool = True,
) -> ir.Table:
    """One row per user in an ordered funnel: uid, dim, t1..tn, reached (as ``funnel_paths``).

    Args:
        ev: events after ``paths.base`` (uid, ts, name, dim), and ``ukey``, the stored user key
            (``USER_KEY``), where the events hold one: the users are grouped on it instead of
            the text.
        steps: the step names, in order.
        window: the conversion window in seconds.
        by: whether ``dim`` is a breakdown (else it is the constant ``"(all)"``).
        udf: the function yielded by ``fold_udf`` (same ``by``); execute the result inside
            its block.
        entered: ``(lo, hi)`` datetimes: only entries with ``lo <= t1 < hi``.
        ids: whether to return ``uid``; without it (``funnel``, which counts), grouping on
            ``ukey`` reads no ID at all. With it, ``uid`` is any ID of the group (its one ID).
    """
    n = len(steps)
    # the step number by one list lookup, NULL for other names (exact and case-sensitive,
    # as ``=``), where a CASE of string comparisons and an IN filter test every row: the
    # list aggregation of 10M events took 1.5-1.6 s CPU on one thread against 1.7-2.2
    named = ev.mutate(step=_step_number(ibis.literal(list(steps), type=_NAMES), ev.name))
    rows = named.filter(named.step.notnull())
    if entered is not None:
        lo, hi = entered
        rows = rows.filter((rows.step != 1) | ((rows.ts >= lo) & (rows.ts < hi)))
    # a step without a time follows nothing (the window plan sorts it last, after every
    # entry); an entry without one stays, as the window plan keeps it (reached 0)
    rows = rows.filter(rows.ts.notnull() | (rows.step == 1))
    is_entry = rows.step == 1
    step = rows.step.cast("int64")
    key = ibis.ifelse(rows.ts.isnull(), 0, epoch_us(rows.ts) * (1 << step_bits(n)) + step)
    window_us = window * 1_000_000
    # keys are never NULL (no FILTER clause); users without an entry are left out before the
    # fold, so that no filter on its result makes DuckDB evaluate it twice
    if by:
        pair = ibis.struct({"k": key, "d": ibis.ifelse(is_entry, rows.dim, ibis.null("string"))})
        keys = pair.collect(include_null=True)
    else:
        keys = key.collect(include_null=True)
    # "has an entry" as the smallest step number: cheaper than a BOOL_OR of another string
    # comparison (0.5 s CPU less in the 6 s aggregation of 30M events, with the CASE)
    aggs: dict[str, ir.Value] = {"keys": keys, "lowest": step.min()}
    if "ukey" in ev.columns:
        # a BIGINT hashes and compares faster than the text: the list aggregation of 10M
        # events took 1.1-1.2 s CPU against 1.4-1.6 (2 threads)
        group = "ukey"
        if ids:
            aggs["uid"] = rows.uid.arbitrary()
    else:
        group = "uid"
    lists = rows.group_by(group).aggregate(**aggs)
    lists = lists.filter(lists.lowest == 1)
    # (key, breakdown) pairs are sorted here; plain keys more cheaply inside the UDF
    ordered = _sort_keyed(lists["keys"], "ASC", "NULLS LAST") if by else lists["keys"]
    uid = lists.uid if ids else ibis.null("string")
    folded = lists.select(uid=uid, s=udf(ordered, n, window_us))
    ts_type = ev.ts.type()
    times = {f"t{k}": folded.s.t[k - 1].cast(ts_type) for k in range(1, n + 1)}
    dim = folded.s.dim if by else ibis.literal("(all)")
    return folded.select("uid", dim=dim, **times, reached=folded.s.reached)
