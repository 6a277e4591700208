"""The sales file behind ``luopan replenish plan|backtest`` and ``luopan forecast``, and the
forecast fitted on it (with the warehouse calendar of ``--exog``: ``_replenish_data``).

The sales file is long: one row per store × SKU × day with the units sold (CSV UTF-8 or GB18030,
optionally gzip, or Parquet). Column names are options, so a FreshRetailNet or ERP export works
as is. Days missing for a series count as zero sales.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from luopan.cli._replenish_data import calendar_for
from luopan.engines.replenish import DemandForecaster, unconstrain_demand
from luopan.engines.replenish.exog import exog_gbm, join_exog
from luopan.errors import DataContractError, SourceError

__all__ = ["fit_forecast", "read_sales", "sales_history"]


def read_sales(
    path: Path,
    *,
    date_col: str,
    store_col: str,
    sku_col: str,
    qty_col: str,
    stockout_col: str | None = None,
) -> pd.DataFrame:
    """Read a sales file into ``unique_id = store_sku, ds, y`` (and ``stockout_hours``), zero-filled."""
    if not path.is_file():
        raise SourceError(f"{path}: no such file", fix="give the path of a daily sales export")
    ids = {store_col: str, sku_col: str}
    try:
        if "".join(path.suffixes).lower().endswith(".parquet"):
            raw = pd.read_parquet(path)
        else:
            try:
                raw = pd.read_csv(path, dtype=ids, encoding="utf-8-sig")
            except UnicodeDecodeError:
                raw = pd.read_csv(path, dtype=ids, encoding="gb18030")
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise SourceError(
            f"{path}: cannot be read ({exc})", fix="export as CSV with a header"
        ) from None
    need = [date_col, store_col, sku_col, qty_col] + ([stockout_col] if stockout_col else [])
    missing = [c for c in need if c not in raw.columns]
    if missing:
        raise DataContractError(
            f"{path}: missing column(s) {missing}; found {list(raw.columns)[:12]}",
            fix="name the columns with --date-col/--store-col/--sku-col/--qty-col",
        )
    out = pd.DataFrame(
        {
            "unique_id": raw[store_col].astype(str) + "_" + raw[sku_col].astype(str),
            "ds": pd.to_datetime(raw[date_col], errors="coerce"),
            "y": pd.to_numeric(raw[qty_col], errors="coerce"),
        }
    )
    if stockout_col:
        out["stockout_hours"] = pd.to_numeric(raw[stockout_col], errors="coerce").fillna(0.0)
    bad = out["ds"].isna() | out["y"].isna()
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0]) + 2
        raise DataContractError(
            f"{path}: line {row}: unreadable date or quantity", fix="fix or drop that row"
        )
    out = out.groupby(["unique_id", "ds"], as_index=False).sum()
    full = pd.MultiIndex.from_product(
        [out["unique_id"].unique(), pd.date_range(out["ds"].min(), out["ds"].max())],
        names=["unique_id", "ds"],
    )
    filled = out.set_index(["unique_id", "ds"]).reindex(full, fill_value=0.0).reset_index()
    keys = pd.DataFrame(
        {
            "unique_id": raw[store_col].astype(str) + "_" + raw[sku_col].astype(str),
            "store_id": raw[store_col].astype(str),
            "sku": raw[sku_col].astype(str),
        }
    ).drop_duplicates("unique_id", ignore_index=True)
    filled.attrs["keys"] = keys  # unique_id -> store_id, sku (for the warehouse calendar)
    return filled


def fit_forecast(
    df: pd.DataFrame, keys: pd.DataFrame, h: int, exog: bool, workspace: Path
) -> tuple[Any, list[str]]:
    """``DemandForecaster`` fitted on ``df`` and its ``h``-day forecast; with ``exog`` the
    warehouse calendar (history and the planned days ahead) is passed along."""
    if not exog:
        return DemandForecaster().fit(df).predict(h), []
    cal = calendar_for(df, keys, workspace, df["ds"].max() + pd.Timedelta(days=h))
    frame, future = join_exog(df, cal, h)
    cols = [c for c in frame.columns if c not in ("unique_id", "ds", "y")]
    return DemandForecaster(gbm=exog_gbm()).fit(frame).predict(h, future=future), cols


def sales_history(
    sales: Path,
    date_col: str,
    store_col: str,
    sku_col: str,
    qty_col: str,
    stockout_col: str | None,
    store: str | None,
    sku: str | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The daily history of the chosen series and their ``unique_id, store_id, sku``."""
    df = read_sales(
        sales,
        date_col=date_col,
        store_col=store_col,
        sku_col=sku_col,
        qty_col=qty_col,
        stockout_col=stockout_col,
    )
    keys = df.attrs["keys"]
    if store is not None:
        df = df[df["unique_id"].str.startswith(f"{store}_")]
    if sku is not None:
        df = df[df["unique_id"].str.endswith(f"_{sku}")]
    if df.empty:
        raise DataContractError(
            f"{sales}: no series for store {store!r} / sku {sku!r}", fix="check --store/--sku"
        )
    if stockout_col:
        df = unconstrain_demand(df)
    return df[["unique_id", "ds", "y"]], keys
