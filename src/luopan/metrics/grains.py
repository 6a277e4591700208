"""Time grains, period labels and the shopping-festival calendar used by comparisons.

Warehouse timestamps are naive wall-clock times in the workspace timezone (see
``luopan.tables``), so truncating them to a grain gives calendar periods in that timezone.
Weeks start on Monday (ISO 8601). Period labels: ``2025-11-11`` (day), ``2025-W46`` (ISO
week), ``2025-11`` (month), ``2025-Q4`` (quarter), ``2025`` (year).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache

import holidays

from luopan.errors import MetricError

__all__ = [
    "IBIS_UNIT",
    "Festival",
    "festival_windows",
    "grain_start",
    "parse_period",
    "period_label",
    "shift",
]

IBIS_UNIT = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}
_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def grain_start(day: dt.date, grain: str) -> dt.date:
    """The first day of the period of ``grain`` holding ``day``."""
    if grain == "day":
        return day
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if grain == "year":
        return dt.date(day.year, 1, 1)
    raise MetricError(f"unknown grain {grain!r}", fix="use day, week, month, quarter or year")


def shift(day: dt.date, grain: str, n: int) -> dt.date:
    """``day`` moved by ``n`` periods of ``grain`` (month arithmetic clamps to the month end)."""
    if grain == "day":
        return day + dt.timedelta(days=n)
    if grain == "week":
        return day + dt.timedelta(weeks=n)
    months = day.year * 12 + day.month - 1 + n * _MONTHS[grain]
    year, month = divmod(months, 12)
    month += 1
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    last = (nxt - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def period_label(start: dt.date, grain: str) -> str:
    """The label of the period of ``grain`` starting at ``start``."""
    if grain == "day":
        return start.isoformat()
    if grain == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if grain == "month":
        return f"{start:%Y-%m}"
    if grain == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return f"{start.year}"


_PATTERNS = (
    (re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"), "day"),
    (re.compile(r"^(\d{4})-W(\d{1,2})$"), "week"),
    (re.compile(r"^(\d{4})-(\d{1,2})$"), "month"),
    (re.compile(r"^(\d{4})-Q([1-4])$"), "quarter"),
    (re.compile(r"^(\d{4})$"), "year"),
)


def parse_period(text: str) -> tuple[str, dt.date, dt.date]:
    """``"2025-W46"`` → ``("week", 2025-11-10, 2025-11-17)``: grain, first day, end (exclusive).

    Raises:
        MetricError: the label matches none of the forms.
    """
    label = text.strip().upper()
    for pattern, grain in _PATTERNS:
        m = pattern.match(label)
        if m is None:
            continue
        parts = [int(g) for g in m.groups()]
        try:
            if grain == "day":
                start = dt.date(*parts)
            elif grain == "week":
                start = dt.date.fromisocalendar(parts[0], parts[1], 1)
            elif grain == "month":
                start = dt.date(parts[0], parts[1], 1)
            elif grain == "quarter":
                start = dt.date(parts[0], 3 * parts[1] - 2, 1)
            else:
                start = dt.date(parts[0], 1, 1)
        except ValueError as exc:
            raise MetricError(f"period {text!r}: {exc}") from None
        return grain, start, shift(start, grain, 1)
    raise MetricError(
        f"period {text!r} is not a day, week, month, quarter or year label",
        fix="write 2025-11-11, 2025-W46, 2025-11, 2025-Q4 or 2025",
    )


@dataclass(frozen=True)
class Festival:
    """One occurrence of a shopping festival: [start, end) in local dates."""

    name: str
    year: int
    start: dt.date
    end: dt.date

    @property
    def label(self) -> str:
        return f"{self.name} {self.year}"


@cache
def _spring_festival(year: int) -> dt.date:
    cn = holidays.country_holidays("CN", years=[year])
    return min(d for d, n in cn.items() if "Spring Festival" in n)


def festival_windows(year: int) -> tuple[Festival, ...]:
    """The festival windows of a year, as retail calendars in China set them.

    年货节 (the 20 days before New Year's Eve), 春节 (eve to day 5), 38节 (6-8 Mar),
    618 (1-18 Jun), 双11 (1-11 Nov), 双12 (1-12 Dec). Spring Festival dates come from the
    ``holidays`` package's CN calendar.
    """
    eve = _spring_festival(year) - dt.timedelta(days=1)
    d = dt.date
    spans = (
        ("年货节", eve - dt.timedelta(days=20), eve),
        ("春节", eve, eve + dt.timedelta(days=7)),
        ("38节", d(year, 3, 6), d(year, 3, 9)),
        ("618", d(year, 6, 1), d(year, 6, 19)),
        ("双11", d(year, 11, 1), d(year, 11, 12)),
        ("双12", d(year, 12, 1), d(year, 12, 13)),
    )
    return tuple(Festival(n, year, s, e) for n, s, e in spans)


def festivals_in(start: dt.date, end: dt.date) -> list[Festival]:
    """Festival occurrences lying wholly inside [start, end)."""
    out = []
    for year in range(start.year, end.year + 1):
        out += [f for f in festival_windows(year) if f.start >= start and f.end <= end]
    return sorted(out, key=lambda f: f.start)
