"""Fixtures of the API tests: a private copy of the demo world, users of every role and
scope, incidents on store/region/category slices, and logged-in clients (real login flow)."""

from __future__ import annotations

import datetime as dt
import shutil
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

with warnings.catch_warnings():  # starlette's notice about httpx2, raised at import
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PASSWORD = "correct horse 42"
STORE_A, STORE_B = "S001", "S002"

# name -> (role, scope kwargs)
USERS: dict[str, tuple[str, dict[str, list[str]]]] = {
    "admin": ("admin", {}),
    "analyst": ("analyst", {}),
    "viewer": ("viewer", {}),
    "viewer_a": ("viewer", {"stores": [STORE_A]}),
    "analyst_a": ("analyst", {"stores": [STORE_A]}),
    "analyst_b": ("analyst", {"stores": [STORE_B]}),
    "region_c": ("analyst", {"regions": ["华中"]}),
    "fruit": ("analyst", {"categories": ["水果"]}),
}


def copy_workspace(src: Path, dst: Path) -> Path:
    """The config, metric files and warehouse of a workspace (no exports, no metadata)."""
    dst.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src / "luopan.yaml", dst / "luopan.yaml")
    if (src / "metrics").is_dir():
        shutil.copytree(src / "metrics", dst / "metrics")
    shutil.copy2(src / "warehouse.duckdb", dst / "warehouse.duckdb")
    return dst


def _seed_incidents(ws: Any) -> dict[str, int]:
    from luopan.decisions.store import DecisionLog

    now = dt.datetime(2026, 11, 1, 9, 0)
    slices = {
        "store_a": {"store_id": STORE_A},
        "store_b": {"store_id": STORE_B},
        "region_east": {"store__region": "华东"},
        "region_central": {"store__region": "华中"},
        "fruit": {"product__category": "水果"},
        "whole": {},
    }
    ids = {}
    with DecisionLog(ws.metadata_url) as log:
        for key, sl in slices.items():
            inc, _ = log.open_incident(
                rule=f"test_{key}",
                metric="gmv",
                slice=sl,
                period="2026-10",
                severity="warning",
                title_zh=f"测试 {key}",
                title_en=f"test {key}",
                evidence={"observed": 1.0},
                now=now,
            )
            log.add_diagnosis(
                inc.id,
                method="test",
                summary_zh="诊断",
                summary_en="diagnosis",
                detail={"slice": sl},
                now=now,
            )
            log.add_action(
                inc.id,
                kind="check",
                title_zh="检查",
                title_en="check",
                owner="ops",
                due_at=now + dt.timedelta(days=2),
                expected_impact={"metric": "gmv"},
                now=now,
            )
            ids[key] = inc.id
    return ids


@pytest.fixture(scope="session")
def api_world(demo_world: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A copy of the demo world with users and incidents: {"root", "ws", "incidents"}."""
    from luopan.api.users import add_user
    from luopan.workspace import Workspace

    ws0, _ = demo_world
    root = copy_workspace(ws0.root, tmp_path_factory.mktemp("api-world"))
    ws = Workspace.open(root)
    for name, (role, scope) in USERS.items():
        add_user(ws, name, password=PASSWORD, role=role, **scope)
    return {"root": root, "ws": ws, "incidents": _seed_incidents(ws)}


@pytest.fixture(scope="session")
def app(api_world: dict[str, Any]) -> Iterator[Any]:
    from luopan.api.app import create_app

    application = create_app(api_world["root"])
    yield application
    application.state.services.close()


def login(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    """The real login flow: GET the form (CSRF cookie + hidden field), POST it."""
    form = client.get("/login")
    assert form.status_code == 200
    token = client.cookies.get("luopan_csrf")
    assert token and f'value="{token}"' in form.text
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        headers={"accept": "application/json"},
    )


@pytest.fixture(scope="session")
def client_for(app: Any) -> Callable[[str], TestClient]:
    """A logged-in client per user name (one per session)."""
    clients: dict[str, TestClient] = {}

    def get(username: str) -> TestClient:
        if username not in clients:
            c = TestClient(app, raise_server_exceptions=False)
            r = login(c, username)
            assert r.status_code == 200, r.text
            clients[username] = c
        return clients[username]

    return get


def assert_envelope(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert set(err) == {"code", "message", "fix", "status"}
    assert err["status"] == status
    assert isinstance(err["message"], str) and err["message"]
    if code is not None:
        assert err["code"] == code, err
    return err  # type: ignore[no-any-return]


def store_sales(api_world: dict[str, Any], store: str) -> pd.DataFrame:
    """Daily units per store × SKU of ``store`` over the last 56 days of its order lines,
    zero-filled (``unique_id, ds, y``): the history the replenishment routes forecast from,
    built here independently of them."""
    con = duckdb.connect(str(api_world["ws"].warehouse_path), read_only=True)
    try:
        sales = con.execute(
            """SELECT o.store_id || '_' || l.sku AS unique_id, CAST(o.ordered_at AS DATE) AS ds,
                      SUM(l.quantity)::DOUBLE AS y
               FROM order_lines l JOIN orders o USING (order_id)
               WHERE o.store_id = ? GROUP BY ALL""",
            [store],
        ).df()
    finally:
        con.close()
    sales["ds"] = pd.to_datetime(sales["ds"])
    latest = sales["ds"].max()
    days = pd.date_range(latest - pd.Timedelta(days=55), latest)
    sales = sales[sales["ds"] >= days[0]]
    full = pd.MultiIndex.from_product(
        [sorted(sales["unique_id"].unique()), days], names=["unique_id", "ds"]
    )
    return sales.set_index(["unique_id", "ds"])["y"].reindex(full, fill_value=0.0).reset_index()
