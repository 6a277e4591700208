"""The sorted-key proof of uniqueness used before the hash grouping (checks.keys_increase)."""

from __future__ import annotations

import duckdb
import pytest

from luopan.ingest import checks as checks_mod
from luopan.ingest.checks import keys_increase


def _table(rows: list[tuple[str | None, int | None]]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")  # as on the warehouse connection
    con.execute("CREATE TEMP TABLE x (a VARCHAR, b BIGINT)")
    if rows:
        con.executemany("INSERT INTO x VALUES (?, ?)", rows)
    return con


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([], True),
        ([("1", 1)], True),
        ([("1", 1), ("1", 2), ("2", 1)], True),
        ([("1", 1), ("1", 1)], False),  # an exact repeat
        ([("1", 1), ("1", 2), ("1", 2)], False),  # a repeat at the end
        ([("2", 1), ("1", 1)], False),  # unique but descending: the grouping decides
        ([(None, 1), ("1", 1)], False),  # NULL key parts never prove anything
        ([("1", 1), (None, 2)], False),
        ([("1", None), ("1", None)], False),
    ],
)
def test_keys_increase(rows, expected):
    con = _table(rows)
    assert keys_increase(con, "x", ("a", "b")) is expected
    # the setting the pass needs is restored
    assert con.execute("SELECT current_setting('preserve_insertion_order')").fetchone() == (False,)


def test_a_repeat_after_the_probed_rows_is_found(monkeypatch):
    monkeypatch.setattr(checks_mod, "_PROBE_ROWS", 100)
    rows = [(f"{i:06d}", 1) for i in range(1000)]
    assert keys_increase(_table(rows), "x", ("a", "b")) is True
    rows.insert(600, rows[599])  # sorted, but one key twice, past the probe
    assert keys_increase(_table(rows), "x", ("a", "b")) is False


def test_single_column_key_over_a_large_table_in_stored_order():
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = true")
    con.execute(
        "CREATE TEMP TABLE x AS SELECT 'O' || lpad(i::VARCHAR, 8, '0') AS a FROM range(300000) t(i)"
    )
    con.execute("SET preserve_insertion_order = false")
    assert keys_increase(con, "x", ("a",)) is True
    con.execute("INSERT INTO x VALUES ('O00150000')")
    assert keys_increase(con, "x", ("a",)) is False
