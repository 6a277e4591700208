"""Rolling-origin forecasts of demand over the protection interval, with conformal quantiles.

At every origin ``o`` the weekly forecaster (``promo_weekly``) predicts the total demand of
weeks ``o + 1 .. o + horizon`` from the data up to ``o`` and the promotion calendar of those
weeks; its uplift is re-estimated every ``refit_every`` origins. Quantiles are split-conformal:
the scaled errors (actual − forecast) / (forecast + 1) of earlier origins whose outcome was
already known are pooled in bins of forecast volume × "promotion in the interval" (Mondrian
conformal: the quantile is forecast + (forecast + 1) × the bin's ⌈(n + 1)τ⌉-th smallest scaled
error, floored at 0), from a trailing window of ``calibration`` origins, recalibrated as the
origin rolls. The "+ 1" keeps the errors of series forecast near zero from dominating a bin.

References:
    Vovk, V., Gammerman, A. & Shafer, G. (2005). Algorithmic Learning in a Random World, ch. 4
    (Mondrian conformal prediction).
    Stankeviciute, K., Alaa, A. & van der Schaar, M. (2021). Conformal time-series
    forecasting. NeurIPS 34.
    Hyndman, R.J. & Athanasopoulos, G. (2021). Forecasting: Principles and Practice, 3rd ed.,
    §5.10 (time-series cross-validation with a rolling origin).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from luopan.engines.replenish.promo_weekly import PromoWeeklyForecaster, WeeklyPanel
from luopan.errors import EngineError, InsufficientDataError

__all__ = ["ProtectionForecast", "rolling_protection"]


@dataclass(frozen=True)
class ProtectionForecast:
    """Rolling-origin forecasts of demand over ``horizon`` weeks after each origin.

    ``mean``, ``actual`` (NaN past the data) and ``promo`` (a flag or a price cut in the
    interval) are series × origins; ``coefficients`` are the uplifts of the last refit.
    """

    origins: np.ndarray
    mean: np.ndarray
    actual: np.ndarray
    promo: np.ndarray
    horizon: int
    calibration: int
    bins: int
    coefficients: pd.DataFrame

    def quantile(self, tau: float, at: np.ndarray, *, update_every: int = 4) -> np.ndarray:
        """Conformal τ-quantile of demand for origins ``at`` (series × len(at)).

        Calibrated on the ``calibration`` latest origins ``s ≤ a − horizon`` (outcome known at
        ``a``), recalibrated every ``update_every`` origins. Non-negative, non-decreasing in τ.
        """
        if not 0 < tau < 1:
            raise EngineError(f"tau {tau} outside (0, 1)", fix="e.g. 0.95")
        if not np.isin(at, self.origins).all():
            raise EngineError("quantiles asked at origins never forecast", fix="forecast them")
        out = np.zeros((self.mean.shape[0], len(at)))
        pos = np.searchsorted(self.origins, at)
        for j0 in range(0, len(at), update_every):
            cut = at[j0] - self.horizon
            cal = (self.origins <= cut) & (self.origins > cut - self.calibration)
            if cal.sum() < 4:
                raise InsufficientDataError(
                    f"fewer than 4 calibration origins before origin {at[j0]}",
                    fix="forecast from earlier origins",
                )
            m, a, p = self.mean[:, cal], self.actual[:, cal], self.promo[:, cal]
            ok = np.isfinite(a) & (m > 0)
            edges = np.quantile(m[ok], np.linspace(0, 1, self.bins + 1)[1:-1])
            ratio = (a[ok] - m[ok]) / (m[ok] + 1.0)
            b_cal = np.searchsorted(edges, m[ok]) * 2 + p[ok]
            level = np.zeros(2 * self.bins)
            for b in range(2 * self.bins):
                r = ratio[b_cal == b] if (b_cal == b).sum() >= 50 else ratio
                q = min(1.0, tau * (r.size + 1) / r.size)
                level[b] = np.quantile(r, q, method="higher")
            cols = pos[j0 : j0 + update_every]
            mm = self.mean[:, cols]
            err = level[np.searchsorted(edges, mm) * 2 + self.promo[:, cols]]
            out[:, j0 : j0 + len(cols)] = np.maximum(mm + (mm + 1.0) * err, 0.0)
        return out


def rolling_protection(
    panel: WeeklyPanel,
    origins: np.ndarray,
    *,
    horizon: int = 2,
    refit_every: int = 4,
    calibration: int = 52,
    bins: int = 5,
    forecaster: PromoWeeklyForecaster | None = None,
) -> ProtectionForecast:
    """Forecast total demand of weeks ``o + 1 .. o + horizon`` at every origin ``o``, refitting
    the uplift every ``refit_every`` origins on the data up to that origin."""
    origins = np.asarray(origins, dtype=int)
    if origins.size == 0 or (np.diff(origins) <= 0).any():
        raise EngineError("origins must be increasing week indices", fix="e.g. np.arange(40, T)")
    fc = forecaster if forecaster is not None else PromoWeeklyForecaster()
    n, t = panel.units.shape
    mean = np.zeros((n, len(origins)))
    actual = np.full((n, len(origins)), np.nan)
    promo = np.zeros((n, len(origins)), dtype=int)
    for j, o in enumerate(origins):
        if j % refit_every == 0:
            fc.fit(panel, int(o))
        mean[:, j] = fc.predict(panel, int(o), horizon).sum(axis=1)
        stop = min(o + 1 + horizon, t)
        if o + horizon < t:
            actual[:, j] = panel.units[:, o + 1 : stop].sum(axis=1)
        xa = panel.x[:, o + 1 : stop]
        promo[:, j] = (xa[..., :3] > 0).any(axis=(1, 2)) | (xa[..., 3] < np.log(0.95)).any(1)
    if not fc.use_calendar:
        promo[:] = 0  # the ablation does not see the calendar, not even for its intervals
    return ProtectionForecast(
        origins,
        np.maximum(mean, 1e-3),
        actual,
        promo,
        horizon,
        calibration,
        bins,
        fc.coefficients(),
    )
