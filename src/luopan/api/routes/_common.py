"""Helpers shared by the route modules: pagination and JSON-safe records."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd
from fastapi import Query
from pydantic import BaseModel

__all__ = ["Page", "page", "paginate", "records", "safe"]


class Page(BaseModel):
    """One page of a list: ``items[offset : offset + limit]`` of ``total``."""

    total: int
    limit: int
    offset: int
    items: list[dict[str, Any]]


def page(
    limit: int = Query(100, ge=1, le=10_000, description="page size / 每页条数"),
    offset: int = Query(0, ge=0, le=10_000_000, description="rows to skip / 跳过条数"),
) -> tuple[int, int]:
    return limit, offset


def safe(v: Any) -> Any:
    """A JSON-safe value: NaN/NaT → None, timestamps → ISO text, numpy scalars → Python."""
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, float):
        return None if math.isnan(v) or math.isinf(v) else v
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if isinstance(v, dt.datetime | dt.date):
        return v.isoformat()
    if isinstance(v, dict):
        return {str(k): safe(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [safe(x) for x in v]
    item = getattr(v, "item", None)
    if callable(item):
        return safe(item())
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return v


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): safe(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def paginate(items: list[dict[str, Any]] | pd.DataFrame, paging: tuple[int, int]) -> Page:
    """One page of a list of records or of a frame (only the page's rows are converted)."""
    limit, offset = paging
    if isinstance(items, pd.DataFrame):
        rows = records(items.iloc[offset : offset + limit])
        return Page(total=len(items), limit=limit, offset=offset, items=rows)
    return Page(total=len(items), limit=limit, offset=offset, items=items[offset : offset + limit])
