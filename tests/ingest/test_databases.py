"""read_database against the real PostgreSQL and MariaDB servers (both run in CI).

A server that is down makes these tests fail, never skip. Override the servers with
LUOPAN_TEST_POSTGRES_URL / LUOPAN_TEST_MARIADB_URL.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import uuid
from collections.abc import Iterator
from decimal import Decimal

import pyarrow as pa
import pytest
import sqlalchemy as sa

from luopan.errors import OptionalDependencyError, SourceError
from luopan.ingest.databases import database_fingerprint, read_database

pytestmark = pytest.mark.integration

PG_URL = os.environ.get("LUOPAN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
MY_URL = os.environ.get("LUOPAN_TEST_MARIADB_URL", "mariadb://root@127.0.0.1:3306/test")
SHANGHAI = dt.timezone(dt.timedelta(hours=8))

COLUMNS = [
    "id",
    "order_no",
    "customer",
    "amount",
    "ordered_at",
    "day",
    "qty",
    "is_member",
    "note",
    "raw",
]
ROWS = [
    {
        "id": 5118234567890123456,
        "order_no": "TM20251111000001",
        "customer": "张三",
        "amount": Decimal("1234.50"),
        "ordered_at": dt.datetime(2025, 11, 11, 0, 0, 0),
        "day": dt.date(2025, 11, 11),
        "qty": 3,
        "is_member": True,
        "note": "双11 预售“定金”，50% off",
        "raw": b"\x00\xff",
    },
    {
        "id": 9223372036854775807,
        "order_no": "JD-0002",
        "customer": "李四",
        "amount": Decimal("-0.05"),
        "ordered_at": dt.datetime(2025, 11, 11, 23, 59, 59, 123456),
        "day": dt.date(2024, 2, 29),
        "qty": 0,
        "is_member": False,
        "note": "",
        "raw": b"",
    },
    {"id": 1, **{c: None for c in COLUMNS[1:]}},
]
EXPECTED_COMMON = [
    {
        "id": "5118234567890123456",
        "order_no": "TM20251111000001",
        "customer": "张三",
        "amount": "1234.50",
        "ordered_at": "2025-11-11 00:00:00",
        "day": "2025-11-11",
        "qty": "3",
        "note": "双11 预售“定金”，50% off",
        "raw": "00ff",
    },
    {
        "id": "9223372036854775807",
        "order_no": "JD-0002",
        "customer": "李四",
        "amount": "-0.05",
        "ordered_at": "2025-11-11 23:59:59.123456",
        "day": "2024-02-29",
        "qty": "0",
        "note": "",
        "raw": "",
    },
    {"id": "1", **{c: None for c in COLUMNS[1:]}},
]


def _driver_url(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return ("postgresql+psycopg" if scheme.startswith("postg") else "mysql+pymysql") + "://" + rest


def _create(url: str, ddl_types: dict[str, str], name: str) -> sa.Engine:
    engine = sa.create_engine(_driver_url(url), poolclass=sa.pool.NullPool)
    q = engine.dialect.identifier_preparer.quote
    columns = ", ".join(f"{q(c)} {t}" for c, t in ddl_types.items())
    table = sa.table(name, *(sa.column(c) for c in COLUMNS))
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE {q(name)} ({columns})")
        conn.execute(sa.insert(table), ROWS)
    return engine


def _drop(engine: sa.Engine, *statements: str) -> None:
    with engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)
    engine.dispose()


@pytest.fixture
def pg_table(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A table whose name needs quoting (Chinese, space, capital), plus a sequence."""
    monkeypatch.setenv("PGTZ", "Asia/Shanghai")  # libpq sends it as the session TimeZone
    suffix = uuid.uuid4().hex[:8]
    name = f"Luopan 订单 {suffix}"
    types = {
        "id": "BIGINT",
        "order_no": "VARCHAR(32)",
        "customer": "TEXT",
        "amount": "NUMERIC(18,2)",
        "ordered_at": "TIMESTAMP",
        "day": "DATE",
        "qty": "INTEGER",
        "is_member": "BOOLEAN",
        "note": "TEXT",
        "raw": "BYTEA",
        "paid_at": "TIMESTAMPTZ",
    }
    engine = _create(PG_URL, types, name)
    q = engine.dialect.identifier_preparer.quote
    seq = f"luopan_seq_{suffix}"  # same suffix: tests find it from the table name
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SEQUENCE {seq}")
        conn.execute(
            sa.text(f"UPDATE {q(name)} SET paid_at = :at WHERE id = 5118234567890123456"),
            {"at": dt.datetime(2025, 11, 11, 0, 0, 5, tzinfo=SHANGHAI)},
        )
    yield name
    _drop(engine, f"DROP TABLE {q(name)}", f"DROP SEQUENCE {seq}")


