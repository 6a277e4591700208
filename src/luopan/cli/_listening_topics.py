"""``luopan listening topics``: complaint terms, negative vs positive or a burst window vs the
28 days before (the log-odds of ``luopan.engines.listening.topics``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import typer
import yaml
from rich.table import Table

from luopan.cli.common import WORKSPACE_OPTION, open_workspace
from luopan.cli.listening import _emit_json, _labels, _t, console, read_table
from luopan.engines.listening import Watchlist, complaint_terms, default_model
from luopan.engines.listening.topics import CATEGORY_LABELS
from luopan.errors import ConfigError, DataContractError
from luopan.i18n import language


def register_topics(lst: typer.Typer) -> None:
    lst.command("topics")(topics_cmd)


def topics_cmd(
    src: Path | None = typer.Option(
        None, "--in", help="mentions file (default: the workspace) / 声量文件（默认工作区）"
    ),
    text_col: str = typer.Option("text", "--text-col", help="text column / 文本列"),
    label_col: str | None = typer.Option(
        None, "--label-col", help="labels instead of the model / 用标注代替模型"
    ),
    since: str | None = typer.Option(
        None,
        "--since",
        help="burst window from this time: its negative mentions against the 28 days "
        "before / 从该时间起的负面声量对比此前 28 天",
    ),
    watchlist: Path | None = typer.Option(None, "--watchlist", help="YAML {类别: [词]}"),
    top: int = typer.Option(15, "--top", min=1, help="terms to show / 显示词数"),
    as_json: bool = typer.Option(False, "--json", help="JSON output / 输出 JSON"),
    workspace: Path = WORKSPACE_OPTION,
) -> None:
    """Complaint terms: negative vs positive mentions, or a burst window (--since) vs the 28
    days before. 投诉主题词：负面 vs 正面，或突发窗口 vs 此前 28 天。

    Example / 示例: luopan listening topics -w demo-world --since 2026-10-27
    """
    from luopan.cli._crisis_common import _mentions, crisis_config

    if src is None:
        ws, lang = open_workspace(workspace)
        frame = _mentions(ws, None, "text")
        cfg_watch = crisis_config(ws).watchlist
    else:
        lang, cfg_watch = language(), None
        need = [text_col, *([label_col] if label_col else [])]
        frame = read_table(src, *need, *(["published_at"] if since else []))
        frame = frame.rename(columns={text_col: "text"})
    wl = Watchlist.from_mapping(cfg_watch) if cfg_watch else Watchlist()
    if watchlist is not None:
        try:
            data = yaml.safe_load(watchlist.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"{watchlist}: {exc}", fix="a mapping {类别: [词, …]}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{watchlist}: not a mapping", fix="a mapping {类别: [词, …]}")
        wl = Watchlist.from_mapping(data)
    texts = frame["text"].fillna("").astype(str)
    if label_col and label_col not in frame.columns:
        raise DataContractError(
            f"the mentions have no column {label_col!r}",
            fix=f"columns are: {', '.join(map(str, frame.columns))}",
        )
    if label_col:
        neg = np.asarray(_labels(frame, label_col, src or workspace) == 0, bool)
    else:
        neg = np.asarray(default_model().predict(texts.tolist()) == 0, bool)
    if since is None:
        pool, base = texts[neg].tolist(), texts[~neg].tolist()
    else:
        at = pd.to_datetime(frame["published_at"], errors="coerce")
        try:
            begin = pd.Timestamp(since)
        except ValueError:
            raise DataContractError(
                f"--since {since!r} is not a date", fix="e.g. --since 2026-10-27 09:30"
            ) from None
        win = (at >= begin).to_numpy()
        before = ((at < begin) & (at >= begin - pd.Timedelta(days=28))).to_numpy()
        pool, base = texts[win & neg].tolist(), texts[before].tolist()
    terms = complaint_terms(pool, base, top=top, watchlist=wl)
    cats = {w: c for c, ws in wl.terms.items() for w in ws}
    if as_json:
        _emit_json([{**t.__dict__, "watchlist": cats.get(t.term)} for t in terms])
        return
    table = Table(
        _t("term", lang),
        _t("count", lang),
        _t("base", lang),
        _t("z", lang),
        _t("watch", lang),
        title=_t("topics_title", lang),
    )
    for t in terms:
        cat = cats.get(t.term)
        label = CATEGORY_LABELS.get(cat or "", {}).get(lang, cat or "")
        table.add_row(t.term, str(t.count), str(t.baseline_count), f"{t.z:.1f}", label)
    console.print(table)
