"""Anomaly detection: speed on 1,000 slices × 730 days, and quality against peers.

Run from the repo root::

    .venv/bin/python benchmarks/anomaly.py                  # writes its RESULTS.md section
    .venv/bin/python benchmarks/anomaly.py --slices 100 --no-write   # a quick look

Data: synthetic retail slices (seeded) with a weekly profile, growth, Chinese public
holidays and shopping festivals (multiplicative, each slice with its own festival strength
and a little year-to-year jitter), over-dispersed count noise, and planted incidents in the
second year: two one-day spikes or dips of 5–9 σ per slice and, in 30 % of slices, a 7–21 day
level drop of 25–40 %. Scored on the second year only (all methods have a year of history
then). Peers, run on the same series:

- STL (Cleveland et al. 1990, ``statsmodels.tsa.STL``, period 7, robust=True) per series and
  a fixed threshold 3.5 on the MAD-scaled residual — the decomposition-plus-MAD core of
  Twitter's S-H-ESD, in batch (it sees days after the one it judges);
- ``adtk.detector.SeasonalAD`` (c=3, freq=7), when ``adtk`` is importable (it installs offline
  with ``pip install --no-deps adtk tabulate``; its matplotlib dependency is for plots only).

Runtime is wall time of the detection call(s) only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from _common import machine, write_section

from luopan.engines.anomaly import detect_anomalies, public_holidays, robust, shopping_festivals
from luopan.engines.anomaly.robust import MAD_TO_SIGMA

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
SECTION = "## anomaly (benchmarks/anomaly.py)"
WEEKLY = np.array([0.90, 0.88, 0.92, 0.95, 1.05, 1.20, 1.10])
FESTIVALS = {
    "年货节": 1.3,
    "春节": 0.5,
    "38节": 1.3,
    "618": 1.3,
    "618大促": 2.2,
    "双11": 1.4,
    "双11大促": 2.6,
    "双12": 1.5,
}
HOLIDAY = 1.15


def make_world(n: int, days: int, seed: int) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Long table (unique_id, ds, y) and the truth: masks of planted days, kinds, events."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2024-11-22", periods=days, freq="D")
    years = range(ds[0].year - 1, ds[-1].year + 1)
    event_log = np.zeros((days, 1))  # log-multiplier of a strength-1 slice
    is_event = np.zeros(days, dtype=bool)
    jitter = np.zeros((days, n))
    for windows, table in ((public_holidays(years), None), (shopping_festivals(years), 1)):
        for w in windows:
            inside = (ds >= pd.Timestamp(w.start)) & (ds <= pd.Timestamp(w.end))
            if not inside.any():
                continue
            m = HOLIDAY if table is None else FESTIVALS[w.name]
            event_log[inside, 0] = np.log(m)
            is_event |= inside
            jitter[inside] = rng.normal(0.0, 0.03, n)  # this occurrence's luck, per slice
    strength = rng.uniform(0.5, 1.5, n)
    level = np.exp(rng.normal(np.log(200.0), 0.8, n))
    growth = rng.uniform(-0.05, 0.25, n)
    t = np.arange(days)[:, None] / 365.0
    mu = level * WEEKLY[ds.day_of_week.to_numpy()][:, None] * (1 + growth * t)
    mu = mu * np.exp(event_log * strength + jitter)
    sd = 0.05 * mu + np.sqrt(mu)
    y = mu + rng.normal(0.0, 1.0, (days, n)) * sd
    point = np.zeros((days, n), dtype=bool)
    shift = np.zeros((days, n), dtype=bool)
    normal_days = np.flatnonzero(
        ~is_event & (np.arange(days) >= 400) & (np.arange(days) < days - 30)
    )
    for j in range(n):
        for d in rng.choice(normal_days, 2, replace=False):
            y[d, j] += rng.choice([-1, 1]) * rng.uniform(5, 9) * sd[d, j]
            point[d, j] = True
        if rng.random() < 0.3:
            a = int(rng.choice(normal_days))
            b = min(a + int(rng.integers(7, 22)), days)
            y[a:b, j] *= 1 - rng.uniform(0.25, 0.40)
            shift[a:b, j] = True
            point[a:b, j] = False
    y = np.maximum(y, 0.0)
    ids = np.array([f"slice{j:04d}" for j in range(n)])
    long = pd.DataFrame({"unique_id": np.repeat(ids, days), "ds": np.tile(ds, n), "y": y.T.ravel()})
    return long, {"point": point, "shift": shift, "event": is_event, "ds": ds.to_numpy()}


def wide_flags(long_flags: pd.DataFrame, days: int, n: int) -> np.ndarray:
    return long_flags["flag"].to_numpy(dtype=bool).reshape(n, days).T


def run_luopan(long: pd.DataFrame, days: int, n: int) -> tuple[np.ndarray, float]:
    t0 = time.perf_counter()
    res = detect_anomalies(long)
    secs = time.perf_counter() - t0
    p = res.points.sort_values(["unique_id", "ds"])
    return wide_flags(p.assign(flag=p["is_anomaly"]), days, n), secs


def run_stl(long: pd.DataFrame, days: int, n: int) -> tuple[np.ndarray, float]:
    from statsmodels.tsa.seasonal import STL

    y = long["y"].to_numpy().reshape(n, days)
    flags = np.zeros((days, n), dtype=bool)
    t0 = time.perf_counter()
    for j in range(n):
        r = STL(y[j], period=7, robust=True).fit().resid
        mad = np.median(np.abs(r - np.median(r))) * MAD_TO_SIGMA
        flags[:, j] = np.abs(r - np.median(r)) > 3.5 * mad
    return flags, time.perf_counter() - t0


def run_adtk(long: pd.DataFrame, days: int, n: int) -> tuple[np.ndarray, float]:
    from adtk.detector import SeasonalAD

    ds = pd.DatetimeIndex(long["ds"].iloc[:days])
    y = long["y"].to_numpy().reshape(n, days)
    flags = np.zeros((days, n), dtype=bool)
    t0 = time.perf_counter()
    for j in range(n):
        s = pd.Series(y[j], index=ds)
        a = SeasonalAD(c=3.0, side="both", freq=7).fit_detect(s)
        flags[:, j] = a.fillna(False).to_numpy(dtype=bool)
    return flags, time.perf_counter() - t0


def quality(flags: np.ndarray, truth: dict[str, np.ndarray], start: int) -> dict[str, float]:
    """Scores over days ``start``..: recalls, false alarms (incidents) per slice-quarter."""
    f, pt, sh, ev = (
        flags[start:],
        truth["point"][start:],
        truth["shift"][start:],
        truth["event"][start:],
    )
    n = f.shape[1]
    # a shift is found when a flag falls inside it; allowance of 7 days after it ends
    after = sh.copy()
    for lag in range(1, 8):
        after[lag:] |= sh[:-lag]
    shift_found, shift_total = 0, 0
    for j in range(n):
        col = sh[:, j]
        if col.any():
            shift_total += 1
            shift_found += int((f[:, j] & col).any())
    false = f & ~pt & ~after
    # incidents: runs of consecutive false flags
    starts = false & ~np.vstack([np.zeros((1, n), dtype=bool), false[:-1]])
    quarters = f.shape[0] / 91.0
    return {
        "spike_recall": float((f & pt).sum() / max(pt.sum(), 1)),
        "shift_recall": shift_found / max(shift_total, 1),
        "shift_day_share": float((f & sh).sum() / max(sh.sum(), 1)),
        "false_per_slice_quarter": float(starts.sum() / n / quarters),
        "event_day_flag_rate": float(f[ev[:, None].repeat(n, 1) & ~sh & ~pt].mean()),
        "precision": float((f & (pt | after)).sum() / max(f.sum(), 1)),
    }


def demo_figures(root: Path) -> list[str]:
    """The planted DAU drop of a generated demo world, from its exported events."""
    import json

    import duckdb

    truth = json.loads((root / "ground_truth.json").read_text(encoding="utf-8"))["dau_drop"]
    sql = """
    WITH m AS (SELECT "会员编号" AS user_id, "大区" AS region
               FROM read_csv(?, all_varchar = true))
    SELECT e.channel || '|' || m.region AS unique_id,
           CAST(substr(e.event_time, 1, 10) AS DATE) AS ds, count(DISTINCT e.user_id) AS y
    FROM read_json(?, format = 'newline_delimited', columns = {event_time: 'VARCHAR',
                   user_id: 'VARCHAR', channel: 'VARCHAR'}) e JOIN m USING (user_id)
    GROUP BY ALL
    """
    con = duckdb.connect()
    try:
        long = con.execute(
            sql,
            [str(root / "exports/crm/members.csv"), str(root / "exports/events/events_*.jsonl")],
        ).df()
    finally:
        con.close()
    wide = long.pivot(index="ds", columns="unique_id", values="y")
    wide.index = pd.to_datetime(wide.index)
    wide = wide.reindex(pd.date_range(wide.index.min(), wide.index.max())).fillna(0.0)
    frame = wide.stack().rename("y").reset_index()
    frame.columns = ["ds", "unique_id", "y"]
    res = detect_anomalies(frame, counts=True, on_short="skip")
    planted = f"{truth['channel']}|{truth['region']}"
    a, b = pd.Timestamp(truth["start"]), pd.Timestamp(truth["end"])
    p = res.points
    window = p[(p["unique_id"] == planted) & (p["ds"] >= a) & (p["ds"] <= b)]
    first = window.loc[window["is_anomaly"], "ds"].min()
    dirs = "/".join(sorted(set(window.loc[window["is_anomaly"], "direction"])))
    inc = res.incidents()
    false = inc[
        ~(
            (inc["unique_id"] == planted)
            & (inc["start"] <= b + pd.Timedelta(days=7))
            & (inc["end"] >= a)
        )
    ]
    scored = p[p["status"] == "scored"]
    quarters = scored.groupby(scored["ds"].dt.to_period("Q"))["unique_id"].nunique()
    per_q = false.groupby(false["start"].dt.to_period("Q")).size()
    per_q = per_q.reindex(quarters.index, fill_value=0)
    lines = [
        f"- demo world ({root.name}: the planted {truth['size']:.0%} DAU drop of {planted}, "
        f"{truth['start']}..{truth['end']}; daily active users of all "
        f"{p['unique_id'].nunique()} channel × region slices counted from the exported "
        "events, `counts=True`): "
        f"{window['is_anomaly'].mean():.0%} of the drop's days flagged ({dirs}), the first on "
        f"{first:%Y-%m-%d}; false alarms (incidents outside the planted one) per quarter, all "
        "slices together: "
        + ", ".join(f"{q}: {int(per_q[q])} over {int(quarters[q])} slices" for q in quarters.index)
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--slices", type=int, default=1000)
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--peer-slices", type=int, default=None, help="peers on the first N slices")
    ap.add_argument("--no-write", action="store_true", help="do not touch RESULTS.md")
    ap.add_argument(
        "--demo", type=Path, default=None, help="a generated demo world to report its DAU drop"
    )
    args = ap.parse_args(argv)
    n, days = args.slices, args.days
    long, truth = make_world(n, days, args.seed)
    start = 365
    print(f"{n} slices x {days} days = {n * days:,} points; scoring days {start}..{days - 1}")
    rows: list[tuple[str, int, float, dict[str, float]]] = []
    flags, secs = run_luopan(long, days, n)
    rows.append(("luopan AnomalyDetector (defaults)", n, secs, quality(flags, truth, start)))
    print(rows[-1])
    saved, robust._bn = robust._bn, None  # the pandas fallback, when bottleneck is absent
    try:
        flags, secs = run_luopan(long, days, n)
    finally:
        robust._bn = saved
    rows.append(("luopan, pandas rolling (no bottleneck)", n, secs, quality(flags, truth, start)))
    print(rows[-1])
    m = min(args.peer_slices or n, n)
    sub = long[long["unique_id"].isin(sorted(long["unique_id"].unique())[:m])]
    sub_truth = {k: (v[:, :m] if v.ndim == 2 else v) for k, v in truth.items()}
    peers: list[tuple[str, Callable[..., tuple[np.ndarray, float]]]] = [
        ("STL robust + MAD 3.5 (statsmodels)", run_stl),
        ("adtk SeasonalAD c=3", run_adtk),
    ]
    for name, fn in peers:
        try:
            flags, secs = fn(sub, days, m)
        except ImportError as exc:
            print(f"{name}: skipped ({exc})")
            continue
        rows.append((name, m, secs, quality(flags, sub_truth, start)))
        print(rows[-1])
    ours = rows[0][2] / rows[0][1]
    table = [
        "| method | slices | wall s | s per 1,000 slices | time ratio vs luopan | spike/dip recall "
        "| level-drop recall | level-drop days flagged | precision | false alarms per slice "
        "per quarter | flag rate on holiday/festival days |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, k, secs, q in rows:
        table.append(
            f"| {name} | {k:,} | {secs:.2f} | {secs / k * 1000:.2f} | {secs / k / ours:.1f} "
            f"| {q['spike_recall']:.3f} | {q['shift_recall']:.3f} | {q['shift_day_share']:.3f} "
            f"| {q['precision']:.3f} | {q['false_per_slice_quarter']:.3f} "
            f"| {q['event_day_flag_rate']:.4f} |"
        )
    print("\n".join(table))
    demo = demo_figures(args.demo) if args.demo else []
    print("\n".join(demo))
    if args.no_write:
        return 0
    cmd = " ".join(["python", "benchmarks/anomaly.py", *(argv or sys.argv[1:])])
    text = "\n".join(
        [
            f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
            f"- machine: {machine('numpy', 'pandas')}",
            f"- command: `{cmd}`",
            f"- data: {n:,} synthetic slices × {days} days (seed {args.seed}), scored on days "
            f"{start}–{days - 1} (the second year); see the module docstring for the planted "
            "incidents; wall time of the detection call(s) only",
            "",
            *table,
            "",
            "Notes:",
            "- the machine is shared (2 cores, other jobs running): wall times vary by up to "
            "3x between runs; compare the ratios, which come from one run.",
            "- luopan scores every day against its past only (trailing windows), as a monitor "
            "must; the STL peer is batch (centred windows see the days after), which flatters "
            "it on level drops' edges.",
            "- bottleneck (optional; `pip install bottleneck`) speeds the moving medians up; "
            "without it pandas' rolling median is used (same flags, second row).",
            "- Neither peer knows the calendar, so their flags on holiday/festival days are "
            "false alarms by construction; luopan judges those days against last year's twin.",
            *demo,
            "- false alarms: runs of consecutive flagged days that touch no planted incident "
            "(a level drop's allowance: 7 days after its end); the issue's target is ≤ 1 per "
            "metric per quarter.",
        ]
    )
    write_section(RESULTS, SECTION, text)
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
