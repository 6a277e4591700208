"""``luopan status``: tables, freshness per source, quarantine and recent loads."""

from __future__ import annotations

from pathlib import Path

import duckdb
import typer
from rich.console import Console
from rich.table import Table

from luopan.cli.common import WORKSPACE_OPTION, open_workspace
from luopan.errors import WarehouseError
from luopan.i18n import t
from luopan.ingest.pipeline import now_local
from luopan.tables import TABLES
from luopan.warehouse.status import WarehouseStatus, read_status
from luopan.workspace import Workspace

console = Console()


def render_status(ws: Workspace, status: WarehouseStatus, lang: str) -> None:
    console.rule(f"[bold]{t('status_title', lang)}[/] — {ws.config.name}")
    tables = Table(t("table", lang), "", t("rows", lang), title=t("tables_title", lang))
    for name, n in status.row_counts.items():
        if n:
            label = TABLES[name].zh if lang == "zh" else TABLES[name].en
            tables.add_row(name, label, f"{n:,}")
    console.print(tables)
    fresh = Table(
        t("source", lang),
        t("table", lang),
        t("latest", lang),
        t("age", lang),
        t("state", lang),
        title=f"{t('freshness_title', lang)} ({status.now:%Y-%m-%d %H:%M})",
    )
    for f in status.freshness:
        state = (
            t("no_data", lang)
            if f.latest is None
            else t("late", lang)
            if f.late
            else t("fresh", lang)
        )
        style = "red" if f.late else "green"
        fresh.add_row(
            f.source,
            f.table or "",
            "" if f.latest is None else f"{f.latest:%Y-%m-%d %H:%M}",
            "" if f.age_hours is None else f"{f.age_hours:,.0f}",
            f"[{style}]{state}[/]",
        )
    console.print(fresh)
    if status.late_sources:
        console.print(f"[yellow]{t('late_warning', lang)}[/] {', '.join(status.late_sources)}")
    if status.quarantine:
        q = Table(
            t("source", lang), t("kind", lang), t("rows", lang), title=t("quarantine_title", lang)
        )
        for (source, kind), n in status.quarantine.items():
            q.add_row(source, kind, f"{n:,}")
        console.print(q)
        console.print(f"{t('quarantine_hint', lang)} {ws.quarantine_dir}")
    loads = Table(
        t("source", lang),
        t("file", lang),
        t("finished", lang),
        t("read", lang),
        t("loaded", lang),
        t("quarantined", lang),
        t("duplicates", lang),
        title=t("loads_title", lang),
    )
    for r in status.loads:
        loads.add_row(
            str(r["source"]),
            str(r["file"]),
            f"{r['finished_at']:%Y-%m-%d %H:%M:%S}",
            f"{r['rows_read']:,}",
            f"{r['rows_loaded']:,}",
            f"{r['rows_quarantined']:,}",
            f"{r['duplicate_rows']:,}",
        )
    console.print(loads)


def show_status(ws: Workspace, lang: str) -> WarehouseStatus:
    path = ws.warehouse_path
    if not path.exists():
        raise WarehouseError(f"{path}: no warehouse yet", fix="run `luopan ingest` first")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as exc:
        raise WarehouseError(
            f"{path}: cannot open the warehouse ({exc})", fix="retry when the ingest finishes"
        ) from None
    try:
        status = read_status(con, ws.config, now=now_local(ws))
    finally:
        con.close()
    render_status(ws, status, lang)
    return status


def register(app: typer.Typer) -> None:
    @app.command()
    def status(workspace: Path = WORKSPACE_OPTION) -> None:
        """Show tables, source freshness, quarantine and recent loads. 仓库状态。

        Example / 示例: luopan status -w demo-world
        """
        ws, lang = open_workspace(workspace)
        show_status(ws, lang)
