"""Ingest throughput: luopan's pipeline vs DuckDB's bare ``read_csv`` on the same file.

Run from the repo root::

    .venv/bin/python benchmarks/ingest.py                 # 10M order lines, ~3.3M orders
    .venv/bin/python benchmarks/ingest.py --rows 1000000  # quicker

Data is generated once with DuckDB SQL under ``/tmp/luopan-bench-ingest/`` (``$LUOPAN_BENCH_DATA``
to move it) and reused
while ``--rows``/``--orders`` stay the same:

* ``orders.csv``           canonical English headers, 19-digit text order ids
* ``order_lines.csv``      ``--rows`` lines, each referencing an existing order; a few ‰ returns
                           (negative quantity and negative paid_amount)
* ``order_lines_gbk.csv``  the same lines, GBK, Chinese headers, amounts like ``￥1,234.50``
                           (written as UTF-8 by DuckDB, then transcoded to GBK in Python, chunked)
* ``order_lines_shuffled.csv``  with ``--shuffled``: the UTF-8 lines in a random row order. The
                           generated files list lines by order and line number, as exports do,
                           so their keys increase and the sorted-key proof of uniqueness
                           (``checks.keys_increase``) applies; the shuffled file shows the cost
                           without it (compared with bare DuckDB on that same file)

Each luopan run uses a fresh workspace (orders loaded first, timed separately), then the lines
file is loaded through ``ingest_workspace(ws, sources=["lines"])``. The reference is
``CREATE TABLE t AS SELECT * FROM read_csv(file, header=true)`` into a fresh DuckDB file on the
same disk (connect + CTAS + close). DuckDB cannot decode GBK offline, so the GBK run is compared
with the bare figure for the UTF-8 file.

Phases are timed by wrapping pipeline/reader/stage functions from this script (``src/`` is not
modified) and every SQL statement run on the warehouse connection is timed through a proxy.
The wrappers cost microseconds per call; the totals are the wall clock of ``ingest_workspace``.
Exit status 1 when a loaded count differs from the file's row count or anything is quarantined.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import re
import resource
import shutil
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import duckdb
import yaml
from _common import machine, write_section

HERE = Path(__file__).resolve().parent
DATA = Path(
    os.environ.get("LUOPAN_BENCH_DATA", Path(tempfile.gettempdir()) / "luopan-bench-ingest")
)
RESULTS = HERE / "RESULTS.md"
SECTION = "## ingest (benchmarks/ingest.py)"
GEN_VERSION = 1
CHUNK = 16 * 1024 * 1024

ORDERS_CSV = DATA / "orders.csv"
LINES_CSV = DATA / "order_lines.csv"
LINES_GBK = DATA / "order_lines_gbk.csv"
LINES_SHUFFLED = DATA / "order_lines_shuffled.csv"
META = DATA / "meta.json"


# ---- data ---------------------------------------------------------------------------------


def _generate(rows: int, orders: int) -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    for p in (ORDERS_CSV, LINES_CSV, LINES_GBK, META):
        p.unlink(missing_ok=True)
    con = duckdb.connect()
    t0 = time.perf_counter()
    con.execute(
        f"""COPY (
          WITH o AS (
            SELECT i,
              TIMESTAMP '2025-01-01 00:00:00' + to_seconds(i * 31449600 // {orders}) AS ts,
              CAST(((hash(i * 3) % 200000) + 1000) / 100.0 AS DECIMAL(12,2)) AS gross,
              CASE WHEN i % 97 = 5 THEN 'refunded' WHEN i % 13 = 1 THEN 'paid'
                   ELSE 'completed' END AS status
            FROM range({orders}) t(i))
          SELECT CAST(5000000000000000000 + i AS VARCHAR) AS order_id,
                 'C' || lpad(CAST(hash(i) % {max(orders // 4, 1)} AS VARCHAR), 9, '0')
                   AS customer_id,
                 'S' || lpad(CAST(i % 300 AS VARCHAR), 4, '0') AS store_id,
                 ['store', 'miniprogram', 'tmall', 'jd', 'douyin'][1 + i % 5] AS channel,
                 strftime(ts, '%Y-%m-%d %H:%M:%S') AS ordered_at,
                 strftime(ts + to_seconds(30 + i % 600), '%Y-%m-%d %H:%M:%S') AS paid_at,
                 status,
                 gross AS gross_amount,
                 CAST(gross * (i % 4) * 0.05 AS DECIMAL(12,2)) AS discount_amount,
                 gross - CAST(gross * (i % 4) * 0.05 AS DECIMAL(12,2)) AS paid_amount,
                 CASE WHEN status = 'refunded'
                      THEN gross - CAST(gross * (i % 4) * 0.05 AS DECIMAL(12,2))
                      ELSE CAST(0 AS DECIMAL(12,2)) END AS refund_amount
          FROM o ORDER BY i
        ) TO '{ORDERS_CSV}' (HEADER, DELIMITER ',')"""
    )
    # line i belongs to order floor(i * O / R); line_no counts from that order's first line
    lines_sql = f"""
        WITH l AS (
          SELECT i, (i * {orders}) // {rows} AS o,
                 hash(i * 7 + 1) % 1000 < 3 AS ret,
                 CAST(1 + hash(i * 13) % 4 AS BIGINT) AS q,
                 CAST(((hash(i * 17) % 49900) + 100) / 100.0 AS DECIMAL(12,2)) AS price
          FROM range({rows}) t(i)),
        m AS (
          SELECT i, o, i - (o * {rows} + {orders} - 1) // {orders} + 1 AS line_no,
                 'SKU-' || lpad(CAST(hash(i) % 20000 AS VARCHAR), 5, '0') AS sku,
                 CASE WHEN ret THEN -q ELSE q END AS quantity, price,
                 CAST(CASE WHEN ret THEN -q ELSE q END * price * (1 - (i % 3) * 0.05)
                      AS DECIMAL(12,2)) AS paid
          FROM l)
    """
    con.execute(
        f"""COPY ({lines_sql}
          SELECT CAST(5000000000000000000 + o AS VARCHAR) AS order_id, line_no, sku, quantity,
                 price AS unit_price, paid AS paid_amount
          FROM m ORDER BY i
        ) TO '{LINES_CSV}' (HEADER, DELIMITER ',')"""
    )
    t1 = time.perf_counter()
    utf8_zh = DATA / "order_lines_zh_utf8.tmp.csv"

    def yuan(x: str) -> str:
        return (
            f"CASE WHEN {x} < 0 THEN '-￥' || format('{{:,.2f}}', -{x}) "
            f"ELSE '￥' || format('{{:,.2f}}', {x}) END"
        )

    con.execute(
        f"""COPY ({lines_sql}
          SELECT CAST(5000000000000000000 + o AS VARCHAR) AS "订单编号", line_no AS "行号",
                 sku AS "商品编码", quantity AS "数量", {yuan("price")} AS "单价",
                 {yuan("paid")} AS "实付金额"
          FROM m ORDER BY i
        ) TO '{utf8_zh}' (HEADER, DELIMITER ',')"""
    )
    con.close()
    # streaming transcode UTF-8 -> GBK in chunks (constant memory)
    tmp = LINES_GBK.with_suffix(".partial")
    with (
        utf8_zh.open("r", encoding="utf-8", newline="") as src,
        tmp.open("w", encoding="gbk", newline="") as dst,
    ):
        while chunk := src.read(CHUNK):
            dst.write(chunk)
    tmp.rename(LINES_GBK)
    utf8_zh.unlink()
    t2 = time.perf_counter()
    META.write_text(json.dumps({"version": GEN_VERSION, "rows": rows, "orders": orders}))
    print(
        f"generated data in {t2 - t0:.1f}s (UTF-8 files {t1 - t0:.1f}s, GBK variant {t2 - t1:.1f}s)"
    )


def ensure_data(rows: int, orders: int) -> None:
    want = {"version": GEN_VERSION, "rows": rows, "orders": orders}
    ok = META.is_file() and all(p.is_file() for p in (ORDERS_CSV, LINES_CSV, LINES_GBK))
    if ok and json.loads(META.read_text()) == want:
        print(f"using cached data in {DATA}")
        return
    print(f"generating {rows:,} order lines / {orders:,} orders in {DATA} ...", flush=True)
    _generate(rows, orders)


def ensure_shuffled() -> None:
    """The UTF-8 lines in a random row order (same bytes per row): no sorted-key shortcut."""
    if LINES_SHUFFLED.is_file() and LINES_SHUFFLED.stat().st_mtime >= LINES_CSV.stat().st_mtime:
        return
    print(f"writing {LINES_SHUFFLED.name} (rows in random order) ...", flush=True)
    tmp = LINES_SHUFFLED.with_suffix(".partial")
    duckdb.connect().execute(
        f"""COPY (SELECT * FROM read_csv('{LINES_CSV}', all_varchar = true)
                 ORDER BY hash(order_id, line_no)) TO '{tmp}' (HEADER, DELIMITER ',')"""
    )
    tmp.rename(LINES_SHUFFLED)


def count_data_lines(path: Path) -> int:
    """Physical lines minus the header (the generated files have no quoted newlines)."""
    n = 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            n += chunk.count(b"\n")
    return n - 1


# ---- instrumentation ----------------------------------------------------------------------


class Timings:
    def __init__(self) -> None:
        self.phases: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.sql: dict[str, list[float]] = defaultdict(list)
        self.order: list[str] = []
        self.depth: dict[str, int] = {}
        self._stacks: dict[int, list[str]] = defaultdict(list)  # per thread (hashing runs in one)

    @property
    def _stack(self) -> list[str]:
        return self._stacks[threading.get_ident()]

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]

    def wrap(self, module: Any, name: str, label: str | None = None) -> None:
        fn = getattr(module, name, None)
        if not callable(fn):  # src/ is being refactored; skip helpers that no longer exist
            return
        label = label or name
        timings = self

        @functools.wraps(fn)
        def wrapper(*a: Any, **kw: Any) -> Any:
            if label not in timings.depth:
                timings.depth[label] = len(timings._stack)
                timings.order.append(label)
            timings._stack.append(label)
            t = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                timings.phases[label] += time.perf_counter() - t
                timings.calls[label] += 1
                timings._stack.pop()

        setattr(module, name, wrapper)


_SPACE = re.compile(r"\s+")
_BATCH = re.compile(r"[0-9a-f]{16}")


def _sql_key(sql: str, stack: list[str]) -> str:
    s = _BATCH.sub("…", _SPACE.sub(" ", sql).strip())
    where = stack[-1] if stack else "-"
    return f"[{where}] {s[:150]}"


class TimedCon:
    """Proxy for a DuckDB connection timing execute/executemany (query runs inside execute)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, timings: Timings) -> None:
        self._con = con
        self._t = timings

    def execute(self, sql: str, *a: Any, **kw: Any) -> Any:
        t = time.perf_counter()
        try:
            return self._con.execute(sql, *a, **kw)
        finally:
            self._t.sql[_sql_key(sql, self._t._stack)].append(time.perf_counter() - t)

    def executemany(self, sql: str, *a: Any, **kw: Any) -> Any:
        t = time.perf_counter()
        try:
            return self._con.executemany(sql, *a, **kw)
        finally:
            self._t.sql[_sql_key(sql, self._t._stack)].append(time.perf_counter() - t)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def instrument() -> Timings:
    from luopan.ingest import checks, encoding, fast, pipeline
    from luopan.ingest.readers import base, delimited
    from luopan.warehouse import store

    t = Timings()
    # pipeline-level phases (names looked up in luopan.ingest.pipeline's namespace)
    for name in (
        "scan_file",
        "stage_fast",
        "read_file",
        "_dedupe_raw",
        "resolve_output",
        "build_stage",
        "check_stage",
        "_good_view",
        "quarantine_rows",
        "_upsert",
        "_create_customers",
        "_write_quarantine",
    ):
        t.wrap(pipeline, name, f"pipeline.{name}")
    # inside read_file
    for name in (
        "_fingerprint",
        "detect_encoding",
        "to_utf8",
        "_read_header",
        "_lines_at",
        "_blank_lines",
        "_number_lines",
        "_shift_by_gaps",
        "_count",
    ):
        t.wrap(delimited, name, f"readers.{name}")
    t.wrap(base, "_scan", "readers.scan_file (sha256 + line count)")
    for name in ("_first_bad_byte",):
        t.wrap(encoding, name, f"encoding.{name}")
    for name in ("_mark_duplicate_keys", "keys_increase"):
        t.wrap(checks, name, f"checks.{name}")
    for name in ("check_stage", "csv_rejects"):  # inside stage_fast (the one-pass tier)
        t.wrap(fast, name, f"fast.{name}")

    class TimedWarehouse(store.Warehouse):
        def __init__(self, *a: Any, **kw: Any) -> None:
            t0 = time.perf_counter()
            super().__init__(*a, **kw)
            self.con = TimedCon(self.con, t)  # type: ignore[assignment]
            t.phases["Warehouse.open+schema"] += time.perf_counter() - t0
            t.depth.setdefault("Warehouse.open+schema", 0)
            if "Warehouse.open+schema" not in t.order:
                t.order.insert(0, "Warehouse.open+schema")

        def close(self) -> None:
            t0 = time.perf_counter()
            self.con._con.close()  # type: ignore[attr-defined]
            t.phases["Warehouse.close (checkpoint)"] += time.perf_counter() - t0
            t.depth.setdefault("Warehouse.close (checkpoint)", 0)
            if "Warehouse.close (checkpoint)" not in t.order:
                t.order.append("Warehouse.close (checkpoint)")

    pipeline.Warehouse = TimedWarehouse  # type: ignore[misc]
    return t


# ---- runs ---------------------------------------------------------------------------------


def make_ws(root: Path, lines_file: Path) -> Any:
    from luopan.workspace import Workspace

    root.mkdir(parents=True)
    config = {
        "name": "bench",
        "as_of": "2026-06-30 12:00:00",
        "sources": [
            {
                "name": "orders",
                "path": str(ORDERS_CSV),
                "table": "orders",
                "creates_customers": True,
            },
            # no `columns:`: canonical names (English file) and the zh labels of
            # order_lines (订单编号 行号 商品编码 数量 单价 实付金额) both resolve by themselves
            {"name": "lines", "path": str(lines_file), "table": "order_lines"},
        ],
    }
    (root / "luopan.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return Workspace.open(root)


def check_result(results: list[Any], table: str, expected: int, errors: list[str]) -> Any:
    if len(results) != 1:
        errors.append(f"{table}: expected one file result, got {len(results)}")
        return None
    r = results[0]
    got = r.loaded.get(table, 0)
    if r.status != "loaded":
        errors.append(f"{r.file}: status {r.status}: {r.message}")
    if got != expected:
        errors.append(f"{r.file}: loaded {got:,} rows into {table}, the file has {expected:,}")
    if r.quarantined or r.duplicates:
        errors.append(
            f"{r.file}: {r.quarantined} quarantined, {r.duplicates} duplicates "
            f"(expected 0; see {r.quarantine_file})"
        )
    return r


def warehouse_count(ws: Any, table: str) -> int:
    con = duckdb.connect(str(ws.warehouse_path), read_only=True)
    try:
        row = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()
        return int(row[0]) if row else 0
    finally:
        con.close()


def run_luopan(
    root: Path, lines_file: Path, n_orders: int, n_lines: int, timings: Timings, errors: list[str]
) -> dict[str, Any]:
    from luopan.ingest.pipeline import ingest_workspace

    ws = make_ws(root, lines_file)
    timings.reset()
    t0 = time.perf_counter()
    res_o = ingest_workspace(ws, sources=["orders"])
    t_orders = time.perf_counter() - t0
    r_o = check_result(res_o, "orders", n_orders, errors)
    orders_phases = dict(timings.phases)
    timings.reset()
    t0, c0 = time.perf_counter(), cpu_seconds()
    res_l = ingest_workspace(ws, sources=["lines"])
    t_lines, c_lines = time.perf_counter() - t0, cpu_seconds() - c0
    r_l = check_result(res_l, "order_lines", n_lines, errors)
    in_wh = warehouse_count(ws, "order_lines")
    if in_wh != n_lines:
        errors.append(f"{lines_file.name}: warehouse has {in_wh:,} order_lines, file {n_lines:,}")
    return {
        "orders_s": t_orders,
        "lines_s": t_lines,
        "lines_cpu": c_lines,
        "lines_loaded": r_l.loaded.get("order_lines") if r_l else None,
        "lines_quarantined": r_l.quarantined if r_l else None,
        "orders_loaded": r_o.loaded.get("orders") if r_o else None,
        "customers_created": r_o.customers_created if r_o else None,
        "in_warehouse": in_wh,
        "encoding": None,
        "phases": dict(timings.phases),
        "calls": dict(timings.calls),
        "order": list(timings.order),
        "depth": dict(timings.depth),
        "sql": {k: list(v) for k, v in timings.sql.items()},
        "orders_phases": orders_phases,
    }


def run_bare(root: Path, path: Path) -> dict[str, Any]:
    root.mkdir(parents=True)
    db = root / "bare.duckdb"
    t0, c0 = time.perf_counter(), cpu_seconds()
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?, header=true)", [str(path)])
    row = con.execute("SELECT count(*) FROM t").fetchone()
    n = int(row[0]) if row else 0
    con.close()
    return {"s": time.perf_counter() - t0, "cpu": cpu_seconds() - c0, "rows": n}


def cpu_seconds() -> float:
    """CPU time of this process, all threads (user + system). On a shared machine, wall time
    grows with the other jobs while CPU time barely moves, so the CPU ratio is the steadier
    figure; on a quiet machine the wall ratio is the one the target is about."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


# ---- report -------------------------------------------------------------------------------


def loadavg() -> str:
    """1/5/15-minute load averages (other jobs on a shared machine inflate every timing)."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def fmt_rate(rows: int, s: float) -> str:
    return f"{rows / s:,.0f}" if s > 0 else "-"


def breakdown_rows(run: dict[str, Any]) -> list[tuple[str, float, int, float]]:
    total = run["lines_s"]
    out = []
    for label in run["order"]:
        s = run["phases"].get(label, 0.0)
        indent = "  " * run["depth"].get(label, 0)
        out.append((indent + label, s, run["calls"].get(label, 1), 100 * s / total))
    top = sum(run["phases"].get(lb, 0.0) for lb in run["order"] if run["depth"].get(lb, 0) == 0)
    out.append(("(unattributed, top level)", total - top, 0, 100 * (total - top) / total))
    return out


def top_sql(run: dict[str, Any], n: int = 12) -> list[tuple[str, float, int]]:
    items = sorted(((k, sum(v), len(v)) for k, v in run["sql"].items()), key=lambda x: -x[1])
    return items[:n]


def print_report(
    m: dict[str, Any],
    table_rows: list[tuple[str, ...]],
    runs: dict[str, Any],
    errors: list[str],
    show_breakdown: bool,
) -> None:
    try:
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table
    except ImportError:  # plain fallback
        for r in table_rows:
            print(" | ".join(r))
        return
    console = Console()
    console.print(
        f"[bold]machine[/]: {m['description']}; load average before / "
        f"after: {m['load_before']} / {m['load_after']}"
    )
    t = Table(title="ingest throughput")
    for h in ("run", "rows", "seconds", "rows/s", "time ratio vs bare", "CPU s (ratio)", "check"):
        t.add_column(h, justify="left" if h in ("run", "check") else "right")
    for r in table_rows:
        t.add_row(*r)
    console.print(t)
    if show_breakdown:
        for name, run in runs.items():
            b = Table(title=f"phase breakdown: {name} ({run['lines_s']:.2f}s wall)")
            for h in ("phase", "seconds", "calls", "% of wall"):
                b.add_column(h, justify="left" if h == "phase" else "right")
            for label, s, calls, pct in breakdown_rows(run):
                b.add_row(label, f"{s:.2f}", str(calls) if calls else "", f"{pct:.1f}")
            console.print(b)
            q = Table(title=f"slowest SQL statements: {name}")
            for h in ("seconds", "runs", "[caller] statement"):
                q.add_column(h, justify="left" if h.startswith("[") else "right")
            for k, s, c in top_sql(run):
                q.add_row(f"{s:.2f}", str(c), escape(k))
            console.print(q)
    if errors:
        console.print("[bold red]COUNT CHECK FAILED[/]")
        for e in errors:
            console.print(f"  [red]{e}[/]")
    else:
        console.print("[green]counts OK[/]: every file row loaded, 0 quarantined, 0 duplicates")


def verdict(runs: dict[str, Any]) -> str:
    """The issue's target, ≥ 1M rows/s and ≤ 2× bare DuckDB, checked on every run."""
    parts = []
    for name, run in runs.items():
        rate = (run["lines_loaded"] or 0) / run["lines_s"]
        ratio = run["lines_s"] / run["bare_s"]
        ok = rate >= 1_000_000 and ratio <= 2
        cpu = run["lines_cpu"] / run["bare_cpu"]
        parts.append(
            f"{name}: {rate:,.0f} rows/s, {ratio:.2f}× bare (CPU time {cpu:.2f}×) — "
            f"{'met' if ok else 'NOT met'}"
        )
    return "target ≥ 1,000,000 rows/s and ≤ 2× bare: " + "; ".join(parts)


def write_results(
    m: dict[str, Any],
    cmd: str,
    table_rows: list[tuple[str, ...]],
    runs: dict[str, Any],
    show_breakdown: bool,
    note: str,
) -> None:
    lines = [
        f"- date: {dt.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}",
        f"- machine: {m['description']}",
        f"- command: `{cmd}`",
        f"- load average (1/5/15 min) before / after: {m['load_before']} / {m['load_after']}",
        f"- note: {note}",
        f"- verdict: {verdict(runs)}",
        "",
        "| run | rows | seconds | rows/s | time ratio vs bare | CPU s (ratio) | check |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    lines += ["| " + " | ".join(r) + " |" for r in table_rows]
    if show_breakdown:
        for name, run in runs.items():
            lines += [
                "",
                f"Phase breakdown, {name} ({run['lines_s']:.2f}s wall):",
                "",
                "| phase | seconds | % |",
                "|---|---:|---:|",
            ]
            for label, s, _calls, pct in breakdown_rows(run):
                lbl = label.strip()
                depth = len(label) - len(label.lstrip(" "))
                lines.append(f"| {'↳ ' * (depth // 2)}{lbl} | {s:.2f} | {pct:.1f} |")
    write_section(RESULTS, SECTION, "\n".join(lines))


# ---- main ---------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=10_000_000, help="order lines (default 10M)")
    ap.add_argument("--orders", type=int, default=None, help="orders (default rows/3)")
    ap.add_argument("--no-gbk", action="store_true", help="skip the GBK run")
    ap.add_argument(
        "--shuffled",
        action="store_true",
        help="also load the lines in random row order (keys not sorted), against bare on that file",
    )
    ap.add_argument("--no-results", action="store_true", help="do not update RESULTS.md")
    ap.add_argument("--keep", action="store_true", help="keep the workspaces")
    ap.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="alternate bare and luopan runs N times and keep the fastest of each",
    )
    ap.add_argument(
        "--breakdown",
        action="store_true",
        help="always print the phase breakdown (default: when luopan > 2x bare)",
    )
    args = ap.parse_args()
    rows = args.rows
    orders = args.orders or max(rows // 3, 1)
    if not 1 <= orders <= rows:
        ap.error("--orders must be between 1 and --rows")

    ensure_data(rows, orders)
    if args.shuffled:
        ensure_shuffled()
    n_lines = count_data_lines(LINES_CSV)
    n_lines_gbk = count_data_lines(LINES_GBK)
    n_orders = count_data_lines(ORDERS_CSV)
    errors: list[str] = []
    if n_lines != rows or n_lines_gbk != rows or n_orders != orders:
        errors.append(
            f"generated files have {n_lines:,}/{n_lines_gbk:,} lines and "
            f"{n_orders:,} orders, expected {rows:,}/{orders:,}"
        )

    timings = instrument()
    load_before = loadavg()
    print(f"load average: {load_before}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="run-", dir=DATA))  # same disk as the data
    runs: dict[str, Any] = {}
    try:
        bares: list[dict[str, Any]] = []
        bares_shuffled: list[dict[str, Any]] = []
        tries: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in range(args.repeat):  # alternate, so slow spells of a shared machine hit both
            tag = f" (round {r + 1}/{args.repeat})" if args.repeat > 1 else ""
            print(f"DuckDB bare read_csv (UTF-8){tag} ...", flush=True)
            bares.append(run_bare(work / f"bare{r}", LINES_CSV))
            if bares[-1]["rows"] != n_lines:
                errors.append(f"bare DuckDB read {bares[-1]['rows']:,} rows, file has {n_lines:,}")
            print(f"luopan (UTF-8){tag} ...", flush=True)
            tries["luopan UTF-8"].append(
                run_luopan(work / f"ws_utf8_{r}", LINES_CSV, n_orders, n_lines, timings, errors)
            )
            if not args.no_gbk:
                print(f"luopan (GBK, Chinese headers, ￥1,234.50 amounts){tag} ...", flush=True)
                tries["luopan GBK"].append(
                    run_luopan(
                        work / f"ws_gbk_{r}", LINES_GBK, n_orders, n_lines_gbk, timings, errors
                    )
                )
            if args.shuffled:
                print(f"DuckDB bare read_csv (UTF-8, rows shuffled){tag} ...", flush=True)
                bares_shuffled.append(run_bare(work / f"bare_shuffled_{r}", LINES_SHUFFLED))
                print(f"luopan (UTF-8, rows shuffled){tag} ...", flush=True)
                tries["luopan UTF-8 shuffled"].append(
                    run_luopan(
                        work / f"ws_shuffled_{r}",
                        LINES_SHUFFLED,
                        n_orders,
                        n_lines,
                        timings,
                        errors,
                    )
                )
            for p in work.glob(f"*{r}"):  # free the disk before the next round
                if not args.keep:
                    shutil.rmtree(p, ignore_errors=True)
        bare = min(bares, key=lambda b: b["s"])  # fastest of each: the least disturbed run
        runs = {name: min(ts, key=lambda t: t["lines_s"]) for name, ts in tries.items()}
        for name, run in runs.items():
            own = min(bares_shuffled, key=lambda b: b["s"]) if "shuffled" in name else bare
            run["bare_s"], run["bare_cpu"] = own["s"], own["cpu"]
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"workspaces kept in {work}")

    m = {"description": machine("duckdb"), "load_before": load_before, "load_after": loadavg()}
    b_s = bare["s"]
    u = runs["luopan UTF-8"]
    table_rows: list[tuple[str, ...]] = [
        (
            "DuckDB bare read_csv → table (UTF-8)",
            f"{bare['rows']:,}",
            f"{b_s:.2f}",
            fmt_rate(bare["rows"], b_s),
            "1.00",
            f"{bare['cpu']:.2f} (1.00)",
            "rows = file" if bare["rows"] == n_lines else "✗",
        ),
        (
            "luopan orders (UTF-8, setup)",
            f"{u['orders_loaded'] or 0:,}",
            f"{u['orders_s']:.2f}",
            fmt_rate(u["orders_loaded"] or 0, u["orders_s"]),
            "",
            "",
            f"{u['customers_created'] or 0:,} customers created",
        ),
    ]
    if bares_shuffled:
        b2 = min(bares_shuffled, key=lambda b: b["s"])
        table_rows.append(
            (
                "DuckDB bare read_csv → table (UTF-8, rows shuffled)",
                f"{b2['rows']:,}",
                f"{b2['s']:.2f}",
                fmt_rate(b2["rows"], b2["s"]),
                "1.00",
                f"{b2['cpu']:.2f} (1.00)",
                "rows = file" if b2["rows"] == n_lines else "✗",
            )
        )
    for name, run in runs.items():
        ok = run["in_warehouse"] == run["lines_loaded"] == rows and run["lines_quarantined"] == 0
        table_rows.append(
            (
                f"{name} order_lines",
                f"{run['lines_loaded'] or 0:,}",
                f"{run['lines_s']:.2f}",
                fmt_rate(run["lines_loaded"] or 0, run["lines_s"]),
                f"{run['lines_s'] / run['bare_s']:.2f}",
                f"{run['lines_cpu']:.2f} ({run['lines_cpu'] / run['bare_cpu']:.2f})",
                f"loaded = file, quarantined {run['lines_quarantined']}" if ok else "✗ see errors",
            )
        )
    worst = max(run["lines_s"] / run["bare_s"] for run in runs.values())
    show = args.breakdown or worst > 2
    note = (
        "GBK ratio is against the bare figure for the UTF-8 file (DuckDB cannot read GBK "
        "offline); luopan times are wall clock of ingest_workspace(ws, sources=['lines']) "
        "after the orders were loaded; bare = connect + CTAS read_csv + close, same disk; "
        "CPU s = process user+system time (all threads), steadier than wall time on a busy "
        "machine; the file hash (scan_file) runs in a thread beside the parse, so phases "
        "overlap; "
        f"fastest of {args.repeat} alternating round(s) for each"
    )
    print_report(m, table_rows, runs, errors, show)
    print(f"note: {note}")
    if not args.no_results:
        cmd = ".venv/bin/python benchmarks/ingest.py" + "".join(f" {a}" for a in sys.argv[1:])
        write_results(m, cmd, table_rows, runs, show, note)
        print(f"wrote {RESULTS.relative_to(HERE.parent)}")
    json_out = DATA / "last_run.json"
    json_out.write_text(
        json.dumps(
            {"machine": m, "bare": bare, "runs": runs, "rows": rows, "errors": errors},
            indent=1,
            default=str,
        )
    )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
