"""The warehouse's calendar as exogenous columns per store × SKU × day, as known at an origin.

``calendar_exog`` turns the canonical tables into the columns ``GlobalGBM`` reads
(``global_gbm.EXOG_COLUMNS``), one row per series (store × SKU) and day:

- ``price``: the day's price from ``prices`` (the store's own row; else the mean of the SKU's
  rows that are not another store's, i.e. a national list such as the demo's ``ALL`` or a
  channel price);
- ``promo``: 1 when any of those rows has ``is_promo``;
- ``discount``: 1 − price / ``products.list_price`` (clipped to [0, 1]), when the list price is
  known;
- ``activity_flag``: 1 when a campaign (``campaigns.start_date`` … ``end_date``) runs that day on
  a channel the store sells through (``channels``; a campaign with no channel counts for all).

``known_at`` keeps only what a planner knew at a forecast origin: every row up to the origin
(observed), the rows of the next ``known_ahead`` days (the promotion calendar and planned
prices, published ahead), and for later days the last regular (non-promotion) price at the
origin with no promotion and no campaign. A day the tables do not cover is treated the same
way, so a promotion on the origin's day is never carried into the future. This is the setting
of the promotion-calendar-as-input forecasts of Fildes, Ma & Kolassa (2022) and of the weekly
backtest here (promotions known two weeks ahead).

References:
    Fildes, R., Ma, S. & Kolassa, S. (2022). Retail forecasting: research and practice. IJF 38(4)
    (promotion calendars, prices and holidays as inputs known at the forecast origin).
    Makridakis, Spiliotis & Assimakopoulos (2022). M5 accuracy competition. IJF 38(4) (prices,
    SNAP and event calendars given for the forecast days).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from luopan.engines.replenish.global_gbm import GlobalGBM
from luopan.errors import DataContractError

if TYPE_CHECKING:
    from luopan.engines.replenish.forecast import DemandForecaster, ForecastResult

__all__ = [
    "CALENDAR_COLUMNS",
    "GBM_ORIGINS",
    "calendar_exog",
    "exog_gbm",
    "fit_predict",
    "join_exog",
    "known_at",
]

CALENDAR_COLUMNS: tuple[str, ...] = ("price", "discount", "promo", "activity_flag")
# ``GlobalGBM`` trains on its latest 26 origins (about 15 weeks at its 4-day step) when the
# product paths hand it the calendar: a bound on the time of a fit on long histories (on the
# demo world's 1,920 series × 280 days, about 13 s on one core instead of 40); the
# FreshRetailNet figures (62 training days, 13 origins) are unchanged by it.
GBM_ORIGINS = 26


def exog_gbm() -> GlobalGBM:
    """The ``GlobalGBM`` settings of the product paths (``GBM_ORIGINS``)."""
    return GlobalGBM(max_origins=GBM_ORIGINS)


def calendar_exog(
    series: pd.DataFrame,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    prices: pd.DataFrame | None = None,
    products: pd.DataFrame | None = None,
    campaigns: pd.DataFrame | None = None,
    channels: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Exogenous columns per series and day from the warehouse's calendar tables.

    Args:
        series: ``unique_id, store_id, sku``: one row per series.
        start, end: first and last day of the frame (history and forecast days).
        prices: ``date, sku, store_id, price[, is_promo]`` (the canonical ``prices``).
        products: ``sku, list_price`` (for ``discount``).
        campaigns: ``start_date, end_date[, channel]`` (the canonical ``campaigns``).
        channels: the channels the stores sell through (``None``: every campaign counts).

    Returns:
        ``unique_id, ds`` and those of ``price, discount, promo, activity_flag`` the tables
        give (``price`` NaN on days without a price row), every series on every day.

    Raises:
        DataContractError: ``series`` or a table lacks a column.
    """
    _need(series, {"unique_id", "store_id", "sku"}, "series")
    days = pd.date_range(pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize())
    keys = series[["unique_id", "store_id", "sku"]].drop_duplicates("unique_id").astype(str)
    out = pd.DataFrame(
        {
            "unique_id": np.repeat(keys["unique_id"].to_numpy(), len(days)),
            "store_id": np.repeat(keys["store_id"].to_numpy(), len(days)),
            "sku": np.repeat(keys["sku"].to_numpy(), len(days)),
            "ds": np.tile(days, len(keys)),
        }
    )
    cols: list[str] = []
    if prices is not None and len(prices):
        _need(prices, {"date", "sku", "store_id", "price"}, "prices")
        out = out.merge(_store_prices(prices, keys, days), on=["store_id", "sku", "ds"], how="left")
        cols += ["price", "promo"]
        out["promo"] = out["promo"].fillna(0.0)
        if products is not None and "list_price" in products.columns:
            lp = products.drop_duplicates("sku").set_index(products["sku"].astype(str))
            list_price = pd.to_numeric(lp["list_price"], errors="coerce")
            ref = out["sku"].map(list_price).to_numpy(dtype=float)
            with np.errstate(divide="ignore", invalid="ignore"):
                disc = np.where(ref > 0, 1.0 - out["price"].to_numpy(dtype=float) / ref, np.nan)
            out["discount"] = np.clip(disc, 0.0, 1.0)
            cols.insert(1, "discount")
    if campaigns is not None and len(campaigns):
        _need(campaigns, {"start_date", "end_date"}, "campaigns")
        camp = campaigns
        if channels is not None and "channel" in camp.columns:
            wanted = set(channels)
            camp = camp[camp["channel"].isna() | camp["channel"].isin(wanted)]
        on = np.zeros(len(days), dtype=bool)
        for s, e in zip(
            pd.to_datetime(camp["start_date"]), pd.to_datetime(camp["end_date"]), strict=True
        ):
            lo = days[0] if pd.isna(s) else s.normalize()
            hi = days[-1] if pd.isna(e) else e.normalize()
            on |= (days >= lo) & (days <= hi)
        out["activity_flag"] = np.tile(on.astype(float), len(keys))
        cols.append("activity_flag")
    return out[["unique_id", "ds", *cols]]


