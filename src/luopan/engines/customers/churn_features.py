"""Per-customer features and the label of the churn model at one cutoff (no look-ahead).

Everything is computed from purchases on or before the cutoff; only the label looks at
(cutoff, cutoff + h]. Features:

- RFM and age: days since the last purchase, repeat purchases, days since the first, mean
  repeat spend, first and last purchase amounts;
- recent activity: purchase days in the last 30 / 90 / 180 days, the change of the last 90
  days against the 90 before (count and spend), spend in the last 90 days;
- the customer's own rhythm: mean, median, last and standard deviation of the gaps between
  purchase days, and how overdue the customer is against the mean gap (recency / mean gap);
- BG/NBD fitted at the cutoff: P(alive), P(no purchase in h), expected purchases in h
  (Fader, Hardie & Lee 2005);
- returns (days whose net amount is negative) and, when the occasions carry an ``item``
  column, category/product breadth (distinct items ever and in the last 90 days);
- what and how the customer buys (``BASKET``), from the order lines when they carry them:
  units per line (median ``quantity`` of the bought lines) and the mean unit price (spend /
  units) — wholesale against retail buyers; the returned share of the spend (negative lines
  against positive ones); when ``day`` carries times of day, the mean hour of the orders
  (office-hours business buyers against evening consumers); the share of orders placed on a
  weekend. A feature whose source column is absent is 0 for everyone (the model drops it).
  ``ChurnModel`` reads them only with ``basket=True`` (see churn.py for why).

``design_matrix`` maps them to the scale the additive (spline) model reads: logarithms of
counts, amounts and durations (heavy-tailed), the logit of P(no purchase), indicators.

References:
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting Your Customers" the Easy Way.
    Marketing Science 24(2), 275–284.
    Buckinx, W. & Van den Poel, D. (2005). Customer base analysis: partial defection of
    behaviourally loyal clients in a non-contractual FMCG retail setting. EJOR 164(1), 252–268
    (inter-purchase time, its variability and spend trends as defection predictors).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import logit

from luopan.engines.customers.bg_nbd import BetaGeoModel
from luopan.engines.customers.summary import summarize_transactions
from luopan.errors import DataContractError

__all__ = ["BASKET", "FEATURES", "churn_features", "design_matrix"]

#: what and how the customer buys (order-line content), see ``_basket``
BASKET = ("units_per_line", "unit_price", "returned_share", "order_hour", "weekend_share")

FEATURES = (
    "recency",
    "frequency",
    "age",
    "monetary",
    "n_30",
    "n_90",
    "n_180",
    "trend_90",
    "mean_gap",
    "overdue",
    "first_amount",
    "last_amount",
    "p_alive",
    "p_no_purchase",
    "expected_purchases",
    "gap_last",
    "gap_median",
    "gap_std",
    "spend_90",
    "spend_trend_90",
    "returns",
    "breadth",
    "breadth_90",
    *BASKET,
)


def _gaps(hist: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    days = hist[["customer", "day"]].drop_duplicates().sort_values(["customer", "day"])
    gap = days.groupby("customer")["day"].diff().dt.days
    g = gap.groupby(days["customer"])
    return pd.DataFrame(
        {"gap_last": g.last(), "gap_median": g.median(), "gap_std": g.std()}
    ).reindex(index)


def _basket(past: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    """Per customer: units per line, unit price, returned share, order hour, weekend share."""
    out = pd.DataFrame(0.0, index=index, columns=list(BASKET))
    bought = past[past["amount"] > 0]
    g = bought.groupby("customer")
    spend = g["amount"].sum()
    if "quantity" in past:
        units = pd.to_numeric(bought["quantity"], errors="coerce")
        units = units.where(units > 0)
        out["units_per_line"] = units.groupby(bought["customer"]).median()
        out["unit_price"] = spend / units.groupby(bought["customer"]).sum()
    returned = -past.loc[past["amount"] < 0].groupby("customer")["amount"].sum()
    out["returned_share"] = (returned.reindex(spend.index, fill_value=0.0) / spend).clip(0, 1)
    # one row per order: a distinct (customer, time stamp) of a bought line
    orders = bought[["customer", "stamp"]].drop_duplicates()
    stamp = orders["stamp"].dt
    if (stamp.hour + stamp.minute > 0).any():  # times of day are known
        hour = stamp.hour + stamp.minute / 60.0
        out["order_hour"] = hour.groupby(orders["customer"]).mean()
    out["weekend_share"] = (stamp.day_of_week >= 5).groupby(orders["customer"]).mean()
    return out.reindex(index).fillna(0.0)


def churn_features(
    occasions: pd.DataFrame,
    cutoff: str | pd.Timestamp,
    *,
    horizon_days: int = 45,
    lines: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Features of every customer with a purchase on or before ``cutoff``, and the label.

    Args:
        occasions: one row per purchase (or purchase line), columns ``customer`` (IDs, taken
            as strings, or integer codes, kept as integers), ``day``
            (a date, or a time stamp: its time of day feeds ``order_hour``), ``amount`` and
            optionally ``item`` (SKU or category, for breadth) and ``quantity`` (units of the
            line, for units per line and unit price).
        cutoff: last day of the known history.
        lines: the items bought, when they are not rows of ``occasions`` (e.g. purchase days
            from the orders, items from the order lines): ``customer`` (the same keys),
            ``day``, ``item`` and optionally ``lines`` (how many lines the row stands for) and
            ``amount`` (rows of negative amount are not purchases); breadth is read from them
            instead of from the occasions' ``item``.
        horizon_days: the label window (cutoff, cutoff + h].

    Returns:
        Index customer; the columns of ``FEATURES``, ``churned`` (1 = no purchase in the window,
        NaN when the window reaches past the data) and ``bg_nbd_converged``.
    """
    missing = {"customer", "day", "amount"} - set(occasions.columns)
    if missing:
        raise DataContractError(f"occasions lack column(s) {sorted(missing)}")
    cut = pd.Timestamp(cutoff).normalize()
    stamp = pd.to_datetime(occasions["day"])
    ids = occasions["customer"]
    coded = pd.api.types.is_integer_dtype(ids)  # integer codes stay integers (faster)
    occ = occasions.assign(
        stamp=stamp,
        day=stamp.dt.normalize(),
        customer=ids if coded else ids.astype(str),
    )
    summary = summarize_transactions(
        occ,
        customer_col="customer",
        date_col="day",
        amount_col="amount",
        calibration_end=cut,
        time_unit="day",
        integer_ids=coded,
    )
    s = summary.table
    bg = BetaGeoModel().fit(summary.frequency, summary.recency, summary.T)
    x, t_x, T = summary.frequency, summary.recency, summary.T
    out = pd.DataFrame(index=s.index)
    out["recency"] = T - t_x  # days since the last purchase
    out["frequency"] = x
    out["age"] = T
    out["monetary"] = s["monetary"].fillna(0.0)
    past = occ[occ["day"] <= cut]
    net = past.groupby(["customer", "day"], as_index=False)["amount"].sum()
    hist = net[net["amount"] >= 0]
    returns = net[net["amount"] < 0].groupby("customer").size()
    for window in (30, 90, 180):
        recent = hist[hist["day"] > cut - pd.Timedelta(days=window)]
        counts = recent.groupby("customer").size()
        out[f"n_{window}"] = counts.reindex(out.index, fill_value=0).astype(float)
    before = hist[
        (hist["day"] <= cut - pd.Timedelta(days=90)) & (hist["day"] > cut - pd.Timedelta(days=180))
    ]
    n_before = before.groupby("customer").size().reindex(out.index, fill_value=0)
    out["trend_90"] = out["n_90"] - n_before.astype(float)
    gap = np.where(x > 0, t_x / np.maximum(x, 1.0), np.nan)  # mean days between purchases
    out["mean_gap"] = gap
    out["overdue"] = out["recency"] / gap  # > 1: later than this customer's usual rhythm
    ends = hist.sort_values("day").groupby("customer")["amount"].agg(["first", "last"])
    out["first_amount"] = ends["first"].reindex(out.index)
    out["last_amount"] = ends["last"].reindex(out.index)
    out["p_alive"] = bg.probability_alive(x, t_x, T)
    out["p_no_purchase"] = bg.probability_no_purchase(horizon_days, x, t_x, T)
    out["expected_purchases"] = bg.expected_purchases(horizon_days, x, t_x, T)
    out = out.join(_gaps(hist, out.index))
    spend_now = hist[hist["day"] > cut - pd.Timedelta(days=90)].groupby("customer")["amount"].sum()
    spend_before = before.groupby("customer")["amount"].sum()
    out["spend_90"] = spend_now.reindex(out.index, fill_value=0.0)
    out["spend_trend_90"] = out["spend_90"] - spend_before.reindex(out.index, fill_value=0.0)
    out["returns"] = returns.reindex(out.index, fill_value=0).astype(float)
    bought = None
    if lines is not None:
        ids = lines["customer"]
        day = pd.to_datetime(lines["day"]).dt.normalize()
        keep = day <= cut
        if "amount" in lines:
            keep &= lines["amount"] >= 0
        bought = pd.DataFrame(
            {
                "customer": ids if pd.api.types.is_integer_dtype(ids) else ids.astype(str),
                "day": day,
                "item": lines["item"],
            }
        )[keep]
    elif "item" in occ:
        bought = past[past["amount"] >= 0]
    if bought is not None:
        out["breadth"] = bought.groupby("customer")["item"].nunique().reindex(out.index)
        late = bought[bought["day"] > cut - pd.Timedelta(days=90)]
        out["breadth_90"] = late.groupby("customer")["item"].nunique().reindex(out.index)
        out[["breadth", "breadth_90"]] = out[["breadth", "breadth_90"]].fillna(0.0)
    else:
        out["breadth"] = out["breadth_90"] = 0.0
    out = out.join(_basket(past, out.index))
    end = cut + pd.Timedelta(days=horizon_days)
    # a purchase = any line of non-negative amount (the reference survey's label)
    future = occ[(occ["day"] > cut) & (occ["day"] <= end) & (occ["amount"] >= 0)]
    bought_later = out.index.isin(future["customer"].unique())
    out["churned"] = np.where(bought_later, 0.0, 1.0) if occ["day"].max() >= end else np.nan
    out["bg_nbd_converged"] = bg.converged_
    return out


