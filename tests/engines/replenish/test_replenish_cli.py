"""``luopan replenish plan|backtest`` and ``luopan forecast`` on a small sales file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from luopan.cli.main import app, main


@pytest.fixture()
def sales_file(tmp_path: Path) -> Path:
    rng = np.random.default_rng(4)
    days = pd.date_range("2025-01-01", periods=80)
    rows = [
        {"日期": d.strftime("%Y-%m-%d"), "store_id": s, "sku": k, "quantity": int(rng.poisson(mu))}
        for s in ("S1", "S2")
        for k, mu in (("A", 8.0), ("B", 2.0))
        for d in days
    ]
    path = tmp_path / "sales.csv"
    pd.DataFrame(rows).to_csv(path, index=False, encoding="gb18030")
    return path


def test_plan_json_orders_the_gap_to_the_order_up_to_level(
    sales_file: Path, tmp_path: Path
) -> None:
    stock = tmp_path / "stock.csv"
    pd.DataFrame(
        {
            "store_id": ["S1", "S1", "S2", "S2"],
            "sku": ["A", "B", "A", "B"],
            "on_hand": [100.0, 0.0, 3.0, 1.0],
        }
    ).to_csv(stock, index=False)
    res = CliRunner().invoke(
        app,
        [
            "replenish",
            "plan",
            str(sales_file),
            "--date-col",
            "日期",
            "--stock",
            str(stock),
            "--date",
            "2025-03-22",
            "--pack-size",
            "1",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    rows = {r["unique_id"]: r for r in out["rows"]}
    assert rows["S1_A"]["order_qty"] == 0 and rows["S1_A"]["reason"] == "overstock"
    # two days of mean ~8 at the 95% level, 3 on hand
    assert 14 <= rows["S2_A"]["order_qty"] <= 24
    assert all(r["order_qty"] == int(r["order_qty"]) for r in out["rows"])
    assert out["summary"]["to_order"] == 3


def test_forecast_and_backtest_commands(sales_file: Path) -> None:
    res = CliRunner().invoke(
        app,
        [
            "forecast",
            str(sales_file),
            "--date-col",
            "日期",
            "--sku",
            "A",
            "--horizon",
            "5",
            "--csv",
        ],
    )
    assert res.exit_code == 0, res.output
    fc = pd.read_csv(pd.io.common.StringIO(res.output))
    assert len(fc) == 10 and set(fc["unique_id"]) == {"S1_A", "S2_A"}
    assert fc["mean"].between(6.5, 9.5).all()
    res = CliRunner().invoke(
        app,
        ["replenish", "backtest", str(sales_file), "--date-col", "日期", "--days", "14", "--json"],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert {r["policy"] for r in out["rows"]} == {"forecast", "forecast_buffer", "naive"}


def test_missing_column_error_names_the_fix(
    sales_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["replenish", "plan", str(sales_file)])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert "date" in err and "--date-col" in err
