"""Mentions from a near-real-time feed: validation, platform names, counts, repost de-duplication.

Pure functions: JSON-like records in, a canonical ``mentions`` frame and the rejected records
out (the webhook receiver :func:`luopan.engines.listening.receive.ingest_mentions` writes them).

Record fields (unknown fields are ignored and listed): ``mention_id`` (or ``id``), ``platform``,
``published_at`` (ISO 8601 with or without offset, or epoch seconds/milliseconds), ``text``;
optional ``author``, ``author_followers`` (or ``followers``), ``likes``, ``comments``,
``shares``, ``rating``, ``verified``, ``author_type`` (media, organisation, kol, person) and
``repost_of`` (or ``retweet_id``). Counts accept Chinese display forms (``1.2万``, ``3w``,
``1亿``). Timestamps with an offset are converted to the workspace time zone; naive ones are
taken as already local (platform exports are naive Beijing time).

Reposts: a record whose ``repost_of`` names another mention, or whose text, once stripped of
Weibo's ``//@name:`` chains, "转发微博", links and punctuation, repeats an earlier mention of the
same platform within 24 hours (at least 8 characters left), is a copy. Copies add one share to
the original (when it is in the batch) and are dropped, so a complaint forwarded a thousand
times counts once in volume and once more in reach; a copy by a ``mid`` or ``top`` tier author
is kept as its own mention, because that amplification is what changes a crisis's reach.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from luopan.engines.listening.reach import reach_tier

__all__ = [
    "PLATFORMS",
    "MentionBatch",
    "RejectedRecord",
    "dedup_reposts",
    "parse_count",
    "repost_key",
    "validate_mentions",
]

COLUMNS = (
    "mention_id",
    "platform",
    "published_at",
    "author",
    "author_followers",
    "text",
    "likes",
    "comments",
    "shares",
    "rating",
)
PLATFORMS: dict[str, str] = {
    "weibo": "微博",
    "微博": "微博",
    "新浪微博": "微博",
    "xiaohongshu": "小红书",
    "xhs": "小红书",
    "red": "小红书",
    "小红书": "小红书",
    "douyin": "抖音",
    "抖音": "抖音",
    "dianping": "大众点评",
    "大众点评": "大众点评",
    "点评": "大众点评",
    "meituan": "美团",
    "美团": "美团",
    "taobao": "淘宝",
    "淘宝": "淘宝",
    "tmall": "天猫",
    "天猫": "天猫",
    "jd": "京东",
    "京东": "京东",
    "wechat": "微信",
    "微信": "微信",
    "bilibili": "哔哩哔哩",
    "b站": "哔哩哔哩",
    "kuaishou": "快手",
    "快手": "快手",
    "zhihu": "知乎",
    "知乎": "知乎",
}
ALIASES: dict[str, tuple[str, ...]] = {
    "mention_id": ("mention_id", "id"),
    "author_followers": ("author_followers", "followers"),
    "repost_of": ("repost_of", "retweet_id"),
}
KNOWN = set(COLUMNS) | {"verified", "author_type", "repost_of", "retweet_id", "id", "followers"}
MAX_TEXT = 20_000
MAX_ID = 200
REPOST_WINDOW = pd.Timedelta(hours=24)
MIN_REPOST_KEY = 8
_UNITS = {"万": 1e4, "w": 1e4, "W": 1e4, "亿": 1e8, "k": 1e3, "K": 1e3}
_COUNT = re.compile(r"^\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*([万wW亿kK]?)\+?\s*$")
_CHAIN = re.compile(r"//\s*@[^:：\s]{1,40}[:：]")
_NOISE = re.compile(r"https?://\S+|转发微博|轉發微博|Repost|[\s\W_]+", re.UNICODE)


@dataclass(frozen=True)
class RejectedRecord:
    """One record that was not accepted: where (index, field), what and how to fix it."""

    index: int
    field: str
    value: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "field": self.field,
            "value": self.value,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class MentionBatch:
    """Validated mentions (canonical columns plus ``reach_tier``) and what was set aside."""

    frame: pd.DataFrame
    rejected: tuple[RejectedRecord, ...] = ()
    duplicates: int = 0  # same mention_id again in the batch (the first is kept)
    reposts: int = 0  # copies folded into their original
    ignored_fields: tuple[str, ...] = field(default=())

    @property
    def tiers(self) -> dict[str, int]:
        if self.frame.empty:
            return {}
        counts = self.frame["reach_tier"].value_counts()
        return {str(k): int(v) for k, v in counts.items()}


def parse_count(value: Any) -> int | None:
    """A non-negative count from a number or a display string (``1.2万`` → 12000).

    Returns None for missing values; raises ValueError for anything else.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError("a count, not true/false")
    if isinstance(value, int | float):
        if not math.isfinite(value) or value < 0:
            raise ValueError("a count must be a finite number ≥ 0")
        return int(round(value))
    m = _COUNT.match(str(value))
    if not m:
        raise ValueError("a count such as 120, 1,200 or 1.2万")
    return int(round(float(m.group(1).replace(",", "")) * _UNITS.get(m.group(2), 1.0)))


