"""``luopan listening train --unlabelled``: a brand's unlabelled mentions shape the model."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from luopan.cli.main import app
from luopan.engines.listening import SentimentModel
from luopan.errors import DataContractError, InsufficientDataError, SourceError

# labelled: taste only; unlabelled: taste beside delivery words the labels never contain
POS = ["好吃", "真好吃", "很好吃", "好吃好吃", "挺好吃的"]
NEG = ["难吃", "真难吃", "很难吃", "难吃难吃", "挺难吃的"]
ON_TIME = ["准时", "送餐准时", "准时送到", "一向准时", "非常准时"]
LATE = ["超时", "送餐超时", "超时送到", "总是超时", "严重超时"]
JOIN = ["，", "又", "，而且"]


def _mentions(taste: list[str], delivery: list[str]) -> list[str]:
    pairs = itertools.product(taste, delivery, JOIN)
    return [t for a, b, j in pairs for t in (a + j + b, b + j + a)]


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    labelled = tmp_path / "labels.csv"
    rows = [f"{t},1" for t in POS * 2] + [f"{t},0" for t in NEG * 2]
    labelled.write_text("text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    mentions = tmp_path / "mentions.csv"
    texts = _mentions(POS, ON_TIME) + _mentions(NEG, LATE)  # 300 texts
    mentions.write_text("id,body\n" + "\n".join(f"{i},{t}" for i, t in enumerate(texts)) + "\n")
    return labelled, mentions


def _train(labelled: Path, out: Path, *extra: str) -> SentimentModel:
    args = ["listening", "train", "--labels", str(labelled), "--alone", "--out", str(out)]
    r = CliRunner().invoke(app, [*args, *extra])
    assert r.exit_code == 0, r.output
    return SentimentModel.from_bytes(out.read_bytes())


def test_unlabelled_mentions_reach_unlabelled_vocabulary(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    labelled, mentions = files
    plain = _train(labelled, tmp_path / "plain.npz")
    m = _train(
        labelled,
        tmp_path / "lsa.npz",
        "--unlabelled",
        str(mentions),
        "--unlabelled-text-col",
        "body",
    )
    assert m.trained_on_ == "labels.csv + mentions.csv (unlabelled)"
    # the saved model scores: the labelled taste words as labelled
    assert (m.predict(POS + NEG) == [1] * 5 + [0] * 5).all()
    # the latent-space weights are folded into the hashed ones: same size, other values
    assert m.coef_.shape == plain.coef_.shape
    assert np.abs(m.coef_ - plain.coef_).max() > 0.01
    # (the bridge to vocabulary the labels lack: test_sentiment_lsa.py, on the engine)


def test_unlabelled_errors_name_the_file_column_and_fix(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    labelled, mentions = files
    out = tmp_path / "m.npz"

    def run(path: Path, *extra: str) -> BaseException | None:
        args = ["listening", "train", "--labels", str(labelled), "--alone", "--out", str(out)]
        return CliRunner().invoke(app, [*args, "--unlabelled", str(path), *extra]).exception

    missing = run(tmp_path / "nope.csv")
    assert isinstance(missing, SourceError)
    assert "nope.csv" in str(missing) and "--unlabelled" in str(missing)

    no_col = run(mentions)  # the default column "text" is not in the file
    assert isinstance(no_col, DataContractError)
    assert "'text'" in str(no_col) and "--unlabelled-text-col" in str(no_col)
    assert "body" in str(no_col)

    blank = tmp_path / "blank.csv"
    blank.write_text("text\n \n\n", encoding="utf-8")
    empty = run(blank)
    assert isinstance(empty, DataContractError)
    assert "blank.csv" in str(empty) and "no text" in str(empty)

    few = tmp_path / "few.csv"
    few.write_text("text\n" + "\n".join(_mentions(POS, ON_TIME)[:50]) + "\n", encoding="utf-8")
    short = run(few)
    assert isinstance(short, InsufficientDataError)
    # 20 labels + 50 mentions < 200 texts for 100 dimensions: 180 mentions needed
    assert "few.csv" in str(short) and "at least 180" in str(short)
    assert not out.exists()
