"""One paragraph, in Chinese or English, that explains a localisation to an operations lead.

Pure string building: no IO, no clock. Used by the CLI, the cockpit and the notifications.
"""

from __future__ import annotations

import math

from luopan.engines.rca.model import Cause, Localization

__all__ = ["explain"]

_TEXT = {
    "zh": {
        "rose": "上升",
        "fell": "下降",
        "flat": "基本持平",
        "head": "{kpi}实际为 {real}，预期为 {expected}，{direction} {pct}。",
        "head_flat": "{kpi}实际为 {real}，与预期 {expected} 基本一致，没有需要解释的变化。",
        "cause": "{share} 的变化来自 {element}（该切片实际 {real}，预期 {expected}，{direction} {pct}；置信度 {conf}）",
        "join": "；",
        "end": "。",
        "rest": "其余 {share} 的变化分散在其他切片，没有单一来源。",
        "none": "没有找到能够解释这一变化的维度组合，变化分散在各个切片。",
        "and": " 且 ",
        "kpi": "指标",
    },
    "en": {
        "rose": "up",
        "fell": "down",
        "flat": "flat",
        "head": "{kpi} came in at {real} against {expected} expected, {direction} {pct}.",
        "head_flat": "{kpi} came in at {real}, in line with the {expected} expected; there is no change to explain.",
        "cause": "{share} of the change comes from {element} (actual {real} vs {expected} expected there, {direction} {pct}; confidence {conf})",
        "join": "; ",
        "end": ".",
        "rest": "The remaining {share} is spread over other slices with no single source.",
        "none": "No combination of dimension values explains the change; it is spread over the slices.",
        "and": " × ",
        "kpi": "The KPI",
    },
}


def _number(x: float) -> str:
    if math.isnan(x):
        return "–"
    if x == 0:
        return "0"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 1:
        return f"{x:,.2f}"
    return f"{x:.4f}"


def _pct(x: float) -> str:
    return "–" if math.isnan(x) else f"{abs(x):.1%}"


def _direction(x: float, text: dict[str, str]) -> str:
    if math.isnan(x) or x == 0:
        return text["flat"]
    return text["rose"] if x > 0 else text["fell"]


def _element(cause: Cause, text: dict[str, str], labels: dict[str, str]) -> str:
    return text["and"].join(f"{labels.get(d, d)}={v}" for d, v in cause.conditions)


def explain(
    result: Localization,
    lang: str = "zh",
    *,
    kpi: str | None = None,
    labels: dict[str, str] | None = None,
    max_causes: int = 3,
) -> str:
    """Render one paragraph that says how the KPI moved and which slices moved it.

    Args:
        result: a localisation.
        lang: "zh" or "en".
        kpi: the KPI's display name (default "指标" / "The KPI").
        labels: display names of dimensions (e.g. {"channel": "渠道"}).
        max_causes: causes named in the paragraph (the rest are summed as "other").

    Returns:
        The paragraph.
    """
    text = _TEXT["en" if lang == "en" else "zh"]
    labels = labels or {}
    name = kpi or text["kpi"]
    real, expected = _number(result.real), _number(result.expected)
    if result.change == 0:
        return text["head_flat"].format(kpi=name, real=real, expected=expected)
    parts = [
        text["head"].format(
            kpi=name,
            real=real,
            expected=expected,
            direction=_direction(result.change, text),
            pct=_pct(result.relative_change),
        )
    ]
    shown = result.causes[:max_causes]
    if not shown:
        parts.append(text["none"])
        return ("" if lang != "en" else " ").join(parts)
    clauses = [
        text["cause"].format(
            share=_pct(c.share),
            element=_element(c, text, labels),
            real=_number(c.real),
            expected=_number(c.expected),
            direction=_direction(c.real - c.expected, text),
            pct=_pct(c.relative_change),
            conf=f"{c.confidence:.2f}",
        )
        for c in shown
    ]
    parts.append(text["join"].join(clauses) + text["end"])
    rest = 1.0 - sum(c.share for c in shown)
    if abs(rest) >= 0.05:
        parts.append(text["rest"].format(share=_pct(rest)))
    return (" " if lang == "en" else "").join(parts)
