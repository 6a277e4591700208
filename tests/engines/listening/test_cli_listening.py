"""``luopan listening classify|eval|train|topics`` run in-process on small files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from luopan.cli.main import app
from luopan.errors import DataContractError

POS = ["很新鲜好吃", "配送很快", "好吃实惠", "质量很好", "新鲜会回购", "很好很快"]
NEG = ["鸡蛋变质难吃", "配送太慢变质", "难吃太贵", "质量很差变质", "太慢了差评", "很差很慢"]


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    labelled = tmp_path / "labels.csv"
    rows = [f"{t},1" for t in POS * 3] + [f"{t},0" for t in NEG * 3]
    labelled.write_text("text,label\n" + "\n".join(rows) + "\n", encoding="gb18030")
    model = tmp_path / "brand.npz"
    r = CliRunner().invoke(
        app, ["listening", "train", "--labels", str(labelled), "--alone", "--out", str(model)]
    )
    assert r.exit_code == 0, r.output
    return labelled, model


def test_train_then_classify_json(files: tuple[Path, Path]) -> None:
    labelled, model = files
    r = CliRunner().invoke(
        app,
        [
            "listening",
            "classify",
            "--in",
            str(labelled),
            "--text-col",
            "text",
            "--model",
            str(model),
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert len(rows) == 36
    assert [x["sentiment"] for x in rows] == ["pos"] * 18 + ["neg"] * 18


def test_eval_json(files: tuple[Path, Path]) -> None:
    labelled, model = files
    r = CliRunner().invoke(
        app,
        [
            "listening",
            "eval",
            "--in",
            str(labelled),
            "--text-col",
            "text",
            "--label-col",
            "label",
            "--model",
            str(model),
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    rep = json.loads(r.output)
    assert rep["n"] == 36 and rep["accuracy"] == 1.0 and rep["macro_f1"] == 1.0


def test_topics_with_labels(files: tuple[Path, Path]) -> None:
    labelled, _ = files
    r = CliRunner().invoke(
        app,
        [
            "listening",
            "topics",
            "--in",
            str(labelled),
            "--text-col",
            "text",
            "--label-col",
            "label",
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    terms = json.loads(r.output)
    assert terms[0]["term"] == "变质" and terms[0]["watchlist"] == "food_safety"


def test_bad_label_names_line(tmp_path: Path) -> None:
    p = tmp_path / "bad.csv"
    p.write_text("text,label\n好,1\n差,maybe\n", encoding="utf-8")
    r = CliRunner().invoke(
        app, ["listening", "eval", "--in", str(p), "--text-col", "text", "--label-col", "label"]
    )
    assert isinstance(r.exception, DataContractError)
    assert "line 3" in str(r.exception) and "maybe" in str(r.exception)


def test_watch_replays_a_stream(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    lines = ["mention_id,published_at,platform,text"]
    for d in range(20):
        lines.append(f"Q{d},2026-03-{d + 1:02d} 15:00:00,抖音,质量很好，非常满意，会回购")
    for k, plat in enumerate(["微博", "抖音", "小红书"]):
        lines.append(f"B{k},2026-03-25 10:0{k}:00,{plat},太差了，买的肉变质了，吃完拉肚子")
    p = tmp_path / "mentions.csv"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = CliRunner().invoke(
        app, ["listening", "watch", "--in", str(p), "--owner", "pr=李公关", "--json"]
    )
    assert r.exit_code == 0, r.output
    (inc,) = json.loads(r.output)
    # sentiment 1 (3 negatives < 10), spread 1, watchlist 2 (food safety, health) = 4 → level 2
    assert inc["start"] == "2026-03-25 10:05:00" and inc["level"] == 2
    assert inc["terms"][0] == "变质" and inc["tasks"][1]["owner"] == "李公关"
    # the trained default model is cached for the next run, and the cache is used
    cached = list((tmp_path / "cache" / "luopan").glob("sentiment-*.npz"))
    assert len(cached) == 1 and cached[0].stat().st_size < 20 * 2**20
    again = CliRunner().invoke(app, ["listening", "watch", "--in", str(p), "--json"])
    assert json.loads(again.output)[0]["level"] == 2
