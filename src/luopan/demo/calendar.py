"""The demo calendar: weekly profiles, Chinese public holidays and shopping festivals.

Every channel has a daily intensity multiplier ``weekly[dow] x festival[day] x trend``; customer
purchase processes run in the "operational time" these multipliers define, so a festival
raises every customer's purchase rate on those days by the same factor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import holidays
import numpy as np

CHANNELS: tuple[str, ...] = ("store", "miniprogram", "meituan", "tmall", "jd", "douyin")
ONLINE = ("tmall", "jd", "douyin")

# Monday..Sunday demand multipliers (mean 1).
WEEKLY: dict[str, tuple[float, ...]] = {
    "store": (0.88, 0.86, 0.90, 0.94, 1.06, 1.22, 1.14),
    "miniprogram": (0.95, 0.93, 0.96, 0.98, 1.02, 1.10, 1.06),
    "meituan": (0.90, 0.88, 0.90, 0.95, 1.08, 1.18, 1.11),
    "tmall": (1.02, 1.00, 1.00, 0.99, 0.98, 1.00, 1.01),
    "jd": (1.03, 1.01, 1.00, 0.99, 0.98, 0.99, 1.00),
    "douyin": (0.94, 0.95, 0.96, 0.98, 1.04, 1.08, 1.05),
}

# Hour-of-day weights per channel (24 values each).
_HOURS_STORE = [0, 0, 0, 0, 0, 0, 1, 4, 8, 9, 8, 7, 6, 5, 5, 6, 8, 11, 12, 9, 6, 3, 1, 0]
_HOURS_ONLINE = [2, 1, 1, 0, 0, 1, 2, 4, 6, 7, 7, 7, 8, 7, 6, 6, 6, 7, 8, 9, 11, 12, 9, 5]
_HOURS_DELIVERY = [1, 0, 0, 0, 0, 0, 1, 3, 6, 8, 10, 11, 9, 6, 5, 6, 9, 12, 12, 8, 5, 3, 2, 1]
HOURS: dict[str, np.ndarray] = {
    c: np.asarray(h, dtype=float) / float(sum(h))
    for c, h in {
        "store": _HOURS_STORE,
        "miniprogram": _HOURS_DELIVERY,
        "meituan": _HOURS_DELIVERY,
        "tmall": _HOURS_ONLINE,
        "jd": _HOURS_ONLINE,
        "douyin": _HOURS_ONLINE,
    }.items()
}


@dataclass(frozen=True)
class Festival:
    """One festival window with its demand multiplier per channel."""

    name: str
    start: date
    end: date
    multipliers: dict[str, float]


def _spring_festivals(years: list[int]) -> dict[int, date]:
    cn = holidays.country_holidays("CN", years=years)
    found: dict[int, date] = {}
    for day, name in sorted(cn.items()):
        if "Spring Festival" in name and day.year not in found:
            found[day.year] = day
    return found


def festivals_between(start: date, end: date) -> list[Festival]:
    """The festival windows that overlap [start, end], in date order."""
    years = list(range(start.year - 1, end.year + 2))
    spring = _spring_festivals(years)
    out: list[Festival] = []
    online_only = {c: 1.0 for c in CHANNELS}
    for y in years:
        if y in spring:
            s = spring[y]
            eve = s - timedelta(days=1)
            out.append(
                Festival(
                    "年货节",
                    eve - timedelta(days=20),
                    eve - timedelta(days=4),
                    {
                        "store": 1.22,
                        "miniprogram": 1.35,
                        "meituan": 1.15,
                        "tmall": 1.7,
                        "jd": 1.7,
                        "douyin": 1.8,
                    },
                )
            )
            out.append(
                Festival(
                    "春节",
                    eve,
                    s + timedelta(days=5),
                    {
                        "store": 0.55,
                        "miniprogram": 0.6,
                        "meituan": 0.65,
                        "tmall": 0.45,
                        "jd": 0.5,
                        "douyin": 0.45,
                    },
                )
            )
        out.append(
            Festival(
                "38节",
                date(y, 3, 6),
                date(y, 3, 8),
                {**online_only, "tmall": 1.5, "jd": 1.3, "douyin": 1.6, "miniprogram": 1.2},
            )
        )
        out.append(
            Festival(
                "618",
                date(y, 6, 1),
                date(y, 6, 15),
                {**online_only, "tmall": 1.3, "jd": 1.45, "douyin": 1.35, "miniprogram": 1.1},
            )
        )
        out.append(
            Festival(
                "618大促",
                date(y, 6, 16),
                date(y, 6, 18),
                {
                    **online_only,
                    "tmall": 2.4,
                    "jd": 2.8,
                    "douyin": 2.3,
                    "miniprogram": 1.3,
                    "store": 1.05,
                },
            )
        )
        out.append(
            Festival(
                "双11",
                date(y, 11, 1),
                date(y, 11, 9),
                {**online_only, "tmall": 1.5, "jd": 1.4, "douyin": 1.45, "miniprogram": 1.15},
            )
        )
        out.append(
            Festival(
                "双11大促",
                date(y, 11, 10),
                date(y, 11, 11),
                {
                    **online_only,
                    "tmall": 3.4,
                    "jd": 2.9,
                    "douyin": 3.0,
                    "miniprogram": 1.5,
                    "store": 1.08,
                },
            )
        )
        out.append(
            Festival(
                "双12",
                date(y, 12, 10),
                date(y, 12, 12),
                {**online_only, "tmall": 1.8, "jd": 1.5, "douyin": 1.7, "miniprogram": 1.2},
            )
        )
    return sorted(
        (f for f in out if f.end >= start and f.start <= end), key=lambda f: (f.start, f.name)
    )


def public_holidays(start: date, end: date) -> dict[date, str]:
    """Chinese public holidays (the ``holidays`` package, CN) in [start, end]."""
    cn = holidays.country_holidays("CN", years=list(range(start.year, end.year + 1)))
    return {d: n for d, n in sorted(cn.items()) if start <= d <= end}


@dataclass(frozen=True)
class Calendar:
    """Daily intensity multipliers per channel over [first, end]."""

    first: date  # first simulated day (may precede the export window)
    start: date  # first exported day
    end: date
    intensity: dict[str, np.ndarray]  # channel -> multiplier per day since ``first``
    festivals: list[Festival]
    holidays: dict[date, str]

    @property
    def n_days(self) -> int:
        return (self.end - self.first).days + 1

    def index(self, day: date) -> int:
        return (day - self.first).days

    def day(self, index: int) -> date:
        return self.first + timedelta(days=int(index))


HOLIDAY_MULTIPLIER = {
    "store": 1.18,
    "miniprogram": 1.1,
    "meituan": 1.15,
    "tmall": 0.95,
    "jd": 0.95,
    "douyin": 1.0,
}


def build_calendar(start: date, end: date, *, history_days: int) -> Calendar:
    """Intensity per channel and day, including ``history_days`` of quiet history before start."""
    first = start - timedelta(days=history_days)
    n = (end - first).days + 1
    days = np.arange(n)
    dow = (np.array([first.weekday()]) + days) % 7
    fests = festivals_between(start, end)
    hols = public_holidays(start, end)
    spring_days = {
        (f.start + timedelta(days=k))
        for f in fests
        if f.name == "春节"
        for k in range((f.end - f.start).days + 1)
    }
    intensity: dict[str, np.ndarray] = {}
    for ch in CHANNELS:
        mult = np.asarray(WEEKLY[ch])[dow]
        in_window = days >= history_days
        # gentle growth over the export window (+12% a year for online, +4% for stores)
        growth = 0.04 if ch == "store" else 0.12
        mult = mult * (1.0 + growth * np.clip(days - history_days, 0, None) / 365.0)
        for f in fests:
            a, b = (f.start - first).days, (f.end - first).days
            mult[max(a, 0) : b + 1] *= f.multipliers.get(ch, 1.0)
        for d in hols:
            if d not in spring_days:
                mult[(d - first).days] *= HOLIDAY_MULTIPLIER[ch]
        mult[~in_window] = np.asarray(WEEKLY[ch])[dow[~in_window]]
        intensity[ch] = mult
    return Calendar(first, start, end, intensity, fests, hols)
