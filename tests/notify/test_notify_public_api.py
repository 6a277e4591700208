"""The curated public surface of luopan.notify, and the house limits on its modules."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import luopan.notify as notify

PACKAGE = Path(notify.__file__).parent


def test_public_names_are_sorted_and_importable() -> None:
    assert notify.__all__ == sorted(notify.__all__)
    for name in notify.__all__:
        assert getattr(notify, name) is not None, name


def test_every_module_declares_all_and_stays_small() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        lines = path.read_text(encoding="utf-8").count("\n")
        assert lines < 400, f"{path.name} has {lines} lines"
        module = importlib.import_module(
            f"luopan.notify.{path.stem}" if path.stem != "__init__" else "luopan.notify"
        )
        assert hasattr(module, "__all__"), path.name


def test_notify_imports_no_surface_or_engine_code() -> None:
    """notify sits at the IO edge: it may use errors/config, never cli, api or engines."""
    forbidden = (
        "luopan.cli",
        "luopan.api",
        "luopan.engines",
        "luopan.warehouse",
        "duckdb",
        "typer",
        "fastapi",
    )
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                assert not name.startswith(forbidden), f"{path.name} imports {name}"
