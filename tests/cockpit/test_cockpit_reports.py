"""Daily and weekly operations reports: values, both languages, PDF with the Chinese font."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from luopan.metrics import connect, load_catalog, query_metric
from luopan.metrics.labels import format_value
from luopan.reports import CHROMIUM, build_report, write_report


def _gmv(ws: Any, start: dt.date, end: dt.date) -> str:
    catalog = load_catalog(ws)
    con = connect(ws)
    try:
        value = query_metric(con, catalog, "gmv", grain=None, start=start, end=end)["value"][0]
    finally:
        con.disconnect()
    return format_value(float(value), catalog.metric("gmv"))


def test_weekly_report_html_and_pdf(cockpit_world: Any, tmp_path: Path) -> None:
    ws, _ = cockpit_world
    files = write_report(
        ws, kind="weekly", lang="zh", out_dir=tmp_path, as_of=dt.date(2026, 11, 15)
    )
    html = files[0].read_text(encoding="utf-8")
    assert files[0].name == "weekly-2026-W46-zh.html"
    assert "运营周报 · 2026-W46" in html and "平衡计分卡" in html
    week = _gmv(ws, dt.date(2026, 11, 9), dt.date(2026, 11, 16))
    assert f'<b id="north-star-value">{week}</b>' in html
    assert "门店GMV下滑" in html and "王店长" in html  # open incident, action due
    assert "http://" not in html and "https://" not in html  # self-contained
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium: the PDF step is skipped (HTML checked above)")
    pdf = files[1].read_bytes()
    assert files[1].suffix == ".pdf" and pdf.startswith(b"%PDF")
    assert b"WenQuanYi" in pdf  # the Chinese font is embedded


def test_daily_report_in_english(cockpit_world: Any) -> None:
    ws, _ = cockpit_world
    report = build_report(ws, kind="daily", lang="en", as_of=dt.date(2026, 11, 15))
    assert report.period == "2026-11-15" and report.stem == "daily-2026-11-15-en"
    assert "Daily operations report · 2026-11-15" in report.html
    day = _gmv(ws, dt.date(2026, 11, 15), dt.date(2026, 11, 16))
    assert f'<b id="north-star-value">{day}</b>' in report.html
    assert "Store GMV dropped" in report.html
    with pytest.raises(Exception, match="unknown report"):
        build_report(ws, kind="monthly")
