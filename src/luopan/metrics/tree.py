"""Metric-tree attribution: split a metric's change exactly among its drivers, down the tree.

Multiplicative nodes (V = Π x_k) use the additive log-mean Divisia index, LMDI-I:
``ΔV_k = L(V¹, V⁰) · ln(x_k¹ / x_k⁰)`` with the logarithmic mean ``L(a, b) = (a − b) /
(ln a − ln b)``, ``L(a, a) = a``; the parts sum to ``V¹ − V⁰`` exactly (no residual) whenever
every value is positive. When a value is zero or negative the logarithms do not exist, and
the node falls back to the Shapley decomposition (every factor's marginal effect averaged
over all orders in which factors switch from base to current), which is exact for any values.
Additive nodes (V = Σ x_k) attribute each part its own difference.

A child's own change is split among its children and rescaled to the share of the root's
change the child received, so contributions at every depth add up to the root's change.

References:
    Ang, B. W. (2004). Decomposition analysis for policymaking in energy: which is the
    preferred method? Energy Policy 32(9), 1131-1139.
    Ang, B. W. (2005). The LMDI approach to decomposition analysis: a practical guide.
    Energy Policy 33(7), 867-871.
    Albrecht, J., François, D. & Schoors, K. (2002). A Shapley decomposition of carbon
    emissions without residuals. Energy Policy 30(9), 727-736.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

__all__ = ["Contribution", "decompose", "log_mean", "rescale", "scale_factor"]


def _ln_ratio(b: float, a: float) -> float:
    """ln(b / a), accurate both near 1 (log1p of the relative change) and far from it."""
    r = b / a
    return math.log1p((b - a) / a) if 0.5 < r < 2.0 else math.log(r)


def log_mean(a: float, b: float) -> float:
    """The logarithmic mean L(a, b) of two positive numbers (L(a, a) = a)."""
    if a == b:
        return a
    d = _ln_ratio(a, b)
    return a if d == 0 else (a - b) / d


def _lmdi(v0: Sequence[float], v1: Sequence[float]) -> list[float]:
    total0, total1 = math.prod(v0), math.prod(v1)
    weight = log_mean(total1, total0)
    return [weight * _ln_ratio(b, a) for a, b in zip(v0, v1, strict=True)]


def _shapley(v0: Sequence[float], v1: Sequence[float]) -> list[float]:
    n = len(v0)
    parts = [0.0] * n
    for k in range(n):
        others = [i for i in range(n) if i != k]
        for size in range(n):
            weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            for switched in combinations(others, size):
                rest = math.prod(v1[i] if i in switched else v0[i] for i in others)
                parts[k] += weight * rest * (v1[k] - v0[k])
    return parts


def decompose(kind: str, v0: Sequence[float], v1: Sequence[float]) -> tuple[list[float], str]:
    """Parts of the change of a node from its drivers' base values ``v0`` to ``v1``.

    Args:
        kind: ``multiplicative`` (node = Π drivers) or ``additive`` (node = Σ drivers).
        v0, v1: the drivers' values in the baseline and in the period.

    Returns:
        (parts, method): one part per driver summing to the node's change, and the method
        used: ``lmdi``, ``shapley`` or ``difference``.
    """
    if len(v0) != len(v1):
        raise ValueError("v0 and v1 need one value per driver")
    if kind == "additive":
        return [b - a for a, b in zip(v0, v1, strict=True)], "difference"
    levels = (math.prod(v0), math.prod(v1))
    if all(x > 0 and math.isfinite(x) for x in (*v0, *v1, *levels)):
        return _lmdi(v0, v1), "lmdi"
    return _shapley(v0, v1), "shapley"


def scale_factor(
    parent_method: str,
    parent: tuple[float, float],
    child: tuple[float, float],
    received: float,
) -> float:
    """Factor turning a child's own-change parts into parts of the root's change.

    Under an additive parent the child passes its change on unchanged (1). Under an LMDI
    parent the child received ``L(V¹, V⁰)·ln(y¹/y⁰)`` while its own change is
    ``L(y¹, y⁰)·ln(y¹/y⁰)``, so the factor is ``L(V¹, V⁰) / L(y¹, y⁰)`` — defined even when
    the child is unchanged, which keeps nested LMDI identical to one flat LMDI. Under a
    Shapley parent it is received / own change (0 for an unchanged child).
    """
    if parent_method == "difference":
        return 1.0
    if parent_method == "lmdi":
        return log_mean(parent[1], parent[0]) / log_mean(child[1], child[0])
    own = child[1] - child[0]
    return 0.0 if own == 0 else received / own


def rescale(parts: Sequence[float], factor: float) -> list[float]:
    """A child's own-change parts as parts of the root's change (see ``scale_factor``)."""
    return [p * factor for p in parts]


@dataclass(frozen=True)
class Contribution:
    """One node of an attributed tree.

    ``contribution`` is the part of the root's change attributed to this node; the
    contributions of a node's children add up to the node's own contribution.
    """

    metric: str
    label: str
    baseline: float
    actual: float
    contribution: float
    method: str | None = None
    children: tuple[Contribution, ...] = ()

    @property
    def change(self) -> float:
        return self.actual - self.baseline

    def walk(self, depth: int = 0) -> list[tuple[int, Contribution]]:
        """This node and its descendants, depth first, with their depth."""
        out = [(depth, self)]
        for child in self.children:
            out += child.walk(depth + 1)
        return out
