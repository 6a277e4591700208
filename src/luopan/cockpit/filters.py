"""The page filters (date range, region, store, channel, category), kept in the URL query.

``Filters.parse(query)`` validates the query string (a bad date is a clear error, never a
500); ``conditions(catalog, metric)`` turns the dimension filters into the metric system's
structured ``Condition`` filters (values are literals, never SQL), choosing for each filter
the reference that resolves on every semantic model the metric is computed from;
``query(**changes)`` writes the filters back into a query string so a view can be shared.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any
from urllib.parse import urlencode

from luopan.errors import MetricError
from luopan.metrics.catalog import Catalog, resolvable
from luopan.metrics.spec import Condition

__all__ = ["DIMENSION_REFS", "Filters", "FilterError"]

# filter name -> references tried in order on the metric's semantic models
DIMENSION_REFS: dict[str, tuple[str, ...]] = {
    "region": ("store__region", "order__store__region"),
    "store": ("store_id", "order__store_id"),
    "channel": ("channel", "order__channel"),
    "category": ("product__category", "order__product__category"),
}
GRAINS = ("day", "week", "month", "quarter")


class FilterError(MetricError):
    """A filter value in the URL is not valid."""


def _date(name: str, text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise FilterError(
            f"filter {name}={text!r} is not a date", fix="write YYYY-MM-DD, e.g. 2026-11-01"
        ) from None


def _leaf_models(catalog: Catalog, name: str) -> set[str]:
    m = catalog.metric(name)
    if m.type == "simple":
        return {str(m.model)}
    out: set[str] = set()
    for dep in catalog.dependencies(name):
        out |= _leaf_models(catalog, dep)
    return out


@dataclass(frozen=True)
class Filters:
    """The filters of one page view (``to`` is the last day shown, inclusive)."""

    start: dt.date | None = None
    to: dt.date | None = None
    region: str | None = None
    store: str | None = None
    channel: str | None = None
    category: str | None = None
    grain: str | None = None

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> Filters:
        """Filters from a request's query parameters.

        Raises:
            FilterError: a date is malformed, the range is reversed, or the grain is unknown.
        """
        start = _date("from", query.get("from"))
        to = _date("to", query.get("to"))
        if start and to and start > to:
            raise FilterError(
                f"the range {start}..{to} ends before it starts", fix="swap from and to"
            )
        grain = query.get("grain") or None
        if grain is not None and grain not in GRAINS:
            raise FilterError(f"unknown grain {grain!r}", fix=f"use one of {', '.join(GRAINS)}")

        def text(key: str) -> str | None:
            value = (query.get(key) or "").strip()
            return value[:100] or None

        return cls(
            start=start,
            to=to,
            region=text("region"),
            store=text("store"),
            channel=text("channel"),
            category=text("category"),
            grain=grain,
        )

    @property
    def end(self) -> dt.date | None:
        """The exclusive end of the range (the day after ``to``)."""
        return None if self.to is None else self.to + dt.timedelta(days=1)

    @property
    def dimensions(self) -> dict[str, str]:
        """The dimension filters that are set."""
        return {k: v for k in DIMENSION_REFS if (v := getattr(self, k)) is not None}

    def with_range(self, start: dt.date, to: dt.date) -> Filters:
        """These filters with the range filled in where it is missing."""
        return replace(self, start=self.start or start, to=self.to or to)

    def conditions(self, catalog: Catalog, metric: str) -> list[Condition]:
        """The dimension filters as conditions on ``metric``.

        Raises:
            FilterError: a filter cannot apply to the metric (its models have no such
                dimension); the metric is then shown as unavailable, never unfiltered.
        """
        if not self.dimensions:
            return []
        models = [catalog.models[m] for m in _leaf_models(catalog, metric)]
        out = []
        for key, value in self.dimensions.items():
            ref = next(
                (r for r in DIMENSION_REFS[key] if all(resolvable(catalog, m, r) for m in models)),
                None,
            )
            if ref is None:
                raise FilterError(
                    f"metric {metric!r} cannot be filtered by {key}",
                    fix=f"remove the {key} filter to see this metric",
                )
            out.append(Condition(field=ref, op="eq", value=value))
        return out

    def params(self) -> dict[str, str]:
        """The filters as query parameters (only those that are set)."""
        out: dict[str, str] = {}
        for f in fields(self):
            value: Any = getattr(self, f.name)
            if value is not None:
                out["from" if f.name == "start" else f.name] = str(value)
        return out

    def query(self, **changes: Any) -> str:
        """A query string of these filters with ``changes`` applied (None removes a key)."""
        params: dict[str, Any] = self.params()
        for key, value in changes.items():
            key = "from" if key == "start" else key
            if value is None:
                params.pop(key, None)
            else:
                params[key] = str(value)
        return urlencode(params)
