"""Private-domain community health over ``communities`` and over-promotion detection.

Per group: activity rate (active members / members), message mix (promo share = promotional
messages / messages), member change, compared between a baseline window and the recent
window. A group is flagged as **over-promoted** when all of these hold:

1. its activity rate fell by at least ``min_drop`` (relative) from baseline to recent;
2. its promo share rose by at least ``min_promo_rise`` (absolute);
3. within the group, daily activity rate falls with promo share over both windows (OLS slope
   < 0 with p < ``alpha``), so the decline is associated with the promotion, not only timed
   with it.

The estimated effect is a difference in differences: the group's relative activity change
minus the median change of the other groups over the same windows (the other groups carry
the common trend and seasonality).

References:
    Angrist, J. D. & Pischke, J.-S. (2009). Mostly Harmless Econometrics, ch. 5
    (difference-in-differences). WeCom group operations guidance: keep promotional pushes
    a minority of group messages (the "over-selling" failure named in issue 12).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pandas as pd
from scipy import stats

from luopan.errors import EngineError, InsufficientDataError

__all__ = ["CommunityResult", "community_health"]

_COLUMNS = ("date", "group_id", "members", "active_members", "messages", "promo_messages")


@dataclass(frozen=True)
class CommunityResult:
    """``groups``: one row per group (see ``community_health``); ``weekly``: week, group_id,
    activity_rate, promo_share, members."""

    groups: pd.DataFrame
    weekly: pd.DataFrame
    baseline: tuple[pd.Timestamp, pd.Timestamp]
    recent: tuple[pd.Timestamp, pd.Timestamp]

    def to_table(self) -> pd.DataFrame:
        return self.groups

    @property
    def flagged(self) -> list[str]:
        return self.groups.loc[self.groups["overpromoted"], "group_id"].tolist()

    def summary(self) -> dict[str, Any]:
        g = self.groups.replace({np.nan: None})
        return {
            "baseline": [str(d.date()) for d in self.baseline],
            "recent": [str(d.date()) for d in self.recent],
            "flagged": self.flagged,
            "groups": g.to_dict(orient="records"),
        }


def _rates(frame: pd.DataFrame) -> pd.Series:
    s = frame[["members", "active_members", "messages", "promo_messages"]].sum()
    return pd.Series(
        {
            "activity_rate": s["active_members"] / s["members"] if s["members"] else np.nan,
            "promo_share": s["promo_messages"] / s["messages"] if s["messages"] else np.nan,
            "members": frame.sort_values("date")["members"].iloc[-1] if len(frame) else np.nan,
        }
    )


def community_health(
    communities: ir.Table,
    *,
    recent_days: int = 28,
    baseline_days: int = 28,
    lookback_days: int = 90,
    min_drop: float = 0.3,
    min_promo_rise: float = 0.10,
    alpha: float = 0.01,
) -> CommunityResult:
    """Health per group and the over-promotion flag (see the module docstring).

    Args:
        communities: Ibis table with date, group_id, members, active_members, messages,
            promo_messages (one row per group and day).
        recent_days: length of the recent window, ending at the last date.
        baseline_days: length of the baseline window, ending ``lookback_days`` before the last date.
        lookback_days: distance between the ends of the two windows.
        min_drop, min_promo_rise, alpha: the flag thresholds.

    Raises:
        EngineError: a column is missing.
        InsufficientDataError: the data covers less than ``lookback_days + baseline_days``.
    """
    missing = [c for c in _COLUMNS if c not in communities.columns]
    if missing:
        raise EngineError(
            f"the communities table has no column(s) {missing}",
            fix="map them at ingest (date, group_id, members, …)",
        )
    t = communities
    end = t.date.max().to_pyarrow().as_py()
    if end is None:
        raise InsufficientDataError("the communities table is empty", fix="ingest group stats")
    end = pd.Timestamp(end)
    b_end = end - pd.Timedelta(days=lookback_days)
    b_start = b_end - pd.Timedelta(days=baseline_days - 1)
    r_start = end - pd.Timedelta(days=recent_days - 1)
    first = pd.Timestamp(t.date.min().to_pyarrow().as_py())
    if first > b_start:
        raise InsufficientDataError(
            f"community data starts {first.date()}, the baseline window needs {b_start.date()}",
            fix="load more history or pass a smaller lookback_days/baseline_days",
        )
    t = t.filter(t.date >= b_start.date())
    daily = (
        t.group_by(["date", "group_id"])
        .aggregate(
            members=t.members.sum(),
            active_members=t.active_members.sum(),
            messages=t.messages.sum(),
            promo_messages=t.promo_messages.sum(),
        )
        .to_pandas()
    )
    daily["date"] = pd.to_datetime(daily["date"])
    rows = []
    for gid, g in daily.groupby("group_id", sort=True):
        base = _rates(g[g["date"] <= b_end])
        rec = _rates(g[g["date"] >= r_start])
        span = g[(g["date"] <= b_end) | (g["date"] >= r_start)]
        span = span[(span["members"] > 0) & (span["messages"] > 0)]
        x = span["promo_messages"] / span["messages"]
        y = span["active_members"] / span["members"]
        slope, p = (np.nan, np.nan)
        if len(span) >= 3 and x.nunique() > 1:
            fit = stats.linregress(x, y)
            slope, p = float(fit.slope), float(fit.pvalue)
        rows.append(
            {
                "group_id": str(gid),
                "activity_rate_baseline": base["activity_rate"],
                "activity_rate_recent": rec["activity_rate"],
                "activity_change": rec["activity_rate"] / base["activity_rate"] - 1,
                "promo_share_baseline": base["promo_share"],
                "promo_share_recent": rec["promo_share"],
                "promo_share_rise": rec["promo_share"] - base["promo_share"],
                "member_change": rec["members"] / base["members"] - 1,
                "slope": slope,
                "p_value": p,
            }
        )
    groups = pd.DataFrame(rows)
    if groups.empty:
        raise InsufficientDataError("no community groups in the windows", fix="ingest data")
    changes = groups["activity_change"].to_numpy()
    groups["did_effect"] = [
        changes[i] - (np.median(np.delete(changes, i)) if len(changes) > 1 else 0.0)
        for i in range(len(changes))
    ]
    groups["overpromoted"] = (
        (groups["activity_change"] <= -min_drop)
        & (groups["promo_share_rise"] >= min_promo_rise)
        & (groups["slope"] < 0)
        & (groups["p_value"] < alpha)
    )
    daily["week"] = daily["date"] - pd.to_timedelta(daily["date"].dt.day_of_week, unit="D")
    wk = daily.groupby(["week", "group_id"], as_index=False)[
        ["members", "active_members", "messages", "promo_messages"]
    ].sum()
    weekly = pd.DataFrame(
        {
            "week": wk["week"],
            "group_id": wk["group_id"],
            "activity_rate": wk["active_members"] / wk["members"],
            "promo_share": wk["promo_messages"] / wk["messages"],
            "members": wk["members"],
        }
    )
    return CommunityResult(groups, weekly, (b_start, b_end), (r_start, end))
