"""``luopan run``: ingest what is new, evaluate the rules, open incidents, diagnose, propose actions.

One pass of the loop sense → diagnose → decide, timed step by step (the decision latency):

1. ingest the workspace's new or changed sources;
2. for every metric rule, query the metric at the rule's grain (the whole history with
   ``backfill`` — an engine series such as the health index its last 26 periods — else a
   look-back long enough for the rule's baseline, streak and cool-down),
   slice by the rule's dimensions (the ``top_k`` largest slices), and evaluate it;
3. open an incident per firing — idempotent, so a second run over the same data opens nothing;
4. diagnose each new incident: for a metric the root-cause search over its dimensions (the
   period against the rule's reference), with the zh and en explanation;
5. log the rule's actions (tasks, campaign pauses) with owners and due times, and run its
   playbooks (``luopan.decisions.playbooks``: recall lists with a holdout, tasks, notices);
6. freshness rules open data incidents for late sources;
7. verify: every action whose window is over is measured against its counterfactual and the
   outcome (worked / no effect / harmful, with the interval) is logged
   (``luopan.decisions.outcomes``).

A rule's metric is a catalog metric or an engine series (``luopan.decisions.series``: the user
health index); rules whose metric is neither are reported as skipped, not failed. The window a
run evaluates (look-back, backfill bound, complete periods) and the cool-down after earlier
incidents live in :mod:`luopan.decisions._window`.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pandas as pd

from luopan.decisions._window import BACKFILL_SERIES_PERIODS as BACKFILL_SERIES_PERIODS
from luopan.decisions._window import _complete, _cooled, _series, _start
from luopan.decisions._window import _lookback as _lookback
from luopan.decisions.evaluate import Firing, evaluate_rule
from luopan.decisions.playbooks import PlaybookSet, check_rule_playbooks, workspace_playbooks
from luopan.decisions.respond import diagnose_incident, log_actions
from luopan.decisions.rules import Rule, RuleSet, default_rules, load_rules
from luopan.decisions.run_report import RunReport, report_lines, write_report
from luopan.decisions.store import DecisionLog
from luopan.workspace import Workspace

__all__ = ["RunReport", "report_lines", "run_loop", "workspace_rules", "write_report"]


def workspace_rules(ws: Workspace) -> RuleSet:
    """The shipped rules, overridden or extended by ``rules/*.yaml`` in the workspace.

    Raises:
        ConfigError: a rules or playbooks file is invalid, or a rule runs a playbook that
            exists nowhere (file:line of its ``playbook:`` key).
    """
    from luopan.decisions.rules import DEFAULT_RULES

    playbooks = workspace_playbooks(ws.root)
    merged = {r.name: r for r in default_rules().rules}
    check_rule_playbooks(DEFAULT_RULES, playbooks)
    folder = ws.root / "rules"
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        merged.update({r.name: r for r in load_rules(path).rules})
        check_rule_playbooks(path, playbooks)
    return RuleSet(rules=tuple(merged.values()))


def _slices(frame: pd.DataFrame, by: tuple[str, ...], top_k: int) -> list[dict[str, Any]]:
    if not by:
        return [{}]
    totals = frame.groupby(list(by), dropna=False)["value"].sum().sort_values(ascending=False)
    keys = totals.index[:top_k]
    return [dict(zip(by, k if isinstance(k, tuple) else (k,), strict=True)) for k in keys]


def _evaluate(
    ws: Workspace,
    con: Any,
    catalog: Any,
    rule: Rule,
    *,
    start: dt.date | None,
    end: dt.date,
    now: dt.datetime,
    step: Callable[[str], Callable[[], None]],
) -> list[tuple[dict[str, Any], Firing]]:
    """Query the rule's series (catalog metric, else an engine series hook), add the known
    events and the anomaly model's expected values, evaluate; timed as metrics / anomaly /
    rules."""
    from luopan.decisions.series import SERIES_HOOKS
    from luopan.metrics import query_metric

    done = step("metrics")
    try:
        if rule.metric in catalog.metrics:
            frame = query_metric(
                con,
                catalog,
                rule.metric or "",
                grain=rule.grain,
                by=list(rule.by),
                start=start,
                end=end,
            )
        else:
            frame = SERIES_HOOKS[rule.metric or ""](
                ws, grain=rule.grain, by=rule.by, start=start, end=end
            )
    finally:
        done()
    out: list[tuple[dict[str, Any], Firing]] = []
    for sl in _slices(frame, rule.by, rule.top_k):
        part = frame
        for k, v in sl.items():
            part = part[part[k] == v]
        series = _complete(_series(part, rule.grain), now)
        done = step("anomaly")
        known = _known(series, rule.grain)
        if rule.condition.kind == "change" and rule.condition.baseline == "expected":
            series = _expected(series)
        done()
        done = step("rules")
        out += [(sl, f) for f in evaluate_rule(rule, series, known=known)]
        done()
    return out


def _expected(series: pd.DataFrame) -> pd.DataFrame:
    """The anomaly model's expected value of every day (``luopan.engines.anomaly``; NaN
    while the history is too short), for change conditions against ``expected``."""
    from luopan.engines.anomaly import detect_anomalies

    if series.empty:
        return series.assign(expected=pd.Series(dtype=float))
    y = pd.Series(
        series["value"].to_numpy(dtype=float), index=series.index.to_timestamp(), name="y"
    )
    points = detect_anomalies(y, on_short="skip").points
    status = points["status"].to_numpy()
    expected = points["expected"].to_numpy(dtype=float, copy=True)
    expected[(status == "warmup") | (status == "event_no_baseline")] = float("nan")
    return series.assign(expected=expected if len(expected) == len(series) else float("nan"))


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


def run_loop(
    ws: Workspace,
    *,
    backfill: bool = False,
    ingest: bool = True,
    verify: bool = True,
    progress: Callable[[str], None] | None = None,
) -> RunReport:
    """One pass of the loop over workspace ``ws``; see the module docstring.

    ``report.timings`` sums the time of each stage over the rules: ingest, config (rules,
    playbooks, catalog), metrics (the rules' series), anomaly (known events, expected values),
    rules (the rule engine), diagnosis, actions, notify, freshness, verify.
    ``report.rule_timings`` has each rule's evaluate/decide time.
    """
    from luopan.errors import LuopanError
    from luopan.ingest.pipeline import ingest_workspace, now_local
    from luopan.metrics import connect, load_catalog

    report = RunReport()

    def step(name: str, into: dict[str, float] | None = None) -> Callable[[], None]:
        if progress:
            progress(name)
        t0 = time.perf_counter()
        table = report.timings if into is None else into

        def done() -> None:
            table[name] = table.get(name, 0.0) + time.perf_counter() - t0

        return done

    if ingest:
        done = step("ingest")
        report.files_loaded = sum(r.status == "loaded" for r in ingest_workspace(ws))
        done()
    now = now_local(ws)
    done = step("config")
    rules = workspace_rules(ws)
    playbooks = workspace_playbooks(ws.root)
    catalog = load_catalog(ws)
    done()
    from luopan.decisions.series import SERIES_HOOKS

    con = connect(ws)
    try:
        with DecisionLog(ws.metadata_url) as log:
            for rule in rules.rules:
                if rule.condition.kind == "freshness":
                    done = step("freshness")
                    _freshness(ws, rule, log, now, report)
                    done()
                    continue
                if rule.metric not in catalog.metrics and rule.metric not in SERIES_HOOKS:
                    report.rules_skipped[rule.name] = (
                        f"metric {rule.metric!r} is not in the catalog"
                    )
                    continue
                if (
                    rule.condition.baseline == "expected"
                    and rule.condition.kind == "change"
                    and rule.grain != "day"
                ):
                    report.rules_skipped[rule.name] = (
                        "the anomaly model's expected values are daily"
                    )
                    continue
                done_rule = step(f"evaluate {rule.name}", report.rule_timings)
                start = _start(rule, now, backfill=backfill)
                try:
                    firings = _evaluate(
                        ws,
                        con,
                        catalog,
                        rule,
                        start=start,
                        end=now.date() + dt.timedelta(days=1),
                        now=now,
                        step=step,
                    )
                except LuopanError as exc:  # a slice the metric cannot take, too little data
                    report.rules_skipped[rule.name] = exc.message
                    done_rule()
                    continue
                report.rules_evaluated.append(rule.name)
                report.firings += len(firings)
                done_rule()
                done_rule = step(f"decide {rule.name}", report.rule_timings)
                for sl, f in _cooled(log, rule, firings):
                    _decide(ws, con, catalog, rule, playbooks, log, sl, f, now, report, step)
                done_rule()
            if verify:
                from luopan.decisions.outcomes import verify_due_actions

                done = step("verify")
                report.verified = verify_due_actions(ws, log, con, catalog, now)
                done()
    finally:
        con.disconnect()
    return report


def _decide(
    ws: Workspace,
    con: Any,
    catalog: Any,
    rule: Rule,
    playbooks: PlaybookSet,
    log: DecisionLog,
    sl: dict[str, Any],
    f: Firing,
    now: dt.datetime,
    report: RunReport,
    step: Callable[[str], Callable[[], None]],
) -> None:
    """Open the firing's incident (once); diagnose it and act on it.

    An incident already open is resumed, not redone: a run killed after opening it (or
    between two steps of its playbook) left some of its diagnosis and actions unlogged, and
    the next run adds exactly the missing ones (each step is one transaction; steps are
    matched by kind and order). Notifications are sent for new incidents only.
    """
    incident, created = log.open_incident(
        rule=rule.name,
        metric=rule.metric or "",
        slice=sl,
        period=str(f.period),
        severity=rule.severity,
        title_zh=rule.label.zh,
        title_en=rule.label.en,
        evidence={
            "value": f.value,
            "reference": f.reference,
            "measure": f.measure,
            "streak": f.streak,
        },
        now=now,
    )
    logged: Counter[str] = Counter()
    diagnosed = False
    if created:
        report.opened.append(incident)
    else:
        report.already_open += 1
        detail = log.incident(incident.id)
        logged.update(a.kind for a in detail.actions)
        diagnosed = bool(detail.diagnoses)
    if any(a.kind == "diagnose" for a in rule.actions) and not diagnosed:
        done = step("diagnosis")
        diagnose_incident(con, catalog, rule, f, log, incident, now)
        done()
    before = report.actions
    log_actions(
        ws, rule, playbooks, log, incident, now, report, step, logged=logged, notify=created
    )
    if not created:
        report.resumed += report.actions - before


def _freshness(
    ws: Workspace, rule: Rule, log: DecisionLog, now: dt.datetime, report: RunReport
) -> None:
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
            rule=rule.name,
            metric="freshness",
            slice={"source": f.source},
            period=f"{f.latest:%Y-%m-%d}" if f.latest else "never",
            severity=rule.severity,
            title_zh=f"{rule.label.zh}：{f.source}",
            title_en=f"{rule.label.en}: {f.source}",
            evidence={"latest": str(f.latest), "age_hours": f.age_hours},
            now=now,
        )
        if created:
            report.opened.append(incident)
        else:
            report.already_open += 1
