"""Benchmark of the decision loop: how long one ``luopan run`` takes, stage by stage.

The decision latency the article complains of is T+3 days (259,200 s) from data to a decision;
this measures luopan's. Two worlds:

- default: a demo world of ``--customers`` customers over ``--days`` days (seed 7, 10 stores;
  generated and ingested into ``--world`` on first use — about 25 minutes for 50,000 × 730 on
  2 shared cores — and reused afterwards);
- ``--scale-lines N``: the issue's 1M-customer / 10M-order-line world. A small demo world
  (``--customers`` 5,000 × ``--days`` 400 unless given; ~2 minutes) is generated once, then
  its per-customer tables are replicated with suffixed IDs (``-r``) into a workspace at
  ``--scaled`` (cached): orders, order lines, events and tickets k = ⌈N / lines⌉ times,
  customers ⌈``--scale-customers`` / customers⌉ times (the copies past k are members with no
  order, event or ticket: dormant members); marketing spend and campaign budgets are
  multiplied by k so ROI, reserve share and CAC stay those of the small world; other tables
  once. Every copy behaves as the small world does, so the rules fire as they do there. The
  scaled workspace keeps the small world's load history and links its export files, so its
  routine ingest finds nothing new (the same idea as ``benchmarks/metrics.py``'s ``scale_up``).

Each measured run works on a copy of the world's workspace with an empty decision log and a
``notify.yaml`` whose webhook channel posts to a local HTTP receiver on 127.0.0.1 (so the
notify stage does real HTTP); the DAU rule is extended with a notify action. Runs, default:

1. **daily**: ``run_loop(ws)`` on the empty log — the routine run: ingest (nothing new), each
   rule over its look-back window, its firings opened, diagnosed, acted on and notified;
2. **full**: ``run_loop(ws, backfill=True)`` — every rule over the whole history;
3. **again**: the full run a second time — idempotent, nothing new is opened.

With ``--scale-lines``:

1. **full**: ``run_loop(ws, backfill=True)`` (``luopan run --backfill``) on the empty log;
2. **incremental**: one more day arrives — the last day's orders, lines and events of every
   copy, shifted a day with new IDs, written as the day's POS export pair
   (``exports/pos/pos_orders_DAY.parquet``, ``pos_order_lines_DAY.parquet``) and app-event file
   (``exports/events/events_DAY.jsonl``) — the workspace's ``as_of`` moves a day on, and
   ``run_loop(ws)`` (``luopan run``, the routine run) ingests the three files through the
   pipeline and evaluates, on the log the full run left.

Stages (``RunReport.timings``, summed over the rules): ingest, config (load the rules,
playbooks and catalog), metrics (query the rule's series; for the health index the engine
hook, one pass over the customers' purchases per week), anomaly (known events, the anomaly
model's expected values), rules (the rule engine), diagnosis (root-cause search), actions
(playbooks, tasks), notify, freshness, verify.

Usage: ``.venv/bin/python benchmarks/loop.py [--world DIR] [--customers 50000] [--days 730]``
or ``.venv/bin/python benchmarks/loop.py --scale-lines 10000000 [--scale-customers 1000000]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from _common import machine, read_section, write_section
from loop_world import append_day, link_exports, scale_world, table_sizes

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
SECTION = "## loop (benchmarks/loop.py)"
T_PLUS_3 = 3 * 24 * 3600.0
STAGES = (
    "ingest",
    "config",
    "metrics",
    "anomaly",
    "rules",
    "diagnosis",
    "actions",
    "notify",
    "freshness",
    "verify",
)


def ensure_world(world: Path, customers: int, days: int) -> dict[str, Any]:
    """Generate and ingest the demo world unless it is already there; returns sizes."""
    from luopan.demo import generate
    from luopan.ingest.pipeline import ingest_workspace
    from luopan.workspace import Workspace

    marker = world / ".ingested"
    if not marker.is_file():
        if not (world / "ground_truth.json").is_file():
            print(f"generating {customers:,} customers × {days} days in {world} …", flush=True)
            generate(world, seed=7, customers=customers, days=days, stores=10)
        print("ingesting …", flush=True)
        failed = [
            r.message for r in ingest_workspace(Workspace.open(world)) if r.status == "failed"
        ]
        if failed:
            raise SystemExit(f"ingest failed: {failed}")
        marker.write_text("ok\n", encoding="utf-8")
    return table_sizes(world / "warehouse.duckdb")


class _Hook(BaseHTTPRequestHandler):
    received = 0

    def do_POST(self) -> None:  # noqa: N802 (http.server API)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).received += 1
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def receiver() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def workspace_copy(world: Path, root: Path, hook: str) -> Any:
    from luopan.workspace import Workspace

    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    link_exports(world, root)  # sources are read, never written
    for item in ("luopan.yaml", "warehouse.duckdb", ".luopan"):
        src = world / item
        if src.is_dir():
            shutil.copytree(src, root / item)
        elif src.exists():
            shutil.copy2(src, root / item)
    (root / ".luopan" / "metadata.sqlite").unlink(missing_ok=True)
    (root / "notify.yaml").write_text(
        f"language: zh\nchannels:\n  ops_hook: {{type: webhook, url: '{hook}'}}\n", encoding="utf-8"
    )
    (root / "rules").mkdir()
    (root / "rules" / "notify.yaml").write_text(
        "rules:\n"
        "  - name: dau_swing\n"
        "    label: {zh: 日活波动超过15% → 根因分析, en: DAU moves more than 15% → root cause}\n"
        "    metric: dau\n"
        "    condition: {kind: change, op: abs_gt, value: 0.15, baseline: same_weekday_4w,"
        " min_z: 3}\n"
        "    cooldown: 7\n"
        "    severity: high\n"
        "    actions: [{kind: open_incident}, {kind: diagnose},"
        " {kind: notify, channels: [ops_hook]}]\n",
        encoding="utf-8",
    )
    return Workspace.open(root)


def write_results(lines: list[str]) -> None:
    """Replace the loop section of RESULTS.md; its paragraphs that begin with "Previous" or
    "Note" (earlier figures and analysis, written by hand) stay, after the new ones."""
    old = read_section(RESULTS, SECTION)
    kept = [p.strip() for p in old.split("\n\n") if p.startswith(("Previous", "Note"))]
    write_section(RESULTS, SECTION, "\n".join([*lines, *(f"\n{p}" for p in kept)]))


def timed_run(ws: Any, name: str, *, backfill: bool) -> tuple[Any, float, float, float]:
    """``run_loop`` once: the report, its wall time, the 1-minute load average after, and
    the process's CPU time (every thread's: it stays meaningful when other jobs share the
    cores)."""
    from luopan.decisions.loop import run_loop

    c0, t0 = time.process_time(), time.perf_counter()
    report = run_loop(ws, backfill=backfill)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    load = os.getloadavg()[0]
    print(
        f"{name}: {wall:.1f} s wall, {cpu:.1f} s CPU (load {load:.1f}); files loaded "
        f"{report.files_loaded}, "
        f"opened {len(report.opened)}, already open {report.already_open}, actions "
        f"{report.actions}, notified {report.notified}; "
        f"{ ({k: round(v, 2) for k, v in report.timings.items()}) }; rules "
        f"{ ({k: round(v, 2) for k, v in report.rule_timings.items()}) }",
        flush=True,
    )
    return report, wall, load, cpu


def slowest(report: Any) -> str:
    return ", ".join(
        f"{k} {v:.1f} s" for k, v in sorted(report.rule_timings.items(), key=lambda kv: -kv[1])[:4]
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--world", type=Path, default=None, help="the (small) demo world")
    ap.add_argument("--customers", type=int, default=None, help="50,000; 5,000 with scaling")
    ap.add_argument("--days", type=int, default=None, help="730; 400 with scaling")
    ap.add_argument("--scale-lines", type=int, default=None, help="scale to ~N order lines")
    ap.add_argument("--scale-customers", type=int, default=1_000_000)
    ap.add_argument("--scaled", type=Path, default=Path("/tmp/luopan-bench/loop-world-1m"))
    ap.add_argument("--work", type=Path, default=Path("/tmp/luopan-bench/loop-run"))
    ap.add_argument("--no-results", action="store_true", help="do not update RESULTS.md")
    args = ap.parse_args()
    scaled = args.scale_lines is not None
    args.customers = args.customers or (5_000 if scaled else 50_000)
    args.days = args.days or (400 if scaled else 730)
    args.world = args.world or Path(
        f"/tmp/luopan-bench/loop-world-{args.customers // 1000}k"
        + (f"-{args.days}d" if scaled else "")
    )
    lines = run_scaled(args) if scaled else run_default(args)
    print("\n".join(lines))
    if not args.no_results:
        write_results(lines)
    return 0


def run_scaled(args: argparse.Namespace) -> list[str]:
    """Full run and one-day incremental run on the scaled world."""
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    base = ensure_world(args.world, args.customers, args.days)
    seed_s = time.perf_counter() - t0
    sizes = scale_world(args.world, args.scaled, args.scale_lines, args.scale_customers)
    print(f"seed world {base} ({seed_s:.0f} s); scaled world: {sizes}", flush=True)
    with receiver() as hook:
        t0 = time.perf_counter()
        ws = workspace_copy(args.scaled, args.work, hook)
        copy_s = time.perf_counter() - t0
        full, full_wall, full_load, full_cpu = timed_run(ws, "full", backfill=True)
        t0 = time.perf_counter()
        day = append_day(args.work)
        day_s = time.perf_counter() - t0
        print(f"day files ({day_s:.1f} s): {day}", flush=True)
        ws = type(ws).open(args.work)  # the moved as_of
        inc, inc_wall, inc_load, inc_cpu = timed_run(ws, "incremental", backfill=False)
    shutil.rmtree(args.work, ignore_errors=True)
    built = (
        f"built in {sizes['built_s']:,.0f} s"
        if sizes["built_s"] is not None
        else f"cached in {args.scaled}"
    )
    cmd = f".venv/bin/python benchmarks/loop.py --scale-lines {args.scale_lines}"
    if args.scale_customers != 1_000_000:
        cmd += f" --scale-customers {args.scale_customers}"
    out = [
        f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"- machine: {machine('duckdb')}; shared with other jobs: 1-minute load average "
        f"{load_before:.1f} at start, {full_load:.1f} after the full run, {inc_load:.1f} after "
        "the incremental run (2 cores)",
        f"- command: `{cmd}`",
        f"- data: demo world seed 7, {args.customers:,} CRM members × {args.days} days, 10 "
        f"stores ({base['customers']:,} customers, {base['order_lines']:,} order lines), "
        f"scaled by replication with suffixed IDs to {sizes['customers']:,} customers, "
        f"{sizes['orders']:,} orders, {sizes['order_lines']:,} order lines, "
        f"{sizes['events']:,} events, {sizes['tickets']:,} tickets ({built}; the small world's "
        "generation and ingest, once, not timed; copying the workspace for a run "
        f"{copy_s:.0f} s, not timed)",
        f"- incremental day {day['day']}: {day['orders'][0]:,} orders, "
        f"{day['order_lines'][0]:,} order lines, {day['events'][0]:,} events in three files "
        f"({sum(v[1] for k, v in day.items() if k != 'day') / 1e6:.1f} MB), ingested by the "
        "run through the pipeline",
        f"- targets (issue): full ≤ 60 s, incremental ≤ 10 s on 2 cores; the article's bar: "
        f"T+3 days = {T_PLUS_3:,.0f} s",
        "",
        "| stage | full run s (`--backfill`, empty log) | incremental run s (one new day) |",
        "|---|---:|---:|",
    ]
    for stage in STAGES:
        vals = [r.timings.get(stage, 0.0) for r in (full, inc)]
        out.append(f"| {stage} | " + " | ".join(f"{v:.2f}" for v in vals) + " |")
    out += [
        f"| **wall clock** | **{full_wall:.1f}** | **{inc_wall:.1f}** |",
        f"| process CPU time (all threads) | {full_cpu:.1f} | {inc_cpu:.1f} |",
        f"| 1-minute load average after | {full_load:.1f} | {inc_load:.1f} |",
        "| target | ≤ 60 | ≤ 10 |",
        f"| met | {'yes' if full_wall <= 60 else 'NO'} | {'yes' if inc_wall <= 10 else 'NO'} |",
        f"| ratio to T+3 days | 1 : {T_PLUS_3 / full_wall:,.0f} | 1 : {T_PLUS_3 / inc_wall:,.0f} |",
        "",
        f"Work done: the full run opened {len(full.opened)} incidents "
        f"({', '.join(sorted({i.rule for i in full.opened})) or 'none'}), {full.actions} "
        f"actions, {full.notified} notifications delivered to the local receiver; the "
        f"incremental run loaded {inc.files_loaded} files, opened {len(inc.opened)} "
        f"({', '.join(sorted({i.rule for i in inc.opened})) or 'none'}; "
        f"{inc.already_open} already open), {inc.actions} actions. Rules skipped: "
        f"{full.rules_skipped or 'none'}.",
        "",
        f"Slowest rules (evaluate + decide): full run {slowest(full)}; incremental run "
        f"{slowest(inc)}.",
    ]
    return out


def run_default(args: argparse.Namespace) -> list[str]:
    """Daily, full and repeated full run on the demo world as generated."""
    load_before = os.getloadavg()[0]
    sizes = ensure_world(args.world, args.customers, args.days)
    print(f"world: {sizes}", flush=True)
    runs: dict[str, Any] = {}
    with receiver() as hook:
        ws = workspace_copy(args.world, args.work, hook)
        for name, backfill in (("daily", False), ("full", True), ("again", True)):
            runs[name] = timed_run(ws, name, backfill=backfill)
    shutil.rmtree(args.work, ignore_errors=True)
    load_after = os.getloadavg()[0]
    full, again, daily = runs["full"][0], runs["again"][0], runs["daily"][0]
    lines = [
        f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"- machine: {machine('duckdb')}; shared with other jobs: 1-minute load average "
        f"{load_before:.1f} at start, {load_after:.1f} at end (2 cores)",
        f"- command: `.venv/bin/python benchmarks/loop.py --customers {args.customers} "
        f"--days {args.days}`",
        f"- data: demo world seed 7, {sizes['customers']:,} customers, "
        f"{sizes['orders']:,} orders, {sizes['order_lines']:,} order lines, "
        f"{sizes['events']:,} events, {args.days} days, 10 stores; world generated once and "
        "reused (generation and first ingest not timed)",
        f"- bar: the article's T+3 days = {T_PLUS_3:,.0f} s from data to decision; the issue's "
        "targets (on a 1M-customer / 10M-line world, not this one): full ≤ 60 s, "
        "incremental ≤ 10 s",
        "",
        "| stage | full run (backfill) s | second run (no new data) s | daily run s |",
        "|---|---:|---:|---:|",
    ]
    for stage in STAGES:
        vals = [r.timings.get(stage, 0.0) for r in (full, again, daily)]
        lines.append(f"| {stage} | " + " | ".join(f"{v:.2f}" for v in vals) + " |")
    walls = [runs[k][1] for k in ("full", "again", "daily")]
    lines.append("| **wall clock** | " + " | ".join(f"**{w:.1f}**" for w in walls) + " |")
    lines.append(
        "| ratio to T+3 days | " + " | ".join(f"1 : {T_PLUS_3 / w:,.0f}" for w in walls) + " |"
    )
    lines += [
        "",
        f"Work done: full run opened {len(full.opened)} incidents "
        f"({', '.join(sorted({i.rule for i in full.opened}))}), {full.actions} actions, "
        f"{full.notified} notifications delivered to the local receiver, "
        f"{len(full.verified.recorded) if full.verified else 0} outcomes recorded; the second "
        f"run opened {len(again.opened)} (idempotent; {again.already_open} already open); the "
        f"daily run (first, on the empty log) opened {len(daily.opened)}. Rules skipped: "
        f"{full.rules_skipped or 'none'}.",
        "",
        f"Slowest rules (full run, evaluate + decide): {slowest(full)}.",
    ]
    return lines


if __name__ == "__main__":
    sys.exit(main())
