"""``luopan docs``: print generated reference pages."""

from __future__ import annotations

import typer

from luopan.model_docs import model_markdown


def register(app: typer.Typer) -> None:
    docs = typer.Typer(help="Generated reference pages. 生成参考文档。", no_args_is_help=True)
    app.add_typer(docs, name="docs")

    @docs.command("model")
    def model() -> None:
        """Print the canonical model page (Markdown). 输出规范数据模型文档。"""
        typer.echo(model_markdown())

    @docs.command("cli")
    def cli() -> None:
        """Print the command reference page (Markdown). 输出命令参考文档。"""
        from luopan.cli_docs import cli_markdown

        typer.echo(cli_markdown(), nl=False)
