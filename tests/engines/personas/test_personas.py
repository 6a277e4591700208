"""Personas: lift and z against statsmodels, partition identities, the demo world's planted
category affinity, and every trait recomputed independently in pandas."""

from __future__ import annotations

import json
from typing import Any

import hypothesis.strategies as st
import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from statsmodels.stats.proportion import proportions_ztest
from typer.testing import CliRunner

from luopan.engines.anomaly.calendar import shopping_festivals
from luopan.engines.personas import TRAITS, customer_traits, persona_profiles
from luopan.errors import ConfigError, DataContractError, SourceError


def _frame(values: dict[str, list[Any]]) -> pd.DataFrame:
    n = len(next(iter(values.values())))
    out = pd.DataFrame({t: [None] * n for t in TRAITS}, index=[f"c{i}" for i in range(n)])
    for k, v in values.items():
        out[k] = v
    out["orders"] = 1
    out["spend"] = 10.0
    return out


def test_lift_and_z_match_statsmodels() -> None:
    # 40 customers in segment A (30 of them gender=F), 60 in B (18 F)
    gender = ["F"] * 30 + ["M"] * 10 + ["F"] * 18 + ["M"] * 42
    seg = pd.Series(["A"] * 40 + ["B"] * 60, index=[f"c{i}" for i in range(100)])
    result = persona_profiles(_frame({"gender": gender}), seg, min_z=0, min_lift=1)
    row = result.traits.query("segment == 'A' and trait == 'gender' and value == 'F'").iloc[0]
    assert row.segment_share == pytest.approx(0.75)
    assert row.base_share == pytest.approx(0.48)
    assert row.lift == pytest.approx(0.75 / 0.48)
    z_ref, _ = proportions_ztest([30, 18], [40, 60])
    assert row.z == pytest.approx(z_ref, rel=1e-12)
    assert bool(row.distinguishing)
    b = result.traits.query("segment == 'B' and value == 'F'").iloc[0]
    assert b.z == pytest.approx(-z_ref, rel=1e-12) and not b.distinguishing


def test_unknown_values_are_left_out_of_shares() -> None:
    gender = ["F", "F", None, None, "M", "M"]
    seg = pd.Series(["A", "A", "A", "B", "B", "B"], index=[f"c{i}" for i in range(6)])
    t = persona_profiles(_frame({"gender": gender}), seg, min_z=0).traits
    a = t.query("segment == 'A' and value == 'F'").iloc[0]
    assert (a.segment_customers, a.n_segment, a.n_base) == (2, 2, 4)
    assert a.lift == pytest.approx(2.0)


def test_bad_thresholds_and_columns_are_refused() -> None:
    seg = pd.Series(["A"], index=["c0"])
    with pytest.raises(DataContractError, match="min_share"):
        persona_profiles(_frame({"gender": ["F"]}), seg, min_lift=0.5)
    with pytest.raises(DataContractError, match="festival"):
        persona_profiles(_frame({"gender": ["F"]}).drop(columns="festival"), seg)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("ABC"), st.sampled_from(["x", "y", "z", None])),
        min_size=6,
        max_size=80,
    )
)
def test_shares_sum_to_one_and_lift_averages_to_one(rows: list[tuple[str, Any]]) -> None:
    seg = pd.Series([r[0] for r in rows], index=[f"c{i}" for i in range(len(rows))])
    frame = _frame({"region": [r[1] for r in rows]})
    if frame["region"].isna().all():
        return
    t = persona_profiles(frame, seg, min_z=0).traits
    for _, g in t.groupby("segment"):
        assert g["segment_share"].sum() == pytest.approx(1.0)
    # segments partition the base: the size-weighted mean of a value's lifts is 1
    for _, g in t.groupby("value"):
        assert (g["n_segment"] / g["n_base"] * g["lift"]).sum() == pytest.approx(1.0)
    assert (np.sign(t["z"]) == np.sign((t["lift"] - 1).round(12))).all()


# --- demo world -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(demo_world: Any) -> dict[str, Any]:
    ws, truth = demo_world
    con = ibis.duckdb.connect(str(ws.warehouse_path), read_only=True)
    try:
        traits = customer_traits(
            con.table("customers"),
            con.table("orders"),
            con.table("order_lines"),
            con.table("products"),
        )
        raw = {
            n: con.table(n).to_pandas() for n in ("customers", "orders", "order_lines", "products")
        }
    finally:
        con.disconnect()
    return {"ws": ws, "truth": truth, "traits": traits, "raw": raw}


def _main(frame: pd.DataFrame, col: str, weight: str) -> pd.Series:
    g = frame.groupby(["customer_id", col])[weight].sum().reset_index()
    g = g.sort_values(["customer_id", weight, col], ascending=[True, False, True])
    return g.drop_duplicates("customer_id").set_index("customer_id")[col]


