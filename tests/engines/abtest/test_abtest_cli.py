"""``luopan abtest plan | analyze`` (in-process, JSON and human output)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from luopan.cli.main import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = 0
    try:
        main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_plan_json_matches_growthbook(
    capsys: pytest.CaptureFixture[str], ref: dict[str, Any]
) -> None:
    g = ref["power_planning"]["growthbook_power_ts_replica"]
    code, out, _ = run(capsys, "abtest", "plan", "--baseline", "0.1", "--mde", "0.05", "--json")
    assert code == 0
    p = json.loads(out)
    assert p["n_per_variation"] == -(-g["n_total_for_80pct_power_fixed"] // 2)  # ceil
    code, out, _ = run(
        capsys, "abtest", "plan", "--baseline", "0.1", "--mde", "0.05", "--sequential", "--json"
    )
    assert json.loads(out)["n_total"] >= g["n_total_for_80pct_power_sequential_N_star_5000"]


def test_plan_human_output(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LUOPAN_LANG", "zh")
    code, out, _ = run(capsys, "abtest", "plan", "--baseline", "0.032", "--mde", "0.10")
    assert code == 0 and "每组样本量" in out and "52,472" in out


def test_analyze_stats_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, ref: dict[str, Any]
) -> None:
    case = ref["three_variant_conversion"]
    i = case["inputs"]
    doc = {"control": "A", "variants": {"A": i["A_control"], "B": i["B"], "C": i["C"]}}
    path = tmp_path / "stats.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    code, out, _ = run(capsys, "abtest", "analyze", "--stats", str(path), "--json")
    assert code == 0
    res = json.loads(out)
    b, c = res["variants"]
    g = case["gbstats"]
    assert b["estimate"] == pytest.approx(g["B_vs_A"]["frequentist_relative"]["estimate"])
    assert c["p_value"] == pytest.approx(g["C_vs_A"]["frequentist_relative"]["p_value"], abs=1e-9)
    assert [b["p_holm"], c["p_holm"]] == pytest.approx(
        g["holm_bonferroni_adjusted_p_values_[B,C]"], abs=1e-9
    )
    assert c["chance_to_win"] == pytest.approx(
        g["C_vs_A"]["bayesian_relative_flat_prior"]["chance_to_win"], abs=1e-9
    )
    assert res["srm"]["p_value"] == pytest.approx(g["srm_p_value_3_arms"], abs=1e-9)
    code, out, _ = run(
        capsys, "abtest", "analyze", "--stats", str(path), "--method", "sequential", "--json"
    )
    seq = json.loads(out)["variants"][1]
    assert seq["ci_low"] == pytest.approx(
        g["C_vs_A"]["sequential_relative_default"]["ci"][0], abs=1e-9
    )


def test_analyze_raw_cookie_cats(
    capsys: pytest.CaptureFixture[str],
    shared_data: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("LUOPAN_LANG", "en")
    csv = str(shared_data / "experiments" / "cookie_cats.csv")
    args = [
        "abtest",
        "analyze",
        "--data",
        csv,
        "--unit-col",
        "userid",
        "--variant-col",
        "version",
        "--metric-col",
        "retention_7",
        "--control",
        "gate_30",
        "--split",
        "0.5,0.5",
    ]
    code, out, _ = run(capsys, *args, "--srm-threshold", "0.01", "--json")
    res = json.loads(out)
    assert code == 0 and res["srm"]["flagged"] and res["variants"][0]["ci_high"] < 0
    # the stored statistics recompute the same result exactly (decision log requirement)
    stored = tmp_path / "stored.json"
    stored.write_text(json.dumps(res["statistics"]), encoding="utf-8")
    code, again, _ = run(
        capsys, "abtest", "analyze", "--stats", str(stored), "--json", "--srm-threshold", "0.01"
    )
    assert json.loads(again)["variants"] == res["variants"]
    code, out, _ = run(capsys, *args)
    assert "sample ratio OK" in out  # default threshold 0.001
    code, out, _ = run(capsys, *args, "--srm-threshold", "0.01")
    assert "sample ratio mismatch" in out


def test_analyze_errors_name_the_fix(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("uid,arm,y\n1,a,1\n2,b,0\n", encoding="utf-8")
    code, _, err = run(
        capsys,
        "abtest",
        "analyze",
        "--data",
        str(data),
        "--unit-col",
        "uid",
        "--variant-col",
        "grp",
        "--metric-col",
        "y",
    )
    assert code == 1 and "['grp']" in err and "--variant-col" in err
    bad = tmp_path / "s.json"
    bad.write_text(
        '{"variants": {"A": {"n": 10}, "B": {"n": 10, "conversions": 2}}}', encoding="utf-8"
    )
    code, _, err = run(capsys, "abtest", "analyze", "--stats", str(bad))
    assert code == 1 and "'A'" in err and "conversions" in err


def test_plan_from_history(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import numpy as np

    rng = np.random.default_rng(2)
    pre = rng.gamma(2, 25, 2000).round(2)
    post = (0.8 * pre + rng.normal(0, 15, 2000) + 20).round(2)
    path = tmp_path / "history.csv"
    rows = (f"u{i},{y},{x}\n" for i, (y, x) in enumerate(zip(post, pre, strict=True)))
    path.write_text("uid,rev,pre\n" + "".join(rows), encoding="utf-8")
    args = ["abtest", "plan", "--history", str(path), "--metric-col", "rev", "--mde", "0.03"]
    code, out, _ = run(capsys, *args, "--pre-col", "pre", "--json")
    p = json.loads(out)
    assert code == 0 and p["baseline"] == pytest.approx(post.mean(), rel=1e-12)
    assert p["cuped_rho"] == pytest.approx(np.corrcoef(pre, post)[0, 1], rel=1e-9)
    code, out, _ = run(capsys, *args, "--json")
    plain = json.loads(out)
    assert p["n_total"] / plain["n_total"] == pytest.approx(1 - p["cuped_rho"] ** 2, rel=2e-3)
