"""``luopan clv fit`` on a transaction file reproduces the CDNOW figures of FHL (2005)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from luopan.cli.main import app


@pytest.fixture(scope="module")
def cdnow_csv(cdnow_raw: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clv") / "cdnow.csv"
    cdnow_raw[["customer_id", "date", "dollars"]].to_csv(path, index=False)
    return path


def test_clv_fit_json(cdnow_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "predictions.csv"
    result = CliRunner().invoke(
        app,
        [
            "clv",
            "fit",
            "--transactions",
            str(cdnow_csv),
            "--customer-col",
            "customer_id",
            "--date-col",
            "date",
            "--amount-col",
            "dollars",
            "--calibration-end",
            "1997-09-30",
            "--time-unit",
            "week",
            "--json",
            "--output",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    p = doc["bg_nbd"]["params"]
    assert [round(p["r"], 3), round(p["alpha"], 2), round(p["a"], 3), round(p["b"], 2)] == [
        0.243,
        4.41,
        0.793,
        2.43,
    ]
    assert doc["bg_nbd"]["log_likelihood"] == pytest.approx(-9582.43, abs=0.01)
    g = doc["gamma_gamma"]["params"]
    assert [round(g["p"], 2), round(g["q"], 2), round(g["gamma"], 1)] == [6.25, 3.74, 15.4]
    assert doc["gamma_gamma"]["customers"] == 946
    assert doc["holdout"]["actual_total"] == 1882
    assert doc["holdout"]["predicted_total"] == pytest.approx(1653.4, abs=0.1)
    assert doc["customers"] == 2357 and doc["repeat_buyers"] == 946
    predictions = pd.read_csv(out, dtype={"customer": str})
    assert len(predictions) == 2357 and (predictions["clv"] >= 0).all()


def test_clv_fit_gb18030_file_with_chinese_headers(cdnow_raw: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "订单.csv"
    frame = cdnow_raw.rename(columns={"customer_id": "客户", "date": "日期", "dollars": "金额"})
    frame[["客户", "日期", "金额"]].to_csv(path, index=False, encoding="gb18030")
    result = CliRunner(env={"LUOPAN_LANG": "zh", "COLUMNS": "200"}).invoke(
        app,
        [
            "clv",
            "fit",
            "--transactions",
            str(path),
            "--customer-col",
            "客户",
            "--date-col",
            "日期",
            "--amount-col",
            "金额",
            "--calibration-end",
            "1997-09-30",
            "--time-unit",
            "week",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "客户终身价值" in result.output and "留出期" in result.output
    assert "0.2426" in result.output  # r, 4 decimals
    assert "1,882.0" in result.output and "1,653.4" in result.output


def test_clv_fit_names_a_missing_column(cdnow_csv: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "clv",
            "fit",
            "--transactions",
            str(cdnow_csv),
            "--customer-col",
            "cust",
            "--date-col",
            "date",
        ],
    )
    assert result.exit_code != 0
    assert "'cust'" in str(result.exception) and "customer_id" in str(result.exception)
