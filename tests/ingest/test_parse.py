"""Vectorised parsing rules, checked value by value through DuckDB itself."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from luopan.ingest.parse import (
    BAD_BOOL,
    BAD_JSON,
    BAD_NUMBER,
    BAD_TIME,
    FLOAT_ID,
    NOT_WHOLE,
    exact_select,
    hash_expr,
    parse_plan,
)
from luopan.ingest.parse_one import exact_value, parse_value

ID = "5118234567890123456"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (ID, ID),
        (f'="{ID}"', ID),
        (f"\t{ID}", ID),
        (f"'{ID}", ID),
        (f'"{ID}"', ID),
        (f"  {ID} ", ID),
        ("SKU-12.5", "SKU-12.5"),
        ("", None),
        ("-", None),
        (None, None),
    ],
)
def test_id_unwraps_wrappers(raw, expected):
    assert parse_value("id", raw) == (expected, None)


@pytest.mark.parametrize(
    "raw", ["1.23456789012346E+18", "5118000000000000000.0", "5.118e18", "5.118234567890124e+18"]
)
def test_id_that_arrived_as_float_is_rejected(raw):
    assert parse_value("id", raw) == (None, FLOAT_ID)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("￥1,234.50", Decimal("1234.50")),
        ("¥12", Decimal("12.00")),
        ("12元", Decimal("12.00")),
        ("RMB 3.5", Decimal("3.50")),
        ("CNY1,000", Decimal("1000.00")),
        ("(123.45)", Decimal("-123.45")),
        ("-5", Decimal("-5.00")),
        ("-￥12.30", Decimal("-12.30")),
        ("1.005", Decimal("1.01")),  # half up
        ("1.004", Decimal("1.00")),
        (" 1 234.5 ", Decimal("1234.50")),
    ],
)
def test_decimal_values(raw, expected):
    assert parse_value("decimal", raw) == (expected, None)


@pytest.mark.parametrize(
    "raw", ["", "-", "—", "--", "null", "NULL", "None", "无", "无退款申请", "N/A", "  "]
)
def test_null_markers(raw):
    for kind in ("id", "decimal", "int", "float", "bool", "timestamp", "date"):
        assert parse_value(kind, raw) == (None, None), kind


@pytest.mark.parametrize("raw", ["abc", "1.2.3", "12$", "1,2a"])
def test_decimal_errors(raw):
    assert parse_value("decimal", raw) == (None, BAD_NUMBER)


def test_int_and_float():
    assert parse_value("int", "3") == (3, None)
    assert parse_value("int", "3.0") == (3, None)
    assert parse_value("int", "1,000件") == (None, BAD_NUMBER)
    assert parse_value("int", "1,000") == (1000, None)
    assert parse_value("int", "3.5") == (None, NOT_WHOLE)
    assert parse_value("int", "x") == (None, BAD_NUMBER)
    assert parse_value("float", "3.25") == (3.25, None)
    assert parse_value("float", "1e3") == (1000.0, None)
    assert parse_value("float", "x") == (None, BAD_NUMBER)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(v, True) for v in ["1", "true", "TRUE", "yes", "Y", "y", "是"]]
    + [(v, False) for v in ["0", "false", "FALSE", "no", "N", "n", "否"]],
)
def test_bool(raw, expected):
    assert parse_value("bool", raw) == (expected, None)


def test_bool_error():
    assert parse_value("bool", "maybe") == (None, BAD_BOOL)


T = dt.datetime


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-11-17 08:41:16", T(2025, 11, 17, 8, 41, 16)),
        ("2025-11-17 08:41", T(2025, 11, 17, 8, 41)),
        ("2025/11/17 8:41", T(2025, 11, 17, 8, 41)),
        ("2025/1/5 9:05:03", T(2025, 1, 5, 9, 5, 3)),
        ("2025-11-17", T(2025, 11, 17)),
        ("2025/11/17", T(2025, 11, 17)),
        ("2025年11月17日 08:41", T(2025, 11, 17, 8, 41)),
        ("2025年1月5日", T(2025, 1, 5)),
        ("20251117", T(2025, 11, 17)),
        ("2025-11-17T08:41:16", T(2025, 11, 17, 8, 41, 16)),
        ("2025-11-17T08:41:16.250", T(2025, 11, 17, 8, 41, 16, 250000)),
        ("2025-11-17T00:41:16Z", T(2025, 11, 17, 8, 41, 16)),
        ("2025-11-17T08:41:16+08:00", T(2025, 11, 17, 8, 41, 16)),
        ("2025-11-17 01:41:16+0100", T(2025, 11, 17, 8, 41, 16)),
        ("2025-11-16T16:41:16.5-08:00", T(2025, 11, 17, 8, 41, 16, 500000)),
        ("45978.36180555556", T(2025, 11, 17, 8, 41)),
        ("45978", T(2025, 11, 17)),
        ("1", T(1899, 12, 31)),
    ],
)
def test_timestamp_formats(raw, expected):
    assert parse_value("timestamp", raw) == (expected, None)


def test_timestamp_offset_converts_into_workspace_tz():
    assert parse_value("timestamp", "2025-11-17T08:41:16Z", tz="UTC") == (
        T(2025, 11, 17, 8, 41, 16),
        None,
    )
    naive = parse_value("timestamp", "2025-11-17 08:41:16", tz="America/New_York")
    assert naive == (T(2025, 11, 17, 8, 41, 16), None)  # naive stays as written


@pytest.mark.parametrize(
    "raw", ["garbage", "2025-13-01", "2025-02-30", "0", "2958466", "2025-11-17 08:41 junk"]
)
def test_timestamp_errors(raw):
    assert parse_value("timestamp", raw) == (None, BAD_TIME)


def test_date():
    assert parse_value("date", "2025/1/5 9:05:03") == (dt.date(2025, 1, 5), None)
    assert parse_value("date", "45978.36180555556") == (dt.date(2025, 11, 17), None)
    assert parse_value("date", "2025-11-16T23:00:00Z") == (dt.date(2025, 11, 17), None)
    assert parse_value("date", "nope") == (None, BAD_TIME)


def test_json_and_text():
    assert parse_value("json", '{"a": [1]}') == ('{"a": [1]}', None)
    assert parse_value("json", "{a") == (None, BAD_JSON)
    assert parse_value("text", "  hi ") == ("hi", None)
    assert parse_value("pii", " 13812345678 ") == ("13812345678", None)


@pytest.mark.parametrize(
    "raw",
    ["'; DROP TABLE x; --", 'say "hi"', "a\x00b", "x" * 100_000, "好评🎉👍", "=cmd|' /C calc'!A0"],
)
def test_hostile_text_is_kept_verbatim(raw):
    assert parse_value("text", raw) == (raw, None)
    # an ID additionally loses Excel's leading text-apostrophe, as in "'5118…"
    assert parse_value("id", raw)[0] == (raw[1:] if raw.startswith("'") else raw)


def test_only_generated_identifiers_and_valid_zones_reach_sql():
    with pytest.raises(ValueError):
        parse_plan("text", "c0")  # unquoted
    with pytest.raises(ValueError):
        parse_plan("text", '"c0"; DROP TABLE x; --"')
    with pytest.raises(ValueError):
        parse_plan("timestamp", '"c0"', tz="Asia/Shanghai'); DROP TABLE x; --")
    with pytest.raises(ValueError):
        parse_plan("timestamp", '"c0"', tz="Mars/Olympus")
    with pytest.raises(ValueError):
        parse_plan("money", '"c0"')


def test_plans_run_over_a_whole_table():
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE raw AS SELECT * FROM (VALUES (1, '12.5'), (2, '￥1,234.50'), (3, '-'), "
        "(4, 'x'), (5, NULL)) t(_line, c0)"
    )
    plan = parse_plan("decimal", '"c0"')
    fast = con.execute(f"SELECT {plan.fast} FROM {plan.fast_from('raw')} ORDER BY _line").fetchall()
    assert fast == [(Decimal("12.50"),), (Decimal("1234.50"),), (None,), (None,), (None,)]
    exact = exact_select(plan.steps, "SELECT _line, c0 AS _c FROM raw")
    rows = con.execute(f"SELECT _line, _v, _e FROM ({exact}) ORDER BY _line").fetchall()
    assert rows == [
        (1, Decimal("12.50"), None),
        (2, Decimal("1234.50"), None),
        (3, None, None),
        (4, None, BAD_NUMBER),
        (5, None, None),
    ]


@pytest.mark.parametrize("kind", ["timestamp", "date"])
def test_iso_times_with_an_offset_take_the_fast_tier(kind):
    """App exports write ``2026-11-16T00:32:15+08:00``: typed without the exact rules."""
    con = duckdb.connect()
    cells = ["2025-11-17T08:41:16+08:00", "2025-11-17 01:41:16+0100", "2025-11-17T00:41:16Z"]
    plan = parse_plan(kind, '"c0"', tz="Asia/Shanghai")
    fast = [
        con.execute(f"SELECT {plan.fast} FROM (SELECT $c AS c0)", {"c": c}).fetchone()
        for c in cells
    ]
    expected = T(2025, 11, 17, 8, 41, 16) if kind == "timestamp" else dt.date(2025, 11, 17)
    assert fast == [(expected,)] * 3
    assert [exact_value(kind, c) for c in cells] == [(expected, None)] * 3
    # not a date: the fast tier gives NULL and the exact rules give the reason
    bad = con.execute(f"SELECT {plan.fast} FROM (SELECT '2025-02-30T08:41:16+08:00' AS c0)")
    assert bad.fetchone() == (None,)
    assert exact_value(kind, "2025-02-30T08:41:16+08:00") == (None, BAD_TIME)


# Cells built from the characters and fragments real exports mix into typed columns.
_FRAGMENTS = st.sampled_from(
    [
        "0",
        "1",
        "5",
        "9",
        "12",
        "2025",
        "-",
        "+",
        ".",
        ",",
        "e",
        "E",
        "_",
        "x",
        " ",
        "\t",
        "￥",
        "¥",
        "元",
        "(",
        ")",
        "=",
        '"',
        "'",
        ":",
        "/",
        "T",
        "Z",
        "年",
        "月",
        "日",
        "　",
        "null",
        "None",
        "inf",
        "nan",
        "是",
        "yes",
        "{",
        "}",
        "[",
        "]",
        "a",
        "SKU",
        "N/A",
        "—",
    ]
)
_CELLS = st.one_of(
    st.lists(_FRAGMENTS, max_size=8).map("".join),
    st.sampled_from(
        [
            "2025-11-17",
            "2025-11-17 08:41:16",
            "2025-11-17T08:41:16",
            "2025-11-17T08:41+08",
            "2025-11-17T08:41:16+08:00",
            "2025-11-17 08:41:16-0530",
            "2025-11-17T00:41:16Z",
            "2025-02-30T08:41:16+08:00",
            "2025-11-17T08:41:16+99:99",
            "2025-02-30",
            "0012",
            "1e3",
            "1_000",
            "0x1F",
            "5118234567890123456",
            "18446744073709551615",
            "18446744073709551616",
            "+5118234567890123456",
            "5118234567890123456 ",
            "９１２",
            "1.2E+18",
            "12345e67",
            '{"a": 1}',
            "[1, 2]",
        ]
    ),
)


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(["id", "decimal", "int", "float", "bool", "timestamp", "date", "json"]),
    cell=_CELLS,
)
def test_fast_tier_agrees_with_the_exact_rules(kind, cell):
    """Whenever the cheap tier yields a value, the exact rules yield the same value."""
    assert parse_value(kind, cell) == exact_value(kind, cell)


def test_hash_expr_normalises_phones_and_text():
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE raw AS SELECT * FROM (VALUES "
        "('13812345678'), ('+86 138-1234-5678'), ('8613812345678'), ('0086 13812345678'), "
        "(' Zhang@Example.COM '), ('zhang@example.com'), (NULL), ('')) t(c0)"
    )
    expr = hash_expr('"c0"')
    sql = f"SELECT {expr} FROM raw ORDER BY rowid"
    hashes = [h for (h,) in con.execute(sql, {"salt": "s1"}).fetchall()]
    assert len(set(hashes[:4])) == 1
    assert hashes[4] == hashes[5] != hashes[0]
    assert hashes[6] is None and hashes[7] is None
    expected = con.execute("SELECT sha256('s1' || '13812345678')").fetchone()
    assert expected is not None and hashes[0] == expected[0]
    other = con.execute(sql, {"salt": "s2"}).fetchall()
    assert other[0][0] != hashes[0]


@given(
    cents=st.integers(min_value=-(10**14), max_value=10**14),
    yuan_sign=st.sampled_from(["￥", "¥", ""]),
    suffix=st.sampled_from(["", "元", " 元"]),
)
def test_formatted_amounts_round_trip(cents, yuan_sign, suffix):
    value = Decimal(cents).scaleb(-2)
    sign = "-" if value < 0 else ""
    text = f"{sign}{yuan_sign}{abs(value):,.2f}{suffix}"
    assert parse_value("decimal", text) == (value, None)