@pytest.fixture
def my_table() -> Iterator[str]:
    name = f"Luopan 订单 {uuid.uuid4().hex[:8]}"
    types = {
        "id": "BIGINT",
        "order_no": "VARCHAR(32)",
        "customer": "VARCHAR(64)",
        "amount": "DECIMAL(18,2)",
        "ordered_at": "DATETIME(6)",
        "day": "DATE",
        "qty": "INT",
        "is_member": "BOOLEAN",
        "note": "TEXT",
        "raw": "VARBINARY(16)",
    }
    engine = _create(MY_URL, types, name)
    q = engine.dialect.identifier_preparer.quote
    yield name
    _drop(engine, f"DROP TABLE {q(name)}")


def _rows(tbl: pa.Table) -> list[dict[str, str | None]]:
    assert all(f.type == pa.string() for f in tbl.schema), tbl.schema
    return sorted(tbl.to_pylist(), key=lambda r: str(r["id"]))


# --- PostgreSQL ------------------------------------------------------------------------------


def test_postgres_table_every_type_as_text(pg_table: str) -> None:
    tbl = read_database(PG_URL, table=pg_table, schema="public")
    assert tbl.column_names == [*COLUMNS, "paid_at"]
    flags = {"5118234567890123456": "true", "9223372036854775807": "false", "1": None}
    paid = {"5118234567890123456": "2025-11-11 00:00:05+08:00"}
    expected = [
        {**row, "is_member": flags[row["id"]], "paid_at": paid.get(row["id"])}
        for row in EXPECTED_COMMON
    ]
    assert _rows(tbl) == sorted(expected, key=lambda r: str(r["id"]))


def test_postgres_query_streams_in_a_read_only_transaction(pg_table: str) -> None:
    query = f"""
        SELECT id, amount * 2 AS doubled, current_setting('transaction_read_only') AS ro,
               (SELECT count(*) FROM pg_cursors) AS cursors
        FROM "{pg_table}" WHERE note LIKE '%50%' OR note = '' ORDER BY id
    """
    tbl = read_database(PG_URL, query=query, batch_rows=1)
    assert tbl.to_pylist() == [
        {"id": "5118234567890123456", "doubled": "2469.00", "ro": "on", "cursors": "1"},
        {"id": "9223372036854775807", "doubled": "-0.10", "ro": "on", "cursors": "1"},
    ]
    assert [b.num_rows for b in tbl.to_batches()] == [1, 1]


def test_postgres_query_that_writes_is_refused(pg_table: str) -> None:
    seq = "luopan_seq_" + pg_table.rsplit(" ", 1)[1]
    with pytest.raises(SourceError, match="tried to change data") as err:
        read_database(PG_URL, query=f"SELECT nextval('{seq}')")
    assert "read-only" in str(err.value)
    with pytest.raises(SourceError, match="single SELECT"):
        read_database(PG_URL, query=f'/* tidy */ DELETE FROM "{pg_table}"')
    assert read_database(PG_URL, table=pg_table).num_rows == 3


def test_table_name_is_an_identifier_not_sql(pg_table: str) -> None:
    with pytest.raises(SourceError, match="does not exist") as err:
        read_database(PG_URL, table=f'{pg_table}"; DROP TABLE "{pg_table}')
    assert pg_table in str(err.value)  # the fix lists the tables that do exist
    assert read_database(PG_URL, table=pg_table).num_rows == 3


def test_fingerprint_ignores_batching_and_sees_changes(pg_table: str) -> None:
    query = f'SELECT * FROM "{pg_table}" ORDER BY id'
    one = read_database(PG_URL, query=query, batch_rows=1)
    many = read_database(PG_URL, query=query)
    assert one.num_rows == many.num_rows == 3 and len(one.to_batches()) == 3
    assert database_fingerprint(one) == database_fingerprint(many)
    fewer = read_database(PG_URL, query=query.replace("ORDER BY", "WHERE id > 1 ORDER BY"))
    assert database_fingerprint(fewer) != database_fingerprint(many)
    assert len(database_fingerprint(many)) == 64


def test_empty_result_keeps_its_columns() -> None:
    tbl = read_database(PG_URL, query="SELECT 1::bigint AS a, 'x'::text AS b WHERE false")
    assert tbl.num_rows == 0
    assert tbl.schema == pa.schema([("a", pa.string()), ("b", pa.string())])


def test_env_references_are_expanded(monkeypatch: pytest.MonkeyPatch) -> None:
    user = sa.engine.make_url(_driver_url(PG_URL)).username or "postgres"
    monkeypatch.setenv("LUOPAN_TEST_PG_USER", user)
    monkeypatch.setenv("LUOPAN_TEST_PG_PORT", "5432")
    url = "postgresql://${LUOPAN_TEST_PG_USER}@127.0.0.1:${LUOPAN_TEST_PG_PORT}/test"
    tbl = read_database(url, query="SELECT current_user AS who, 5118234567890123456 AS big")
    assert tbl.to_pylist() == [{"who": user, "big": "5118234567890123456"}]


