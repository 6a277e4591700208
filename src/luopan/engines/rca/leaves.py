"""Leaf tables for localisation from a per-period table of numerator and denominator.

A ratio KPI (success rate, conversion rate, AOV) is observed as two additive measures per
leaf and period. The snapshot to explain is one period; the expectation per leaf is the
mean of the previous ``history`` periods in which the leaf appears (0 when it never does),
as in the RobustSpot dataset's own forecast.

References:
    RobustSpot project, ``predict.py`` (``get_predict_df``), as adapted in RiskLoc's
    ``utils/robustspot_data_utils.py`` (Kalander, arXiv:2205.10004).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from luopan.errors import DataContractError

__all__ = ["leaves_from_periods"]


def leaves_from_periods(
    frame: pd.DataFrame,
    at: object,
    *,
    dimensions: Sequence[str],
    period: str = "min",
    numerator: str = "value",
    denominator: str = "cnt",
    history: int = 4,
    step: float = 60,
) -> pd.DataFrame:
    """Build a ratio leaf table (``real_a, predict_a, real_b, predict_b``) for period ``at``.

    Args:
        frame: one row per (period, leaf) with the dimension columns and both measures.
        at: the period to explain; history periods are ``at - k*step`` for k = 1..history.
        dimensions: the dimension columns.
        period, numerator, denominator: column names.
        history: number of earlier periods averaged into the expectation.
        step: distance between two periods, in the unit of ``period``.

    Returns:
        One row per leaf present at ``at``: the dimensions (as text) and the four measures.

    Raises:
        DataContractError: a column is missing or no row falls on ``at``.
    """
    missing = [c for c in (period, numerator, denominator, *dimensions) if c not in frame.columns]
    if missing:
        raise DataContractError(
            f"the period table lacks column(s) {missing}",
            fix="name the period, numerator, denominator and dimension columns",
        )
    dims = list(dimensions)
    current = frame.loc[frame[period] == at, [*dims, numerator, denominator]]
    if current.empty:
        raise DataContractError(
            f"no row falls on period {at!r}", fix="pick a period that exists in the table"
        )
    times = [at - k * step for k in range(1, history + 1)]  # type: ignore[operator]
    past = frame.loc[frame[period].isin(times), [*dims, numerator, denominator]]
    expected = past.groupby(dims, sort=False)[[numerator, denominator]].mean()
    current = current.groupby(dims, sort=False)[[numerator, denominator]].sum()
    expected.columns = [f"{numerator}_expected", f"{denominator}_expected"]
    joined = current.join(expected, how="left").fillna(0.0)
    out = joined.reset_index()
    out = out.rename(
        columns={
            numerator: "real_a",
            denominator: "real_b",
            f"{numerator}_expected": "predict_a",
            f"{denominator}_expected": "predict_b",
        }
    )
    for d in dims:
        out[d] = out[d].astype(str)
    return out[[*dims, "real_a", "predict_a", "real_b", "predict_b"]]
