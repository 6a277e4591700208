"""Promotion "digital twin": a plan's incremental units, revenue, margin and ROI before launch.

Per promoted series ``i`` with baseline ``b_i`` (units per period at the regular price, from
:func:`.baseline.current_baseline`), a discount ``d``, and mechanic flags, the promoted units
are ``b_i·(1−d)^{e_i}·exp(β_feature·feature + β_display·display)`` during the promotion and
``b_i·exp(β_post)`` in the periods after it (the pull-forward dip); the non-promoted series of
the same market lose ``b_j·(1 − exp(c_j·x_j))`` where ``x_j`` is the sales-weighted log price
change of the market and ``c_j`` the cross-price elasticity (cannibalisation). Units are capped
by the stock that covers the promotion (lost sales). Everything is drawn ``draws`` times from
the coefficients' normal posteriors and Poisson demand, which gives the intervals.

Decomposition as in the industry literature on promotion planning:

References:
    van Heerde, H.J., Leeflang, P.S.H. & Wittink, D.R. (2004). Decomposing the sales promotion
    bump with store data. Marketing Science 23(3), 317-334.
    Cooper, L.G. et al. (1999). PromoCast. Marketing Science 18(3), 301-316.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from luopan.errors import DataContractError

__all__ = ["TwinResult", "promo_multiplier", "simulate_promotion"]

NEED = ("unique_id", "base_units", "current_price", "unit_cost", "elasticity", "elasticity_se")


def promo_multiplier(
    discount: np.ndarray, feature: np.ndarray, display: np.ndarray, coefs: pd.DataFrame
) -> np.ndarray:
    """Expected units multiplier of a promotion over the baseline (point estimate)."""
    e = coefs["elasticity"].to_numpy(np.float64)
    return np.exp(
        e * np.log1p(-np.asarray(discount, dtype=np.float64))
        + coefs["feature"].to_numpy(np.float64) * feature
        + coefs["display"].to_numpy(np.float64) * display
    )


@dataclass(frozen=True)
class TwinResult:
    """``items``: one row per affected series; ``totals``: metric → mean, lower, upper."""

    name: str
    items: pd.DataFrame
    totals: pd.DataFrame
    level: float

    def summary(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.totals["mean"].items()}

    def to_table(self) -> pd.DataFrame:
        return self.items.copy()


def _col(df: pd.DataFrame, name: str, default: float = 0.0) -> np.ndarray:
    if name not in df:
        return np.full(len(df), default)
    return np.nan_to_num(df[name].to_numpy(np.float64), nan=default)


def simulate_promotion(
    series: pd.DataFrame,
    *,
    name: str = "plan",
    periods: int,
    post_periods: int = 1,
    budget: float = 0.0,
    vendor_funding: float = 0.0,
    level: float = 0.90,
    draws: int = 1000,
    seed: int = 0,
) -> TwinResult:
    """Simulate one promotion plan.

    Args:
        series: one row per series of the promoted markets: ``unique_id, base_units,
            current_price, unit_cost, elasticity, elasticity_se`` and optional ``market``,
            ``feature, display, post_promo`` (log-multipliers) with ``*_se``,
            ``cross_elasticity``, ``stock`` (units available for the promotion) and
            ``stock_share`` (share of the demand that stock serves, default 1),
            ``calendar_factor`` (the plan dates' demand relative to the baseline's, e.g. from
            :func:`.baseline.calendar_factor`; default 1), and the plan
            columns ``promoted`` (bool), ``discount`` (0–1), ``is_feature``, ``is_display``.
        periods: promotion length in periods; post_periods: periods of the dip after it.
        budget: fixed cost of the promotion (media, fees, displays).
        vendor_funding: share of the discount paid back by the supplier.

    Returns:
        TwinResult with ``totals`` rows incremental_units, incremental_revenue,
        incremental_margin, net_profit (margin − budget), roi ((margin − budget)/budget),
        stockout_skus (series that run out) and lost_units.
    """
    missing = [c for c in NEED if c not in series.columns]
    if missing:
        raise DataContractError(
            f"promotion series are missing column(s) {missing}", fix=f"give {', '.join(NEED)}"
        )
    df = series.reset_index(drop=True)
    rng = np.random.default_rng(seed)
    n = len(df)
    promoted = df["promoted"].to_numpy(bool) if "promoted" in df else np.ones(n, bool)
    disc = np.where(promoted, _col(df, "discount"), 0.0)
    feat = np.where(promoted, _col(df, "is_feature"), 0.0)
    disp = np.where(promoted, _col(df, "is_display"), 0.0)
    base = _col(df, "base_units") * _col(df, "calendar_factor", 1.0)
    price = _col(df, "current_price")
    cost = _col(df, "unit_cost")

    def draw(col: str) -> np.ndarray:
        m, s = _col(df, col), _col(df, f"{col}_se")
        return m[:, None] + s[:, None] * rng.standard_normal((n, draws))

    e = _col(df, "elasticity")[:, None] + _col(df, "elasticity_se")[:, None] * rng.standard_normal(
        (n, draws)
    )
    bf, bd, bp = draw("feature"), draw("display"), draw("post_promo")
    lift = np.exp(e * np.log1p(-disc)[:, None] + bf * feat[:, None] + bd * disp[:, None])
    # cannibalisation of the market's other series through the cross-price elasticity
    market = df["market"].astype(str).to_numpy() if "market" in df else np.zeros(n, str)
    w = base + 1e-9
    x = np.zeros(n)
    for m in np.unique(market):
        sel = market == m
        tot_w = w[sel].sum()
        num = (w[sel] * np.log1p(-disc[sel])).sum()
        x[sel] = (num - w[sel] * np.log1p(-disc[sel])) / np.maximum(tot_w - w[sel], 1e-9)
    cross = _col(df, "cross_elasticity")
    cann = np.where(promoted, 1.0, np.exp(cross * x))[:, None]
    lam = base[:, None] * periods * np.where(promoted[:, None], lift, cann)
    demand = rng.poisson(np.minimum(lam, 1e9)).astype(np.float64)
    stock = _col(df, "stock", np.inf) if "stock" in df else np.full(n, np.inf)
    share = np.clip(_col(df, "stock_share", 1.0), 0.0, 1.0)[:, None]
    sold = np.minimum(demand * share, stock[:, None]) + demand * (1 - share)
    lost = demand - sold
    dip = np.where(promoted[:, None], base[:, None] * post_periods * (np.exp(bp) - 1), 0.0)
    p_promo = price * (1 - disc)
    unit_margin = p_promo - cost + vendor_funding * disc * price
    base_units = base * periods
    inc_units = sold - base_units[:, None] + dip
    inc_rev = sold * p_promo[:, None] - (base_units * price)[:, None] + dip * price[:, None]
    inc_margin = (
        sold * unit_margin[:, None]
        - (base_units * (price - cost))[:, None]
        + dip * (price - cost)[:, None]
    )
    q = ((1 - level) / 2, (1 + level) / 2)

    def summ(a: np.ndarray) -> tuple[float, float, float]:
        return float(a.mean()), float(np.quantile(a, q[0])), float(np.quantile(a, q[1]))

    tot_margin = inc_margin.sum(0)
    rows = {
        "incremental_units": summ(inc_units.sum(0)),
        "incremental_revenue": summ(inc_rev.sum(0)),
        "incremental_margin": summ(tot_margin),
        "net_profit": summ(tot_margin - budget),
        "roi": summ((tot_margin - budget) / budget) if budget > 0 else (np.nan,) * 3,
        "stockout_skus": summ((lost > 0).sum(0).astype(float)),
        "lost_units": summ(lost.sum(0)),
    }
    totals = pd.DataFrame.from_dict(rows, orient="index", columns=["mean", "lower", "upper"])
    items = pd.DataFrame(
        {
            "unique_id": df["unique_id"].to_numpy(),
            "promoted": promoted,
            "discount": disc,
            "current_price": price,
            "unit_cost": cost,
            "baseline_units": base_units,
            "units": sold.mean(1),
            "units_lower": np.quantile(sold, q[0], axis=1),
            "units_upper": np.quantile(sold, q[1], axis=1),
            "dip_units": dip.mean(1),
            "incremental_units": inc_units.mean(1),
            "incremental_margin": inc_margin.mean(1),
            "stockout_probability": (lost > 0).mean(1),
        }
    )
    return TwinResult(name, items, totals, level)
