"""Spark local mode gives the same funnel, retention and lifecycle results as DuckDB.

The hand-made table (window edges, out-of-order rows, ties) plus a random log are written to a
DuckDB file, mirrored into Spark, and the same engine calls run on both backends.
"""

from __future__ import annotations

from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest
from funnels_refs import HAND_EVENTS, STEPS

from luopan.engines.funnels import Exclusion, funnel
from luopan.engines.funnels.lifecycle import lifecycle, stickiness
from luopan.engines.funnels.retention import retention
from luopan.warehouse.spark import ibis_spark, mirror_to_spark

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
]


def _events() -> pd.DataFrame:
    hand = pd.DataFrame(
        HAND_EVENTS, columns=["event_id", "user_id", "event_time", "event_name", "channel"]
    )
    rng = np.random.default_rng(21)
    n = 3000
    rnd = pd.DataFrame(
        {
            "event_id": [f"r{i:05d}" for i in range(n)],
            "user_id": [f"v{u}" for u in rng.integers(0, 300, n)],
            "event_time": pd.Timestamp("2025-01-01")
            + pd.to_timedelta(rng.integers(0, 120 * 86400, n), "s"),
            "event_name": rng.choice(STEPS + ["search"], n, p=[0.5, 0.2, 0.12, 0.08, 0.1]),
            "channel": rng.choice(["tmall", "jd", "douyin"], n),
        }
    )
    return pd.concat([hand, rnd], ignore_index=True)


@pytest.fixture(scope="module")
def backends(spark, tmp_path_factory: pytest.TempPathFactory):
    path = Path(tmp_path_factory.mktemp("funnels-spark")) / "w.duckdb"
    duck = ibis.duckdb.connect(str(path))
    duck.create_table("events", _events())
    duck.disconnect()
    mirror_to_spark(path, spark, database="luopan_funnels")
    sp = ibis_spark(spark, database="luopan_funnels")
    dk = ibis.duckdb.connect(str(path), read_only=True)
    yield dk.table("events"), sp.table("events")
    dk.disconnect()


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(
        a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False
    )


@pytest.mark.parametrize("mode", ["ordered", "strict", "any_order"])
def test_funnel_identical_on_spark(backends, mode) -> None:
    dk, sp = backends
    kw = {"window": "3d", "mode": mode, "by": "channel"}
    a, b = funnel(dk, STEPS, **kw), funnel(sp, STEPS, **kw)  # type: ignore[arg-type]
    _same(a.steps, b.steps)
    _same(a.time_to_convert, b.time_to_convert)
    assert a.steps["users"].iloc[0] > 300


def test_funnel_exclusion_identical_on_spark(backends) -> None:
    dk, sp = backends
    ex = [Exclusion("search", 2, 4)]
    _same(funnel(dk, STEPS, exclusions=ex).steps, funnel(sp, STEPS, exclusions=ex).steps)


@pytest.mark.parametrize("kind", ["first_time", "recurring"])
def test_retention_identical_on_spark(backends, kind) -> None:
    dk, sp = backends
    a = retention(dk, period="week", kind=kind, periods=6)  # type: ignore[arg-type]
    b = retention(sp, period="week", kind=kind, periods=6)  # type: ignore[arg-type]
    _same(a.table, b.table)


def test_lifecycle_and_stickiness_identical_on_spark(backends) -> None:
    dk, sp = backends
    _same(lifecycle(dk, period="month").table, lifecycle(sp, period="month").table)
    a, b = stickiness(dk), stickiness(sp)
    _same(a.daily, b.daily)
    _same(a.active_days, b.active_days)
