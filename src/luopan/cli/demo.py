"""``luopan demo``: build the synthetic fresh-food brand, ingest it, show the status."""

from __future__ import annotations

import shutil
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from luopan.cli.ingest import run_ingest
from luopan.cli.status import show_status
from luopan.config import CONFIG_FILE
from luopan.errors import ConfigError
from luopan.i18n import language, t
from luopan.workspace import Workspace

console = Console()


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        directory: Path = typer.Argument(Path("demo-world"), help="workspace folder / 工作区目录"),
        seed: int = typer.Option(7, help="random seed / 随机种子"),
        customers: int = typer.Option(50_000, help="number of customers / 客户数"),
        days: int = typer.Option(730, help="days of history / 历史天数"),
        stores: int = typer.Option(30, help="number of stores / 门店数"),
        force: bool = typer.Option(False, help="replace an existing demo folder / 覆盖已有目录"),
        ingest: bool = typer.Option(True, help="ingest after generating / 生成后导入"),
    ) -> None:
        """Generate the demo retail world, ingest it and print the status. 生成演示数据。

        Example / 示例: luopan demo demo-world --seed 7
        """
        from luopan.demo import generate

        lang = language()
        if directory.exists() and any(directory.iterdir()):
            if not force:
                raise ConfigError(
                    f"{directory} is not empty",
                    fix="pass --force to rebuild it, or pick a new folder",
                )
            if (
                not (directory / CONFIG_FILE).exists()
                and not (directory / "ground_truth.json").exists()
            ):
                raise ConfigError(
                    f"{directory} is not a luopan demo folder; refusing to delete it",
                    fix="pick an empty folder",
                )
            shutil.rmtree(directory)
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task(t("generating", lang), total=1.0)

            def progress(stage: str, fraction: float) -> None:
                bar.update(
                    task, description=f"{t('generating', lang)}: {stage}", completed=fraction
                )

            generate(
                directory,
                seed=seed,
                customers=customers,
                days=days,
                stores=stores,
                progress=progress,
            )
        if not ingest:
            return
        ws = Workspace.open(directory)
        lang = language(ws.config.language)
        run_ingest(ws, lang)
        show_status(ws, lang)
        console.print(f"[bold]{t('workspace', lang)}:[/] {ws.root}")
        console.print(f"[bold]{t('warehouse', lang)}:[/] {ws.warehouse_path}")
        console.print(f"[bold]{t('ground_truth', lang)}:[/] {ws.root / 'ground_truth.json'}")
        console.print(
            f'luopan sql -w {directory} "SELECT channel, count(*) orders, sum(paid_amount) gmv '
            'FROM orders GROUP BY ALL ORDER BY gmv DESC"'
        )