def _need(frame: pd.DataFrame, cols: set[str], name: str) -> None:
    missing = cols - set(frame.columns)
    if missing:
        raise DataContractError(
            f"{name} lacks column(s) {sorted(missing)}", fix=f"pass {name} with {sorted(cols)}"
        )


def _store_prices(prices: pd.DataFrame, keys: pd.DataFrame, days: pd.DatetimeIndex) -> pd.DataFrame:
    """``store_id, sku, ds, price, promo``: each series' own store row, else the SKU's rows that
    belong to no store of ``keys`` (national list, channels), averaged."""
    p = pd.DataFrame(
        {
            "ds": pd.to_datetime(prices["date"]).dt.normalize(),
            "sku": prices["sku"].astype(str),
            "store_id": prices["store_id"].astype(str),
            "price": pd.to_numeric(prices["price"], errors="coerce"),
            "promo": (
                prices["is_promo"].fillna(False).astype(float)
                if "is_promo" in prices.columns
                else 0.0
            ),
        }
    )
    p = p[(p["ds"] >= days[0]) & (p["ds"] <= days[-1]) & p["sku"].isin(set(keys["sku"]))]
    stores = set(keys["store_id"])
    own = p[p["store_id"].isin(stores)]
    own = own.groupby(["store_id", "sku", "ds"], as_index=False).agg(
        price=("price", "mean"), promo=("promo", "max")
    )
    shared = p[~p["store_id"].isin(stores)]
    shared = shared.groupby(["sku", "ds"], as_index=False).agg(
        price=("price", "mean"), promo=("promo", "max")
    )
    pairs = keys[["store_id", "sku"]].drop_duplicates()
    fallback = pairs.merge(shared, on="sku")
    both = pd.concat([own, fallback], ignore_index=True)
    return both.drop_duplicates(["store_id", "sku", "ds"], keep="first")


