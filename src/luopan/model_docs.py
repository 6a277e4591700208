"""The documentation page of the canonical model, generated from :mod:`luopan.tables`."""

from __future__ import annotations

from luopan.tables import LINEAGE_COLUMNS, TABLES, duckdb_type

__all__ = ["model_markdown"]


def model_markdown() -> str:
    """The documentation page of the canonical model (docs/canonical-model.md), in zh and en."""
    out = [
        "# 规范数据模型 / Canonical model",
        "",
        "Generated from `luopan/tables.py` by `luopan docs model`; a test keeps it in sync.",
        "由 `luopan/tables.py` 生成；测试保证与代码一致。",
        "",
        "Every table also carries the lineage columns / 每张表都带有血缘列: "
        + ", ".join(f"`{n}` ({zh} / {en})" for n, _, zh, en in LINEAGE_COLUMNS)
        + ".",
        "",
    ]
    for table in TABLES.values():
        core = " · core / 核心表" if table.core else ""
        out += [f"## `{table.name}` — {table.zh} / {table.en}{core}", ""]
        out.append(f"Key / 主键: `{', '.join(table.key)}`")
        for ref in table.references:
            out.append(
                f"References / 引用: `{', '.join(ref.columns)}` → "
                f"`{ref.table}.{', '.join(ref.to_columns)}`"
            )
        out += ["", "| column | type | required | 中文 | English | rule |", "|---|---|---|---|---|---|"]
        for c in table.columns:
            rule = []
            if c.min_value is not None:
                rule.append(f"≥ {c.min_value:g}")
            if c.allowed:
                rule.append("one of " + ", ".join(c.allowed))
            if c.kind == "pii":
                rule.append("hashed at ingest / 入库时哈希")
            out.append(
                f"| `{c.name}` | {c.kind} ({duckdb_type(c.kind)}) | {'yes' if c.required else ''} "
                f"| {c.zh} | {c.en} | {'; '.join(rule)} |"
            )
        out.append("")
    return "\n".join(out)
