"""Fixtures of the customer engines: the CDNOW 1/10 sample as Fader, Hardie & Lee (2005) use it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from luopan.engines.customers.summary import CustomerSummary, summarize_transactions


def cdnow_transactions(shared_data: Path) -> pd.DataFrame:
    frame = pd.read_csv(
        shared_data / "cdnow" / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "dollars"],
        dtype={"customer_id": str, "date": str},
    )
    frame["date"] = pd.to_datetime(frame["date"], format="%Y%m%d")
    return frame


def cdnow_summary(shared_data: Path) -> CustomerSummary:
    """39-week calibration (to 1997-09-30), weeks 40–78 holdout (to 1998-06-30), weeks."""
    return summarize_transactions(
        cdnow_transactions(shared_data),
        customer_col="customer_id",
        date_col="date",
        amount_col="dollars",
        calibration_end="1997-09-30",
        holdout_end="1998-06-30",
        time_unit="week",
    )


@pytest.fixture(scope="session")
def cdnow(shared_data: Path) -> CustomerSummary:
    return cdnow_summary(shared_data)


@pytest.fixture(scope="session")
def online_retail(shared_data: Path) -> pd.DataFrame:
    """UCI Online Retail (Chen, Sain & Guo 2012), every line, with amount = quantity × price."""
    files = sorted((shared_data / "uci-online-retail").glob("online_retail_*.csv.gz"))
    frame = pd.concat(
        [
            pd.read_csv(f, dtype={"InvoiceNo": str, "StockCode": str, "CustomerID": str})
            for f in files
        ],
        ignore_index=True,
    )
    frame["amount"] = frame["Quantity"] * frame["UnitPrice"]
    return frame


@pytest.fixture(scope="session")
def cdnow_raw(shared_data: Path) -> pd.DataFrame:
    return cdnow_transactions(shared_data)