def test_missing_env_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LUOPAN_TEST_NO_SUCH_VAR", raising=False)
    with pytest.raises(SourceError, match="LUOPAN_TEST_NO_SUCH_VAR") as err:
        read_database("postgresql://u:${LUOPAN_TEST_NO_SUCH_VAR}@127.0.0.1/test", table="t")
    assert "export LUOPAN_TEST_NO_SUCH_VAR=" in str(err.value)


def test_unreachable_server_masks_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LUOPAN_TEST_SECRET", "p@ss/w:rd-秘密")
    url = "postgresql://postgres:${LUOPAN_TEST_SECRET}@127.0.0.1:1/test"
    with pytest.raises(SourceError) as err:
        read_database(url, table="orders")
    text = str(err.value)
    assert "cannot connect to postgresql://postgres:***@127.0.0.1:1/test" in text
    assert "p@ss" not in text and "秘密" not in text and "LUOPAN_TEST_SECRET" not in text
    assert "fix:" in text and "password" in text


def test_unknown_database_is_reported() -> None:
    url = _driver_url(PG_URL).replace("postgresql+psycopg", "postgresql").rsplit("/", 1)[0]
    with pytest.raises(SourceError, match="luopan_no_such_db") as err:
        read_database(url + "/luopan_no_such_db", query="SELECT 1")
    assert "does not exist" in str(err.value)


def test_arguments_are_checked() -> None:
    with pytest.raises(SourceError, match="exactly one"):
        read_database(PG_URL)
    with pytest.raises(SourceError, match="exactly one"):
        read_database(PG_URL, table="a", query="SELECT 1")
    with pytest.raises(SourceError, match="unsupported database URL scheme 'oracle'"):
        read_database("oracle://u@h/db", table="a")
    with pytest.raises(SourceError, match="more than once"):
        read_database(PG_URL, query="SELECT 1 AS a, 2 AS a")


def test_missing_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(OptionalDependencyError, match="reading PostgreSQL sources") as err:
        read_database(PG_URL, query="SELECT 1")
    assert "pip install 'luopan[db]'" in str(err.value)


# --- MariaDB ---------------------------------------------------------------------------------


def test_mariadb_table_every_type_as_text(my_table: str) -> None:
    tbl = read_database(MY_URL, table=my_table, schema="test")
    assert tbl.column_names == COLUMNS
    flags = {"5118234567890123456": "1", "9223372036854775807": "0", "1": None}  # TINYINT(1)
    expected = [{**row, "is_member": flags[row["id"]]} for row in EXPECTED_COMMON]
    assert _rows(tbl) == sorted(expected, key=lambda r: str(r["id"]))


def test_mariadb_query_source(my_table: str) -> None:
    query = f"""
        SELECT id, customer, amount + 0.01 AS amount, DATE(ordered_at) AS day,
               CAST('-1 2:03:04.5' AS TIME(1)) AS span
        FROM `{my_table}` WHERE customer LIKE '%三' OR note LIKE '%50%'
    """
    tbl = read_database(MY_URL, query=query, batch_rows=1)
    assert tbl.to_pylist() == [
        {
            "id": "5118234567890123456",
            "customer": "张三",
            "amount": "1234.51",
            "day": "2025-11-11",
            "span": "-26:03:04.500000",
        }
    ]


def test_mariadb_query_that_writes_is_refused(my_table: str) -> None:
    fn = f"luopan_fn_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(_driver_url(MY_URL), poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"CREATE FUNCTION {fn}() RETURNS INT MODIFIES SQL DATA "
            f"BEGIN INSERT INTO `{my_table}` (id) VALUES (42); RETURN 1; END"
        )
    try:
        with pytest.raises(SourceError, match="tried to change data"):
            read_database(MY_URL, query=f"SELECT {fn}() AS x")
        with pytest.raises(SourceError, match="single SELECT"):
            read_database(MY_URL, query=f"DROP TABLE `{my_table}`")
        assert read_database(MY_URL, table=my_table).num_rows == 3
    finally:
        _drop(engine, f"DROP FUNCTION {fn}")


def test_mariadb_wrong_password_is_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LUOPAN_TEST_SECRET", "wr0ng@pass/word")
    u = sa.engine.make_url(_driver_url(MY_URL))
    url = f"mariadb://{u.username}:${{LUOPAN_TEST_SECRET}}@{u.host}:{u.port or 3306}/{u.database}"
    with pytest.raises(SourceError) as err:
        read_database(url, query="SELECT 1")
    text = str(err.value)
    assert "Access denied" in text
    assert f"mariadb://{u.username}:***@{u.host}" in text and "wr0ng" not in text
