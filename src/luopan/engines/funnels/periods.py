"""Calendar periods (day / week / month) as integer indexes, identical on DuckDB and Spark.

Weeks start on Monday (ISO 8601; ``DATE_TRUNC('week')`` on both engines); a month is the
calendar month. An index is a plain integer so that "k periods later" is a subtraction.
"""

from __future__ import annotations

from typing import Literal

import ibis.expr.types as ir
import pandas as pd

from luopan.errors import ConfigError

__all__ = ["PERIODS", "Period", "check_period", "period_index", "period_start"]

Period = Literal["day", "week", "month"]
PERIODS: tuple[str, ...] = ("day", "week", "month")
_EPOCH_MONDAY_OFFSET = 4  # 1970-01-01 is a Thursday; Mondays have epoch day = 4 (mod 7)


def check_period(period: str) -> None:
    if period not in PERIODS:
        raise ConfigError(f"unknown period {period!r}", fix=f"use one of: {', '.join(PERIODS)}")


def period_index(ts: ir.TimestampValue, period: str) -> ir.IntegerValue:
    """Integer index of the calendar period holding ``ts``."""
    check_period(period)
    if period == "day":
        return ts.date().epoch_days()
    if period == "week":
        return (ts.date().epoch_days() - _EPOCH_MONDAY_OFFSET) // 7
    return ts.year() * 12 + ts.month() - 1


def period_start(index: int, period: str) -> pd.Timestamp:
    """First day of the period with this index (inverse of ``period_index``)."""
    check_period(period)
    epoch = pd.Timestamp("1970-01-01")
    if period == "day":
        return epoch + pd.Timedelta(days=int(index))
    if period == "week":
        return epoch + pd.Timedelta(days=int(index) * 7 + _EPOCH_MONDAY_OFFSET)
    return pd.Timestamp(year=int(index) // 12, month=int(index) % 12 + 1, day=1)