def test_traits_match_an_independent_pandas_computation(demo: dict[str, Any]) -> None:
    raw, got = demo["raw"], demo["traits"]
    o = raw["orders"]
    net = o["paid_amount"].astype(float).fillna(0) - o["refund_amount"].astype(float).fillna(0)
    o = o[o["customer_id"].notna() & (net > 0)].copy()
    o["one"] = 1
    assert set(got.index) == set(o["customer_id"])
    n_orders = o.groupby("customer_id")["order_id"].nunique()
    assert (got.loc[n_orders.index, "orders"] == n_orders).all()
    pd.testing.assert_series_equal(
        got["channel"].sort_index(),
        _main(o, "channel", "one").sort_index(),
        check_names=False,
        check_dtype=False,
    )
    hour = o["ordered_at"].dt.hour
    o["part"] = np.select(
        [hour.between(6, 10), hour.between(11, 13), hour.between(14, 17), hour.between(18, 21)],
        ["morning", "midday", "afternoon", "evening"],
        "night",
    )
    pd.testing.assert_series_equal(
        got["daypart"].sort_index(),
        _main(o, "part", "one").sort_index(),
        check_names=False,
        check_dtype=False,
    )
    n = o.groupby("customer_id").size()
    wk = (o["ordered_at"].dt.day_of_week >= 5).groupby(o["customer_id"]).sum()
    expected_wk = np.where(wk * 2 >= n, "weekend", "weekday")
    assert (got.loc[n.index, "weekday"].to_numpy() == expected_wk).all()
    days = o["ordered_at"].dt.date
    fest = set()
    for w in shopping_festivals(range(days.min().year, days.max().year + 1)):
        fest |= {d.date() for d in pd.date_range(w.start, w.end)}
    f = days.isin(fest).groupby(o["customer_id"]).sum()
    base = f.sum() / n.sum()
    sensitive = (n >= 2) & (f / n >= 2 * base)
    expected_f = np.where(sensitive, "sensitive", "not_sensitive")
    assert (got.loc[n.index, "festival"].to_numpy() == expected_f).all()
    # main category by net line spend
    lines = raw["order_lines"].merge(o[["order_id", "customer_id"]], on="order_id")
    lines = lines.merge(raw["products"][["sku", "category"]], on="sku")
    lines = lines[(lines["unit_price"].astype(float) > 0) & lines["category"].notna()].copy()
    lines["spend"] = (
        lines["paid_amount"]
        .astype(float)
        .fillna(lines["unit_price"].astype(float) * lines["quantity"])
    )
    cat = _main(lines, "category", "spend")
    assert (got.loc[cat.index, "category"] == cat).mean() == 1.0
    # price band: tertile of the spend-weighted mean log price index
    med = lines.groupby("category")["unit_price"].transform(lambda s: s.astype(float).median())
    lines["li"] = np.log(lines["unit_price"].astype(float) / med)
    lines["w"] = lines["spend"].abs()
    idx = (lines["li"] * lines["w"]).groupby(lines["customer_id"]).sum() / lines.groupby(
        "customer_id"
    )["w"].sum()
    r = idx.rank(method="first", pct=True)
    band = pd.Series(np.select([r <= 1 / 3, r <= 2 / 3], ["low", "mid"], "high"), index=r.index)
    # first-ranked ties may order differently; allow at most a handful at the cut points
    assert (got.loc[band.index, "price_band"] == band).mean() > 0.995


def test_planted_category_affinity_is_the_segments_top_trait(demo: dict[str, Any]) -> None:
    truth = demo["truth"]["category_affinity"]
    traits = demo["traits"]
    segment = truth["segment"]["acquisition_channel"]
    result = persona_profiles(traits, traits["acquisition"].dropna(), exclude=("acquisition",))
    top = result.top(segment, 1).iloc[0]
    assert (top.trait, top.value) == ("category", truth["category"])
    # planted: 3× the category's basket weight → the main-category share at least doubles
    assert top.lift >= 2.0 and top.z >= 3.3
    assert result.segments.set_index("segment").loc[segment, "customers"] == pytest.approx(
        (traits["acquisition"] == segment).sum()
    )


def test_personas_cli_json_and_errors(demo: dict[str, Any], tmp_path: Any) -> None:
    from luopan.cli.main import app

    ws = demo["ws"]
    runner = CliRunner()
    res = runner.invoke(app, ["personas", "-w", str(ws.root), "--by", "acquisition", "--json"])
    assert res.exit_code == 0, res.output
    rows = {r["segment"]: r for r in json.loads(res.output)}
    segment = demo["truth"]["category_affinity"]["segment"]["acquisition_channel"]
    assert rows[segment]["top"][0] == f"category={demo['truth']['category_affinity']['category']}"
    rfm = runner.invoke(app, ["personas", "-w", str(ws.root), "--json"], env={"LUOPAN_LANG": "en"})
    assert rfm.exit_code == 0, rfm.output
    names = {r["name"] for r in json.loads(rfm.output)}
    assert "Champions" in names
    bad = runner.invoke(app, ["personas", "-w", str(ws.root), "--by", "shoe_size"])
    assert bad.exit_code == 1 and isinstance(bad.exception, ConfigError)
    assert "shoe_size" in str(bad.exception) and "rfm" in bad.exception.fix
    seg_file = tmp_path / "segment.csv"
    seg_file.write_text("id,segment\nx,A\n", encoding="utf-8")
    bad = runner.invoke(app, ["personas", "-w", str(ws.root), "--segments", str(seg_file)])
    assert bad.exit_code == 1 and isinstance(bad.exception, SourceError)
    assert "segment.csv: line 1" in str(bad.exception) and "customer_id" in bad.exception.fix
