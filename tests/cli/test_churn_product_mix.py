"""The workspace's churn paths feed the order lines' SKUs to the churn model's product mix.

``luopan customers churn|recall``, the API's recall list (in a store scope) and the playbooks'
recall lists read the warehouse's order lines as SKU line counts per customer and day (counted
in DuckDB) and pass them to ``ChurnModel`` as ``lines``: the scores must be those of the engine
called directly on one row per order line with its ``item`` (read here with plain SQL), and
not those of the model without items. On the fixture world (seed 7, 3,000 customers; 66,298
purchase lines of 3,449 buyers, 66,215 customer × day × SKU counts) the mix moves P(churn) by
up to 0.06 (measured 2026-12-03).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from luopan.cli.main import app
from luopan.engines.customers.churn import ChurnModel

pytestmark = pytest.mark.slow  # the demo_world fixture ingests a world

STORE = "S001"

# the purchases of ``luopan customers``: orders with a customer and a net amount above zero
_PAID = (
    "o.customer_id IS NOT NULL "
    "AND coalesce(o.paid_amount, 0) - coalesce(o.refund_amount, 0) > 0 "
    "AND (CAST(? AS VARCHAR) IS NULL OR o.store_id = ?)"
)


def _read(ws: Any, store: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(occasions per customer and day, one row per purchase line with its SKU as ``item``)."""
    con = duckdb.connect(str(ws.warehouse_path), read_only=True)
    try:
        occ = con.execute(
            "SELECT o.customer_id AS customer, CAST(o.ordered_at AS DATE) AS day, "
            "sum(coalesce(o.paid_amount, 0) - coalesce(o.refund_amount, 0)) AS amount "
            f"FROM orders o WHERE {_PAID} GROUP BY 1, 2",
            [store, store],
        ).df()
        lines = con.execute(
            "SELECT o.customer_id AS customer, CAST(o.ordered_at AS DATE) AS day, "
            "l.sku AS item, o.order_id, l.line_no FROM order_lines l "
            f"JOIN orders o ON l.order_id = o.order_id WHERE {_PAID} AND l.sku IS NOT NULL",
            [store, store],
        ).df()
    finally:
        con.close()
    occ["day"] = pd.to_datetime(occ["day"])
    lines["day"] = pd.to_datetime(lines["day"])
    # the item vocabulary follows the rows' order: time order, as the workspace reads them
    lines = lines.sort_values(["day", "customer", "item", "order_id", "line_no"])
    occ = occ.sort_values(["customer", "day"]).reset_index(drop=True)
    return occ, lines[["customer", "day", "item"]].reset_index(drop=True)


def _engine(occ: pd.DataFrame, lines: pd.DataFrame | None) -> pd.Series:
    as_of = pd.Timestamp(occ["day"].max())
    model = ChurnModel().fit(occ, as_of, lines)
    return model.predict_frame(occ, as_of, lines)["p_churn"]


@pytest.fixture(scope="module")
def reference(demo_world: Any) -> dict[str, Any]:
    ws, _ = demo_world
    occ, lines = _read(ws)
    return {"lines": lines, "with": _engine(occ, lines), "without": _engine(occ, None)}


def test_the_mix_changes_the_scores(reference: dict[str, Any]) -> None:
    lines = reference["lines"]
    assert len(lines) == 66_298 and lines["customer"].nunique() == 3_449
    with_mix, without = reference["with"], reference["without"]
    assert with_mix.index.equals(without.index)
    diff = (with_mix - without).abs()
    assert diff.max() > 0.03 and diff.mean() > 0.002  # measured 0.0589 and 0.0048


