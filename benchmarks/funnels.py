"""Benchmark: a 4-step ordered funnel and a weekly retention table over N events on DuckDB.

Targets (issue 12): <= 10 s for the funnel and <= 15 s for the retention table at 100M events
on 2 cores. The events are generated with DuckDB SQL into a git-ignored Parquet file
(``benchmarks/_data/funnels_<N>.parquet``, reused when present): sessions of 1-4 steps
(view -> add_to_cart -> checkout -> pay, 50/20/10/20%), N/50 users, 180 days, seconds between
steps 5-600 s. Timings are wall clock of the engine call (query + materialization), the file
being read through a DuckDB view. Usage::

    .venv/bin/python benchmarks/funnels.py --events 10000000 [--threads 2] [--no-results]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

import duckdb
import ibis

from luopan.engines.funnels import funnel
from luopan.engines.funnels.retention import retention

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
RESULTS = HERE / "RESULTS.md"
SECTION = "## funnels (benchmarks/funnels.py)"
STEPS = ["view", "add_to_cart", "checkout", "pay"]


def generate(n: int) -> Path:
    """Write about ``n`` events to Parquet with DuckDB SQL (skipped if the file exists)."""
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"funnels_{n}.parquet"
    if path.is_file():
        return path
    sessions, users = n // 2, max(n // 50, 1)
    con = duckdb.connect()
    con.execute(
        f"""
        COPY (
          WITH s AS (
            SELECT i AS sid,
                   hash(i, 1) % {users} AS uid,
                   TIMESTAMP '2025-01-01' + to_seconds(CAST(hash(i, 2) % (180 * 86400) AS BIGINT)) AS t0,
                   CASE WHEN hash(i, 3) % 10 < 5 THEN 1 WHEN hash(i, 3) % 10 < 7 THEN 2
                        WHEN hash(i, 3) % 10 < 8 THEN 3 ELSE 4 END AS k
            FROM range({sessions}) r(i)
          )
          SELECT 'e' || CAST(sid * 4 + pos AS VARCHAR) AS event_id,
                 'u' || CAST(uid AS VARCHAR) AS user_id,
                 t0 + to_seconds(CAST(pos * (5 + hash(sid, pos) % 596) AS BIGINT)) AS event_time,
                 ['view', 'add_to_cart', 'checkout', 'pay'][pos + 1] AS event_name
          FROM s, range(4) p(pos)
          WHERE pos < k
        ) TO '{path}' (FORMAT parquet)
        """
    )
    con.close()
    return path


def machine() -> str:
    mem = ""
    try:
        kb = int(next(x for x in open("/proc/meminfo") if x.startswith("MemTotal")).split()[1])
        mem = f", {kb / 2**20:.1f} GiB RAM"
    except (OSError, StopIteration):
        pass
    return (
        f"{os.cpu_count()} CPUs{mem}, {platform.system()} {platform.release()}, Python "
        f"{platform.python_version()}, duckdb {duckdb.__version__}, ibis {ibis.__version__}"
    )


def write_results(lines: list[str]) -> None:
    section = "\n".join([SECTION, "", *lines]) + "\n"
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.is_file() else "# Benchmarks\n"
    start = text.find(SECTION)
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        nxt = text.find("\n## ", start + len(SECTION))
        text = text[:start] + section + ("\n" + text[nxt + 1 :] if nxt != -1 else "")
    RESULTS.write_text(text, encoding="utf-8")


def run(n: int, threads: int) -> tuple[int, float, float, float, str]:
    t = time.perf_counter()
    path = generate(n)
    gen = time.perf_counter() - t
    con = ibis.duckdb.connect(threads=threads)
    con.raw_sql(f"CREATE VIEW events AS SELECT * FROM read_parquet('{path}')")
    events = con.table("events")
    rows = int(events.count().to_pyarrow().as_py())
    t = time.perf_counter()
    f = funnel(events, STEPS, window="14d")
    t_funnel = time.perf_counter() - t
    t = time.perf_counter()
    r = retention(events, period="week", periods=8)
    t_ret = time.perf_counter() - t
    con.disconnect()
    check = (
        f"funnel users {f.steps['users'].tolist()}, overall {f.overall():.3f}; "
        f"{r.table['cohort_index'].nunique()} weekly cohorts"
    )
    print(
        f"{rows:,} events: generate {gen:.1f}s, funnel {t_funnel:.2f}s, "
        f"retention {t_ret:.2f}s | {check}",
        flush=True,
    )
    return rows, gen, t_funnel, t_ret, check


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-results", action="store_true", help="do not update RESULTS.md")
    args = ap.parse_args()
    load = os.getloadavg()[0]
    results = [run(n, args.threads) for n in args.events]
    if args.no_results:
        return 0
    big = [r for r in results if r[0] >= 90_000_000]
    verdict = (
        "**Verdict: not run at 100M.**"
        if not big
        else f"**Verdict: targets {'met' if big[0][2] <= 10 and big[0][3] <= 15 else 'NOT met'} "
        f"at 100M events** (funnel {big[0][2]:.0f} s vs 10 s, retention {big[0][3]:.0f} s "
        "vs 15 s)."
    )
    lines = [
        verdict,
        "",
        f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {machine()}, DuckDB threads {args.threads}; load average at start "
        f"{load:.1f} (the 2 cores are shared with other jobs)",
        f"- command: `.venv/bin/python benchmarks/funnels.py --events "
        f"{' '.join(str(n) for n in args.events)}`",
        "- targets: 4-step funnel ≤ 10 s, weekly retention ≤ 15 s at 100M events",
        "- no peer figure: DuckDB has no funnel function (ClickHouse windowFunnel is not "
        "available here)",
        "",
        "| events | funnel (ordered, 14d) s | weekly retention s | events/s (funnel) | check |",
        "|---:|---:|---:|---:|---|",
    ]
    for rows, _gen, tf, tr, check in results:
        lines.append(f"| {rows:,} | {tf:.2f} | {tr:.2f} | {rows / tf:,.0f} | {check} |")
    write_results(lines)
    print(f"wrote {RESULTS.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
