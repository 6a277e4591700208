"""``luopan personas``: per-segment customer profiles with traits ranked by lift, zh/en."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from luopan.cli.common import WORKSPACE_OPTION, open_workspace
from luopan.engines.personas import (
    TRAIT_LABELS,
    TRAITS,
    VALUE_LABELS,
    PersonaResult,
    customer_traits,
    persona_profiles,
)
from luopan.errors import ConfigError, SourceError
from luopan.workspace import Workspace

console = Console()

LABELS: dict[str, tuple[str, str]] = {
    "title": ("用户画像", "personas"),
    "segment": ("分群", "segment"),
    "customers": ("人数", "customers"),
    "spend_share": ("消费占比", "spend share"),
    "trait": ("显著特征", "distinguishing trait"),
    "in_segment": ("群内占比", "in segment"),
    "in_base": ("全体占比", "in base"),
    "lift": ("提升度", "lift"),
    "none": ("无显著特征", "no distinguishing trait"),
}


def label(key: str, lang: str) -> str:
    zh, en = LABELS[key]
    return en if lang == "en" else zh


def trait_text(trait: str, value: str, lang: str) -> str:
    """``主要品类=烘焙`` / ``main category=烘焙`` for a trait value."""
    name = TRAIT_LABELS[trait][1 if lang == "en" else 0]
    shown = VALUE_LABELS.get(value, (value, value))[1 if lang == "en" else 0]
    return f"{name}={shown}"


def segment_labels(by: str, lang: str) -> dict[str, str]:
    if by != "rfm":
        return {}
    from luopan.engines.customers.rfm import SEGMENTS

    return {k: (en if lang == "en" else zh) for k, (_, zh, en) in SEGMENTS.items()}


def workspace_personas(
    ws: Workspace, *, by: str = "rfm", segments_file: Path | None = None
) -> PersonaResult:
    """Traits of the workspace's customers profiled by RFM segment, a trait or a file."""
    from ibis.common.exceptions import TableNotFound

    from luopan.cli.funnels import table, warehouse

    with warehouse(ws) as con:
        try:  # category and price band need the lines and products; the rest does not
            basket = (con.table("order_lines"), con.table("products"))
        except TableNotFound:
            basket = (None, None)
        traits = customer_traits(table(con, "customers"), table(con, "orders"), *basket)
    exclude: tuple[str, ...] = ()
    if segments_file is not None:
        segments = read_segments(segments_file)
    elif by == "rfm":
        from luopan.engines.customers.rfm import rfm_segments
        from luopan.warehouse.customer_reads import workspace_orders

        orders = workspace_orders(ws)
        segments = rfm_segments(orders, date_col="day").customers["segment"]
    elif by in TRAITS:
        segments = traits[by].dropna()
        exclude = (by,)
    else:
        raise ConfigError(
            f"--by {by!r} is not a segmentation",
            fix=f"use rfm or one of: {', '.join(TRAITS)}",
        )
    return persona_profiles(traits, segments, exclude=exclude)


def read_segments(path: Path) -> pd.Series:
    """customer_id[,segment] rows of a CSV (a recall list or an exported funnel drop-off)."""
    try:
        frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise SourceError(
            f"{path}: cannot read the segment file ({exc})",
            fix="give a UTF-8 CSV with a customer_id column and optionally a segment column",
        ) from None
    if "customer_id" not in frame.columns:
        raise SourceError(
            f"{path}: line 1 has no customer_id column (columns: {', '.join(frame.columns)})",
            fix="name the customer column customer_id",
        )
    seg = frame["segment"] if "segment" in frame.columns else pd.Series(path.stem, frame.index)
    return pd.Series(seg.to_numpy(), index=frame["customer_id"]).loc[
        lambda s: ~s.index.duplicated()
    ]


def render(result: PersonaResult, lang: str, *, by: str, top: int) -> None:
    names = segment_labels(by, lang)
    out = Table(
        label("segment", lang),
        label("customers", lang),
        label("spend_share", lang),
        label("trait", lang),
        label("in_segment", lang),
        label("in_base", lang),
        label("lift", lang),
        title=label("title", lang),
    )
    for row in result.segments.itertuples():
        head = [
            names.get(str(row.segment), str(row.segment)),
            f"{row.customers:,} ({row.customer_share:.1%})",
            f"{row.spend_share:.1%}",
        ]
        best = result.top(str(row.segment), top)
        if best.empty:
            out.add_row(*head, label("none", lang), "", "", "")
        for i, r in enumerate(best.itertuples()):
            out.add_row(
                *(head if i == 0 else ["", "", ""]),
                trait_text(r.trait, r.value, lang),
                f"{r.segment_share:.1%}",
                f"{r.base_share:.1%}",
                f"×{r.lift:.2f}",
            )
        out.add_section()
    console.print(out)


def register(app: typer.Typer) -> None:
    @app.command("personas")
    def personas_cmd(
        workspace: Path = WORKSPACE_OPTION,
        by: str = typer.Option(
            "rfm", "--by", help=f"rfm or a trait: {', '.join(TRAITS)} / 分群方式"
        ),
        segments: Path | None = typer.Option(
            None, "--segments", help="CSV of customer_id[,segment] / 自定义分群文件"
        ),
        top: int = typer.Option(5, "--top", min=1, help="traits per segment / 每群特征数"),
        as_json: bool = typer.Option(False, "--json", help="JSON for scripts / 输出 JSON"),
        csv: Path | None = typer.Option(
            None, "--csv", help="write every segment × trait row / 输出全部特征"
        ),
    ) -> None:
        """Segment personas: who each segment is, ranked by lift over the base. 用户画像。

        Traits: demographics, channels, categories, price band, time of day, festival
        sensitivity. 特征：人口属性、渠道、品类、价格带、下单时段、大促敏感度。

        Example / 示例: luopan personas -w demo-world --by acquisition
        """
        ws, lang = open_workspace(workspace)
        result = workspace_personas(ws, by=by, segments_file=segments)
        if csv is not None:
            result.traits.to_csv(csv, index=False, encoding="utf-8-sig")
        if as_json:
            names = segment_labels(by, lang)
            payload = [
                {**row, "name": names.get(str(row["segment"]), str(row["segment"]))}
                for row in result.summary()
            ]
            typer.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
            return
        render(result, lang, by=by, top=top)