def known_at(
    exog: pd.DataFrame,
    origin: pd.Timestamp,
    *,
    known_ahead: int | None = None,
) -> pd.DataFrame:
    """``exog`` as a planner saw it at the end of day ``origin`` (see the module docstring).

    Args:
        exog: ``calendar_exog``'s frame.
        origin: the last day observed.
        known_ahead: days after the origin whose rows are known (the published promotion
            calendar and planned prices); ``None``: every row in ``exog`` (a live plan, where
            rows after today exist only because someone planned them).

    Returns:
        The same rows; after ``origin + known_ahead`` (and where ``price`` is missing after the
        origin) ``price`` is the last regular price at the origin, ``promo`` and
        ``activity_flag`` 0, ``discount`` that of the regular price.
    """
    origin = pd.Timestamp(origin)
    out = exog.copy()
    ds = pd.to_datetime(out["ds"])
    after = ds > origin
    if known_ahead is None:
        unknown = pd.Series(False, index=out.index)
    else:
        unknown = ds > origin + pd.Timedelta(days=known_ahead)
    if "price" in out.columns:
        unknown |= after & out["price"].isna()
        past = out[~after & out["price"].notna()].sort_values("ds")
        if "promo" in past.columns:  # the last regular row; a series always on promotion: its last
            regular = past[past["promo"] == 0]
            past = pd.concat([past[~past["unique_id"].isin(regular["unique_id"])], regular])
        last = past.sort_values("ds").groupby("unique_id").last()
        for c in ("price", "discount"):
            if c in out.columns:
                ref = out.loc[unknown, "unique_id"].map(last[c])
                out.loc[unknown, c] = ref.to_numpy(dtype=float)
    for c in ("promo", "activity_flag"):
        if c in out.columns:
            out.loc[unknown, c] = 0.0
    return out


def join_exog(
    history: pd.DataFrame,
    exog: pd.DataFrame,
    h: int,
    *,
    known_ahead: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """History with its exogenous columns, and the exogenous rows of the next ``h`` days.

    The origin is the last day of ``history`` (``unique_id, ds, y``). Columns of ``exog`` that
    are missing on every history day are dropped (the forecaster then ignores them).

    Returns:
        ``(frame, future)``: ``frame`` for ``DemandForecaster.fit``, ``future`` (``unique_id,
        ds`` + columns, days after the origin) for ``DemandForecaster.predict``.
    """
    origin = pd.to_datetime(history["ds"]).max()
    seen = known_at(exog, origin, known_ahead=known_ahead)
    seen = seen[pd.to_datetime(seen["ds"]) <= origin + pd.Timedelta(days=h)]
    hist_rows = seen[pd.to_datetime(seen["ds"]) <= origin]
    cols = [c for c in seen.columns if c not in ("unique_id", "ds") and hist_rows[c].notna().any()]
    keyed = history.assign(
        unique_id=history["unique_id"].astype(str), ds=pd.to_datetime(history["ds"])
    )
    right = seen[["unique_id", "ds", *cols]].assign(ds=lambda f: pd.to_datetime(f["ds"]))
    frame = keyed.drop(columns=[c for c in cols if c in keyed.columns]).merge(
        right, on=["unique_id", "ds"], how="left"
    )
    future = right[right["ds"] > origin].reset_index(drop=True)
    return frame, future


def fit_predict(
    forecaster: DemandForecaster,
    history: pd.DataFrame,
    h: int,
    exog: pd.DataFrame | None = None,
    *,
    known_ahead: int | None = None,
) -> ForecastResult:
    """``forecaster`` fitted on ``history`` and its ``h``-day forecast; with ``exog`` the
    calendar goes along (``join_exog``: the history's rows, and the next ``h`` days as known
    ``known_ahead`` days ahead of the last day of ``history``)."""
    if exog is None:
        return forecaster.fit(history).predict(h)
    frame, future = join_exog(history, exog, h, known_ahead=known_ahead)
    return forecaster.fit(frame).predict(h, future=future)
