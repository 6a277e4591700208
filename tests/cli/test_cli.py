"""The command line: init, ingest, sql, status, sources detect, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from helpers import TMALL_HEADERS, make_workspace, tmall_row, write_csv


def luopan(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "luopan", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"LUOPAN_LANG": "en", "COLUMNS": "200", "PATH": "/usr/bin:/bin"},
        timeout=300,
    )


def _workspace(tmp_path: Path) -> Path:
    write_csv(
        tmp_path / "exports/ExportOrderList_202511.csv",
        [
            TMALL_HEADERS,
            tmall_row('="5118234567890123456"'),
            tmall_row("1002"),
            tmall_row("1003", total="bad"),
        ],
        encoding="gbk",
    )
    make_workspace(
        tmp_path, [{"name": "tmall_orders", "path": "exports/*.csv", "preset": "tmall_orders"}]
    )
    return tmp_path


def test_init_then_status_without_data_explains(tmp_path: Path) -> None:
    r = luopan("init", str(tmp_path / "ws"))
    assert r.returncode == 0 and "luopan.yaml" in r.stdout
    r = luopan("status", "-w", str(tmp_path / "ws"))
    assert r.returncode == 1
    assert "no warehouse yet" in r.stderr and "luopan ingest" in r.stderr
    assert "Traceback" not in r.stderr


def test_ingest_sql_and_status(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    r = luopan("ingest", "-w", str(ws))
    assert r.returncode == 0, r.stderr
    assert "orders 2" in r.stdout and "quarantine" in r.stdout
    r = luopan("sql", "-w", str(ws), "--json", "SELECT order_id FROM orders ORDER BY 1")
    assert [json.loads(x)["order_id"] for x in r.stdout.splitlines()] == [
        "1002",
        "5118234567890123456",
    ]
    r = luopan("sql", "-w", str(ws), "--csv", "SELECT count(*) AS n FROM orders")
    assert r.stdout.splitlines() == ["n", "2"]
    r = luopan("sql", "-w", str(ws), "DELETE FROM orders")
    assert r.returncode == 1 and "only read-only queries" in r.stderr
    r = luopan("status", "-w", str(ws))
    assert r.returncode == 0
    assert "orders" in r.stdout and "bad_number" in r.stdout and "late" in r.stdout


def test_ingest_given_file_detects_its_preset(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    (ws / "luopan.yaml").write_text("name: t\nas_of: 2026-06-30 12:00:00\n", encoding="utf-8")
    r = luopan("ingest", "-w", str(ws), str(ws / "exports/ExportOrderList_202511.csv"))
    assert r.returncode == 0, r.stderr
    assert "tmall_orders" in r.stdout and "orders 2" in r.stdout


def test_sources_detect_shows_the_mapping(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    r = luopan("sources", "detect", str(ws / "exports/ExportOrderList_202511.csv"))
    assert r.returncode == 0, r.stderr
    assert "preset tmall_orders" in r.stdout
    assert "ordered_at" in r.stdout and "订单创建时间" in r.stdout and "gb18030" in r.stdout


def test_presets_are_listed_in_both_languages() -> None:
    r = luopan("sources", "presets")
    assert all(
        p in r.stdout
        for p in (
            "tmall_orders",
            "jd_orders",
            "douyin_orders",
            "youzan_orders",
            "meituan_orders",
            "shopify_orders",
        )
    )
    r = subprocess.run(
        [sys.executable, "-m", "luopan", "sources", "presets"],
        capture_output=True,
        text=True,
        env={"LUOPAN_LANG": "zh", "COLUMNS": "200"},
    )
    assert "天猫" in r.stdout and "抖店" in r.stdout


def test_config_error_is_one_clear_line_without_traceback(tmp_path: Path) -> None:
    (tmp_path / "luopan.yaml").write_text("name: x\nwarehous: y\n", encoding="utf-8")
    r = luopan("status", "-w", str(tmp_path))
    assert r.returncode == 1
    assert "luopan.yaml:2: key `warehous`: unknown key" in r.stderr
    assert "Traceback" not in r.stderr


def test_docs_model_matches_the_page() -> None:
    r = luopan("docs", "model")
    page = (Path(__file__).resolve().parents[2] / "docs" / "canonical-model.md").read_text("utf-8")
    assert r.stdout == page + "\n"


def test_sql_errors_and_usage_errors_are_messages_not_tracebacks(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    assert luopan("ingest", "-w", str(ws)).returncode == 0
    r = luopan("sql", "-w", str(ws), "SELECT count(*) rows FROM orders")  # `rows` is a keyword
    assert r.returncode == 1
    assert 'syntax error at or near "rows"' in r.stderr and "quote names" in r.stderr
    assert "Traceback" not in r.stderr
    r = luopan("sql", "-w", str(ws), "SELECT nope FROM orders")
    assert r.returncode == 1 and "nope" in r.stderr and "Traceback" not in r.stderr
    r = luopan("status", "--no-such-option")
    assert r.returncode == 2 and "no-such-option" in r.stderr and "Traceback" not in r.stderr
