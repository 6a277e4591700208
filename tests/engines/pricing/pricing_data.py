"""Synthetic price histories with known elasticities for the pricing tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


def price_panel(
    n: int = 40, days: int = 300, *, seed: int = 0, base: float = 20.0, promo_rate: float = 0.15
) -> tuple[pd.DataFrame, pd.Series]:
    """Daily Poisson sales ``base·(p/p0)^e·weekly``; promotions cut the price 10–35% for runs of
    3–10 days, and a few permanent changes move the regular price. Returns (frame, truth)."""
    rng = np.random.default_rng(seed)
    e = np.clip(rng.normal(-2.5, 0.5, n), -4.5, -0.8)
    p0 = np.exp(rng.uniform(np.log(3), np.log(80), n)).round(1)
    level = np.ones((n, days))
    for i in range(n):
        if rng.random() < 0.5:
            d = int(rng.integers(30, days - 30))
            level[i, d:] *= rng.choice([0.9, 1.1])
    disc = np.zeros((n, days))
    for i in range(n):
        for _ in range(rng.poisson(days * promo_rate / 6.5)):
            d, length = int(rng.integers(0, days)), int(rng.integers(3, 11))
            disc[i, d : d + length] = np.round(rng.uniform(0.1, 0.35), 2)
    price = (p0[:, None] * level * (1 - disc)).round(2)
    dates = pd.date_range("2025-01-01", periods=days, freq="D")
    weekly = np.array([0.9, 0.9, 0.95, 1.0, 1.1, 1.3, 1.2])[dates.day_of_week]
    lam = base * (price / p0[:, None]) ** e[:, None] * weekly[None, :]
    y = rng.poisson(lam)
    ids = [f"S{i:03d}" for i in range(n)]
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat(ids, days),
            "ds": np.tile(dates, n),
            "y": y.ravel(),
            "price": price.ravel(),
            "promo": (disc > 0).ravel().astype(int),
        }
    )
    return frame, pd.Series(e, index=ids)
