"""``luopan recommend-eval`` on a transactions file and ``luopan recommend`` on the demo world."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import random_lines
from luopan.cli.main import app


def test_recommend_eval_reports_models_beside_baselines(tmp_path: Path) -> None:
    lines = pd.concat(
        [
            random_lines(s, customers=40).assign(order_id=lambda f, s=s: f"{s}-" + f["order_id"])
            for s in range(3)
        ]
    )
    lines["qty"] = 1
    lines.loc[lines.index[:5], "qty"] = -1  # returns are dropped by --quantity-col
    path = tmp_path / "lines.csv"
    lines.to_csv(path, index=False)
    result = CliRunner().invoke(
        app, ["recommend-eval", str(path), "--cut", "2026-05-01", "--quantity-col", "qty", "--json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert set(doc["new_to_customer"]["models"]) == {
        "popularity",
        "als",
        "bm25_item_knn",
        "discover",
    }
    assert set(doc["repeats_allowed"]["models"]) == {"popularity", "own_history", "als", "reorder"}
    for block in doc.values():
        for scores in block["models"].values():
            assert 0.0 <= scores["precision"] <= 1.0 and 0.0 <= scores["ndcg"] <= 1.0


def test_recommend_eval_names_a_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "lines.csv"
    random_lines(1).drop(columns="order_id").to_csv(path, index=False)
    result = CliRunner().invoke(app, ["recommend-eval", str(path), "--cut", "2026-05-01"])
    assert result.exit_code != 0
    assert "order_id" in str(result.exception)


@pytest.mark.slow
def test_recommend_on_the_demo_workspace(
    demo_world: tuple[Any, dict[str, Any]], tmp_path: Path
) -> None:
    ws, truth = demo_world
    segment = truth["category_affinity"]["segment"]["acquisition_channel"]
    out = tmp_path / "reorder.csv"
    runner = CliRunner()
    result = runner.invoke(app, ["recommend", "-w", str(ws.root), "--segment", segment, "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len({r["customer_id"] for r in rows}) == truth["category_affinity"]["n_customers"]
    assert all(r["why"] for r in rows)
    result = runner.invoke(
        app, ["recommend", "-w", str(ws.root), "--kind", "reorder", "--csv", str(out)]
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, encoding="utf-8-sig")
    # business rules are on by default: promoted items may be lifted (reason on_promotion)
    assert set(table["reason"]) <= {"due_for_reorder", "bought_before", "on_promotion"}
    assert len(table) > 1000 and {"on_promotion", "margin_rate"} <= set(table.columns)
    bad = runner.invoke(app, ["recommend", "-w", str(ws.root), "--kind", "upsell"])
    assert bad.exit_code != 0
