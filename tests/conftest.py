"""Shared fixtures. Heavy ones (Spark) start only when a test asks for them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

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