def _timestamp(value: Any, tz: str) -> dt.datetime:
    if isinstance(value, bool) or value is None:
        raise ValueError("a time (ISO 8601 or epoch seconds)")
    if isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()):
        x = float(value)
        ts = pd.Timestamp(x / 1000 if x > 1e11 else x, unit="s", tz="UTC")
    else:
        try:
            ts = pd.Timestamp(str(value).strip())
        except ValueError:
            raise ValueError("a time such as 2026-10-27 09:52:00 or 2026-10-27T01:52:00Z") from None
    if pd.isna(ts):
        raise ValueError("a time (ISO 8601 or epoch seconds)")
    if ts.tzinfo is not None:
        ts = ts.tz_convert(ZoneInfo(tz)).tz_localize(None)
    return ts.to_pydatetime()


def _get(rec: Mapping[str, Any], name: str) -> Any:
    for key in ALIASES.get(name, (name,)):
        if key in rec and rec[key] is not None:
            return rec[key]
    return None


def _text(value: Any, *, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str | int):
        raise ValueError("text")
    out = str(value).strip()
    if len(out) > limit:
        raise ValueError(f"at most {limit} characters")
    return out or None


def _one(i: int, rec: Any, tz: str) -> tuple[dict[str, Any] | None, RejectedRecord | None]:
    if not isinstance(rec, Mapping):
        return None, RejectedRecord(i, "", type(rec).__name__, "a record must be a JSON object")
    row: dict[str, Any] = {}
    name = "mention_id"
    try:
        for name, limit in (("mention_id", MAX_ID), ("text", MAX_TEXT), ("author", MAX_ID)):
            row[name] = _text(_get(rec, name), limit=limit)
        name = "repost_of"
        row["repost_of"] = _text(_get(rec, name), limit=MAX_ID)
        name = "platform"
        plat = _text(_get(rec, name), limit=40)
        row["platform"] = None if plat is None else PLATFORMS.get(plat.lower(), plat)
        for name in ("mention_id", "platform", "text", "published_at"):
            if _get(rec, name) is None or (name != "published_at" and row[name] is None):
                raise ValueError("required")
        name = "published_at"
        row["published_at"] = _timestamp(_get(rec, name), tz)
        for name in ("author_followers", "likes", "comments", "shares"):
            row[name] = parse_count(_get(rec, name))
        name = "rating"
        rating = _get(rec, name)
        row["rating"] = None if rating in (None, "") else float(rating)
        if row["rating"] is not None and not (0 <= row["rating"] <= 100):
            raise ValueError("a rating between 0 and 100")
        name = "verified"
        ver = _get(rec, name)
        if ver is not None and not isinstance(ver, bool):
            raise ValueError("true or false")
        name = "author_type"
        kind = _text(_get(rec, name), limit=40)
    except (ValueError, TypeError) as exc:
        shown = str(_get(rec, name))[:80] if isinstance(rec, Mapping) else ""
        return None, RejectedRecord(i, name, shown, f"{name}: {exc}")
    row["reach_tier"] = reach_tier(row["author_followers"], verified=bool(ver), author_type=kind)
    return row, None


