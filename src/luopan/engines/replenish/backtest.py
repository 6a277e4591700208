"""Backtest a forecast-driven order-up-to policy against the naive baseline by simulation.

Rolling origin: every ``refit_every`` days the forecaster is refitted on history up to the day
before, and each day's order-up-to level is the service-level quantile of demand over the
protection interval L + R. The naive baseline orders up to last week's average daily sales times
(L + R) plus a buffer of ``b`` times that. Both are swept over their parameter; their KPIs are
compared at equal fill rate by linear interpolation along each curve, as the policies must be.

References:
    Silver, Pyke & Thomas (2017), ch. 6; Fildes, Ma & Kolassa (2022). Retail forecasting:
    research and practice. IJF 38 (evaluate forecasts by their inventory consequences).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from luopan.engines.replenish.exog import exog_gbm, fit_predict
from luopan.engines.replenish.forecast import DemandForecaster
from luopan.engines.replenish.policies import protection_quantile, quantile_at
from luopan.engines.replenish.simulate import simulate
from luopan.errors import EngineError, InsufficientDataError

__all__ = ["BacktestResult", "backtest", "compare_at_fill"]

KPIS = ("fill_rate", "stockout_rate", "waste_rate", "days_of_inventory")
QUANTILES = (0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.975)


@dataclass(frozen=True)
class BacktestResult:
    """The trade-off curves (one row per policy × parameter) and the comparison at a fill rate."""

    curves: pd.DataFrame
    at_fill: pd.DataFrame
    target_fill: float

    def to_table(self) -> pd.DataFrame:
        return self.curves.copy()

    def improvement(self) -> dict[str, float]:
        """Relative change of forecast vs naive at the target fill (−0.4 = 40% lower)."""
        f, n = self.at_fill.loc["forecast"], self.at_fill.loc["naive"]
        return {
            k: float(f[k] / n[k] - 1) for k in ("waste_rate", "days_of_inventory", "stockout_rate")
        }


def compare_at_fill(curves: pd.DataFrame, target: float) -> pd.DataFrame:
    """Interpolate each policy's KPIs at fill rate ``target`` (NaN when the curve misses it)."""
    rows = {}
    for policy, g in curves.groupby("policy"):
        g = g.sort_values("fill_rate")
        fill = g["fill_rate"].to_numpy()
        ok = fill.min() <= target <= fill.max()
        rows[policy] = {
            k: float(np.interp(target, fill, g[k].to_numpy())) if ok else float("nan") for k in KPIS
        }
    return pd.DataFrame(rows).T


def _rolling_forecasts(
    frame: pd.DataFrame,
    dates: pd.DatetimeIndex,
    cover: int,
    refit_every: int,
    forecaster: DemandForecaster,
    exog: pd.DataFrame | None = None,
    known_ahead: int | None = 14,
) -> tuple[np.ndarray, np.ndarray]:
    """Daily means (series × days × cover) and quantiles (… × len(QUANTILES)) for each eval day.

    With ``exog`` (``exog.calendar_exog``'s frame) each origin's fit sees the calendar up to the
    origin and, for the forecast days, what was known then (``exog.known_at``)."""
    ids = np.sort(frame["unique_id"].astype(str).unique())
    n, days = len(ids), len(dates)
    mean = np.zeros((n, days, cover))
    quant = np.zeros((n, days, cover, len(QUANTILES)))
    qcols = [f"q{q:g}" for q in QUANTILES]
    for start in range(0, days, refit_every):
        origin = dates[start] - pd.Timedelta(days=1)
        hist = frame[frame["ds"] <= origin]
        h = refit_every + cover
        res = fit_predict(forecaster, hist, h, exog, known_ahead=known_ahead)
        fc = res.forecasts.sort_values(["unique_id", "ds"])
        m = fc["mean"].to_numpy().reshape(n, h)
        qv = fc[qcols].to_numpy().reshape(n, h, len(QUANTILES))
        for j in range(min(refit_every, days - start)):
            mean[:, start + j] = m[:, j : j + cover]
            quant[:, start + j] = qv[:, j : j + cover]
    return mean, quant


def backtest(
    frame: pd.DataFrame,
    *,
    horizon: int = 28,
    shelf_life: int = 3,
    lead_time: int = 1,
    review_period: int = 1,
    issuing: Literal["fifo", "lifo"] = "fifo",
    target_fill: float = 0.97,
    service_levels: tuple[float, ...] = (0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.975),
    buffers: tuple[float, ...] = (-0.2, 0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.3, 1.6, 2.0),
    refit_every: int = 1,
    forecaster: DemandForecaster | None = None,
    exog: pd.DataFrame | None = None,
    known_ahead: int | None = 14,
) -> BacktestResult:
    """Simulate the last ``horizon`` days of ``frame`` (unique_id, ds, y) under both policies.

    ``y`` is the demand replayed (observed sales when demand is censored: a lower bound).
    ``exog`` (``unique_id, ds`` + columns of ``global_gbm.EXOG_COLUMNS``, e.g.
    ``exog.calendar_exog``) gives the forecaster the calendar: prices and promotions up to each
    origin and, for the days after it, those known ``known_ahead`` days ahead (``None``: all),
    which makes ``GlobalGBM`` a candidate of the default forecaster.
    """
    df = frame[["unique_id", "ds", "y"]].copy()
    df["unique_id"] = df["unique_id"].astype(str)
    df["ds"] = pd.to_datetime(df["ds"])
    wide = df.pivot(index="unique_id", columns="ds", values="y").sort_index()
    if wide.isna().any().any():
        raise InsufficientDataError(
            "backtest needs every series on every day", fix="fill gaps with 0"
        )
    if wide.shape[1] < horizon + 35:
        raise InsufficientDataError(
            f"backtest needs at least {horizon + 35} days, got {wide.shape[1]}", fix="lower horizon"
        )
    if not 0 < target_fill < 1:
        raise EngineError(f"target_fill {target_fill} outside (0, 1)", fix="e.g. 0.97")
    dates = wide.columns[-horizon:]
    cover = lead_time + review_period
    y = wide.to_numpy()
    demand = y[:, -horizon:]
    if forecaster is not None:
        base = forecaster.get_params()
    else:
        base = {} if exog is None else {"gbm": exog_gbm()}
    fc = DemandForecaster(**{**base, "quantiles": QUANTILES})
    mean, quant = _rolling_forecasts(df, dates, cover, refit_every, fc, exog, known_ahead)

    def run(policy: str, parameter: float, s_levels: np.ndarray) -> dict[str, float | str]:
        r = simulate(
            demand,
            s_levels,
            shelf_life=shelf_life,
            lead_time=lead_time,
            review_period=review_period,
            issuing=issuing,
        )
        return {"policy": policy, "parameter": parameter, **{k: getattr(r, k) for k in KPIS}}

    rows = [
        run("forecast", tau, protection_quantile(mean, quantile_at(QUANTILES, quant, tau)))
        for tau in service_levels
    ]
    rows += [
        run("forecast_buffer", b, np.maximum(mean.sum(axis=-1) * (1 + b), 0.0)) for b in buffers
    ]
    ma7 = pd.DataFrame(y).T.rolling(7).mean().shift(1).T.to_numpy()[:, -horizon:]
    rows += [run("naive", b, np.maximum(ma7 * cover * (1 + b), 0.0)) for b in buffers]
    curves = pd.DataFrame(rows)
    return BacktestResult(
        curves=curves, at_fill=compare_at_fill(curves, target_fill), target_fill=target_fill
    )
