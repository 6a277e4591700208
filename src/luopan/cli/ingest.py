"""``luopan ingest`` and ``luopan sources …``: load data and inspect how files map."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from luopan.cli.common import WORKSPACE_OPTION, open_workspace
from luopan.config import SourceConfig
from luopan.errors import SourceError
from luopan.i18n import language, t
from luopan.ingest.detect import detect_file
from luopan.ingest.mapping import load_presets
from luopan.ingest.pipeline import FileResult, ingest_paths, ingest_workspace
from luopan.workspace import Workspace

console = Console()


def render_results(results: list[FileResult], lang: str) -> None:
    table = Table(
        t("source", lang),
        t("file", lang),
        t("state", lang),
        t("read", lang),
        t("loaded", lang),
        t("quarantined", lang),
        t("duplicates", lang),
        t("customers_created", lang),
        title=t("ingest_title", lang),
    )
    for r in results:
        state = {
            "loaded": f"[green]{t('loaded', lang)}[/]",
            "unchanged": f"[dim]{t('unchanged', lang)}[/]",
            "failed": f"[red]{t('failed', lang)}[/]",
        }[r.status]
        table.add_row(
            r.source,
            r.file,
            state,
            f"{r.rows_read:,}",
            ", ".join(f"{k} {v:,}" for k, v in r.loaded.items()),
            f"{r.quarantined:,}" if r.quarantined else "",
            f"{r.duplicates:,}" if r.duplicates else "",
            f"{r.customers_created:,}" if r.customers_created else "",
        )
    console.print(table)
    for r in results:
        if r.status == "failed":
            console.print(f"[red]✗ {r.file}[/]: {r.message}", highlight=False)
        elif r.quarantine_file is not None:
            console.print(
                f"[yellow]![/] {r.file}: {t('quarantine_hint', lang)} {r.quarantine_file}"
            )


def run_ingest(ws: Workspace, lang: str, sources: list[str] | None = None) -> list[FileResult]:
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(t("ingesting", lang), total=None)

        def progress(what: str, done: int, total: int) -> None:
            bar.update(
                task, description=f"{t('ingesting', lang)} {what}", completed=done, total=total
            )

        results = ingest_workspace(ws, sources=sources, progress=progress)
    render_results(results, lang)
    return results


def register(app: typer.Typer) -> None:
    @app.command()
    def ingest(
        files: list[Path] = typer.Argument(
            None, help="files to load with detected presets / 按识别出的预设导入这些文件"
        ),
        source: list[str] = typer.Option(
            None, "--source", "-s", help="only these sources / 只导入这些数据源"
        ),
        workspace: Path = WORKSPACE_OPTION,
    ) -> None:
        """Load the configured sources, or the given files. 导入数据源或指定文件。

        Example / 示例: luopan ingest -w my-brand
        """
        ws, lang = open_workspace(workspace)
        if files:
            results = ingest_paths(ws, [_source_for(f) for f in files])
            render_results(results, lang)
        else:
            results = run_ingest(ws, lang, source or None)
        if any(r.status == "failed" for r in results):
            raise typer.Exit(1)

    sources = typer.Typer(help="Inspect sources and presets. 数据源与预设。", no_args_is_help=True)
    app.add_typer(sources, name="sources")

    @sources.command("detect")
    def detect(
        file: Path = typer.Argument(..., help="an export file / 导出文件"),
        sheet: str | None = typer.Option(None, help="Excel sheet / Excel 工作表"),
    ) -> None:
        """Guess the preset of a file and show the proposed mapping. 识别预设并展示映射。

        Example / 示例: luopan sources detect exports/ExportOrderList_202511.csv
        """
        lang = language()
        found = detect_file(file, sheet=sheet)
        console.print(
            f"{found.path} · {found.format} · {found.encoding or ''} · {found.rows:,} "
            f"{t('rows', lang)}"
        )
        if not found.candidates:
            console.print(f"[yellow]{t('no_preset', lang)}[/]")
            console.print(", ".join(found.headers))
            raise typer.Exit(1)
        for i, cand in enumerate(found.candidates[:3]):
            title = f"{'→ ' if i == 0 else ''}{cand.kind} {cand.name} ({t('score', lang)} {cand.score:.0%})"
            for table_name, mapping in cand.mappings.items():
                tbl = Table(t("column", lang), t("header", lang), title=f"{title} · {table_name}")
                for col, header in mapping.items():
                    tbl.add_row(col, header)
                console.print(tbl)

    @sources.command("presets")
    def presets() -> None:
        """List the platform presets. 列出平台预设。

        Example / 示例: luopan sources presets
        """
        lang = language()
        tbl = Table(t("preset", lang), "", t("table", lang))
        for p in load_presets().values():
            tbl.add_row(p.name, p.zh if lang == "zh" else p.en, ", ".join(p.outputs))
        console.print(tbl)


def _source_for(path: Path) -> SourceConfig:
    found = detect_file(path)
    best = found.best
    if best is None:
        raise SourceError(
            f"{path}: no preset or canonical table matches its headers ({', '.join(found.headers[:12])})",
            fix="declare a source with `table:` and `columns:` in luopan.yaml, then `luopan ingest`",
        )
    name = best.name if best.kind == "preset" else f"file_{best.name}"
    key = "preset" if best.kind == "preset" else "table"
    return SourceConfig.model_validate({"name": name, "path": str(path.resolve()), key: best.name})
