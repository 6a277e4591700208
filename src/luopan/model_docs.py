"""Reference pages generated from the models: the canonical model, config keys, rules, metrics.

Each page is the output of one function, printed by ``luopan docs model|config|rules|metrics``
and committed under ``docs/``; tests fail when a committed page differs from its generator, and
when a key, rule type or metric has no text in one of the two languages (datasette's pattern:
the declaration is the documentation). Config keys and rule types are read from the pydantic
models' JSON Schema; their zh/en text lives in :mod:`luopan.model_docs_text`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from luopan.model_docs_text import ENUMS, KEYS, PAGES, UNITS_EN
from luopan.tables import LINEAGE_COLUMNS, TABLES, duckdb_type

__all__ = [
    "config_keys",
    "config_markdown",
    "enum_values",
    "metrics_markdown",
    "model_markdown",
    "rules_markdown",
    "undocumented",
]


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
        for key, column in table.join_keys:
            out.append(
                f"Join key / 关联键: `{key}` BIGINT, written at ingest from `{column}` (DuckDB "
                f"`hash` >> 1, one-to-one, checked per load) / 入库时由 `{column}` 生成"
                "（DuckDB `hash` 右移一位，逐批校验一一对应）"
            )
        for number, column in table.dense_keys:
            out.append(
                f"Dense number / 稠密编号: `{number}` INTEGER, written at ingest: one number "
                f"0, 1, 2, … per distinct `{column}`, kept across loads (gaps allowed), packed "
                f"by the funnel engine into its sort keys / 入库时为每个不同的 `{column}` "
                "分配一个从 0 起的整数编号，跨批次不变（允许空号），漏斗引擎用它拼接排序键"
            )
        out += [
            "",
            "| column | type | required | 中文 | English | rule |",
            "|---|---|---|---|---|---|",
        ]
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


# ------------------------------------------------------------------ config files (JSON Schema)


def _files() -> list[tuple[str, type[BaseModel]]]:
    from luopan.config import WorkspaceConfig
    from luopan.decisions.rules import RuleSet
    from luopan.notify.config import NotifyConfig

    return [
        ("luopan.yaml", WorkspaceConfig),
        ("notify.yaml", NotifyConfig),
        ("rules/*.yaml", RuleSet),
    ]


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    return defs[ref.rsplit("/", 1)[-1]] if ref else node


def _type(node: dict[str, Any], defs: dict[str, Any]) -> str:
    node = _resolve(node, defs)
    if "const" in node:
        return f"`{node['const']}`"
    if "enum" in node:
        return " \\| ".join(f"`{v}`" for v in node["enum"])
    if "anyOf" in node:
        kinds = [_type(n, defs) for n in node["anyOf"] if n.get("type") != "null"]
        return " \\| ".join(dict.fromkeys(kinds))
    kind = node.get("type", "object")
    if kind == "array":
        return f"list[{_type(node.get('items', {}), defs)}]"
    if kind == "object" and "additionalProperties" in node and node["additionalProperties"]:
        inner = node["additionalProperties"]
        return f"map[{_type(inner, defs) if isinstance(inner, dict) else 'any'}]"
    if kind == "object" and "title" in node:
        return "mapping"
    return {
        "string": "text",
        "number": "number",
        "integer": "integer",
        "boolean": "true/false",
    }.get(kind, kind)


def _walk(
    node: dict[str, Any], defs: dict[str, Any], prefix: str
) -> Iterator[tuple[str, dict[str, Any], bool]]:
    """(path, schema, required) of every key below an object schema, depth first."""
    node = _resolve(node, defs)
    required = set(node.get("required", ()))
    for key, sub in node.get("properties", {}).items():
        path = f"{prefix}{key}"
        yield path, sub, key in required
        yield from _children(sub, defs, path)


def _children(
    sub: dict[str, Any], defs: dict[str, Any], path: str
) -> Iterator[tuple[str, dict[str, Any], bool]]:
    target = _resolve(sub, defs)
    options = [n for n in target.get("anyOf", []) if n.get("type") != "null"]
    if len(options) == 1 and "$ref" in options[0]:
        target = _resolve(options[0], defs)
    if target.get("type") == "array" and isinstance(target.get("items"), dict):
        item = _resolve(target["items"], defs)
        if item.get("properties"):
            yield from _walk(item, defs, f"{path}[].")
    elif isinstance(target.get("additionalProperties"), dict):
        inner = target["additionalProperties"]
        variants = inner.get("oneOf") or inner.get("anyOf")
        label = "<column>" if path.endswith("columns") else "<name>"
        if variants:  # a discriminated union: one block of keys per type
            for variant in variants:
                v = _resolve(variant, defs)
                kind = v["properties"]["type"]["const"]
                yield from _walk(v, defs, f"{path}.{label}[{kind}].")
        elif _resolve(inner, defs).get("properties"):
            yield from _walk(inner, defs, f"{path}.{label}.")
    elif target.get("properties"):
        yield from _walk(target, defs, f"{path}.")


def config_keys() -> list[tuple[str, str, dict[str, Any], bool]]:
    """(file, key path, JSON Schema, required) of every key of every config file."""
    out = []
    for file, model in _files():
        schema = model.model_json_schema()
        defs = schema.get("$defs", {})
        out += [(file, path, sub, req) for path, sub, req in _walk(schema, defs, "")]
    return out


def _generic(path: str) -> str:
    """The type-free form of a key inside a union: ``channels.<name>[wecom].x`` → ``….<name>.x``."""
    return re.sub(r"\[[a-z_]+\]", "", path)


def _text(file: str, path: str) -> tuple[str, str] | None:
    return KEYS.get(f"{file}:{path}") or KEYS.get(f"{file}:{_generic(path)}")


def enum_values() -> list[tuple[str, str]]:
    """(file:key, value) of every fixed value a rule or config key accepts."""
    out = []
    for file, path, sub, _ in config_keys():
        node = sub if "enum" in sub else next((n for n in sub.get("anyOf", []) if "enum" in n), {})
        out += [(f"{file}:{path}", str(v)) for v in node.get("enum", ())]
    return out


def _enum_text(key: str) -> dict[str, tuple[str, str]]:
    return ENUMS.get(key) or ENUMS.get(_generic(key)) or {}


def undocumented() -> list[str]:
    """Keys and values without text in both languages, and texts for keys that do not exist."""
    missing = []
    known = set()
    for file, path, _, _ in config_keys():
        known |= {f"{file}:{path}", f"{file}:{_generic(path)}"}
        text = _text(file, path)
        if text is None or not all(s.strip() for s in text):
            missing.append(f"{file}: {path}")
    for key, value in enum_values():
        text = _enum_text(key).get(value)
        if text is None or not all(s.strip() for s in text):
            missing.append(f"{key} = {value}")
    missing += [f"stale text: {k}" for k in (*KEYS, *ENUMS) if k not in known]
    return missing


def _default(sub: dict[str, Any], required: bool) -> str:
    if required or "default" not in sub:
        return ""
    value = sub["default"]
    if value in (None, [], {}):
        return ""
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, list):
        return (
            "`"
            + ", ".join(str(v.get("kind", v)) if isinstance(v, dict) else str(v) for v in value)
            + "`"
        )
    return f"`{value}`"


def config_markdown(lang: str, *, rules: bool = False) -> str:
    """The reference of every key of luopan.yaml and notify.yaml (or of rules files), in ``lang``."""
    page = PAGES["rules" if rules else "config"][lang]
    out = [f"# {page['title']}", "", page["intro"], ""]
    head = PAGES["columns"][lang]
    for file, _ in _files():
        if (file == "rules/*.yaml") != rules:
            continue
        out += [f"## `{file}`", "", PAGES["files"][lang][file], ""]
        out += ["| " + " | ".join(head) + " |", "|---|---|---|---|---|"]
        defs = _defs(file)
        for f, path, sub, req in config_keys():
            if f != file:
                continue
            text = _text(file, path)
            desc = (text[0] if lang == "zh" else text[1]) if text else ""
            values = _enum_text(f"{file}:{path}")
            if values:
                desc += "<br>" + "<br>".join(
                    f"`{v}`: {t[0] if lang == 'zh' else t[1]}" for v, t in values.items()
                )
            yes = PAGES["yes"][lang] if req else ""
            out.append(f"| `{path}` | {_type(sub, defs)} | {_default(sub, req)} | {yes} | {desc} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _defs(file: str) -> dict[str, Any]:
    model = dict(_files())[file]
    return dict(model.model_json_schema().get("$defs", {}))


def rules_markdown(lang: str) -> str:
    """The reference of rules files: every key, condition kind, operator, baseline and action."""
    return config_markdown(lang, rules=True)


# ------------------------------------------------------------------ metrics


def _condition(c: Any) -> str:
    if c.all is not None:
        return "(" + " and ".join(_condition(x) for x in c.all) + ")"
    if c.any is not None:
        return "(" + " or ".join(_condition(x) for x in c.any) + ")"
    if c.not_ is not None:
        return f"not {_condition(c.not_)}"
    value = "" if c.value is None else f" {c.value}".replace("'", "")
    return f"{c.field} {c.op}{value}"


def _number(v: float) -> str:
    return f"{v:,.0f}" if v >= 1000 and v == int(v) else f"{v:g}"


def _definition(m: Any) -> str:
    if m.type == "simple":
        where = " and ".join(_condition(c) for c in m.filter)
        return f"{m.agg}({m.expr or '*'}) · {m.model}" + (f" · where {where}" if where else "")
    if m.type == "ratio":
        return f"{m.numerator} / {m.denominator}"
    if m.type == "derived":
        return f"{m.expr} ({', '.join(i.name for i in m.input_metrics)})"
    if m.type == "cumulative":
        return f"cumulative {m.input_metric}" + (f" · {m.window}" if m.window else "")
    c = m.conversion
    return f"{c.conversion_metric} / {c.base_metric} · {c.window}" if c else m.type


def metrics_markdown(lang: str) -> str:
    """Every metric of the shipped catalog: labels, description, unit, perspective, definition."""
    from luopan.metrics.catalog import default_catalog

    page = PAGES["metrics"][lang]
    catalog = default_catalog()
    out = [f"# {page['title']}", "", page["intro"], ""]
    for perspective, title in PAGES["perspectives"][lang].items():
        metrics = [m for m in catalog.metrics.values() if m.meta.perspective == perspective]
        if not metrics:
            continue
        out += [
            f"## {title}",
            "",
            "| " + " | ".join(page["columns"]) + " |",
            "|---|---|---|---|---|---|---|",
        ]
        for m in metrics:
            other = m.meta.label.en if lang == "zh" else m.meta.label.zh
            star = " ★" if m.meta.north_star else ""
            desc = m.meta.description.get(lang) if m.meta.description else page["building_block"]
            targets = ", ".join(f"{g} {_number(v)}" for g, v in m.meta.targets.items())
            unit = m.meta.unit if lang == "zh" else UNITS_EN.get(m.meta.unit, m.meta.unit)
            card = page["scorecard"] if m.meta.scorecard else ""
            cells = [
                f"`{m.name}`{star}",
                f"{m.meta.label.get(lang)} ({other})",
                desc,
                unit,
                card,
                f"`{_definition(m)}`",
                targets,
            ]
            out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"
