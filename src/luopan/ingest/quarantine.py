"""Quarantine: one record per rejected row and reason, with the file, line, column and fix.

Rows are never dropped silently: every row that does not load (a parse error, a broken
contract, a malformed or truncated line, an exact duplicate counted once) gets a record in the
warehouse ``_quarantine`` table and in ``quarantine/<source>/<batch>.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from luopan.ingest.readers import RawFile
from luopan.ingest.stage import Stage

__all__ = ["FIXES", "QuarantineRow", "quarantine_rows"]

FIXES: dict[str, str] = {
    "bad_number": "write the amount as digits, e.g. 1234.50 (￥, 元 and thousands commas are fine)"
    " / 金额请写成数字，如 1234.50",
    "bad_date": "use a date such as 2025-11-17 08:41:16, 2025/11/17 8:41 or 2025年11月17日"
    " / 请使用标准日期格式",
    "float_id": "export the ID column as text (in Excel, format the column as Text)"
    " / 请将编号列设为文本格式后重新导出",
    "bad_bool": "use 是/否, yes/no, true/false or 1/0 / 请使用 是/否",
    "bad_json": "write valid JSON / 请写成合法的 JSON",
    "unknown_value": "map the value under `values:` for this source in luopan.yaml"
    " / 在 luopan.yaml 该数据源的 values: 下补充取值映射",
    "missing_value": "fill the value in the export, or map another header to this column"
    " / 请补全该值，或在 columns: 中映射其他列",
    "out_of_range": "check the sign and unit of the value / 请检查数值的正负号与单位",
    "future_timestamp": "check the timezone and clock of the exporting system"
    " / 请检查导出系统的时区与时钟",
    "orphan": "load the referenced rows first (e.g. the orders export before its lines)"
    " / 请先导入被引用的数据（如先导入订单再导入明细）",
    "duplicate_key": "keep one row per key in the export; the first row was loaded"
    " / 每个主键只保留一行；已导入第一行",
    "duplicate_row": "nothing to do: exact duplicates are loaded once / 无需处理：完全重复行只计一次",
    "malformed_line": "re-export the file; check for unescaped delimiters or quotes"
    " / 请重新导出文件，检查未转义的分隔符或引号",
    "truncated": "the file ends in the middle of a row: re-export or re-download it"
    " / 文件末行不完整，请重新导出或下载",
}

_NUMERIC = {"int", "decimal", "float"}
_TIME = {"timestamp", "date"}


@dataclass(frozen=True)
class QuarantineRow:
    line: int | None
    table: str | None
    column: str | None
    header: str | None
    value: str | None
    kind: str
    reason: str

    @property
    def fix(self) -> str:
        return FIXES[self.kind]

    def as_row(self) -> list[object]:
        return [
            self.line,
            self.table,
            self.column,
            self.header,
            self.value,
            self.kind,
            self.reason,
            self.fix,
        ]


def _kind(check: str, column_kind: str | None, reason: str) -> str:
    if check.startswith("_e_"):
        if "unknown value" in reason:
            return "unknown_value"
        if column_kind == "id":
            return "float_id"
        if column_kind in _NUMERIC:
            return "bad_number"
        if column_kind in _TIME:
            return "bad_date"
        return {"bool": "bad_bool", "json": "bad_json"}.get(column_kind or "", "unknown_value")
    for prefix, kind in (
        ("_c_req_", "missing_value"),
        ("_c_min_", "out_of_range"),
        ("_c_return", "out_of_range"),
        ("_c_future_", "future_timestamp"),
        ("_c_ref_", "orphan"),
        ("_c_dupkey", "duplicate_key"),
    ):
        if check.startswith(prefix):
            return kind
    raise AssertionError(check)


def quarantine_rows(
    con: duckdb.DuckDBPyConnection,
    raw: RawFile,
    stages: list[Stage],
    duplicates: list[tuple[int, int]],
) -> list[QuarantineRow]:
    """Collect every rejected row with its reason (few rows: this runs in Python)."""
    rows: list[QuarantineRow] = []
    last = con.execute(f"SELECT max(_line) FROM {raw.table}").fetchone()
    last_line = int(last[0]) if last and last[0] is not None else 0
    for rej in raw.rejects:
        kind = "truncated" if rej.line > last_line and "trunc" in rej.reason else "malformed_line"
        rows.append(QuarantineRow(rej.line, None, None, None, rej.raw, kind, rej.reason))
    for line, first in duplicates:
        rows.append(
            QuarantineRow(
                line,
                None,
                None,
                None,
                None,
                "duplicate_row",
                f"exact duplicate of line {first}, loaded once / 与第 {first} 行完全重复，只计一次",
            )
        )
    for stage in stages:
        out = stage.output
        for check, column in stage.error_columns.items():
            pos = out.positions.get(column)
            raw_col = f'r."c{pos}"' if pos is not None else "NULL"
            found = con.execute(
                f"""SELECT s._line, s."{check}", {raw_col} FROM {stage.name} s
                    LEFT JOIN {raw.table} r ON r._line = s._line
                    WHERE s."{check}" IS NOT NULL ORDER BY s._line"""
            ).fetchall()
            ckind = out.table.column(column).kind if out.table.has(column) else None
            header = out.headers[pos] if pos is not None else None
            for line, reason, value in found:
                kind = _kind(check, ckind, reason)
                where = f"column {header!r} → {out.table.name}.{column}" if header else column
                rows.append(
                    QuarantineRow(
                        int(line),
                        out.table.name,
                        column,
                        header,
                        None if value is None else str(value),
                        kind,
                        f"line {line}, {where}: {reason}"
                        + ("" if value is None else f" (value {str(value)[:80]!r})"),
                    )
                )
    rows.sort(key=lambda q: (q.line or 0, q.table or ""))
    return rows
