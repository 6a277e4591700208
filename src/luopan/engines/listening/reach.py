"""Author reach tiers: who can spread a complaint on their own.

Tiers follow the influencer-marketing convention used by Chinese agencies and platforms
(头部 / 腰部 / 尾部 KOL, 素人) on follower counts, with verified media and verified
organisations promoted to the top tier whatever their count (Hootsuite "influencer" signals,
NewsWhip predicted interactions). The cut-offs are a product choice kept in one table:

| tier | zh | followers | or |
|---|---|---|---|
| ``top`` | 头部/媒体 | ≥ 1,000,000 | a media or verified-organisation account |
| ``mid`` | 腰部 | ≥ 100,000 | a verified personal account (蓝V/黄V) with ≥ 10,000 |
| ``micro`` | 尾部 | ≥ 10,000 | |
| ``regular`` | 素人 | below | |

A mention's reach weight is log(1 + followers) + 1 (see :func:`bursts.bin_mentions`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["TIER_LABELS", "TIERS", "reach_tier", "reach_tiers"]

# (tier, minimum followers), most reach first
TIERS: tuple[tuple[str, int], ...] = (
    ("top", 1_000_000),
    ("mid", 100_000),
    ("micro", 10_000),
    ("regular", 0),
)
TIER_LABELS: dict[str, dict[str, str]] = {
    "top": {"zh": "头部/媒体", "en": "top / media"},
    "mid": {"zh": "腰部", "en": "mid-tier"},
    "micro": {"zh": "尾部", "en": "micro"},
    "regular": {"zh": "素人", "en": "regular"},
}
MEDIA_KINDS = frozenset({"media", "organisation", "organization", "government", "媒体", "机构"})
VERIFIED_PERSONAL_MIN = 10_000


def reach_tier(
    followers: float | None, *, verified: bool = False, author_type: str | None = None
) -> str:
    """The tier of one author (see the module table); missing followers count as 0."""
    n = 0.0 if followers is None or pd.isna(followers) else max(float(followers), 0.0)
    if author_type is not None and author_type.strip().lower() in MEDIA_KINDS:
        return "top"
    for tier, floor in TIERS:
        if n >= floor:
            if tier in ("micro", "regular") and verified and n >= VERIFIED_PERSONAL_MIN:
                return "mid"
            return tier
    return "regular"  # pragma: no cover - the last floor is 0


def reach_tiers(
    followers: Sequence[float] | np.ndarray | pd.Series,
    *,
    verified: Sequence[bool] | None = None,
    author_type: Sequence[str | None] | None = None,
) -> np.ndarray:
    """Vectorised :func:`reach_tier` (an object array of tier names)."""
    fol = pd.to_numeric(pd.Series(list(followers)), errors="coerce").fillna(0).to_numpy()
    ver = np.zeros(fol.size, bool) if verified is None else np.asarray(verified, bool)
    kind = [None] * fol.size if author_type is None else list(author_type)
    return np.array(
        [
            reach_tier(f, verified=bool(v), author_type=k)
            for f, v, k in zip(fol, ver, kind, strict=True)
        ],
        dtype=object,
    )
