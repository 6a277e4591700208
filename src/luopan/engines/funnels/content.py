"""The content matrix over ``content``: output, engagement, natural-traffic share and its trend.

- Matrix per platform × format: items, views, natural views, engagements, engagement rate
  (engagements / views), natural share (natural views / views, views-weighted), views per item.
- Monthly trend of the views-weighted natural share and of output.
- Trend line: least squares of each item's natural share on its publication day, fitted from
  per-day means weighted by the number of items (identical to the item-level fit); reported as
  the fitted share on the first and the last day and the change per 30 days.
- Formats ranked by the natural views they bring per item.

References:
    Fox, J. (2016). Applied Regression Analysis and Generalized Linear Models, 3rd ed., §2
    (least squares on grouped data with frequency weights).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from luopan.errors import EngineError, InsufficientDataError

__all__ = ["ContentResult", "content_matrix"]

_COLUMNS = ("published_at", "platform", "format", "views", "natural_views", "engagements")


@dataclass(frozen=True)
class ContentResult:
    matrix: pd.DataFrame  # platform, format, items, views, natural_views, engagements, rates
    monthly: pd.DataFrame  # month, items, views, natural_views, natural_share
    formats: pd.DataFrame  # format, items, natural_views_per_item, natural_share, ranked
    share_start: float
    share_end: float
    slope_per_30d: float
    items_per_week: float

    def to_table(self) -> pd.DataFrame:
        return self.matrix

    def summary(self) -> dict[str, Any]:
        m = self.monthly.assign(month=self.monthly["month"].dt.strftime("%Y-%m"))
        return {
            "share_start": self.share_start,
            "share_end": self.share_end,
            "slope_per_30d": self.slope_per_30d,
            "items_per_week": self.items_per_week,
            "matrix": self.matrix.to_dict(orient="records"),
            "monthly": m.to_dict(orient="records"),
            "formats": self.formats.to_dict(orient="records"),
        }


def _rates(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    views = df["views"].where(df["views"] > 0)
    df["engagement_rate"] = df["engagements"] / views
    df["natural_share"] = df["natural_views"] / views
    df["views_per_item"] = df["views"] / df["items"]
    return df


def content_matrix(content: ir.Table) -> ContentResult:
    """Content output and natural-traffic lens (see the module docstring).

    Raises:
        EngineError: a column is missing.
        InsufficientDataError: fewer than 2 publication days with views.
    """
    missing = [c for c in _COLUMNS if c not in content.columns]
    if missing:
        raise EngineError(
            f"the content table has no column(s) {missing}",
            fix="map them at ingest (published_at, platform, format, views, …)",
        )
    t = content.filter(content.published_at.notnull())
    t = t.mutate(
        day=t.published_at.date(),
        platform=t.platform.fill_null("(none)"),
        format=t.format.fill_null("(none)"),
        v=t.views.fill_null(0).cast("float64"),
        nv=t.natural_views.fill_null(0).cast("float64"),
        e=t.engagements.fill_null(0).cast("float64"),
    )
    share = t.nv / t.v
    cells = (
        t.group_by(["day", "platform", "format"])
        .aggregate(
            items=t.count(),
            views=t.v.sum(),
            natural_views=t.nv.sum(),
            engagements=t.e.sum(),
            share_sum=share.sum(where=t.v > 0),
            share_n=(t.v > 0).cast("int64").sum(),
        )
        .to_pandas()
    )
    cells["day"] = pd.to_datetime(cells["day"])
    sums = ["items", "views", "natural_views", "engagements"]
    matrix = _rates(cells.groupby(["platform", "format"], as_index=False)[sums].sum())
    cells["month"] = cells["day"].dt.to_period("M").dt.to_timestamp()
    monthly = _rates(cells.groupby("month", as_index=False)[sums].sum())
    formats = _rates(cells.groupby("format", as_index=False)[sums].sum())
    formats["natural_views_per_item"] = formats["natural_views"] / formats["items"]
    formats = formats.sort_values("natural_views_per_item", ascending=False).reset_index(drop=True)
    per_day = cells.groupby("day")[["share_sum", "share_n"]].sum()
    per_day = per_day[per_day["share_n"] > 0]
    if len(per_day) < 2:
        raise InsufficientDataError(
            "fewer than 2 publication days with views", fix="ingest more content history"
        )
    x = (per_day.index - per_day.index[0]).days.to_numpy(dtype=float)
    y = (per_day["share_sum"] / per_day["share_n"]).to_numpy()
    w = per_day["share_n"].to_numpy(dtype=float)
    slope, intercept = np.polyfit(x, y, 1, w=np.sqrt(w))
    weeks = max((cells["day"].max() - cells["day"].min()).days + 1, 1) / 7
    return ContentResult(
        matrix=matrix,
        monthly=monthly,
        formats=formats,
        share_start=float(intercept),
        share_end=float(intercept + slope * x[-1]),
        slope_per_30d=float(slope * 30),
        items_per_week=float(cells["items"].sum() / weeks),
    )
