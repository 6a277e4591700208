"""From per-series fits to the reported table: pooling, statuses, shrinkage and intervals.

:func:`pool_entities` pools the series of one SKU (its stores and channels) by inverse
variance; :func:`finish_table` gives each (pooled) estimate its status, shrinks it toward its
category by empirical Bayes (:mod:`.shrink`; Morris 1983) and puts intervals on it;
:func:`calendar_table` shrinks the weekday and festival multipliers the same way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from luopan.engines.pricing.shrink import shrink

__all__ = ["SHRUNK", "calendar_table", "finish_table", "pool_entities"]

SHRUNK = ("feature", "display", "post_promo")


def calendar_table(per: pd.DataFrame, names: list[str], min_units: float) -> pd.DataFrame:
    """Day-of-week and event log-multipliers per series, shrunk toward the category."""
    grp = per["group"].astype(str).to_numpy()
    enough = per["units"].to_numpy() >= min_units
    out = pd.DataFrame(index=pd.Index(per["unique_id"].to_numpy(), name="unique_id"))
    for name in names:
        b, v = per[name].to_numpy(np.float64), per[f"{name}_var"].to_numpy(np.float64)
        m, _, _ = shrink(np.where(enough, b, np.nan), np.where(enough, v, np.nan), grp)
        out[name] = np.nan_to_num(m)
    return out


def pool_entities(
    per: pd.DataFrame, keys: list[str], min_units: float, max_censored_info: float
) -> pd.DataFrame:
    """Inverse-variance pooling of the series of one entity (a SKU over stores/channels)."""
    per = per.copy()
    usable = (
        (per["units"] >= min_units / 4)
        & (per["n_obs"] > 3)
        & (per["censored_info"] <= max_censored_info)
    )
    for k in keys:
        v = per[f"{k}_var"].where(usable & np.isfinite(per[k]) & (per[f"{k}_var"] > 0))
        per[f"{k}_w"] = (1.0 / v).fillna(0.0)
        per[f"{k}_wb"] = per[f"{k}_w"] * per[k].fillna(0.0)
    g = per.groupby("unique_id", sort=True)
    out = g.agg(
        group=("group", "first"),
        price_sd=("price_sd", "max"),
        price_periods=("price_periods", "max"),
        units=("units", "sum"),
        n_obs=("n_obs", "sum"),
        censored_info=("censored_info", "min"),
        price_ref=("price_ref", "median"),
        cross_sd=("cross_sd", "max"),
    )
    for k in keys:
        wsum = g[f"{k}_w"].sum()
        out[k] = (g[f"{k}_wb"].sum() / wsum).where(wsum > 0)
        out[f"{k}_var"] = (1.0 / wsum).where(wsum > 0)
    return out.reset_index()


def finish_table(
    per: pd.DataFrame,
    shrunk: list[str],
    *,
    level: float,
    min_units: float,
    min_price_sd: float,
    min_price_periods: int,
    max_se: float,
    precision: float,
    max_censored_info: float,
) -> pd.DataFrame:
    """Statuses, empirical-Bayes shrinkage and intervals of the (pooled) estimates."""
    grp = per["group"].astype(str).to_numpy()
    units = per["units"].to_numpy(np.float64)
    raw = per["raw"].to_numpy(np.float64)
    raw_se = np.sqrt(per["raw_var"].to_numpy(np.float64))
    status = np.where(
        units < min_units,
        "insufficient_data",
        np.where(
            (per["price_sd"].to_numpy() < min_price_sd)
            | (per["price_periods"].to_numpy() < min_price_periods)
            | ~(raw_se <= max_se)
            | (per["censored_info"].to_numpy() > max_censored_info),
            "insufficient_variation",
            "ok",
        ),
    )
    ok = status == "ok"
    z = stats.norm.ppf(0.5 + level / 2)
    enough = (
        (units >= min_units)
        & np.isfinite(raw_se)
        & (per["censored_info"].to_numpy() <= max_censored_info)
    )
    # every series with data informs its category's prior; only precise ones get a number
    post_m, post_v, priors = shrink(
        np.where(enough, raw, np.nan), np.where(enough, raw_se**2, np.nan), grp
    )
    post_m = np.where(ok, post_m, np.nan)
    post_v = np.where(ok, post_v, np.nan)
    table = pd.DataFrame(
        {
            "unique_id": per["unique_id"].to_numpy(),
            "group": grp,
            "status": status,
            "elasticity": post_m,
            "se": np.sqrt(post_v),
            "precise": ok & (np.sqrt(post_v) <= precision / z),
            "lower": post_m - z * np.sqrt(post_v),
            "upper": post_m + z * np.sqrt(post_v),
            "raw_elasticity": raw,
            "raw_se": raw_se,
            "category_elasticity": [priors[g].mean for g in grp],
            "category_se": [np.sqrt(priors[g].tau2 + priors[g].mean_var) for g in grp],
            "price_sd": per["price_sd"].to_numpy(),
            "price_periods": per["price_periods"].to_numpy(),
            "n_obs": per["n_obs"].to_numpy(),
            "units": units,
            "price_ref": per["price_ref"].to_numpy(),
        }
    )
    for name in SHRUNK:
        if name in shrunk:
            b, v = per[name].to_numpy(np.float64), per[f"{name}_var"].to_numpy(np.float64)
            m, mv, _ = shrink(np.where(enough, b, np.nan), np.where(enough, v, np.nan), grp)
            table[name] = np.nan_to_num(m)
            table[f"{name}_se"] = np.sqrt(np.nan_to_num(mv))
        else:
            table[name] = 0.0
            table[f"{name}_se"] = 0.0
    cb = per["cross"].to_numpy(np.float64)
    cse = np.sqrt(per["cross_var"].to_numpy(np.float64))
    cross_ok = np.isfinite(cse) & (cse < 0.5) & ok & (per["cross_sd"].to_numpy() >= min_price_sd)
    table["cross_elasticity"] = np.where(cross_ok, cb, np.nan)
    table["cross_lower"] = np.where(cross_ok, cb - z * cse, np.nan)
    table["cross_upper"] = np.where(cross_ok, cb + z * cse, np.nan)
    table["cross_status"] = np.where(cross_ok, "ok", "unsupported")
    table.attrs["priors"] = priors
    return table
