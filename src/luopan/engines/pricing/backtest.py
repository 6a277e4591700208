"""Backtest of the promotion twin on past promotions, against "baseline × median uplift".

The elasticity model is fitted on the periods before ``split``; every later promotion period
is then predicted from earlier data only: its baseline is the mean of the preceding
``window`` regular periods re-priced to the regular price, multiplied by the twin's promotion
multiplier (price elasticity × feature × display). The benchmark multiplies the same baseline
by the median uplift of the training promotions. A promotion event is a run of consecutive
promotion periods of one series; its incremental margin is ``Σ (p − c)·units − (p_reg − c)·baseline``
with unit cost ``c = cost_share × regular price`` (a stated assumption when costs are unknown).

References:
    Cooper, L.G. et al. (1999). PromoCast. Marketing Science 18(3), 301-316.
    Hyndman, R.J. & Koehler, A.B. (2006). Another look at measures of forecast accuracy. IJF 22.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from luopan.engines.pricing.design import Calendar, build_panel
from luopan.engines.pricing.elasticity import ElasticityResult, estimate_elasticities
from luopan.engines.replenish.accuracy import wape
from luopan.errors import DataContractError

__all__ = ["PromoBacktest", "backtest_promotions"]


@dataclass(frozen=True)
class PromoBacktest:
    """Held-out promotion periods and events with both forecasts, and the headline figures."""

    periods: pd.DataFrame
    events: pd.DataFrame
    elasticities: ElasticityResult
    cost_share: float

    def summary(self) -> dict[str, float]:
        p, ev = self.periods, self.events
        return {
            "promo_periods": len(p),
            "events": len(ev),
            "wape_twin": wape(p["y"].to_numpy(), p["twin"].to_numpy()),
            "wape_uplift": wape(p["y"].to_numpy(), p["uplift"].to_numpy()),
            "sign_accuracy_twin": float(
                (np.sign(ev["margin"]) == np.sign(ev["margin_twin"])).mean()
            ),
            "sign_accuracy_uplift": float(
                (np.sign(ev["margin"]) == np.sign(ev["margin_uplift"])).mean()
            ),
            "share_losing": float((ev["margin"] < 0).mean()),
        }


def backtest_promotions(
    frame: pd.DataFrame,
    *,
    split: pd.Timestamp,
    groups: pd.Series | None = None,
    markets: pd.Series | None = None,
    window: int = 13,
    cost_share: float = 0.7,
    calendar: Calendar = "none",
) -> PromoBacktest:
    """Replay the promotions after ``split`` (see the module docstring).

    Args:
        frame: ``unique_id, ds, y, price, base_price`` (regular price) and ``promo`` (0/1),
            optional ``feature, display``.
        split: first held-out period.
        window: regular periods averaged for the baseline.
        cost_share: unit cost as a share of the regular price.

    Raises:
        DataContractError: ``base_price`` or ``promo`` missing.
    """
    for c in ("base_price", "promo"):
        if c not in frame:
            raise DataContractError(
                f"promotion backtest needs column {c!r}", fix="add the regular price and promo flag"
            )
    df = frame.copy()
    df["ds"] = pd.to_datetime(df["ds"])
    df["base_price"] = df["base_price"].fillna(df["price"])
    train = df[df["ds"] < split]
    est = estimate_elasticities(
        train,
        groups=groups,
        markets=markets,
        calendar=calendar,
        cross=False,
    )
    t = est.table.set_index("unique_id")
    e = t["elasticity"].fillna(t["category_elasticity"]).fillna(-1.0)
    panel = build_panel(df, calendar="none")
    ids = pd.Index(panel.ids)
    ee = e.reindex(ids).fillna(float(e.median())).to_numpy()
    bf = t["feature"].reindex(ids).fillna(0.0).to_numpy() if "feature" in t else np.zeros(len(ids))
    bd = t["display"].reindex(ids).fillna(0.0).to_numpy() if "display" in t else np.zeros(len(ids))
    price = panel.price_ref[:, None] * np.exp(panel.log_price)
    base_p = df.pivot(index="unique_id", columns="ds", values="base_price")
    base_p = base_p.reindex(index=ids, columns=panel.dates).to_numpy(np.float64)
    base_p = np.where(np.isfinite(base_p), base_p, price)
    y = panel.y
    promo = panel.promo
    regular = ~promo & ~panel.post & np.isfinite(y)
    adj = np.where(regular, np.nan_to_num(y) * (base_p / price) ** ee[:, None], 0.0)
    num = pd.DataFrame(adj.T).rolling(window, min_periods=1).sum().shift(1).to_numpy().T
    den = pd.DataFrame(regular.T.astype(float)).rolling(window, min_periods=1).sum().shift(1)
    den = den.to_numpy().T
    baseline = np.where(den >= 3, num / np.maximum(den, 1), np.nan)
    flags = {k: v for k, v in panel.flags.items()}
    f = flags.get("feature", np.zeros_like(y))
    d = flags.get("display", np.zeros_like(y))
    mult = np.exp(ee[:, None] * np.log(price / base_p) + bf[:, None] * f + bd[:, None] * d)
    is_test = (panel.dates >= split)[None, :]
    usable = promo & np.isfinite(y) & np.isfinite(baseline) & (baseline > 0)
    ratio = np.where(usable & ~is_test, y / np.where(baseline > 0, baseline, 1), np.nan)
    uplift = float(np.nanmedian(ratio))
    sel = usable & is_test
    si, ti = np.nonzero(sel)
    periods = pd.DataFrame(
        {
            "unique_id": ids[si],
            "ds": panel.dates[ti],
            "y": y[si, ti],
            "price": price[si, ti],
            "base_price": base_p[si, ti],
            "baseline": baseline[si, ti],
            "twin": baseline[si, ti] * mult[si, ti],
            "uplift": baseline[si, ti] * uplift,
        }
    )
    # events: runs of consecutive promotion periods of one series
    new = np.r_[True, (np.diff(si) != 0) | (np.diff(ti) != 1)]
    periods["event"] = np.cumsum(new)
    c = cost_share * periods["base_price"]
    lost_base = (periods["base_price"] - c) * periods["baseline"]
    periods["margin"] = (periods["price"] - c) * periods["y"] - lost_base
    periods["margin_twin"] = (periods["price"] - c) * periods["twin"] - lost_base
    periods["margin_uplift"] = (periods["price"] - c) * periods["uplift"] - lost_base
    events = periods.groupby("event").agg(
        unique_id=("unique_id", "first"),
        start=("ds", "min"),
        weeks=("ds", "size"),
        margin=("margin", "sum"),
        margin_twin=("margin_twin", "sum"),
        margin_uplift=("margin_uplift", "sum"),
    )
    return PromoBacktest(periods, events.reset_index(), est, cost_share)
