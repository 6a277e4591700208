"""Ingesting the demo exports yields exactly the planted rows (the ground truth)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import counts, query
from luopan.demo import generate
from luopan.ingest.pipeline import ingest_workspace
from luopan.workspace import Workspace


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, dict]:
    root = tmp_path_factory.mktemp("demo")
    generate(root, seed=7, customers=2000, days=120, stores=6)
    ws = Workspace.open(root)
    results = ingest_workspace(ws)
    assert not [r for r in results if r.status == "failed"], [r.message for r in results]
    return ws, json.loads((root / "ground_truth.json").read_text(encoding="utf-8"))


def test_row_counts_match_the_ground_truth(demo) -> None:
    ws, truth = demo
    expected = truth["ingest"]["expected_rows"]
    got = {t: query(ws, f'SELECT count(*) FROM "{t}"')[0][0] for t in expected}
    assert got == expected


def test_planted_dirt_is_in_quarantine_with_reasons(demo) -> None:
    ws, truth = demo
    rows = query(ws, "SELECT file, line, kind FROM _quarantine")
    found = {(Path(f).name, line, kind) for f, line, kind in rows}
    for q in truth["ingest"]["quarantined"]:
        assert any(Path(q["file"]).name == f and q["reason_kind"] == k for f, _, k in found), q
    assert all(r[0] for r in query(ws, "SELECT reason FROM _quarantine"))


def test_reingest_changes_nothing(demo) -> None:
    ws, _ = demo
    before = counts(ws)
    results = ingest_workspace(ws)
    assert {r.status for r in results} == {"unchanged"}
    assert counts(ws) == before


@pytest.mark.slow
def test_another_seed_also_lands_exactly_the_planted_rows(tmp_path: Path) -> None:
    """Seed 11 once lost a ticket created after the world's end (a future timestamp)."""
    generate(tmp_path, seed=11, customers=1500, days=200, stores=5)
    ws = Workspace.open(tmp_path)
    assert not [r.message for r in ingest_workspace(ws) if r.status == "failed"]
    truth = json.loads((tmp_path / "ground_truth.json").read_text(encoding="utf-8"))
    expected = truth["ingest"]["expected_rows"]
    assert {t: query(ws, f'SELECT count(*) FROM "{t}"')[0][0] for t in expected} == expected
