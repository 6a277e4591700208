"""The warehouse's load history: read once per session, re-read after every write."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from luopan.warehouse.store import LOADS_TABLE, LoadRecord, Warehouse


def _record(wh: Warehouse, batch: str, source: str, file: str, digest: str, at: int) -> None:
    when = dt.datetime(2026, 6, 1, 0, 0, at)
    wh.con.execute(
        f"INSERT INTO {LOADS_TABLE} VALUES (?, ?, ?, ?, 'csv', NULL, NULL, 10, 1, ?, ?, "
        "1, 1, 0, 0, '{}', NULL)",
        [batch, source, file, digest, when, when],
    )
    wh.loads_changed()


def test_latest_load_per_file_and_first_file_per_content(tmp_path: Path) -> None:
    with Warehouse(tmp_path / "w.duckdb") as wh:
        assert wh.loaded("pos") == {}
        _record(wh, "b1", "pos", "a.csv", "d1", 1)
        _record(wh, "b2", "pos", "b.csv", "d1", 2)  # same content under another name
        _record(wh, "b3", "pos", "a.csv", "d2", 3)  # a.csv changed
        _record(wh, "b4", "app", "a.csv", "d3", 4)
        assert wh.loaded("pos") == {
            "a.csv": LoadRecord("b3", "pos", "a.csv", "d2", 10, 1),
            "b.csv": LoadRecord("b2", "pos", "b.csv", "d1", 10, 1),
        }
        assert set(wh.loaded("app")) == {"a.csv"}
        assert wh.fingerprint_seen("pos", "d1") == "a.csv"
        assert wh.fingerprint_seen("pos", "d3") is None
        assert wh.fingerprint_seen("app", "d3") == "a.csv"
        wh.loaded("pos").clear()  # callers get a copy: the history is not theirs to change
        assert len(wh.loaded("pos")) == 2
    with Warehouse(tmp_path / "w.duckdb") as wh:  # a new session reads the stored history
        assert wh.loaded("pos")["a.csv"].batch_id == "b3"
