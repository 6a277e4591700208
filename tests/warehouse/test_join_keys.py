"""Join keys: ingest stores beside ``order_id``, ``customer_id`` and an event's ``user_id``
DuckDB's 64-bit hash of the ID shifted right by one; a warehouse written before the keys, or under an engine whose hash
differs, gets them (again) on open; a batch whose ID would share a key with another ID is
refused whole; the catalog joins on the keys and falls back to the IDs where a table holds
none, with the same values."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import ibis
import pytest

from helpers import ITEM_HEADERS, TMALL_HEADERS, make_workspace, query, tmall_row, write_csv
from luopan.errors import WarehouseError
from luopan.ingest.load import check_join_keys
from luopan.ingest.pipeline import ingest_workspace
from luopan.metrics import default_catalog
from luopan.metrics.compiler import compile_metric
from luopan.tables import JOIN_KEY_PROBE, LINEAGE_COLUMNS, LINEAGE_COMPUTED, TABLES, join_key_sql
from luopan.warehouse.store import Warehouse

SOURCES = [
    {"name": "tmall_orders", "path": "exports/ExportOrderList_*.csv", "preset": "tmall_orders"},
    {"name": "tmall_items", "path": "exports/ExportOrderDetailList_*.csv", "preset": "tmall_items"},
]


def _key(text: str) -> int:
    """DuckDB's ``hash`` of the text (an unsigned 64-bit value) shifted right by one."""
    row = duckdb.sql(f"SELECT hash('{text}')").fetchone()
    assert row is not None
    return int(row[0]) >> 1


def _shop(root: Path, orders: list[tuple[str, str]], month: str = "202511"):
    write_csv(
        root / f"exports/ExportOrderList_{month}.csv",
        [TMALL_HEADERS, *[tmall_row(o, buyer) for o, buyer in orders]],
        encoding="gbk",
    )
    write_csv(
        root / f"exports/ExportOrderDetailList_{month}.csv",
        [ITEM_HEADERS, *[[o, "鲜橙", "12.5", "2", f"SKU-{o}"] for o, _ in orders]],
        encoding="gbk",
    )
    return make_workspace(root, SOURCES)


def test_ingest_stores_the_key_of_every_id(tmp_path: Path) -> None:
    ws = _shop(tmp_path, [("1001", "买家甲"), ("1002", "买家乙"), ("1003", "买家甲")])
    assert all(r.status == "loaded" for r in ingest_workspace(ws))
    orders = query(ws, "SELECT order_id, _order_key, customer_id, _customer_key FROM orders")
    lines = query(ws, "SELECT order_id, _order_key FROM order_lines")
    customers = query(ws, "SELECT customer_id, _customer_key FROM customers")
    assert len(orders) == 3 and len(lines) == 3 and len(customers) == 2
    assert all(ok == _key(o) and ck == _key(c) for o, ok, c, ck in orders)
    assert all(ok == _key(o) for o, ok in lines)
    assert all(ck == _key(c) for c, ck in customers)
    assert len({ck for *_, ck in orders}) == 2  # two buyers, two keys
    assert all(0 <= k < 2**63 for _, k in lines)


