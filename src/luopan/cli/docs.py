"""``luopan docs``: print (or write) the generated reference pages of the documentation site."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import typer

LANG_OPTION = typer.Option("zh", "--lang", help="zh | en: page language / 页面语言")


def _lang(value: str) -> str:
    if value not in ("zh", "en"):
        raise typer.BadParameter("use zh or en / 请使用 zh 或 en", param_hint="--lang")
    return value


def pages() -> dict[str, Callable[[], str]]:
    """Every generated page: its path under docs/ → the function that writes it."""
    from luopan.cli_docs import cli_markdown
    from luopan.model_docs import config_markdown, metrics_markdown, model_markdown, rules_markdown

    out: dict[str, Callable[[], str]] = {
        "cli.md": cli_markdown,
        "canonical-model.md": model_markdown,
    }
    for name, fn in (
        ("config", config_markdown),
        ("rules", rules_markdown),
        ("metrics", metrics_markdown),
    ):
        out[f"reference/{name}.md"] = lambda fn=fn: fn("zh")  # type: ignore[misc]
        out[f"reference/{name}.en.md"] = lambda fn=fn: fn("en")  # type: ignore[misc]
    return out


def register(app: typer.Typer) -> None:
    docs = typer.Typer(
        help="Generated reference pages of the docs site. 生成文档站点的参考页面。\n\n"
        "Example / 示例: luopan docs write",
        no_args_is_help=True,
    )
    app.add_typer(docs, name="docs")

    @docs.command("model")
    def model() -> None:
        """Print the canonical model page (Markdown, zh + en). 输出规范数据模型文档。

        Example / 示例: luopan docs model > docs/canonical-model.md
        """
        typer.echo(pages()["canonical-model.md"]())  # the page, then a newline (as ever)

    @docs.command("cli")
    def cli() -> None:
        """Print the command reference page (Markdown, zh + en). 输出命令参考文档。

        Example / 示例: luopan docs cli > docs/cli.md
        """
        typer.echo(pages()["cli.md"](), nl=False)

    @docs.command("config")
    def config(lang: str = LANG_OPTION) -> None:
        """Print every key of luopan.yaml and notify.yaml (Markdown). 输出配置参考文档。

        Example / 示例: luopan docs config --lang en
        """
        from luopan.model_docs import config_markdown

        typer.echo(config_markdown(_lang(lang)), nl=False)

    @docs.command("rules")
    def rules(lang: str = LANG_OPTION) -> None:
        """Print every key, condition and action of rule files (Markdown). 输出规则参考文档。

        Example / 示例: luopan docs rules --lang zh
        """
        from luopan.model_docs import rules_markdown

        typer.echo(rules_markdown(_lang(lang)), nl=False)

    @docs.command("metrics")
    def metrics(lang: str = LANG_OPTION) -> None:
        """Print every metric of the shipped catalog (Markdown). 输出指标参考文档。

        Example / 示例: luopan docs metrics --lang en
        """
        from luopan.model_docs import metrics_markdown

        typer.echo(metrics_markdown(_lang(lang)), nl=False)

    @docs.command("write")
    def write(
        directory: Path = typer.Option(Path("docs"), "--dir", help="docs folder / 文档目录"),
    ) -> None:
        """Regenerate every reference page under docs/. 重新生成全部参考页面。

        Example / 示例: luopan docs write --dir docs
        """
        for rel, fn in pages().items():
            path = directory / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            text = fn()
            changed = not path.exists() or path.read_text(encoding="utf-8") != text
            path.write_text(text, encoding="utf-8")
            typer.echo(f"{'✎' if changed else '✓'} {path}")
