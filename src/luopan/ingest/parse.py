"""Typed parsing of raw text columns, as vectorised DuckDB SQL expressions.

``parse_expr(kind, '"c3"')`` returns two SQL expressions over a raw VARCHAR column: the typed value
(NULL for empty cells and null markers such as ``-``/``无``) and a bilingual reason when a present
value cannot be parsed. Ingest runs them over whole tables, so no Python runs per row. Only
generated column identifiers and validated time-zone names are ever written into the SQL text.
"""

from __future__ import annotations

import re
import threading
import zoneinfo
from dataclasses import dataclass
from typing import Any

import duckdb

__all__ = ["KINDS", "ParseExpr", "hash_expr", "parse_expr", "parse_value"]

KINDS = ("id", "text", "pii", "decimal", "int", "float", "bool", "timestamp", "date", "json")

NULL_MARKERS = ("", "-", "—", "--", "null", "NULL", "None", "无", "无退款申请", "N/A")

BAD_NUMBER = "bad number / 数字格式错误"
NOT_WHOLE = "not a whole number / 不是整数"
BAD_BOOL = "bad yes/no value / 是否值格式错误"
BAD_TIME = "bad date/time / 日期时间格式错误"
BAD_JSON = "bad JSON / JSON 格式错误"
FLOAT_ID = (
    "ID arrived as a number and lost digits; export IDs as text / 编号被当成数字导出，请以文本导出"
)

_IDENT = re.compile(r'"[A-Za-z_][A-Za-z0-9_]*"')
_TZ = re.compile(r"[A-Za-z][A-Za-z0-9_+\-/]*")
# Spaces, tab, CR, LF, ideographic space U+3000, no-break space U+00A0.
_WS = "' ' || chr(9) || chr(10) || chr(13) || chr(12288) || chr(160)"
_NUMBER_RE = r"'[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?'"
_TRUE = "('1', 'true', 't', 'yes', 'y', '是', '真', '对')"
_FALSE = "('0', 'false', 'f', 'no', 'n', '否', '假', '错')"
_EXCEL_MAX_SERIAL = 2958465  # 9999-12-31


@dataclass(frozen=True)
class ParseExpr:
    """SQL for one parsed column: ``value`` is the typed value, ``error`` the reason or NULL."""

    value: str
    error: str


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _check_ident(col: str) -> None:
    if not _IDENT.fullmatch(col):
        raise ValueError(f"not a generated, quoted column identifier: {col!r}")


def _check_tz(tz: str) -> str:
    if not _TZ.fullmatch(tz):
        raise ValueError(f"not a time-zone name: {tz!r}")
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {tz!r}; use an IANA name such as Asia/Shanghai"
        ) from None
    return tz


def _trimmed(col: str) -> str:
    return f"trim({col}, {_WS})"


def _nulled(col: str) -> str:
    """Trimmed text, NULL for empty cells and null markers."""
    markers = ", ".join(_sql_str(m) for m in NULL_MARKERS)
    return f"(CASE WHEN {_trimmed(col)} IN ({markers}) THEN NULL ELSE {_trimmed(col)} END)"


def _with_error(value: str, present: str, reason: str) -> ParseExpr:
    return ParseExpr(
        value=value,
        error=f"(CASE WHEN {present} IS NOT NULL AND {value} IS NULL THEN {_sql_str(reason)} END)",
    )


def _numeric_text(col: str) -> str:
    """Strip currency signs, units, thousands separators and spaces; (x) becomes -x."""
    stripped = (
        f"regexp_replace({_nulled(col)}, "
        r"'[￥¥元,，\s\x{3000}]|(?i:rmb|cny)', '', 'g')"
    )
    return f"regexp_replace({stripped}, '^[(（](.*)[)）]$', '-\\1')"


