"""Dense user numbers: ingest stores beside an event's ``user_id`` an INTEGER ``_user_no``,
one per user and one user per number across loads (a stored user keeps its number, a new
user gets the next free one, gaps allowed); a failed load stores none; a warehouse written
before the column numbers its users on open, and keeps the numbers when the join keys are
computed again."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from helpers import make_workspace, query
from luopan.ingest.pipeline import ingest_workspace
from luopan.tables import LINEAGE_COLUMNS, LINEAGE_COMPUTED, join_key_sql
from luopan.warehouse.store import Warehouse
from luopan.workspace import Workspace

SOURCES = [{"name": "events", "path": "exports/events_*.jsonl", "table": "events"}]


def _events(root: Path, name: str, rows: list[tuple[str, str]]) -> Workspace:
    path = root / "exports" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "".join(
            f'{{"event_id": "{e}", "event_time": "2026-06-01 08:00:00", "user_id": "{u}", '
            '"event_name": "view"}\n'
            for e, u in rows
        ),
        encoding="utf-8",
    )
    return make_workspace(root, SOURCES)


def _load(ws: Workspace) -> dict[str, str]:
    """Ingest the workspace; file name → status."""
    return {Path(r.file).name: r.status for r in ingest_workspace(ws)}


def _numbers(ws: Workspace) -> dict[str, int]:
    """user → number, after checking that the events hold exactly one number per user and
    one user per number."""
    rows = query(ws, "SELECT DISTINCT user_id, _user_no FROM events")
    users = [u for u, _ in rows]
    numbers = [n for _, n in rows]
    assert None not in numbers
    assert len(set(users)) == len(rows), "a user holds two numbers"
    assert len(set(numbers)) == len(rows), "two users share a number"
    return dict(rows)


def _key(text: str) -> int:
    row = duckdb.sql(f"SELECT {join_key_sql('t')} FROM (SELECT ? AS t)", params=[text])
    return int(row.fetchone()[0])  # type: ignore[index]


def test_users_keep_their_numbers_across_loads(tmp_path: Path) -> None:
    ws = _events(
        tmp_path, "events_01.jsonl", [("e1", "u1"), ("e2", "u3"), ("e3", "u2"), ("e4", "u1")]
    )
    assert _load(ws) == {"events_01.jsonl": "loaded"}
    assert _numbers(ws) == {"u1": 0, "u2": 1, "u3": 2}  # new users in order of ID

    # u2 again, two new users, and e2 sent again: u3's only event, replaced by the upsert
    _events(tmp_path, "events_02.jsonl", [("e5", "u2"), ("e6", "u5"), ("e7", "u4"), ("e2", "u3")])
    assert _load(ws) == {"events_01.jsonl": "unchanged", "events_02.jsonl": "loaded"}
    assert _numbers(ws) == {"u1": 0, "u2": 1, "u3": 2, "u4": 3, "u5": 4}

    # the first file changed: its batch is deleted first (e1, e3, e4; e2 is the second
    # file's now), so u1, whose events all went, is numbered again after the largest stored
    # number; u2 still has an event of the second file and keeps its number
    _events(tmp_path, "events_01.jsonl", [("e1", "u1"), ("e8", "u6"), ("e9", "u2")])
    assert _load(ws) == {"events_01.jsonl": "loaded", "events_02.jsonl": "unchanged"}
    assert _numbers(ws) == {"u1": 5, "u2": 1, "u3": 2, "u4": 3, "u5": 4, "u6": 6}
    assert query(ws, "SELECT count(*) FROM events") == [(7,)]

    # a load refused after its rows were written (u9's join key is taken by u4, as if the two
    # collided) is rolled back whole: no event and no number of it is stored
    with duckdb.connect(str(ws.warehouse_path)) as con:
        con.execute("UPDATE events SET _user_key = ? WHERE user_id = 'u4'", [_key("u9")])
    before = query(ws, "SELECT * FROM events ORDER BY event_id")
    _events(tmp_path, "events_03.jsonl", [("e10", "u9"), ("e11", "u2"), ("e12", "u0")])
    (failed,) = [r for r in ingest_workspace(ws) if r.file.endswith("events_03.jsonl")]
    assert failed.status == "failed"
    assert "'u9' and 'u4' (in events) share the join key _user_key" in str(failed.message)
    assert query(ws, "SELECT * FROM events ORDER BY event_id") == before

    with duckdb.connect(str(ws.warehouse_path)) as con:
        con.execute("UPDATE events SET _user_key = ? WHERE user_id = 'u4'", [_key("u4")])
    assert _load(ws)["events_03.jsonl"] == "loaded"
    numbers = _numbers(ws)
    assert numbers == {"u0": 7, "u1": 5, "u2": 1, "u3": 2, "u4": 3, "u5": 4, "u6": 6, "u9": 8}
    assert set(numbers.values()) <= set(range(9))  # 8 users in 9 numbers: 0 is the gap u1 left
    got = query(ws, "SELECT event_id, user_id, _user_no FROM events ORDER BY event_id")
    assert all(n == numbers[u] for _, u, n in got)


def _old_events(path: Path, rows: list[tuple[str, str | None]]) -> None:
    """An events table as written before ``_user_no``: the columns and ``_user_key``."""
    cols = [
        ("event_id", "VARCHAR"),
        ("event_time", "TIMESTAMP"),
        ("user_id", "VARCHAR"),
        ("event_name", "VARCHAR"),
        ("_user_key", "BIGINT"),
    ]
    cols += [(n, t) for n, t, _, _ in LINEAGE_COLUMNS if n not in LINEAGE_COMPUTED]
    with duckdb.connect(str(path)) as con:
        con.execute(f"CREATE TABLE events ({', '.join(f'{n} {t}' for n, t in cols)})")
        con.executemany(
            "INSERT INTO events (event_id, event_time, user_id, event_name, _user_key, _source, "
            "_batch, _loaded_at, _line) VALUES (?, ?, ?, 'view', ?, 'app', 3, ?, ?)",
            [
                (
                    e,
                    dt.datetime(2026, 6, 1, 8, i),
                    u,
                    None if u is None else _key(u),
                    dt.datetime(2026, 6, 2),
                    i + 1,
                )
                for i, (e, u) in enumerate(rows)
            ],
        )


def test_an_old_warehouse_numbers_its_users_on_open(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path, SOURCES)
    path = ws.warehouse_path
    _old_events(path, [("e1", "b"), ("e2", "a"), ("e3", "c"), ("e4", "a"), ("e5", None)])
    with Warehouse(path) as wh:
        got = wh.con.execute(
            "SELECT event_id, user_id, _user_no, _user_key, _batch, _line FROM events "
            "ORDER BY event_id"
        ).fetchall()
    assert got == [
        ("e1", "b", 1, _key("b"), 3, 1),
        ("e2", "a", 0, _key("a"), 3, 2),
        ("e3", "c", 2, _key("c"), 3, 3),
        ("e4", "a", 0, _key("a"), 3, 4),
        ("e5", None, None, None, 3, 5),
    ]
    # ingest goes on from the numbers given on open
    _events(tmp_path, "events_01.jsonl", [("e6", "c"), ("e7", "0")])
    assert _load(ws) == {"events_01.jsonl": "loaded"}
    assert query(
        ws, "SELECT user_id, _user_no FROM events WHERE event_id IN ('e6', 'e7') ORDER BY 1"
    ) == [
        ("0", 3),
        ("c", 2),
    ]


def test_numbers_survive_when_the_join_keys_are_computed_again(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    _old_events(path, [("e1", "b"), ("e2", "a")])
    with Warehouse(path) as wh:  # numbers given on open; then numbers no rank would give
        wh.con.execute("UPDATE events SET _user_no = CASE user_id WHEN 'a' THEN 7 ELSE 4 END")
        # as if the warehouse had been written by an engine whose hash gave other keys
        wh.con.execute("UPDATE events SET _user_key = _user_key + 1")
        wh.con.execute("UPDATE _join_key_probe SET probe = probe + 1")
    with Warehouse(path) as wh:
        got = wh.con.execute(
            "SELECT user_id, _user_key, _user_no FROM events ORDER BY 1"
        ).fetchall()
    assert got == [("a", _key("a"), 7), ("b", _key("b"), 4)]
