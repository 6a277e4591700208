"""App / mini-program behaviour events, experiments and the planted DAU drop.

Each day a member of the app pool is active with probability proportional to a personal
activity level (Gamma) times the channel's daily intensity; active users run sessions of
view -> add_to_cart -> checkout -> pay. Between ``drop_start`` and ``drop_end`` users of one
channel x region are active with probability x ``1 - drop_size``. Experiments assign pool
members; the positive one adds a converting session for each treated unit with probability
``delta``; the SRM one loses part of the treatment assignment log.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from luopan.demo.calendar import HOURS, Calendar

DAU_PER_CUSTOMER = 0.015
DROP_CHANNEL, DROP_REGION, DROP_SIZE = "miniprogram", "华东", 0.7
EXPERIMENTS = (
    ("EXP-01", "首页改版信息流", "新首页信息流提高支付转化", "null", 0.0, (0.10, 0.28)),
    (
        "EXP-02",
        "一键复购按钮",
        "订单页增加一键复购按钮提高支付转化",
        "positive",
        0.08,
        (0.35, 0.53),
    ),
    ("EXP-03", "新人券门槛调整", "新人券门槛从49降到39提高支付转化", "srm", 0.0, (0.60, 0.78)),
)
# Share of the SRM experiment's treatment log lost, exactly (a fixed number of random
# units): 15% gives a chi-square of about 0.006 n against the 50/50 design, far past the
# 0.01 alarm at the demo's few thousand units whatever the other draws of the world.
SRM_LOSS = 0.15


def _json_str(s: pd.Series) -> pd.Series:
    return '"' + s.astype(str) + '"'


def simulate_events(
    rng: np.random.Generator,
    customers: pd.DataFrame,
    last_order_day: np.ndarray,
    cal: Calendar,
    window_days: int,
    out_dir: Path,
    skus: np.ndarray,
    prices: np.ndarray,
) -> tuple[dict, pd.DataFrame, pd.DataFrame, int, list[str]]:
    """Write daily JSONL files; returns truth, experiments, assignments, rows, files."""
    n = len(customers)
    pool = np.flatnonzero(customers["home_channel"].isin(["miniprogram", "store", "meituan"]))
    channel = np.where(rng.random(n) < 0.8, "miniprogram", "app")
    region = customers["region"].to_numpy()
    activity = rng.gamma(0.8, 1.0, n)
    first = (customers["first_seen_at"].dt.normalize() - pd.Timestamp(cal.first)).dt.days
    first = first.to_numpy()
    d_end = cal.n_days - 1
    d0 = d_end - window_days + 1
    target = max(n * DAU_PER_CUSTOMER, 20.0)
    drop_a, drop_b = d0 + int(window_days * 0.82), d0 + int(window_days * 0.90)
    seg = (channel == DROP_CHANNEL) & (region == DROP_REGION)
    # experiments
    exps: list[dict] = []
    assigns: list[pd.DataFrame] = []
    exp_truth: list[dict[str, Any]] = []
    units_by_exp: dict[str, tuple[np.ndarray, np.ndarray, int, int]] = {}
    for eid, name, hyp, kind, delta, (fa, fb) in EXPERIMENTS:
        a, b = d0 + int(window_days * fa), d0 + int(window_days * fb)
        alive = pool[(first[pool] < a) & (last_order_day[pool] >= a - 60)]
        treat = rng.random(alive.size) < 0.5
        logged = np.ones(alive.size, dtype=bool)
        if kind == "srm":
            # the treated units with the lowest uniform draws (one draw per unit, as the coin
            # flips of earlier versions took, so the world's later draws stay where they were)
            draw = rng.random(alive.size)
            treated = np.flatnonzero(treat)
            lost = treated[
                np.argsort(draw[treated], kind="stable")[: round(SRM_LOSS * treated.size)]
            ]
            logged[lost] = False
        units_by_exp[eid] = (alive, treat, a, b)
        at = pd.Timestamp(cal.day(a)) + pd.to_timedelta(rng.integers(0, 86400 * 2, alive.size), "s")
        assigns.append(
            pd.DataFrame(
                {
                    "experiment_id": eid,
                    "unit_id": customers["customer_id"].to_numpy()[alive][logged],
                    "variant": np.where(treat, "treatment", "control")[logged],
                    "assigned_at": at[logged],
                }
            )
        )
        exps.append(
            {
                "experiment_id": eid,
                "name": name,
                "hypothesis": hyp,
                "primary_metric": "pay_conversion",
                "guardrails": '["aov", "refund_rate"]',
                "start_date": cal.day(a),
                "end_date": cal.day(b),
            }
        )
        exp_truth.append(
            {
                "experiment_id": eid,
                "kind": kind,
                "delta": delta,
                "start": cal.day(a),
                "end": cal.day(b),
                "n_treatment_true": int(treat.sum()),
                "n_control_true": int((~treat).sum()),
                "n_treatment_logged": int((treat & logged).sum()),
                "n_control_logged": int((~treat & logged).sum()),
                "intended_split": 0.5,
            }
        )
    payers: dict[str, set[int]] = {e[0]: set() for e in EXPERIMENTS}
    injected: dict[int, list[int]] = {}
    for eid, _, _, _kind, delta, _ in EXPERIMENTS:
        if delta > 0:
            alive, treat, a, b = units_by_exp[eid]
            hit = alive[treat & (rng.random(alive.size) < delta)]
            for u, d in zip(hit, rng.integers(a, b + 1, hit.size), strict=True):
                injected.setdefault(int(d), []).append(int(u))
    files, total, dau = [], 0, []
    ev_seq = 0
    ids = customers["customer_id"].to_numpy()
    for d in range(d0, d_end + 1):
        elig = pool[(first[pool] <= d) & (last_order_day[pool] + 45 >= d)]
        mult = cal.intensity["miniprogram"][d]
        c = target * mult / max(activity[elig].sum(), 1e-9)
        p = np.minimum(activity[elig] * c, 1.0)
        if drop_a <= d <= drop_b:
            p = np.where(seg[elig], p * (1 - DROP_SIZE), p)
        users = elig[rng.random(elig.size) < p]
        n_sess = 1 + rng.poisson(0.3, users.size)
        su = np.repeat(users, n_sess)
        forced = np.zeros(su.size, dtype=bool)
        if d in injected:
            extra = np.asarray(injected[d])
            su = np.r_[su, extra]
            forced = np.r_[forced, np.ones(extra.size, dtype=bool)]
        dau.append(int(np.unique(su).size))
        ns = su.size
        views = 1 + rng.poisson(1.2, ns)
        cart = forced | (rng.random(ns) < 0.28)
        chk = cart & (forced | (rng.random(ns) < 0.55))
        pay = chk & (forced | (rng.random(ns) < 0.8))
        counts = views + cart + chk + pay
        sess = np.repeat(np.arange(ns), counts)
        pos = np.arange(sess.size) - np.repeat(np.cumsum(counts) - counts, counts)
        v = np.repeat(views, counts)
        ev_name = np.where(
            pos < v,
            "view",
            np.where(pos == v, "add_to_cart", np.where(pos == v + 1, "checkout", "pay")),
        )
        hour = rng.choice(24, size=ns, p=HOURS["miniprogram"])
        start = hour * 3600 + rng.integers(0, 3000, ns)
        t = np.minimum(np.repeat(start, counts) + pos * rng.integers(5, 90, sess.size), 86399)
        sku_i = rng.integers(0, skus.size, sess.size)
        sku = skus[sku_i].astype(object)
        sku[~np.isin(ev_name, ["view", "add_to_cart"])] = None
        price = prices[min(d - (cal.n_days - prices.shape[0]), prices.shape[0] - 1)]
        amount = np.round(price[sku_i] * (1 + rng.poisson(2.0, sess.size)), 2)
        props = np.where(
            ev_name == "view",
            '{"page":"detail"}',
            np.where(
                ev_name == "pay", pd.Series(amount).map(lambda a: f'{{"amount":{a:.2f}}}'), "{}"
            ),
        )
        day = cal.day(d)
        ts = pd.Series(pd.Timestamp(day) + pd.to_timedelta(t, "s")).dt.strftime(
            "%Y-%m-%dT%H:%M:%S+08:00"
        )
        uid = ids[su[sess]]
        sid = pd.Series(np.arange(ns) + d * 1_000_000).astype(str).to_numpy()[sess]
        eid = "ev" + pd.Series(np.arange(sess.size) + ev_seq).astype(str).str.zfill(10)
        ev_seq += sess.size
        line = (
            '{"event_id":'
            + _json_str(eid)
            + ',"event_time":'
            + _json_str(ts)
            + ',"user_id":'
            + _json_str(pd.Series(uid))
            + ',"session_id":"ss'
            + pd.Series(sid)
            + '","event_name":'
            + _json_str(pd.Series(ev_name))
            + ',"channel":'
            + _json_str(pd.Series(channel[su[sess]]))
            + ',"sku":'
            + pd.Series(sku).map(lambda s: "null" if s is None else f'"{s}"')
            + ',"properties":'
            + pd.Series(props)
            + "}"
        )
        path = out_dir / f"events_{day:%Y%m%d}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(line.tolist()) + "\n", encoding="utf-8")
        files.append(path.name)
        total += sess.size
        for eid_, (alive, _, a, b) in units_by_exp.items():
            if a <= d <= b:
                payers[eid_].update(np.intersect1d(su[pay], alive).tolist())
    for t in exp_truth:
        alive, treat, _, _ = units_by_exp[t["experiment_id"]]
        paid = np.isin(alive, np.fromiter(payers[t["experiment_id"]], dtype=np.int64))
        c_rate = float(paid[~treat].mean()) if (~treat).any() else 0.0
        t_rate = float(paid[treat].mean()) if treat.any() else 0.0
        t["control_conversion"] = round(c_rate, 5)
        t["treatment_conversion"] = round(t_rate, 5)
        t["true_lift"] = round(t["delta"] * (1 - c_rate), 5)
    dau_truth: dict[str, Any] = {
        "channel": DROP_CHANNEL,
        "region": DROP_REGION,
        "size": DROP_SIZE,
        "start": cal.day(drop_a),
        "end": cal.day(drop_b),
        "baseline_dau": float(np.mean(dau[max(0, drop_a - d0 - 28) : drop_a - d0])),
        "drop_dau": float(np.mean(dau[drop_a - d0 : drop_b - d0 + 1])),
        "segment_share_of_dau": float(seg[pool].mean()),
    }
    dau_truth["overall_change"] = dau_truth["drop_dau"] / dau_truth["baseline_dau"] - 1
    truth = {
        "dau_drop": dau_truth,
        "experiments": exp_truth,
        "window_start": cal.day(d0),
        "window_end": cal.day(d_end),
        "dau_by_day": {str(cal.day(d0) + timedelta(days=i)): v for i, v in enumerate(dau)},
    }
    return truth, pd.DataFrame(exps), pd.concat(assigns, ignore_index=True), total, files
