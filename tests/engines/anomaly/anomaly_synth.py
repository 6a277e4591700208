"""Synthetic daily series with known structure and planted incidents (shared by the tests)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from luopan.engines.anomaly import public_holidays, shopping_festivals

WEEKLY = np.array([0.90, 0.88, 0.92, 0.95, 1.05, 1.20, 1.10])  # Monday..Sunday
FESTIVAL_MULT = {
    "年货节": 1.3,
    "春节": 0.5,  # the holiday dip
    "38节": 1.3,
    "618": 1.3,
    "618大促": 2.2,
    "双11": 1.4,
    "双11大促": 2.6,
    "双12": 1.5,
}
HOLIDAY_MULT = 1.15


def festival_multiplier(days: pd.DatetimeIndex) -> np.ndarray:
    """Known-event multiplier per day: festivals (table above) over public holidays (×1.15)."""
    years = range(days[0].year - 1, days[-1].year + 1)
    mult = np.ones(len(days))
    for windows, table in ((public_holidays(years), None), (shopping_festivals(years), 1)):
        for w in windows:
            inside = (days >= pd.Timestamp(w.start)) & (days <= pd.Timestamp(w.end))
            mult[inside] = HOLIDAY_MULT if table is None else FESTIVAL_MULT[w.name]
    return mult


def make_series(
    *,
    start: date = date(2024, 11, 1),
    end: date = date(2026, 11, 20),
    level: float = 100.0,
    growth: float = 0.10,
    noise: float = 3.0,
    seed: int = 0,
    events: bool = True,
) -> pd.Series:
    """level × weekly × festival × (1 + growth per year) + N(0, noise²), indexed by day."""
    days = pd.date_range(start, end, freq="D")
    rng = np.random.default_rng(seed)
    trend = 1.0 + growth * np.arange(len(days)) / 365.0
    mult = festival_multiplier(days) if events else np.ones(len(days))
    y = level * WEEKLY[days.day_of_week.to_numpy()] * trend * mult
    return pd.Series(y + rng.normal(0.0, noise, len(days)), index=days, name="y")
