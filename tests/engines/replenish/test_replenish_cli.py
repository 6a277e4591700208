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


def promo_workspace(root: Path) -> tuple[Path, Path, list[pd.Timestamp]]:
    """A sales file where promotions triple the units, and a workspace whose warehouse holds
    the national price list (promotions at −30%, two of them planned after the last sale),
    the product master and a store campaign: (sales file, workspace, planned promo days)."""
    import duckdb

    from helpers import make_workspace

    rng = np.random.default_rng(5)
    days = pd.date_range("2026-01-01", periods=84)
    ahead = pd.date_range(days[-1] + pd.Timedelta(days=1), periods=7)
    skus = [f"K{i}" for i in range(8)]
    promo = {k: set() for k in skus}
    for k in skus:
        for s in rng.choice(len(days) - 2, size=5, replace=False):
            promo[k].update(days[s : s + 2])
    planned = [ahead[2], ahead[3]]
    promo["K0"].update(planned)
    promo["K1"].update(planned)
    sales = [
        {
            "date": d.strftime("%Y-%m-%d"),
            "store_id": st,
            "sku": k,
            "quantity": int(rng.poisson(4.0 * (3.0 if d in promo[k] else 1.0))),
        }
        for st in ("S1", "S2")
        for k in skus
        for d in days
    ]
    path = root / "sales.csv"
    pd.DataFrame(sales).to_csv(path, index=False)
    ws = make_workspace(root / "ws", [])
    con = duckdb.connect(str(ws.warehouse_path))
    prices = pd.DataFrame(
        [
            {
                "date": d.date(),
                "sku": k,
                "store_id": "ALL",
                "price": 7.0 if d in promo[k] else 10.0,
                "is_promo": d in promo[k],
            }
            for k in skus
            for d in days.append(ahead)
        ]
    )
    products = pd.DataFrame({"sku": skus, "list_price": 10.0})
    campaigns = pd.DataFrame(
        {
            "campaign_id": ["C1"],
            "channel": ["store"],
            "start_date": [days[10].date()],
            "end_date": [days[20].date()],
        }
    )
    orders = pd.DataFrame({"order_id": ["o1"], "store_id": ["S1"], "channel": ["store"]})
    for name, frame in (
        ("prices", prices),
        ("products", products),
        ("campaigns", campaigns),
        ("orders", orders),
    ):
        con.register("f", frame)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM f")
        con.unregister("f")
    con.close()
    return path, ws.root, planned


def test_forecast_with_exog_reads_the_warehouse_calendar_and_lifts_planned_promo_days(
    tmp_path: Path,
) -> None:
    sales, ws, planned = promo_workspace(tmp_path)
    base = ["forecast", str(sales), "--horizon", "7", "--json", "-w", str(ws)]
    on = CliRunner().invoke(app, [*base, "--exog"])
    assert on.exit_code == 0, on.output
    off = CliRunner().invoke(app, base)
    assert off.exit_code == 0, off.output
    got, plain = json.loads(on.output), json.loads(off.output)
    assert got["exog"] == ["price", "discount", "promo", "activity_flag"]
    assert plain["exog"] == []
    assert any("GlobalGBM" in r["model"] for r in got["rows"])
    assert not any("GlobalGBM" in r["model"] for r in plain["rows"])
    days = {d.strftime("%Y-%m-%d") for d in planned}

    def promo_units(out: dict) -> float:
        return sum(
            r["mean"]
            for r in out["rows"]
            if r["ds"][:10] in days and r["unique_id"].split("_")[1] in ("K0", "K1")
        )

    # 2 stores × 2 SKUs × 2 planned days at ~12 a day against ~4 without a promotion
    assert promo_units(got) > 1.25 * promo_units(plain)


def test_exog_without_a_warehouse_says_how_to_fix_it(
    sales_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from helpers import make_workspace

    ws = make_workspace(tmp_path / "empty", [])
    with pytest.raises(SystemExit) as exc:
        main(["forecast", str(sales_file), "--date-col", "日期", "--exog", "-w", str(ws.root)])
    assert exc.value.code == 1
    assert "luopan ingest" in capsys.readouterr().err
