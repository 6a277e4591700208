"""Helpers shared by the command modules."""

from __future__ import annotations

from pathlib import Path

import typer

from luopan.i18n import language
from luopan.workspace import Workspace

WORKSPACE_OPTION = typer.Option(
    Path("."), "--workspace", "-w", help="workspace folder / 工作区目录", show_default=True
)


def open_workspace(path: Path) -> tuple[Workspace, str]:
    ws = Workspace.open(path)
    return ws, language(ws.config.language)