def repost_key(text: str) -> str:
    """The text a repost shares with its original: no ``//@name:`` markers, links, punctuation."""
    return _NOISE.sub("", _CHAIN.sub(" ", str(text))).lower()


def dedup_reposts(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Fold copies into their originals (see the module docstring); returns (frame, copies).

    ``frame`` has the canonical columns and optionally ``repost_of`` and ``reach_tier``.
    """
    if frame.empty:
        return frame, 0
    df = frame.sort_values("published_at", kind="stable").reset_index(drop=True)
    ids = df["mention_id"].astype(str).to_numpy()
    pos = {m: i for i, m in enumerate(ids)}
    tiers = df["reach_tier"].to_numpy() if "reach_tier" in df else np.full(len(df), "regular")
    target = np.full(len(df), -1)
    explicit = np.zeros(len(df), bool)
    if "repost_of" in df:
        for i, src in enumerate(df["repost_of"].to_numpy()):
            if isinstance(src, str) and src and src != ids[i]:
                target[i] = pos.get(src, -2)  # -2: the original is not in this batch
                explicit[i] = True
    first: dict[tuple[str, str], int] = {}
    times = pd.to_datetime(df["published_at"]).to_numpy()
    for i, (plat, text) in enumerate(zip(df["platform"].astype(str), df["text"], strict=True)):
        if explicit[i]:
            continue
        key = repost_key(text)
        if len(key) < MIN_REPOST_KEY:
            continue
        j = first.get((plat, key))
        if j is not None and times[i] - times[j] <= REPOST_WINDOW.to_timedelta64():
            target[i] = j
        else:
            first[(plat, key)] = i
    copy = (target != -1) & ~np.isin(tiers, ("mid", "top"))
    shares = pd.to_numeric(df["shares"], errors="coerce").astype("Float64")
    for i in np.flatnonzero(copy & (target >= 0)).tolist():
        j = int(target[i])
        shares.iat[j] = (0 if pd.isna(shares.iat[j]) else shares.iat[j]) + 1
    df["shares"] = shares
    return df[~copy].reset_index(drop=True), int(copy.sum())


def validate_mentions(
    records: Sequence[Any], *, tz: str = "Asia/Shanghai", max_records: int = 10_000
) -> MentionBatch:
    """Validate feed records into canonical mentions; bad records are returned, not raised.

    Args:
        records: a sequence of JSON objects (see the module docstring for the fields).
        tz: the workspace time zone; timestamps with an offset are converted to it.
        max_records: a larger batch is rejected whole (split it).

    Raises:
        ValueError: ``records`` is not a list, or is longer than ``max_records``.
    """
    if isinstance(records, str | bytes | Mapping) or not isinstance(records, Sequence):
        raise ValueError("records must be a JSON array of objects")
    if len(records) > max_records:
        raise ValueError(f"{len(records)} records in one batch; at most {max_records}")
    rows: list[dict[str, Any]] = []
    rejected: list[RejectedRecord] = []
    seen: set[str] = set()
    dups = 0
    ignored: set[str] = set()
    for i, rec in enumerate(records):
        row, bad = _one(i, rec, tz)
        if bad is not None:
            rejected.append(bad)
            continue
        assert row is not None
        ignored |= {str(k) for k in rec if k not in KNOWN}
        if row["mention_id"] in seen:
            dups += 1
            continue
        seen.add(row["mention_id"])
        rows.append(row)
    frame = pd.DataFrame(rows, columns=[*COLUMNS, "repost_of", "reach_tier"])
    frame, reposts = dedup_reposts(frame)
    return MentionBatch(frame, tuple(rejected), dups, reposts, tuple(sorted(ignored)))
