"""The zh/en paragraph renders the figures of the result it explains, and nothing else."""

from __future__ import annotations

import pandas as pd

from luopan.engines.rca import Cause, Localization, explain, localize


def gmv_drop() -> Localization:
    """The issue's own example: GMV fell 18% week on week; 72% of the fall is Douyin × 华东."""
    return Localization(
        kind="additive",
        dimensions=("channel", "region"),
        real=820_000.0,
        expected=1_000_000.0,
        causes=(
            Cause(
                conditions=(("channel", "抖音"), ("region", "华东")),
                real=70_400.0,
                expected=200_000.0,
                contribution=-129_600.0,
                share=0.72,
                confidence=0.93,
                leaves=12,
            ),
        ),
        residual=-50_400.0,
        leaves=120,
    )


def test_chinese_paragraph() -> None:
    text = explain(gmv_drop(), "zh", kpi="GMV", labels={"channel": "渠道", "region": "区域"})
    assert text.startswith("GMV实际为 820,000，预期为 1,000,000，下降 18.0%。")
    assert "72.0% 的变化来自 渠道=抖音 且 区域=华东" in text
    assert "该切片实际 70,400，预期 200,000，下降 64.8%；置信度 0.93" in text
    assert "其余 28.0% 的变化分散在其他切片" in text


def test_english_paragraph() -> None:
    text = explain(gmv_drop(), "en", kpi="GMV")
    assert text.startswith("GMV came in at 820,000 against 1,000,000 expected, down 18.0%.")
    assert "72.0% of the change comes from channel=抖音 × region=华东" in text
    assert "(actual 70,400 vs 200,000 expected there, down 64.8%; confidence 0.93)" in text
    assert text.endswith("The remaining 28.0% is spread over other slices with no single source.")


def test_flat_and_unexplained() -> None:
    frame = pd.DataFrame({"a": ["x", "y"], "real": [5.0, 5.0], "predict": [5.0, 5.0]})
    flat = localize(frame)
    assert "no change to explain" in explain(flat, "en")
    assert "没有需要解释的变化" in explain(flat, "zh")
    spread = Localization(
        kind="ratio",
        dimensions=("a",),
        real=0.9,
        expected=0.95,
        causes=(),
        residual=-0.05,
        leaves=4,
    )
    assert "No combination of dimension values explains the change" in explain(spread, "en")
    assert "没有找到能够解释这一变化的维度组合" in explain(spread, "zh")
