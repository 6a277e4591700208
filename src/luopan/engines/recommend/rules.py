"""Business rules applied to ranked recommendations: availability, recency, promotion, margin.

A ranked list is not yet a list a brand can send. After the model has ranked the items:

1. **never recommend** an item that is out of stock or recalled (``unavailable``, ``recalled``);
   they are removed before the top-k cut so the list is refilled from further down;
2. **do not push again** an item the customer bought in the last ``recent_days`` unless it is a
   consumable (bought to be used up: food, cosmetics, nappies). A sofa bought 10 days ago is not
   a reorder candidate; milk bought 10 days ago is, and its ``due_in_days`` says when;
3. **priorities**: among items the model ranks about equally, promoted items and high-margin
   items go first. Each customer's candidate scores are min-max scaled to [0, 1] (relevance,
   comparable across models whose raw scores differ in scale and sign) and the priority is
   ``relevance + promo_weight · on_promotion + margin_weight · margin_rate``; exact ties are then
   broken by promotion, then by margin, then by the model's order. With both weights at 0
   (the default) relevance alone decides and the priorities only break ties; a weight w lets a
   promoted item overtake one at most w more relevant (on the 0–1 scale), so the merchant sets
   how much relevance they trade for promotion or margin.

Each kept row gets a short reason (``result.REASONS``): the model's reason, or ``on_promotion``
when the promotion priority moved the item up.

References:
    Jannach, D. & Adomavicius, G. (2017). Price and profit awareness in recommender systems.
    arXiv:1707.08029 (profit-aware re-ranking as a weighted sum of relevance and margin).
    Das, A., Mathieu, C. & Ricketts, D. (2009). Maximizing profit using recommender systems.
    arXiv:0908.3633.
    Bhagat, R. et al. (2018). Buy it again: modeling repeat purchase recommendations. KDD '18
    (repeat purchase only makes sense for repeat-consumed items).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from luopan.errors import DataContractError

__all__ = [
    "BusinessRules",
    "apply_rules",
    "consumables_from_products",
    "margins_from_products",
    "promoted_from_prices",
    "unavailable_from_inventory",
]


def _skus(values: Iterable[object]) -> frozenset[str]:
    return frozenset(str(v) for v in values)


@dataclass(frozen=True)
class BusinessRules:
    """The rules of one outreach run.

    Args:
        unavailable: SKUs out of stock (never recommended).
        recalled: SKUs under a recall (never recommended).
        consumables: SKUs that are used up and bought again; ``None`` = every item is one
            (the recency rule is off).
        recent_days: a non-consumable bought within this many days is not recommended.
        promoted: SKUs on promotion now.
        margin: SKU → margin rate ((price − cost) / price); missing SKUs count as 0.
        promo_weight, margin_weight: how much relevance (0–1 scale) a promotion / a margin rate
            of 1 is worth; 0 = tie-breaking only.
    """

    unavailable: frozenset[str] = frozenset()
    recalled: frozenset[str] = frozenset()
    consumables: frozenset[str] | None = None
    recent_days: int = 30
    promoted: frozenset[str] = frozenset()
    margin: Mapping[str, float] = field(default_factory=dict)
    promo_weight: float = 0.0
    margin_weight: float = 0.0

    def __post_init__(self) -> None:
        if self.recent_days < 0:
            raise DataContractError(
                f"recent_days={self.recent_days}", fix="give 0 or more days (0 = rule off)"
            )
        if self.promo_weight < 0 or self.margin_weight < 0:
            raise DataContractError(
                "promo_weight and margin_weight must be >= 0",
                fix="a priority can only move an item up; use 0 to break ties only",
            )
        for name in ("unavailable", "recalled", "promoted"):
            object.__setattr__(self, name, _skus(getattr(self, name)))
        if self.consumables is not None:
            object.__setattr__(self, "consumables", _skus(self.consumables))

    @property
    def banned(self) -> frozenset[str]:
        """SKUs that never appear (out of stock or recalled)."""
        return self.unavailable | self.recalled

    def fetch(self, k: int) -> int:
        """How many candidates to rank so that k survive the post-ranking rules."""
        return 3 * k + 10


def apply_rules(table: pd.DataFrame, rules: BusinessRules, k: int) -> pd.DataFrame:
    """Filter and re-rank a ranked table (customer_id, rank, sku, score, reason, …).

    ``table`` needs ``days_since_purchase`` (NaN when the customer never bought the item).
    Returns at most ``k`` rows per customer, ranks renumbered 1..k, with the columns
    ``on_promotion`` and ``margin_rate`` added.
    """
    out = table[~table["sku"].astype(str).isin(rules.banned)].copy()
    if rules.consumables is not None and rules.recent_days > 0:
        recent = out["days_since_purchase"].astype(float) < rules.recent_days
        durable = ~out["sku"].astype(str).isin(rules.consumables)
        out = out[~(recent & durable)]
    sku = out["sku"].astype(str)
    out["on_promotion"] = sku.isin(rules.promoted).to_numpy()
    margin = sku.map(dict(rules.margin)) if rules.margin else pd.Series(0.0, index=sku.index)
    out["margin_rate"] = pd.to_numeric(margin, errors="coerce").fillna(0.0).to_numpy(dtype=float)
    if out.empty:
        return out
    score = out["score"].astype(float)
    group = out.groupby("customer_id", sort=False)["score"]
    low, high = group.transform("min").astype(float), group.transform("max").astype(float)
    span = (high - low).where(high > low, 1.0)
    relevance = ((score - low) / span).where(high > low, 1.0)
    out["priority"] = (
        relevance
        + rules.promo_weight * out["on_promotion"]
        + rules.margin_weight * out["margin_rate"]
    )
    out["_model_rank"] = out["rank"]
    out = out.sort_values(
        ["customer_id", "priority", "on_promotion", "margin_rate", "_model_rank"],
        ascending=[True, False, False, False, True],
        kind="stable",
    )
    out["rank"] = out.groupby("customer_id", sort=False).cumcount() + 1
    out = out[out["rank"] <= k]
    # the reason: a promoted item placed above where the model alone put it (among the kept)
    model_place = out.groupby("customer_id", sort=False)["_model_rank"].rank(method="first")
    lifted = out["on_promotion"] & (out["rank"] < model_place)
    out.loc[lifted, "reason"] = "on_promotion"
    return out.drop(columns=["priority", "_model_rank"]).reset_index(drop=True)


def consumables_from_products(
    products: pd.DataFrame, *, max_shelf_life_days: int = 730
) -> frozenset[str]:
    """SKUs with a known shelf life of at most ``max_shelf_life_days`` (used up, bought again).

    ``products`` is indexed by SKU with a ``shelf_life_days`` column; an item without a shelf
    life (apparel, appliances) is durable.
    """
    if "shelf_life_days" not in products:
        raise DataContractError(
            "products have no shelf_life_days column",
            fix="map products.shelf_life_days, or pass BusinessRules(consumables=...) yourself",
        )
    life = pd.to_numeric(products["shelf_life_days"], errors="coerce")
    return _skus(products.index[(life > 0) & (life <= max_shelf_life_days)])


def margins_from_products(products: pd.DataFrame) -> dict[str, float]:
    """(list_price − unit_cost) / list_price per SKU (index) where both are known and price > 0."""
    price = pd.to_numeric(products.get("list_price"), errors="coerce")
    cost = pd.to_numeric(products.get("unit_cost"), errors="coerce")
    rate = ((price - cost) / price).where(price > 0).dropna()
    return {str(s): float(v) for s, v in rate.items()}


def unavailable_from_inventory(inventory: pd.DataFrame) -> frozenset[str]:
    """SKUs with nothing on hand in any store on the latest inventory date.

    ``inventory``: columns date, sku, on_hand (one row per store × SKU × date). SKUs absent from
    the latest snapshot are not judged (no evidence either way).
    """
    missing = {"date", "sku", "on_hand"} - set(inventory.columns)
    if missing:
        raise DataContractError(f"inventory lacks column(s) {sorted(missing)}")
    if inventory.empty:
        return frozenset()
    day = pd.to_datetime(inventory["date"])
    latest = inventory[day == day.max()]
    total = pd.to_numeric(latest["on_hand"], errors="coerce").fillna(0).groupby(latest["sku"]).sum()
    return _skus(total.index[total <= 0])


def promoted_from_prices(prices: pd.DataFrame) -> frozenset[str]:
    """SKUs flagged ``is_promo`` on the latest price date (any store or channel)."""
    missing = {"date", "sku", "is_promo"} - set(prices.columns)
    if missing:
        raise DataContractError(f"prices lack column(s) {sorted(missing)}")
    if prices.empty:
        return frozenset()
    day = pd.to_datetime(prices["date"])
    latest = prices[day == day.max()]
    return _skus(latest.loc[latest["is_promo"].fillna(False).astype(bool), "sku"])
