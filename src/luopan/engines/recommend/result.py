"""The typed result of a recommendation run and the zh-CN / en labels of its reason codes."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["REASONS", "Recommendations"]

#: reason code -> (zh-CN, en): the short "why this item" shown next to a recommendation
REASONS: dict[str, tuple[str, str]] = {
    "due_for_reorder": ("到了回购周期", "due for reorder"),
    "bought_before": ("常购商品", "bought before"),
    "bought_together": ("常与{because}一起购买", "often bought with {because}"),
    "similar_customers": ("相似顾客也在买", "popular among similar customers"),
    "popular_in_segment": ("同客群热销", "popular in your segment and region"),
    "on_promotion": ("正在促销", "on promotion now"),
}

COLUMNS = [
    "customer_id",
    "rank",
    "sku",
    "score",
    "reason",
    "because_sku",
    "due_in_days",
    "cold_start",
]

#: added when business rules were applied (``rules.apply_rules``)
RULE_COLUMNS = ["days_since_purchase", "on_promotion", "margin_rate"]


@dataclass(frozen=True)
class Recommendations:
    """Top-k items per customer, one row per (customer, rank)."""

    kind: str
    k: int
    table: pd.DataFrame

    def to_table(self) -> pd.DataFrame:
        return self.table

    def for_customer(self, customer_id: object) -> pd.DataFrame:
        return self.table[self.table["customer_id"] == str(customer_id)]

    def summary(self) -> dict[str, float | int | str]:
        t = self.table
        return {
            "kind": self.kind,
            "k": self.k,
            "customers": int(t["customer_id"].nunique()),
            "items": int(t["sku"].nunique()),
            "cold_start_share": float(t.groupby("customer_id")["cold_start"].first().mean())
            if len(t)
            else 0.0,
        }


def reason_label(code: str, lang: str, because: str | None = None) -> str:
    """The label of a reason code in ``lang`` ("zh" or "en")."""
    zh, en = REASONS.get(code, (code, code))
    return (zh if lang == "zh" else en).format(because=because or "")
