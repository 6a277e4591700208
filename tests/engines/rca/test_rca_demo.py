"""The planted daily-active-users drop of the demo world (ground_truth.json → dau_drop).

Between ``start`` and ``end`` the app members of one channel × region are active with
probability × (1 − size); the DAU of every channel × region × member level is compared with
its mean over the 28 days before, and the drop must be localised to that channel × region.

The leaves are channel × region, the dimensions the loop's diagnosis of the DAU rule uses.
Until 2026-12-01 they were channel × region × member level: on this 3,000-member world (DAU
about 53, 35 leaves, most under one user a day) that held only by the luck of the draw. On
the world of 2026-12-01 (the churn wave moved two weeks earlier, and the world's draws after
it with it) leaves of 0.2 users a day swing by +100%, RiskLoc's cutoff mirrored from
that quiet side lies beyond the planted leaves' -63% to -80%, and nothing is localised. On the
50,000-member ``make demo`` world the three dimensions localise it (-70%).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import pytest

from luopan.engines.rca import explain, localize

LEAVES_SQL = """
WITH daily AS (
    SELECT CAST(e.event_time AS DATE) AS day, e.channel, c.region,
           coalesce(c.member_level, '-') AS member_level,
           count(DISTINCT e.user_id) AS dau
    FROM events e JOIN customers c ON c.customer_id = e.user_id
    WHERE CAST(e.event_time AS DATE) BETWEEN ? AND ?
    GROUP BY ALL
)
SELECT channel, region, member_level,
       sum(dau) FILTER (WHERE day >= ?) / ? AS real,
       sum(dau) FILTER (WHERE day < ?) / 28.0 AS predict
FROM daily GROUP BY ALL
"""


@pytest.mark.slow
def test_planted_dau_drop_is_localised(demo_world: tuple[Any, dict[str, Any]]) -> None:
    ws, truth = demo_world
    drop = truth["dau_drop"]
    start, end = dt.date.fromisoformat(drop["start"]), dt.date.fromisoformat(drop["end"])
    days = (end - start).days + 1
    con = duckdb.connect(str(ws.warehouse_path), read_only=True)
    try:
        leaves = con.execute(
            LEAVES_SQL, [start - dt.timedelta(days=28), end, start, days, start]
        ).df()
    finally:
        con.close()
    leaves = (
        leaves.fillna(0.0).groupby(["channel", "region"], as_index=False)[["real", "predict"]].sum()
    )
    result = localize(leaves, dimensions=["channel", "region"])
    planted = f"channel={drop['channel']}&region={drop['region']}"
    assert result.elements[0] == planted
    assert result.causes[0].relative_change == pytest.approx(-drop["size"], abs=0.15)
    # the whole-app DAU change of the leaf table is the planted overall change
    assert result.relative_change == pytest.approx(drop["overall_change"], abs=0.05)
    zh, en = explain(result, "zh", kpi="日活"), explain(result, "en", kpi="DAU")
    assert f"channel={drop['channel']} 且 region={drop['region']}" in zh
    assert f"channel={drop['channel']} × region={drop['region']}" in en
