"""The elasticity table of `luopan pricing elasticity`: order, ✓ marks and the caption."""

from __future__ import annotations

import io

import pandas as pd
from pricing_data import price_panel
from rich.console import Console

from luopan.cli.pricing import elasticity_table, select_estimates
from luopan.engines.pricing import estimate_elasticities


def _render(lang: str) -> tuple[str, list[str], list[str], pd.DataFrame]:
    frame, _ = price_panel(n=12, days=300, seed=5, base=30.0)
    frame.loc[frame["unique_id"] == "S000", "price"] = 9.9  # never repriced: no number
    t = estimate_elasticities(frame, calendar="none", cross=False).table
    table = elasticity_table(t, lang)
    buf = io.StringIO()
    Console(file=buf, width=200, force_terminal=False).print(table)
    rows = list(table.columns[0].cells)
    order = t.assign(r=(t["status"] != "ok") * 2 + ((t["status"] == "ok") & ~t["precise"]))
    expected = order.sort_values(["r", "unique_id"], kind="stable")["unique_id"].tolist()
    return buf.getvalue(), rows, expected, t


def test_estimated_skus_come_first_and_the_caption_counts_them() -> None:
    text, rows, expected, t = _render("en")
    assert rows == expected
    assert rows[-1] == "S000"  # the SKU without price variation is last
    ok = int((t["status"] == "ok").sum())
    precise = int(t["precise"].sum())
    assert 0 < precise < ok < len(t)
    assert f"{ok} of {len(t)} estimated, {precise} with a 90% interval within ±0.2" in text
    assert text.count("✓") == precise + 1  # each precise row, and the caption's legend
    zh, _, _, _ = _render("zh")
    assert f"可估计 {ok}/{len(t)}，其中 {precise} 个 90% 区间在 ±0.2 以内" in zh
    assert "价格变动不足" in zh


def test_filters_keep_the_estimated_or_precise_rows_and_the_caption_counts_them_all() -> None:
    _, _, _, t = _render("en")
    ok = t["status"] == "ok"
    est = select_estimates(t, estimated=True)
    assert sorted(est["unique_id"]) == sorted(t.loc[ok, "unique_id"])
    assert "S000" not in set(est["unique_id"])
    pre = select_estimates(t, precise=True)
    assert sorted(pre["unique_id"]) == sorted(t.loc[ok & t["precise"], "unique_id"])
    assert (pre["upper"] - pre["lower"]).max() <= 0.4 + 1e-9  # within ±0.2 of the estimate
    one = select_estimates(t, sku="S000", estimated=True)
    assert one.empty  # S000 has no estimate
    assert select_estimates(t, sku="S000")["unique_id"].tolist() == ["S000"]
    table = elasticity_table(pre, "en", whole=t)
    assert len(table.rows) == len(pre)
    buf = io.StringIO()
    Console(file=buf, width=200, force_terminal=False).print(table)
    assert f"{int(ok.sum())} of {len(t)} estimated, {len(pre)} with a 90%" in buf.getvalue()
