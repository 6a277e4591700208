"""Freshness: transaction sources are late when their newest row is old; a source of master
data only (members, products …) is judged late only when it sets ``late_after_hours``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
import yaml

pytestmark = pytest.mark.slow  # generates and ingests a small demo world


def test_master_data_is_checked_only_when_asked(tmp_path: Path) -> None:
    from luopan.demo import generate
    from luopan.ingest.pipeline import ingest_workspace
    from luopan.warehouse.status import read_status
    from luopan.workspace import Workspace

    generate(tmp_path, seed=3, customers=600, days=240, stores=2)
    ws = Workspace.open(tmp_path)
    assert not [r.message for r in ingest_workspace(ws) if r.status == "failed"]
    later = dt.datetime(2027, 1, 31)  # every source's newest row is weeks old by then

    def status(ws: Workspace) -> dict[str, bool]:
        con = duckdb.connect(str(ws.warehouse_path), read_only=True)
        try:
            return {f.source: f.late for f in read_status(con, ws.config, now=later).freshness}
        finally:
            con.close()

    late = status(ws)
    assert late["crm_members"] is False  # members only: not checked by default
    assert late["pos_orders"] is True and late["meituan_orders"] is True
    config = yaml.safe_load((tmp_path / "luopan.yaml").read_text(encoding="utf-8"))
    for source in config["sources"]:
        if source["name"] == "crm_members":
            source["late_after_hours"] = 24 * 30
    (tmp_path / "luopan.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    assert status(Workspace.open(tmp_path))["crm_members"] is True  # asked for: checked
