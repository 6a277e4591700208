"""Segment personas: each segment's traits ranked by lift against the whole customer base.

For a segment S of n_S customers and a trait value v (e.g. ``category = 烘焙``):

- share in segment p_S = |S ∩ v| / n_S, share in the base p = |v| / n, lift = p_S / p
  (the interest measure of association rules, Brin et al. 1997);
- significance: the two-proportion z statistic of the segment against the rest of the base
  (S ∪ rest = base, so the two samples are disjoint), with the pooled standard error
  (Agresti 2013, §2.2.3). With dozens of trait values per segment the default bar
  |z| ≥ 3.3 keeps the family-wise false-discovery chance near 5 % over ~50 tests
  (Bonferroni, 0.05 / 50 two-sided ≈ z 3.3).

A trait *distinguishes* the segment when its share in the segment is at least ``min_share``,
its lift is at least ``min_lift`` and |z| passes the bar; distinguishing traits are ranked by
lift, highest first. Customers whose trait is unknown are left out of that trait's shares
(both in the segment and in the base), so missing data never looks like a trait.

References:
    Brin, S., Motwani, R., Ullman, J. D. & Tsur, S. (1997). Dynamic itemset counting and
    implication rules for market basket data. SIGMOD '97 (lift / "interest").
    Agresti, A. (2013). Categorical Data Analysis, 3rd ed., Wiley (two-proportion z test).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from luopan.engines.personas.traits import TRAITS
from luopan.errors import DataContractError, InsufficientDataError

__all__ = ["TRAIT_LABELS", "VALUE_LABELS", "PersonaResult", "persona_profiles"]

TRAIT_LABELS: dict[str, tuple[str, str]] = {
    "gender": ("性别", "gender"),
    "age_band": ("年龄段", "age band"),
    "region": ("大区", "region"),
    "acquisition": ("获客渠道", "acquisition channel"),
    "member_level": ("会员等级", "member level"),
    "channel": ("主要下单渠道", "main order channel"),
    "category": ("主要品类", "main category"),
    "price_band": ("价格带", "price band"),
    "daypart": ("主要下单时段", "main time of day"),
    "weekday": ("周末/工作日", "weekend or weekday"),
    "festival": ("大促敏感度", "festival sensitivity"),
}
VALUE_LABELS: dict[str, tuple[str, str]] = {
    "low": ("低价带", "low price band"),
    "mid": ("中价带", "mid price band"),
    "high": ("高价带", "high price band"),
    "morning": ("上午 06–11", "morning 06–11"),
    "midday": ("午间 11–14", "midday 11–14"),
    "afternoon": ("下午 14–18", "afternoon 14–18"),
    "evening": ("晚间 18–22", "evening 18–22"),
    "night": ("夜间 22–06", "night 22–06"),
    "weekend": ("周末为主", "mostly weekends"),
    "weekday": ("工作日为主", "mostly weekdays"),
    "sensitive": ("大促敏感", "festival-sensitive"),
    "not_sensitive": ("非大促敏感", "not festival-sensitive"),
}


@dataclass(frozen=True)
class PersonaResult:
    """``traits``: one row per segment × trait × value with segment_customers, n_segment,
    base_customers, n_base, segment_share, base_share, lift, z, distinguishing.
    ``segments``: one row per segment with customers, customer_share, spend_share,
    orders_per_customer, spend_per_customer and ``top`` (its distinguishing traits as
    ``trait=value`` strings, best first)."""

    traits: pd.DataFrame
    segments: pd.DataFrame

    def to_table(self) -> pd.DataFrame:
        return self.segments

    def top(self, segment: str, k: int = 5) -> pd.DataFrame:
        """The ``k`` most distinguishing traits of ``segment`` (rows of ``traits``)."""
        t = self.traits
        hit = t[(t["segment"] == segment) & t["distinguishing"]]
        return hit.sort_values(["lift", "z"], ascending=False).head(k)

    def summary(self) -> list[dict[str, Any]]:
        return [
            {**row, "top": list(row["top"])}
            for row in self.segments.replace({np.nan: None}).to_dict(orient="records")
        ]


def _z(
    seg_hits: np.ndarray, n_seg: np.ndarray, rest_hits: np.ndarray, n_rest: np.ndarray
) -> np.ndarray:
    pooled = (seg_hits + rest_hits) / (n_seg + n_rest)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n_seg + 1 / np.maximum(n_rest, 1)))
    diff = seg_hits / n_seg - rest_hits / np.maximum(n_rest, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        # a segment holding every known customer has nothing to be compared with: z = 0
        z = np.where((se > 0) & (n_rest > 0), diff / se, 0.0)
    return np.asarray(z, dtype=float)


def persona_profiles(
    traits: pd.DataFrame,
    segments: pd.Series,
    *,
    min_share: float = 0.05,
    min_lift: float = 1.2,
    min_z: float = 3.3,
    exclude: tuple[str, ...] = (),
) -> PersonaResult:
    """Profile every segment against the whole base (see the module docstring).

    Args:
        traits: ``customer_traits`` output (index customer_id; trait columns, orders, spend).
        segments: segment label per customer_id; customers without a label are left out of
            every segment but stay in the base.
        min_share, min_lift, min_z: the bars a trait value passes to distinguish a segment.
        exclude: traits left out (the trait the segments were cut by distinguishes them
            trivially).

    Raises:
        DataContractError: ``traits`` lacks a trait column, or thresholds are out of range.
        InsufficientDataError: no customer of ``traits`` has a segment.
    """
    missing = [t for t in TRAITS if t not in traits.columns]
    if missing:
        raise DataContractError(f"traits have no column {', '.join(map(repr, missing))}")
    if not 0 <= min_share < 1 or min_lift < 1 or min_z < 0:
        raise DataContractError(
            f"min_share={min_share}, min_lift={min_lift}, min_z={min_z}",
            fix="use 0 ≤ min_share < 1, min_lift ≥ 1 and min_z ≥ 0",
        )
    seg = segments.reindex(traits.index)
    if seg.notna().sum() == 0:
        raise InsufficientDataError(
            "no customer with traits has a segment",
            fix="check that segment customer ids match the warehouse's customer_id",
        )
    rows = []
    for trait in (t for t in TRAITS if t not in exclude):
        known = traits[trait].notna()
        if not known.any():
            continue
        frame = pd.DataFrame({"segment": seg[known], "value": traits.loc[known, trait]})
        n_base = len(frame)
        base_counts = frame["value"].value_counts()
        sized = frame.dropna(subset=["segment"])
        n_seg = sized.groupby("segment").size()
        cross = sized.groupby(["segment", "value"]).size().unstack(fill_value=0)
        cross = cross.reindex(columns=base_counts.index, fill_value=0)
        for value in cross.columns:
            hits = cross[value].to_numpy(dtype=float)
            ns = n_seg.reindex(cross.index).to_numpy(dtype=float)
            total = float(base_counts[value])
            z = _z(hits, ns, total - hits, n_base - ns)
            for s, h, n, zz in zip(cross.index, hits, ns, z, strict=True):
                rows.append((s, trait, value, h, n, total, n_base, zz))
    t = pd.DataFrame(
        rows,
        columns=[
            "segment",
            "trait",
            "value",
            "segment_customers",
            "n_segment",
            "base_customers",
            "n_base",
            "z",
        ],
    )
    t["segment_share"] = t["segment_customers"] / t["n_segment"]
    t["base_share"] = t["base_customers"] / t["n_base"]
    t["lift"] = t["segment_share"] / t["base_share"]
    t["distinguishing"] = (
        (t["segment_share"] >= min_share) & (t["lift"] >= min_lift) & (t["z"] >= min_z)
    )
    t = t.sort_values(["segment", "distinguishing", "lift"], ascending=[True, False, False])
    t = t.reset_index(drop=True)
    return PersonaResult(traits=t, segments=_segment_table(traits, seg, t))


def _segment_table(traits: pd.DataFrame, seg: pd.Series, t: pd.DataFrame) -> pd.DataFrame:
    spend = traits["spend"].clip(lower=0)
    total_spend = float(spend.sum())
    g = pd.DataFrame({"segment": seg, "orders": traits["orders"], "spend": spend}).dropna(
        subset=["segment"]
    )
    out = g.groupby("segment").agg(
        customers=("orders", "size"), orders=("orders", "sum"), spend=("spend", "sum")
    )
    out["customer_share"] = out["customers"] / len(traits)
    out["spend_share"] = out["spend"] / total_spend if total_spend > 0 else 0.0
    out["orders_per_customer"] = out["orders"] / out["customers"]
    out["spend_per_customer"] = out["spend"] / out["customers"]
    dist = t[t["distinguishing"]]
    top = {
        s: tuple(f"{r.trait}={r.value}" for r in d.itertuples())
        for s, d in dist.groupby("segment", sort=False)
    }
    out["top"] = [top.get(s, ()) for s in out.index]
    out = out.sort_values("customers", ascending=False).reset_index()
    return out.drop(columns=["orders", "spend"])