def _log1p(values: pd.Series) -> pd.Series:
    v = values.astype(float).fillna(0.0)
    return np.sign(v) * np.log1p(v.abs())


def design_matrix(frame: pd.DataFrame, extra: list[str] | None = None) -> pd.DataFrame:
    """The model's inputs: logs of heavy-tailed features, logit of P(no purchase), indicators.

    ``extra`` names further numeric columns of ``frame`` to pass through (missing -> 0).
    """
    out = pd.DataFrame(index=frame.index)
    p = frame["p_no_purchase"].astype(float).clip(1e-6, 1 - 1e-6)
    out["logit_p_no_purchase"] = logit(p)
    out["p_alive"] = frame["p_alive"].astype(float)
    out["repeat_buyer"] = (frame["frequency"] > 0).astype(float)
    out["overdue"] = _log1p(frame["overdue"].clip(upper=50.0))
    for name in (
        "recency",
        "frequency",
        "age",
        "monetary",
        "n_30",
        "n_90",
        "expected_purchases",
        "gap_last",
        "spend_90",
        "spend_trend_90",
        "returns",
        "breadth",
        "first_amount",
        "last_amount",
        "units_per_line",
        "unit_price",
    ):
        out[name] = _log1p(frame[name])
    for name in ("returned_share", "order_hour", "weekend_share"):
        out[name] = frame[name].astype(float).fillna(0.0)
    for name in extra or []:
        out[name] = pd.to_numeric(frame[name], errors="coerce").fillna(0.0)
    return out
