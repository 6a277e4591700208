"""Every command's help is bilingual with a working example; every option has zh and en help."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from typing import Any

import pytest
import typer

CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]{2}")
EXAMPLE = re.compile(r"Example / 示例: (luopan .+)")
# `luopan version` lives in luopan/cli/main.py, which the lead owns (see the issue-14 report)
EXEMPT_EXAMPLE: set[str] = set()


def _commands() -> Iterator[tuple[str, Any]]:
    from luopan.cli.main import app

    def walk(cmd: Any, path: str) -> Iterator[tuple[str, Any]]:
        subs = getattr(cmd, "commands", None)
        if subs:
            yield path, cmd
            for name, sub in sorted(subs.items()):
                yield from walk(sub, f"{path} {name}")
        else:
            yield path, cmd

    yield from walk(typer.main.get_command(app), "luopan")


@pytest.fixture(scope="module")
def commands() -> list[tuple[str, Any]]:
    return list(_commands())


def _bilingual(text: str) -> bool:
    return bool(CJK.search(text) and LATIN.search(text))


def test_every_command_and_group_has_zh_and_en_help(commands: list[tuple[str, Any]]) -> None:
    assert len(commands) > 50
    assert [p for p, c in commands if not _bilingual(c.help or "")] == []


def test_every_command_has_an_example_of_itself_with_real_options(
    commands: list[tuple[str, Any]],
) -> None:
    problems = []
    for path, cmd in commands:
        if getattr(cmd, "commands", None) or path in EXEMPT_EXAMPLE:
            continue
        found = EXAMPLE.search(cmd.help or "")
        if found is None:
            problems.append(f"{path}: no 'Example / 示例: luopan …' in its docstring")
            continue
        words = shlex.split(found.group(1).split(" > ")[0])
        if " ".join(words[: len(path.split())]) != path:
            problems.append(f"{path}: the example runs another command: {found.group(1)}")
        options = {
            o
            for p in cmd.params
            for o in (*getattr(p, "opts", ()), *getattr(p, "secondary_opts", ()))
        }
        problems += [
            f"{path}: example uses unknown option {w}"
            for w in words
            if w.startswith("-") and w not in options
        ]
    assert problems == []


def test_every_option_and_argument_has_zh_and_en_help(commands: list[tuple[str, Any]]) -> None:
    missing = [
        f"{path} {p.name}: {getattr(p, 'help', None)!r}"
        for path, cmd in commands
        for p in getattr(cmd, "params", [])
        if p.name != "help"
        and not getattr(p, "hidden", False)
        and not _bilingual(getattr(p, "help", None) or "")
    ]
    assert missing == []


def test_cli_reference_shows_each_example() -> None:
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text(encoding="utf-8")
    assert page.count("Example / 示例: luopan ") >= 50
