"""What the crisis commands share: their zh/en labels and JSON output, the workspace's
``crisis.yaml``, the clock (``--at`` or now), the decision log, the notify dispatcher, and the
mentions (a file or the workspace's ``mentions`` table) with their negative flags and the
complaint terms around a burst. Used by :mod:`luopan.cli.crisis`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from luopan.workspace import Workspace

__all__ = ["CONFIG_FILE", "L", "crisis_config"]

CONFIG_FILE = "crisis.yaml"

L: dict[str, dict[str, str]] = {
    "id": {"zh": "编号", "en": "id"},
    "start": {"zh": "预警时间", "en": "alerted at"},
    "level": {"zh": "等级", "en": "level"},
    "score": {"zh": "评分", "en": "score"},
    "status": {"zh": "状态", "en": "status"},
    "title": {"zh": "标题", "en": "title"},
    "platforms": {"zh": "平台", "en": "platforms"},
    "terms": {"zh": "主题词", "en": "top terms"},
    "none": {"zh": "未发现舆情危机", "en": "no crisis found"},
    "task": {"zh": "任务", "en": "task"},
    "owner": {"zh": "负责人", "en": "owner"},
    "due": {"zh": "截止", "en": "due"},
    "done": {"zh": "完成", "en": "done"},
    "overdue": {"zh": "已超时", "en": "overdue"},
    "open": {"zh": "进行中", "en": "open"},
    "escalations": {"zh": "升级记录", "en": "escalations"},
    "logged": {"zh": "已记入决策日志", "en": "logged in the decision log"},
    "sent": {"zh": "新升级", "en": "new escalations"},
    "review": {"zh": "复盘", "en": "post-crisis review"},
    "item": {"zh": "项目", "en": "item"},
    "value": {"zh": "数值", "en": "value"},
    "timeline": {"zh": "时间线", "en": "timeline"},
    "marked": {"zh": "已记录完成", "en": "marked done"},
}


def _t(key: str, lang: str) -> str:
    return L[key]["en" if lang == "en" else "zh"]


def _emit(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str, indent=1) + "\n")


def crisis_config(ws: Workspace) -> Any:
    """``crisis.yaml`` of the workspace (defaults when absent)."""
    from luopan.config import load_model
    from luopan.engines.listening.playbook import CrisisConfig

    path = ws.root / CONFIG_FILE
    return load_model(path, CrisisConfig) if path.exists() else CrisisConfig()


def _dispatcher(ws: Workspace, channels: tuple[str, ...]) -> Any:
    if not channels:
        return None
    from luopan.notify.config import NOTIFY_FILE, build_channel, load_notify_config
    from luopan.notify.dispatch import Dispatcher, RetryPolicy

    cfg = load_notify_config(ws.root / NOTIFY_FILE)
    built = {name: build_channel(name, cfg) for name in channels}
    return Dispatcher(built, retry=RetryPolicy(max_attempts=cfg.max_attempts))


def _clock(ws: Workspace, at: str | None) -> Any:
    if at is not None:
        from luopan.errors import ConfigError

        try:
            return pd.Timestamp(at).to_pydatetime().replace(tzinfo=None)
        except ValueError:
            raise ConfigError(
                f"--at {at!r}: not a time", fix="e.g. --at '2026-10-27 11:00'"
            ) from None
    from luopan.ingest.pipeline import now_local

    return now_local(ws)


def _log(ws: Workspace) -> Any:
    from luopan.decisions.store import DecisionLog

    return DecisionLog(ws.metadata_url)


def _mentions(ws: Workspace | None, src: Path | None, text_col: str) -> pd.DataFrame:
    from luopan.engines.listening.feed import dedup_reposts
    from luopan.engines.listening.reach import reach_tiers

    if src is not None:
        from luopan.cli.listening import read_table

        frame = read_table(src, text_col, "published_at", "platform").rename(
            columns={text_col: "text"}
        )
        if "mention_id" not in frame.columns:
            frame["mention_id"] = [f"row{i + 2}" for i in range(len(frame))]
        frame = frame.drop_duplicates(subset=["mention_id"])
        frame["published_at"] = pd.to_datetime(frame["published_at"], errors="coerce")
        for c in ("shares", "author_followers"):
            if c not in frame.columns:
                frame[c] = 0
    else:
        from luopan.engines.listening.receive import load_mentions

        assert ws is not None
        frame = load_mentions(ws)
    frame["reach_tier"] = reach_tiers(frame["author_followers"])
    return dedup_reposts(frame.dropna(subset=["published_at"]))[0]


def _negative(frame: pd.DataFrame, model_path: Path | None) -> np.ndarray:
    from luopan.cli.listening import _model

    m = _model(model_path)
    return np.asarray(m.score(frame["text"].tolist()) < m.threshold(), bool)


def _terms(frame: pd.DataFrame, negative: np.ndarray, start: pd.Timestamp) -> list[str]:
    from luopan.engines.listening import complaint_terms

    t = frame["published_at"]
    win = (t >= start - pd.Timedelta(minutes=30)) & (t < start + pd.Timedelta(hours=3))
    base = (t < start - pd.Timedelta(minutes=30)) & (t >= start - pd.Timedelta(days=28))
    pool = frame["text"][win.to_numpy() & negative].tolist()
    return [x.term for x in complaint_terms(pool, frame["text"][base].tolist(), top=5)]
