"""Compare a store network's current replenishment with luopan's policy at equal fill rate.

Every policy is replayed (``replay``) on the same demand, and swept over its one parameter to
trace its trade-off curve; KPIs are then read off each curve at the target fill rate by linear
interpolation (``compare_at_fill``): a policy that is "better" only at a lower fill rate is not
better. The policies:

- ``current_rule``: the store's own rule, S = ⌈rate · (R + L) · cover + 1⌉ with its review
  period R per series (e.g. daily for fresh, weekly otherwise), counting all stock on hand;
  swept over one ``cover`` for every series.
- ``naive``: daily review, S = mean demand of the last 7 days · (L + 1) · (1 + buffer), the
  naive policy of ``backtest``; ``naive_units`` adds the buffer in units instead (S = mean · (L + 1)
  + buffer), which is the one that reaches high fill rates on slow, lumpy series.
- ``luopan``: daily review, S = the service-level quantile of demand over the protection interval
  (the days until the next order lands), from the forecast mean and a stuttering-Poisson demand
  (Poisson purchase lines of 1 + Poisson(batch − 1) units, the usual model of slow, lumpy retail
  demand). The service level is a newsvendor critical ratio per series, τ = cu / (cu + 1 + w·p),
  where a leftover unit costs one unit-day of stock plus ``w`` times p, the chance that it
  expires unsold within its shelf life, and cu, the value of a unit sold, is swept (w = 0 gives
  one service level for every series, the fill-rate-optimal allocation of stock). The position
  counts only units still sellable when the order lands; stock is issued FIFO.

References:
    Silver, Pyke & Thomas (2017). Inventory and Production Management in Supply Chains, 4th ed.,
    ch. 6 (order-up-to over R + L) and ch. 8 (slow movers, compound/stuttering Poisson).
    Porteus, E. (2002). Foundations of Stochastic Inventory Theory, ch. 1 (critical ratio).
    Thonemann, Brown & Hausman (2002). Easy quantification of improved spare parts inventory
    policies. Management Science 48 (one aggregate fill rate, service differentiated by item).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from luopan.engines.replenish.backtest import KPIS, compare_at_fill
from luopan.engines.replenish.demand_replay import _pmf
from luopan.engines.replenish.replay import replay
from luopan.engines.replenish.simulate import SimulationResult
from luopan.errors import EngineError

__all__ = ["PolicyComparison", "policy_comparison", "recorded_kpis", "stuttering_quantile"]

COVERS = (1.5, 3.0, 5.0, 8.0, 12.0, 16.0, 22.0, 30.0, 40.0)
BUFFERS = (0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 12.0)
BUFFER_UNITS = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0)
SHORTAGE_VALUES = (16.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 4096.0)


@dataclass(frozen=True)
class PolicyComparison:
    """Trade-off curves (one row per policy × parameter), the comparison at ``target_fill`` and
    the store's recorded KPIs (when given) as measured from its own data."""

    curves: pd.DataFrame
    at_fill: pd.DataFrame
    target_fill: float
    recorded: dict[str, float] = field(default_factory=dict)

    def to_table(self) -> pd.DataFrame:
        return self.curves.copy()

    def at(self, fill: float) -> pd.DataFrame:
        """Each policy's KPIs interpolated at another fill rate (e.g. the recorded one)."""
        return compare_at_fill(self.curves, fill)

    def improvement(
        self, baseline: str = "current_rule", policy: str = "luopan"
    ) -> dict[str, float]:
        """Relative change of ``policy`` against ``baseline`` at the target fill (−0.4 = 40% lower)."""
        if baseline not in self.at_fill.index or policy not in self.at_fill.index:
            raise EngineError(
                f"no {baseline!r} or {policy!r} at fill {self.target_fill}",
                fix="widen the sweeps so both curves reach the target fill",
            )
        b, p = self.at_fill.loc[baseline], self.at_fill.loc[policy]
        return {
            k: float(p[k] / b[k] - 1) for k in ("days_of_inventory", "waste_rate", "stockout_rate")
        }


def stuttering_quantile(
    mean: ArrayLike, tau: ArrayLike, *, batch: float = 1.0
) -> NDArray[np.float64]:
    """Smallest whole number of units k with P(D ≤ k) ≥ τ, D stuttering Poisson with ``mean``.

    The result is ≥ 0 and non-decreasing in τ and in the mean.
    """
    mu = np.asarray(mean, dtype=float)
    t = np.broadcast_to(np.asarray(tau, dtype=float), mu.shape)
    if (mu < 0).any() or ((t <= 0) | (t >= 1)).any() or batch < 1:
        raise EngineError("need mean ≥ 0, 0 < τ < 1, batch ≥ 1", fix="check forecasts and levels")
    top = int(np.ceil(mu.max(initial=0.0) * 3 + 10 * batch + 10))
    out = np.empty(mu.size)
    flat_mu, flat_t = mu.ravel(), t.ravel()
    for lo in range(0, mu.size, 20_000):
        cdf = np.cumsum(_pmf(np.maximum(flat_mu[lo : lo + 20_000], 1e-12), batch, top), axis=1)
        out[lo : lo + 20_000] = (cdf < flat_t[lo : lo + 20_000, None] - 1e-12).sum(axis=1)
    return out.reshape(mu.shape)


