"""Report schedule: slots at their boundaries, first sight, restarts and malformed options."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from luopan.errors import ConfigError
from luopan.reports.schedule import due_reports, load_sent, mark_sent, parse_schedule

D = dt.datetime


def test_daily_slot_boundaries_and_first_sight(tmp_path: Path) -> None:
    s = parse_schedule(daily="08:30")
    assert due_reports(s, D(2026, 11, 30, 7, 0), tmp_path) == []  # first sight: recorded only
    assert load_sent(tmp_path) == {"daily": D(2026, 11, 30, 7, 0)}
    assert due_reports(s, D(2026, 11, 30, 8, 29, 59), tmp_path) == []
    assert due_reports(s, D(2026, 11, 30, 8, 30), tmp_path) == ["daily"]  # exactly at the slot
    mark_sent(tmp_path, "daily", D(2026, 11, 30, 8, 30))
    assert due_reports(s, D(2026, 11, 30, 23, 59), tmp_path) == []
    assert due_reports(s, D(2026, 12, 1, 8, 29), tmp_path) == []
    assert due_reports(s, D(2026, 12, 1, 8, 30), tmp_path) == ["daily"]


def test_first_sight_after_the_slot_waits_for_the_next_one(tmp_path: Path) -> None:
    s = parse_schedule(daily="08:30")
    assert due_reports(s, D(2026, 11, 30, 9, 0), tmp_path) == []
    assert due_reports(s, D(2026, 12, 1, 8, 0), tmp_path) == []
    assert due_reports(s, D(2026, 12, 1, 8, 30), tmp_path) == ["daily"]


def test_weekly_slot_and_a_restart_after_missed_slots(tmp_path: Path) -> None:
    s = parse_schedule(weekly="Mon@09:00")
    assert s.weekly == (0, dt.time(9, 0))
    due_reports(s, D(2026, 11, 29, 12, 0), tmp_path)  # a Sunday: recorded
    assert due_reports(s, D(2026, 11, 30, 8, 59), tmp_path) == []
    assert due_reports(s, D(2026, 11, 30, 9, 0), tmp_path) == ["weekly"]
    mark_sent(tmp_path, "weekly", D(2026, 11, 30, 9, 0))
    # stopped for three weeks: one report for the latest slot, not three
    again = parse_schedule(weekly="mon@09:00")
    assert due_reports(again, D(2026, 12, 23, 10, 0), tmp_path) == ["weekly"]
    assert again.last_slot("weekly", D(2026, 12, 23, 10, 0)) == D(2026, 12, 21, 9, 0)
    mark_sent(tmp_path, "weekly", D(2026, 12, 23, 10, 0))
    assert due_reports(again, D(2026, 12, 28, 8, 0), tmp_path) == []


def test_both_kinds_are_independent(tmp_path: Path) -> None:
    s = parse_schedule(daily="08:30", weekly="mon@09:00")
    due_reports(s, D(2026, 11, 29, 12, 0), tmp_path)
    assert due_reports(s, D(2026, 11, 30, 9, 0), tmp_path) == ["daily", "weekly"]
    mark_sent(tmp_path, "daily", D(2026, 11, 30, 9, 0))
    assert due_reports(s, D(2026, 11, 30, 9, 1), tmp_path) == ["weekly"]


@pytest.mark.parametrize(
    ("daily", "weekly", "fix"),
    [
        ("8h30", None, "HH:MM"),
        ("25:00", None, "HH:MM"),
        (None, "monday 09:00", "DAY@HH:MM"),
        (None, "xyz@09:00", "mon, tue"),
        (None, "mon@9", "HH:MM"),
    ],
)
def test_malformed_options_name_the_form(daily: str | None, weekly: str | None, fix: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_schedule(daily=daily, weekly=weekly)
    assert fix in (err.value.fix or "")


def test_a_corrupt_record_says_how_to_recover(tmp_path: Path) -> None:
    (tmp_path / "schedule.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_sent(tmp_path)
    assert "schedule.json" in str(err.value) and "delete the file" in (err.value.fix or "")
