"""Input contract: a daily series, or a long table ``unique_id, ds, y`` of many slices."""

from __future__ import annotations

import numpy as np
import pandas as pd

from luopan.errors import DataContractError

__all__ = ["to_long", "to_wide"]

DEFAULT_ID = "series"


def to_long(
    data: pd.Series | pd.DataFrame,
    *,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
) -> pd.DataFrame:
    """Validate ``data`` and return it as ``unique_id`` (str), ``ds`` (day), ``y`` (float).

    Accepts a Series with a date index (one series, id ``series``), or a DataFrame with
    ``time_col`` and ``target_col`` columns and an optional ``id_col`` (one series per id);
    a DataFrame with a date index and a ``target_col`` column is read like a Series.

    Raises:
        DataContractError: a missing column, a non-numeric or infinite value, timestamps that
            are not whole days, or two rows for the same series and day.
    """
    if isinstance(data, pd.Series):
        frame = pd.DataFrame({time_col: data.index, target_col: data.to_numpy()})
    elif isinstance(data, pd.DataFrame):
        frame = data
        if time_col not in frame.columns and isinstance(frame.index, pd.DatetimeIndex):
            frame = frame.rename_axis(time_col).reset_index()
    else:
        raise DataContractError(
            f"anomaly detection expects a pandas Series or DataFrame, got {type(data).__name__}",
            fix="pass a Series indexed by date, or a DataFrame with columns ds, y (and unique_id)",
        )
    for col in (time_col, target_col):
        if col not in frame.columns:
            raise DataContractError(
                f"column {col!r} is missing (columns: {', '.join(map(str, frame.columns))})",
                fix=f"rename your date column to {time_col!r} and the value to {target_col!r}, "
                "or pass time_col=/target_col=",
            )
    ids = (
        frame[id_col].astype(str).to_numpy()
        if id_col in frame.columns
        else np.full(len(frame), DEFAULT_ID, dtype=object)
    )
    try:
        ds = pd.to_datetime(frame[time_col].to_numpy())
    except (TypeError, ValueError) as exc:
        raise DataContractError(
            f"column {time_col!r} is not a date: {exc}", fix="pass dates such as 2026-11-11"
        ) from exc
    if ds.tz is not None:
        ds = ds.tz_localize(None)
    if ds.hasnans:
        raise DataContractError(f"column {time_col!r} has empty dates", fix="drop those rows")
    if (ds != ds.normalize()).any():
        raise DataContractError(
            f"column {time_col!r} has times of day; the detector works on daily series",
            fix="aggregate to one value per day (e.g. group by the date) before detecting",
        )
    try:
        y = pd.to_numeric(frame[target_col]).to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataContractError(
            f"column {target_col!r} is not numeric: {exc}", fix="pass numbers (NaN = missing)"
        ) from exc
    if np.isinf(y).any():
        raise DataContractError(
            f"column {target_col!r} has infinite values", fix="replace them with NaN or drop them"
        )
    long = pd.DataFrame({"unique_id": ids, "ds": ds, "y": y})
    dup = long.duplicated(["unique_id", "ds"])
    if dup.any():
        row = long[dup].iloc[0]
        raise DataContractError(
            f"series {row['unique_id']!r} has {int(dup.sum())} repeated day(s), "
            f"first {row['ds']:%Y-%m-%d}",
            fix="aggregate to one row per unique_id and day",
        )
    return long.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)


def to_wide(long: pd.DataFrame) -> tuple[pd.DatetimeIndex, list[str], np.ndarray]:
    """Days (consecutive, first to last) × series matrix of ``y``; absent days are NaN."""
    ids = sorted(long["unique_id"].unique().tolist())
    if long.empty:
        return pd.DatetimeIndex([]), ids, np.empty((0, 0))
    days = pd.date_range(long["ds"].min(), long["ds"].max(), freq="D")
    wide = long.pivot(index="ds", columns="unique_id", values="y").reindex(index=days, columns=ids)
    return days, ids, wide.to_numpy(dtype=float)
