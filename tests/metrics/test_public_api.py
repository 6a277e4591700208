"""The public surface of luopan.metrics: curated, importable, documented."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import luopan.metrics as metrics

DOCS = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"


def test_all_is_importable_and_documented() -> None:
    assert sorted(metrics.__all__) == sorted(set(metrics.__all__))
    for name in metrics.__all__:
        obj = getattr(metrics, name)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            assert inspect.getdoc(obj), f"{name} has no docstring"


def test_documented_commands_exist() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for command in (
        "luopan metrics list",
        "luopan metrics show",
        "luopan metrics query",
        "luopan metrics check",
        "luopan scorecard",
        "luopan tree",
    ):
        assert command in text
    for name in ("query_metric", "scorecard", "attribute_tree", "load_catalog", "connect"):
        assert name in metrics.__all__ and name in text


def test_metrics_imports_only_earlier_stages() -> None:
    """metrics sits after ingest/warehouse: it never imports engines, decisions or surfaces."""
    banned = (
        "luopan.engines",
        "luopan.decisions",
        "luopan.api",
        "luopan.cockpit",
        "luopan.cli",
        "luopan.notify",
        "luopan.reports",
        "fastapi",
        "typer",
    )
    folder = Path(metrics.__file__).parent
    for path in folder.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom | ast.Import):
                names = (
                    [node.module or ""]
                    if isinstance(node, ast.ImportFrom)
                    else [a.name for a in node.names]
                )
                for n in names:
                    assert not n.startswith(banned), f"{path.name} imports {n}"
