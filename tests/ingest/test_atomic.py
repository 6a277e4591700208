"""A load killed with SIGKILL midway leaves the warehouse exactly as before."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from helpers import ITEM_HEADERS, TMALL_HEADERS, counts, make_workspace, query, tmall_row, write_csv
from luopan.ingest.pipeline import ingest_workspace

SOURCES = [
    {"name": "tmall_orders", "path": "exports/ExportOrderList_*.csv", "preset": "tmall_orders"},
    {"name": "tmall_items", "path": "exports/ExportOrderDetailList_*.csv", "preset": "tmall_items"},
]

# Runs an ingest in a child process; right after the first table of the batch has been
# written (inside the open transaction) it signals the parent and waits to be killed.
CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import luopan.ingest.load as load
    import luopan.ingest.pipeline as p
    from luopan.workspace import Workspace

    real = load.upsert
    def upsert_then_wait(*args, **kwargs):
        n = real(*args, **kwargs)
        Path(sys.argv[2]).write_text(str(n))
        time.sleep(600)
        return n
    load.upsert = upsert_then_wait
    p.ingest_workspace(Workspace.open(Path(sys.argv[1])))
    """
)


def _snapshot(ws):
    return (
        counts(ws),
        query(ws, "SELECT order_id, status, gross_amount, _batch_id FROM orders ORDER BY 1"),
        query(ws, "SELECT batch_id, file FROM _loads ORDER BY 1"),
    )


def test_sigkill_inside_the_transaction_leaves_the_warehouse_as_before(tmp_path: Path) -> None:
    write_csv(
        tmp_path / "exports/ExportOrderList_202510.csv",
        [TMALL_HEADERS, tmall_row("1001"), tmall_row("1002")],
        encoding="gbk",
    )
    ws = make_workspace(tmp_path, SOURCES[:1])
    ingest_workspace(ws)
    before = _snapshot(ws)
    # a second file that would add orders and change an existing one
    write_csv(
        tmp_path / "exports/ExportOrderList_202511.csv",
        [
            TMALL_HEADERS,
            tmall_row("1002", total="￥1.00"),
            *[tmall_row(str(2000 + i)) for i in range(5000)],
        ],
        encoding="gbk",
    )
    signal_file = tmp_path / "in-transaction"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path), str(signal_file)])
    try:
        deadline = time.monotonic() + 120
        while not signal_file.exists():
            assert child.poll() is None, "the child ingest ended before the kill point"
            assert time.monotonic() < deadline, "the child never reached the transaction"
            time.sleep(0.05)
        assert int(signal_file.read_text()) == 5001  # rows were written, not committed
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(30)
    assert child.returncode == -signal.SIGKILL
    assert _snapshot(ws) == before
    # and the next run loads the file completely
    ingest_workspace(ws)
    assert counts(ws)["orders"] == 5002


def test_sigkill_at_any_moment_is_all_or_nothing(tmp_path: Path) -> None:
    write_csv(
        tmp_path / "exports/ExportOrderList_202511.csv",
        [TMALL_HEADERS, *[tmall_row(str(10_000 + i)) for i in range(60_000)]],
        encoding="gbk",
    )
    write_csv(
        tmp_path / "exports/ExportOrderDetailList_202511.csv",
        [ITEM_HEADERS, *[[str(10_000 + i), "t", "1", "1", "S"] for i in range(60_000)]],
        encoding="gbk",
    )
    ws = make_workspace(tmp_path, SOURCES)
    code = (
        "import sys; from pathlib import Path; from luopan.ingest.pipeline import "
        "ingest_workspace; from luopan.workspace import Workspace; "
        "ingest_workspace(Workspace.open(Path(sys.argv[1])))"
    )
    for delay in (0.8, 1.6, 2.4):
        child = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)])
        time.sleep(delay)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
        if not ws.warehouse_path.exists():
            continue
        tables = {r[0] for r in query(ws, "SELECT table_name FROM information_schema.tables")}
        if "_loads" not in tables:  # killed while creating the schema: all tables or none
            assert not tables & {"orders", "order_lines", "_quarantine"}, tables
            continue
        c = counts(ws)
        # each file is all or nothing, and the history agrees with the tables
        assert c["orders"] in (0, 60_000)
        assert c["order_lines"] in (0, 60_000)
        assert c["_loads"] == (c["orders"] > 0) + (c["order_lines"] > 0)
    ingest_workspace(ws)
    assert counts(ws)["orders"] == 60_000 and counts(ws)["order_lines"] == 60_000
