"""Shared fixtures. Heavy ones (Spark) start only when a test asks for them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import settings

sys.path.insert(0, str(Path(__file__).parent))

# No timing thresholds in tests: Hypothesis' per-example deadline (200 ms by default) fails a
# property test on a busy machine, so every property test runs without one. A test's own
# @settings still chooses its number of examples.
settings.register_profile("luopan", deadline=None)
settings.load_profile("luopan")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared real datasets folder; tests that need it skip with the reason when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared datasets folder {SHARED_DATA} is absent (only on CI and dev machines)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory):
    """One local SparkSession for the whole run (pyspark is imported only when asked for)."""
    from luopan.warehouse.spark import spark_session, stop_spark_session

    session = spark_session("local[2]", warehouse_dir=tmp_path_factory.mktemp("spark-warehouse"))
    yield session
    stop_spark_session()


@pytest.fixture(scope="session")
def demo_world(tmp_path_factory: pytest.TempPathFactory):
    """One small ingested demo world for the whole run: (Workspace, ground_truth dict).

    Seed 7, 3,000 customers, 400 days (so year-over-year comparisons have a base), 6 stores.
    Modules test their planted effects against it; never write to its warehouse.
    """
    import json

    from luopan.demo import generate
    from luopan.ingest.pipeline import ingest_workspace
    from luopan.workspace import Workspace

    root = tmp_path_factory.mktemp("demo-world")
    generate(root, seed=7, customers=3000, days=400, stores=6)
    ws = Workspace.open(root)
    failed = [r.message for r in ingest_workspace(ws) if r.status == "failed"]
    assert not failed, failed
    return ws, json.loads((root / "ground_truth.json").read_text(encoding="utf-8"))
