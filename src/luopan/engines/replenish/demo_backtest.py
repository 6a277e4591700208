"""The demo world's replenishment backtest: its recorded policy against luopan, at equal fill.

Assembles the matrices ``policy_comparison`` needs from frames a caller reads out of a
workspace (sales of the store-fulfilled channels, the ERP inventory and waste records, the
product master) and out of the demo's ground truth (the demand process per store × SKU, the
weekly profile, festivals, holidays, prices and elasticities, the total of lost sales). The
replayed demand is the demand the stores really saw: sales on days that ended with stock, a draw
from the known process conditioned on the sales on days that ended empty (``reconstruct_demand``,
scaled so the lost units add up to the ground truth). The current rule is the one the demo
documents (order-up-to, daily review for shelf life ≤ 7 days, weekly otherwise, its true base
rates); luopan forecasts from the recorded (censored) sales only, refitted on a rolling origin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from luopan.engines.replenish.comparison import PolicyComparison, policy_comparison, recorded_kpis
from luopan.engines.replenish.demand_replay import DemandReplay, reconstruct_demand
from luopan.engines.replenish.exog import exog_gbm, fit_predict
from luopan.engines.replenish.forecast import DemandForecaster
from luopan.engines.replenish.replay import replay
from luopan.engines.replenish.simulate import SimulationResult
from luopan.errors import DataContractError

__all__ = [
    "EXOG_MODELS",
    "RATE_MODELS",
    "DemoPanels",
    "demo_panels",
    "demo_policy_comparison",
    "replay_recorded",
    "rolling_mean_forecast",
]

# An order-up-to level needs the mean of demand. On slow, intermittent series a per-series pick
# by MAE (``DemandForecaster``'s default) favours forecasts near the median, i.e. zero, so the
# policy forecasts with the mean of the intermittent-demand rate estimators instead
# (Kolassa, S. (2016). Evaluating predictive count data distributions in retail sales
# forecasting. IJF 32; Syntetos & Boylan (2005); Teunter, Syntetos & Babai (2011)).
RATE_MODELS = ("CrostonSBA", "TSB", "ADIDA", "IMAPA")
# with the warehouse's calendar (prices, promotions): the rate models and the global GBM, averaged
EXOG_MODELS = (*RATE_MODELS, "GlobalGBM")

FRESH_DAYS = 7  # the demo reviews series with shelf life ≤ 7 days daily, the rest weekly
SPOIL_DAYS = 30  # the demo's simulation never spoils stock with a longer shelf life
NEVER = 1_000_000


@dataclass(frozen=True)
class DemoPanels:
    """Series × days matrices over the inventory window (series = store × SKU, store-major)."""

    ids: list[str]
    dates: pd.DatetimeIndex
    sales: np.ndarray
    on_hand: np.ndarray
    on_order: np.ndarray
    wasted: np.ndarray
    expected: np.ndarray
    shelf_life: np.ndarray
    base_rate: np.ndarray
    review: np.ndarray
    offset: np.ndarray
    history: pd.DataFrame  # unique_id, ds, y: recorded sales of every day, zero-filled
    batch: float
    lost_total: float

    def keys(self) -> pd.DataFrame:
        """``unique_id, store_id, sku`` of every series (for ``exog.calendar_exog``)."""
        store, sku = zip(*(uid.split("|", 1) for uid in self.ids), strict=True)
        return pd.DataFrame({"unique_id": self.ids, "store_id": store, "sku": sku})


def _wide(df: pd.DataFrame, col: str, index: pd.MultiIndex, dates: pd.DatetimeIndex) -> np.ndarray:
    w = df.pivot_table(index=["store_id", "sku"], columns="date", values=col, aggfunc="sum")
    return w.reindex(index=index, columns=dates).fillna(0.0).to_numpy(dtype=float)


def _intensity(truth: dict[str, Any], dates: pd.DatetimeIndex) -> np.ndarray:
    """Store-channel demand multiplier per day: weekday × festival × public holiday (not 春节)."""
    mult = np.asarray(truth["weekly_profile"]["store"], dtype=float)[dates.day_of_week]
    for f in truth["festivals"]:
        on = (dates >= pd.Timestamp(f["start"])) & (dates <= pd.Timestamp(f["end"]))
        mult = np.where(on, mult * f["multipliers"].get("store", 1.0), mult)
    spring = [f for f in truth["festivals"] if f["name"] == "春节"]
    for day in truth["public_holidays"]:
        ts = pd.Timestamp(day)
        if any(pd.Timestamp(f["start"]) <= ts <= pd.Timestamp(f["end"]) for f in spring):
            continue
        mult = np.where(dates == ts, mult * 1.18, mult)
    return mult


def demo_panels(
    *,
    sales: pd.DataFrame,
    inventory: pd.DataFrame,
    waste: pd.DataFrame,
    products: pd.DataFrame,
    demand_truth: pd.DataFrame,
    elasticities: pd.DataFrame,
    prices: pd.DataFrame,
    truth: dict[str, Any],
    batch: float,
) -> DemoPanels:
    """Build the panels from long frames (columns named as in the canonical tables).

    Args:
        sales: store_id, sku, date, quantity — store-fulfilled channels (store, Meituan).
        inventory: date, store_id, sku, on_hand, on_order (the ERP daily positions).
        waste: date, store_id, sku, quantity (units wasted, positive).
        products: sku, shelf_life_days.
        demand_truth: store_id, sku, base_rate (ground truth ``demand_file``).
        elasticities: sku, elasticity, list_price (ground truth ``elasticities_file``).
        prices: date, sku, price (national daily prices).
        truth: the ground-truth mapping (weekly_profile, festivals, public_holidays, inventory).
        batch: mean units per order line of those channels.
    """
    for name, frame, cols in (
        ("sales", sales, {"store_id", "sku", "date", "quantity"}),
        ("inventory", inventory, {"date", "store_id", "sku", "on_hand", "on_order"}),
        ("waste", waste, {"date", "store_id", "sku", "quantity"}),
    ):
        if cols - set(frame.columns):
            raise DataContractError(
                f"{name} lacks column(s) {sorted(cols - set(frame.columns))}",
                fix=f"pass {name} with {sorted(cols)}",
            )
    sales, inventory, waste, prices = (
        f.assign(date=pd.to_datetime(f["date"])) for f in (sales, inventory, waste, prices)
    )
    index = pd.MultiIndex.from_frame(demand_truth[["store_id", "sku"]])
    dates = pd.date_range(inventory["date"].min(), inventory["date"].max())
    every = pd.date_range(pd.Timestamp(truth["start"]), pd.Timestamp(truth["end"]))
    shelf = products.set_index("sku")["shelf_life_days"].reindex(demand_truth["sku"]).to_numpy(int)
    on_order = _wide(inventory, "on_order", index, dates)
    review = np.where(shelf <= FRESH_DAYS, 1, 7)
    offset = np.zeros(len(shelf), dtype=np.int64)
    for i in np.flatnonzero(review > 1):  # the first day an order was open marks the cycle
        days = np.flatnonzero(on_order[i] > 0)
        offset[i] = (-days[0]) % review[i] if days.size else 0
    el = elasticities.set_index("sku")
    price = prices.assign(price=prices["price"].astype(float)).pivot_table(
        index="sku", columns="date", values="price", aggfunc="mean"
    )
    rel = price.reindex(index=demand_truth["sku"], columns=dates).ffill(axis=1).to_numpy(float)
    effect = (
        rel / el["list_price"].astype(float).reindex(demand_truth["sku"]).to_numpy()[:, None]
    ) ** el["elasticity"].reindex(demand_truth["sku"]).to_numpy()[:, None]
    base = demand_truth["base_rate"].to_numpy(float)
    ids = [f"{s}|{k}" for s, k in index]
    hist = _wide(sales, "quantity", index, every)
    history = pd.DataFrame(
        {"unique_id": np.repeat(ids, len(every)), "ds": np.tile(every, len(ids)), "y": hist.ravel()}
    )
    return DemoPanels(
        ids=ids,
        dates=dates,
        sales=_wide(sales, "quantity", index, dates),
        on_hand=_wide(inventory, "on_hand", index, dates),
        on_order=on_order,
        wasted=_wide(waste, "quantity", index, dates),
        expected=base[:, None] * _intensity(truth, dates)[None, :] * np.nan_to_num(effect, nan=1.0),
        shelf_life=shelf,
        base_rate=base,
        review=review,
        offset=offset,
        history=history,
        batch=float(batch),
        lost_total=float(truth["inventory"]["lost_sales_units"]),
    )


def rolling_mean_forecast(
    history: pd.DataFrame,
    dates: pd.DatetimeIndex,
    *,
    ids: list[str],
    refit_every: int = 7,
    forecaster: DemandForecaster | None = None,
    exog: pd.DataFrame | None = None,
    known_ahead: int | None = 14,
) -> np.ndarray:
    """Mean forecast of each of ``dates`` (series in ``ids`` order × days), refitted every
    ``refit_every`` days on the history before the block it forecasts (rolling origin).

    With ``exog`` (``exog.calendar_exog``: prices, promotions, campaigns per series and day)
    each fit sees the calendar up to its origin and the next ``known_ahead`` days of it, and the
    default forecaster adds ``GlobalGBM`` to the rate models (``EXOG_MODELS``)."""
    if forecaster is not None:
        fc = forecaster
    elif exog is not None:
        fc = DemandForecaster(EXOG_MODELS, combine=len(EXOG_MODELS), n_windows=2, gbm=exog_gbm())
    else:
        fc = DemandForecaster(RATE_MODELS, combine=len(RATE_MODELS), n_windows=2)
    out = np.zeros((len(ids), len(dates)))
    row = {uid: i for i, uid in enumerate(ids)}
    for start in range(0, len(dates), refit_every):
        block = dates[start : start + refit_every]
        hist = history[history["ds"] < block[0]]
        res = fit_predict(fc, hist, len(block), exog, known_ahead=known_ahead).forecasts
        rows = res["unique_id"].map(row).to_numpy()
        cols = start + (pd.to_datetime(res["ds"]) - block[0]).dt.days.to_numpy()
        out[rows, cols] = res["mean"].to_numpy()
    return out


def _shelf(panels: DemoPanels) -> np.ndarray:
    return np.where(panels.shelf_life <= SPOIL_DAYS, panels.shelf_life, NEVER)


def replay_recorded(
    panels: DemoPanels, demand: np.ndarray, *, warmup: int = 28
) -> SimulationResult:
    """Replay the recorded policy itself on ``demand``: each series' order-up-to level is its
    largest recorded inventory position (on hand + on order after ordering), with its review
    cycle and the recorded opening stock. Its KPIs matching the records checks the replay."""
    level = (panels.on_hand + panels.on_order).max(axis=1)
    return replay(
        demand,
        np.broadcast_to(level[:, None], demand.shape),
        shelf_life=_shelf(panels),
        review_period=panels.review,
        review_offset=panels.offset,
        position="all",
        initial_stock=panels.on_hand[:, 0],
        warmup=warmup,
    )


def demo_policy_comparison(
    panels: DemoPanels,
    forecast_mean: np.ndarray,
    *,
    warmup: int = 28,
    target_fill: float = 0.97,
    seed: int = 0,
    **sweeps: Any,
) -> tuple[PolicyComparison, DemandReplay]:
    """Replay the demo's reconstructed demand under its current rule, the naive policy and
    luopan's policy (``policy_comparison``); the recorded KPIs come from the ERP records."""
    rebuilt = reconstruct_demand(
        panels.sales,
        panels.on_hand <= 0,
        panels.expected,
        batch=panels.batch,
        lost_total=panels.lost_total,
        seed=seed,
    )
    recorded = recorded_kpis(
        panels.sales, rebuilt.demand, panels.on_hand, panels.wasted, warmup=warmup
    )
    result = policy_comparison(
        rebuilt.demand,
        forecast_mean,
        shelf_life=_shelf(panels),
        current_rate=panels.base_rate,
        current_review=panels.review,
        current_offset=panels.offset,
        recorded=recorded,
        batch=panels.batch,
        warmup=warmup,
        target_fill=target_fill,
        **sweeps,
    )
    return result, rebuilt
