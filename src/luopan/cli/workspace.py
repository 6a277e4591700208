"""``luopan init``: create a workspace."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from luopan.workspace import init_workspace

console = Console()


def register(app: typer.Typer) -> None:
    @app.command()
    def init(
        directory: Path = typer.Argument(..., help="folder for the workspace / 工作区目录"),
        name: str | None = typer.Option(None, help="workspace name / 名称"),
        force: bool = typer.Option(False, help="overwrite an existing luopan.yaml / 覆盖"),
    ) -> None:
        """Create a workspace with a commented luopan.yaml. 创建工作区。

        Example / 示例: luopan init my-brand
        """
        path = init_workspace(directory, name=name, force=force)
        console.print(f"[green]✓[/] {path}")
