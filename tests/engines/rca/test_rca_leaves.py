"""Per-period ratio tables → leaf tables: RobustSpot's forecast (mean of the 4 earlier periods
in which the leaf appears; 0 when it never does), as the RS README of ../shared/data/rca says."""

from __future__ import annotations

import pandas as pd
import pytest

from luopan.engines.rca import leaves_from_periods
from luopan.errors import DataContractError


def minutes() -> pd.DataFrame:
    rows = []
    for k, (v, c) in enumerate([(90, 100), (80, 100), (70, 100), (60, 100), (50, 100)]):
        rows.append({"min": 1000 - 60 * (4 - k), "cdn": 1, "isp": "电信", "value": v, "cnt": c})
    # a leaf seen in only two of the four earlier minutes
    rows += [
        {"min": 820, "cdn": 2, "isp": "联通", "value": 10, "cnt": 20},
        {"min": 940, "cdn": 2, "isp": "联通", "value": 30, "cnt": 40},
        {"min": 1000, "cdn": 2, "isp": "联通", "value": 5, "cnt": 10},
    ]
    # a leaf new at the anomaly minute, and a row older than the 4-minute history
    rows += [
        {"min": 1000, "cdn": 3, "isp": "移动", "value": 1, "cnt": 2},
        {"min": 700, "cdn": 1, "isp": "电信", "value": 999, "cnt": 999},
    ]
    return pd.DataFrame(rows)


def test_expectation_is_the_mean_of_the_earlier_periods() -> None:
    leaves = leaves_from_periods(minutes(), 1000, dimensions=["cdn", "isp"])
    got = leaves.set_index(["cdn", "isp"])
    assert list(leaves.columns) == ["cdn", "isp", "real_a", "predict_a", "real_b", "predict_b"]
    assert got.loc[("1", "电信")].tolist() == [50, pytest.approx(75.0), 100, 100.0]
    assert got.loc[("2", "联通")].tolist() == [5, 20.0, 10, 30.0]
    assert got.loc[("3", "移动")].tolist() == [1, 0.0, 2, 0.0]
    assert len(leaves) == 3


def test_missing_period_or_column_is_named() -> None:
    with pytest.raises(DataContractError, match="no row falls on period 5"):
        leaves_from_periods(minutes(), 5, dimensions=["cdn"])
    with pytest.raises(DataContractError, match="region"):
        leaves_from_periods(minutes(), 1000, dimensions=["region"])
