"""Run what a rule decided: its playbook's steps, its tasks, its notifications.

The IO side of the loop's "act" step. A playbook (``luopan.decisions.playbooks``) is run
step by step for a new incident; every step is logged as an action with an owner and a due
time, and the step that the playbook's ``expected_impact`` is measured on (the recall list,
else the campaign pause, else the first task) carries it, so outcome verification
(``luopan.decisions.outcomes``) finds it once its window is over.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any, Literal

import numpy as np
import pandas as pd

from luopan.decisions.playbooks import Playbook, Step
from luopan.decisions.rules import Rule
from luopan.decisions.series import HEALTH_DIMENSIONS
from luopan.decisions.store import DecisionLog, Incident
from luopan.errors import DecisionError
from luopan.workspace import Workspace

__all__ = ["ActResult", "notify_incident", "recall_frame", "run_playbook"]

_SEVERITY: dict[str, Literal["info", "warning", "critical"]] = {
    "low": "info",
    "medium": "warning",
    "high": "critical",
    "critical": "critical",
}
_STEP_TITLES = {
    "recall_list": (
        "召回名单：{n} 人，其中留出 {h} 人不联系",
        "Recall list: {n} customers, {h} of them held out (not contacted)",
    ),
    "pause_campaign": ("暂停活动 {campaign}", "Pause campaign {campaign}"),
}


class ActResult:
    """Counts of what a playbook did (the loop adds them to its report)."""

    def __init__(self) -> None:
        self.actions = 0
        self.notified = 0
        self.failures: list[str] = []


# customers the churn model is trained on, at most (a simple random sample beyond): its ~100
# spline coefficients are estimated from 30k customers × 12 cutoffs (360k rows) about as well
# as from 1M, and the training stack (features and a BG/NBD fit per cutoff, then the penalised
# logistic fit) is what costs: 55 s at 100k customers, ~80 s at 1M. Every customer is scored.
MAX_TRAINING_CUSTOMERS = 30_000
_SCORES: dict[tuple[Any, ...], pd.DataFrame] = {}


def _scores(ws: Workspace, horizon_days: int) -> pd.DataFrame:
    """CLV and P(churn in ``horizon_days``) of every customer (``clv``, ``p_churn``), computed
    once per warehouse state and horizon: the recalls of several slices in one run share it."""
    from luopan.decisions.outcomes import purchases
    from luopan.engines.customers.churn import ChurnModel
    from luopan.engines.customers.clv import fit_clv
    from luopan.engines.customers.summary import summarize_transactions
    from luopan.warehouse.customer_reads import workspace_items

    st = ws.warehouse_path.stat()
    key = (str(ws.warehouse_path), st.st_ino, st.st_size, st.st_mtime_ns, horizon_days)
    if key in _SCORES:
        return _SCORES[key]
    occasions = purchases(ws)
    occasions["customer"] = occasions["customer"].astype(str)
    summary = summarize_transactions(
        occasions, customer_col="customer", date_col="day", amount_col="amount", time_unit="day"
    )
    clv = fit_clv(summary, horizon_days=365).predictions
    as_of = pd.Timestamp(occasions["day"].max())
    # integer codes for the churn model's many group-bys (strings cost ~40% of its time)
    codes, names = pd.factorize(occasions["customer"])
    coded = occasions.assign(customer=codes)
    # the product mix: SKU line counts per customer and day of the order lines, same codes
    items = workspace_items(ws)
    if items is not None:
        item_codes = pd.Index(names).get_indexer(items["customer"].astype(str))
        items = items.assign(customer=item_codes)[item_codes >= 0]
    train, train_items = coded, items
    if names.size > MAX_TRAINING_CUSTOMERS:
        sample = np.random.default_rng(0).choice(names.size, MAX_TRAINING_CUSTOMERS, replace=False)
        train = coded[np.isin(codes, sample)]
        if items is not None:
            train_items = items[np.isin(items["customer"].to_numpy(), sample)]
    risk = (
        ChurnModel(horizon_days=horizon_days)
        .fit(train, as_of, train_items)
        .predict_frame(coded, as_of, items)["p_churn"]
    )
    risk.index = pd.Index(names.take(risk.index.to_numpy(dtype=np.int64)), name=risk.index.name)
    _SCORES.clear()  # one warehouse state at a time
    _SCORES[key] = clv[["clv"]].join(risk, how="inner")
    return _SCORES[key]


def recall_frame(ws: Workspace, sl: dict[str, Any], step: Step) -> pd.DataFrame:
    """The recall list of the customers in slice ``sl`` (``customer``, ``clv``, ``p_churn``,
    ``expected_value``, ``group``), from the customer engine: CLV (BG/NBD + Gamma-Gamma) ×
    P(churn within ``horizon_days``) × P(respond) − contact cost, seeded random holdout.

    Raises:
        InsufficientDataError: too few purchases to fit the models.
    """
    from luopan.decisions.series import _home_channel, _members
    from luopan.engines.customers.recall import recall_list

    table = _scores(ws, step.horizon_days).copy()
    if set(sl) & set(HEALTH_DIMENSIONS):
        orders, regions, _ = _members(ws)
        orders["customer"] = orders["customer"].astype(str)
        keep = pd.Series(True, index=table.index)
        if "customer__region" in sl:
            region = regions.set_index(regions["customer_id"].astype(str))["region"]
            keep &= region.reindex(table.index).astype("string") == str(sl["customer__region"])
        if "customer__home_channel" in sl:
            # the health series' own definition (ties to the first channel by name), vectorised:
            # a groupby with a Python function per customer took 518 s on 1M customers
            cust, chan = pd.Categorical(orders["customer"]), pd.Categorical(orders["channel"])
            home = _home_channel(
                cust.codes.astype(np.int64),
                chan.codes.astype(np.int64),
                pd.Index(cust.categories),
                pd.Series(chan.categories),
            )
            keep &= home.reindex(table.index).astype("string") == str(sl["customer__home_channel"])
        table = table[keep.fillna(False).astype(bool)]
    out = recall_list(
        table,
        p_respond=step.p_respond,
        contact_cost=step.contact_cost,
        holdout_share=step.holdout_share,
        seed=step.seed,
    )
    out.index.name = "customer"
    return out.reset_index()[["customer", "clv", "p_churn", "expected_value", "group"]]


def _measured_step(playbook: Playbook) -> int:
    kinds = [s.kind for s in playbook.steps]
    for kind in ("recall_list", "pause_campaign", "task"):
        if kind in kinds:
            return kinds.index(kind)
    return -1


def run_playbook(
    ws: Workspace,
    log: DecisionLog,
    incident: Incident,
    rule: Rule,
    playbook: Playbook,
    now: dt.datetime,
    *,
    skip: Counter[str] | None = None,
    notify: bool = True,
) -> ActResult:
    """Run ``playbook`` for ``incident``; each step is one transaction in the log.

    ``skip`` counts the actions already logged by kind: that many steps of each kind are
    passed over (a resumed run adds only the missing steps). ``notify=False`` skips the
    notify steps."""
    skip = Counter() if skip is None else skip
    result = ActResult()
    measured = _measured_step(playbook)
    impact: dict[str, Any] = {}
    if playbook.expected_impact is not None:
        impact = {
            **playbook.expected_impact.model_dump(exclude_none=True),
            "start": now.date().isoformat(),
            "playbook": playbook.name,
        }
    for i, step in enumerate(playbook.steps):
        if step.kind == "notify":
            if notify:
                notify_incident(ws, log, incident, list(step.channels), result, all_if_empty=True)
            continue
        kind = f"{playbook.name}.{step.kind}"
        if skip[kind] > 0:
            skip[kind] -= 1
            continue
        holdout: dict[str, Any] = {}
        zh, en = (
            (step.title.zh, step.title.en)
            if step.title
            else (f"{playbook.label.zh}：{step.kind}", f"{playbook.label.en}: {step.kind}")
        )
        if step.kind == "recall_list":
            try:
                frame = recall_frame(ws, incident.slice, step)
            except Exception as exc:  # an engine that cannot fit: the incident stays open
                result.failures.append(f"{playbook.name}.recall_list: {exc}")
                continue
            folder = ws.root / "actions"
            folder.mkdir(exist_ok=True)
            name = f"actions/recall-incident-{incident.id}.csv"
            frame.to_csv(ws.root / name, index=False, encoding="utf-8-sig")
            n, h = len(frame), int((frame["group"] == "holdout").sum())
            zh, en = (t.format(n=n, h=h) for t in _STEP_TITLES["recall_list"])
            holdout = {
                "kind": "list",
                "file": name,
                "treated": "contact",
                "holdout": "holdout",
                "customers": n,
                "held_out": h,
            }
        elif step.kind == "pause_campaign":
            campaign = incident.slice.get("campaign_id", incident.slice or "?")
            zh, en = (t.format(campaign=campaign) for t in _STEP_TITLES["pause_campaign"])
        log.add_action(
            incident.id,
            kind=kind,
            title_zh=zh,
            title_en=en,
            owner=step.owner or "ops",
            due_at=now + dt.timedelta(hours=step.due_hours or 24),
            expected_impact=impact if i == measured else {"metric": rule.metric},
            holdout=holdout,
            now=now,
        )
        result.actions += 1
    return result


def notify_incident(
    ws: Workspace,
    log: DecisionLog,
    incident: Incident,
    channels: list[str],
    result: ActResult,
    *,
    all_if_empty: bool = False,
) -> None:
    """Send the incident (with its diagnosis and actions) to ``channels`` of ``notify.yaml``.

    With ``all_if_empty`` and no channels named, every configured channel; without a
    ``notify.yaml`` then nothing is sent (a playbook's notify step is optional)."""
    from luopan.errors import LuopanError
    from luopan.i18n import language
    from luopan.notify.config import NOTIFY_FILE, build_channel, load_notify_config
    from luopan.notify.dispatch import Dispatcher, RetryPolicy
    from luopan.notify.message import Message

    if all_if_empty and not channels and not (ws.root / NOTIFY_FILE).is_file():
        return
    try:
        cfg = load_notify_config(ws.root / NOTIFY_FILE)
        channels = channels or sorted(cfg.channels)
        built = {name: build_channel(name, cfg) for name in channels}
    except LuopanError as exc:
        result.failures.append(exc.message)
        return
    lang: Literal["zh", "en"] = (
        "zh" if (cfg.language or language(ws.config.language)) == "zh" else "en"
    )
    detail = log.incident(incident.id)
    summary = [(g.summary_zh if lang == "zh" else g.summary_en) for g in detail.diagnoses]
    todo = [
        f"- {a.title_zh if lang == 'zh' else a.title_en} ({a.owner}, {a.due_at:%Y-%m-%d %H:%M})"
        for a in detail.actions
    ]
    body = [
        f"{incident.metric} {incident.slice or ''} {incident.period}",
        *(f"{k}: {v}" for k, v in incident.evidence.items()),
        *summary,
        *todo,
    ]
    message = Message(
        key=incident.dedup_key,
        title=incident.title(lang),
        body="\n".join(body),
        severity=_SEVERITY[incident.severity],
        lang=lang,
    )
    dispatcher = Dispatcher(built, retry=RetryPolicy(max_attempts=cfg.max_attempts))
    for delivery in dispatcher.send(message, channels):
        if delivery.ok:
            result.notified += 1
        else:
            result.failures.append(f"{delivery.channel}: {delivery.status}")


def playbook_of(rule: Rule, playbooks: Any, name: str) -> Playbook:
    """The playbook ``name`` a rule's action names.

    Raises:
        DecisionError: no such playbook (``check_rule_playbooks`` reports it with file:line).
    """
    found = playbooks.get(name)
    if found is None:
        raise DecisionError(
            f"rule {rule.name!r} runs playbook {name!r}, which does not exist",
            fix="add it to playbooks/*.yaml or fix the rule",
        )
    return found
