"""When the daily and weekly reports are due: the schedule ``luopan watch`` keeps.

A schedule is a daily time (``08:30``) and/or a weekly day and time (``mon@09:00``) in the
workspace's timezone. A report is *due* when its latest scheduled moment at or before now is
later than the last time it was sent. The last-sent times live in
``<workspace>/reports/schedule.json``, so a restarted watcher never sends a slot twice, and
after a stop it sends the latest missed slot once (not one report per missed slot). On first
sight of a kind (no record) the current moment is recorded and the first report goes out at
the next slot, as cron would.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from luopan.errors import ConfigError

__all__ = ["ReportSchedule", "due_reports", "load_sent", "mark_sent", "parse_schedule"]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
STATE_FILE = "schedule.json"


@dataclass(frozen=True)
class ReportSchedule:
    """``daily``: time of day; ``weekly``: (ISO weekday 0 = Monday, time of day)."""

    daily: dt.time | None = None
    weekly: tuple[int, dt.time] | None = None

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(k for k, v in (("daily", self.daily), ("weekly", self.weekly)) if v)

    def last_slot(self, kind: str, now: dt.datetime) -> dt.datetime:
        """The latest scheduled moment of ``kind`` at or before ``now`` (naive local time)."""
        if kind == "daily" and self.daily is not None:
            slot = dt.datetime.combine(now.date(), self.daily)
            return slot if slot <= now else slot - dt.timedelta(days=1)
        if kind == "weekly" and self.weekly is not None:
            day, at = self.weekly
            monday = now.date() - dt.timedelta(days=now.weekday())
            slot = dt.datetime.combine(monday + dt.timedelta(days=day), at)
            return slot if slot <= now else slot - dt.timedelta(days=7)
        raise ConfigError(f"no {kind} report in the schedule", fix="use daily or weekly")


def _time(text: str, option: str) -> dt.time:
    try:
        hh, mm = text.strip().split(":")
        return dt.time(int(hh), int(mm))
    except ValueError:
        raise ConfigError(
            f"{option} {text!r} is not a time of day",
            fix=f"give it as HH:MM, e.g. {option} 08:30",
        ) from None


def parse_schedule(daily: str | None = None, weekly: str | None = None) -> ReportSchedule:
    """``daily`` as ``HH:MM``; ``weekly`` as ``DAY@HH:MM`` with DAY one of mon…sun.

    Raises:
        ConfigError: a malformed time or day, naming the option and the expected form.
    """
    week: tuple[int, dt.time] | None = None
    if weekly is not None:
        day, sep, at = weekly.strip().lower().partition("@")
        if not sep or day not in DAYS:
            raise ConfigError(
                f"--weekly-report {weekly!r} is not DAY@HH:MM",
                fix=f"give DAY@HH:MM, e.g. --weekly-report mon@09:00 (DAY one of {', '.join(DAYS)})",
            )
        week = (DAYS.index(day), _time(at, "--weekly-report"))
    return ReportSchedule(
        daily=_time(daily, "--daily-report") if daily is not None else None, weekly=week
    )


def load_sent(folder: Path) -> dict[str, dt.datetime]:
    """Last-sent moment per report kind (empty when nothing was recorded)."""
    path = folder / STATE_FILE
    if not path.is_file():
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {k: dt.datetime.fromisoformat(v) for k, v in raw.items()}
    except (ValueError, TypeError, AttributeError):
        raise ConfigError(
            f"{path}: not a report schedule record",
            fix="delete the file; the next slot of each report will be sent",
        ) from None


def mark_sent(folder: Path, kind: str, when: dt.datetime) -> None:
    """Record ``when`` as the last-sent moment of ``kind`` (written atomically)."""
    folder.mkdir(parents=True, exist_ok=True)
    sent = load_sent(folder)
    sent[kind] = when
    tmp = folder / f".{STATE_FILE}.tmp"
    tmp.write_text(
        json.dumps({k: v.isoformat() for k, v in sorted(sent.items())}), encoding="utf-8"
    )
    tmp.replace(folder / STATE_FILE)


def due_reports(schedule: ReportSchedule, now: dt.datetime, folder: Path) -> list[str]:
    """The report kinds due at ``now``; a kind seen for the first time is recorded, not sent."""
    sent = load_sent(folder)
    due = []
    for kind in schedule.kinds:
        if kind not in sent:
            mark_sent(folder, kind, now)
            continue
        if schedule.last_slot(kind, now) > sent[kind]:
            due.append(kind)
    return due
