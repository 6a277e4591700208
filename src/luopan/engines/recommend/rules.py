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

The rules run on flat arrays (``select_with_rules``: item flags looked up once per catalogue
item, per-customer min/max by ``reduceat``, one sort per customer on a padded matrix); ``recommend``
calls it on the model's integer item indices and ``apply_rules`` on a table. 1M customers ×
40 candidates take seconds rather than the minutes of pandas groupbys.

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

import numpy as np
import pandas as pd

from luopan.errors import DataContractError

__all__ = [
    "BusinessRules",
    "ItemFlags",
    "apply_rules",
    "consumables_from_products",
    "margins_from_products",
    "promoted_from_prices",
    "select_with_rules",
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


@dataclass(frozen=True)
class ItemFlags:
    """The rules looked up once per item of a catalogue (arrays aligned with its SKUs)."""

    banned: np.ndarray  # bool: out of stock or recalled
    durable: np.ndarray  # bool: subject to the recency rule (not a consumable)
    promoted: np.ndarray  # bool
    margin: np.ndarray  # float64 margin rate, 0 where unknown

    @classmethod
    def of(cls, rules: BusinessRules, skus: pd.Index | np.ndarray) -> ItemFlags:
        """Flags for ``skus`` (any values; compared as text, as the rules hold text SKUs)."""
        names = pd.Index(skus).astype(str)
        banned = names.isin(rules.banned)
        if rules.consumables is None:
            durable = np.zeros(len(names), dtype=bool)
        else:
            durable = ~names.isin(rules.consumables)
        margin = (
            pd.to_numeric(pd.Series(names).map(dict(rules.margin)), errors="coerce")
            .fillna(0.0)
            .to_numpy(dtype=float)
            if rules.margin
            else np.zeros(len(names))
        )
        return cls(banned, durable, names.isin(rules.promoted), margin)


def _sort_within(first: np.ndarray, size: np.ndarray, keys: list[np.ndarray]) -> np.ndarray:
    """Stable order of rows by ``keys`` (``np.lexsort`` convention: the last key is the primary
    one) inside contiguous groups (``first`` row and ``size`` of each), groups kept in place.

    Groups are laid out as rows of a matrix padded with +inf and sorted along the rows on the
    primary key alone; only groups with a tie in it are sorted again on all the keys. Same
    result as ``np.lexsort((*keys, group))``, the fallback for very ragged groups or NaN keys.
    """
    n, groups = int(size.sum()), first.size
    width = int(size.max())
    group = np.repeat(np.arange(groups), size)
    if groups * width > 8 * n or any(np.isnan(key).any() for key in keys):
        return np.lexsort((*keys, group))
    col = np.arange(n) - np.repeat(first, size)

    def grid(
        key: np.ndarray, at: tuple[np.ndarray, np.ndarray] | None = None, rows: int = groups
    ) -> np.ndarray:
        out = np.full((rows, width), np.inf)
        if at is None:
            out[group, col] = key
        else:
            out[at[0], at[1]] = key
        return out

    primary = grid(keys[-1])
    order = np.argsort(primary, axis=1, kind="stable")
    if len(keys) > 1 and width > 1:
        ranked = np.take_along_axis(primary, order, axis=1)
        inside = np.arange(1, width) < size[:, None]
        tied = np.flatnonzero(((ranked[:, 1:] == ranked[:, :-1]) & inside).any(axis=1))
        if tied.size:
            slot = np.full(groups, -1)
            slot[tied] = np.arange(tied.size)
            rows = np.flatnonzero(slot[group] >= 0)
            at = (slot[group[rows]], col[rows])
            order[tied] = np.lexsort([grid(key[rows], at, tied.size) for key in keys], axis=-1)
    return (order + first[:, None])[np.arange(width) < size[:, None]]


def _groups(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First row and size of each run of equal values in a sorted array."""
    new = np.ones(codes.size, dtype=bool)
    new[1:] = codes[1:] != codes[:-1]
    first = np.flatnonzero(new)
    return first, np.diff(np.append(first, codes.size))


def select_with_rules(
    customer: np.ndarray,
    item: np.ndarray,
    model_rank: np.ndarray,
    score: np.ndarray,
    days_since: np.ndarray | None,
    flags: ItemFlags,
    rules: BusinessRules,
    k: int,
    *,
    block: int = 4_000_000,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rules on candidate arrays: which rows survive, in which order, with which rank.

    Args:
        customer: integer code per candidate row whose order is the customers' output order.
        item: index into ``flags`` per row.
        model_rank: the model's rank per row (ties in priority go to the better one).
        score: the model's score per row (finite).
        days_since: days since the customer last bought the item (NaN: never); ``None`` when
            no row was ever bought.
        flags: the rules per item.
        rules, k: the rules and the list length.
        block: about how many rows are re-ranked at once (whole customers; bounds memory).

    Returns:
        ``(rows, rank, lifted)``: input positions of the kept rows in output order (customer,
        then rank), their new ranks 1..k and whether the promotion priority lifted each one
        above its place in the model's order among the kept.
    """
    keep = ~flags.banned[item]
    if days_since is not None and rules.consumables is not None and rules.recent_days > 0:
        keep &= ~((days_since < rules.recent_days) & flags.durable[item])
    rows = np.flatnonzero(keep)
    if rows.size == 0:
        return rows, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    cust = customer[rows]
    if cust.size > 1 and bool((cust[1:] < cust[:-1]).any()):
        by_customer = np.argsort(cust, kind="stable")
        rows, cust = rows[by_customer], cust[by_customer]
    first, size = _groups(cust)
    del cust
    # customers are independent: blocks of about `block` rows bound the temporaries' memory
    parts = []
    edges = np.unique(np.searchsorted(first, np.arange(0, rows.size, block)))
    edges = edges[edges < first.size]
    for lo, hi in zip(edges, [*edges[1:], first.size], strict=True):
        start, stop = first[lo], (first[hi] if hi < first.size else rows.size)
        parts.append(
            _rerank(
                rows[start:stop],
                first[lo:hi] - start,
                size[lo:hi],
                item,
                model_rank,
                score,
                flags,
                rules,
                k,
            )
        )
    kept, rank, lifted = (np.concatenate(part) for part in zip(*parts, strict=True))
    return kept, rank, lifted


def _rerank(
    rows: np.ndarray,
    first: np.ndarray,
    size: np.ndarray,
    item: np.ndarray,
    model_rank: np.ndarray,
    score: np.ndarray,
    flags: ItemFlags,
    rules: BusinessRules,
    k: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``select_with_rules`` for a block of whole customers (``rows`` grouped by customer)."""
    it, value = item[rows], score[rows].astype(np.float64)
    # relevance: the customer's scores min-max scaled to [0, 1] (1 when they are all equal)
    low = np.repeat(np.minimum.reduceat(value, first), size)
    high = np.repeat(np.maximum.reduceat(value, first), size)
    spread = high > low
    relevance = np.where(spread, (value - low) / np.where(spread, high - low, 1.0), 1.0)
    del low, high, spread, value
    promo, margin = flags.promoted[it], flags.margin[it]
    priority = relevance + rules.promo_weight * promo + rules.margin_weight * margin
    rank_in = model_rank[rows]
    # per customer: priority ↓, promotion first, margin ↓, the model's rank ↑ (stable)
    order = _sort_within(first, size, [rank_in, -margin, ~promo, -priority])
    rows, promo, rank_in = rows[order], promo[order], rank_in[order]
    rank = np.arange(rows.size) - np.repeat(first, size) + 1
    top = rank <= k
    rows, promo, rank_in, rank = rows[top], promo[top], rank_in[top], rank[top]
    # where the model alone put each kept row among the kept (ties: first come)
    size = np.minimum(size, k)
    first = np.cumsum(size) - size
    by_model = _sort_within(first, size, [rank_in])
    place = np.empty(rows.size, dtype=np.int64)
    place[by_model] = np.arange(rows.size) - np.repeat(first, size) + 1
    return rows, rank.astype(np.int64), promo & (rank < place)


def apply_rules(table: pd.DataFrame, rules: BusinessRules, k: int) -> pd.DataFrame:
    """Filter and re-rank a ranked table (customer_id, rank, sku, score, reason, …).

    ``table`` needs ``days_since_purchase`` (NaN when the customer never bought the item).
    Returns at most ``k`` rows per customer, ordered by customer then rank, ranks renumbered
    1..k, with the columns ``on_promotion`` and ``margin_rate`` added.
    """
    item, skus = pd.factorize(table["sku"], use_na_sentinel=False)
    flags = ItemFlags.of(rules, skus)
    customer, _ = pd.factorize(table["customer_id"], sort=True)
    customer = np.where(customer < 0, customer.max(initial=0) + 1, customer)  # missing last
    rows, rank, lifted = select_with_rules(
        customer,
        item,
        table["rank"].to_numpy(),
        table["score"].to_numpy(dtype=float),
        table["days_since_purchase"].to_numpy(dtype=float),
        flags,
        rules,
        k,
    )
    if rows.size == 0:
        out = table[np.zeros(len(table), dtype=bool)].copy()
        out["on_promotion"] = np.zeros(0, dtype=bool)
        out["margin_rate"] = np.zeros(0)
        return out
    out = table.iloc[rows].reset_index(drop=True)
    out["rank"] = rank
    out["on_promotion"] = flags.promoted[item[rows]]
    out["margin_rate"] = flags.margin[item[rows]]
    if lifted.any():
        out.loc[lifted, "reason"] = "on_promotion"
    return out


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
