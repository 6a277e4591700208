"""User-facing labels in zh-CN and en. ``t(key, lang)``; a missing key is a bug (tested)."""

from __future__ import annotations

import os

__all__ = ["LABELS", "language", "t"]

LABELS: dict[str, dict[str, str]] = {
    "table": {"zh": "表", "en": "table"},
    "rows": {"zh": "行数", "en": "rows"},
    "source": {"zh": "数据源", "en": "source"},
    "file": {"zh": "文件", "en": "file"},
    "latest": {"zh": "最新数据时间", "en": "latest data"},
    "age": {"zh": "滞后(小时)", "en": "age (h)"},
    "state": {"zh": "状态", "en": "state"},
    "late": {"zh": "⚠ 迟到", "en": "⚠ late"},
    "fresh": {"zh": "正常", "en": "fresh"},
    "no_data": {"zh": "无数据", "en": "no data"},
    "kind": {"zh": "原因类别", "en": "kind"},
    "loaded": {"zh": "已入库", "en": "loaded"},
    "read": {"zh": "读取", "en": "read"},
    "quarantined": {"zh": "隔离", "en": "quarantined"},
    "duplicates": {"zh": "重复(计一次)", "en": "duplicates (once)"},
    "unchanged": {"zh": "未变化，跳过", "en": "unchanged, skipped"},
    "failed": {"zh": "失败", "en": "failed"},
    "finished": {"zh": "完成时间", "en": "finished"},
    "status_title": {"zh": "罗盘 · 仓库状态", "en": "luopan · warehouse status"},
    "tables_title": {"zh": "数据表", "en": "tables"},
    "freshness_title": {"zh": "数据源新鲜度", "en": "source freshness"},
    "quarantine_title": {"zh": "隔离区", "en": "quarantine"},
    "loads_title": {"zh": "最近入库批次", "en": "recent loads"},
    "ingest_title": {"zh": "入库结果", "en": "ingest results"},
    "workspace": {"zh": "工作区", "en": "workspace"},
    "warehouse": {"zh": "仓库", "en": "warehouse"},
    "ground_truth": {"zh": "真值清单", "en": "ground truth"},
    "generating": {"zh": "生成演示数据", "en": "generating the demo world"},
    "ingesting": {"zh": "导入数据", "en": "ingesting"},
    "preset": {"zh": "预设", "en": "preset"},
    "score": {"zh": "匹配度", "en": "match"},
    "column": {"zh": "规范列", "en": "canonical column"},
    "header": {"zh": "源列名", "en": "source header"},
    "no_preset": {
        "zh": "没有匹配的预设：请在 luopan.yaml 中用 table + columns 写通用映射",
        "en": "no preset matches: declare a generic mapping (table + columns) in luopan.yaml",
    },
    "created": {"zh": "已创建", "en": "created"},
    "customers_created": {"zh": "新建客户", "en": "customers created"},
    "late_warning": {
        "zh": "以下数据源迟到，超过阈值未更新：",
        "en": "these sources are late (no new data within their threshold):",
    },
    "quarantine_hint": {
        "zh": "被隔离的行及原因见",
        "en": "rejected rows and their reasons are in",
    },
    "error": {"zh": "错误", "en": "error"},
    "fix": {"zh": "解决办法", "en": "fix"},
}


def language(preferred: str | None = None) -> str:
    """zh unless LUOPAN_LANG or the workspace says en."""
    lang = os.environ.get("LUOPAN_LANG") or preferred or "zh"
    return "en" if lang.lower().startswith("en") else "zh"


def t(key: str, lang: str = "zh") -> str:
    return LABELS[key]["en" if lang == "en" else "zh"]
