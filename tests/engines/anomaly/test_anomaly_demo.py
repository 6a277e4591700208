"""The demo world's planted DAU drop (ground_truth.json → dau_drop), seen by the detector.

Between ``start`` and ``end`` the app members of one channel × region are active with
probability × (1 − size). The daily active users of every channel × region slice are counted
from the exported event files (and, once, from the ingested warehouse); the detector runs on
all slices at once and must flag the planted slice inside the window, downwards, with few
false alarms elsewhere (counted per quarter; the issue's target is ≤ 1 per metric per quarter).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from luopan.engines.anomaly import AnomalyResult, detect_anomalies

EXPORT_SQL = """
WITH m AS (
    SELECT "会员编号" AS user_id, "大区" AS region
    FROM read_csv(?, all_varchar = true)
)
SELECT e.channel || '|' || m.region AS unique_id,
       CAST(substr(e.event_time, 1, 10) AS DATE) AS ds,
       count(DISTINCT e.user_id) AS y
FROM read_json(?, format = 'newline_delimited',
               columns = {event_time: 'VARCHAR', user_id: 'VARCHAR', channel: 'VARCHAR'}) e
JOIN m USING (user_id)
GROUP BY ALL
"""
TOTAL_SQL = """
SELECT CAST(substr(event_time, 1, 10) AS DATE) AS ds, count(DISTINCT user_id) AS dau
FROM read_json(?, format = 'newline_delimited',
               columns = {event_time: 'VARCHAR', user_id: 'VARCHAR'})
GROUP BY ALL ORDER BY ds
"""
WAREHOUSE_SQL = """
SELECT CAST(e.event_time AS DATE) AS ds, count(DISTINCT e.user_id) AS y
FROM events e JOIN customers c ON c.customer_id = e.user_id
WHERE e.channel = ? AND c.region = ?
GROUP BY ALL
"""


def _complete(long: pd.DataFrame) -> pd.DataFrame:
    """Days without events are days with 0 active users."""
    wide = long.pivot(index="ds", columns="unique_id", values="y")
    wide.index = pd.to_datetime(wide.index)
    wide = wide.reindex(pd.date_range(wide.index.min(), wide.index.max())).fillna(0.0)
    out = wide.stack().rename("y").reset_index()
    out.columns = ["ds", "unique_id", "y"]
    return out


def _score_window(result: AnomalyResult, uid: str, drop: dict[str, Any]) -> dict[str, Any]:
    start, end = pd.Timestamp(drop["start"]), pd.Timestamp(drop["end"])
    p = result.points[result.points["unique_id"] == uid].set_index("ds")
    window = p.loc[start:end]
    flagged = window[window["is_anomaly"]]
    inc = result.incidents()
    inc = inc[inc["unique_id"] == uid]
    # a running-median shift flag may outlast the drop by up to its window (7 days)
    after = end + pd.Timedelta(days=result.params.shift_window)
    false = inc[(inc["end"] < start) | (inc["start"] > after)]
    scored = p[p["status"] == "scored"]
    per_quarter = false.groupby(false["start"].dt.to_period("Q")).size()
    return {
        "flagged_share": len(flagged) / len(window),
        "first_flag": flagged.index.min(),
        "directions": set(flagged["direction"]),
        "false_alarms": len(false),
        "false_per_quarter": per_quarter.to_dict(),
        "scored_quarters": len(scored) / 91.0,
    }


@pytest.mark.slow
def test_planted_dau_drop_is_flagged_from_the_exported_events(
    demo_world: tuple[Any, dict[str, Any]],
) -> None:
    ws, truth = demo_world
    drop = truth["dau_drop"]
    root: Path = ws.root
    events = str(root / "exports" / "events" / "events_*.jsonl")
    con = duckdb.connect()
    try:
        long = con.execute(EXPORT_SQL, [str(root / "exports" / "crm" / "members.csv"), events]).df()
        total = con.execute(TOTAL_SQL, [events]).df()
    finally:
        con.close()
    # the event files hold exactly the planted world's daily active users
    assert dict(zip(total["ds"].astype(str), total["dau"], strict=True)) == truth["dau_by_day"]

    result = detect_anomalies(_complete(long), counts=True, on_short="skip")
    planted = f"{drop['channel']}|{drop['region']}"
    assert planted not in result.skipped
    seen = _score_window(result, planted, drop)
    assert seen["flagged_share"] >= 0.6
    assert seen["first_flag"] <= pd.Timestamp(drop["start"]) + pd.Timedelta(days=5)
    assert seen["directions"] == {"down"}
    assert seen["false_alarms"] <= seen["scored_quarters"]  # ≤ 1 per quarter

    # the planted slice is the one that dropped: the strongest incident in the window
    inc = result.incidents()
    start, end = pd.Timestamp(drop["start"]), pd.Timestamp(drop["end"])
    in_window = inc[(inc["start"] <= end) & (inc["end"] >= start)]
    strongest = in_window.loc[in_window["peak_score"].abs().idxmax()]
    assert strongest["unique_id"] == planted and strongest["direction"] == "down"
    # the other slices: few false alarms per slice and quarter
    others = inc[inc["unique_id"] != planted]
    n_slices = result.points["unique_id"].nunique() - 1
    quarters = (result.points["status"] == "scored").sum() / 91.0 / (n_slices + 1)
    print(  # the figures the issue asks to report
        f"\nplanted {planted}: {seen['flagged_share']:.0%} of the window flagged, first "
        f"{seen['first_flag']:%Y-%m-%d}; its false alarms per quarter {seen['false_per_quarter']}"
        f"; other {n_slices} slices: {len(others)} incidents over {quarters:.1f} quarters each"
    )
    assert len(others) / n_slices / quarters <= 1.0


@pytest.mark.slow
def test_planted_dau_drop_is_flagged_from_the_warehouse(
    demo_world: tuple[Any, dict[str, Any]],
) -> None:
    ws, truth = demo_world
    drop = truth["dau_drop"]
    con = duckdb.connect(str(ws.warehouse_path), read_only=True)
    try:
        daily = con.execute(WAREHOUSE_SQL, [drop["channel"], drop["region"]]).df()
    finally:
        con.close()
    series = daily.set_index(pd.to_datetime(daily["ds"]))["y"].astype(float).sort_index()
    series = series.reindex(pd.date_range(series.index.min(), series.index.max()), fill_value=0.0)
    result = detect_anomalies(series, counts=True)
    seen = _score_window(result, "series", drop)
    assert seen["flagged_share"] >= 0.6
    assert seen["directions"] == {"down"}
    assert seen["false_alarms"] <= seen["scored_quarters"]
    assert seen["first_flag"].date() <= dt.date.fromisoformat(drop["start"]) + dt.timedelta(days=5)
