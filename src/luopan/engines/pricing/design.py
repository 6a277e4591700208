"""From a long price-and-sales frame to the regression tensors of the elasticity model.

The model per series is ``log E[units_t] = a + e·log(price_t) + controls_t`` with controls for
promotion mechanics (feature, display), the periods after a promotion (pull-forward dip),
weekly seasonality (day-of-week dummies on daily data, annual Fourier terms on weekly data),
Chinese public holidays and shopping festivals (``luopan.engines.anomaly.calendar``), a linear
trend and, when given, store traffic. Censored periods (a stock-out) get weight 0 and keep
their units sold as a lower bound (``Panel.lower``) for the censored likelihood of :mod:`.glm`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from luopan.engines.anomaly.calendar import china_events, event_days
from luopan.errors import DataContractError

__all__ = ["Panel", "build_panel", "calendar_features", "design_tensor"]

Calendar = Literal["cn", "none"]
REQUIRED = ("unique_id", "ds", "y", "price")


@dataclass(frozen=True)
class Panel:
    """Wide arrays (series × periods) and the common control columns."""

    ids: np.ndarray
    dates: pd.DatetimeIndex
    period_days: int
    y: np.ndarray
    log_price: np.ndarray  # centred per series
    price_ref: np.ndarray  # per-series geometric mean price (the centring point)
    weight: np.ndarray
    promo: np.ndarray
    post: np.ndarray
    flags: dict[str, np.ndarray]  # feature / display (series × periods)
    common: dict[str, np.ndarray]  # controls shared by all series (periods,)
    controls: dict[str, np.ndarray] | None = None  # per-series controls (series × periods)
    lower: np.ndarray | None = None  # units sold in censored periods (a lower bound), else NaN


def _wide(frame: pd.DataFrame, col: str, ids: pd.Index, dates: pd.DatetimeIndex) -> np.ndarray:
    pv = frame.pivot(index="unique_id", columns="ds", values=col)
    return pv.reindex(index=ids, columns=dates).to_numpy(dtype=np.float64)


def build_panel(
    frame: pd.DataFrame,
    *,
    calendar: Calendar = "cn",
    traffic: pd.Series | None = None,
    post_periods: int | None = None,
) -> Panel:
    """Validate ``frame`` and pivot it into a :class:`Panel`.

    Args:
        frame: one row per series and period: ``unique_id, ds, y`` (units), ``price`` (unit
            price paid, > 0) and optionally ``promo`` (temporary price cut, 0/1), ``feature``,
            ``display`` (0/1), ``censored`` (1 = stock-out, sales are a lower bound),
            ``traffic`` (the series' own store traffic; its log is a control, and a period
            without traffic, a closed store, is left out of the fit).
        calendar: ``cn`` adds Chinese holiday and festival dummies; ``none`` leaves them out.
        traffic: store traffic (e.g. orders per period) indexed by ``ds``; its log is a control.
        post_periods: periods after a promotion flagged as post-promotion (default 7 days on
            daily data, 1 week on weekly data).

    Raises:
        DataContractError: a required column is missing, or a price is not positive.
    """
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise DataContractError(
            f"price history is missing column(s) {missing}; found {list(frame.columns)[:12]}",
            fix="give one row per series and period with unique_id, ds, y, price",
        )
    df = frame.copy()
    df["ds"] = pd.to_datetime(df["ds"])
    df["unique_id"] = df["unique_id"].astype(str)
    bad = ~(pd.to_numeric(df["price"], errors="coerce") > 0)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataContractError(
            f"price history row {row}: price {df['price'].iloc[row]!r} is not a positive number",
            fix="drop rows without a valid price",
        )
    df = df.drop_duplicates(["unique_id", "ds"], keep="last")
    dates = pd.DatetimeIndex(np.sort(df["ds"].unique()))
    step = int(pd.Series(dates).diff().dt.days.median()) if len(dates) > 1 else 1
    period_days = 7 if step >= 6 else 1
    dates = pd.date_range(dates[0], dates[-1], freq=f"{period_days}D")
    ids = pd.Index(np.sort(df["unique_id"].unique()))
    y = _wide(df, "y", ids, dates)
    price = _wide(df, "price", ids, dates)
    weight = np.isfinite(y) & np.isfinite(price)
    own_traffic = _wide(df, "traffic", ids, dates) if "traffic" in df.columns else None
    if own_traffic is not None:  # no orders at the location that day (closed): no information
        weight &= np.nan_to_num(own_traffic) > 0
    lower = None
    if "censored" in df.columns:
        cens = (np.nan_to_num(_wide(df, "censored", ids, dates)) > 0) & weight
        lower = np.where(cens, y, np.nan)
        weight &= ~cens
    lp = np.log(np.where(price > 0, price, np.nan))
    used = weight | np.isfinite(lower) if lower is not None else weight
    used = used & np.isfinite(lp)
    ref = np.where(used, lp, 0.0).sum(1) / np.maximum(used.sum(1), 1)
    seen = np.isfinite(lp)
    fallback = np.where(seen, lp, 0.0).sum(1) / np.maximum(seen.sum(1), 1)
    ref = np.asarray(np.where(used.any(1), ref, fallback), dtype=np.float64)
    lpc = np.where(np.isfinite(lp), lp - ref[:, None], 0.0)
    if "promo" in df.columns:
        promo = np.nan_to_num(_wide(df, "promo", ids, dates)) > 0
    else:  # a price 5% or more under the series' running regular price
        regular = pd.DataFrame(price.T).ffill().rolling(8, min_periods=1).max().to_numpy().T
        promo = price < 0.95 * regular
    flags = {c: np.nan_to_num(_wide(df, c, ids, dates)) for c in ("feature", "display") if c in df}
    mech = promo.copy()
    for f in flags.values():
        mech |= f > 0
    k = post_periods if post_periods is not None else (7 if period_days == 1 else 1)
    post = np.zeros_like(mech)
    for lag in range(1, k + 1):
        post[:, lag:] |= mech[:, :-lag]
    post &= ~mech
    common = _common_controls(dates, period_days, calendar)
    if traffic is not None:
        tr = pd.Series(traffic).copy()
        tr.index = pd.to_datetime(tr.index)
        lt = np.log(tr.reindex(dates).to_numpy(dtype=np.float64))
        if np.isfinite(lt).any():
            lt = np.where(np.isfinite(lt), lt, np.nanmean(lt))
            common["log_traffic"] = lt - lt.mean()
    controls: dict[str, np.ndarray] = {}
    if own_traffic is not None:  # per-series traffic (e.g. the orders of its store)
        with np.errstate(divide="ignore", invalid="ignore"):
            lt = np.log(own_traffic)
        lt = np.where(np.isfinite(lt), lt, np.nan)
        mean = np.nan_to_num(np.nanmean(np.where(weight, lt, np.nan), axis=1))
        controls["log_traffic_series"] = np.where(np.isfinite(lt), lt - mean[:, None], 0.0)
    return Panel(
        ids=ids.to_numpy(),
        dates=dates,
        period_days=period_days,
        y=np.where(weight, y, np.nan),
        log_price=lpc,
        price_ref=np.exp(ref),
        weight=weight.astype(np.float64),
        promo=promo,
        post=post,
        flags=flags,
        common=common,
        controls=controls,
        lower=lower,
    )


def _common_controls(
    dates: pd.DatetimeIndex, period_days: int, calendar: Calendar, *, drop_constant: bool = True
) -> dict[str, np.ndarray]:
    t = len(dates)
    out: dict[str, np.ndarray] = {"trend": (np.arange(t) - (t - 1) / 2) / max(t, 1)}
    if period_days == 1:
        for d in range(1, 7):
            out[f"dow_{d}"] = (dates.day_of_week == d).astype(np.float64)
    else:
        doy = 2 * np.pi * dates.day_of_year.to_numpy() / 365.25
        if t >= 80:  # more than a year and a half: the annual cycle is identified
            for h in (1, 2):
                out[f"sin{h}"] = np.sin(h * doy)
                out[f"cos{h}"] = np.cos(h * doy)
    if calendar == "cn":
        days = pd.date_range(dates[0] - pd.Timedelta(days=period_days - 1), dates[-1])
        labels, _ = event_days(days, china_events(days[0].date(), days[-1].date()))
        names = sorted({str(x) for x in labels if x is not None})
        pos = np.searchsorted(dates.to_numpy(), days.to_numpy())  # period ending on/after day
        for name in names:
            hit = np.zeros(t)
            np.add.at(hit, np.minimum(pos, t - 1), (labels == name).astype(np.float64))
            if (hit > 0).sum() >= 1:
                out[f"event_{name}"] = hit / period_days
    if not drop_constant:
        return out
    return {k: v for k, v in out.items() if np.ptp(v) > 0}


def calendar_features(dates: pd.DatetimeIndex, calendar: Calendar = "cn") -> pd.DataFrame:
    """Day-of-week and holiday/festival columns of consecutive ``dates`` (daily)."""
    cols = _common_controls(dates, 1, calendar, drop_constant=False)
    cols.pop("trend", None)
    return pd.DataFrame(cols, index=dates)


def design_tensor(
    panel: Panel,
    rows: slice | np.ndarray,
    *,
    span: slice = slice(None),
    extra: np.ndarray | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Design ``X[series, period, column]`` for ``rows`` (and periods ``span``) of the panel.

    Column 0 is the intercept, column 1 the centred log price; then the mechanic flags,
    post-promotion, the common controls and ``extra`` (series × periods) if given.
    """
    lp = panel.log_price[rows, span]
    n, t = lp.shape
    cols: list[np.ndarray] = [np.ones((n, t)), lp]
    names = ["intercept", "log_price"]
    for name, f in panel.flags.items():
        cols.append(f[rows, span])
        names.append(name)
    cols.append(panel.post[rows, span].astype(np.float64))
    names.append("post_promo")
    for name, c in panel.common.items():
        cols.append(np.broadcast_to(c[span], (n, t)))
        names.append(name)
    for name, c in (panel.controls or {}).items():
        cols.append(c[rows, span])
        names.append(name)
    if extra is not None:
        cols.append(extra)
        names.append("cross_price")
    return np.stack(cols, axis=-1), names
