"""The public surface of luopan.engines.customers: every name exported and documented."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import luopan.engines.customers as customers


def test_all_names_resolve_and_carry_a_docstring() -> None:
    assert customers.__all__ == sorted(customers.__all__, key=lambda n: (not n.isupper(), n))
    for name in customers.__all__:
        obj = getattr(customers, name)
        assert obj.__doc__ or isinstance(obj, dict), name


def test_statistical_modules_cite_their_method() -> None:
    for info in pkgutil.iter_modules(customers.__path__):
        module = importlib.import_module(f"luopan.engines.customers.{info.name}")
        assert module.__doc__ and "References:" in module.__doc__, info.name


def test_engines_import_no_io_or_surface_library() -> None:
    for info in pkgutil.iter_modules(customers.__path__):
        module = importlib.import_module(f"luopan.engines.customers.{info.name}")
        assert module.__file__ is not None
        source = Path(module.__file__).read_text(encoding="utf-8")
        for banned in ("duckdb", "import typer", "fastapi", "luopan.cli", "print(", "open("):
            assert banned not in source, (info.name, banned)
