"""The IO edge of listening: the webhook receiver and reading mentions from the warehouse.

Unlike the rest of this package these functions touch a workspace. They live here so the
listening feature is one folder; they import only ingest/warehouse (stages to the left), and
the API mounts :func:`ingest_mentions` as ``POST /api/listening/mentions``.

The receiver validates the records (:func:`.feed.validate_mentions`), writes the accepted ones
to ``feeds/mentions/<batch>.csv`` in the workspace (the raw batch, kept for audit) and loads that
file through the ordinary ingest pipeline as source ``mentions_webhook``: the same parsing,
quarantine, lineage and atomic, idempotent upsert by ``mention_id`` as a file export, so a
batch sent twice is stored once.
"""

from __future__ import annotations

import csv
import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from luopan.engines.listening.feed import COLUMNS, RejectedRecord, validate_mentions
from luopan.errors import DataContractError
from luopan.workspace import Workspace

__all__ = ["FEED_DIR", "MentionIngestResult", "ingest_mentions", "load_mentions"]

FEED_DIR = "feeds/mentions"
SOURCE = "mentions_webhook"


@dataclass(frozen=True)
class MentionIngestResult:
    """What one webhook batch did (JSON-ready through :meth:`to_dict`)."""

    status: str  # loaded | empty | failed
    received: int
    accepted: int
    loaded: int
    rejected: tuple[RejectedRecord, ...] = ()
    duplicates: int = 0
    reposts: int = 0
    quarantined: int = 0
    tiers: dict[str, int] = field(default_factory=dict)
    ignored_fields: tuple[str, ...] = ()
    batch_id: str | None = None
    file: str | None = None
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "received": self.received,
            "accepted": self.accepted,
            "loaded": self.loaded,
            "rejected": [r.to_dict() for r in self.rejected],
            "duplicates": self.duplicates,
            "reposts": self.reposts,
            "quarantined": self.quarantined,
            "tiers": dict(self.tiers),
            "ignored_fields": list(self.ignored_fields),
            "batch_id": self.batch_id,
            "file": self.file,
            "message": self.message,
        }


def _fmt(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp | dt.datetime):
        return f"{value:%Y-%m-%d %H:%M:%S}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def ingest_mentions(
    ws: Workspace, records: Sequence[Any], *, source: str = SOURCE, now: dt.datetime | None = None
) -> MentionIngestResult:
    """Validate, de-duplicate and load one batch of feed records into ``mentions``.

    Args:
        ws: the workspace (its time zone converts offset timestamps).
        records: a JSON array of mention objects (fields in :mod:`.feed`), ≤ 10,000.
        source: the source name recorded as lineage.
        now: the batch time used in the file name (default: the clock).

    Returns:
        A :class:`MentionIngestResult`; invalid records are listed in ``rejected`` (index,
        field, value, reason) and do not stop the valid ones.

    Raises:
        DataContractError: ``records`` is not a list of objects, or too long.
    """
    try:
        batch = validate_mentions(records, tz=ws.config.timezone)
    except ValueError as exc:
        raise DataContractError(
            f"mentions webhook: {exc}", fix="POST a JSON array of at most 10,000 mention objects"
        ) from None
    base: dict[str, Any] = {
        "received": len(records),
        "accepted": len(batch.frame),
        "rejected": batch.rejected,
        "duplicates": batch.duplicates,
        "reposts": batch.reposts,
        "tiers": batch.tiers,
        "ignored_fields": batch.ignored_fields,
    }
    if batch.frame.empty:
        return MentionIngestResult(status="empty", loaded=0, **base)
    from luopan.config import SourceConfig
    from luopan.ingest.pipeline import ingest_paths

    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    folder = ws.root / FEED_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stamp}-{uuid.uuid4().hex[:8]}.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(COLUMNS)
        for row in batch.frame[list(COLUMNS)].itertuples(index=False):
            out.writerow([_fmt(v) for v in row])
    cfg = SourceConfig(name=source, path=str(path), table="mentions")
    (res,) = ingest_paths(ws, [cfg])
    kept: str | None = str(path.relative_to(ws.root))
    if res.status == "unchanged":  # the same batch was loaded before: keep one copy
        path.unlink()
        kept = None
    return MentionIngestResult(
        status="loaded" if res.status == "loaded" else res.status,
        loaded=int(res.loaded.get("mentions", 0)),
        quarantined=res.quarantined,
        batch_id=res.batch_id,
        file=kept,
        message=res.message,
        **base,
    )


def load_mentions(
    ws: Workspace, *, start: dt.datetime | None = None, end: dt.datetime | None = None
) -> pd.DataFrame:
    """The workspace's ``mentions`` table (read-only), oldest first, optionally a time range."""
    from luopan.warehouse.store import run_read_only

    cols = ", ".join(f'"{c}"' for c in COLUMNS)
    where, params = [], []
    if start is not None:
        where.append("published_at >= ?")
        params.append(start)
    if end is not None:
        where.append("published_at < ?")
        params.append(end)
    cond = f" WHERE {' AND '.join(where)}" if where else ""
    sql = f"SELECT {cols} FROM mentions{cond} ORDER BY published_at, mention_id"
    frame = run_read_only(ws.warehouse_path, sql, params).df()
    frame["published_at"] = pd.to_datetime(frame["published_at"])
    return frame
