"""``luopan funnel | retention | lifecycle | community | content`` on the workspace warehouse.

The warehouse is opened read-only through Ibis; the engines in ``luopan.engines.funnels``
aggregate in DuckDB and return small results rendered here in zh-CN or en.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from luopan.cli.common import WORKSPACE_OPTION, open_workspace
from luopan.engines.funnels.community import community_health
from luopan.engines.funnels.content import content_matrix
from luopan.engines.funnels.funnel import MODES, dropped_users, funnel
from luopan.engines.funnels.lifecycle import LIFECYCLE_LABELS, lifecycle, stickiness
from luopan.engines.funnels.retention import retention
from luopan.engines.funnels.sources import with_orders
from luopan.errors import ConfigError, WarehouseError
from luopan.workspace import Workspace

console = Console()

LABELS: dict[str, tuple[str, str]] = {
    "funnel_title": ("转化漏斗", "funnel"),
    "breakdown": ("分组", "breakdown"),
    "step": ("步骤", "step"),
    "users": ("用户数", "users"),
    "overall": ("总体转化率", "overall conversion"),
    "step_conv": ("步骤转化率", "step conversion"),
    "drop_off": ("流失率", "drop-off"),
    "median_ttc": ("转化时长中位数", "median time to convert"),
    "retention_title": ("留存分析", "retention"),
    "cohort": ("同期群", "cohort"),
    "size": ("人数", "size"),
    "lifecycle_title": ("用户生命周期", "lifecycle"),
    "period": ("周期", "period"),
    "active": ("活跃", "active"),
    "dau_mau": ("DAU/MAU 粘性(近30天均值)", "DAU/MAU stickiness (mean of last 30 days)"),
    "community_title": ("私域社群健康度", "community health"),
    "group": ("群", "group"),
    "activity": ("活跃率 基线→近期", "activity rate baseline→recent"),
    "promo": ("促销消息占比 基线→近期", "promo share baseline→recent"),
    "effect": ("估计影响(相对其他群)", "estimated effect (vs other groups)"),
    "overpromoted": ("⚠ 过度营销", "⚠ over-promoted"),
    "ok": ("正常", "ok"),
    "content_title": ("内容矩阵", "content matrix"),
    "platform": ("平台", "platform"),
    "format": ("形式", "format"),
    "items": ("内容数", "items"),
    "views": ("浏览量", "views"),
    "engagement": ("互动率", "engagement rate"),
    "natural": ("自然流量占比", "natural share"),
    "trend": ("自然流量占比趋势", "natural-traffic share trend"),
    "dropped_written": ("流失用户已导出", "dropped users written to"),
}


def label(key: str, lang: str) -> str:
    zh, en = LABELS[key]
    return en if lang == "en" else zh


@contextmanager
def warehouse(ws: Workspace) -> Iterator[Any]:
    """A read-only Ibis connection to the workspace warehouse."""
    import ibis

    path = ws.warehouse_path
    if not path.exists():
        raise WarehouseError(f"{path}: no warehouse yet", fix="run `luopan ingest` first")
    con = ibis.duckdb.connect(str(path), read_only=True)
    try:
        yield con
    finally:
        con.disconnect()


def table(con: Any, name: str) -> Any:
    from ibis.common.exceptions import TableNotFound

    try:
        return con.table(name)
    except TableNotFound:
        raise WarehouseError(
            f"the warehouse has no {name} table", fix=f"ingest a source that maps to {name}"
        ) from None


def _pct(v: float) -> str:
    return "—" if pd.isna(v) else f"{v:.1%}"


def _duration(seconds: float) -> str:
    if pd.isna(seconds):
        return "—"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def _clean(value: Any) -> Any:
    """NaN (an unobserved cell, a rate over zero users) becomes JSON null."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, float) and value != value:
        return None
    return value


def _echo_json(payload: Any) -> None:
    typer.echo(
        json.dumps(_clean(payload), ensure_ascii=False, indent=2, default=str, allow_nan=False)
    )


