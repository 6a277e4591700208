"""``luopan rca localize`` on benchmark leaf files (../shared/data/rca) and on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
from typer.testing import CliRunner

from luopan.cli.main import app
from luopan.errors import DataContractError, SourceError


def luopan(*args: str) -> SimpleNamespace:
    """In-process run (one import of the app for the whole module)."""
    r = CliRunner().invoke(app, list(args), env={"LUOPAN_LANG": "en", "COLUMNS": "200"})
    return SimpleNamespace(returncode=r.exit_code, stdout=r.output, exception=r.exception)


def test_additive_file_json(shared_data: Path) -> None:
    path = shared_data / "rca/B0/B_cuboid_layer_2_n_ele_2/1451019300.csv.gz"
    r = luopan("rca", "localize", "--data", str(path), "--json")
    assert r.returncode == 0, r.exception
    out = json.loads(r.stdout)
    # label in injection_info.csv: b=b10&c=c4;a=a2&b=b12
    assert set(out["causes_text"].split(";")) == {"b=b10&c=c4", "a=a2&b=b12"}
    assert out["kind"] == "additive" and out["leaves"] == 21600
    assert out["explanation"]["zh"].startswith("指标实际为") and out["explanation"]["en"]


def test_ratio_file_and_max_causes(shared_data: Path, tmp_path: Path) -> None:
    frame = pd.read_csv(shared_data / "rca/B0/B_cuboid_layer_1_n_ele_3/1450910100.csv.gz")
    r = luopan(
        "rca",
        "localize",
        "--data",
        str(shared_data / "rca/B0/B_cuboid_layer_1_n_ele_3/1450910100.csv.gz"),
        "--max-causes",
        "1",
        "--json",
    )
    assert r.returncode == 0, r.exception
    assert len(json.loads(r.stdout)["causes"]) == 1
    # the same leaves as a ratio with a constant denominator: the same causes (d=d6;c=c7;c=c2)
    ratio = frame.rename(columns={"real": "real_a", "predict": "predict_a"})
    ratio["real_b"] = ratio["predict_b"] = 1.0
    path = tmp_path / "ratio.csv"
    ratio.to_csv(path, index=False)
    r = luopan("rca", "localize", "--data", str(path))
    assert r.returncode == 0, r.exception
    assert "ratio KPI" in r.stdout and "d=d6" in r.stdout


def test_bad_file_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b,value\nx,y,1\n", encoding="utf-8")
    r = luopan("rca", "localize", "--data", str(path))
    assert isinstance(r.exception, DataContractError)
    assert "real and predict" in str(r.exception.fix)
    r = luopan("rca", "localize", "--data", str(tmp_path / "missing.csv"))
    assert isinstance(r.exception, SourceError) and "no such file" in r.exception.message
    # through the console script: message and fix, exit status 1, no traceback
    p = subprocess.run(
        [sys.executable, "-m", "luopan", "rca", "localize", "--data", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        env={"LUOPAN_LANG": "en", "COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    assert p.returncode == 1
    assert "real and predict" in p.stderr and "Traceback" not in p.stderr
