"""Transactions → the per-customer summary the buy-till-you-die models read.

A *purchase occasion* is one customer-period (a day by default): several orders of a customer on
the same day are merged into one, as Fader, Hardie & Lee (2005) do for CDNOW. For each customer
the summary holds

- ``frequency`` x: repeat occasions (occasions after the first) up to the calibration end;
- ``recency`` t_x: time from the first to the last occasion;
- ``T``: time from the first occasion to the calibration end;
- ``monetary``: the mean net amount of the repeat occasions (the first is excluded, as in the
  Gamma-Gamma paper), NaN for customers without a repeat occasion and when no amount is given;
- ``holdout_frequency`` / ``holdout_monetary``: occasions and their total after the calibration
  end, up to the holdout end, when one is given.

**Zero and negative amounts (returns, refunds, write-offs).** Amounts are netted within an
occasion (a return on the day of the purchase reduces that day's amount). An occasion whose net
amount is negative (more returned than bought) is not a purchase: it is dropped before
counting, so a return never adds to frequency or to the spend model. An occasion of net amount
exactly zero (free goods, a full coupon) is a purchase occasion and counts for frequency, as in
the CDNOW sample where 8 transactions of $0 are purchases; the spend model leaves out customers whose
mean repeat amount is not positive (see ``gamma_gamma``). Returns on a later day are not
netted against earlier occasions. A customer whose only occasions are negative is absent from
the summary (counted in ``dropped_customers``).

References:
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting Your Customers" the Easy Way:
    An Alternative to the Pareto/NBD Model. Marketing Science 24(2), 275–284.
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: Using Iso-Value Curves for
    Customer Base Analysis. Journal of Marketing Research 42(4), 415–430.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from luopan.errors import DataContractError, InsufficientDataError

__all__ = ["TIME_UNITS", "CustomerSummary", "summarize_transactions"]

TimeUnit = Literal["day", "week"]
TIME_UNITS: dict[str, float] = {"day": 1.0, "week": 7.0}


@dataclass(frozen=True)
class CustomerSummary:
    """Per-customer (x, t_x, T, m) plus the holdout, in ``time_unit`` units."""

    table: pd.DataFrame  # index customer; frequency, recency, T, monetary[, holdout_*]
    time_unit: str
    calibration_end: pd.Timestamp
    holdout_end: pd.Timestamp | None
    dropped_occasions: int  # occasions with net amount < 0
    dropped_customers: int  # customers whose every occasion has net amount < 0

    @property
    def frequency(self) -> np.ndarray:
        return self.table["frequency"].to_numpy(dtype=float)

    @property
    def recency(self) -> np.ndarray:
        return self.table["recency"].to_numpy(dtype=float)

    @property
    def T(self) -> np.ndarray:  # noqa: N802 - the papers' name
        return self.table["T"].to_numpy(dtype=float)

    @property
    def monetary(self) -> np.ndarray:
        return self.table["monetary"].to_numpy(dtype=float)


def summarize_transactions(
    transactions: pd.DataFrame,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = None,
    calibration_end: str | pd.Timestamp | None = None,
    holdout_end: str | pd.Timestamp | None = None,
    time_unit: TimeUnit = "day",
    integer_ids: bool = False,
) -> CustomerSummary:
    """Summarise a transaction log into frequency / recency / T / monetary per customer.

    Args:
        transactions: one row per transaction (order, invoice line, ...).
        customer_col, date_col, amount_col: column names; ``amount_col`` is optional.
        calibration_end: last day of the calibration period (inclusive); default the last date.
        holdout_end: last day of the holdout period (inclusive); default none.
        time_unit: ``day`` or ``week`` (7 days).
        integer_ids: keep a column of integer customer codes as integers (the index is then
            integer; group-bys on them are several times cheaper than on strings). Customer
            IDs are otherwise strings.

    Returns:
        A :class:`CustomerSummary`; customers whose first occasion is after the calibration end
        are left out (they are not in the calibration cohort).

    Raises:
        DataContractError: a named column is missing or a date does not parse.
        InsufficientDataError: no customer has an occasion in the calibration period.
    """
    if time_unit not in TIME_UNITS:
        raise DataContractError(f"unknown time unit {time_unit!r}", fix="use 'day' or 'week'")
    cols = [customer_col, date_col] + ([amount_col] if amount_col else [])
    missing = [c for c in cols if c not in transactions.columns]
    if missing:
        raise DataContractError(
            f"transactions have no column {', '.join(map(repr, missing))}; "
            f"columns are {', '.join(map(str, transactions.columns))}",
            fix="name the customer, date and amount columns as they appear in the file",
        )
    ids = transactions[customer_col]
    keep = integer_ids and pd.api.types.is_integer_dtype(ids)
    frame = pd.DataFrame({"customer": ids if keep else ids.astype(str)})
    try:
        frame["day"] = pd.to_datetime(transactions[date_col]).dt.normalize()
    except (ValueError, TypeError) as exc:
        raise DataContractError(
            f"column {date_col!r}: dates do not parse ({exc})",
            fix="give dates as YYYY-MM-DD or YYYY-MM-DD HH:MM:SS",
        ) from None
    amount = pd.to_numeric(transactions[amount_col], errors="coerce") if amount_col else 1.0
    frame["amount"] = amount
    frame = frame.dropna(subset=["customer", "day"])
    occasions = frame.groupby(["customer", "day"], sort=True, as_index=False)["amount"].sum()
    positive = occasions["amount"] >= 0
    dropped_occasions = int((~positive).sum())
    all_customers = occasions["customer"].nunique()
    occasions = occasions[positive]

    cal_end = (
        occasions["day"].max() if calibration_end is None else pd.Timestamp(calibration_end)
    ).normalize()
    hold_end = None if holdout_end is None else pd.Timestamp(holdout_end).normalize()
    unit = pd.Timedelta(days=TIME_UNITS[time_unit])

    cal = occasions[occasions["day"] <= cal_end]
    if cal.empty:
        raise InsufficientDataError(
            f"no purchase with a non-negative amount on or before {cal_end:%Y-%m-%d}",
            fix="choose a later calibration end or check the amount column",
        )
    g = cal.groupby("customer", sort=True)
    first, last = g["day"].min(), g["day"].max()
    count = g["day"].size()
    total, first_amount = g["amount"].sum(), g["amount"].first()
    repeat = count - 1
    table = pd.DataFrame(
        {
            "frequency": repeat.astype(float),
            "recency": (last - first) / unit,
            "T": (cal_end - first) / unit,
            "monetary": ((total - first_amount) / repeat.where(repeat > 0)).astype(float),
        }
    )
    if not amount_col:
        table["monetary"] = np.nan
    table.index.name = "customer"
    if hold_end is not None:
        hold = occasions[(occasions["day"] > cal_end) & (occasions["day"] <= hold_end)]
        h = hold.groupby("customer")["amount"].agg(["size", "sum"])
        table["holdout_frequency"] = h["size"].reindex(table.index, fill_value=0).astype(float)
        table["holdout_monetary"] = h["sum"].reindex(table.index, fill_value=0.0).astype(float)
    dropped_customers = all_customers - occasions["customer"].nunique()
    return CustomerSummary(
        table=table,
        time_unit=time_unit,
        calibration_end=cal_end,
        holdout_end=hold_end,
        dropped_occasions=dropped_occasions,
        dropped_customers=int(dropped_customers),
    )
