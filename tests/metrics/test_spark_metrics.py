"""The whole catalog gives the same answers on Spark (local mode) as on DuckDB."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import ibis
import pandas as pd
import pytest

from luopan.metrics import Catalog, query_metric
from luopan.warehouse.spark import ibis_spark, mirror_to_spark
from luopan.workspace import Workspace

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated"),
]

START, END = dt.date(2026, 7, 1), dt.date(2026, 11, 1)


@pytest.fixture(scope="module")
def engines(world: Workspace, spark: Any) -> dict[str, Any]:
    mirror_to_spark(world.warehouse_path, spark, database="luopan_metrics")
    return {
        "duckdb": ibis.duckdb.connect(str(world.warehouse_path), read_only=True),
        "spark": ibis_spark(spark, database="luopan_metrics"),
    }


def _same(a: pd.DataFrame, b: pd.DataFrame, keys: list[str]) -> None:
    a = a.sort_values(keys, na_position="last").reset_index(drop=True)
    b = b.sort_values(keys, na_position="last").reset_index(drop=True)
    assert list(a.columns) == list(b.columns)
    assert a[keys].astype(str).equals(b[keys].astype(str))
    for x, y in zip(a["value"], b["value"], strict=True):
        assert (math.isnan(x) and math.isnan(y)) or math.isclose(x, y, rel_tol=1e-12), (x, y)


def test_every_metric_same_on_spark(engines: dict[str, Any], catalog: Catalog) -> None:
    checked = 0
    for name, m in catalog.metrics.items():
        grain = "month" if "month" in m.grains else "day"
        end = END if grain == "month" else dt.date(2026, 7, 15)
        frames = [
            query_metric(engines[e], catalog, name, grain=grain, start=START, end=end)
            for e in ("duckdb", "spark")
        ]
        _same(*frames, ["period"])
        checked += bool(len(frames[0]))
    # campaign budgets are booked on campaign start dates, none of which falls in the range
    assert checked >= len(catalog.metrics) - 1


@pytest.mark.parametrize(
    "name,by",
    [
        ("gmv", ["store__region", "channel"]),
        ("buyers", ["customer__acquisition_channel"]),
        ("line_revenue", ["product__category"]),
        ("repeat_purchase_rate", ["channel"]),
    ],
)
def test_joined_dimensions_same_on_spark(
    name: str, by: list[str], engines: dict[str, Any], catalog: Catalog
) -> None:
    frames = [
        query_metric(engines[e], catalog, name, grain="week", by=by, start=START, end=END)
        for e in ("duckdb", "spark")
    ]
    _same(*frames, ["period", *by])
    assert len(frames[0]) > 10
