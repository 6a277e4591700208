"""The batch lineage: ``_batch_id`` is computed from the stored 64-bit ``_batch``; warehouses
written when ``_batch_id`` was stored as text are brought to this form on open."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from luopan.errors import WarehouseError
from luopan.tables import TABLES, batch_number
from luopan.warehouse.store import Warehouse

LOADED = dt.datetime(2026, 6, 1, 8, 0)


@pytest.mark.parametrize(
    ("batch_id", "number"),
    [
        ("0000000000000000", 0),
        ("0000000000000001", 1),
        ("7fffffffffffffff", 2**63 - 1),
        ("8000000000000000", -(2**63)),
        ("ffffffffffffffff", -1),
        ("ab54a98ceb1f0ad2", -6101065172474983726),
    ],
)
def test_batch_number_is_the_ids_64_bits_signed(batch_id: str, number: int) -> None:
    assert batch_number(batch_id) == number
    with duckdb.connect() as con:
        con.execute(TABLES["stores"].ddl())
        con.execute("INSERT INTO stores (store_id, _batch) VALUES ('S1', ?)", [number])
        assert con.execute("SELECT _batch_id FROM stores").fetchall() == [(batch_id,)]


def test_batch_number_rejects_more_than_64_bits() -> None:
    with pytest.raises(ValueError, match="16 hex digits"):
        batch_number("1" + "0" * 16)


def _old_orders(path: Path, rows: list[tuple[str, str]]) -> None:
    """An ``orders`` table as written before: ``_batch_id`` stored as VARCHAR, no ``_batch``."""
    with duckdb.connect(str(path)) as con:
        con.execute(
            "CREATE TABLE orders (order_id VARCHAR, paid_amount DECIMAL(18,2), _source VARCHAR, "
            "_batch_id VARCHAR, _loaded_at TIMESTAMP, _line BIGINT)"
        )
        con.executemany(
            "INSERT INTO orders VALUES (?, 12.50, 'erp', ?, ?, ?)",
            [(o, b, LOADED, i + 2) for i, (o, b) in enumerate(rows)],
        )


def test_an_old_table_is_rebuilt_with_every_row_and_the_same_batch_ids(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    _old_orders(path, [("A", "ab54a98ceb1f0ad2"), ("B", "0000000000000001"), ("C", None)])
    with Warehouse(path) as wh:
        rows = wh.con.execute(
            "SELECT order_id, paid_amount, _source, _batch, _batch_id, _loaded_at, _line "
            "FROM orders ORDER BY order_id"
        ).fetchall()
        names = [r[0] for r in wh.con.execute("DESCRIBE orders").fetchall()]
    assert [(r[0], str(r[1]), r[2], r[3], r[4], r[5], r[6]) for r in rows] == [
        ("A", "12.50", "erp", -6101065172474983726, "ab54a98ceb1f0ad2", LOADED, 2),
        ("B", "12.50", "erp", 1, "0000000000000001", LOADED, 3),
        ("C", "12.50", "erp", None, None, LOADED, 4),
    ]
    assert names == [
        *TABLES["orders"].column_names,
        *TABLES["orders"].join_key_names,
        "_source",
        "_batch",
        "_batch_id",
        "_loaded_at",
        "_line",
    ]
    with Warehouse(path) as wh:  # opening again changes nothing
        assert wh.con.execute("SELECT count(*), sum(_batch) FROM orders").fetchone() == (
            3,
            -6101065172474983725,
        )


def test_an_old_table_with_a_foreign_batch_id_is_left_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    _old_orders(path, [("A", "ab54a98ceb1f0ad2"), ("B", "b1")])
    with pytest.raises(WarehouseError) as err:
        Warehouse(path)
    assert "orders" in str(err.value) and "16 hex digits" in str(err.value)
    assert "ingest the sources again" in (err.value.fix or "")
    with duckdb.connect(str(path)) as con:
        assert con.execute("SELECT order_id, _batch_id FROM orders ORDER BY 1").fetchall() == [
            ("A", "ab54a98ceb1f0ad2"),
            ("B", "b1"),
        ]
        tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
    assert "stores" not in tables and "orders__batch_migration" not in tables
