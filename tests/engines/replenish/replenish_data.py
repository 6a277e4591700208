"""Loaders for the replenishment tests (FreshRetailNet subset from ../shared/data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

FRESH = "inventory/freshretailnet50k_city0_daily_subset.csv.gz"


def load_fresh(shared: Path, limit: int | None = None) -> pd.DataFrame:
    """Full 90-day series, ``unique_id = store_product``, sorted ids, the first ``limit`` of them."""
    raw = pd.read_csv(shared / FRESH, dtype={"store_id": str, "product_id": str})
    raw["unique_id"] = raw["store_id"] + "_" + raw["product_id"]
    raw["ds"] = pd.to_datetime(raw["date"])
    raw = raw.rename(columns={"sale_amount": "y"})
    n = raw.groupby("unique_id").size()
    ids = np.sort(n[n == 90].index.to_numpy())[:limit]
    return raw[raw["unique_id"].isin(ids)].reset_index(drop=True)


def split(df: pd.DataFrame, h: int = 28) -> tuple[pd.DataFrame, pd.DataFrame]:
    cut = df["ds"].max() - pd.Timedelta(days=h)
    return df[df["ds"] <= cut].reset_index(drop=True), df[df["ds"] > cut].reset_index(drop=True)


def poisson_panel(n: int, days: int, *, level: float = 6.0, seed: int = 0) -> pd.DataFrame:
    """``n`` stationary Poisson series with mean ``level`` (a known demand process)."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2024-01-01", periods=days, freq="D")
    return pd.DataFrame(
        {
            "unique_id": np.repeat([f"s{i:03d}" for i in range(n)], days),
            "ds": np.tile(ds, n),
            "y": rng.poisson(level, n * days).astype(float),
        }
    )