def _id(col: str) -> ParseExpr:
    text = _nulled(col)
    unwrapped = f"regexp_replace({text}, '^[\\t'']+', '')"
    unwrapped = f"regexp_replace({unwrapped}, '(?s)^=\"(.*)\"$', '\\1')"
    unwrapped = f"trim(regexp_replace({unwrapped}, '(?s)^\"(.*)\"$', '\\1'), {_WS})"
    floaty = (
        f"(regexp_full_match({unwrapped}, '[+-]?[0-9]+(\\.[0-9]+)?[eE][+-]?[0-9]+') "
        f"OR regexp_full_match({unwrapped}, '[+-]?[0-9]+\\.0+'))"
    )
    value = f"(CASE WHEN {floaty} THEN NULL ELSE nullif({unwrapped}, '') END)"
    return ParseExpr(value=value, error=f"(CASE WHEN {floaty} THEN {_sql_str(FLOAT_ID)} END)")


def _text(col: str) -> ParseExpr:
    return ParseExpr(value=f"nullif({_trimmed(col)}, '')", error="CAST(NULL AS VARCHAR)")


def _decimal(col: str) -> ParseExpr:
    num = _numeric_text(col)
    value = (
        f"(CASE WHEN regexp_full_match({num}, {_NUMBER_RE}) "
        f"THEN try_cast({num} AS DECIMAL(18,2)) END)"
    )
    return _with_error(value, _nulled(col), BAD_NUMBER)


def _int(col: str) -> ParseExpr:
    num = _numeric_text(col)
    whole = f"regexp_full_match({num}, '[+-]?[0-9]+(\\.0*)?')"
    value = f"(CASE WHEN {whole} THEN try_cast(regexp_replace({num}, '\\.0*$', '') AS BIGINT) END)"
    fraction = f"regexp_full_match({num}, '[+-]?[0-9]*\\.[0-9]+')"
    error = (
        f"(CASE WHEN {_nulled(col)} IS NOT NULL AND {value} IS NULL THEN "
        f"CASE WHEN {fraction} THEN {_sql_str(NOT_WHOLE)} ELSE {_sql_str(BAD_NUMBER)} END END)"
    )
    return ParseExpr(value=value, error=error)


def _float(col: str) -> ParseExpr:
    num = _numeric_text(col)
    value = f"(CASE WHEN regexp_full_match({num}, {_NUMBER_RE}) THEN try_cast({num} AS DOUBLE) END)"
    return _with_error(value, _nulled(col), BAD_NUMBER)


def _bool(col: str) -> ParseExpr:
    low = f"lower({_nulled(col)})"
    value = f"(CASE WHEN {low} IN {_TRUE} THEN true WHEN {low} IN {_FALSE} THEN false END)"
    return _with_error(value, _nulled(col), BAD_BOOL)


def _timestamp_value(col: str, tz: str) -> str:
    raw = _nulled(col)
    # 2025/1/5, 2025年1月5日 08:41, 2025-11-17T08:41 → DuckDB's lenient ISO-like form.
    norm = f"replace(replace(replace({raw}, '/', '-'), '年', '-'), '月', '-')"
    norm = f"trim(regexp_replace(replace({norm}, '日', ' '), '\\s+', ' ', 'g'))"
    offset = (
        f"regexp_matches({norm}, "
        "'[0-9]:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)? ?([zZ]|[+-][0-9]{2}(:?[0-9]{2})?)$')"
    )
    serial = f"try_cast({raw} AS DOUBLE)"
    return (
        "(CASE "
        f"WHEN regexp_full_match({raw}, '[0-9]{{1,7}}(\\.[0-9]+)?') THEN "
        f"CASE WHEN {serial} BETWEEN 1 AND {_EXCEL_MAX_SERIAL} THEN "
        f"TIMESTAMP '1899-12-30' + to_milliseconds(round({serial} * 86400000.0)) END "
        f"WHEN regexp_full_match({raw}, '[0-9]{{8}}') THEN try_strptime({raw}, '%Y%m%d') "
        f"WHEN {offset} THEN timezone({_sql_str(tz)}, try_cast({norm} AS TIMESTAMPTZ)) "
        f"ELSE try_cast({norm} AS TIMESTAMP) END)"
    )


