"""Ordered funnels on DuckDB from one sort of packed event keys, without per-user lists.

Where the events hold ingest's dense user number (``USER_NO``: 0, 1, 2, … one per
``user_id``; see ``luopan.tables``), every step event becomes one ``BIGINT``

    key = user_no << (time_bits + step_bits) | (time - origin) / unit << step_bits | step

computed by a plain projection (DuckDB streams it on all threads: no hash aggregation, no
lists) and sorted once with NumPy. Sorted keys are the users' events one after another, each
user's in time order (ties in step order, as ``ORDER BY ts, idx`` in the window plan), so the
fold of ``fold.fold_ordered`` runs on slices of the one sorted array instead of on lists
(``fold_sorted``; ClickHouse ``windowFunnel``'s one pass per user, greedy step matching):

- the next step-k event at or after a position ``p`` is ``f_k[c_k[p]]``, ``f_k`` the step-k
  positions and ``c_k`` the running count of step-k events (``p`` itself is never one);
- a chain step counts while its key is at most ``entry key + (window << step_bits) | mask``:
  one comparison tests both "same user" (the user is in the high bits, and the time bits
  have room for the origin-relative time plus the window, so the bound never carries into
  the next user) and "within the window" (inclusive);
- each user keeps the furthest path, then the earliest entry: the largest
  ``reached << 27 | (2**27 - 1 - entry number)`` per user (one ``maximum.reduceat`` on
  int32; 40 bits in int64 beyond 2**27 entries in a slice).

With a breakdown, each user's value is the chosen entry event's (first touch), found after
the fold by one hash join of the chosen (user number, time) pairs to the step-1 events
(``_entry_dims``); the per-value aggregates are NumPy again.

The sorted array is folded in slices of whole users, two threads at a time (NumPy releases
the GIL in its array loops). The times are exact: the unit is 1 µs where the bits allow it,
else 1 ms or 1 s, and then the key query refuses (DuckDB ``error``) any time that is not a
whole number of units, in which case ``packed_paths`` returns ``None`` and the caller keeps
the list plan of ``fold``. It also returns ``None`` where the plan does not apply: not
DuckDB, no ``USER_NO`` column, a NULL or negative user number, a NULL time, or keys that
would not fit in 63 bits. The origin, time span and range of user numbers come from one
aggregate that DuckDB answers from the table's statistics when the events are a stored
table.

References:
    ClickHouse docs, "windowFunnel" parametric aggregate function (per-user sliding window
    over time-ordered events, greedy step matching).
    DuckDB docs, "Python API: Result conversion" (Arrow tables) and "Utility functions"
    (``error``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import duckdb
import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from luopan.engines.funnels.fold import _NAMES, _step_number, epoch_us, fold_applies, step_bits
from luopan.errors import EngineError

__all__ = [
    "USER_NO",
    "PackedPaths",
    "Packing",
    "fold_sorted",
    "packed_paths",
    "packing",
    "slices",
]

#: ingest's dense user number on events (``luopan.tables``): one per user_id, from 0
USER_NO = "_user_no"
#: events per slice folded at a time (whole users): small enough for the caches, large
#: enough that NumPy's per-call overhead is negligible
SLICE = 1 << 20
_UNITS = (1, 1_000, 1_000_000)  # µs, ms, s
_BATCH = 1 << 20  # rows per Arrow batch fetched
_LITTLE = sys.byteorder == "little"


@dataclass(frozen=True)
class Packing:
    """How a key packs an event: ``user << shift | (t_us - origin_us) // unit << bits | step``."""

    unit: int  # µs per time unit
    origin: int  # µs since 1970, a multiple of ``unit``
    bits: int  # step bits
    shift: int  # time bits + step bits

    def time_mask(self) -> int:
        return (1 << (self.shift - self.bits)) - 1


