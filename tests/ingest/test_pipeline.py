"""End-to-end ingest: presets, quarantine, idempotency, changed files, bad input kinds."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest

from helpers import (
    ITEM_HEADERS,
    TMALL_HEADERS,
    counts,
    make_workspace,
    query,
    tmall_row,
    write_csv,
)
from luopan.ingest.pipeline import ingest_workspace

TMALL_SOURCES = [
    {"name": "tmall_orders", "path": "exports/ExportOrderList_*.csv", "preset": "tmall_orders"},
    {"name": "tmall_items", "path": "exports/ExportOrderDetailList_*.csv", "preset": "tmall_items"},
]


def _tmall_ws(tmp_path: Path, orders: list[list[str]], items: list[list[str]] | None = None):
    write_csv(
        tmp_path / "exports/ExportOrderList_202511.csv", [TMALL_HEADERS, *orders], encoding="gbk"
    )
    if items is not None:
        write_csv(
            tmp_path / "exports/ExportOrderDetailList_202511.csv",
            [ITEM_HEADERS, *items],
            encoding="gbk",
        )
    sources = TMALL_SOURCES if items is not None else TMALL_SOURCES[:1]
    return make_workspace(tmp_path, sources)


def _by_file(results):
    return {Path(r.file).name: r for r in results}


def test_gbk_tmall_export_loads_without_mapping(tmp_path: Path) -> None:
    ws = _tmall_ws(
        tmp_path,
        [
            tmall_row('="5118234567890123456"'),
            tmall_row("5118234567890123457", "买家乙", created="2025-11-11T00:00:01+08:00"),
        ],
        [
            ["5118234567890123456", "草莓", "617.25", "2", "SKU-1"],
            ["5118234567890123456", "牛奶", "￥0.00", "1", "SKU-2"],
            ["5118234567890123457", "牛奶", "89", "1", "SKU-2"],
        ],
    )
    results = ingest_workspace(ws)
    assert [r.status for r in results] == ["loaded", "loaded"]
    rows = query(
        ws,
        "SELECT order_id, ordered_at::VARCHAR, paid_at::VARCHAR, status, "
        "gross_amount, paid_amount, channel FROM orders ORDER BY order_id",
    )
    assert rows == [
        (
            "5118234567890123456",
            "2025-11-17 08:41:00",
            "2025-11-17 08:42:00",
            "completed",
            Decimal("1234.50"),
            Decimal("1234.50"),
            "tmall",
        ),
        (
            "5118234567890123457",
            "2025-11-11 00:00:01",
            "2025-11-17 08:42:00",
            "completed",
            Decimal("1234.50"),
            Decimal("1234.50"),
            "tmall",
        ),
    ]
    lines = query(
        ws,
        "SELECT order_id, line_no, sku, quantity, unit_price FROM order_lines "
        "ORDER BY order_id, line_no",
    )
    assert lines == [
        ("5118234567890123456", 1, "SKU-1", 2, Decimal("617.25")),
        ("5118234567890123456", 2, "SKU-2", 1, Decimal("0.00")),
        ("5118234567890123457", 1, "SKU-2", 1, Decimal("89.00")),
    ]
    # buyers became pseudonymous customers; PII is hashed, never stored raw
    customers = query(ws, "SELECT customer_id, acquisition_channel FROM customers ORDER BY 1")
    assert len(customers) == 2 and all(c[0].startswith("tmall:") for c in customers)
    assert all(c[1] == "tmall" for c in customers)
    dump = query(ws, "SELECT string_agg(COLUMNS(*)::VARCHAR, '|') FROM orders")[0]
    text = "|".join(str(v) for v in dump)
    for raw in ("13800138000", "张三", "浙江省", "买家甲"):
        assert raw not in text
    assert query(ws, "SELECT phone_hash FROM orders LIMIT 1")[0][0] is not None


def test_same_files_twice_change_nothing(tmp_path: Path) -> None:
    ws = _tmall_ws(
        tmp_path,
        [tmall_row("1001"), tmall_row("1002")],
        [["1001", "a", "1", "1", "S1"], ["1002", "b", "2", "1", "S2"]],
    )
    ingest_workspace(ws)
    before = counts(ws)
    again = ingest_workspace(ws)
    assert [r.status for r in again] == ["unchanged", "unchanged"]
    # same bytes under a new mtime: recognised by fingerprint
    f = tmp_path / "exports/ExportOrderList_202511.csv"
    os.utime(f, (1, 1))
    assert [r.status for r in ingest_workspace(ws)] == ["unchanged", "unchanged"]
    # the same content under another file name also counts once
    (tmp_path / "exports/ExportOrderList_copy.csv").write_bytes(f.read_bytes())
    assert {r.status for r in ingest_workspace(ws)} == {"unchanged"}
    assert counts(ws) == before


def test_changed_file_replaces_its_previous_rows(tmp_path: Path) -> None:
    ws = _tmall_ws(tmp_path, [tmall_row("1001"), tmall_row("1002")])
    ingest_workspace(ws)
    write_csv(
        tmp_path / "exports/ExportOrderList_202511.csv",
        [TMALL_HEADERS, tmall_row("1001", total="￥10.00"), tmall_row("1003")],
        encoding="gbk",
    )
    (result,) = ingest_workspace(ws)
    assert result.status == "loaded"
    rows = query(ws, "SELECT order_id, gross_amount FROM orders ORDER BY 1")
    assert rows == [("1001", Decimal("10.00")), ("1003", Decimal("1234.50"))]
    assert query(ws, "SELECT count(*) FROM _loads")[0][0] == 2


def test_overlapping_exports_count_an_order_once(tmp_path: Path) -> None:
    write_csv(
        tmp_path / "exports/ExportOrderList_202510.csv",
        [TMALL_HEADERS, tmall_row("1001", status="买家已付款")],
        encoding="gbk",
    )
    ws = _tmall_ws(tmp_path, [tmall_row("1001"), tmall_row("1002")])
    ingest_workspace(ws)
    assert query(ws, "SELECT order_id, status FROM orders ORDER BY 1") == [
        ("1001", "completed"),
        ("1002", "completed"),
    ]


def _quarantine(ws):
    return query(
        ws,
        "SELECT file, line, table_name, column_name, header, value, kind, reason, fix "
        "FROM _quarantine ORDER BY line, kind",
    )


def test_bad_number_and_bad_date_are_quarantined_with_line_column_and_fix(tmp_path: Path) -> None:
    ws = _tmall_ws(
        tmp_path,
        [
            tmall_row("1001"),
            tmall_row("1002", total="￥12,3a"),
            tmall_row("1003", created="2025-13-45 00:00:01"),
            tmall_row("1004"),
        ],
    )
    (r,) = ingest_workspace(ws)
    assert (r.status, r.loaded, r.quarantined) == ("loaded", {"orders": 2}, 2)
    q = _quarantine(ws)
    assert [(x[1], x[3], x[4], x[5], x[6]) for x in q] == [
        (3, "gross_amount", "总金额", "￥12,3a", "bad_number"),
        (4, "ordered_at", "订单创建时间", "2025-13-45 00:00:01", "bad_date"),
    ]
    assert q[0][0] == "exports/ExportOrderList_202511.csv"
    assert "line 3" in q[0][7] and "总金额" in q[0][7] and "1234.50" in q[0][8]
    assert r.quarantine_file is not None and r.quarantine_file.exists()
    text = r.quarantine_file.read_text(encoding="utf-8-sig")
    assert "￥12,3a" in text and "2025-13-45" in text
    assert query(ws, "SELECT order_id FROM orders ORDER BY 1") == [("1001",), ("1004",)]


def test_float_mangled_id_is_rejected(tmp_path: Path) -> None:
    ws = _tmall_ws(tmp_path, [tmall_row("5.11823E+18"), tmall_row("5118234567890123456")])
    ingest_workspace(ws)
    q = _quarantine(ws)
    assert [(x[1], x[6]) for x in q] == [(2, "float_id")]
    assert "text" in q[0][8]


def test_duplicate_rows_count_once_and_conflicting_keys_are_quarantined(tmp_path: Path) -> None:
    ws = _tmall_ws(
        tmp_path,
        [
            tmall_row("1001"),
            tmall_row("1002"),
            tmall_row("1001"),
            tmall_row("1002", total="￥5.00"),
        ],
    )
    (r,) = ingest_workspace(ws)
    assert (r.loaded, r.duplicates, r.quarantined) == ({"orders": 2}, 1, 1)
    assert [(x[1], x[6]) for x in _quarantine(ws)] == [(4, "duplicate_row"), (5, "duplicate_key")]
    assert "first at line 3" in _quarantine(ws)[1][7]
    assert query(ws, "SELECT gross_amount FROM orders WHERE order_id = '1002'") == [
        (Decimal("1234.50"),)
    ]


def test_orphan_line_is_quarantined(tmp_path: Path) -> None:
    ws = _tmall_ws(
        tmp_path,
        [tmall_row("1001")],
        [["1001", "a", "1", "1", "S1"], ["9999", "b", "2", "1", "S2"]],
    )
    results = _by_file(ingest_workspace(ws))
    assert results["ExportOrderDetailList_202511.csv"].loaded == {"order_lines": 1}
    q = [x for x in _quarantine(ws) if x[6] == "orphan"]
    assert [(x[1], x[3], x[5]) for x in q] == [(3, "order_id", "9999")]
    assert "not found in orders" in q[0][7]


def test_missing_required_column_fails_the_file_and_changes_nothing(tmp_path: Path) -> None:
    headers = [h for h in TMALL_HEADERS if h != "订单创建时间"]
    rows = [
        [v for h, v in zip(TMALL_HEADERS, tmall_row("1001"), strict=True) if h != "订单创建时间"]
    ]
    write_csv(tmp_path / "exports/ExportOrderList_202511.csv", [headers, *rows], encoding="gbk")
    ws = make_workspace(tmp_path, TMALL_SOURCES[:1])
    (r,) = ingest_workspace(ws)
    assert r.status == "failed"
    assert "ExportOrderList_202511.csv" in r.message
    assert "orders.ordered_at" in r.message and "订单创建时间" in r.message
    assert "columns:" in r.message  # the fix
    assert counts(ws)["orders"] == 0 and counts(ws)["_loads"] == 0


def test_wrong_encoding_fails_with_the_line(tmp_path: Path) -> None:
    path = tmp_path / "exports/ExportOrderList_202511.csv"
    write_csv(path, [TMALL_HEADERS, tmall_row("1001")], encoding="gbk")
    with path.open("ab") as fh:
        fh.write(b"1002,\xff\xff\xff,x\n")
    ws = make_workspace(tmp_path, TMALL_SOURCES[:1])
    (r,) = ingest_workspace(ws)
    assert r.status == "failed"
    assert "ExportOrderList_202511.csv" in r.message and "line 3" in r.message
    assert "UTF-8" in r.message or "GBK" in r.message
    assert counts(ws)["orders"] == 0


def test_truncated_file_keeps_complete_rows_and_quarantines_the_cut_line(tmp_path: Path) -> None:
    path = tmp_path / "exports/ExportOrderList_202511.csv"
    write_csv(path, [TMALL_HEADERS, tmall_row("1001"), tmall_row("1002")], encoding="gbk")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])  # cut in the middle of the last row
    ws = make_workspace(tmp_path, TMALL_SOURCES[:1])
    (r,) = ingest_workspace(ws)
    assert r.status == "loaded" and r.loaded == {"orders": 1}
    q = _quarantine(ws)
    assert [(x[1], x[6]) for x in q] == [(3, "truncated")]
    assert "re-export" in q[0][8]


def test_hostile_strings_are_data_not_code(tmp_path: Path) -> None:
    hostile = [
        "'; DROP TABLE orders; --",
        "<script>alert(1)</script>",
        "=cmd|' /C calc'!A0",
        'a"b',
        "😀火锅",
        "x" * 5000,
    ]
    headers = [*TMALL_HEADERS, "'; DROP TABLE orders; --", '<b>"x"</b>']
    rows = [tmall_row(f"10{i}", buyer=h) + [h, h] for i, h in enumerate(hostile)]
    write_csv(tmp_path / "exports/ExportOrderList_202511.csv", [headers, *rows], encoding="utf-8")
    ws = make_workspace(tmp_path, TMALL_SOURCES[:1])
    (r,) = ingest_workspace(ws)
    assert r.status == "loaded" and r.loaded == {"orders": len(hostile)}
    assert query(ws, "SELECT count(DISTINCT customer_id) FROM orders")[0][0] == len(hostile)
    # a hostile value used as a value-mapped status is reported, not executed
    write_csv(
        tmp_path / "exports/ExportOrderList_202512.csv",
        [TMALL_HEADERS, tmall_row("2001", status="'); DELETE FROM orders; --")],
    )
    results = _by_file(ingest_workspace(ws))
    assert results["ExportOrderList_202512.csv"].quarantined == 1
    q = [x for x in _quarantine(ws) if x[6] == "unknown_value"]
    assert q[0][5] == "'); DELETE FROM orders; --" and "values:" in q[0][8]
    assert counts(ws)["orders"] == len(hostile)


def test_negative_quantity_only_on_returns(tmp_path: Path) -> None:
    (tmp_path / "exports").mkdir(parents=True)
    write_csv(
        tmp_path / "exports/orders.csv",
        [
            ["order_id", "ordered_at", "channel", "status", "paid_amount"],
            ["A1", "2025-01-02 10:00:00", "store", "completed", "10"],
        ],
    )
    write_csv(
        tmp_path / "exports/order_lines.csv",
        [
            ["order_id", "line_no", "sku", "quantity", "unit_price", "paid_amount"],
            ["A1", "1", "S1", "2", "5", "10"],
            ["A1", "2", "S1", "-1", "5", "-5"],
            ["A1", "3", "S1", "-1", "5", "5"],
        ],
    )
    ws = make_workspace(
        tmp_path,
        [
            {"name": "pos_orders", "path": "exports/orders.csv", "table": "orders"},
            {"name": "pos_lines", "path": "exports/order_lines.csv", "table": "order_lines"},
        ],
    )
    ingest_workspace(ws)
    assert query(ws, "SELECT line_no, quantity FROM order_lines ORDER BY 1") == [(1, 2), (2, -1)]
    assert [(x[1], x[6]) for x in _quarantine(ws)] == [(4, "out_of_range")]


def test_future_timestamps_are_rejected(tmp_path: Path) -> None:
    ws = _tmall_ws(tmp_path, [tmall_row("1001"), tmall_row("1002", created="2030-01-01 00:00:00")])
    ingest_workspace(ws)
    assert [(x[1], x[6]) for x in _quarantine(ws)] == [(3, "future_timestamp")]


@pytest.mark.parametrize(
    "preset", ["jd_orders", "douyin_orders", "youzan_orders", "meituan_orders", "shopify_orders"]
)
def test_line_level_presets_make_orders_and_lines(tmp_path: Path, preset: str) -> None:
    from luopan.ingest.mapping import load_presets

    spec = load_presets()[preset]
    headers: list[str] = []
    for out in spec.outputs.values():
        for col in out.columns.values():
            if col.aliases[0] not in headers:
                headers.append(col.aliases[0])
    values = {
        "order_id": "900001",
        "customer_id": "buyer-1",
        "ordered_at": "2025-06-18 20:00:00",
        "paid_at": "2025-06-18 20:01:00",
        "gross_amount": "30",
        "discount_amount": "0",
        "paid_amount": "30",
        "refund_amount": "0",
        "quantity": "1",
        "unit_price": "30",
        "store_id": "S01",
        "province": "浙江省",
        "city": "杭州市",
    }
    status = next(iter(spec.outputs["orders"].values["status"]))
    rows = []
    for sku in ("SKU-A", "SKU-B"):
        row = []
        for h in headers:
            col = next(
                c
                for o in spec.outputs.values()
                for c, s in o.columns.items()
                if s.aliases and s.aliases[0] == h
            )
            row.append(sku if col == "sku" else status if col == "status" else values.get(col, "x"))
        rows.append(row)
    write_csv(tmp_path / "exports/export.csv", [headers, *rows])
    ws = make_workspace(
        tmp_path, [{"name": "shop", "path": "exports/export.csv", "preset": preset}]
    )
    (r,) = ingest_workspace(ws)
    assert r.status == "loaded", r.message
    assert r.loaded == {"orders": 1, "order_lines": 2}
    assert query(ws, "SELECT sku, line_no FROM order_lines ORDER BY line_no") == [
        ("SKU-A", 1),
        ("SKU-B", 2),
    ]
    summed = {"douyin_orders", "meituan_orders"}
    expected = Decimal("60.00") if preset in summed else Decimal("30.00")
    assert query(ws, "SELECT paid_amount FROM orders") == [(expected,)]
