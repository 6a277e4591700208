"""``luopan run``: ingest what is new, evaluate the rules, open incidents, diagnose, propose actions.

One pass of the loop sense → diagnose → decide, timed step by step (the decision latency):

1. ingest the workspace's new or changed sources;
2. for every metric rule, query the metric at the rule's grain (the whole history with
   ``backfill``, else a look-back long enough for the rule's baseline, streak and cool-down),
   slice by the rule's dimensions (the ``top_k`` largest slices), and evaluate it;
3. open an incident per firing — idempotent, so a second run over the same data opens nothing;
4. diagnose each new incident: for a metric the root-cause search over its dimensions (the
   period against the rule's reference), with the zh and en explanation;
5. log the rule's actions (tasks, playbooks, campaign pauses) with owners and due times;
6. freshness rules open data incidents for late sources.

Rules whose metric the catalog does not (yet) define are reported as skipped, not failed.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from luopan.decisions.diagnose import DEFAULT_DIMS, dominant_element
from luopan.decisions.evaluate import Firing, evaluate_rule
from luopan.decisions.rules import Rule, RuleSet, default_rules, load_rules
from luopan.decisions.store import DecisionLog, Incident
from luopan.workspace import Workspace

__all__ = ["RunReport", "run_loop", "workspace_rules"]

_FREQ = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}
_LOOKBACK = {"day": 70, "week": 26, "month": 18, "quarter": 10, "year": 5}  # periods
_SEVERITY = {"low": "info", "medium": "warning", "high": "critical", "critical": "critical"}


@dataclass
class RunReport:
    """What one pass did, with the time each step took."""

    timings: dict[str, float] = field(default_factory=dict)
    files_loaded: int = 0
    rules_evaluated: list[str] = field(default_factory=list)
    rules_skipped: dict[str, str] = field(default_factory=dict)
    firings: int = 0
    opened: list[Incident] = field(default_factory=list)
    already_open: int = 0
    actions: int = 0
    notified: int = 0
    notify_failures: list[str] = field(default_factory=list)

    @property
    def total_seconds(self) -> float:
        return sum(self.timings.values())


def workspace_rules(ws: Workspace) -> RuleSet:
    """The shipped rules, overridden or extended by ``rules/*.yaml`` in the workspace."""
    merged = {r.name: r for r in default_rules().rules}
    folder = ws.root / "rules"
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        merged.update({r.name: r for r in load_rules(path).rules})
    return RuleSet(rules=tuple(merged.values()))


def _series(frame: pd.DataFrame, grain: str) -> pd.DataFrame:
    periods = pd.PeriodIndex(pd.to_datetime(frame["period"]), freq=_FREQ[grain])
    return pd.DataFrame({"value": frame["value"].to_numpy(dtype=float)}, index=periods)


def _complete(series: pd.DataFrame, now: dt.datetime) -> pd.DataFrame:
    """Only periods that have ended by ``now`` (a half-day is not a drop)."""
    ends = series.index.end_time
    return series[ends < pd.Timestamp(now)]


def _slices(frame: pd.DataFrame, by: tuple[str, ...], top_k: int) -> list[dict[str, Any]]:
    if not by:
        return [{}]
    totals = frame.groupby(list(by), dropna=False)["value"].sum().sort_values(ascending=False)
    keys = totals.index[:top_k]
    return [dict(zip(by, k if isinstance(k, tuple) else (k,), strict=True)) for k in keys]


def _evaluate(
    con: Any, catalog: Any, rule: Rule, *, start: dt.date | None, end: dt.date, now: dt.datetime
) -> list[tuple[dict[str, Any], Firing]]:
    from luopan.metrics import query_metric

    frame = query_metric(con, catalog, rule.metric or "", grain=rule.grain, by=list(rule.by),
                         start=start, end=end)
    out: list[tuple[dict[str, Any], Firing]] = []
    for sl in _slices(frame, rule.by, rule.top_k):
        part = frame
        for k, v in sl.items():
            part = part[part[k] == v]
        series = _complete(_series(part, rule.grain), now)
        out += [(sl, f) for f in evaluate_rule(rule, series, known=_known(series, rule.grain))]
    return out


def _known(series: pd.DataFrame, grain: str) -> pd.Series | None:
    """Days of Chinese public holidays and shopping festivals (daily rules only)."""
    from luopan.engines.anomaly.calendar import china_events

    if grain != "day" or series.empty:
        return None
    first, last = series.index.min().start_time.date(), series.index.max().start_time.date()
    days: set[dt.date] = set()
    for event in china_events(first, last):
        days.update(event.start + dt.timedelta(days=i) for i in range(event.days))
    return pd.Series([p.start_time.date() in days for p in series.index], index=series.index)


def _diagnose(
    con: Any, catalog: Any, rule: Rule, firing: Firing, log: DecisionLog, incident: Incident,
    now: dt.datetime,
) -> None:
    """Root-cause search over the diagnosis dimensions: the period against the reference."""
    from luopan.engines.rca import explain, localize
    from luopan.errors import LuopanError
    from luopan.metrics import query_metric

    day = firing.period.start_time.date()
    if rule.grain != "day" or rule.condition.baseline != "same_weekday_4w":
        return
    refs = [day - dt.timedelta(days=7 * k) for k in range(1, 5)]
    try:
        frame = query_metric(con, catalog, rule.metric or "", grain="day",
                             by=list(DEFAULT_DIMS), start=min(refs),
                             end=day + dt.timedelta(days=1))
    except LuopanError:
        return
    frame["day"] = pd.to_datetime(frame["period"]).dt.date
    keys = list(DEFAULT_DIMS)
    real = frame[frame["day"] == day].groupby(keys, dropna=False)["value"].sum()
    base = frame[frame["day"].isin(refs)].groupby(keys, dropna=False)["value"].sum() / len(refs)
    leaves = pd.concat([real.rename("real"), base.rename("predict")], axis=1).fillna(0.0)
    leaves = leaves.reset_index().fillna({k: "?" for k in keys})
    if leaves.empty or not (leaves["real"] - leaves["predict"]).abs().sum():
        return
    result = localize(leaves, dimensions=keys)
    if not result.causes:  # a few channels × regions: see dominant_element
        result = dominant_element(leaves, keys, result)
    labels_zh = {"channel": "渠道", "customer__region": "区域"}
    labels_en = {"channel": "channel", "customer__region": "region"}
    log.add_diagnosis(
        incident.id, method="rca.localize",
        summary_zh=explain(result, "zh", kpi=rule.metric, labels=labels_zh),
        summary_en=explain(result, "en", kpi=rule.metric, labels=labels_en),
        detail={"causes": [
            {"conditions": [list(t) for t in c.conditions], "share": c.share,
             "confidence": c.confidence}
            for c in result.causes
        ], "day": day.isoformat(), "reference_days": [d.isoformat() for d in refs]},
        now=now,
    )


def _actions(rule: Rule, log: DecisionLog, incident: Incident, now: dt.datetime) -> int:
    n = 0
    for action in rule.actions:
        if action.kind in ("open_incident", "diagnose", "notify"):
            continue
        title = action.title
        zh = title.zh if title else f"{rule.label.zh}：{action.playbook or action.kind}"
        en = title.en if title else f"{rule.label.en}: {action.playbook or action.kind}"
        log.add_action(
            incident.id, kind=action.playbook or action.kind, title_zh=zh, title_en=en,
            owner=action.owner or "ops", due_at=now + dt.timedelta(hours=action.due_hours or 24),
            expected_impact={"metric": rule.metric}, now=now,
        )
        n += 1
    return n


def run_loop(
    ws: Workspace,
    *,
    backfill: bool = False,
    ingest: bool = True,
    progress: Callable[[str], None] | None = None,
) -> RunReport:
    """One pass of the loop over workspace ``ws``; see the module docstring."""
    from luopan.errors import MetricError
    from luopan.ingest.pipeline import ingest_workspace, now_local
    from luopan.metrics import connect, load_catalog

    report = RunReport()

    def step(name: str) -> Callable[[], None]:
        if progress:
            progress(name)
        t0 = time.perf_counter()
        return lambda: report.timings.__setitem__(name, time.perf_counter() - t0)

    if ingest:
        done = step("ingest")
        report.files_loaded = sum(r.status == "loaded" for r in ingest_workspace(ws))
        done()
    now = now_local(ws)
    done = step("rules")
    rules = workspace_rules(ws)
    catalog = load_catalog(ws)
    done()
    con = connect(ws)
    with DecisionLog(ws.metadata_url) as log:
        for rule in rules.rules:
            if rule.condition.kind == "freshness":
                done = step("freshness")
                _freshness(ws, rule, log, now, report)
                done()
                continue
            if rule.metric not in catalog.metrics:
                report.rules_skipped[rule.name] = f"metric {rule.metric!r} is not in the catalog"
                continue
            if rule.condition.baseline == "expected" and rule.condition.kind == "change":
                report.rules_skipped[rule.name] = "needs the anomaly model's expected values"
                continue
            done = step(f"evaluate {rule.name}")
            start = None if backfill else (
                pd.Timestamp(now).to_period(_FREQ[rule.grain]) - _LOOKBACK[rule.grain]
            ).start_time.date()
            try:
                firings = _evaluate(con, catalog, rule, start=start,
                                    end=now.date() + dt.timedelta(days=1), now=now)
            except MetricError as exc:  # e.g. a slice dimension the metric cannot take
                report.rules_skipped[rule.name] = exc.message
                done()
                continue
            report.rules_evaluated.append(rule.name)
            report.firings += len(firings)
            done()
            done = step(f"decide {rule.name}")
            for sl, f in firings:
                incident, created = log.open_incident(
                    rule=rule.name, metric=rule.metric or "", slice=sl, period=str(f.period),
                    severity=rule.severity, title_zh=rule.label.zh, title_en=rule.label.en,
                    evidence={"value": f.value, "reference": f.reference, "measure": f.measure,
                              "streak": f.streak},
                    now=now,
                )
                if not created:
                    report.already_open += 1
                    continue
                report.opened.append(incident)
                if any(a.kind == "diagnose" for a in rule.actions):
                    _diagnose(con, catalog, rule, f, log, incident, now)
                report.actions += _actions(rule, log, incident, now)
                channels = [c for a in rule.actions if a.kind == "notify" for c in a.channels]
                if channels:
                    _notify(ws, log, incident, channels, report)
            done()
    con.disconnect()
    return report


def _notify(ws: Workspace, log: DecisionLog, incident: Incident, channels: list[str],
            report: RunReport) -> None:
    """Send the incident (with its diagnosis) to the rule's channels from ``notify.yaml``."""
    from luopan.errors import LuopanError
    from luopan.i18n import language
    from luopan.notify.config import NOTIFY_FILE, build_channel, load_notify_config
    from luopan.notify.dispatch import Dispatcher, RetryPolicy
    from luopan.notify.message import Message

    try:
        cfg = load_notify_config(ws.root / NOTIFY_FILE)
        built = {name: build_channel(name, cfg) for name in channels}
    except LuopanError as exc:
        report.notify_failures.append(exc.message)
        return
    lang = "zh" if (cfg.language or language(ws.config.language)) == "zh" else "en"
    detail = log.incident(incident.id)
    summary = [(g.summary_zh if lang == "zh" else g.summary_en) for g in detail.diagnoses]
    body = [f"{incident.metric} {incident.slice or ''} {incident.period}",
            *(f"{k}: {v}" for k, v in incident.evidence.items()), *summary]
    message = Message(
        key=incident.dedup_key, title=incident.title(lang), body="\n".join(body),
        severity=_SEVERITY[incident.severity], lang=lang,  # type: ignore[arg-type]
    )
    dispatcher = Dispatcher(built, retry=RetryPolicy(max_attempts=cfg.max_attempts))
    for delivery in dispatcher.send(message, channels):
        if delivery.ok:
            report.notified += 1
        else:
            report.notify_failures.append(f"{delivery.channel}: {delivery.status}")


def _freshness(ws: Workspace, rule: Rule, log: DecisionLog, now: dt.datetime,
               report: RunReport) -> None:
    import duckdb

    from luopan.warehouse.status import read_status

    if not ws.warehouse_path.exists():
        return
    con = duckdb.connect(str(ws.warehouse_path), read_only=True)
    try:
        status = read_status(con, ws.config, now=now)
    finally:
        con.close()
    report.rules_evaluated.append(rule.name)
    for f in status.freshness:
        if not f.late:
            continue
        report.firings += 1
        incident, created = log.open_incident(
            rule=rule.name, metric="freshness", slice={"source": f.source},
            period=f"{f.latest:%Y-%m-%d}" if f.latest else "never", severity=rule.severity,
            title_zh=f"{rule.label.zh}：{f.source}", title_en=f"{rule.label.en}: {f.source}",
            evidence={"latest": str(f.latest), "age_hours": f.age_hours}, now=now,
        )
        if created:
            report.opened.append(incident)
        else:
            report.already_open += 1


def report_lines(report: RunReport, lang: str) -> list[str]:
    """A short zh/en summary of a run (the CLI prints it; the report file holds it)."""
    zh = lang == "zh"
    lines = [
        (f"新入库文件 {report.files_loaded} 个；评估规则 {len(report.rules_evaluated)} 条，"
         f"触发 {report.firings} 次；新开事件 {len(report.opened)} 个（已存在 {report.already_open}"
         f" 个）；新建行动 {report.actions} 项；用时 {report.total_seconds:.1f} 秒")
        if zh else
        (f"{report.files_loaded} files loaded; {len(report.rules_evaluated)} rules evaluated, "
         f"{report.firings} firings; {len(report.opened)} incidents opened "
         f"({report.already_open} already open); {report.actions} actions; "
         f"{report.total_seconds:.1f} s"),
    ]
    for name, why in report.rules_skipped.items():
        lines.append(f"{'跳过' if zh else 'skipped'} {name}: {why}")
    return lines


def write_report(ws: Workspace, report: RunReport, lang: str, now: dt.datetime) -> Path:
    folder = ws.root / "reports"
    folder.mkdir(exist_ok=True)
    path = folder / f"run-{now:%Y%m%d-%H%M%S}.md"
    body = ["# " + ("罗盘运行报告" if lang == "zh" else "luopan run report"), ""]
    body += [f"- {line}" for line in report_lines(report, lang)]
    body += ["", "| " + ("步骤 | 秒" if lang == "zh" else "step | s") + " |", "|---|---:|"]
    body += [f"| {k} | {v:.2f} |" for k, v in report.timings.items()]
    body += ["", "## " + ("新事件" if lang == "zh" else "new incidents"), ""]
    body += [f"- #{i.id} [{i.severity}] {i.title(lang)} {i.slice or ''} {i.period}"
             for i in report.opened]
    path.write_text("\n".join(body) + "\n", encoding="utf-8")
    return path