def packing(lo_us: int, hi_us: int, users: int, n: int, window_s: int) -> Packing | None:
    """The finest unit whose keys fit in 63 bits (``None``: none does).

    The time bits hold ``hi - origin + window`` so that an entry's deadline never carries
    into the user bits.
    """
    bits = step_bits(n)
    for unit in _UNITS:
        origin = (lo_us // unit) * unit
        span = (hi_us - origin) // unit + window_s * 1_000_000 // unit + 1
        shift = span.bit_length() + bits
        if shift + max(users, 1).bit_length() <= 63:
            return Packing(unit, origin, bits, shift)
    return None


def slices(keys: np.ndarray, shift: int, size: int = SLICE) -> list[tuple[int, int]]:
    """Cut sorted ``keys`` into slices of about ``size`` keys, never inside a user's keys."""
    cuts, total = [0], len(keys)
    while total - cuts[-1] > size:
        user = int(keys[cuts[-1] + size]) >> shift
        cut = int(np.searchsorted(keys, user << shift))
        if cut <= cuts[-1]:  # one user longer than a slice: cut after it
            cut = int(np.searchsorted(keys, (user + 1) << shift))
        cuts.append(cut)
    if cuts[-1] < total:
        cuts.append(total)
    return list(zip(cuts[:-1], cuts[1:], strict=True))


def fold_sorted(
    keys: np.ndarray, p: Packing, n: int, window_s: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each user's chosen ordered path from sorted packed keys (whole users only).

    Returns ``reached`` (1..n) per user with an entry, in user order, their path ``times``
    (users × n, in units from the origin; valid up to ``reached``) and their user numbers.
    """
    mask = (1 << p.bits) - 1
    if _LITTLE:  # the low byte of each key: half the cost of masking the whole key first
        step = keys.view(np.int8)[::8] & np.int8(mask)
    else:
        step = (keys & mask).astype(np.int8)
    entries = np.flatnonzero(step == 1)
    if not len(entries):
        return _none(n)
    first = keys[entries]
    bound = (first + ((window_s * 1_000_000 // p.unit) << p.bits)) | mask
    last = len(keys) - 1
    nexts = []
    at = entries
    alive = np.ones(len(entries), bool)
    reached = np.ones(len(entries), np.int32)
    for k in range(2, n + 1):
        is_k = step == k
        count: np.ndarray = np.cumsum(is_k, dtype=np.int32 if len(keys) < 2**31 else np.int64)
        following = np.append(np.flatnonzero(is_k), last)  # ``last``: none (alive says so)
        nexts.append((count, following))
        j = count[at]
        at = following[j]
        alive &= j < len(following) - 1
        alive &= keys[at] <= bound
        reached += alive
    users = first >> p.shift
    runs = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    # the largest (reached, -entry number) per user: reached in the high bits of an int32
    # (n < 16, see ``step_bits``), the entry number counted down below them
    low = (1 << 27) - 1
    if len(entries) <= low:
        score = (reached << 27) | (low - np.arange(len(entries), dtype=np.int32))
        best = np.maximum.reduceat(score, runs)
        best_reached, pick = best >> 27, low - (best & low)
    else:
        wide = (reached.astype(np.int64) << 40) | (2**40 - 1 - np.arange(len(entries)))
        top = np.maximum.reduceat(wide, runs)
        best_reached, pick = top >> 40, 2**40 - 1 - (top & (2**40 - 1))
    pos = entries[pick]
    tmask = p.time_mask()
    times = np.empty((len(runs), n), np.int64)
    times[:, 0] = (keys[pos] >> p.bits) & tmask
    for k, (count, following) in enumerate(nexts, 1):
        pos = following[count[pos]]
        times[:, k] = (keys[pos] >> p.bits) & tmask  # used up to ``reached``
    return best_reached.astype(np.int64), times, users[runs]


def _none(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.zeros(0, np.int64), np.zeros((0, n), np.int64), np.zeros(0, np.int64)


def _fold_all(keys: np.ndarray, p: Packing, n: int, window_s: int, threads: int) -> Any:
    parts = slices(keys, p.shift)
    with ThreadPoolExecutor(max(1, threads)) as pool:
        done = list(pool.map(lambda ab: fold_sorted(keys[ab[0] : ab[1]], p, n, window_s), parts))
    if not done:
        return _none(n)
    return tuple(np.concatenate([part[i] for part in done]) for i in range(3))


@ibis.udf.scalar.builtin(name="divide")
def _div(a: dt.int64, b: dt.int64) -> dt.int64:
    """DuckDB ``divide``: integer division of two BIGINTs (exact; no DOUBLE)."""


@ibis.udf.scalar.builtin(name="error")
def _refuse(message: str) -> dt.int64:
    """DuckDB ``error``: raise with ``message`` (the key query's guard)."""


_GUARD = "luopan funnel: a time that is not a whole number of the packing unit"


def _threads(con: Any) -> int:
    row = con.execute("SELECT current_setting('threads')").fetchone()
    return int(row[0]) if row else os.cpu_count() or 1


@dataclass(frozen=True)
class PackedPaths:
    """Each entered user's chosen path: ``reached`` (1..n), ``times`` (users × n, in
    ``packing`` units from its origin; valid up to ``reached``), the user numbers, and with a
    breakdown ``dims``, the entry event's value (first touch)."""

    reached: np.ndarray
    times: np.ndarray
    packing: Packing
    users: np.ndarray
    dims: np.ndarray | None = None

    def groups(self) -> list[tuple[str, np.ndarray | None]]:
        """``("(all)", None)`` then, with a breakdown, each value (sorted as ``funnel``
        sorts them) with its users' rows."""
        out: list[tuple[str, np.ndarray | None]] = [("(all)", None)]
        if self.dims is not None and len(self.dims):
            values, codes = np.unique(self.dims, return_inverse=True)
            order = np.argsort(codes, kind="stable")
            cuts = np.searchsorted(codes[order], np.arange(len(values) + 1))
            out += [
                (str(v), order[a:b]) for v, a, b in zip(values, cuts[:-1], cuts[1:], strict=True)
            ]
        return out

    def summary(self, uppers: Sequence[float], rows: np.ndarray | None = None) -> dict[str, Any]:
        """The funnel's per-step aggregate, as ``funnel._aggregate`` computes it from paths:
        users reaching each step, median and mean whole seconds from the entry to it, and
        the full conversions per time-to-convert bucket (``uppers``: inclusive bounds);
        over the users ``rows`` (all by default)."""
        n = self.times.shape[1]
        p = self.packing
        times = self.times if rows is None else self.times[rows]
        reached = self.reached if rows is None else self.reached[rows]
        secs = (times * p.unit + p.origin) // 1_000_000  # floored, as date_trunc
        since = secs - secs[:, :1]
        out: dict[str, Any] = {}
        for k in range(1, n + 1):
            d = since[reached >= k, k - 1]
            out[f"users_{k}"] = len(d)
            out[f"median_{k}"] = float(np.median(d)) if len(d) else None
            out[f"mean_{k}"] = float(d.mean()) if len(d) else None
        full = since[reached == n, n - 1]
        lower = -1.0
        for i, upper in enumerate(uppers):
            hit = full > lower
            if upper != float("inf"):
                hit &= full <= upper
            out[f"ttc_{i}"] = int(hit.sum())
            lower = upper
        return out


def packed_paths(
    events: ir.Table,
    steps: Sequence[str],
    window_s: int,
    *,
    entered: tuple[Any, Any] | None = None,
    by: str | None = None,
) -> PackedPaths | None:
    """Each entered user's chosen ordered path, or ``None`` where the plan does not apply
    (see the module docstring: use the list plan of ``fold`` then).

    The same paths as ``fold.fold_paths``, users in ``USER_NO`` order. With ``by``, each
    user's breakdown value is looked up after the fold (``_entry_dims``).
    """
    n = len(steps)
    if USER_NO not in events.columns:
        return None
    ev = events.select(u=events[USER_NO], ts=events.event_time, name=events.event_name)
    if not fold_applies(events, ev) or not ev.u.type().is_integer():
        return None
    con = ibis.get_backend(events).con
    stats = ev.aggregate(
        lo=epoch_us(ev.ts.min()),
        hi=epoch_us(ev.ts.max()),
        users=ev.u.max(),
        low=ev.u.min(),
        nulls=ev.count() * 2 - ev.ts.count() - ev.u.count(),
        rows=ev.count(),
    )
    row = stats.to_pyarrow().to_pylist()[0]
    if row["lo"] is None:  # no events
        reached, times, users = _none(n)
        dims = np.zeros(0, object) if by else None
        return PackedPaths(reached, times, Packing(1, 0, step_bits(n), 63), users, dims)
    if row["nulls"] or row["low"] < 0:  # ingest numbers from 0
        return None
    p = packing(int(row["lo"]), int(row["hi"]), int(row["users"]), n, window_s)
    if p is None:
        return None
    named = ev.mutate(step=_step_number(ibis.literal(list(steps), type=_NAMES), ev.name))
    rows = named.filter(named.step.notnull())
    if entered is not None:
        lo, hi = entered
        rows = rows.filter((rows.step != 1) | ((rows.ts >= lo) & (rows.ts < hi)))
    us = epoch_us(rows.ts) - p.origin
    if p.unit > 1:
        whole = ibis.ifelse(us % p.unit == 0, us, _refuse(ibis.literal(_GUARD)))
        t = _div(whole, ibis.literal(p.unit, "int64"))
    else:
        t = us
    key = (rows.u.cast("int64") << p.shift) | (t << p.bits) | rows.step.cast("int64")
    sql = ibis.to_sql(rows.select(k=key), dialect="duckdb")
    keys = np.empty(int(row["rows"]), np.int64)  # at most one key per event
    at = 0
    try:
        # batches streamed into the one array: no whole Arrow table besides it
        for batch in con.execute(str(sql)).to_arrow_reader(_BATCH):
            keys[at : at + batch.num_rows] = batch.column(0).to_numpy()
            at += batch.num_rows
    except duckdb.InvalidInputException as exc:
        if _GUARD in str(exc):
            return None
        raise
    keys = keys[:at]
    keys.sort()
    reached, times, users = _fold_all(keys, p, n, window_s, _threads(con))
    del keys
    dims = None
    if by is not None:
        entry_us = times[:, 0] * p.unit + p.origin
        dims = _entry_dims(events, steps[0], by, users, entry_us)
    return PackedPaths(reached, times, p, users, dims)


def _entry_dims(
    events: ir.Table, entry: str, by: str, users: np.ndarray, entry_us: np.ndarray
) -> np.ndarray:
    """Each chosen entry's breakdown value (first touch), in the order of ``users``.

    The entry events at the chosen (user number, µs) are joined back on the two integers
    (DuckDB builds the hash table on the chosen entries, one per user, and streams the
    step-1 events). Entries of one user at the same instant reach the same steps (they
    share every later event); the fold's tie rule keeps the smallest value among them, as
    ``min`` does here. The value as ``paths.base`` makes it: text, NULL as ``"(none)"``.
    """
    chosen = ibis.memtable(pa.table({"cu": users, "ct": entry_us}))
    dim = events[by].cast("string").fill_null("(none)")
    rows = events.filter(events.event_name == entry).select(
        u=events[USER_NO].cast("int64"), t=epoch_us(events.event_time), dim=dim
    )
    got = (
        chosen.join(rows, [chosen.cu == rows.u, chosen.ct == rows.t])
        .group_by("cu")
        .aggregate(dim=rows.dim.min())
        .order_by("cu")
        .to_pyarrow()
    )
    found = got.column("cu").to_numpy()
    if len(found) != len(users) or not np.array_equal(found, users):
        raise EngineError("funnel: a chosen entry event was not found again for its breakdown")
    return np.asarray(got.column("dim").to_pylist(), dtype=object)
