"""Warehouse aggregation (Ibis on DuckDB) gives the same statistics as the pandas path."""

from __future__ import annotations

import warnings
from pathlib import Path

import duckdb
import ibis
import numpy as np
import pandas as pd
import pytest

from luopan.cli.abtest import review_workspace
from luopan.engines.abtest import compare, stats_from_frame
from luopan.engines.abtest.aggregate import ibis_sufficient_stats, stats_from_sums


@pytest.fixture()
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(8)
    n = 5000
    unit = np.repeat(np.arange(n // 2), 2)  # two event rows per unit
    variant = np.where(unit % 2 == 0, "control", "treatment")
    pre = np.repeat(rng.gamma(2, 20, n // 2), 2)
    y = pre * 0.4 + rng.normal(0, 5, n) + (variant == "treatment") * 1.0
    return pd.DataFrame(
        {"unit_id": unit.astype(str), "variant": variant, "revenue": y, "pre": pre / 2}
    )


def test_ibis_and_pandas_paths_agree(frame: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.register("f", frame)
    con.execute("CREATE TABLE t AS SELECT * FROM f")
    con.close()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "fetch_arrow_table", DeprecationWarning)
        backend = ibis.duckdb.connect(str(path), read_only=True)
        expr = ibis_sufficient_stats(
            backend.table("t"),
            variant_col="variant",
            metrics=["revenue"],
            unit_col="unit_id",
            pre={"revenue": "pre"},
        )
        rows = {r["variant"]: r for r in expr.execute().to_dict("records")}
        backend.disconnect()
    pandas_arms = stats_from_frame(
        frame, unit_col="unit_id", variant_col="variant", metric_col="revenue", pre_col="pre"
    )
    for v in ("control", "treatment"):
        wh = stats_from_sums(rows[v], "revenue", binary=False, pre="pre")
        pd_ = pandas_arms[v]
        assert wh.n == pd_.n == 1250
        assert wh.mean == pytest.approx(pd_.mean, rel=1e-12)
        assert wh.variance == pytest.approx(pd_.variance, rel=1e-9)
    e_wh = compare(
        stats_from_sums(rows["control"], "revenue", binary=False, pre="pre"),
        stats_from_sums(rows["treatment"], "revenue", binary=False, pre="pre"),
    )
    e_pd = compare(pandas_arms["control"], pandas_arms["treatment"])
    assert e_wh.p_value == pytest.approx(e_pd.p_value, rel=1e-6)


def test_review_workspace_on_a_small_warehouse(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE experiments (experiment_id VARCHAR, name VARCHAR, "
        "primary_metric VARCHAR, start_date DATE, end_date DATE)"
    )
    con.execute(
        "INSERT INTO experiments VALUES ('E1', 'x', 'pay_conversion', '2026-01-01', "
        "'2026-01-10'), ('E2', 'y', 'revenue', '2026-01-01', '2026-01-10')"
    )
    units = [(f"u{i}", "control" if i % 2 else "treatment") for i in range(400)]
    con.execute(
        "CREATE TABLE assignments (experiment_id VARCHAR, unit_id VARCHAR, "
        "variant VARCHAR, assigned_at TIMESTAMP)"
    )
    con.executemany("INSERT INTO assignments VALUES ('E1', ?, ?, '2026-01-01 10:00:00')", units)
    con.execute("CREATE TABLE events (user_id VARCHAR, event_name VARCHAR, event_time TIMESTAMP)")
    # every 4th unit pays inside the window, every 5th pays only after it ended
    con.executemany(
        "INSERT INTO events VALUES (?, 'pay', '2026-01-05 12:00:00')",
        [(u,) for i, (u, _) in enumerate(units) if i % 4 == 0],
    )
    con.executemany(
        "INSERT INTO events VALUES (?, 'pay', '2026-01-11 12:00:00')",
        [(u,) for i, (u, _) in enumerate(units) if i % 5 == 0],
    )
    con.close()
    review = review_workspace(path)
    (e,) = review.experiments
    assert (e.n_control, e.n_treatment) == (200, 200)
    assert (e.control_rate, e.treatment_rate) == (0.0, 0.5)  # i % 4 == 0 are even: treatment
    assert review.skipped[0][0] == "E2"
    assert not e.srm_flagged
