"""Rebuild the demand a store saw from its sales, its stock-outs and a known demand process.

On a day that ended with stock left, demand equals sales. On a day that ended empty, sales are
only a lower bound: demand is drawn from the demand process conditioned on being at least the
sales, P(D = k | D ≥ s). The process is a compound Poisson: purchase lines arrive as Poisson with
mean ``expected / batch`` and each line carries 1 + Poisson(``batch`` − 1) units (``batch`` = mean
units per line, measured on the order lines). When the total of lost sales is known (e.g. a
demo world's ground truth, or a store's lost-sales log), the expected rates are scaled by one
factor so the expected total lost matches it, found by bisection. Written by hand: no maintained
library draws censored retail demand from a given compound process.


References:
    Nahmias, S. (1994). Demand estimation in lost sales inventory systems. Naval Research
    Logistics 41 (demand on stock-out days is censored at the available stock).
    Adelson, R.M. (1966). Compound Poisson distributions. Operational Research Quarterly 17.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from luopan.errors import EngineError

__all__ = ["DemandReplay", "reconstruct_demand"]

MAX_UNITS = 200  # the pmf support grows with the rates and the sales seen, up to this cap


@dataclass(frozen=True)
class DemandReplay:
    """Rebuilt demand (series × days), the censored cells and the rate scale used."""

    demand: NDArray[np.float64]
    censored: NDArray[np.bool_]
    scale: float
    expected_lost: float

    def summary(self) -> dict[str, float]:
        return {
            "demand": float(self.demand.sum()),
            "censored_cells": float(self.censored.sum()),
            "scale": self.scale,
            "expected_lost": self.expected_lost,
        }


def _pmf(rate: NDArray[np.float64], batch: float, top: int) -> NDArray[np.float64]:
    """P(D = k), k = 0..top, per cell, for the compound Poisson of the module docstring."""
    k = np.arange(top + 1)
    if batch <= 1.0 + 1e-9:
        return np.asarray(stats.poisson.pmf(k[None, :], rate[:, None]), dtype=float)
    lines = stats.poisson.pmf(k[None, :], (rate / batch)[:, None])  # cells × n lines
    out = np.zeros((rate.size, k.size))
    for n in range(k.size):
        extra = k - n  # units beyond one per line
        p_extra = np.where(extra >= 0, stats.poisson.pmf(np.maximum(extra, 0), (batch - 1) * n), 0)
        out += lines[:, n : n + 1] * p_extra[None, :]
    return out


def _conditional(pmf: NDArray[np.float64], floor: NDArray[np.float64]) -> NDArray[np.float64]:
    """P(D = k | D ≥ floor) per cell (a point mass at ``floor`` when the tail underflows)."""
    k = np.arange(pmf.shape[1])
    tail = np.where(k[None, :] >= floor[:, None], pmf, 0.0)
    mass = tail.sum(axis=1, keepdims=True)
    point = (k[None, :] == np.minimum(floor, k[-1])[:, None]).astype(float)
    return np.where(mass > 1e-300, tail / np.where(mass > 0, mass, 1.0), point)


def _solve_scale(gap: Callable[[float], float]) -> float:
    """Root of the increasing ``gap`` in the scale: a doubling bracket, then Illinois steps on
    the log scale (regula falsi with halving of the stale end; Dowell & Jarratt 1971)."""
    a, b = 0.5, 1.0
    fa, fb = gap(a), gap(b)
    while fb < 0 and b < 1e3:
        a, fa, b = b, fb, b * 2
        fb = gap(b)
    while fa > 0 and a > 1e-3:
        b, fb, a = a, fa, a / 2
        fa = gap(a)
    la, lb, side = np.log(a), np.log(b), 0
    for _ in range(30):
        lc = (la * fb - lb * fa) / (fb - fa) if fb != fa else (la + lb) / 2
        fc = gap(float(np.exp(lc)))
        if abs(fc) < 1e-6 * (1 + abs(fb - fa)) or abs(lb - la) < 1e-9:
            return float(np.exp(lc))
        if fc * fb > 0:
            lb, fb = lc, fc
            fa = fa / 2 if side == -1 else fa
            side = -1
        else:
            la, fa = lc, fc
            fb = fb / 2 if side == 1 else fb
            side = 1
    return float(np.exp(lc))


def reconstruct_demand(
    sales: ArrayLike,
    censored: ArrayLike,
    expected: ArrayLike,
    *,
    batch: float = 1.0,
    lost_total: float | None = None,
    seed: int = 0,
) -> DemandReplay:
    """Demand per series and day: sales where stock was left, a conditional draw where not.

    Args:
        sales: units sold (series × days).
        censored: True where the day ended with no stock (sales may be below demand).
        expected: expected demand of the known process (series × days), before any scaling.
        batch: mean units per purchase line (≥ 1; 1 = plain Poisson).
        lost_total: known total of lost units over these cells; scales ``expected`` to match.
        seed: for the draws.

    Returns:
        DemandReplay; its ``demand`` is ≥ ``sales`` everywhere and equal where not censored.
    """
    s = np.asarray(sales, dtype=float)
    cen = np.asarray(censored, dtype=bool)
    mu = np.asarray(expected, dtype=float)
    if s.shape != cen.shape or s.shape != mu.shape or s.ndim != 2:
        raise EngineError(
            "sales, censored and expected must share one (series, days) shape",
            fix="align the three matrices on the same series and dates",
        )
    if batch < 1 or (mu < 0).any() or (s < 0).any():
        raise EngineError("batch ≥ 1 and non-negative rates and sales", fix="check the inputs")
    floor = np.minimum(s[cen], MAX_UNITS)
    base = np.maximum(mu[cen], 1e-9)

    def lost(scale: float) -> tuple[float, NDArray[np.float64]]:
        rate = base * scale
        top = int(min(MAX_UNITS, max(floor.max(initial=0), 4 * rate.max(initial=0)) + 25))
        p = _conditional(_pmf(rate, batch, top), np.minimum(floor, top))
        return float((p @ np.arange(top + 1) - floor).sum()), p

    scale = 1.0
    if lost_total is not None and cen.any():
        scale = _solve_scale(lambda x: lost(x)[0] - lost_total)
    expected_lost, p = lost(scale)
    rng = np.random.default_rng(seed)
    draw = (np.cumsum(p, axis=1) < rng.random(len(p))[:, None]).sum(axis=1)
    demand = s.copy()
    demand[cen] = np.maximum(draw, s[cen])
    return DemandReplay(demand=demand, censored=cen, scale=scale, expected_lost=expected_lost)
