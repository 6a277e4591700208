"""Requests never meet DuckDB's lock while another process writes the warehouse."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from conftest import STORE_A, TestClient, copy_workspace

WRITER = r"""
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("BEGIN")
con.execute("DELETE FROM orders WHERE store_id = ?", [sys.argv[2]])
con.execute("COMMIT")
con.execute("CREATE TABLE lock_probe AS SELECT 1 AS x")
print("holding", flush=True)
sys.stdin.readline()          # hold the write lock until the test says so
con.close()
print("closed", flush=True)
"""


def _by_store(client: Any, headers: dict[str, str]) -> dict[str, float]:
    r = client.get(
        "/api/v1/metrics/gmv", params={"grain": "total", "by": "store_id"}, headers=headers
    )
    assert r.status_code == 200, r.text
    return {i["store_id"]: i["value"] for i in r.json()["items"]}


def test_reads_succeed_while_another_process_holds_the_write_lock(
    api_world: dict[str, Any], tmp_path: Path
) -> None:
    from luopan.api.app import create_app
    from luopan.api.users import add_user, issue_token
    from luopan.workspace import Workspace

    root = copy_workspace(api_world["root"], tmp_path / "ws")
    ws = Workspace.open(root)
    add_user(ws, "ops", password="password-1234", role="admin")
    headers = {"authorization": f"Bearer {issue_token(ws, 'ops')}"}
    app = create_app(root)
    client = TestClient(app, raise_server_exceptions=False)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(ws.warehouse_path), STORE_A],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        before = _by_store(client, headers)  # may have started before the writer opened
        assert writer.stdout is not None and writer.stdout.readline().strip() == "holding"
        with pytest.raises(duckdb.IOException, match="lock"):  # what a naive reader would meet
            duckdb.connect(str(ws.warehouse_path), read_only=True)
        for _ in range(20):  # refresh checks run during these requests; none may fail
            assert _by_store(client, headers) == before
            assert client.get("/api/v1/scorecard", headers=headers).status_code == 200
        assert STORE_A in before
        writer.stdin.write("\n")  # type: ignore[union-attr]
        writer.stdin.flush()  # type: ignore[union-attr]
        assert writer.stdout.readline().strip() == "closed"
        assert writer.wait(timeout=60) == 0
        deadline = time.monotonic() + 30
        after = _by_store(client, headers)
        while STORE_A in after and time.monotonic() < deadline:
            time.sleep(0.2)
            after = _by_store(client, headers)
        # the committed change is served once the writer let go of the file
        assert STORE_A not in after
        assert {k: v for k, v in before.items() if k != STORE_A} == after
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
        app.state.services.close()


def test_snapshot_copies_are_cleaned_up(api_world: dict[str, Any], tmp_path: Path) -> None:
    from luopan.api.snapshot import Snapshots

    root = copy_workspace(api_world["root"], tmp_path / "ws2")
    snaps = Snapshots(root / "warehouse.duckdb", tmp_path / "snaps", min_interval=0)
    with snaps.connection() as con:
        first = con.table("stores").count().to_pyarrow().as_py()
    held = snaps.lease()
    old = held.__enter__()
    w = duckdb.connect(str(root / "warehouse.duckdb"))
    w.execute("DELETE FROM stores WHERE store_id = ?", [STORE_A])
    w.close()
    with snaps.connection() as con:  # a new snapshot; the old one is still leased
        assert con.table("stores").count().to_pyarrow().as_py() == first - 1
    assert old.path.exists()
    held.__exit__(None, None, None)
    assert not old.path.exists()  # released by its last user
    snaps.close()
    assert list((tmp_path / "snaps").glob("*.duckdb")) == []


def test_a_new_data_version_is_built_in_the_background_while_the_old_one_is_served(
    app: Any,
) -> None:
    import threading

    svc = app.state.services
    family = ("test-family",)
    assert svc.cached(("v1", *family), lambda: "old", family=family) == "old"
    release = threading.Event()

    def slow_new() -> str:
        release.wait(timeout=60)
        return "new"

    # the new version is not built yet: the caller gets the old value at once
    assert svc.cached(("v2", *family), slow_new, family=family) == "old"
    release.set()
    deadline = time.monotonic() + 60
    while ("v2", *family) not in svc._cache and time.monotonic() < deadline:
        time.sleep(0.05)
    assert svc.cached(("v2", *family), slow_new, family=family) == "new"
    # without a family there is nothing stale to serve: the caller waits for the value
    assert svc.cached(("v3", "other"), lambda: "fresh") == "fresh"


def test_two_instances_in_one_process_keep_their_own_copies(
    api_world: dict[str, Any], tmp_path: Path
) -> None:
    """A second Snapshots on the same folder (another app in the same process) neither
    deletes nor reuses the first one's copy; a dead process's copy is removed."""
    from luopan.api.snapshot import Snapshots

    root = copy_workspace(api_world["root"], tmp_path / "ws3")
    folder = tmp_path / "snaps3"
    folder.mkdir()
    dead = folder / "999999999-deadbeef-1.duckdb"  # no such pid
    dead.write_bytes(b"")
    first = Snapshots(root / "warehouse.duckdb", folder, min_interval=0)
    assert not dead.exists()
    with first.connection() as con:
        n = con.table("stores").count().to_pyarrow().as_py()
    held = first.lease()
    snap = held.__enter__()
    second = Snapshots(root / "warehouse.duckdb", folder, min_interval=0)
    with second.connection() as con:
        assert con.table("stores").count().to_pyarrow().as_py() == n
    assert snap.path.exists()
    with second.lease() as other:
        assert other.path != snap.path
    held.__exit__(None, None, None)
    first.close()
    second.close()
    assert list(folder.glob("*.duckdb")) == []


def test_a_refresh_of_events_keeps_what_was_computed_from_other_tables(
    demo_world: Any, api_world: dict[str, Any], tmp_path: Path
) -> None:
    """Per-table versions: after a new events export is ingested, GMV (orders) and the
    customer models keep their cache entries, DAU (events) and the whole snapshot move on."""
    import json

    from luopan.api.principal import Principal
    from luopan.api.services import Services
    from luopan.api.snapshot import data_version
    from luopan.ingest.pipeline import ingest_workspace
    from luopan.workspace import Workspace

    root = copy_workspace(api_world["root"], tmp_path / "ws4")
    ws = Workspace.open(root)
    svc = Services(ws, snapshot_dir=tmp_path / "snaps4")
    svc.snapshots.min_interval = 0
    admin = Principal(username="ops", role="admin")
    try:
        with svc.connection() as con:
            before = {
                "all": data_version(con),
                "orders": data_version(con, {"orders", "stores"}),
                "events": data_version(con, {"events"}),
            }
            n_events = con.table("events").count().to_pyarrow().as_py()
        gmv = svc.metric(admin, "gmv", grain="month")
        svc.metric(admin, "dau", grain="day")
        built: list[str] = []
        family = ("orders-model",)

        def orders_model() -> str:
            built.append("orders")
            return "fitted"

        with svc.connection() as con:
            key = (data_version(con, {"orders", "stores"}), *family)
        assert svc.cached(key, orders_model, family=family) == "fitted"
        # a new events export lands and is ingested (the real pipeline, a real write)
        folder = root / "exports" / "events"
        folder.mkdir(parents=True, exist_ok=True)
        source = sorted((demo_world[0].root / "exports" / "events").glob("*.jsonl"))[-1]
        rows = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines()]
        for i, row in enumerate(rows):
            row["event_id"], row["user_id"] = f"refresh-{i}", f"refresh-user-{i}"
        (folder / "events_zrefresh.jsonl").write_text(
            "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8"
        )
        assert [r.status for r in ingest_workspace(ws) if r.status == "loaded"] == ["loaded"]
        svc.snapshots.refresh()
        with svc.connection() as con:
            after = {
                "all": data_version(con),
                "orders": data_version(con, {"orders", "stores"}),
                "events": data_version(con, {"events"}),
            }
            assert con.table("events").count().to_pyarrow().as_py() == n_events + len(rows)
            key = (data_version(con, {"orders", "stores"}), *family)
        assert after["all"] != before["all"] and after["events"] != before["events"]
        assert after["orders"] == before["orders"]
        # the orders-only value is served from the cache: not rebuilt
        assert svc.cached(key, orders_model, family=family) == "fitted" and built == ["orders"]
        assert svc.metric(admin, "gmv", grain="month").equals(gmv)
        cache = len(svc._cache)
        svc.metric(admin, "gmv", grain="month")
        assert len(svc._cache) == cache  # served from the entry built before the refresh
        svc.metric(admin, "dau", grain="day")  # stale value served, the new one built aside
        deadline = time.monotonic() + 60
        while len(svc._cache) == cache and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(svc._cache) == cache + 1  # a new entry: the events changed
    finally:
        svc.close()
