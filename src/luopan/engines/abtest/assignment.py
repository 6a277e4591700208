"""Deterministic assignment by hashing: namespaces, layers and holdouts.

A unit's bucket is a pure function of (unit id, salt): SHA-256 of ``"{salt}:{unit_id}"`` read as
a 64-bit integer and scaled to [0, 1). The same unit always lands in the same arm on any machine
and in any language that can compute SHA-256, with no assignment table to store.

Concurrent tests share traffic through layers: a layer hashes units once with its own salt into
[0, 1); each experiment in the layer owns a disjoint range (its namespace), so tests in one layer
never overlap, while tests in different layers overlap independently (their interaction can be
checked). A holdout is a range kept out of every experiment in the layer. Within its range an
experiment re-hashes with its own salt to split units into variants by weight.

References:
    Tang, D., Agarwal, A., O'Brien, D., Meyer, M. (2010). Overlapping experiment
    infrastructure: more, better, faster experimentation. KDD 2010 (layers, domains).
    Kohavi, R., Tang, D., Xu, Y. (2020). Trustworthy Online Controlled Experiments, ch. 4
    (hash-based assignment).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from luopan.errors import ConfigError

__all__ = ["ExperimentSlot", "Layer", "assign", "bucket"]


def bucket(unit_id: str, salt: str) -> float:
    """Uniform [0, 1) number from SHA-256 of ``salt:unit_id`` (first 8 bytes, big-endian)."""
    digest = hashlib.sha256(f"{salt}:{unit_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def _check_weights(weights: Sequence[float]) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    if w.size < 2 or (w < 0).any() or w.sum() <= 0:
        raise ConfigError(
            f"variant weights {list(weights)} are invalid",
            fix="give 2+ non-negative weights, e.g. [0.5, 0.5]",
        )
    return np.cumsum(w / w.sum())


def assign(
    unit_id: str, salt: str, variants: Sequence[str], weights: Sequence[float] | None = None
) -> str:
    """The variant of ``unit_id`` in an experiment salted ``salt`` (equal weights by default)."""
    cum = _check_weights(weights if weights is not None else [1.0] * len(variants))
    if len(variants) != cum.size:
        raise ConfigError("one weight per variant is needed", fix="match variants and weights")
    i = int(np.searchsorted(cum, bucket(unit_id, salt), side="right"))
    return variants[min(i, len(variants) - 1)]


@dataclass(frozen=True)
class ExperimentSlot:
    """An experiment's share of a layer: the range [start, end) and its variants."""

    experiment_id: str
    start: float
    end: float
    variants: tuple[str, ...] = ("control", "treatment")
    weights: tuple[float, ...] | None = None


@dataclass(frozen=True)
class Layer:
    """A traffic layer: experiments with disjoint ranges plus an optional holdout range."""

    name: str
    slots: tuple[ExperimentSlot, ...] = field(default_factory=tuple)
    holdout: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        ranges = [(s.start, s.end, s.experiment_id) for s in self.slots]
        if self.holdout is not None:
            ranges.append((self.holdout[0], self.holdout[1], "holdout"))
        ranges.sort()
        for lo, hi, name in ranges:
            if not 0 <= lo < hi <= 1:
                raise ConfigError(
                    f"layer {self.name}: range of {name} must lie in [0, 1)",
                    fix="use start < end within 0..1",
                )
        for (_, hi, a), (lo, _, b) in zip(ranges, ranges[1:], strict=False):
            if lo < hi:
                raise ConfigError(
                    f"layer {self.name}: {a} and {b} overlap",
                    fix="give experiments of one layer disjoint ranges",
                )

    def place(self, unit_id: str) -> tuple[str, str] | None:
        """(experiment_id, variant) for the unit, ("holdout", "holdout"), or None (unused)."""
        u = bucket(unit_id, f"layer:{self.name}")
        if self.holdout is not None and self.holdout[0] <= u < self.holdout[1]:
            return ("holdout", "holdout")
        for s in self.slots:
            if s.start <= u < s.end:
                return (s.experiment_id, assign(unit_id, s.experiment_id, s.variants, s.weights))
        return None

    def place_all(self, unit_ids: Iterable[str]) -> dict[str, tuple[str, str] | None]:
        return {u: self.place(u) for u in unit_ids}