def register(app: typer.Typer) -> None:  # noqa: C901 - one closure per command
    json_opt = typer.Option(False, "--json", help="JSON for scripts / 输出 JSON")

    @app.command("funnel")
    def funnel_cmd(
        steps: str = typer.Option(..., "--steps", help="event names, comma-separated / 步骤"),
        window: str = typer.Option("14d", "--window", help="conversion window / 转化窗口期"),
        by: str | None = typer.Option(None, "--by", help="breakdown column / 分组维度"),
        mode: str = typer.Option("ordered", "--mode", help=f"{'/'.join(MODES)} / 顺序模式"),
        dropped_at: int | None = typer.Option(
            None, "--dropped-at", help="export users who stopped at this step / 导出流失用户"
        ),
        csv: Path | None = typer.Option(None, "--csv", help="file for --dropped-at / 导出文件"),
        since: str | None = typer.Option(None, "--since", help="entered on/after / 进入起始日"),
        until: str | None = typer.Option(None, "--until", help="entered before / 进入截止日"),
        workspace: Path = WORKSPACE_OPTION,
        as_json: bool = json_opt,
    ) -> None:
        """Conversion funnel over events with a hard window; a step named ``order`` is a paid
        order from the orders table. 转化漏斗（步骤 order = 订单表中的已付款订单）。

        Example / 示例: luopan funnel --steps view,add_to_cart,checkout,pay --window 14d -w demo-world
        """
        ws, lang = open_workspace(workspace)
        names = [s.strip() for s in steps.split(",") if s.strip()]
        if mode not in MODES:
            raise ConfigError(f"unknown funnel mode {mode!r}", fix=f"use {', '.join(MODES)}")
        with warehouse(ws) as con:
            events = table(con, "events")
            if "order" in names:
                events = with_orders(events, table(con, "orders"))
            kw: dict[str, Any] = {"window": window, "by": by, "mode": mode}
            if since or until:
                kw["entered"] = (since or "1900-01-01", until or "2200-01-01")
            result = funnel(events, names, **kw)
            if dropped_at is not None:
                if csv is None:
                    raise ConfigError("--dropped-at needs --csv", fix="add --csv dropped.csv")
                seg = dropped_users(events, names, dropped_at, **kw).to_pandas()
                seg.to_csv(csv, index=False, encoding="utf-8-sig")
                if not as_json:
                    console.print(f"{label('dropped_written', lang)} {csv} ({len(seg):,})")
        if as_json:
            _echo_json(result.summary())
            return
        out = Table(
            label("breakdown", lang),
            label("step", lang),
            label("users", lang),
            label("overall", lang),
            label("step_conv", lang),
            label("drop_off", lang),
            label("median_ttc", lang),
            title=f"{label('funnel_title', lang)} ({mode}, {window})",
        )
        for r in result.steps.itertuples():
            out.add_row(
                str(r.breakdown),
                f"{r.step_index}. {r.step}",
                f"{r.users:,}",
                _pct(r.overall_conversion),
                _pct(r.step_conversion),
                _pct(r.drop_off),
                _duration(r.median_seconds),
            )
        console.print(out)

    @app.command("retention")
    def retention_cmd(
        cohort: str = typer.Option("week", "--cohort", help="day/week/month / 同期群周期"),
        kind: str = typer.Option("first_time", "--kind", help="first_time/recurring / 留存类型"),
        periods: int = typer.Option(8, "--periods", help="periods to show / 显示期数"),
        start_event: str | None = typer.Option(
            None, "--start-event", help="start event / 初始行为"
        ),
        return_event: str | None = typer.Option(
            None, "--return-event", help="return event / 回访行为"
        ),
        workspace: Path = WORKSPACE_OPTION,
        as_json: bool = json_opt,
    ) -> None:
        """Cohort retention over events. 留存分析。

        Example / 示例: luopan retention --cohort week --periods 8 -w demo-world
        """
        ws, lang = open_workspace(workspace)
        with warehouse(ws) as con:
            opts: dict[str, Any] = {"period": cohort, "kind": kind, "periods": periods}
            result = retention(
                table(con, "events"),
                start_events=[start_event] if start_event else None,
                return_events=[return_event] if return_event else None,
                **opts,
            )
        if as_json:
            _echo_json(result.summary())
            return
        m = result.matrix()
        sizes = result.table.groupby("cohort")["cohort_size"].first()
        out = Table(
            label("cohort", lang),
            label("size", lang),
            *[str(c) for c in m.columns],
            title=f"{label('retention_title', lang)} ({cohort}, {kind})",
        )
        for c, row in m.iterrows():
            out.add_row(f"{c:%Y-%m-%d}", f"{sizes[c]:,}", *[_pct(v) for v in row])
        console.print(out)

    @app.command("lifecycle")
    def lifecycle_cmd(
        period: str = typer.Option("week", "--period", help="day/week/month / 周期"),
        workspace: Path = WORKSPACE_OPTION,
        as_json: bool = json_opt,
    ) -> None:
        """New / returning / resurrecting / dormant users, and DAU/MAU. 生命周期与粘性。

        Example / 示例: luopan lifecycle --period week -w demo-world
        """
        ws, lang = open_workspace(workspace)
        with warehouse(ws) as con:
            events = table(con, "events")
            result = lifecycle(events, period=period)  # type: ignore[arg-type]
            sticky = stickiness(events)
        if as_json:
            _echo_json(
                {
                    "lifecycle": result.table.to_dict(orient="records"),
                    "dau_mau_30d": sticky.mean_dau_mau(),
                    "daily": sticky.daily.tail(30).to_dict(orient="records"),
                }
            )
            return
        idx = 1 if lang == "en" else 0
        out = Table(
            label("period", lang),
            *[LIFECYCLE_LABELS[k][idx] for k in LIFECYCLE_LABELS],
            label("active", lang),
            title=label("lifecycle_title", lang),
        )
        for r in result.table.itertuples():
            out.add_row(
                f"{r.period_start:%Y-%m-%d}",
                f"{r.new:,}",
                f"{r.returning:,}",
                f"{r.resurrecting:,}",
                f"{r.dormant:,}",
                f"{r.active:,}",
            )
        console.print(out)
        console.print(f"{label('dau_mau', lang)}: {_pct(sticky.mean_dau_mau())}")

    @app.command("community")
    def community_cmd(workspace: Path = WORKSPACE_OPTION, as_json: bool = json_opt) -> None:
        """Private-domain community health and over-promotion. 私域社群健康度。

        Example / 示例: luopan community -w demo-world
        """
        ws, lang = open_workspace(workspace)
        with warehouse(ws) as con:
            result = community_health(table(con, "communities"))
        if as_json:
            _echo_json(result.summary())
            return
        out = Table(
            label("group", lang),
            label("activity", lang),
            label("promo", lang),
            label("effect", lang),
            "",
            title=label("community_title", lang),
        )
        for r in result.groups.itertuples():
            flag = label("overpromoted" if r.overpromoted else "ok", lang)
            out.add_row(
                r.group_id,
                f"{_pct(r.activity_rate_baseline)} → {_pct(r.activity_rate_recent)}",
                f"{_pct(r.promo_share_baseline)} → {_pct(r.promo_share_recent)}",
                f"{r.did_effect:+.1%}",
                f"[{'red' if r.overpromoted else 'green'}]{flag}[/]",
            )
        console.print(out)

    @app.command("content")
    def content_cmd(workspace: Path = WORKSPACE_OPTION, as_json: bool = json_opt) -> None:
        """Content matrix: output, engagement, natural-traffic share. 内容矩阵。

        Example / 示例: luopan content -w demo-world
        """
        ws, lang = open_workspace(workspace)
        with warehouse(ws) as con:
            result = content_matrix(table(con, "content"))
        if as_json:
            _echo_json(result.summary())
            return
        out = Table(
            label("platform", lang),
            label("format", lang),
            label("items", lang),
            label("views", lang),
            label("engagement", lang),
            label("natural", lang),
            title=label("content_title", lang),
        )
        for r in result.matrix.itertuples():
            out.add_row(
                str(r.platform),
                str(r.format),
                f"{r.items:,}",
                f"{r.views:,.0f}",
                _pct(r.engagement_rate),
                _pct(r.natural_share),
            )
        console.print(out)
        console.print(
            f"{label('trend', lang)}: {_pct(result.share_start)} → {_pct(result.share_end)}"
        )
