"""Benchmark of the metric system: scorecard time, single-metric latency, catalog overhead.

The demo world (seed 7, 3,000 customers, 400 days, 6 stores) is scaled up to about
``--lines`` order lines by replicating its orders, lines and customers k times with suffixed
IDs (``-k``), so distributions, seasonality and repeat behaviour stay those of the world and
distinct counts grow with the copies. Other tables (events, inventory, spend …) are copied once.

Measures, on the scaled warehouse:
- the whole scorecard (every scorecard metric, 8 periods of trend) for a month and a week;
- the p95 latency of single-metric queries (every scorecard metric, weekly, 8 weeks);
- the catalog (Ibis-compiled) against hand-written DuckDB SQL, same connection, same run, for
  GMV, AOV and repeat purchase rate by month over the whole history (median of 7 alternating runs).

Usage: ``.venv/bin/python benchmarks/metrics.py [--world DIR] [--lines 10000000]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import ibis
from _common import machine, write_section

from luopan.tables import join_key_sql

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
SECTION = "## metrics (benchmarks/metrics.py)"
PAID = "('paid', 'shipped', 'completed', 'refunded')"
RUNS = 7  # hand-written SQL and catalog runs per metric for the overhead ratio

HAND_SQL = {
    "gmv": f"""
        SELECT date_trunc('month', ordered_at) AS period, sum(paid_amount) AS value
        FROM orders WHERE status IN {PAID} GROUP BY 1 ORDER BY 1""",
    "aov": f"""
        SELECT date_trunc('month', ordered_at) AS period,
               sum(paid_amount)::DOUBLE / count(*) AS value
        FROM orders WHERE status IN {PAID} GROUP BY 1 ORDER BY 1""",
    "repeat_purchase_rate": f"""
        WITH seq AS (
            SELECT customer_id, ordered_at,
                   row_number() OVER (PARTITION BY customer_id ORDER BY ordered_at, order_id) AS n
            FROM orders WHERE status IN {PAID} AND customer_id IS NOT NULL)
        SELECT date_trunc('month', ordered_at) AS period,
               count(DISTINCT CASE WHEN n >= 2 THEN customer_id END)::DOUBLE
                 / count(DISTINCT customer_id) AS value
        FROM seq GROUP BY 1 ORDER BY 1""",
}


def ensure_world(world: Path) -> Path:
    """An ingested demo world at ``world`` (generated on first use; takes minutes)."""
    if (world / "warehouse.duckdb").is_file():
        return world / "warehouse.duckdb"
    from luopan.demo import generate
    from luopan.ingest.pipeline import ingest_workspace
    from luopan.workspace import Workspace

    print(f"generating the demo world in {world} …", flush=True)
    generate(world, seed=7, customers=3000, days=400, stores=6)
    ingest_workspace(Workspace.open(world))
    return world / "warehouse.duckdb"


def scale_up(source: Path, target: Path, lines: int) -> tuple[int, int]:
    """Write a warehouse with the source's orders/lines/customers replicated to ~``lines``."""
    if target.is_file():
        with duckdb.connect(str(target), read_only=True) as con:
            have = con.execute("SELECT count(*) FROM order_lines").fetchone()
            orders = con.execute("SELECT count(*) FROM orders").fetchone()
            keyed = con.execute(
                "SELECT count(*) FROM duckdb_columns() WHERE column_name = '_order_key'"
            ).fetchone()
        if have and orders and keyed and keyed[0] and abs(have[0] - lines) / lines < 0.2:
            return int(have[0]), int(orders[0])
        target.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(target)) as con:
        quoted = "'" + str(source).replace("'", "''") + "'"
        con.execute(f"ATTACH {quoted} AS src (READ_ONLY)")
        (base,) = con.execute("SELECT count(*) FROM src.order_lines").fetchone() or (1,)
        k = max(1, math.ceil(lines / base))
        # the suffixed IDs get their join keys as ingest would write them (join_key_sql)
        ok, ck = join_key_sql("order_id"), join_key_sql("customer_id")
        con.execute(f"""CREATE TABLE orders AS SELECT * REPLACE ({ok} AS _order_key,
            {ck} AS _customer_key) FROM (SELECT * EXCLUDE (r) REPLACE (
            order_id || '-' || r AS order_id, customer_id || '-' || r AS customer_id)
            FROM src.orders, range({k}) t(r))""")
        con.execute(f"""CREATE TABLE order_lines AS SELECT * REPLACE ({ok} AS _order_key)
            FROM (SELECT * EXCLUDE (r) REPLACE (order_id || '-' || r AS order_id)
            FROM src.order_lines, range({k}) t(r))""")
        con.execute(f"""CREATE TABLE customers AS SELECT * REPLACE ({ck} AS _customer_key)
            FROM (SELECT * EXCLUDE (r) REPLACE (customer_id || '-' || r AS customer_id)
            FROM src.customers, range({k}) t(r))""")
        for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'src'"
        ).fetchall():
            if name not in ("orders", "order_lines", "customers"):
                con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM src."{name}"')
        n_lines = con.execute("SELECT count(*) FROM order_lines").fetchone()
        n_orders = con.execute("SELECT count(*) FROM orders").fetchone()
    return int(n_lines[0] if n_lines else 0), int(n_orders[0] if n_orders else 0)


