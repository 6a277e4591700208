"""Post-crisis review: did sentiment recover, when was volume back to baseline, what was done when.

- **Volume back to baseline**: the baseline is the hourly rate λ of negative mentions over the
  ``baseline_days`` before the alert. From the peak hour on, the first hour ``t`` whose trailing
  ``window_h`` hours hold no more negatives than the Poisson 99% quantile of ``window_h · λ`` is
  the return to baseline (a one-sided Poisson control limit, the EARS / Farrington family).
- **Sentiment recovery**: net sentiment (pos − neg) / (pos + neg) (Talkwalker's formula; with a
  binary verdict it is 1 − 2 · negative share) over the baseline, during the crisis (alert to
  the return to baseline) and in the ``after_days`` after it; recovered when the after value is
  within ``tolerance`` of the baseline.
- **Timeline**: the alert, each playbook task's deadline and completion (minutes late), the
  escalations sent, the peak and the return to baseline, in time order.

References:
    Hutwagner, L. et al. (2003). The bioterrorism preparedness and response Early Aberration
    Reporting System (EARS). J. Urban Health 80.
    Talkwalker net sentiment: (pos − neg) / (pos + neg), developer.talkwalker.com.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import poisson

from luopan.engines.listening.playbook import Task
from luopan.errors import InsufficientDataError

__all__ = ["CrisisReview", "TimelineEntry", "review_crisis"]


@dataclass(frozen=True)
class TimelineEntry:
    at: pd.Timestamp
    kind: str  # alert | due | done | escalation | peak | baseline
    zh: str
    en: str


@dataclass(frozen=True)
class CrisisReview:
    start: pd.Timestamp
    baseline_per_hour: float
    peak_at: pd.Timestamp | None
    peak_negatives: int
    back_to_baseline_at: pd.Timestamp | None
    net_sentiment_before: float | None
    net_sentiment_during: float | None
    net_sentiment_after: float | None
    sentiment_recovered: bool | None
    first_response_min: float | None
    tasks_done_on_time: int
    tasks_late: int
    tasks_open: int
    timeline: tuple[TimelineEntry, ...] = field(default=())

    @property
    def hours_to_baseline(self) -> float | None:
        if self.back_to_baseline_at is None:
            return None
        return (self.back_to_baseline_at - self.start).total_seconds() / 3600

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "timeline"}
        out["hours_to_baseline"] = self.hours_to_baseline
        out["timeline"] = [e.__dict__ for e in self.timeline]
        return {k: (str(v) if isinstance(v, pd.Timestamp) else v) for k, v in out.items()}


def _net(neg: np.ndarray) -> float | None:
    return None if neg.size == 0 else float(1.0 - 2.0 * neg.mean())


def review_crisis(
    mentions: pd.DataFrame,
    negative: np.ndarray,
    start: pd.Timestamp,
    *,
    tasks: Sequence[Task] = (),
    escalations: Sequence[tuple[pd.Timestamp, str, str]] = (),
    now: pd.Timestamp | None = None,
    baseline_days: int = 28,
    window_h: int = 6,
    after_days: int = 7,
    tolerance: float = 0.05,
) -> CrisisReview:
    """The review of the crisis alerted at ``start`` (see the module docstring).

    Args:
        mentions: ``published_at`` per mention (reposts removed).
        negative: the sentiment verdict per row.
        tasks: the playbook tasks with their ``done_at``.
        escalations: ``(at, zh, en)`` of each escalation sent.
        now: the review time (default: the last mention); open tasks are late against it.

    Raises:
        InsufficientDataError: no mentions before ``start`` to form a baseline.
    """
    t = pd.to_datetime(mentions["published_at"]).to_numpy(dtype="datetime64[ns]")
    neg = np.asarray(negative, bool)
    start = pd.Timestamp(start)
    now = pd.Timestamp(now) if now is not None else pd.Timestamp(t.max())
    b0 = start - pd.Timedelta(days=baseline_days)
    before = (t >= b0.to_datetime64()) & (t < start.to_datetime64())
    if not before.any():
        raise InsufficientDataError(
            f"no mentions in the {baseline_days} days before {start:%Y-%m-%d %H:%M}",
            fix="load the mentions of the weeks before the crisis",
        )
    lam = float(neg[before].sum()) / (baseline_days * 24.0)
    hours = pd.date_range(start.floor("h"), max(now, start).ceil("h"), freq="h")
    after_start = (t >= start.floor("h").to_datetime64()) & (t <= now.to_datetime64())
    idx = np.searchsorted(hours.to_numpy(), t[after_start & neg], side="right") - 1
    counts = np.bincount(idx[idx >= 0], minlength=len(hours))[: len(hours)]
    peak_i = int(np.argmax(counts)) if counts.size else 0
    limit = poisson.ppf(0.99, max(window_h * lam, 1e-9))
    back = None
    trailing = np.convolve(counts, np.ones(window_h, int))[: counts.size]
    for i in range(peak_i + 1, counts.size):
        if i - peak_i >= 1 and trailing[i - 1] <= limit and hours[i] <= now:
            back = pd.Timestamp(hours[i])
            break
    end_during = back if back is not None else min(now, start + pd.Timedelta(hours=24))
    during = (t >= start.to_datetime64()) & (t < end_during.to_datetime64())
    net_after = None
    if back is not None:
        aft = (t >= back.to_datetime64()) & (
            t < (back + pd.Timedelta(days=after_days)).to_datetime64()
        )
        net_after = _net(neg[aft])
    net_before = _net(neg[before])
    recovered = (
        None
        if net_after is None or net_before is None
        else bool(net_after >= net_before - tolerance)
    )
    timeline = [TimelineEntry(start, "alert", "舆情预警", "crisis alert")]
    on_time = late = still_open = 0
    first_resp: float | None = None
    for task in tasks:
        timeline.append(TimelineEntry(task.due, "due", f"截止：{task.zh}", f"due: {task.en}"))
        if task.done_at is None or task.done_at > now:
            still_open += 1
            continue
        mins = (task.done_at - task.due).total_seconds() / 60
        on_time += mins <= 0
        late += mins > 0
        tag_zh = "按时" if mins <= 0 else f"超时 {mins:.0f} 分钟"
        tag_en = "on time" if mins <= 0 else f"{mins:.0f} min late"
        timeline.append(
            TimelineEntry(
                task.done_at,
                "done",
                f"完成：{task.zh}（{task.owner}，{tag_zh}）",
                f"done: {task.en} ({task.owner}, {tag_en})",
            )
        )
        if task.is_response:
            m = (task.done_at - start).total_seconds() / 60
            first_resp = m if first_resp is None else min(first_resp, m)
    timeline += [TimelineEntry(pd.Timestamp(a), "escalation", zh, en) for a, zh, en in escalations]
    if counts.size and counts[peak_i] > 0:
        timeline.append(
            TimelineEntry(
                pd.Timestamp(hours[peak_i]),
                "peak",
                f"负面声量峰值 {counts[peak_i]} 条/小时",
                f"peak {counts[peak_i]} negatives/hour",
            )
        )
    if back is not None:
        timeline.append(
            TimelineEntry(back, "baseline", "负面声量回到基线", "volume back to baseline")
        )
    timeline.sort(key=lambda e: e.at)
    return CrisisReview(
        start=start,
        baseline_per_hour=lam,
        peak_at=pd.Timestamp(hours[peak_i]) if counts.size and counts[peak_i] else None,
        peak_negatives=int(counts[peak_i]) if counts.size else 0,
        back_to_baseline_at=back,
        net_sentiment_before=net_before,
        net_sentiment_during=_net(neg[during]),
        net_sentiment_after=net_after,
        sentiment_recovered=recovered,
        first_response_min=first_resp,
        tasks_done_on_time=int(on_time),
        tasks_late=int(late),
        tasks_open=still_open,
        timeline=tuple(timeline),
    )