def test_cli_churn_uses_the_order_lines(demo_world: Any, tmp_path: Path, reference: Any) -> None:
    ws, _ = demo_world
    out = tmp_path / "churn.csv"
    result = CliRunner().invoke(
        app, ["customers", "churn", "-w", str(ws.root), "--csv", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(out, dtype={"customer": str}, encoding="utf-8-sig")
    got = scored.set_index("customer")["p_churn"].sort_index()
    expected = reference["with"].sort_index()
    assert got.index.equals(expected.index)
    # the same model; the occasions' row order (DuckDB's group-by order) moves the fits by
    # float rounding only (measured up to 2.6e-11)
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=0, atol=1e-9)
    assert np.abs(got.to_numpy() - reference["without"].sort_index().to_numpy()).max() > 0.03


def test_cli_churn_ranks_the_customers_still_within_reach(demo_world: Any, tmp_path: Path) -> None:
    ws, _ = demo_world
    out = tmp_path / "all.csv"
    args = ["customers", "churn", "-w", str(ws.root), "--csv", str(out), "--json"]
    result = CliRunner().invoke(app, [*args, "--top", "50", "--active-days", "90"])
    assert result.exit_code == 0, result.output
    shown = pd.DataFrame(json.loads(result.output))
    every = pd.read_csv(out, dtype={"customer": str}, encoding="utf-8-sig")
    assert len(every) > 3000 and (every["recency"] > 90).sum() > 100  # the CSV keeps everyone
    want = every[every["recency"] <= 90].sort_values("p_churn", ascending=False, kind="stable")
    assert len(shown) == 50 and (shown["recency"] <= 90).all()
    np.testing.assert_allclose(shown["p_churn"], want["p_churn"].head(50), rtol=0, atol=1e-9)
    result = CliRunner().invoke(app, [*args, "--top", "50", "--active-days", "0"])
    assert (pd.DataFrame(json.loads(result.output))["recency"] > 90).any()


def test_cli_recall_uses_the_order_lines(demo_world: Any, reference: Any) -> None:
    ws, _ = demo_world
    result = CliRunner().invoke(
        app, ["customers", "recall", "-w", str(ws.root), "--json", "--top", "100000"]
    )
    assert result.exit_code == 0, result.output
    rows = pd.DataFrame(json.loads(result.output)).set_index("customer")
    assert len(rows) > 500
    expected = reference["with"].reindex(rows.index)
    np.testing.assert_allclose(rows["p_churn"], expected, rtol=0, atol=1e-9)  # JSON: 10 digits


def test_cli_recall_table_keeps_the_columns_to_act_on_when_narrow(
    demo_world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rich.cells import cell_len

    from luopan.cli.clv import console

    ws, _ = demo_world
    args = ["customers", "recall", "-w", str(ws.root), "--top", "3"]
    seen = {}
    for width in (80, 150):
        monkeypatch.setattr(console, "width", width)
        r = CliRunner().invoke(app, args)
        assert r.exit_code == 0, r.output
        seen[width] = r.output
    narrow, wide = seen[80], seen[150]
    assert "首推商品" in narrow and "预期挽回价值" in narrow
    assert "CLV(折现)" not in narrow and "未显示 CLV 与建议权益列" in narrow
    assert "CLV(折现)" in wide and "建议权益" in wide and "未显示" not in wide
    assert max(cell_len(line) for line in narrow.splitlines()) <= 80  # terminal cells


def test_playbook_recall_scores_use_the_order_lines(demo_world: Any, reference: Any) -> None:
    from luopan.decisions.act import _scores

    ws, _ = demo_world
    table = _scores(ws, 45)
    expected = reference["with"].reindex(table.index)
    assert expected.notna().all()
    # the same occasions and lines; the playbooks' integer customer codes order the rows
    # differently, which moves the iterative fits by float rounding only (measured 7.7e-08
    # and 1.06e-06 on two machines), far below what the product mix moves (> 0.03)
    np.testing.assert_allclose(table["p_churn"], expected, rtol=0, atol=1e-4)
    without = reference["without"].reindex(table.index)
    assert np.abs(table["p_churn"].to_numpy() - without.to_numpy()).max() > 0.03


def test_api_recall_in_a_store_scope_uses_that_stores_lines(
    demo_world: Any, tmp_path: Path
) -> None:
    from luopan.api.principal import Principal
    from luopan.api.routes.customers import purchase_items, recall_table
    from luopan.api.services import Services
    from luopan.workspace import Workspace

    ws0, _ = demo_world
    root = tmp_path / "world"  # Services writes its snapshots and metadata next to the data
    shutil.copytree(ws0.root, root)
    occ, lines = _read(ws0, STORE)
    svc = Services(Workspace.open(root))
    try:
        p = Principal("analyst_s1", "analyst", stores=frozenset({STORE}))
        items = purchase_items(svc, p)
        counts = lines.groupby(["customer", "day", "item"], as_index=False).size()
        got = items.astype({"item": str}).sort_values(["customer", "day", "item"])
        assert got["lines"].sum() == len(lines) and len(got) == len(counts)
        assert (got[["customer", "day", "item"]].to_numpy() == counts.iloc[:, :3].to_numpy()).all()
        assert (got["lines"].to_numpy() == counts["size"].to_numpy()).all()
        table = recall_table(
            svc, p, horizon_days=45, p_respond=0.2, contact_cost=0.5, holdout_share=0.2, seed=0
        ).set_index("customer_id")
    finally:
        svc.close()
    expected = _engine(occ, lines).reindex(table.index)
    assert len(table) > 50 and expected.notna().all()  # only the store's buyers
    np.testing.assert_allclose(table["p_churn"], expected, rtol=0, atol=1e-9)