def timed(
    fn: Callable[[], Any], runs: int, cpu: list[float] | None = None
) -> tuple[list[float], Any]:
    """Wall times of ``runs`` calls (and, into ``cpu``, the process CPU time of each: every
    thread's, so it stays meaningful when other jobs share the cores)."""
    times, out = [], None
    for _ in range(runs):
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
        if cpu is not None:
            cpu.append(time.process_time() - c0)
    return times, out


def hand_sql(raw: Any, sql: str) -> Any:
    return raw.execute(sql).df()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--world", type=Path, default=Path("/tmp/luopan-bench/metrics-world"))
    ap.add_argument("--lines", type=int, default=10_000_000)
    ap.add_argument("--out", type=Path, default=Path("/tmp/luopan-bench/metrics.duckdb"))
    ap.add_argument("--no-results", action="store_true", help="do not update RESULTS.md")
    args = ap.parse_args()

    from luopan.metrics import default_catalog, query_metric, scorecard

    load_before = os.getloadavg()[0]
    source = ensure_world(args.world)
    t0 = time.perf_counter()
    n_lines, n_orders = scale_up(source, args.out, args.lines)
    print(
        f"warehouse: {n_lines:,} order lines, {n_orders:,} orders "
        f"({time.perf_counter() - t0:.1f}s to build)",
        flush=True,
    )
    catalog = default_catalog()
    con = ibis.duckdb.connect(str(args.out), read_only=True)
    raw = con.con  # the same DuckDB connection Ibis uses: hand-written SQL runs beside it

    card_rows = []
    for period in ("2026-10", "2026-W45"):
        times, card = timed(partial(scorecard, con, catalog, period), 3)
        failed = [r.metric for r in card.rows if r.error and "grain" not in r.error]
        card_rows.append((period, len(card.rows), statistics.median(times), failed))
        print(
            f"scorecard {period}: {len(card.rows)} metrics, median {statistics.median(times):.2f}s "
            f"(runs {', '.join(f'{t:.2f}' for t in times)}); errors: {failed or 'none'}",
            flush=True,
        )

    latencies: list[float] = []
    cpu_times: list[float] = []  # process CPU time of each query: comparable under load
    per_metric: dict[str, float] = {}
    per_metric_cpu: dict[str, float] = {}
    lo, hi = dt.date(2026, 9, 14), dt.date(2026, 11, 9)
    for name, m in catalog.metrics.items():
        if not m.meta.scorecard:
            continue
        grain = "week" if "week" in m.grains else m.grains[0]
        query = partial(query_metric, con, catalog, name, grain=grain, start=lo, end=hi)
        cpu: list[float] = []
        times, _ = timed(query, 3, cpu)
        latencies += times
        cpu_times += cpu
        per_metric[name] = statistics.median(times)
        per_metric_cpu[name] = statistics.median(cpu)
    latencies.sort()
    cpu_times.sort()
    slowest = sorted(per_metric.items(), key=lambda kv: -kv[1])[:6]
    p95 = latencies[min(len(latencies) - 1, math.ceil(0.95 * len(latencies)) - 1)]
    p50 = statistics.median(latencies)
    cpu_p95 = cpu_times[min(len(cpu_times) - 1, math.ceil(0.95 * len(cpu_times)) - 1)]
    print(
        f"single-metric queries: n={len(latencies)}, p50 {p50 * 1000:.0f} ms, "
        f"p95 {p95 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms; slowest: "
        + ", ".join(f"{n} {t * 1000:.0f} ms" for n, t in slowest),
        flush=True,
    )
    print(
        f"single-metric queries, process CPU time: p50 {statistics.median(cpu_times) * 1000:.0f} "
        f"ms, p95 {cpu_p95 * 1000:.0f} ms; slowest (median of 3): "
        + ", ".join(
            f"{n} {per_metric_cpu[n] * 1000:.0f} ms"
            for n, _ in sorted(per_metric_cpu.items(), key=lambda kv: -kv[1])[:6]
        ),
        flush=True,
    )

    overhead_rows = []
    for name, sql in HAND_SQL.items():
        hand_c: list[float] = []
        cat_c: list[float] = []
        hand_t: list[float] = []
        cat_t: list[float] = []
        for _ in range(RUNS):  # alternating, so a drift in the machine's load hits both alike
            t, hand = timed(partial(hand_sql, raw, sql), 1, hand_c)
            hand_t += t
            t, ours = timed(partial(query_metric, con, catalog, name, grain="month"), 1, cat_c)
            cat_t += t
        same = len(hand) == len(ours) and all(
            math.isclose(float(a), float(b), rel_tol=1e-9)
            for a, b in zip(hand["value"], ours["value"], strict=True)
        )
        ratio = statistics.median(cat_t) / statistics.median(hand_t)
        cpu_ratio = statistics.median(cat_c) / statistics.median(hand_c)
        overhead_rows.append(
            (name, statistics.median(hand_t), statistics.median(cat_t), ratio, cpu_ratio, same)
        )
        print(
            f"{name}: hand SQL {statistics.median(hand_t) * 1000:.0f} ms, catalog "
            f"{statistics.median(cat_t) * 1000:.0f} ms, ratio {ratio:.2f}x "
            f"(CPU time ratio {cpu_ratio:.2f}x), same values: {same}",
            flush=True,
        )

    if args.no_results:
        return 0
    cmd = " ".join(["`.venv/bin/python benchmarks/metrics.py", *sys.argv[1:]]).strip() + "`"
    out = [
        f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {machine('duckdb', 'ibis')}; shared with other jobs: 1-minute load average "
        f"{load_before:.1f} at start, {os.getloadavg()[0]:.1f} at end (2 cores)",
        f"- command: {cmd}",
        f"- data: demo world seed 7 scaled to {n_lines:,} order lines / {n_orders:,} orders "
        "(orders, lines and customers replicated with suffixed IDs; other tables once)",
        "- targets: scorecard < 5 s, p95 < 300 ms, overhead ≤ 1.3×",
        "",
        "| measure | figure | target | met |",
        "|---|---:|---:|---|",
    ]
    for period, n, sec, failed in card_rows:
        out.append(
            f"| scorecard {period} ({n} metrics × 8 periods), median of 3 | {sec:.2f} s "
            f"| < 5 s | {'yes' if sec < 5 and not failed else 'NO'} |"
        )
    out.append(
        f"| single-metric query p95 (n={len(latencies)}; p50 {p50 * 1000:.0f} ms) | "
        f"{p95 * 1000:.0f} ms | < 300 ms | {'yes' if p95 < 0.3 else 'NO'} |"
    )
    out.append("")
    out.append(
        "Slowest single-metric queries (weekly, 8 weeks, median of 3): "
        + ", ".join(f"{n} {t * 1000:,.0f} ms" for n, t in slowest)
        + f". Process CPU time of the single-metric queries (both cores' threads): p95 "
        f"{cpu_p95 * 1000:.0f} ms."
    )
    out += [
        "",
        f"| metric (by month, all history), median of {RUNS} alternating runs | hand-written "
        "DuckDB SQL | catalog | "
        "ratio | CPU-time ratio | same values |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, hand_s, cat_s, ratio, cpu_ratio, same in overhead_rows:
        out.append(
            f"| {name} | {hand_s * 1000:.0f} ms | {cat_s * 1000:.0f} ms | "
            f"{ratio:.2f}× | {cpu_ratio:.2f}× | {'yes' if same else 'NO'} |"
        )
    write_section(RESULTS, SECTION, "\n".join(out))
    print(f"wrote {RESULTS.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
