"""Order lines: one grouping by order checks repeated (order, line) keys and orphan lines
(checks._by_parent), and gives what the key-hash grouping and the row anti join give."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from helpers import make_workspace, query, write_csv
from luopan.ingest import checks as checks_mod
from luopan.ingest.pipeline import ingest_workspace

ORDER_HEADERS = ["order_id", "customer_id", "ordered_at", "channel", "status", "paid_amount"]
LINE_HEADERS = ["order_id", "line_no", "sku", "quantity", "unit_price", "paid_amount"]


def _load(tmp_path: Path, lines: list[list[str]]) -> tuple[Any, Any]:
    orders = [
        [f"A{i}", f"C{i % 7}", "2025-01-02 10:00:00", "store", "completed", "10"] for i in range(40)
    ]
    write_csv(tmp_path / "exports/orders.csv", [ORDER_HEADERS, *orders])
    write_csv(tmp_path / "exports/lines.csv", [LINE_HEADERS, *lines])
    ws = make_workspace(
        tmp_path,
        [
            {
                "name": "o",
                "path": "exports/orders.csv",
                "table": "orders",
                "creates_customers": True,
            },
            {"name": "l", "path": "exports/lines.csv", "table": "order_lines"},
        ],
    )
    _, result = ingest_workspace(ws)
    return ws, result


def _lines(seed: int) -> list[list[str]]:
    rows = [[f"A{o}", str(n), f"S{n}", "1", "5", "5"] for o in range(40) for n in range(1, 4)]
    random.Random(seed).shuffle(rows)  # keys not sorted: no streaming proof of uniqueness
    return rows


def _spy(monkeypatch: pytest.MonkeyPatch, *, enabled: bool) -> list[tuple[bool, int]]:
    calls: list[tuple[bool, int]] = []
    real = checks_mod._by_parent

    def spy(*args: Any) -> tuple[bool, int]:
        out = real(*args)
        calls.append(out)
        return out

    monkeypatch.setattr(checks_mod, "_by_parent", spy)
    if not enabled:
        monkeypatch.setattr(checks_mod, "_parent_check", lambda stage, anti: None)
    return calls


def test_shuffled_clean_lines_are_checked_by_one_grouping(tmp_path, monkeypatch):
    calls = _spy(monkeypatch, enabled=True)
    ws, result = _load(tmp_path, _lines(1))
    assert (result.loaded, result.quarantined, result.duplicates) == ({"order_lines": 120}, 0, 0)
    assert calls == [(True, 0)]  # unique keys, no orphan line
    assert query(ws, "SELECT count(DISTINCT (order_id, line_no)) FROM order_lines") == [(120,)]


CASES = {
    # a key repeated far apart with other values: the second one is quarantined
    "repeated key": ([["A3", "2", "S9", "4", "5", "20"]], (False, 0), 120, 1),
    # two lines of one unknown order: the orphan count is in rows, not in orders
    "orphans": (
        [["Z1", "1", "S", "1", "5", "5"], ["Z1", "2", "S", "1", "5", "5"]],
        (True, 2),
        120,
        2,
    ),
    # line 0 is a bit of the mask but below the minimum line number 1
    "line zero": ([["A5", "0", "S", "1", "5", "5"]], (True, 0), 120, 1),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_lines_are_found_as_by_the_row_checks(tmp_path, monkeypatch, case):
    extra, by_parent, loaded, quarantined = CASES[case]
    rows = _lines(2)
    for i, row in enumerate(extra):
        rows.insert(17 + 50 * i, row)
    calls = _spy(monkeypatch, enabled=True)
    ws, result = _load(tmp_path / "a", rows)
    assert calls[0] == by_parent
    got = (result.loaded, result.quarantined)
    assert got == ({"order_lines": loaded}, quarantined)
    stored = query(
        ws, "SELECT * EXCLUDE (_batch, _batch_id, _loaded_at) FROM order_lines ORDER BY ALL"
    )

    monkeypatch.undo()
    calls = _spy(monkeypatch, enabled=False)  # the key-hash grouping and the row anti join
    ws2, result2 = _load(tmp_path / "b", rows)
    assert calls == []
    assert (result2.loaded, result2.quarantined) == got
    assert query(
        ws2, "SELECT * EXCLUDE (_batch, _batch_id, _loaded_at) FROM order_lines ORDER BY ALL"
    ) == (stored)


def test_line_numbers_past_63_use_the_key_hash_grouping(tmp_path, monkeypatch):
    rows = _lines(3) + [["A1", "64", "S", "1", "5", "5"], ["A1", "64", "S", "2", "5", "10"]]
    calls = _spy(monkeypatch, enabled=True)
    ws, result = _load(tmp_path, rows)
    assert calls == []  # 64 is not a bit of a 64-bit mask
    assert (result.loaded, result.quarantined) == ({"order_lines": 121}, 1)
    assert query(ws, "SELECT quantity FROM order_lines WHERE line_no = 64") == [(1,)]
