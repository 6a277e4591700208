"""The canonical model drives DDL and its docs page."""

from __future__ import annotations

from pathlib import Path

import duckdb

from luopan.model_docs import model_markdown
from luopan.tables import LINEAGE_COLUMNS, TABLES

DOCS = Path(__file__).resolve().parents[1] / "docs" / "canonical-model.md"


def test_every_table_from_design_is_declared() -> None:
    expected = {
        "stores",
        "customers",
        "products",
        "orders",
        "order_lines",
        "prices",
        "inventory",
        "inventory_events",
        "events",
        "campaigns",
        "marketing_spend",
        "experiments",
        "assignments",
        "mentions",
        "communities",
        "content",
        "tickets",
    }
    assert set(TABLES) == expected
    assert {t for t, v in TABLES.items() if v.core} == {
        "orders",
        "order_lines",
        "customers",
        "products",
    }


def test_ddl_creates_every_column_with_its_type() -> None:
    con = duckdb.connect()
    for table in TABLES.values():
        con.execute(table.ddl())
        cols = con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?",
            [table.name],
        ).fetchall()
        names = [c[0] for c in cols]
        assert names == [
            *table.column_names,
            *table.join_key_names,
            *table.dense_key_names,
            *(n for n, *_ in LINEAGE_COLUMNS),
        ]
    types = dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'orders'"
        ).fetchall()
    )
    assert types["order_id"] == "VARCHAR"
    assert types["paid_amount"] == "DECIMAL(18,2)"
    assert types["ordered_at"] == "TIMESTAMP"
    assert types["_order_key"] == types["_customer_key"] == "BIGINT"
    assert {t: v.join_keys for t, v in TABLES.items() if v.join_keys} == {
        "customers": (("_customer_key", "customer_id"),),
        "orders": (("_order_key", "order_id"), ("_customer_key", "customer_id")),
        "order_lines": (("_order_key", "order_id"),),
        "events": (("_user_key", "user_id"),),
    }
    assert {t: v.dense_keys for t, v in TABLES.items() if v.dense_keys} == {
        "events": (("_user_no", "user_id"),),
    }
    events = dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'events'"
        ).fetchall()
    )
    assert events["_user_key"] == "BIGINT" and events["_user_no"] == "INTEGER"


def test_keys_and_references_name_declared_columns() -> None:
    for table in TABLES.values():
        assert all(table.has(k) for k in table.key)
        assert all(table.column(k).required for k in table.key), table.name
        for ref in table.references:
            assert all(table.has(c) for c in ref.columns)
            assert all(TABLES[ref.table].has(c) for c in ref.to_columns)


def test_every_column_has_zh_and_en_labels() -> None:
    for table in TABLES.values():
        assert table.zh and table.en
        for c in table.columns:
            assert c.zh and c.en and c.zh != c.en, (table.name, c.name)


def test_docs_page_is_in_sync_with_the_declaration() -> None:
    assert DOCS.read_text(encoding="utf-8") == model_markdown(), (
        "docs/canonical-model.md is stale: run `luopan docs model > docs/canonical-model.md`"
    )


def test_declared_compression_is_what_duckdb_stores(tmp_path: Path) -> None:
    # three distinct IDs would be stored Constant/Dictionary by DuckDB's own analysis
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute(TABLES["order_lines"].ddl())
        con.execute(
            "INSERT INTO order_lines (order_id, line_no, sku) "
            "SELECT 'O' || (i % 3), i, 'S' || (i % 3) FROM range(200000) t(i)"
        )
        con.execute("CHECKPOINT")
        stored = con.execute(
            "SELECT column_name, list(DISTINCT compression ORDER BY compression) "
            "FROM pragma_storage_info('order_lines') WHERE segment_type = 'VARCHAR' "
            "AND column_name IN ('order_id', 'sku') GROUP BY 1 ORDER BY 1"
        ).fetchall()
    assert stored == [("order_id", ["FSST"]), ("sku", ["FSST"])]


def test_channel_names_in_both_languages_and_other_values_as_they_are() -> None:
    from luopan.tables import CHANNEL_NAMES, CHANNELS, channel_name

    assert set(CHANNELS) == set(CHANNEL_NAMES)
    assert channel_name("tmall") == "天猫" and channel_name("tmall", "en") == "Tmall"
    assert channel_name("miniprogram", "en") == "mini program"
    assert channel_name("小红书", "en") == "小红书"  # a CRM's own value is shown unchanged
