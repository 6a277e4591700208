"""The one-pass tier for clean CSV files: it loads exactly what the exact path loads, and it
steps aside (returns None) for every file that needs the exact rules or has a bad row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import luopan.ingest.pipeline as pipeline
from helpers import TMALL_HEADERS, make_workspace, query, tmall_row, write_csv
from luopan.ingest.pipeline import ingest_workspace

BIG_ID = "5118234567890123456"
ORDER_HEADERS = ["order_id", "customer_id", "ordered_at", "channel", "status", "paid_amount"]
LINE_HEADERS = ["order_id", "line_no", "sku", "quantity", "unit_price", "paid_amount"]


def _spy(monkeypatch: pytest.MonkeyPatch, *, enabled: bool = True) -> list[tuple[str, bool]]:
    """Record (file, fast tier taken) per call; with ``enabled=False`` force the exact path."""
    calls: list[tuple[str, bool]] = []
    real = pipeline.stage_fast

    def spy(path: Path, *args: Any, **kwargs: Any) -> Any:
        hit = real(path, *args, **kwargs) if enabled else None
        calls.append((path.name, hit is not None))
        return hit

    monkeypatch.setattr(pipeline, "stage_fast", spy)
    return calls


def _dump(ws: Any) -> dict[str, list[tuple[Any, ...]]]:
    return {
        t: query(ws, f'SELECT * EXCLUDE (_batch, _batch_id, _loaded_at) FROM "{t}" ORDER BY ALL')
        for t in ("orders", "order_lines", "customers")
    }


def _clean_files(root: Path) -> list[dict[str, Any]]:
    # A Tmall export (GBK, Chinese headers, ￥ amounts, buyer and PII hashed) with ISO dates,
    # and canonical order lines with a return, a 19-digit id and amounts as written by tools.
    write_csv(
        root / "exports/ExportOrderList_1.csv",
        [
            TMALL_HEADERS,
            tmall_row(
                BIG_ID,
                created="2025-11-17 08:41:00",
                paid="2025-11-17 08:42:00",
                paid_amount="1234.50",
            ),
            tmall_row(
                "1002",
                "买家乙",
                created="2025-11-18",
                paid="2025-11-18T09:00:00",
                total="￥12.00",
                paid_amount="11.50",
            ),
        ],
        encoding="gbk",
    )
    write_csv(
        root / "exports/lines.csv",
        [
            LINE_HEADERS,
            [BIG_ID, "1", "SKU-1", "2", "5", "10.00"],
            [BIG_ID, "2", "SKU-2", "-1", "0.5", "-0.50"],
            ["1002", "1", "7", "1", "12", "12"],
        ],
    )
    return [
        {"name": "tmall", "path": "exports/ExportOrderList_*.csv", "preset": "tmall_orders"},
        {"name": "lines", "path": "exports/lines.csv", "table": "order_lines"},
    ]


def test_clean_files_take_the_fast_tier_and_load_what_the_exact_path_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = make_workspace(tmp_path, _clean_files(tmp_path))
    calls = _spy(monkeypatch)
    results = ingest_workspace(ws)
    assert calls == [("ExportOrderList_1.csv", True), ("lines.csv", True)]
    assert [(r.status, r.loaded, r.quarantined) for r in results] == [
        ("loaded", {"orders": 2}, 0),
        ("loaded", {"order_lines": 3}, 0),
    ]
    fast = _dump(ws)
    assert query(ws, "SELECT order_id, gross_amount FROM orders ORDER BY 1") == [
        ("1002", pytest.approx(12)),
        (BIG_ID, pytest.approx(1234.5)),
    ]
    assert query(ws, "SELECT _line FROM order_lines ORDER BY _line") == [(2,), (3,), (4,)]
    raw = query(
        ws, "SELECT count(*) FROM orders WHERE name_hash = '张三' OR phone_hash LIKE '138%'"
    )
    assert raw == [(0,)]  # PII arrives hashed

    # the same files through the exact path, same workspace salt
    ws.warehouse_path.unlink()
    monkeypatch.undo()
    calls = _spy(monkeypatch, enabled=False)
    ingest_workspace(ws)
    assert [hit for _, hit in calls] == [False, False]
    assert _dump(ws) == fast


BAD_LINES: dict[str, list[list[str]]] = {
    "bad number": [["A1", "1", "S", "1", "￥12,3a", "5"]],
    "orphan": [["A9", "1", "S", "1", "5", "5"]],
    "negative quantity": [["A1", "1", "S", "-1", "5", "5"]],
    "duplicate key": [["A1", "1", "S", "1", "5", "5"], ["A1", "1", "S", "2", "5", "10"]],
    "exact duplicate": [["A1", "1", "S", "1", "5", "5"], ["A1", "1", "S", "1", "5", "5"]],
    "malformed line": [["A1", "1", "S", "1", "5", "5", "extra"]],
    "float id": [["5.11823E+18", "1", "S", "1", "5", "5"]],
}


@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_a_file_with_a_bad_row_takes_the_exact_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    write_csv(
        tmp_path / "exports/orders.csv",
        [ORDER_HEADERS, ["A1", "C1", "2025-01-02 10:00:00", "store", "completed", "10"]],
    )
    good = [["A1", "7", "S", "1", "5", "5"], ["A1", "8", "S", "1", "5", "5"]]
    write_csv(tmp_path / "exports/lines.csv", [LINE_HEADERS, good[0], *BAD_LINES[case], good[1]])
    ws = make_workspace(
        tmp_path,
        [
            {
                "name": "o",
                "path": "exports/orders.csv",
                "table": "orders",
                "creates_customers": True,
            },
            {"name": "l", "path": "exports/lines.csv", "table": "order_lines"},
        ],
    )
    calls = _spy(monkeypatch)
    o, lines = ingest_workspace(ws)
    assert calls == [("orders.csv", True), ("lines.csv", False)]
    assert lines.status == "loaded" and lines.quarantined + lines.duplicates >= 1
    assert query(ws, "SELECT line_no, _line FROM order_lines WHERE line_no > 6 ORDER BY 1") == [
        (7, 2),
        (8, 3 + len(BAD_LINES[case])),
    ]


@pytest.mark.parametrize(
    "layout",
    ["blank line", "quoted newline", "Chinese date"],
)
def test_files_whose_lines_or_values_need_the_exact_rules_take_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str
) -> None:
    path = tmp_path / "exports/orders.csv"
    rows = [
        ORDER_HEADERS,
        ["A1", "C1", "2025-01-02 10:00:00", "store", "completed", "10"],
        ["A2", "C2", "2025-01-03 10:00:00", "store", "completed", "10"],
    ]
    if layout == "quoted newline":
        rows[1][1] = "C\n1"
    if layout == "Chinese date":
        rows[2][2] = "2025年1月3日 10:00"
    write_csv(path, rows)
    if layout == "blank line":
        data = path.read_bytes().split(b"\r\n")
        path.write_bytes(b"\r\n".join([*data[:2], b"", *data[2:]]))
    ws = make_workspace(
        tmp_path,
        [{"name": "o", "path": "exports/orders.csv", "table": "orders", "creates_customers": True}],
    )
    calls = _spy(monkeypatch)
    (r,) = ingest_workspace(ws)
    assert calls == [("orders.csv", False)]
    assert (r.status, r.loaded, r.quarantined) == ("loaded", {"orders": 2}, 0)
    second = 4 if layout in ("blank line", "quoted newline") else 3
    assert query(ws, "SELECT order_id, _line FROM orders ORDER BY 1") == [("A1", 2), ("A2", second)]
    assert query(ws, "SELECT CAST(ordered_at AS VARCHAR) FROM orders ORDER BY 1")[1] == (
        "2025-01-03 10:00:00",
    )


def test_same_content_under_a_new_name_counts_once_after_a_fast_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The content hash runs beside the one-pass tier; a copy is still recognised."""
    ws = make_workspace(tmp_path, _clean_files(tmp_path))
    ingest_workspace(ws)
    before = _dump(ws)
    src = tmp_path / "exports/ExportOrderList_1.csv"
    (tmp_path / "exports/ExportOrderList_2.csv").write_bytes(src.read_bytes())
    calls = _spy(monkeypatch)
    results = ingest_workspace(ws)
    assert calls == [("ExportOrderList_2.csv", True)]  # staged, then found already loaded
    copy = [r for r in results if r.file.endswith("ExportOrderList_2.csv")]
    assert [(r.status, r.message) for r in copy] == [
        ("unchanged", "same content as exports/ExportOrderList_1.csv")
    ]
    assert _dump(ws) == before
    assert query(ws, "SELECT count(*) FROM _loads")[0][0] == 2
