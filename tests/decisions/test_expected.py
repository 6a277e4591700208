"""Change rules against the anomaly model's expected value (baseline: expected)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from luopan.decisions.evaluate import evaluate_rule
from luopan.decisions.loop import _expected
from luopan.decisions.rules import Rule

RULE = Rule.model_validate(
    {
        "name": "gmv_vs_expected",
        "label": {"zh": "GMV偏离预期", "en": "GMV off its expected"},
        "metric": "gmv",
        "condition": {"kind": "change", "op": "lt", "value": -0.2, "baseline": "expected"},
        "cooldown": 7,
    }
)


def test_a_drop_against_the_expected_value_fires_once() -> None:
    rng = np.random.default_rng(5)
    days = pd.period_range("2026-03-02", periods=84, freq="D")  # no holiday in these weeks
    weekly = np.array([100, 95, 90, 100, 120, 150, 140], dtype=float)
    value = weekly[np.arange(84) % 7] * (1 + rng.normal(0, 0.02, 84))
    value[70] *= 0.6  # a Sunday-sized day loses 40 %
    series = _expected(pd.DataFrame({"value": value}, index=days))
    assert series["expected"].iloc[:28].isna().all()  # warm-up: not judged
    assert series["expected"].iloc[70] == pytest.approx(weekly[0], rel=0.05)
    (f,) = evaluate_rule(RULE, series)
    assert f.period == days[70] and f.measure < -0.35