def _timestamp(col: str, tz: str) -> ParseExpr:
    return _with_error(_timestamp_value(col, tz), _nulled(col), BAD_TIME)


def _date(col: str, tz: str) -> ParseExpr:
    value = f"CAST({_timestamp_value(col, tz)} AS DATE)"
    return _with_error(value, _nulled(col), BAD_TIME)


def _json(col: str) -> ParseExpr:
    text = f"nullif({_trimmed(col)}, '')"
    return ParseExpr(
        value=f"(CASE WHEN json_valid({text}) THEN {text} END)",
        error=f"(CASE WHEN {text} IS NOT NULL AND NOT json_valid({text}) "
        f"THEN {_sql_str(BAD_JSON)} END)",
    )


def parse_expr(kind: str, col: str, *, tz: str = "Asia/Shanghai") -> ParseExpr:
    """SQL expressions that parse raw text column ``col`` (a generated quoted identifier).

    Args:
        kind: a column kind of the canonical model (see ``luopan.tables``).
        col: an internal identifier such as ``"c3"``; anything else is refused.
        tz: workspace time zone; timestamps with an offset are converted into it.

    Raises:
        ValueError: unknown kind, a column that is not a generated identifier, or a bad tz.
    """
    _check_ident(col)
    if kind in ("id",):
        return _id(col)
    if kind in ("text", "pii"):
        return _text(col)
    if kind == "decimal":
        return _decimal(col)
    if kind == "int":
        return _int(col)
    if kind == "float":
        return _float(col)
    if kind == "bool":
        return _bool(col)
    if kind == "timestamp":
        return _timestamp(col, _check_tz(tz))
    if kind == "date":
        return _date(col, _check_tz(tz))
    if kind == "json":
        return _json(col)
    raise ValueError(f"unknown column kind {kind!r}; expected one of {', '.join(KINDS)}")


def hash_expr(col: str) -> str:
    """SQL for ``sha256($salt || normalised value)``; the caller binds the ``salt`` parameter.

    Phone numbers lose every non-digit and a leading +86/0086/86 country code; other values are
    trimmed and lower-cased, so the same person hashes alike across platforms. NULL stays NULL.
    """
    _check_ident(col)
    text = f"nullif({_trimmed(col)}, '')"
    digits = f"regexp_replace({text}, '[^0-9]', '', 'g')"
    phone = f"regexp_full_match({text}, '\\+?[0-9][0-9 ()\\-]{{5,}}[0-9]')"
    normalised = (
        "(CASE "
        f"WHEN {phone} AND (starts_with({text}, '+86') OR starts_with({text}, '0086')) "
        f"THEN regexp_replace({digits}, '^(0086|86)', '') "
        f"WHEN {phone} THEN regexp_replace({digits}, '^86(1[0-9]{{10}})$', '\\1') "
        f"ELSE lower({text}) END)"
    )
    return f"sha256($salt || {normalised})"


_LOCK = threading.Lock()
_CON: duckdb.DuckDBPyConnection | None = None


def parse_value(
    kind: str, text: str | None, *, tz: str = "Asia/Shanghai"
) -> tuple[Any, str | None]:
    """Parse one raw value with the same SQL as ingest; returns ``(value, error)``."""
    global _CON
    expr = parse_expr(kind, '"c0"', tz=tz)
    sql = f'SELECT {expr.value}, {expr.error} FROM (SELECT CAST($v AS VARCHAR) AS "c0")'
    with _LOCK:
        if _CON is None:
            _CON = duckdb.connect()
        row = _CON.execute(sql, {"v": text}).fetchone()
    assert row is not None
    return row[0], row[1]
