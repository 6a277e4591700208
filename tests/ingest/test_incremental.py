"""Incremental loads into a warehouse that already holds rows: keys replaced, nothing else."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import TMALL_HEADERS, make_workspace, query, tmall_row, write_csv
from luopan.ingest.pipeline import ingest_workspace
from luopan.warehouse.store import Warehouse

ORDER_HEADERS = ["order_id", "ordered_at", "paid_amount"]
LINE_HEADERS = ["order_id", "line_no", "sku", "quantity", "unit_price"]
SOURCES = [
    {"name": "orders", "path": "exports/orders_*.csv", "table": "orders"},
    {"name": "lines", "path": "exports/lines_*.csv", "table": "order_lines"},
]


def _day(root: Path, day: int, orders: list[str], lines: list[list[str]]) -> None:
    write_csv(
        root / f"exports/orders_{day:02d}.csv",
        [ORDER_HEADERS, *([o, f"2026-06-{day:02d} 10:00:00", "10"] for o in orders)],
    )
    write_csv(root / f"exports/lines_{day:02d}.csv", [LINE_HEADERS, *lines])


def test_a_later_file_replaces_stored_rows_by_their_whole_key(tmp_path: Path) -> None:
    _day(tmp_path, 1, ["A", "B"], [["A", "1", "S1", "1", "5"], ["A", "2", "S2", "1", "5"]])
    ws = make_workspace(tmp_path, SOURCES)
    assert {r.status for r in ingest_workspace(ws)} == {"loaded"}
    # day 2 re-sends order A's line 2 (changed) and brings order C; line A/1 is not re-sent
    _day(tmp_path, 2, ["C"], [["A", "2", "S2", "3", "5"], ["C", "1", "S9", "1", "7"]])
    results = {Path(r.file).name: r for r in ingest_workspace(ws)}
    assert results["lines_02.csv"].loaded == {"order_lines": 2}
    assert query(ws, "SELECT order_id, line_no, quantity FROM order_lines ORDER BY 1, 2") == [
        ("A", 1, 1),
        ("A", 2, 3),
        ("C", 1, 1),
    ]
    assert query(ws, "SELECT count(*) FROM orders")[0][0] == 3
    # each stored line belongs to the batch of the file that sent it last
    batches = query(
        ws,
        "SELECT l.file, o.order_id, o.line_no FROM order_lines o JOIN _loads l "
        "ON o._batch_id = l.batch_id ORDER BY 2, 3",
    )
    assert batches == [
        ("exports/lines_01.csv", "A", 1),
        ("exports/lines_02.csv", "A", 2),
        ("exports/lines_02.csv", "C", 1),
    ]


def test_new_lines_of_a_stored_order_keep_the_stored_lines(tmp_path: Path) -> None:
    # the first key column (order_id) is stored, the whole key (order_id, line_no) is not
    _day(tmp_path, 1, ["A"], [["A", "1", "S1", "1", "5"]])
    ws = make_workspace(tmp_path, SOURCES)
    ingest_workspace(ws)
    write_csv(tmp_path / "exports/lines_02.csv", [LINE_HEADERS, ["A", "2", "S2", "2", "5"]])
    ingest_workspace(ws)
    assert query(ws, "SELECT line_no, quantity FROM order_lines ORDER BY 1") == [(1, 1), (2, 2)]


def test_same_content_twice_in_one_run_loads_once(tmp_path: Path) -> None:
    # the load history is read once per run: the first file's load must be seen by the second
    _day(tmp_path, 1, ["A"], [["A", "1", "S1", "1", "5"]])
    (tmp_path / "exports/orders_02.csv").write_bytes(
        (tmp_path / "exports/orders_01.csv").read_bytes()
    )
    ws = make_workspace(tmp_path, SOURCES)
    results = {Path(r.file).name: r for r in ingest_workspace(ws)}
    assert results["orders_01.csv"].status == "loaded"
    assert results["orders_02.csv"].status == "unchanged"
    assert "orders_01.csv" in (results["orders_02.csv"].message or "")
    with Warehouse(ws.warehouse_path) as wh:
        assert set(wh.loaded("orders")) == {"exports/orders_01.csv"}
        assert wh.fingerprint_seen("orders", "no such digest") is None
    assert [r.status for r in ingest_workspace(ws)] == ["unchanged"] * 3


def test_platform_buyers_are_created_once_across_files(tmp_path: Path) -> None:
    source = {"name": "tmall", "path": "exports/ExportOrderList_*.csv", "preset": "tmall_orders"}
    write_csv(
        tmp_path / "exports/ExportOrderList_01.csv",
        [TMALL_HEADERS, tmall_row("1001", "买家甲"), tmall_row("1002", "买家乙")],
        encoding="gbk",
    )
    ws = make_workspace(tmp_path, [source])
    (first,) = ingest_workspace(ws)
    write_csv(
        tmp_path / "exports/ExportOrderList_02.csv",
        [TMALL_HEADERS, tmall_row("1003", "买家乙"), tmall_row("1004", "买家丙")],
        encoding="gbk",
    )
    results = ingest_workspace(ws)
    assert (first.customers_created, results[1].customers_created) == (2, 1)
    rows = query(ws, "SELECT count(*), count(DISTINCT customer_id) FROM customers")
    assert rows == [(3, 3)]


def test_app_events_with_utc_offsets_load_in_workspace_time(tmp_path: Path) -> None:
    events = [
        {
            "event_id": "e1",
            "event_time": "2026-06-01T00:32:15+08:00",
            "event_name": "view",
            "user_id": "u",
        },
        {
            "event_id": "e2",
            "event_time": "2026-05-31T16:32:15Z",
            "event_name": "view",
            "user_id": "u",
        },
        {
            "event_id": "e3",
            "event_time": "2026-06-01 00:32:15+0800",
            "event_name": "view",
            "user_id": "u",
        },
    ]
    path = tmp_path / "exports/events_01.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join(json.dumps(e) for e in events) + "\n", encoding="utf-8")
    ws = make_workspace(
        tmp_path, [{"name": "events", "path": "exports/events_*.jsonl", "table": "events"}]
    )
    (r,) = ingest_workspace(ws)
    assert (r.status, r.loaded, r.quarantined) == ("loaded", {"events": 3}, 0)
    times = query(ws, "SELECT CAST(event_time AS VARCHAR), _line FROM events ORDER BY _line")
    assert times == [("2026-06-01 00:32:15", n) for n in (1, 2, 3)]
