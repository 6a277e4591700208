"""Load test of the API and cockpit: 50 concurrent users for 60 s while the warehouse refreshes.

A copy of a demo world (seed 7, 3,000 customers, 400 days, 6 stores; generated into
``--world`` on first use, about 2 minutes, and reused) is served by ``luopan serve`` on
127.0.0.1 in its own process. 50 simulated users — 40 unscoped analysts and 10 store managers
scoped to one store each, every one logged in through the real /login form with its CSRF
token — loop over the main routes (scorecard, metric queries, metric tree, incidents and
their detail, actions, customer segments, recall list, and the cockpit pages) with httpx
async clients (``--think`` seconds between requests). Meanwhile the warehouse refreshes
(``--refresh``): by default once, 10 s into the load, as ``luopan watch`` does when a file
lands (a new events export — re-keyed copies of one day's events, so the refresh really
writes the warehouse and changes its content — then ``luopan run``); ``continuous`` alternates
``luopan run`` and ``luopan ingest`` back to back, each after a new export (a stress test). Reported: requests, errors (any non-2xx or transport error, with the
first messages; a "database is locked"/"Could not set lock" anywhere is counted separately),
latency p50/p95/p99, per-route figures, the page-load time of each cockpit page measured
alone before the load (cold: first request after start; warm: second), and the refreshes that
completed during the load.

Usage: ``.venv/bin/python benchmarks/api.py [--users 50] [--seconds 60] [--world DIR]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from _common import machine, write_section

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
SECTION = "## api (benchmarks/api.py)"
LUOPAN = str(Path(sys.executable).parent / "luopan")
PASSWORD_ENV = "LUOPAN_BENCH_PASSWORD"
PASSWORD = "bench-password-123"
SCOPED_STORE = "S001"


def ensure_world(world: Path) -> None:
    if (world / "warehouse.duckdb").is_file():
        return
    from luopan.demo import generate
    from luopan.ingest.pipeline import ingest_workspace
    from luopan.workspace import Workspace

    print(f"generating the demo world into {world} …", flush=True)
    generate(world, seed=7, customers=3000, days=400, stores=6)
    failed = [r.message for r in ingest_workspace(Workspace.open(world)) if r.status == "failed"]
    if failed:
        raise SystemExit(f"ingest failed: {failed}")


def prepare(world: Path, work: Path) -> None:
    """A fresh copy of the world (with its incidents: one ``luopan run`` on first use)."""
    if not (world / ".luopan" / "bench-run-done").exists():
        print("one `luopan run` on the world, so that it has incidents …", flush=True)
        subprocess.run(
            [LUOPAN, "run", "--no-ingest", "-w", str(world)], check=True, capture_output=True
        )
        (world / ".luopan" / "bench-run-done").write_text("done\n", encoding="utf-8")
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(world, work, ignore=shutil.ignore_patterns("snapshots", "*.wal"))
    env = {**os.environ, PASSWORD_ENV: PASSWORD}
    for name, extra in (
        ("bench", ["--role", "analyst"]),
        ("bench_store", ["--role", "viewer", "--stores", SCOPED_STORE]),
    ):
        subprocess.run(
            [
                LUOPAN,
                "users",
                "add",
                name,
                *extra,
                "--password-env",
                PASSWORD_ENV,
                "--replace",
                "-w",
                str(work),
            ],
            check=True,
            env=env,
            capture_output=True,
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(work: Path, port: int, workers: int = 1) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [LUOPAN, "serve", "--host", "127.0.0.1", "--port", str(port), "-w", str(work)]
        + ["--workers", str(workers)],
        stdout=subprocess.DEVNULL,
        stderr=open(work / "serve.log", "wb"),  # noqa: SIM115
    )
    deadline = time.monotonic() + 420  # it listens once its caches are warm (--warm-wait)
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.kill()
    raise SystemExit("the server did not start; see serve.log")


def write_events(work: Path, i: int) -> None:
    """A new events export: one day's events re-keyed so that every row is new."""
    folder = work / "exports" / "events"
    source = sorted(folder.glob("events_2*.jsonl"))[-1]
    lines = []
    for line in source.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            row["event_id"] = f"bench{i:04d}_{row['event_id']}"
            lines.append(json.dumps(row, ensure_ascii=False))
    (folder / f"events_zbench{i:04d}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


class Refresher(threading.Thread):
    """Refreshes the warehouse during the load; records each refresh.

    ``once``: one refresh as ``luopan watch`` makes when a file lands — a new events export,
    then ``luopan run`` (its ingest stage loads the file, then the loop) — started ``delay``
    seconds into the load. ``continuous``: ``luopan run`` and ``luopan ingest`` alternate,
    each after a new export, until stopped (a stress test: a content change every few
    seconds, each one invalidating every cache).
    """

    def __init__(self, work: Path, mode: str = "once", delay: float = 10.0) -> None:
        super().__init__(daemon=True)
        self.work = work
        self.mode = mode
        self.delay = delay
        self.stop = threading.Event()
        self.done: list[tuple[str, float, int]] = []

    def run(self) -> None:
        i = 0
        if self.mode == "once" and self.stop.wait(self.delay):
            return
        while not self.stop.is_set():
            i += 1
            if self.mode == "once" and i > 1:
                return
            write_events(self.work, i)
            cmd = ["run"] if i % 2 else ["ingest"]
            t0 = time.perf_counter()
            rc = subprocess.run(
                [LUOPAN, *cmd, "-w", str(self.work)], capture_output=True
            ).returncode
            self.done.append((cmd[0], time.perf_counter() - t0, rc))


def routes(base: str, incident: int | None) -> list[tuple[str, str]]:
    out = [
        ("scorecard", "/api/v1/scorecard?grain=month"),
        ("metric gmv by day", "/api/v1/metrics/gmv?grain=day&start=2026-08-01&end=2026-11-01"),
        ("metric gmv by channel", "/api/v1/metrics/gmv?grain=month&by=channel"),
        ("metric catalog", "/api/v1/metrics"),
        ("metric tree", "/api/v1/metrics/gmv/tree"),
        ("incidents", "/api/v1/incidents?limit=50"),
        ("actions", "/api/v1/actions?limit=50"),
        ("customer segments", "/api/v1/customers/segments"),
        ("recall list", "/api/v1/customers/recall?limit=50"),
    ]
    return out


PAGES = (
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
)


def pages(incident: int | None) -> list[tuple[str, str]]:
    """The cockpit's pages, with the incident id filled in."""
    out = []
    for path in PAGES:
        if "{incident_id}" in path and incident is None:
            continue
        out.append((f"page {path}", path.replace("{incident_id}", str(incident or 0))))
    return out


async def alogin(client: httpx.AsyncClient, user: str) -> None:
    await client.get("/login")
    token = client.cookies.get("luopan_csrf")
    r = await client.post(
        "/login",
        data={"username": user, "password": PASSWORD, "csrf_token": token},
        headers={"accept": "application/json"},
    )
    r.raise_for_status()


async def user_loop(
    base: str,
    user: str,
    targets: list[tuple[str, str]],
    until: float,
    seed: int,
    log: list[tuple[str, float, int, str]],
    pages: bool,
    think: float = 0.0,
) -> None:
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        await alogin(client, user)
        seen = (await client.get("/api/v1/incidents?limit=1")).json()["items"]
        if seen:  # the detail of an incident this user may see (API and cockpit page)
            iid = seen[0]["id"]
            targets = [
                *targets,
                ("incident detail", f"/api/v1/incidents/{iid}"),
                *([("page /cockpit/incidents/{id}", f"/cockpit/incidents/{iid}")] if pages else []),
            ]
        while time.monotonic() < until:
            name, url = rng.choice(targets)
            t0 = time.perf_counter()
            try:
                r = await client.get(url)
                status, text = r.status_code, (r.text[:300] if r.status_code >= 300 else "")
            except httpx.HTTPError as exc:
                status, text = 0, f"{type(exc).__name__}: {exc}"
            log.append((name, time.perf_counter() - t0, status, text))
            if think > 0:  # a person reads the page before the next click (Locust's between())
                await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = max(0, min(len(values) - 1, int(round(q / 100 * (len(values) - 1)))))
    return values[k]


def page_times(
    base: str, targets: list[tuple[str, str]], users: tuple[str, ...]
) -> dict[str, tuple[float, float, int]]:
    """Cold (first) and warm (second) load time of each page and route, one at a time, for
    the first user; the other users' caches are warmed the same way (not reported)."""
    out = {}
    for user in users:
        with httpx.Client(base_url=base, timeout=300) as c:
            c.get("/login")
            c.post(
                "/login",
                data={
                    "username": user,
                    "password": PASSWORD,
                    "csrf_token": c.cookies.get("luopan_csrf"),
                },
                headers={"accept": "application/json"},
            ).raise_for_status()
            for name, url in targets:
                times = []
                status = 0
                for _ in range(2):
                    t0 = time.perf_counter()
                    try:
                        status = c.get(url).status_code
                    except httpx.HTTPError:
                        status = 0
                    times.append(time.perf_counter() - t0)
                if user == users[0]:
                    out[name] = (times[0], times[1], status)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--world", type=Path, default=Path("/tmp/luopan-bench/api-world"))
    ap.add_argument("--work", type=Path, default=Path("/tmp/luopan-bench/api-run"))
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--no-results", action="store_true", help="do not update RESULTS.md")
    ap.add_argument("--no-pages", action="store_true", help="JSON routes only under load")
    ap.add_argument(
        "--refresh",
        choices=("once", "continuous", "none"),
        default="once",
        help="one refresh 10 s into the load (as luopan watch makes when a file lands), "
        "refreshes back to back (stress), or none",
    )
    ap.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    ap.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="mean seconds a user waits between requests (uniform 0.5–1.5×; 0: none)",
    )
    args = ap.parse_args()

    ensure_world(args.world)
    prepare(args.world, args.work)
    from luopan.decisions.store import DecisionLog
    from luopan.workspace import Workspace

    ws = Workspace.open(args.work)
    with DecisionLog(ws.metadata_url) as log:
        incidents = log.incidents()
    incident = incidents[-1].id if incidents else None
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    server = start_server(args.work, port, args.workers)
    startup = time.perf_counter() - started
    print(f"server listening after {startup:.1f} s (caches warmed first)", flush=True)
    try:
        page_list = pages(incident)
        api = routes(base, incident)
        print("cold/warm load times, one request at a time …", flush=True)
        detail = (
            [
                ("incident detail", f"/api/v1/incidents/{incident}"),
                ("page /cockpit/incidents/{id}", f"/cockpit/incidents/{incident}"),
            ]
            if incident is not None
            else []
        )
        alone = page_times(base, page_list + api + detail, ("bench", "bench_store"))
        for name, (cold, warm, status) in alone.items():
            print(f"  {name}: cold {cold * 1000:.0f} ms, warm {warm * 1000:.0f} ms ({status})")
        targets = api if args.no_pages else api + page_list
        refresher = Refresher(args.work, args.refresh)
        if args.refresh != "none":
            refresher.start()
        log: list[tuple[str, float, int, str]] = []
        load0 = os.getloadavg()[0]
        until = time.monotonic() + args.seconds
        t0 = time.perf_counter()

        async def crowd() -> None:
            await asyncio.gather(
                *(
                    user_loop(
                        base,
                        "bench_store" if i % 5 == 4 else "bench",
                        targets,
                        until,
                        i,
                        log,
                        not args.no_pages,
                        args.think,
                    )
                    for i in range(args.users)
                )
            )

        asyncio.run(crowd())
        wall = time.perf_counter() - t0
        refresher.stop.set()
        if refresher.is_alive():
            refresher.join(timeout=600)
        load1 = os.getloadavg()[0]
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    lat = [d for _, d, s, _ in log]
    errors = [(n, s, t) for n, _, s, t in log if not 200 <= s < 300]
    locked = [e for e in errors if "lock" in e[2].lower()]
    serve_log = (args.work / "serve.log").read_text(encoding="utf-8", errors="replace")
    locked_log = sum(
        "Could not set lock" in ln or "database is locked" in ln for ln in serve_log.splitlines()
    )
    p50, p95, p99 = (pct(lat, q) * 1000 for q in (50, 95, 99))
    refreshes = refresher.done
    ok_refresh = sum(rc == 0 for _, _, rc in refreshes)
    print(
        f"requests {len(log)} in {wall:.1f} s ({len(log) / wall:.1f}/s), errors {len(errors)}, "
        f"lock errors {len(locked)} (server log: {locked_log})"
    )
    print(f"latency p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms")
    print(
        f"refreshes during the load: {len(refreshes)} ({ok_refresh} succeeded): "
        + ", ".join(f"{c} {d:.1f}s rc={rc}" for c, d, rc in refreshes)
    )
    for e in errors[:5]:
        print("  error:", e)
    per: dict[str, list[float]] = {}
    for n, d, _, _ in log:
        per.setdefault(n, []).append(d)
    for n, v in sorted(per.items()):
        print(
            f"  {n}: {len(v)} requests, p50 {statistics.median(v) * 1000:.0f} ms, "
            f"p95 {pct(v, 95) * 1000:.0f} ms, max {max(v) * 1000:.0f} ms"
        )
    met = not errors and p95 < 500 and (args.refresh == "none" or ok_refresh >= 1)
    mix = "the JSON routes" if args.no_pages else "JSON routes and cockpit pages"
    lines = [
        f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"- machine: {machine('duckdb')}; shared with other jobs: 1-minute load average {load0:.1f} "
        f"at start, {load1:.1f} at end",
        f"- command: `.venv/bin/python benchmarks/api.py {' '.join(sys.argv[1:])}`",
        "- setup: demo world seed 7, 3,000 customers, 400 days, 6 stores; `luopan serve` "
        f"({args.workers} uvicorn worker{'s' if args.workers > 1 else ''}) on 127.0.0.1; "
        "users log in through /login (CSRF, argon2); "
        f"{args.users} httpx async users "
        + (
            f"with a think time of {args.think:g} s on average (uniform {0.5 * args.think:g}–"
            f"{1.5 * args.think:g} s between a response and the next request)"
            if args.think > 0
            else "without think time"
        )
        + f", 1 in 5 scoped to store "
        f"{SCOPED_STORE}, requesting {mix} at random"
        + {
            "once": "; 10 s into the load a refresh runs on the same workspace as `luopan "
            "watch` makes when a file lands: a new events export is written, then `luopan run` "
            "ingests it and runs the loop (real writes; the server then takes a new snapshot and recomputes what reads the changed tables: events, the load log)",
            "continuous": "; meanwhile `luopan run` and `luopan ingest` alternate back to back "
            "on the same workspace, each after a new events export is written (real writes; "
            "a stress test: the content changes every few seconds)",
            "none": "; no refresh",
        }[args.refresh],
        f"- server start: listening {startup:.1f} s after launch (`luopan serve` waits for "
        "the first warm pass of the cockpit caches, `--warm-wait`)",
        f"- refreshes completed during the load: {ok_refresh} of {len(refreshes)} "
        f"({', '.join(f'{c} {d:.0f}s' for c, d, _ in refreshes)})",
        f"- verdict: target 0 errors and p95 < 500 ms with a refresh running: "
        f"{len(errors)} errors ({len(locked)} lock errors; server log {locked_log}), "
        f"p95 {p95:.0f} ms — {'met' if met else 'NOT met'}",
        "",
        "| requests | seconds | req/s | errors | p50 ms | p95 ms | p99 ms |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        f"| {len(log):,} | {wall:.1f} | {len(log) / wall:.1f} | {len(errors)} | {p50:.0f} | "
        f"{p95:.0f} | {p99:.0f} |",
        "",
        "Per route under load:",
        "",
        "| route | requests | p50 ms | p95 ms | max ms |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| {n} | {len(v)} | {statistics.median(v) * 1000:.0f} | {pct(v, 95) * 1000:.0f} | "
            f"{max(v) * 1000:.0f} |"
            for n, v in sorted(per.items())
        ),
        "",
        "Load time of each page and route alone, before the load (target: each page < 1 s; "
        "cold = first request after the server started, warm = the next one):",
        "",
        "| page / route | cold ms | warm ms | status |",
        "|---|---:|---:|---:|",
        *(f"| {n} | {c * 1000:.0f} | {w * 1000:.0f} | {s} |" for n, (c, w, s) in alone.items()),
    ]
    if errors:
        lines += ["", "First errors:", ""] + [f"- {n}: {s} {t[:200]}" for n, s, t in errors[:5]]
    if not args.no_results:
        write_section(RESULTS, SECTION, "\n".join(lines))
    shutil.rmtree(args.work, ignore_errors=True)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
