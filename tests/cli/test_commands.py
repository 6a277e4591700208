"""The command registry in luopan.cli.main agrees with the modules, and commands load lazily."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import typer

import luopan.cli as package
from luopan.cli.main import COMMANDS


def _names(module: str) -> set[str]:
    app = typer.Typer()
    importlib.import_module(f"luopan.cli.{module}").register(app)
    names = {c.name or c.callback.__name__ for c in app.registered_commands}  # type: ignore[union-attr]
    names |= {g.name for g in app.registered_groups if g.name}
    return {n.replace("_", "-") for n in names}


def test_registry_matches_what_each_module_registers() -> None:
    modules = sorted(
        m.name
        for m in pkgutil.iter_modules(package.__path__)
        if m.name not in ("main", "common") and not m.name.startswith("_")
    )
    assert sorted(set(COMMANDS.values())) == modules
    for module in modules:
        assert _names(module) == {c for c, m in COMMANDS.items() if m == module}, module


def test_a_command_imports_only_its_own_module() -> None:
    code = (
        "import sys\n"
        "from luopan.cli import main\n"
        "try:\n"
        "    main.main(['status', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('sklearn', 'luopan.engines.abtest', 'luopan.metrics',"
        " 'statsforecast', 'jieba') if m in sys.modules]\n"
        "print(sorted(main._registered), heavy)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "['status'] []"


def test_help_lists_every_command() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "luopan", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    assert r.returncode == 0, r.stderr
    assert all(f" {name} " in r.stdout for name in COMMANDS)


def test_cli_reference_page_is_in_sync() -> None:
    """docs/cli.md is `luopan docs cli`: a new option without a page update fails here."""
    from pathlib import Path

    from luopan.cli_docs import cli_markdown

    page = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
    assert page.read_text(encoding="utf-8") == cli_markdown(), (
        "docs/cli.md is stale: run `.venv/bin/luopan docs cli > docs/cli.md`"
    )
    assert all(f"`luopan {name}" in page.read_text(encoding="utf-8") for name in COMMANDS)
