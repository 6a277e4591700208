"""Constants and helpers shared by the cockpit tests and their fixtures (a module with a
unique name, so test modules never depend on which ``conftest`` Python imported last)."""

from __future__ import annotations

import datetime as dt
import shutil
import warnings
from pathlib import Path
from typing import Any

with warnings.catch_warnings():  # starlette's notice about httpx2, raised at import
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

__all__ = ["PASSWORD", "STORE", "USERS", "TestClient", "copy_world", "login", "seed"]

PASSWORD = "cockpit-pass-42"
STORE = "S001"
USERS: dict[str, tuple[str, dict[str, list[str]]]] = {
    "boss": ("admin", {}),
    "reader": ("viewer", {}),
    "shop": ("analyst", {"stores": [STORE]}),
}


def copy_world(src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src / "luopan.yaml", dst / "luopan.yaml")
    if (src / "metrics").is_dir():
        shutil.copytree(src / "metrics", dst / "metrics")
    shutil.copy2(src / "warehouse.duckdb", dst / "warehouse.duckdb")
    return dst


def seed(ws: Any) -> dict[str, int]:
    """Incidents as the loop logs them: a brand-wide one (only unscoped users see it), one on
    the store with a full timeline (diagnosis, an action with owner and due time, its measured
    outcome), and one on another store."""
    from luopan.decisions.store import DecisionLog

    now = dt.datetime(2026, 11, 10, 9, 0)
    with DecisionLog(ws.metadata_url) as log:
        inc, _ = log.open_incident(
            rule="gmv_drop",
            metric="gmv",
            slice={"store_id": STORE},
            period="2026-W45",
            severity="high",
            title_zh="门店GMV下滑",
            title_en="Store GMV dropped",
            evidence={"value": 9000.0, "reference": 12000.0},
            now=now,
        )
        log.add_diagnosis(
            inc.id,
            method="rca",
            summary_zh="渠道 store 贡献了全部下滑",
            summary_en="channel store explains the whole drop",
            detail={},
            now=now + dt.timedelta(minutes=5),
        )
        action = log.add_action(
            inc.id,
            kind="task",
            title_zh="加大生鲜陈列",
            title_en="Expand the fresh display",
            owner="王店长",
            due_at=now + dt.timedelta(days=2),
            expected_impact={"metric": "gmv"},
            now=now + dt.timedelta(minutes=6),
        )
        log.record_outcome(
            action,
            metric="gmv",
            method="diff-in-diff",
            estimate=1234.5,
            lower=200.0,
            upper=2269.0,
            detail={},
            now=now + dt.timedelta(days=9),
        )
        other, _ = log.open_incident(
            rule="gmv_drop",
            metric="gmv",
            slice={"store_id": "S002"},
            period="2026-W45",
            severity="high",
            title_zh="另一门店GMV下滑",
            title_en="Other store GMV dropped",
            evidence={},
            now=now,
        )
        brand, _ = log.open_incident(
            rule="promo_roi_low",
            metric="promo_roi",
            slice={"campaign_id": "CP-MD"},
            period="2026-10",
            severity="medium",
            title_zh="促销ROI连续2期低于基准",
            title_en="Promo ROI below benchmark 2 periods running",
            evidence={"value": 1.5},
            now=now,
        )
        log.add_action(
            brand.id,
            kind="pause_campaign",
            title_zh="暂停活动",
            title_en="Pause the campaign",
            owner="ops",
            due_at=now + dt.timedelta(days=1),
            expected_impact={"metric": "promo_roi"},
            now=now,
        )
    return {"store": inc.id, "other": other.id, "action": action, "brand": brand.id}


def login(client: TestClient, username: str, password: str = PASSWORD) -> TestClient:
    """Log in through the real form (GET /login sets the CSRF cookie, POST it back)."""
    client.get("/login")
    token = client.cookies.get("luopan_csrf")
    r = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token, "next": "/"},
        headers={"accept": "text/html"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return client