def recorded_kpis(
    sales: ArrayLike, demand: ArrayLike, on_hand: ArrayLike, wasted: ArrayLike, *, warmup: int = 0
) -> dict[str, float]:
    """The store's KPIs from its own records over the days after ``warmup`` (same definitions as
    ``SimulationResult``: fill = sold / demand, DOI = mean end-of-day stock / mean daily sales)."""
    s, d, oh, w = (np.asarray(a, dtype=float)[:, warmup:] for a in (sales, demand, on_hand, wasted))
    return {
        "fill_rate": float(s.sum() / d.sum()),
        "stockout_rate": float((d - s > 1e-9).mean()),
        "waste_rate": float(w.sum() / s.sum()),
        "days_of_inventory": float(oh.sum() / s.sum()),
    }


def _row(policy: str, parameter: float, r: SimulationResult) -> dict[str, float | str]:
    return {"policy": policy, "parameter": parameter, **{k: getattr(r, k) for k in KPIS}}


def policy_comparison(
    demand: ArrayLike,
    forecast_mean: ArrayLike,
    *,
    shelf_life: ArrayLike,
    current_rate: ArrayLike,
    current_review: ArrayLike,
    current_offset: ArrayLike = 0,
    recorded: dict[str, float] | None = None,
    batch: float = 1.0,
    lead_time: int = 1,
    warmup: int = 28,
    target_fill: float = 0.97,
    waste_weight: float = 0.0,
    covers: tuple[float, ...] = COVERS,
    buffers: tuple[float, ...] = BUFFERS,
    buffer_units: tuple[float, ...] = BUFFER_UNITS,
    shortage_values: tuple[float, ...] = SHORTAGE_VALUES,
) -> PolicyComparison:
    """Replay ``demand`` under the current rule, the naive policy and luopan's policy.

    Args:
        demand: units demanded per series and day (the first ``warmup`` days only settle stock).
        forecast_mean: luopan's forecast of each day's demand, made only from data before it
            (series × days, aligned with ``demand``).
        shelf_life: days per series (values beyond the replay never spoil).
        current_rate, current_review, current_offset: the current rule's daily rate, review
            period and review offset per series.
        recorded: the store's KPIs from its records (``recorded_kpis``), kept for the report.
        batch: mean units per purchase line, for luopan's demand distribution.
        lead_time: days from order to arrival (≥ 1).
        warmup: leading days left out of the KPIs.
        target_fill: the fill rate the policies are compared at.
        waste_weight: ``w`` of the module docstring (0 = one service level for all series).
        covers, buffers, buffer_units, shortage_values: the sweeps of the policies (an empty
            sweep leaves that policy out).
    """
    d = np.asarray(demand, dtype=float)
    mu = np.asarray(forecast_mean, dtype=float)
    if d.ndim != 2 or mu.shape != d.shape:
        raise EngineError(
            "demand and forecast_mean must share one (series, days) shape",
            fix="forecast every replayed day of every series",
        )
    if not 0 < target_fill < 1:
        raise EngineError(f"target_fill {target_fill} outside (0, 1)", fix="e.g. 0.97")
    n, days = d.shape
    shelf = np.broadcast_to(np.asarray(shelf_life, dtype=np.int64), (n,))
    review = np.broadcast_to(np.asarray(current_review, dtype=np.int64), (n,))
    rate = np.broadcast_to(np.asarray(current_rate, dtype=float), (n,))
    common: dict[str, Any] = {
        "shelf_life": shelf,
        "lead_time": lead_time,
        "warmup": warmup,
        "pack_size": 1.0,
    }
    rows = []
    for c in covers:
        s = np.ceil(rate * (review + lead_time) * c + 1)
        r = replay(
            d,
            np.broadcast_to(s[:, None], d.shape),
            review_period=review,
            review_offset=current_offset,
            position="all",
            **common,
        )
        rows.append(_row("current_rule", c, r))
    ma7 = pd.DataFrame(d).T.rolling(7, min_periods=1).mean().T.to_numpy()  # through day t
    for b in buffers:
        r = replay(d, ma7 * (lead_time + 1) * (1 + b), position="usable", **common)
        rows.append(_row("naive", b, r))
    for b in buffer_units:
        r = replay(d, ma7 * (lead_time + 1) + b, position="usable", **common)
        rows.append(_row("naive_units", b, r))
    # the order placed at the end of day t covers days t+1 .. t+lead_time (review period 1)
    ahead = np.concatenate([mu[:, 1:], mu[:, -1:]], axis=1)
    interval = sum(np.roll(ahead, -k, axis=1) for k in range(lead_time))
    life_left = np.maximum(shelf - 1, 0).astype(float)
    p_expire = np.where((shelf <= days)[:, None], np.exp(-ahead * life_left[:, None]), 0.0)
    for cu in shortage_values:
        tau = np.clip(cu / (cu + 1.0 + waste_weight * p_expire), 1e-6, 1 - 1e-9)
        r = replay(d, stuttering_quantile(interval, tau, batch=batch), position="usable", **common)
        rows.append(_row("luopan", cu, r))
    curves = pd.DataFrame(rows)
    return PolicyComparison(
        curves=curves,
        at_fill=compare_at_fill(curves, target_fill),
        target_fill=target_fill,
        recorded=dict(recorded or {}),
    )
