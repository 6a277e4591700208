"""Fixtures of the metric tests: the demo world's warehouse as Ibis and as pandas frames.

``LUOPAN_DEMO_WORLD`` may name a folder already holding the same world (seed 7, 3,000
customers, 400 days, 6 stores, ingested), to skip the generation on local reruns.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pandas as pd
import pytest

from luopan.metrics import Catalog, default_catalog
from luopan.workspace import Workspace

TABLES = (
    "orders",
    "order_lines",
    "products",
    "customers",
    "stores",
    "events",
    "inventory",
    "inventory_events",
    "marketing_spend",
    "campaigns",
    "mentions",
    "communities",
    "content",
    "tickets",
)


@pytest.fixture(scope="session")
def world(request: pytest.FixtureRequest) -> Workspace:
    prebuilt = os.environ.get("LUOPAN_DEMO_WORLD")
    if prebuilt:
        return Workspace.open(Path(prebuilt))
    ws, _ = request.getfixturevalue("demo_world")
    return ws


@pytest.fixture(scope="session")
def con(world: Workspace) -> Any:
    return ibis.duckdb.connect(str(world.warehouse_path), read_only=True)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return default_catalog()


@pytest.fixture(scope="session")
def frames(world: Workspace) -> dict[str, pd.DataFrame]:
    """Every table as pandas (DuckDB hands DECIMAL over as float64): the independent side."""
    with duckdb.connect(str(world.warehouse_path), read_only=True) as db:
        return {name: db.execute(f'SELECT * FROM "{name}"').df() for name in TABLES}


@pytest.fixture(scope="session")
def truth(world: Workspace) -> dict[str, Any]:
    """The world's ground_truth.json (what the generator planted)."""
    import json

    return json.loads((world.root / "ground_truth.json").read_text(encoding="utf-8"))