def test_an_old_warehouse_gets_its_keys_on_open(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    table = TABLES["order_lines"]
    cols = [f'"{c}" {t}' for c, t in (("order_id", "VARCHAR"), ("line_no", "BIGINT"))]
    cols += [f'"{n}" {t}' for n, t, _, _ in LINEAGE_COLUMNS if n not in LINEAGE_COMPUTED]
    with duckdb.connect(str(path)) as con:  # as written before the keys: no _order_key
        con.execute(f"CREATE TABLE order_lines ({', '.join(cols)})")
        con.executemany(
            "INSERT INTO order_lines (order_id, line_no, _source, _batch, _loaded_at, _line) "
            "VALUES (?, ?, 'pos', 5, ?, ?)",
            [
                (o, n, dt.datetime(2026, 6, 1), i + 2)
                for i, (o, n) in enumerate([("A-1", 1), ("A-1", 2), ("B-7", 1)])
            ],
        )
    with Warehouse(path) as wh:
        rows = wh.con.execute(
            "SELECT order_id, line_no, _order_key, _batch, _line FROM order_lines ORDER BY _line"
        ).fetchall()
        names = [r[0] for r in wh.con.execute("DESCRIBE order_lines").fetchall()]
    assert rows == [
        ("A-1", 1, _key("A-1"), 5, 2),
        ("A-1", 2, _key("A-1"), 5, 3),
        ("B-7", 1, _key("B-7"), 5, 4),
    ]
    assert names[: len(table.column_names) + 1] == [*table.column_names, "_order_key"]
    with Warehouse(path) as wh:  # opening again changes nothing
        assert wh.con.execute("SELECT count(*), sum(_order_key) FROM order_lines").fetchone() == (
            3,
            2 * _key("A-1") + _key("B-7"),
        )


def test_a_batch_whose_id_shares_a_key_is_refused_whole(tmp_path: Path) -> None:
    ws = _shop(tmp_path, [("1001", "买家甲")])
    assert all(r.status == "loaded" for r in ingest_workspace(ws))
    # Two IDs sharing a key cannot be found by search (2⁶³ values); the stored key of 1001
    # is set to the key 1002 will have, as if the two collided.
    with duckdb.connect(str(ws.warehouse_path)) as con:
        con.execute("UPDATE orders SET _order_key = ? WHERE order_id = '1001'", [_key("1002")])
    before = query(ws, "SELECT order_id, _order_key FROM orders ORDER BY 1")
    _shop(tmp_path, [("1002", "买家乙")], month="202512")
    results = {r.file: r for r in ingest_workspace(ws)}
    failed = results["exports/ExportOrderList_202512.csv"]
    assert failed.status == "failed"
    assert "'1002' and '1001' (in orders) share the join key _order_key" in failed.message
    assert query(ws, "SELECT order_id, _order_key FROM orders ORDER BY 1") == before


def test_check_join_keys_looks_up_each_id_in_its_own_table(tmp_path: Path) -> None:
    with Warehouse(tmp_path / "w.duckdb") as wh:
        con = wh.con
        con.execute(
            "INSERT INTO orders (order_id, ordered_at, _order_key) "
            "VALUES ('X', TIMESTAMP '2026-06-01 08:00', ?)",
            [_key("Y")],
        )
        # a batch of orders holding order Y: its key is the stored key of order X
        con.execute("CREATE TEMP VIEW batch AS SELECT 'Y' AS order_id, 'C' AS customer_id")
        with pytest.raises(WarehouseError, match="order_id 'Y' and 'X' \\(in orders\\)"):
            check_join_keys(con, "orders", "batch")
        # order lines reference their order: the row checks keep only lines whose order is
        # stored, so their IDs are not looked up again
        check_join_keys(con, "order_lines", "batch")
        con.execute(
            "CREATE OR REPLACE TEMP VIEW batch AS SELECT 'X' AS order_id, 'C' AS customer_id"
        )
        check_join_keys(con, "orders", "batch")  # the same ID: no clash
        # the buyers a batch creates are looked up in customers
        con.execute(
            "INSERT INTO customers (customer_id, _customer_key) VALUES ('D', ?)", [_key("C")]
        )
        with pytest.raises(WarehouseError, match="customer_id 'C' and 'D' \\(in customers\\)"):
            check_join_keys(con, "customers", "batch")


def test_an_events_user_is_looked_up_in_the_events(tmp_path: Path) -> None:
    """No table has ``user_id`` as its key: a batch's distinct users are looked up among the
    stored events' keys."""
    with Warehouse(tmp_path / "w.duckdb") as wh:
        con = wh.con
        con.execute(
            "INSERT INTO events (event_id, event_time, user_id, event_name, _user_key) VALUES "
            "('e1', TIMESTAMP '2026-06-01 08:00', 'X', 'view', ?), "
            "('e2', TIMESTAMP '2026-06-01 08:01', 'Y', 'view', ?), "
            "('e3', TIMESTAMP '2026-06-01 08:02', 'Y', 'pay', ?)",
            [_key("Y"), _key("Y"), _key("Y")],  # X stored under the key Y will have
        )
        con.execute("CREATE TEMP VIEW batch AS SELECT 'Y' AS user_id FROM range(3)")
        with pytest.raises(WarehouseError, match="user_id 'Y' and 'X' \\(in events\\)"):
            check_join_keys(con, "events", "batch")
        con.execute("UPDATE events SET _user_key = ? WHERE user_id = 'X'", [_key("X")])
        check_join_keys(con, "events", "batch")  # its own events only: no clash


def test_ingested_events_hold_the_key_of_their_user(tmp_path: Path) -> None:
    path = tmp_path / "exports/events_01.jsonl"
    path.parent.mkdir(parents=True)
    rows = [("e1", "u1", "view"), ("e2", "u2", "view"), ("e3", "u1", "pay")]
    path.write_text(
        "".join(
            f'{{"event_id": "{e}", "event_time": "2026-06-01 08:00:00", "user_id": "{u}", '
            f'"event_name": "{n}"}}\n'
            for e, u, n in rows
        ),
        encoding="utf-8",
    )
    ws = make_workspace(
        tmp_path, [{"name": "events", "path": "exports/events_*.jsonl", "table": "events"}]
    )
    assert [r.status for r in ingest_workspace(ws)] == ["loaded"]
    got = query(ws, "SELECT user_id, _user_key FROM events ORDER BY event_id")
    assert got == [("u1", _key("u1")), ("u2", _key("u2")), ("u1", _key("u1"))]


def test_a_batch_creating_a_buyer_whose_key_is_taken_is_refused(tmp_path: Path) -> None:
    ws = _shop(tmp_path / "a", [("1001", "买家甲")])
    assert all(r.status == "loaded" for r in ingest_workspace(ws))
    ((first,),) = query(ws, "SELECT customer_id FROM customers")
    # the pseudonymous ID 买家乙 will get (salted): learnt from a copy of the workspace
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    copy = _shop(tmp_path / "b", [("1002", "买家乙")], month="202512")
    ingest_workspace(copy)
    ((second,),) = query(copy, "SELECT customer_id FROM customers WHERE customer_id <> ?", [first])
    with duckdb.connect(str(ws.warehouse_path)) as con:  # as if the two IDs collided
        con.execute("UPDATE customers SET _customer_key = ?", [_key(second)])
    before = query(ws, "SELECT customer_id, _customer_key FROM customers ORDER BY 1")
    _shop(tmp_path / "a", [("1002", "买家乙")], month="202512")
    results = {r.file: r for r in ingest_workspace(ws)}
    failed = results["exports/ExportOrderList_202512.csv"]
    assert failed.status == "failed"
    assert f"customer_id {second!r} and {first!r} (in customers)" in str(failed.message)
    assert query(ws, "SELECT customer_id, _customer_key FROM customers ORDER BY 1") == before
    assert query(ws, "SELECT count(*) FROM orders") == [(1,)]


def test_the_catalog_joins_on_the_keys_and_falls_back_to_the_ids(demo_world, tmp_path) -> None:
    ws, _ = demo_world
    bare = tmp_path / "bare.duckdb"
    shutil.copy(ws.warehouse_path, bare)
    with duckdb.connect(str(bare)) as con:  # a warehouse whose tables hold no keys
        for t in ("orders", "order_lines", "customers"):
            for k in TABLES[t].join_key_names:
                con.execute(f'ALTER TABLE "{t}" DROP COLUMN "{k}"')
    catalog = default_catalog()
    lo, hi = dt.date(2025, 12, 1), dt.date(2026, 3, 2)  # 13 weeks
    for name in ("gross_margin_pct", "repeat_purchase_rate", "gmv_new"):
        got = {}
        for label, path in (("keyed", ws.warehouse_path), ("bare", bare)):
            con = ibis.duckdb.connect(str(path), read_only=True)
            expr = compile_metric(con, catalog, name, grain="week", start=lo, end=hi)
            sql = str(ibis.to_sql(expr, dialect="duckdb"))
            assert ("_order_key" in sql or "_customer_key" in sql) == (label == "keyed"), name
            got[label] = expr.execute().sort_values("period").reset_index(drop=True)
            con.disconnect()
        assert len(got["keyed"]) == 13
        assert got["keyed"]["period"].tolist() == got["bare"]["period"].tolist()
        assert got["keyed"]["value"].tolist() == pytest.approx(got["bare"]["value"].tolist())


def test_keys_are_computed_again_when_the_engines_hash_differs(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    with Warehouse(path) as wh:
        wh.con.execute(
            "INSERT INTO orders (order_id, customer_id, ordered_at, _order_key, _customer_key) "
            "VALUES ('A-1', 'C-9', TIMESTAMP '2026-06-01 08:00', 1, 2)"
        )
        # as if the warehouse had been written by an engine whose hash gave other keys
        wh.con.execute("UPDATE _join_key_probe SET probe = probe + 1")
    with Warehouse(path) as wh:
        got = wh.con.execute("SELECT order_id, _order_key, _customer_key FROM orders").fetchall()
        probe = wh.con.execute("SELECT probe FROM _join_key_probe").fetchall()
    assert got == [("A-1", _key("A-1"), _key("C-9"))]
    assert probe == [(_key(JOIN_KEY_PROBE),)]
    with Warehouse(path) as wh:  # the probe agrees now: nothing is recomputed
        wh.con.execute("UPDATE orders SET _customer_key = 7")
    with Warehouse(path) as wh:
        assert wh.con.execute("SELECT _customer_key FROM orders").fetchall() == [(7,)]


def test_a_null_id_has_a_null_key() -> None:
    with duckdb.connect() as con:
        row = con.execute(f"SELECT {join_key_sql('c')} FROM (SELECT NULL::VARCHAR AS c)")
        assert row.fetchall() == [(None,)]
