"""Cockpit page server times on a demo world: cold and warm, without and with the cache warmer.

A demo world (seed 7, ``--customers`` customers, 400 days, 8 stores; generated into ``--world``
on first use and reused) is copied (config + warehouse) to a temporary folder with a
throw-away admin user, so the original is never written. Each page is requested in process
(Starlette's TestClient, logged in through the real /login form) and timed from request to
full response:

1. **no warmer** (the app without its lifespan: what a user paid before the warmer): the
   first request of every page (cold: it computes every model it shows) and the median of
   ``--repeat`` further requests (warm);
2. **warmer** (the app with its lifespan, as ``luopan serve`` runs it, on a fresh copy): the
   first request of every page made right after start, while the warmer is still computing
   (slow panels answer "computing…" instead of waiting), the time the warmer took for its
   pass, then every page again (the first view a user gets once warmed) and warm medians.

Usage: ``.venv/bin/python benchmarks/cockpit.py [--world DIR] [--customers 6000] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from _common import machine, write_section

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
SECTION = "## cockpit (benchmarks/cockpit.py)"
PASSWORD = "bench-cockpit-123"
PAGES = [
    "/",
    "/cockpit/metrics",
    "/cockpit/metrics/gmv",
    "/cockpit/metrics/gmv/rca",
    "/cockpit/incidents",
    "/cockpit/customers",
    "/cockpit/experiments",
    "/cockpit/replenishment",
    "/cockpit/funnels",
    "/cockpit/listening",
]


def ensure_world(world: Path, customers: int) -> None:
    if (world / "warehouse.duckdb").is_file():
        return
    from luopan.demo import generate
    from luopan.ingest.pipeline import ingest_workspace
    from luopan.workspace import Workspace

    print(f"generating the demo world ({customers} customers) into {world} …", flush=True)
    generate(world, seed=7, customers=customers, days=400, stores=8)
    failed = [r.message for r in ingest_workspace(Workspace.open(world)) if r.status == "failed"]
    if failed:
        raise SystemExit(f"ingest failed: {failed}")


def copy_world(src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src / "luopan.yaml", dst / "luopan.yaml")
    if (src / "metrics").is_dir():
        shutil.copytree(src / "metrics", dst / "metrics")
    shutil.copy2(src / "warehouse.duckdb", dst / "warehouse.duckdb")
    return dst


def login(client: Any) -> Any:
    client.get("/login")
    token = client.cookies.get("luopan_csrf")
    r = client.post(
        "/login",
        data={"username": "timer", "password": PASSWORD, "csrf_token": token, "next": "/"},
        headers={"accept": "text/html"},
        follow_redirects=False,
    )
    if r.status_code != 303:
        raise SystemExit(f"login failed: {r.status_code} {r.text[:200]}")
    return client


def timed(client: Any, url: str) -> tuple[float, Any]:
    t0 = time.perf_counter()
    r = client.get(url + "?lang=zh")
    elapsed = time.perf_counter() - t0
    if r.status_code != 200:
        raise SystemExit(f"{url}: HTTP {r.status_code}")
    return elapsed, r


def fresh_app(world: Path, tmp: Path) -> Any:
    from luopan.api.app import create_app
    from luopan.api.users import add_user
    from luopan.workspace import Workspace

    ws = Workspace.open(copy_world(world, tmp))
    add_user(ws, "timer", password=PASSWORD, role="admin")
    return create_app(ws.root)


def run(world: Path, repeat: int) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    out: dict[str, Any] = {"pages": {u: {} for u in PAGES}}
    with tempfile.TemporaryDirectory() as tmp:
        app = fresh_app(world, Path(tmp) / "a")  # no lifespan: no warmer
        client = login(TestClient(app))
        for url in PAGES:
            out["pages"][url]["cold"] = timed(client, url)[0]
            out["pages"][url]["warm"] = statistics.median(
                timed(client, url)[0] for _ in range(repeat)
            )
            print(f"no warmer  {url:28} {out['pages'][url]['cold']:7.2f} s", flush=True)
        app.state.services.close()

        app = fresh_app(world, Path(tmp) / "b")
        t0 = time.perf_counter()
        with TestClient(app) as client:  # lifespan: the warmer starts
            login(client)
            pending = 0
            for url in PAGES:
                elapsed, r = timed(client, url)
                out["pages"][url]["while_warming"] = elapsed
                pending += r.text.count("data-pending")
            out["pending_panels"] = pending
            if not app.state.cockpit_warmer.wait_warm(900):
                raise SystemExit("the warmer did not finish within 900 s")
            out["warm_pass"] = time.perf_counter() - t0
            for url in PAGES:
                elapsed, r = timed(client, url)
                if "data-pending" in r.text:
                    raise SystemExit(f"{url}: still computing after the warm pass")
                out["pages"][url]["first_after_warm"] = elapsed
                out["pages"][url]["warm_warmer"] = statistics.median(
                    timed(client, url)[0] for _ in range(repeat)
                )
                print(
                    f"warmer     {url:28} {out['pages'][url]['while_warming']:7.2f} s while "
                    f"warming, {elapsed:6.3f} s first view after",
                    flush=True,
                )
    return out


def table(out: dict[str, Any]) -> list[str]:
    lines = [
        "| page | cold, no warmer (s) | warm, no warmer (s) | first request while warming (s) "
        "| first view after warm-up (s) | warm, warmer (s) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for url, f in out["pages"].items():
        lines.append(
            f"| `{url}` | {f['cold']:.2f} | {f['warm']:.3f} | {f['while_warming']:.3f} "
            f"| {f['first_after_warm']:.3f} | {f['warm_warmer']:.3f} |"
        )
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--world", type=Path, default=Path("/tmp/luopan-cockpit-bench/world"))
    ap.add_argument("--customers", type=int, default=6000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-results", action="store_true", help="do not update RESULTS.md")
    args = ap.parse_args()
    ensure_world(args.world, args.customers)
    from luopan.workspace import Workspace

    ws = Workspace.open(args.world)
    import duckdb

    con = duckdb.connect(str(ws.warehouse_path), read_only=True)
    try:
        row = con.execute(
            "SELECT count(DISTINCT customer_id), count(*) FROM orders"
        ).fetchone() or (0, 0)
    finally:
        con.close()
    out = run(args.world, args.repeat)
    lines = [
        f"Demo world: {row[0]:,} customers with orders, {row[1]:,} orders, 400 days, 8 stores "
        f"(`{args.world}`). Machine: {machine('duckdb')}, "
        f"load average {os.getloadavg()[0]:.1f} at the start.",
        "",
        *table(out),
        "",
        f"Warm-up pass (every page view, unscoped and per user scope, zh and en): "
        f'{out["warm_pass"]:.1f} s after start; panels answering "computing…" on the '
        f"requests made during it: {out['pending_panels']}. Server time = request to full "
        "response in process (no network).",
    ]
    print("\n".join(lines))
    if not args.no_results:
        write_section(RESULTS, SECTION, "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
