"""The 1M-customer / 10M-order-line world of ``benchmarks/loop.py`` and its one-day update.

``scale_world`` replicates a small ingested demo world into a big workspace (see
``benchmarks/loop.py``'s docstring for what is copied how); ``append_day`` writes the next
day's export files into a workspace copy and moves its ``as_of`` on by a day.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import shutil
from pathlib import Path
from typing import Any

import duckdb

#: per-customer tables copied k times: the columns given a ``-r`` suffix
PER_CUSTOMER = {
    "orders": ("order_id", "customer_id"),
    "order_lines": ("order_id",),
    "events": ("event_id", "user_id", "session_id"),
    "tickets": ("ticket_id", "customer_id"),
}
#: money (and counts) multiplied by k so ratios against the orders stay those of the small world
MULTIPLIED = {
    "marketing_spend": ("spend", "impressions", "clicks"),
    "campaigns": ("budget",),
}
#: export folders a workspace copy holds as real folders (links per file), so a day file can
#: be added without writing into the world's exports
DAY_DIRS = ("pos", "events")


def table_sizes(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            t: int(con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0])  # type: ignore[index]
            for t in ("customers", "orders", "order_lines", "events", "tickets")
        }


def scale_world(seed: Path, target: Path, lines: int, customers: int) -> dict[str, Any]:
    """A workspace at ``target`` whose warehouse is ``seed``'s scaled to ~``lines`` order
    lines and ~``customers`` customers (built once; reused while the sizes ask the same)."""
    from luopan.warehouse.store import Warehouse

    marker = target / ".scaled"
    want = f"seed={seed.resolve()} lines={lines} customers={customers}\n"
    if marker.is_file() and marker.read_text(encoding="utf-8") == want:
        return {"built_s": None, **table_sizes(target / "warehouse.duckdb")}
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    t0 = dt.datetime.now()
    for item in ("luopan.yaml", ".luopan", "ground_truth.json"):
        src = seed / item
        if src.is_dir():
            shutil.copytree(src, target / item)
        elif src.exists():
            shutil.copy2(src, target / item)
    os.symlink((seed / "exports").resolve(), target / "exports")
    part = target / "warehouse.duckdb.part"
    part.unlink(missing_ok=True)
    Warehouse(part).close()  # the canonical tables and the load history, empty, same DDL
    base = table_sizes(seed / "warehouse.duckdb")
    k = max(1, math.ceil(lines / max(base["order_lines"], 1)))
    kc = max(k, math.ceil(customers / max(base["customers"], 1)))
    with duckdb.connect(str(part)) as con:
        quoted = "'" + str(seed / "warehouse.duckdb").replace("'", "''") + "'"
        con.execute("SET enable_progress_bar = false")
        con.execute(f"ATTACH {quoted} AS src (READ_ONLY)")
        names = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'src'"
            ).fetchall()
        ]
        for name in names:
            if name in PER_CUSTOMER or name == "customers":
                cols = ("customer_id",) if name == "customers" else PER_CUSTOMER[name]
                repl = ", ".join(f't."{c}" || \'-\' || r AS "{c}"' for c in cols)
                copies = kc if name == "customers" else k
                sql = f'SELECT t.* REPLACE ({repl}) FROM src."{name}" t, range({copies}) c(r)'
            elif name in MULTIPLIED:
                repl = ", ".join(f't."{c}" * {k} AS "{c}"' for c in MULTIPLIED[name])
                sql = f'SELECT t.* REPLACE ({repl}) FROM src."{name}" t'
            else:
                sql = f'SELECT * FROM src."{name}"'
            con.execute(f'INSERT INTO main."{name}" {sql}')
        con.execute("CHECKPOINT")
    part.rename(target / "warehouse.duckdb")
    marker.write_text(want, encoding="utf-8")
    built = (dt.datetime.now() - t0).total_seconds()
    return {"built_s": built, **table_sizes(target / "warehouse.duckdb")}


def link_exports(world: Path, root: Path) -> None:
    """``root/exports``: the world's export folders linked, ``DAY_DIRS`` as real folders of
    linked files (a link's stat is its target's, so the load history still matches)."""
    src = (world / "exports").resolve()
    (root / "exports").mkdir()
    for child in sorted(src.iterdir()):
        if child.is_dir() and child.name in DAY_DIRS:
            (root / "exports" / child.name).mkdir()
            for f in sorted(child.iterdir()):
                os.symlink(f, root / "exports" / child.name / f.name)
        else:
            os.symlink(child, root / "exports" / child.name)


def append_day(root: Path) -> dict[str, Any]:
    """Write the next day's POS orders and lines and app events into ``root``'s exports
    (the last day's of every copy, a day later, with new IDs) and move ``as_of`` a day on.

    Returns the day and the rows and bytes written per file.
    """
    config = root / "luopan.yaml"
    text = config.read_text(encoding="utf-8")
    m = re.search(r"^as_of: '?(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})'?$", text, re.M)
    if m is None:
        raise SystemExit(f"{config}: no as_of line to move on")
    last = dt.date.fromisoformat(m.group(1))
    day = last + dt.timedelta(days=1)
    tag = f"{day:%Y%m%d}"
    out: dict[str, Any] = {"day": day}
    files = {
        "orders": root / "exports" / "pos" / f"pos_orders_{tag}.parquet",
        "order_lines": root / "exports" / "pos" / f"pos_order_lines_{tag}.parquet",
        "events": root / "exports" / "events" / f"events_{tag}.jsonl",
    }
    on_last = f"CAST(ordered_at AS DATE) = DATE '{last}'"
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        con.execute(f"""COPY (
            SELECT order_id || '-n' AS order_id, customer_id, store_id, channel,
                   ordered_at + INTERVAL 1 DAY AS ordered_at,
                   paid_at + INTERVAL 1 DAY AS paid_at, status, gross_amount,
                   discount_amount, paid_amount, refund_amount, campaign_id
            FROM orders WHERE {on_last} ORDER BY ordered_at, order_id
            ) TO '{files["orders"]}' (FORMAT parquet)""")
        con.execute(f"""COPY (
            SELECT l.order_id || '-n' AS order_id, l.line_no, l.sku, l.quantity,
                   l.unit_price, l.paid_amount
            FROM order_lines l SEMI JOIN (SELECT order_id FROM orders WHERE {on_last}) o
              ON l.order_id = o.order_id
            ORDER BY 1, 2
            ) TO '{files["order_lines"]}' (FORMAT parquet)""")
        con.execute(f"""COPY (
            SELECT event_id || '-n' AS event_id,
                   strftime(event_time + INTERVAL 1 DAY, '%Y-%m-%dT%H:%M:%S+08:00')
                     AS event_time,
                   user_id, session_id || '-n' AS session_id, event_name, channel, sku,
                   properties::JSON AS properties
            FROM events WHERE CAST(event_time AS DATE) = DATE '{last}'
            ORDER BY event_time, event_id
            ) TO '{files["events"]}' (FORMAT json)""")
        for name, path in files.items():
            reader = "read_json_auto" if path.suffix == ".jsonl" else "read_parquet"
            n = con.execute(f"SELECT count(*) FROM {reader}('{path}')").fetchone()
            out[name] = (int(n[0]) if n else 0, path.stat().st_size)
    config.write_text(
        text[: m.start()] + f"as_of: '{day} {m.group(2)}'" + text[m.end() :], encoding="utf-8"
    )
    return out
