"""Typed parsing of raw text columns, as vectorised DuckDB SQL expressions.

``parse_plan(kind, '"c3"')`` returns the SQL that types a raw VARCHAR column, in two tiers: a
cheap expression for well-formed cells and exact steps giving the typed value (NULL for empty
cells and null markers such as ``-``/``无``) and a bilingual reason when a present value cannot be
parsed (:mod:`luopan.ingest.parse_one` applies them to single values). Ingest runs them over whole tables, so no Python runs per row. Only
generated column identifiers and validated time-zone names are ever written into the SQL text.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass

__all__ = [
    "KINDS",
    "ParsePlan",
    "exact_select",
    "hash_expr",
    "parse_plan",
    "with_pre",
]

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
class ParsePlan:
    """How one raw text column becomes a typed value, in two tiers.

    ``fast`` is cheap SQL over the raw column (casts and a few string tests, no regular
    expressions on the common path) that yields the typed value for well-formed cells and NULL
    otherwise. ``steps`` is the exact rule set, as ``(name, SQL)`` pairs evaluated in order over
    a relation with the raw cell ``_c``; each step may use earlier names; the last two are
    ``_v`` (typed value) and ``_e`` (reason, or NULL). Ingest runs ``fast`` over every row and
    the steps only over the rows where ``fast`` gave NULL for a present cell, so exotic formats
    cost nothing when absent. Invariant (property-tested): whenever ``fast`` is not NULL it
    equals the exact value.
    """

    fast: str
    steps: tuple[tuple[str, str], ...]
    #: (name, SQL over the raw column) computed one projection below ``fast``, which reads them
    #: by name: a value ``fast`` both tests and returns is then computed once per row (DuckDB
    #: evaluates an expression repeated inside a CASE once per mention).
    pre: tuple[tuple[str, str], ...] = ()

    def fast_from(self, relation: str) -> str:
        """A FROM item: ``relation`` (raw cells) with the ``pre`` columns ``fast`` reads."""
        return with_pre(relation, self.pre)

    @property
    def exact_only(self) -> bool:
        """True when ``fast`` already is the exact rule (nothing to repair)."""
        return not self.steps


def with_pre(relation: str, pre: tuple[tuple[str, str], ...]) -> str:
    """A FROM item: ``relation`` with the ``pre`` columns (name, SQL) of one or more plans."""
    if not pre:
        return relation
    cols = ", ".join(f'{sql} AS "{name}"' for name, sql in pre)
    return f"(SELECT *, {cols} FROM {relation})"


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


_MARKERS = ", ".join(_sql_str(m) for m in NULL_MARKERS)
# The null markers a plain code could be (the only ones the id fast tier needs to test).
_PLAIN_MARKERS = ", ".join(
    _sql_str(m) for m in NULL_MARKERS if re.fullmatch(r"[0-9A-Za-z][0-9A-Za-z_:/#-]*", m)
)
# Steps shared by most kinds: trimmed text, then NULL for empty cells and null markers.
_NULLED = (
    ("_t", f"trim(_c, {_WS})"),
    ("_n", f"CASE WHEN _t IN ({_MARKERS}) THEN NULL ELSE _t END"),
)
# Currency signs, units, thousands separators and spaces go; (x) becomes -x.
_NUMERIC = (
    ("_s", r"regexp_replace(_n, '[￥¥元,，\s\x{3000}]|(?i:rmb|cny)', '', 'g')"),
    ("_num", "regexp_replace(_s, '^[(（](.*)[)）]$', '-\\1')"),
)


def _error(reason: str, present: str = "_n") -> tuple[str, str]:
    return ("_e", f"CASE WHEN {present} IS NOT NULL AND _v IS NULL THEN {_sql_str(reason)} END")


def _id(col: str) -> ParsePlan:
    # Fast: a plain code (letters, digits, _:/#-) that is not a null marker and cannot be a
    # number in scientific notation; everything else (wrappers, spaces, dots) takes the rules.
    plain = f"regexp_full_match({col}, '[0-9A-Za-z][0-9A-Za-z_:/#-]*')"
    sci = f"((contains({col}, 'e') OR contains({col}, 'E')) AND regexp_full_match({col}, '[0-9]+[eE]-?[0-9]+'))"
    # Numeric order ids (most of them) skip the regular expression: a string starting with
    # 1-9 that prints back as itself from UBIGINT is all digits, so plain and not scientific.
    # (The first-character test keeps failing casts, which are slow, off letter codes.)
    digits = (
        f"({col} >= '1' AND {col} < ':' AND CAST(try_cast({col} AS UBIGINT) AS VARCHAR) = {col})"
    )
    fast = (
        f"(CASE WHEN {digits} THEN {col} "
        f"WHEN {plain} THEN CASE WHEN {col} IN ({_PLAIN_MARKERS}) OR {sci} THEN NULL "
        f"ELSE {col} END END)"
    )
    floaty = (
        "(regexp_full_match(_u, '[+-]?[0-9]+(\\.[0-9]+)?[eE][+-]?[0-9]+') "
        "OR regexp_full_match(_u, '[+-]?[0-9]+\\.0+'))"
    )
    steps = (
        *_NULLED,
        ("_u1", "regexp_replace(_n, '^[\\t'']+', '')"),
        ("_u2", "regexp_replace(_u1, '(?s)^=\"(.*)\"$', '\\1')"),
        ("_u", f"trim(regexp_replace(_u2, '(?s)^\"(.*)\"$', '\\1'), {_WS})"),
        ("_f", floaty),
        ("_v", "CASE WHEN _f THEN NULL ELSE nullif(_u, '') END"),
        ("_e", f"CASE WHEN _f THEN {_sql_str(FLOAT_ID)} END"),
    )
    return ParsePlan(fast, steps)


def _text(col: str) -> ParsePlan:
    return ParsePlan(f"nullif(trim({col}, {_WS}), '')", ())


def _decimal(col: str) -> ParsePlan:
    # Plain numbers cast directly; "￥1,234.50" (which DuckDB does not cast) loses its sign and
    # commas first: the second ``coalesce`` argument runs only where the plain cast failed.
    # DuckDB reads 1_000 as 1000, so an underscore takes the rules. A bare sign with trailing
    # spaces casts to 0 in DuckDB, so a zero must show a digit 0. The cast is a ``pre`` column,
    # computed once per row although the CASE tests and returns it.
    name = _pre_name("d", col)
    cast = (
        f"coalesce(try_cast({col} AS DECIMAL(18,2)), "
        f"CASE WHEN contains({col}, '￥') OR contains({col}, ',') "
        f"THEN try_cast(replace(replace({col}, '￥', ''), ',', '') AS DECIMAL(18,2)) END)"
    )
    fast = (
        f"(CASE WHEN contains({col}, '_') THEN NULL "
        f'WHEN "{name}" <> 0 OR contains({col}, \'0\') THEN "{name}" END)'
    )
    steps = (
        *_NULLED,
        *_NUMERIC,
        (
            "_v",
            f"CASE WHEN regexp_full_match(_num, {_NUMBER_RE}) "
            "THEN try_cast(_num AS DECIMAL(18,2)) END",
        ),
        _error(BAD_NUMBER),
    )
    return ParsePlan(fast, steps, ((name, cast),))


def _pre_name(prefix: str, col: str) -> str:
    """Name of a ``pre`` column for raw column ``col`` (a quoted identifier such as "c4")."""
    return f"_{prefix}_{col.strip(chr(34))}"


def _int(col: str) -> ParsePlan:
    # A canonical integer (what str(int) prints) parses as itself; anything else takes the rules.
    fast = f"(CASE WHEN CAST(try_cast({col} AS BIGINT) AS VARCHAR) = {col} THEN try_cast({col} AS BIGINT) END)"
    steps = (
        *_NULLED,
        *_NUMERIC,
        (
            "_v",
            "CASE WHEN regexp_full_match(_num, '[+-]?[0-9]+(\\.0*)?') "
            "THEN try_cast(regexp_replace(_num, '\\.0*$', '') AS BIGINT) END",
        ),
        (
            "_e",
            "CASE WHEN _n IS NOT NULL AND _v IS NULL THEN "
            "CASE WHEN regexp_full_match(_num, '[+-]?[0-9]*\\.[0-9]+') "
            f"THEN {_sql_str(NOT_WHOLE)} ELSE {_sql_str(BAD_NUMBER)} END END",
        ),
    )
    return ParsePlan(fast, steps)


def _float(col: str) -> ParsePlan:
    fast = f"(CASE WHEN regexp_full_match({col}, {_NUMBER_RE}) THEN try_cast({col} AS DOUBLE) END)"
    steps = (
        *_NULLED,
        *_NUMERIC,
        (
            "_v",
            f"CASE WHEN regexp_full_match(_num, {_NUMBER_RE}) THEN try_cast(_num AS DOUBLE) END",
        ),
        _error(BAD_NUMBER),
    )
    return ParsePlan(fast, steps)


def _bool(col: str) -> ParsePlan:
    fast = f"(CASE WHEN {col} IN {_TRUE} THEN true WHEN {col} IN {_FALSE} THEN false END)"
    steps = (
        *_NULLED,
        ("_l", "lower(_n)"),
        ("_v", f"CASE WHEN _l IN {_TRUE} THEN true WHEN _l IN {_FALSE} THEN false END"),
        _error(BAD_BOOL),
    )
    return ParsePlan(fast, steps)


def _timestamp_steps(tz: str) -> tuple[tuple[str, str], ...]:
    # 2025/1/5, 2025年1月5日 08:41, 2025-11-17T08:41 → DuckDB's lenient ISO-like form.
    offset = (
        "regexp_matches(_norm, "
        "'[0-9]:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)? ?([zZ]|[+-][0-9]{2}(:?[0-9]{2})?)$')"
    )
    return (
        *_NULLED,
        ("_d", "replace(replace(replace(replace(_n, '/', '-'), '年', '-'), '月', '-'), '日', ' ')"),
        ("_norm", "trim(regexp_replace(_d, '\\s+', ' ', 'g'))"),
        (
            "_ts",
            "CASE "
            "WHEN regexp_full_match(_n, '[0-9]{1,7}(\\.[0-9]+)?') THEN "
            f"CASE WHEN try_cast(_n AS DOUBLE) BETWEEN 1 AND {_EXCEL_MAX_SERIAL} THEN "
            "TIMESTAMP '1899-12-30' + to_milliseconds(round(try_cast(_n AS DOUBLE) * 86400000.0)) END "
            "WHEN regexp_full_match(_n, '[0-9]{8}') THEN try_strptime(_n, '%Y%m%d') "
            f"WHEN {offset} THEN timezone({_sql_str(tz)}, try_cast(_norm AS TIMESTAMPTZ)) "
            "ELSE try_cast(_norm AS TIMESTAMP) END",
        ),
    )


_D2 = "[0-9][0-9]"
_ZONED = f"{_D2}{_D2}-{_D2}-{_D2}[T ]{_D2}:{_D2}:{_D2}"


def _iso(col: str, tz: str) -> tuple[str, str, str, str]:
    """Tests for the ISO shapes the fast path takes: date only, date-time, and date-time with
    a UTC offset or Z as app exports write it (``2026-11-16T00:32:15+08:00``); and the value of
    the last, converted into the workspace zone by the very expression the exact rules use for
    such a cell (all digits: trimming and normalising leave it as it is). GLOB, not a regex:
    cheap per row ('-' in a GLOB bracket is a range, so each sign is spelled out)."""
    day = f"{col} LIKE '____-__-__'"
    moment = f"({col} LIKE '____-__-__ __:__:__' OR {col} LIKE '____-__-__T__:__:__')"
    shapes = [f"{_ZONED}{sign}{_D2}{sep}{_D2}" for sign in "+-" for sep in (":", "")]
    zoned = "(" + " OR ".join(f"{col} GLOB '{g}'" for g in (*shapes, f"{_ZONED}Z")) + ")"
    return day, moment, zoned, f"timezone({_sql_str(tz)}, try_cast({col} AS TIMESTAMPTZ))"


def _timestamp(col: str, tz: str) -> ParsePlan:
    day, moment, zoned, local = _iso(col, tz)
    fast = f"(CASE WHEN {moment} OR {day} THEN try_cast({col} AS TIMESTAMP) "
    fast += f"WHEN {zoned} THEN {local} END)"
    return ParsePlan(fast, (*_timestamp_steps(tz), ("_v", "_ts"), _error(BAD_TIME)))


def _date(col: str, tz: str) -> ParsePlan:
    day, moment, zoned, local = _iso(col, tz)
    fast = (
        f"(CASE WHEN {day} THEN try_cast({col} AS DATE) "
        f"WHEN {moment} THEN CAST(try_cast({col} AS TIMESTAMP) AS DATE) "
        f"WHEN {zoned} THEN CAST({local} AS DATE) END)"
    )
    steps = (*_timestamp_steps(tz), ("_v", "CAST(_ts AS DATE)"), _error(BAD_TIME))
    return ParsePlan(fast, steps)


def _json(col: str) -> ParsePlan:
    framed = (
        f"((starts_with({col}, '{{') AND ends_with({col}, '}}')) "
        f"OR (starts_with({col}, '[') AND ends_with({col}, ']')))"
    )
    fast = f"(CASE WHEN {framed} AND json_valid({col}) THEN {col} END)"
    steps = (
        ("_n", f"nullif(trim(_c, {_WS}), '')"),
        ("_v", "CASE WHEN json_valid(_n) THEN _n END"),
        _error(BAD_JSON),
    )
    return ParsePlan(fast, steps)


def parse_plan(kind: str, col: str, *, tz: str = "Asia/Shanghai") -> ParsePlan:
    """The two-tier parsing rules for raw text column ``col`` (a generated quoted identifier).

    Args:
        kind: a column kind of the canonical model (see ``luopan.tables``); ``pii`` parses as
            text (hashing is separate, see :func:`hash_expr`).
        col: an internal identifier such as ``"c3"``; anything else is refused.
        tz: workspace time zone; timestamps with an offset are converted into it.

    Raises:
        ValueError: unknown kind, a column that is not a generated identifier, or a bad tz.
    """
    _check_ident(col)
    if kind == "id":
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


def exact_select(steps: tuple[tuple[str, str], ...], source: str) -> str:
    """SELECT ``_line, _v, _e`` applying ``steps`` to ``source`` (a query with ``_line, _c``).

    Each step is its own projection level, so every intermediate is computed once per row
    (a single nested expression would repeat the inner calls at every use).
    """
    query = source
    for name, expr in steps:
        query = f"SELECT *, {expr} AS {name} FROM ({query})"
    return f"SELECT _line, _v, _e FROM ({query})"


def hash_expr(col: str) -> str:
    """SQL for ``sha256($salt || normalised value)``; the caller binds the ``salt`` parameter.

    Phone numbers lose every non-digit and a leading +86/0086/86 country code; other values are
    trimmed and lower-cased, so the same person hashes alike across platforms. NULL stays NULL.
    """
    _check_ident(col)
    text = f"nullif(trim({col}, {_WS}), '')"
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
