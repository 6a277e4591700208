"""Planted truth in the demo world and the real Breakfast at the Frat scanner data."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from luopan.engines.pricing import backtest_promotions, estimate_elasticities

FRAT = "inventory/dunnhumby_breakfast_at_the_frat_weekly.csv.gz"


@pytest.fixture(scope="module")
def demo_pricing(demo_world):
    from luopan.cli import _pricing_data as data
    from luopan.engines.pricing import PriceRulesFile

    ws, gt = demo_world
    h = data.read_history(ws)
    est = data.elasticities(h, cross=False)
    truth = pd.read_parquet(ws.root / gt["elasticities_file"]).set_index("sku")
    sugg = data.suggestions(h, est, PriceRulesFile(max_step=0.15), objective="profit")
    return est, truth, sugg


def test_demo_elasticities_are_unbiased_and_calibrated(demo_pricing) -> None:
    est, truth, _ = demo_pricing
    t = est.table.set_index("unique_id").join(truth["elasticity"].rename("truth"))
    fit = t[t["units"] >= 20]
    err = fit["raw_elasticity"] - fit["truth"]
    w = 1.0 / fit["raw_se"] ** 2
    # precision-weighted mean error, stock-outs censored, untracked store days censored at the
    # stock floor, store traffic a control (the seed-11 benchmark world: mean error +0.009 over
    # its 135 SKUs with enough variation, +0.024 before traffic was a control)
    assert abs(float((w * err).sum() / w.sum())) < 0.15
    assert (err.abs() <= 1.645 * fit["raw_se"]).mean() >= 0.8  # measured 0.91
    cats = est.categories.set_index("group")
    # pooled random-effects mean −2.77 against a true mean of −2.67
    assert cats.loc["*", "mean"] == pytest.approx(truth["elasticity"].mean(), abs=0.15)
    # no number without enough variation, a number with an interval otherwise
    ok = t["status"] == "ok"
    assert t.loc[~ok, "elasticity"].isna().all()
    assert (t.loc[ok, "lower"] < t.loc[ok, "upper"]).all()
    # "precise" = ok and the 90% interval within ±0.2, decided by the standard error alone
    assert not t.loc[~ok, "precise"].any()
    assert (t.loc[t["precise"], "se"] <= 0.2 / 1.645).all()


def test_demo_suggestions_raise_true_gross_profit_within_the_rules(demo_pricing) -> None:
    _, truth, sugg = demo_pricing
    t = sugg.table.set_index("item_id")
    tr = truth.reindex(t.index)

    def profit(p: pd.Series) -> float:
        units = tr["weight"] * (p / tr["list_price"]) ** tr["elasticity"]
        return float(((p - tr["unit_cost"]) * units).sum())

    gain = profit(t["price"]) / profit(t["current_price"]) - 1
    # the article's +6.3% is met on the seed-11 benchmark world (+7.3%, benchmarks/RESULTS.md);
    # on this 3,000-customer world one SKU has an elasticity of its own (the rest borrow the
    # category's) and the gain measured +6.38% (+6.28% before untracked store days counted)
    assert gain >= 0.06
    assert ((t["price"] >= t["lower_bound"] - 1e-9) & (t["price"] <= t["upper_bound"] + 1e-9)).all()
    assert (t["price"] / t["current_price"] - 1).abs().max() <= 0.15 + 1e-9


@pytest.mark.slow
def test_cli_elasticity_and_promo_simulate(demo_world, tmp_path: Path) -> None:
    from luopan.cli.main import app

    ws, _ = demo_world
    runner = CliRunner()
    r = runner.invoke(
        app, ["pricing", "elasticity", "--sku", "SX00001", "--json", "-w", str(ws.root)]
    )
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)["rows"]
    assert [x["unique_id"] for x in rows] == ["SX00001"]
    assert rows[0]["status"] in ("ok", "insufficient_variation", "insufficient_data")
    r = runner.invoke(app, ["pricing", "elasticity", "--estimated", "--csv", "-w", str(ws.root)])
    assert r.exit_code == 0, r.output
    est = pd.read_csv(io.StringIO(r.output))
    assert len(est) > 0 and (est["status"] == "ok").all()
    assert est["elasticity"].notna().all()
    r = runner.invoke(app, ["pricing", "suggest", "-w", str(ws.root)])
    assert r.exit_code == 0, r.output
    assert "调价建议（目标：毛利）" in r.output  # the objective in the page's language
    counts = re.search(r"共 (\d+) 个商品，(\d+) 个调价", r.output)
    assert counts and 0 < int(counts[2]) <= int(counts[1])
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "name: 零食节\nstart: 2026-11-20\nend: 2026-11-26\nmechanic: feature\n"
        "discount: 0.2\ncategories: [休闲零食]\nbudget: 300\n",
        encoding="utf-8",
    )
    r = runner.invoke(app, ["promo", "simulate", str(plan), "--json", "-w", str(ws.root)])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)["零食节"]
    tot = out["totals"]
    assert tot["incremental_units"]["lower"] <= tot["incremental_units"]["mean"]
    assert tot["incremental_units"]["mean"] > 0
    promoted = [x for x in out["items"] if x["promoted"]]
    assert promoted and all(x["discount"] == 0.2 for x in promoted)


def _frat(shared_data: Path) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    raw = pd.read_csv(shared_data / FRAT, dtype={"store_id": str, "upc_id": str})
    raw = raw[raw["price"] > 0]
    uid = raw["store_id"] + "_" + raw["upc_id"]
    promo = (raw["tpr_only"] == 1) | (raw["feature"] == 1) | (raw["display"] == 1)
    promo |= raw["price"] < 0.95 * raw["base_price"].fillna(raw["price"])
    frame = pd.DataFrame(
        {
            "unique_id": uid,
            "ds": raw["week_end_date"],
            "y": raw["units"],
            "price": raw["price"],
            "base_price": raw["base_price"],
            "feature": raw["feature"],
            "display": raw["display"],
            "promo": promo.astype(int),
        }
    )
    first = raw.assign(uid=uid).drop_duplicates("uid").set_index("uid")
    return frame, first["category"], first["store_id"] + "_" + first["category"]


@pytest.mark.slow
def test_frat_elasticities_and_promotion_backtest(shared_data: Path) -> None:
    frame, groups, markets = _frat(shared_data)
    est = estimate_elasticities(frame, groups=groups, markets=markets, calendar="none")
    s = est.summary()
    assert s["ok"] >= 500
    assert s["share_negative"] >= 0.9
    cats = est.categories.set_index("group")["mean"]
    # the field survey's two-way FE figures: pizza most elastic, pretzels/mouthwash least
    assert cats["PIZZA"] < cats["CEREAL"] < cats["MOUTHWASH"]
    bt = backtest_promotions(
        frame, split=pd.Timestamp("2011-01-05"), groups=groups, markets=markets, cost_share=0.7
    ).summary()
    assert bt["promo_periods"] > 10000
    assert bt["wape_twin"] < bt["wape_uplift"]
    assert bt["sign_accuracy_twin"] >= 0.8
    assert np.isfinite(bt["share_losing"])


@pytest.mark.slow
def test_promo_review_writes_predicted_vs_actual_to_the_decision_log(
    demo_world, tmp_path: Path
) -> None:
    import shutil

    from luopan.cli.main import app
    from luopan.decisions.store import DecisionLog
    from luopan.workspace import Workspace

    ws0, _ = demo_world
    root = tmp_path / "ws"
    shutil.copytree(ws0.root, root, ignore=shutil.ignore_patterns("*.wal", "quarantine"))
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "name: 水果周\ncampaign_id: CP-FRUIT\nstart: 2026-11-02\nend: 2026-11-08\n"
        "discount: 0.15\ncategories: [水果]\nbudget: 200\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    r = runner.invoke(app, ["promo", "simulate", str(plan), "--record", "-w", str(root)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["promo", "review", "CP-FRUIT", "--json", "-w", str(root)])
    assert r.exit_code == 0, r.output
    rows = {x["metric"]: x for x in json.loads(r.output)["rows"]}
    assert set(rows) == {"incremental_units", "incremental_revenue", "incremental_margin"}
    with DecisionLog(Workspace.open(root).metadata_url) as log:
        (action,) = [a for a in log.actions() if a.kind == "promotion"]
        outcomes = log.outcomes(action_id=action.id)
    assert {o.metric for o in outcomes} == set(rows)
    margin = next(o for o in outcomes if o.metric == "incremental_margin")
    assert margin.estimate == pytest.approx(rows["incremental_margin"]["actual"])
    assert margin.detail["predicted"] == pytest.approx(rows["incremental_margin"]["predicted"])
    assert margin.verdict in ("worked", "harmful")
    r = runner.invoke(app, ["promo", "review", "CP-NONE", "-w", str(root)])
    from luopan.errors import DecisionError

    assert isinstance(r.exception, DecisionError) and "CP-NONE" in str(r.exception)
