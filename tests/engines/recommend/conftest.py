"""Fixtures of the recommendation tests: UCI Online Retail lines, small synthetic baskets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest


def clean_online_retail(frame: pd.DataFrame) -> pd.DataFrame:
    """The protocol of the measured baselines: known customer, no cancellation, qty and price
    > 0, product codes only (five leading digits) — 396,337 lines."""
    keep = (
        frame["CustomerID"].notna()
        & ~frame["InvoiceNo"].str.startswith("C")
        & (frame["Quantity"] > 0)
        & (frame["UnitPrice"] > 0)
        & frame["StockCode"].str.match(r"^\d{5}")
    )
    return frame[keep].rename(
        columns={
            "CustomerID": "customer_id",
            "StockCode": "sku",
            "InvoiceDate": "ordered_at",
            "InvoiceNo": "order_id",
            "UnitPrice": "unit_price",
            "Country": "region",
        }
    )


@pytest.fixture(scope="session")
def uci_lines(shared_data: Path) -> pd.DataFrame:
    files = sorted((shared_data / "uci-online-retail").glob("online_retail_*.csv.gz"))
    if not files:
        pytest.skip("UCI Online Retail files are absent from the shared data folder")
    dtype = {"InvoiceNo": str, "StockCode": str, "CustomerID": str}
    raw = pd.concat([pd.read_csv(f, dtype=dtype) for f in files], ignore_index=True)
    return clean_online_retail(raw)


def random_lines(
    seed: int, *, customers: int = 30, items: int = 25, lines: int = 400
) -> pd.DataFrame:
    """Random purchase lines with a popularity skew (for property tests)."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, items + 1)
    order = rng.integers(0, lines // 3 + 1, lines)
    customer = order % customers
    return pd.DataFrame(
        {
            "customer_id": [f"c{c:03d}" for c in customer],
            "sku": [f"s{i:03d}" for i in rng.choice(items, lines, p=weights / weights.sum())],
            "ordered_at": pd.Timestamp("2026-01-01") + pd.to_timedelta(order % 200, unit="D"),
            "order_id": [f"o{o}" for o in order],
        }
    )
