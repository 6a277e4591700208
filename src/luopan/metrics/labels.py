"""zh/en labels and value formatting of the metric system (shared by the CLI and the cockpit)."""

from __future__ import annotations

import math

from luopan.metrics.spec import Metric

__all__ = ["LABELS", "STATUS_STYLE", "definition", "format_value", "label", "sparkline"]

LABELS: dict[str, dict[str, str]] = {
    "metric": {"zh": "指标", "en": "metric"},
    "label": {"zh": "名称", "en": "label"},
    "type": {"zh": "类型", "en": "type"},
    "unit": {"zh": "单位", "en": "unit"},
    "perspective": {"zh": "平衡计分卡维度", "en": "perspective"},
    "direction": {"zh": "方向", "en": "direction"},
    "higher": {"zh": "越高越好", "en": "higher is better"},
    "lower": {"zh": "越低越好", "en": "lower is better"},
    "financial": {"zh": "财务", "en": "financial"},
    "customer": {"zh": "客户", "en": "customer"},
    "internal_process": {"zh": "内部流程", "en": "internal process"},
    "learning_growth": {"zh": "学习与成长", "en": "learning & growth"},
    "catalog_title": {"zh": "指标目录", "en": "metric catalog"},
    "period": {"zh": "周期", "en": "period"},
    "value": {"zh": "数值", "en": "value"},
    "compare_value": {"zh": "对比值", "en": "compared with"},
    "change": {"zh": "变化", "en": "change"},
    "change_pct": {"zh": "变化率", "en": "change %"},
    "actual": {"zh": "实际", "en": "actual"},
    "target": {"zh": "目标", "en": "target"},
    "status": {"zh": "状态", "en": "status"},
    "trend": {"zh": "趋势", "en": "trend"},
    "previous": {"zh": "上期", "en": "previous"},
    "green": {"zh": "● 达标", "en": "● on target"},
    "amber": {"zh": "● 预警", "en": "● at risk"},
    "red": {"zh": "● 未达标", "en": "● off target"},
    "none": {"zh": "—", "en": "—"},
    "scorecard_title": {"zh": "平衡计分卡", "en": "balanced scorecard"},
    "north_star": {"zh": "北极星指标", "en": "north star"},
    "tree_title": {"zh": "指标树归因", "en": "metric tree attribution"},
    "baseline": {"zh": "基期", "en": "baseline"},
    "contribution": {"zh": "贡献", "en": "contribution"},
    "share": {"zh": "占总变化", "en": "share of change"},
    "method": {"zh": "方法", "en": "method"},
    "check_ok": {"zh": "通过", "en": "pass"},
    "check_fail": {"zh": "未通过", "en": "fail"},
    "catalog_ok": {"zh": "目录校验通过，指标数", "en": "catalog valid, metrics"},
    "unavailable": {"zh": "暂无数据", "en": "unavailable"},
    "owner": {"zh": "负责人", "en": "owner"},
    "definition": {"zh": "定义", "en": "definition"},
}
STATUS_STYLE = {"green": "green", "amber": "yellow", "red": "red", "none": "dim"}
_BARS = "▁▂▃▄▅▆▇█"


def label(key: str, lang: str) -> str:
    """The zh or en label of ``key``."""
    return LABELS[key]["en" if lang == "en" else "zh"]


def sparkline(values: list[float] | tuple[float, ...]) -> str:
    """Unicode sparkline of a series (gaps for missing values)."""
    finite = [v for v in values if not math.isnan(v)]
    if not finite:
        return ""
    lo, hi = min(finite), max(finite)
    span = hi - lo or 1.0
    return "".join(" " if math.isnan(v) else _BARS[int((v - lo) / span * 7)] for v in values)


def format_value(value: float | None, m: Metric) -> str:
    """A metric value as people read it: percent, money with thousands, integers."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if m.meta.format == "percent":
        return f"{value * 100:,.1f}%"
    if m.meta.format == "integer":
        return f"{value:,.0f}"
    if m.meta.format == "money":
        return f"¥{value:,.2f}"
    return f"{value:,.2f}"


def definition(m: Metric) -> str:
    """A one-line definition of a metric, for people."""
    if m.type == "simple":
        return f"{m.agg}({m.expr or '*'}) on {m.model}" + (" [filtered]" if m.filter else "")
    if m.type == "ratio":
        return f"{m.numerator} / {m.denominator}"
    if m.type == "derived":
        ins = ", ".join(
            f"{i.ref}={i.name}" + (f" -{i.offset_window}" if i.offset_window else "")
            for i in m.input_metrics
        )
        return f"{m.expr} ({ins})"
    if m.type == "cumulative":
        return f"{m.input_metric} over {m.window or f'{m.grain_to_date} to date'}"
    assert m.conversion is not None
    c = m.conversion
    return f"{c.base_metric} → {c.conversion_metric} by {c.entity} within {c.window}"
