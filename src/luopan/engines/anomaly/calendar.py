"""Known events: Chinese public holidays and shopping festivals, and their year-ago twins.

A day inside a known event is not judged against normal days: it is excluded from the
baseline fit and compared with the same day of the same event one year earlier (双11 with
last year's 双11). Public holidays come from the ``holidays`` package (CN, names in zh_CN);
the shopping-festival windows are the ones the demo world plants (``luopan.demo.calendar``),
restated here because an engine must not import the demo: 年货节 (20 to 4 days before the
Spring Festival eve), 春节 (eve to day 5), 38节 (3-6..3-8), 618 (6-1..6-15) and its peak
618大促 (6-16..6-18), 双11 (11-1..11-9) and its peak 双11大促 (11-10..11-11), 双12
(12-10..12-12).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

import holidays
import numpy as np
import pandas as pd

__all__ = [
    "EventWindow",
    "china_events",
    "event_days",
    "public_holidays",
    "shopping_festivals",
]

EventKind = Literal["festival", "holiday", "custom"]
_MAX_GAP_DAYS = 3  # holiday days this close are one break (e.g. a weekend inside 春节)


@dataclass(frozen=True)
class EventWindow:
    """One occurrence of a recurring event, inclusive of both ends.

    Attributes:
        name: the event's label, the same every year (``双11``, ``国庆节``); it links an
            occurrence to last year's.
        start, end: first and last day.
        kind: ``festival`` (shopping festival), ``holiday`` (public holiday) or ``custom``.
    """

    name: str
    start: date
    end: date
    kind: EventKind = "custom"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _spring_festival_days(years: Iterable[int]) -> dict[int, date]:
    cn = holidays.country_holidays("CN", years=list(years), language="en_US")
    found: dict[int, date] = {}
    for day, name in sorted(cn.items()):
        if "Spring Festival" in name and day.year not in found:
            found[day.year] = day
    return found


def shopping_festivals(years: Iterable[int]) -> list[EventWindow]:
    """The shopping-festival windows of the given years (see the module docstring)."""
    years = list(years)
    spring = _spring_festival_days(years)
    out: list[EventWindow] = []
    for y in years:
        if y in spring:
            eve = spring[y] - timedelta(days=1)
            out.append(
                EventWindow("年货节", eve - timedelta(days=20), eve - timedelta(days=4), "festival")
            )
            out.append(EventWindow("春节", eve, spring[y] + timedelta(days=5), "festival"))
        out += [
            EventWindow("38节", date(y, 3, 6), date(y, 3, 8), "festival"),
            EventWindow("618", date(y, 6, 1), date(y, 6, 15), "festival"),
            EventWindow("618大促", date(y, 6, 16), date(y, 6, 18), "festival"),
            EventWindow("双11", date(y, 11, 1), date(y, 11, 9), "festival"),
            EventWindow("双11大促", date(y, 11, 10), date(y, 11, 11), "festival"),
            EventWindow("双12", date(y, 12, 10), date(y, 12, 12), "festival"),
        ]
    return sorted(out, key=lambda w: (w.start, w.name))


def _holiday_label(name: str) -> str | None:
    """``国庆节（补假）`` → 国庆节, ``农历除夕`` → 春节; bridge days (调休) → None."""
    if "调休" in name or name.startswith("休息日"):
        return None
    name = name.replace("（补假）", "").replace("(补假)", "").strip()
    return "春节" if name == "农历除夕" else name


def public_holidays(years: Iterable[int]) -> list[EventWindow]:
    """Chinese public-holiday breaks (``holidays`` CN, zh_CN names), one window per break.

    Days off within three days of each other form one break (bridge days included), named by
    its most frequent holiday name, so 2025's 国庆节 + 中秋节 break is one ``国庆节`` window.
    """
    cn = holidays.country_holidays("CN", years=sorted(set(years)), language="zh_CN")
    days = sorted(cn.items())
    out: list[EventWindow] = []
    run: list[tuple[date, str]] = []

    def close() -> None:
        names = [lab for _, n in run if (lab := _holiday_label(n)) is not None]
        if names:
            label = Counter(names).most_common(1)[0][0]
            out.append(EventWindow(label, run[0][0], run[-1][0], "holiday"))

    for day, name in days:
        if run and (day - run[-1][0]).days > _MAX_GAP_DAYS:
            close()
            run = []
        run.append((day, name))
    if run:
        close()
    return out


def china_events(start: date, end: date) -> tuple[EventWindow, ...]:
    """Public holidays and shopping festivals overlapping [start − 1 year, end]."""
    years = range(start.year - 2, end.year + 1)
    windows = public_holidays(years) + shopping_festivals(years)
    lo = start - timedelta(days=400)
    return tuple(w for w in windows if w.end >= lo and w.start <= end)


def event_days(
    dates: pd.DatetimeIndex, events: Sequence[EventWindow]
) -> tuple[np.ndarray, np.ndarray]:
    """Label each date with its event and the position of its year-ago twin.

    Festivals take precedence over holidays, holidays over custom events, where windows
    overlap. The twin of day ``k`` of an occurrence is day ``min(k, length − 1)`` of the
    previous occurrence of the same name that started 300–430 days earlier.

    Args:
        dates: consecutive days.
        events: the known event windows.

    Returns:
        ``labels`` (object array, None on normal days) and ``twin`` (int array: index into
        ``dates`` of the year-ago twin, −1 when there is none or it lies before ``dates``).
    """
    n = len(dates)
    labels = np.full(n, None, dtype=object)
    twin = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return labels, twin
    first = dates[0].date()
    rank = {"custom": 0, "holiday": 1, "festival": 2}
    by_name: dict[str, list[EventWindow]] = {}
    for w in events:
        by_name.setdefault(w.name, []).append(w)
    for w in sorted(events, key=lambda w: rank[w.kind]):
        a = max((w.start - first).days, 0)
        b = min((w.end - first).days, n - 1)
        if b < a:
            continue
        prev = [p for p in by_name[w.name] if 300 <= (w.start - p.start).days <= 430 and p is not w]
        for i in range(a, b + 1):
            labels[i] = w.name
            twin[i] = -1
            if prev:
                p = max(prev, key=lambda p: p.start)
                k = min((first + timedelta(days=i) - w.start).days, p.days - 1)
                j = (p.start - first).days + k
                twin[i] = j if 0 <= j < i else -1
    return labels, twin
