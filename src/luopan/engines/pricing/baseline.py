"""Current regular price and baseline units per series, from the recent non-promotion periods.

The baseline is "mask and predict": promotion periods and the periods right after them are
masked, and the remaining recent periods are brought to the current price with the series'
elasticity: ``b = mean_t y_t·(p_now / p_t)^e``.

References:
    Cooper, L.G., Baron, P., Levy, W., Swisher, M. & Gogos, P. (1999). PromoCast: a new
    forecasting method for promotion planning. Marketing Science 18(3), 301-316.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from luopan.engines.pricing.design import build_panel, calendar_features

__all__ = ["calendar_factor", "current_baseline"]


def current_baseline(
    frame: pd.DataFrame,
    elasticity: pd.Series,
    *,
    window: int = 56,
    post_periods: int | None = None,
) -> pd.DataFrame:
    """Per series: ``current_price`` (last regular price), ``base_units`` per period at it.

    Args:
        frame: the price history given to ``estimate_elasticities``.
        elasticity: ``unique_id`` → elasticity used to re-price past periods (NaN → 0).
        window: recent periods used.
    """
    panel = build_panel(frame, calendar="none", post_periods=post_periods)
    price = panel.price_ref[:, None] * np.exp(panel.log_price)
    regular = ~panel.promo & ~panel.post & (panel.weight > 0)
    for f in panel.flags.values():
        regular &= f <= 0
    t = price.shape[1]
    idx = np.where(regular, np.arange(t)[None, :], -1).max(1)
    has = idx >= 0
    cur = np.where(has, price[np.arange(len(idx)), np.maximum(idx, 0)], np.nan)
    e = np.nan_to_num(elasticity.rename(index=str).reindex(panel.ids).to_numpy(np.float64))
    recent = regular & (np.arange(t)[None, :] >= t - window)
    adj = np.nan_to_num(panel.y) * (cur[:, None] / price) ** e[:, None]
    n = recent.sum(1)
    base = np.where(n > 0, np.where(recent, adj, 0.0).sum(1) / np.maximum(n, 1), np.nan)
    return pd.DataFrame(
        {"unique_id": panel.ids, "current_price": cur, "base_units": base, "base_periods": n}
    )


def calendar_factor(
    calendar: pd.DataFrame,
    days: pd.DatetimeIndex,
    base_days: pd.DatetimeIndex,
) -> pd.Series:
    """Demand of ``days`` relative to ``base_days`` from the series' calendar effects.

    ``calendar`` holds log-multipliers per series (``ElasticityResult.calendar``: day of week,
    Chinese holidays and festivals). The factor is the mean multiplier over ``days`` divided by
    the mean over ``base_days`` (the window the baseline was measured on), so a plan during
    双11 starts from a 双11 baseline.
    """
    if calendar.empty:
        return pd.Series(1.0, index=calendar.index)
    span = pd.date_range(min(days.min(), base_days.min()), max(days.max(), base_days.max()))
    feats = calendar_features(span).reindex(columns=calendar.columns, fill_value=0.0)
    beta = calendar.to_numpy(np.float64)
    mult = np.exp(feats.to_numpy(np.float64) @ beta.T)  # day x series
    on = feats.index.isin(days)
    base = feats.index.isin(base_days)
    return pd.Series(mult[on].mean(0) / mult[base].mean(0), index=calendar.index)
