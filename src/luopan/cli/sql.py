"""``luopan sql``: a read-only query on the warehouse, printed as a table, JSON or CSV."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from luopan.cli.common import WORKSPACE_OPTION, open_workspace
from luopan.warehouse.store import run_read_only

console = Console()


def register(app: typer.Typer) -> None:
    @app.command()
    def sql(
        query: str = typer.Argument(..., help="one SELECT query / 一条只读查询"),
        as_json: bool = typer.Option(False, "--json", help="JSON lines output / 输出 JSON lines"),
        as_csv: bool = typer.Option(False, "--csv", help="CSV output / 输出 CSV"),
        limit: int = typer.Option(1000, help="rows shown in table mode / 表格模式最多显示行数"),
        workspace: Path = WORKSPACE_OPTION,
    ) -> None:
        """Run a read-only SQL query on the warehouse. 在仓库上运行只读 SQL。

        Example / 示例: luopan sql "SELECT channel, count(*) FROM orders GROUP BY ALL" -w demo-world
        """
        ws, _ = open_workspace(workspace)
        rel = run_read_only(ws.warehouse_path, query)
        names = list(rel.columns)
        if as_json:
            for row in rel.fetchall():
                sys.stdout.write(
                    json.dumps(dict(zip(names, row, strict=True)), ensure_ascii=False, default=str)
                    + "\n"
                )
            return
        if as_csv:
            w = csv.writer(sys.stdout)
            w.writerow(names)
            for row in rel.fetchall():
                w.writerow(row)
            return
        table = Table(*names)
        for row in rel.fetchmany(limit):
            table.add_row(*("" if v is None else str(v) for v in row))
        console.print(table)
