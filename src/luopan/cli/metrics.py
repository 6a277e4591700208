"""``luopan metrics list|show|query|check``, ``luopan scorecard`` and ``luopan tree``."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from luopan.cli.common import WORKSPACE_OPTION, open_workspace
from luopan.errors import MetricError
from luopan.metrics import (
    attribute_tree,
    check_north_star,
    connect,
    load_catalog,
    parse_period,
    period_label,
    query_metric,
    scorecard,
)
from luopan.metrics.catalog import Catalog
from luopan.metrics.grains import shift
from luopan.metrics.labels import (
    LABELS,
    STATUS_STYLE,
    definition,
    format_value,
    label,
    sparkline,
)

console = Console()


def _date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise MetricError(f"{text!r} is not a date", fix="write YYYY-MM-DD") from None


def _latest_day(con: Any) -> dt.date:
    latest = con.table("orders").ordered_at.max().to_pyarrow().as_py()
    if latest is None:
        raise MetricError("the warehouse holds no orders", fix="run `luopan ingest` first")
    return latest.date()


def _dump(obj: Any) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


def _nan_none(v: Any) -> Any:
    return None if isinstance(v, float) and math.isnan(v) else v


def list_metrics(catalog: Catalog, lang: str, as_json: bool) -> None:
    if as_json:
        _dump(
            [
                {
                    "name": n,
                    "type": m.type,
                    "label": m.meta.label.model_dump(),
                    "unit": m.meta.unit,
                    "perspective": m.meta.perspective,
                    "direction": m.meta.direction,
                    "north_star": m.meta.north_star,
                }
                for n, m in catalog.metrics.items()
            ]
        )
        return
    table = Table(
        label("metric", lang),
        label("label", lang),
        label("type", lang),
        label("unit", lang),
        label("perspective", lang),
        label("direction", lang),
        title=f"{label('catalog_title', lang)} ({len(catalog.metrics)})",
    )
    for n, m in catalog.metrics.items():
        star = " ★" if m.meta.north_star else ""
        table.add_row(
            n + star,
            m.meta.label.get(lang),
            m.type,
            m.meta.unit,
            label(m.meta.perspective, lang),
            label(m.meta.direction, lang),
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    metrics_app = typer.Typer(
        help="Metric catalog: list, show, query, check. 指标体系。", no_args_is_help=True
    )
    app.add_typer(metrics_app, name="metrics")

    @metrics_app.command("list")
    def list_cmd(
        workspace: Path = WORKSPACE_OPTION,
        as_json: bool = typer.Option(False, "--json", help="JSON for scripts / 输出 JSON"),
    ) -> None:
        """List the metrics of the catalog. 列出指标。

        Example / 示例: luopan metrics list -w demo-world
        """
        ws, lang = open_workspace(workspace)
        list_metrics(load_catalog(ws), lang, as_json)

    @metrics_app.command("show")
    def show_cmd(
        name: str = typer.Argument(..., help="metric name / 指标名称"),
        workspace: Path = WORKSPACE_OPTION,
        as_json: bool = typer.Option(False, "--json", help="JSON output / 输出 JSON"),
    ) -> None:
        """Show one metric's definition and metadata. 查看指标定义。

        Example / 示例: luopan metrics show gmv -w demo-world
        """
        ws, lang = open_workspace(workspace)
        catalog = load_catalog(ws)
        m = catalog.metric(name)
        if as_json:
            _dump(
                {
                    **m.model_dump(mode="json", exclude_defaults=True),
                    "defined_at": catalog.where(name),
                }
            )
            return
        t = Table(show_header=False, title=f"{m.meta.label.get(lang)} ({name})")
        desc = m.meta.description.get(lang) if m.meta.description else ""
        for key, val in (
            ("type", m.type),
            ("definition", definition(m)),
            ("unit", m.meta.unit),
            ("perspective", label(m.meta.perspective, lang)),
            ("direction", label(m.meta.direction, lang)),
            ("owner", m.meta.owner or "—"),
            ("target", ", ".join(f"{g}: {v:g}" for g, v in m.meta.targets.items()) or "—"),
            ("label", desc),
        ):
            t.add_row(label(key, lang), str(val))
        t.add_row("file", catalog.where(name))
        console.print(t)

    @metrics_app.command("query")
    def query_cmd(
        name: str = typer.Argument(..., help="metric name / 指标名称"),
        workspace: Path = WORKSPACE_OPTION,
        grain: str = typer.Option("day", "--grain", help="day|week|month|quarter|year / 粒度"),
        by: str = typer.Option("", "--by", help="dimensions, comma separated / 维度，逗号分隔"),
        start: str | None = typer.Option(None, "--from", help="first day YYYY-MM-DD / 起始日"),
        end: str | None = typer.Option(
            None, "--to", help="day after the last, YYYY-MM-DD / 截止日（不含）"
        ),
        compare: str | None = typer.Option(None, "--compare", help="pop|yoy|festival / 对比方式"),
        as_json: bool = typer.Option(False, "--json", help="JSON output / 输出 JSON"),
        as_csv: bool = typer.Option(False, "--csv", help="CSV output / 输出 CSV"),
    ) -> None:
        """Query one metric by grain and dimensions. 查询指标。

        Example / 示例: luopan metrics query gmv --grain week --by channel -w demo-world
        """
        ws, lang = open_workspace(workspace)
        catalog = load_catalog(ws)
        con = connect(ws)
        dims = [d.strip() for d in by.split(",") if d.strip()]
        frame = query_metric(
            con,
            catalog,
            name,
            grain=grain,
            by=dims,
            start=_date(start),
            end=_date(end),
            compare=compare,
        )
        if "period" in frame:
            frame["period"] = [period_label(p.date(), grain) for p in frame["period"]]
        if as_json:
            _dump(
                [{k: _nan_none(v) for k, v in r.items()} for r in frame.to_dict(orient="records")]
            )
            return
        if as_csv:
            typer.echo(frame.to_csv(index=False), nl=False)
            return
        m = catalog.metric(name)
        table = Table(
            *[c if c not in LABELS else label(c, lang) for c in frame.columns],
            title=f"{m.meta.label.get(lang)} ({name}) {sparkline(list(frame.value))}",
        )
        for row in frame.itertuples(index=False):
            cells = []
            for col, v in zip(frame.columns, row, strict=True):
                if col in ("value", "compare_value", "change"):
                    cells.append(format_value(v, m))
                elif col == "change_pct":
                    cells.append("—" if math.isnan(v) else f"{v * 100:+.1f}%")
                else:
                    cells.append("∅" if v is None or v != v else str(v))
            table.add_row(*cells)
        console.print(table)

    @metrics_app.command("check")
    def check_cmd(
        workspace: Path = WORKSPACE_OPTION,
        as_json: bool = typer.Option(False, "--json", help="JSON output / 输出 JSON"),
    ) -> None:
        """Validate the catalog and check the north star's three criteria. 校验北极星指标。

        Example / 示例: luopan metrics check -w demo-world
        """
        ws, lang = open_workspace(workspace)
        catalog = load_catalog(ws)
        result = check_north_star(connect(ws), catalog)
        if as_json:
            _dump(
                {
                    "metrics": len(catalog.metrics),
                    "north_star": result.metric,
                    "passed": result.passed,
                    "criteria": [
                        {"criterion": c, "passed": ok, "detail": d} for c, ok, d in result.criteria
                    ],
                }
            )
        else:
            console.print(f"{label('catalog_ok', lang)}: {len(catalog.metrics)}")
            star = catalog.metric(result.metric).meta.label.get(lang)
            table = Table(
                "", label("status", lang), "", title=f"{label('north_star', lang)}: {star}"
            )
            for crit, ok, detail in result.criteria:
                mark = (
                    f"[green]✓ {label('check_ok', lang)}[/]"
                    if ok
                    else (f"[red]✗ {label('check_fail', lang)}[/]")
                )
                table.add_row(crit, mark, detail)
            console.print(table)
        if not result.passed:
            raise typer.Exit(1)

    @app.command("scorecard")
    def scorecard_cmd(
        workspace: Path = WORKSPACE_OPTION,
        period: str | None = typer.Option(
            None, "--period", help="period, e.g. 2025-W46, 2025-11 / 计分卡周期"
        ),
        as_json: bool = typer.Option(False, "--json", help="JSON output / 输出 JSON"),
    ) -> None:
        """Balanced scorecard for a period: actual, target, RAG status, trend. 平衡计分卡。

        Example / 示例: luopan scorecard --period 2026-W45 -w demo-world
        """
        ws, lang = open_workspace(workspace)
        catalog = load_catalog(ws)
        con = connect(ws)
        if period is None:  # the last complete week
            last = _latest_day(con) + dt.timedelta(days=1)
            period = period_label(
                shift(last - dt.timedelta(days=last.weekday()), "week", -1), "week"
            )
        card = scorecard(con, catalog, period)
        if as_json:
            _dump(
                {
                    "period": card.period,
                    "grain": card.grain,
                    "rows": [
                        {k: _nan_none(v) for k, v in r.items()}
                        for r in card.to_table().to_dict(orient="records")
                    ],
                }
            )
            return
        table = Table(
            label("perspective", lang),
            label("metric", lang),
            label("actual", lang),
            label("target", lang),
            label("status", lang),
            label("previous", lang),
            label("change_pct", lang),
            label("trend", lang),
            title=f"{label('scorecard_title', lang)} · {card.period}",
        )
        for r in card.rows:
            m = catalog.metric(r.metric)
            name_ = (r.label_en if lang == "en" else r.label_zh) + (" ★" if r.north_star else "")
            status = label(r.status if not r.error else "none", lang)
            table.add_row(
                label(r.perspective, lang),
                name_,
                format_value(r.actual, m) if not r.error else label("unavailable", lang),
                format_value(r.target, m),
                f"[{STATUS_STYLE[r.status]}]{status}[/]",
                format_value(r.previous, m),
                "—" if math.isnan(r.change_pct) else f"{r.change_pct * 100:+.1f}%",
                sparkline(r.trend),
            )
        console.print(table)

    @app.command("tree")
    def tree_cmd(
        name: str = typer.Argument(..., help="metric name / 指标名称"),
        workspace: Path = WORKSPACE_OPTION,
        period: str = typer.Option(..., "--period", help="period, e.g. 2025-W46, 2025-11 / 分析期"),
        baseline: str | None = typer.Option(
            None, "--baseline", help="default: previous / 对比期（默认上一期）"
        ),
        as_json: bool = typer.Option(False, "--json", help="JSON output / 输出 JSON"),
    ) -> None:
        """Attribute a metric's change to its tree's drivers (LMDI). 指标树归因。

        Example / 示例: luopan tree gmv --period 2026-10 -w demo-world
        """
        ws, lang = open_workspace(workspace)
        catalog = load_catalog(ws)
        if baseline is None:
            grain, start, _ = parse_period(period)
            baseline = period_label(shift(start, grain, -1), grain)
        result = attribute_tree(connect(ws), catalog, name, period, baseline, lang=lang)
        frame = result.to_table()
        if as_json:
            _dump(
                {
                    "metric": result.metric,
                    "period": result.period,
                    "baseline": result.baseline,
                    "residual": result.residual,
                    "nodes": [
                        {k: _nan_none(v) for k, v in r.items()}
                        for r in frame.to_dict(orient="records")
                    ],
                }
            )
            return
        table = Table(
            label("metric", lang),
            label("baseline", lang),
            label("actual", lang),
            label("contribution", lang),
            label("share", lang),
            label("method", lang),
            title=f"{label('tree_title', lang)} · {result.period} vs {result.baseline}",
        )
        for r in frame.itertuples(index=False):
            base = r.metric.split("[")[0]
            m = catalog.metric(base)
            share = "—" if math.isnan(r.share) else f"{r.share * 100:+.1f}%"
            table.add_row(
                "  " * r.depth + r.label,
                format_value(r.baseline, m),
                format_value(r.actual, m),
                f"{r.contribution:+,.2f}",
                share,
                r.method if isinstance(r.method, str) else "",
            )
        console.print(table)
